"""A small checker for the XPath 1.0 expressions of XLSForms (``constraint``,
``relevant``, ``calculation``, ``choice_filter``, ``required``...).

It tokenises and parses an expression with the XPath 1.0 grammar (as ODK's
JavaRosa reads it, with XLSForm's ``${name}`` references), so that a form
with an unbalanced parenthesis, a dangling operator or an unknown ``${name}``
is reported before anyone fields it; and it reads the simple range
constraints (``. >= 18 and . <= 90``) that become a numeric item's ``min``
and ``max``.  It does not evaluate expressions.
"""

from __future__ import annotations

import dataclasses
import re
from typing import NoReturn

__all__ = ["XPathError", "tokens", "check", "references", "bounds", "Bounds"]

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<var>\$\{(?P<varname>[^}]*)\})
    |(?P<num>\d+(?:\.\d*)?|\.\d+)
    |(?P<str>"[^"]*"|'[^']*')
    |(?P<op>!=|<=|>=|//|\.\.|::|[=<>+\-*|/()\[\],.@])
    |(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_*][\w.\-]*)?)
    """,
    re.X,
)
_OPERAND_END = {"num", "str", "var", "name", ")", "]", ".", "..", "*name"}
_OPERATOR_NAMES = {"and", "or", "div", "mod"}


class XPathError(ValueError):
    """An expression that does not parse; the message says where."""


@dataclasses.dataclass(frozen=True)
class _Tok:
    kind: str  # num str var name op-symbol (the symbol itself) opname *name
    text: str
    pos: int


def tokens(expr: str) -> list[_Tok]:
    """Tokenise ``expr`` (raises :class:`XPathError` on a character XPath does not know)."""
    out: list[_Tok] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            ch = expr[pos]
            if ch in "'\"":
                raise XPathError(f"unterminated string starting at character {pos + 1}")
            if ch == "$":
                raise XPathError(f"'$' at character {pos + 1} does not start a ${{name}} reference")
            raise XPathError(f"unexpected character {ch!r} at character {pos + 1}")
        kind = m.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        text = m.group(0)
        if kind == "varname":  # pragma: no cover - inner group never last
            kind = "var"
        if kind == "ws":
            pos = m.end()
            continue
        prev = out[-1].kind if out else None
        operand_before = prev in _OPERAND_END
        if kind == "op":
            if text == "*":
                kind = "*" if operand_before else "*name"
            else:
                kind = text
        elif kind == "name" and text in _OPERATOR_NAMES and operand_before:
            kind = "opname"
        elif kind == "var":
            kind = "var"
        out.append(_Tok(kind, text, pos))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, toks: list[_Tok]):
        self.t = toks
        self.i = 0

    def peek(self, k: int = 0) -> _Tok | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def take(self) -> _Tok:
        tok = self.t[self.i]
        self.i += 1
        return tok

    def at(self, *kinds: str) -> bool:
        tok = self.peek()
        return tok is not None and (tok.kind in kinds or (tok.kind == "opname" and tok.text in kinds))

    def fail(self, what: str) -> NoReturn:
        tok = self.peek()
        where = f"at {tok.text!r} (character {tok.pos + 1})" if tok else "at the end of the expression"
        raise XPathError(f"{what} {where}")

    def expr(self) -> None:
        self.binary(0)

    _LEVELS = (("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "div", "mod"))

    def binary(self, level: int) -> None:
        if level == len(self._LEVELS):
            self.unary()
            return
        self.binary(level + 1)
        while self.at(*self._LEVELS[level]):
            op = self.take()
            nxt = self.peek()
            if nxt is None:
                self.fail("an operator needs a right-hand side")
            if nxt.kind in ("name", "opname") and nxt.text in _OPERATOR_NAMES or nxt.kind in ("=", "!=", "<", "<=", ">", ">=", "+", "*", "|"):
                self.fail(f"two operators in a row ({op.text!r} then {nxt.text!r})")
            self.binary(level + 1)

    def unary(self) -> None:
        while self.at("-"):
            self.take()
        self.union()

    def union(self) -> None:
        self.path()
        while self.at("|"):
            self.take()
            self.path()

    def path(self) -> None:
        tok = self.peek()
        if tok is None:
            self.fail("expected a value")
        if tok.kind in ("/", "//"):
            self.take()
            nxt = self.peek()
            if tok.kind == "//" or (nxt is not None and nxt.kind in ("name", "*name", ".", "..", "@")):
                self.relative()
            return
        if tok.kind in ("var", "num", "str", "(") or (tok.kind == "name" and self._is_call()):
            self.primary()
            while self.at("["):
                self.predicate()
            if self.at("/", "//"):
                self.take()
                self.relative()
            return
        if tok.kind in ("name", "*name", ".", "..", "@"):
            self.relative()
            return
        self.fail("expected a value")

    def _is_call(self) -> bool:
        nxt = self.peek(1)
        return nxt is not None and nxt.kind == "("

    def primary(self) -> None:
        tok = self.take()
        if tok.kind == "(":
            if self.at(")"):
                self.fail("empty parentheses")
            self.expr()
            if not self.at(")"):
                self.fail("missing ')'")
            self.take()
        elif tok.kind == "name":  # function call
            self.take()  # "("
            if self.at(")"):
                self.take()
                return
            self.expr()
            while self.at(","):
                self.take()
                self.expr()
            if not self.at(")"):
                self.fail(f"missing ')' closing the call of {tok.text}()")
            self.take()

    def relative(self) -> None:
        self.step()
        while self.at("/", "//"):
            self.take()
            self.step()

    def step(self) -> None:
        if self.at(".", ".."):
            self.take()
            return
        if self.at("@"):
            self.take()
        after = self.peek(1)
        if self.at("name") and after is not None and after.kind == "::":
            self.take()
            self.take()
        if not self.at("name", "*name"):
            self.fail("expected a node name")
        self.take()
        if self.at("("):  # node tests: node(), text()
            self.take()
            if not self.at(")"):
                self.fail("missing ')'")
            self.take()
        while self.at("["):
            self.predicate()

    def predicate(self) -> None:
        self.take()
        self.expr()
        if not self.at("]"):
            self.fail("missing ']'")
        self.take()


def check(expr: str) -> None:
    """Raise :class:`XPathError` when ``expr`` is not a well-formed XPath expression.

    >>> check(". >= 18 and . <= 90")
    >>> try:
    ...     check(". >= 18 and and . <= 90")
    ... except XPathError as exc:
    ...     print(exc)
    two operators in a row ('and' then 'and') at 'and' (character 13)
    """
    toks = tokens(expr)
    if not toks:
        raise XPathError("the expression is empty")
    p = _Parser(toks)
    p.expr()
    if p.peek() is not None:
        p.fail("unexpected")


def references(expr: str) -> list[str]:
    """The ``${name}`` references of an expression, in order."""
    return [m.group(1).strip() for m in re.finditer(r"\$\{([^}]*)\}", expr)]


@dataclasses.dataclass(frozen=True)
class Bounds:
    """What a simple constraint says: ``min <= . <= max``, or one of ``codes``."""

    min: float | None
    max: float | None
    codes: tuple[float, ...] = ()


def _strip_parens(toks: list[_Tok]) -> list[_Tok]:
    while len(toks) >= 2 and toks[0].kind == "(" and toks[-1].kind == ")":
        depth = 0
        for k, t in enumerate(toks):
            depth += t.kind == "("
            depth -= t.kind == ")"
            if depth == 0 and k < len(toks) - 1:
                return toks
        toks = toks[1:-1]
    return toks


def _split(toks: list[_Tok], op: str) -> list[list[_Tok]]:
    parts: list[list[_Tok]] = [[]]
    depth = 0
    for t in toks:
        depth += t.kind in ("(", "[")
        depth -= t.kind in (")", "]")
        if depth == 0 and t.kind == "opname" and t.text == op:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "="}


def _clause(toks: list[_Tok], self_name: str | None) -> tuple[str, float] | None:
    toks = _strip_parens(toks)

    def is_self(t: _Tok) -> bool:
        return t.kind == "." or (t.kind == "var" and self_name is not None and t.text[2:-1].strip() == self_name)

    def number(ts: list[_Tok]) -> float | None:
        if len(ts) == 1 and ts[0].kind == "num":
            return float(ts[0].text)
        if len(ts) == 2 and ts[0].kind == "-" and ts[1].kind == "num":
            return -float(ts[1].text)
        return None

    if len(toks) < 3 or toks[1].kind not in _FLIP and not (len(toks) >= 3 and toks[-2].kind in _FLIP):
        return None
    if is_self(toks[0]) and toks[1].kind in _FLIP:
        value = number(toks[2:])
        return (toks[1].kind, value) if value is not None else None
    if is_self(toks[-1]) and toks[-2].kind in _FLIP:
        value = number(toks[:-2])
        return (_FLIP[toks[-2].kind], value) if value is not None else None
    return None


def bounds(expr: str, self_name: str | None = None, *, integer: bool = False) -> Bounds | None:
    """Read a simple range constraint, or None when the expression says more.

    Understood: comparisons of ``.`` (or ``${self_name}``) with numbers joined
    by ``and`` (``. >= 18 and . <= 90``), optionally ``or``-ed with equalities
    that admit special codes (``(. >= 0 and . <= 20) or . = 99``).  Strict
    bounds (``. > 17``) are read as ``>= 18`` for whole-number items only.

    >>> bounds(". >= 18 and . <= 90")
    Bounds(min=18.0, max=90.0, codes=())
    >>> bounds("(. > 0 and . < 100) or . = 999", integer=True)
    Bounds(min=1.0, max=99.0, codes=(999.0,))
    >>> bounds("string-length(.) < 5") is None
    True
    """
    try:
        check(expr)
        toks = tokens(expr)
    except XPathError:
        return None
    lo: float | None = None
    hi: float | None = None
    codes: list[float] = []
    ranged = False
    for branch in _split(_strip_parens(toks), "or"):
        parsed = [_clause(part, self_name) for part in _split(_strip_parens(branch), "and")]
        clauses = [c for c in parsed if c is not None]
        if len(clauses) < len(parsed):
            return None
        if len(clauses) == 1 and clauses[0][0] == "=":
            codes.append(clauses[0][1])
            continue
        if ranged:
            return None  # two ranges: not a simple bound
        ranged = True
        for op, value in clauses:
            if op == "=":
                return None
            if op in (">", "<"):
                if not integer or not float(value).is_integer():
                    return None
                value = value + 1 if op == ">" else value - 1
                op += "="
            if op == ">=":
                lo = value if lo is None else max(lo, value)
            else:
                hi = value if hi is None else min(hi, value)
    if not ranged:
        return None
    return Bounds(lo, hi, tuple(codes))
