"""Parser for the measurement-model subset of lavaan's model syntax.

lavaan (Rosseel 2012, https://lavaan.ugent.be/tutorial/syntax1.html) writes a
factor model as text::

    # three correlated factors
    visual  =~ x1 + x2 + x3
    textual =~ x4 + a*x5 + a*x6      # a shared label: equal loadings
    speed   =~ NA*x7 + x8 + x9; speed ~~ 1*speed
    x7 ~~ x8                          # residual covariance
    visual ~~ 0*speed                 # fixed-zero factor covariance
    x1 ~ 1                            # intercept

Supported here (what :func:`veplab.factor_analysis.confirmatory` fits):

* operators ``=~`` (latent definition), ``~~`` (variance / covariance) and
  ``~ 1`` (intercept / mean); several left-hand names joined by ``+`` for
  ``~~`` and ``~ 1`` (``x1 + x2 ~ 1``);
* modifiers before ``*``: a number (fixed value), ``NA`` (free, e.g. to free
  the first loading), a name or ``label("a")`` / ``equal("a")`` (a label:
  parameters sharing a label are constrained equal), ``start(0.5)`` (starting
  value), and ``c(...)`` vectors with one value per group;
* comments (``#`` or ``!`` to the end of the line), statements separated by
  new lines or ``;``, and statements continued on the next line when a line
  ends with ``+``, ``*`` or an operator, or the next line starts with ``+``.

Other lavaan operators (regressions ``~``, ``:=``, ``==``, ``<``, ``>``,
``|``, ``<~``, ``~*~``, ``%``) are recognised and rejected with an error that
names the line.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator

import pandas as pd

from veplab._validate import InputError

__all__ = ["LavaanSyntaxError", "SyntaxRow", "ParsedModel", "parse_model"]


class LavaanSyntaxError(InputError):
    """The model text is not valid (supported) lavaan syntax."""


# Leftmost match wins; at one position, longer operators are listed first.
_OPERATOR_RE = re.compile(r"=~|<~|~\*~|~~|:=|==|~|<|>|\||%")
_GAP_RE = re.compile(r"([A-Za-z0-9._)\"']+)\s+([A-Za-z0-9._\"']+)")
_NAME_RE = re.compile(r"^[A-Za-z._][A-Za-z0-9._]*$")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_UNSUPPORTED = {
    "~": "regressions ('~') are not supported: cfa() fits measurement models "
    "(=~, ~~, ~ 1); fit structural models in lavaan or semopy",
    "<~": "formative indicators ('<~') are not supported",
    "~*~": "scaling factors ('~*~') are for ordered indicators, which cfa() does not fit",
    ":=": "defined parameters (':=') are not supported",
    "==": "explicit constraints ('==') are not supported; use a shared label (a*x2 + a*x3) "
    "for equality constraints",
    "<": "inequality constraints ('<') are not supported",
    ">": "inequality constraints ('>') are not supported",
    "|": "thresholds ('|') are for ordered indicators, which cfa() does not fit",
    "%": "the '%' operator (group weights) is not supported",
}


@dataclasses.dataclass(frozen=True)
class SyntaxRow:
    """One parameter named in the model text.

    ``fixed``/``start``/``label`` hold one entry per group given in the text
    (a single entry applies to every group); ``fixed`` entries are a number
    (fixed value) or ``None`` (``NA``: free).  ``op`` is ``"=~"``, ``"~~"``
    or ``"~1"`` (intercept, with ``rhs == ""``).
    """

    lhs: str
    op: str
    rhs: str
    fixed: tuple[float | None, ...] | None = None
    start: tuple[float, ...] | None = None
    label: tuple[str, ...] | None = None
    line: int = 0
    text: str = ""


@dataclasses.dataclass(frozen=True)
class ParsedModel:
    """Parsed model: the rows in text order, latent and observed names."""

    rows: tuple[SyntaxRow, ...]
    latent: tuple[str, ...]
    observed: tuple[str, ...]
    text: str

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (lhs, op, rhs, fixed, start, label, line)."""
        return pd.DataFrame(
            [
                {
                    "lhs": r.lhs,
                    "op": r.op,
                    "rhs": r.rhs,
                    "fixed": r.fixed,
                    "start": r.start,
                    "label": r.label,
                    "line": r.line,
                }
                for r in self.rows
            ]
        )


def _scan_quotes(text: str) -> Iterator[tuple[int, str, bool]]:
    """Each character of ``text`` with its index and whether it belongs to a quoted string (quotes included)."""
    quote: str | None = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
            yield i, ch, True
        elif ch in "\"'":
            quote = ch
            yield i, ch, True
        else:
            yield i, ch, False


def _strip_comment(line: str) -> str:
    out = []
    for _, ch, quoted in _scan_quotes(line):
        if not quoted and ch in "#!":
            break
        out.append(ch)
    return "".join(out)


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` outside parentheses and quotes.

    A ``+`` that belongs to a number's exponent (``1e+3``) is not a separator.
    """
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for i, ch, quoted in _scan_quotes(text):
        if quoted:
            cur.append(ch)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            exponent = i >= 2 and text[i - 1] in "eE" and (text[i - 2].isdigit() or text[i - 2] == ".")
            if sep == "+" and exponent:
                cur.append(ch)
                continue
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _statements(text: str) -> list[tuple[int, str]]:
    """(first line number, statement text without whitespace), continuations joined."""
    pieces: list[tuple[int, str]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        for part in _strip_comment(raw).split(";"):
            gap = _GAP_RE.search(part)
            if gap:
                raise LavaanSyntaxError(
                    f"model line {lineno} ({part.strip()!r}): missing '+' or operator between "
                    f"{gap.group(1)!r} and {gap.group(2)!r}"
                )
            compact = re.sub(r"\s+", "", part)
            if compact:
                pieces.append((lineno, compact))
    out: list[list] = []
    for lineno, piece in pieces:
        continues = False
        if out:
            prev = out[-1][1]
            if prev.endswith(("+", "*", "=~", "~~", "~", "(", ",")) or piece.startswith(("+", "*")):
                continues = True
            elif not _OPERATOR_RE.search(piece):
                raise LavaanSyntaxError(
                    f"{_where(lineno, piece)}: no operator (=~, ~~ or ~ 1) found; to continue the "
                    f"previous line, end it with '+' or start this one with '+'"
                )
        if continues:
            out[-1][1] += piece
        else:
            out.append([lineno, piece])
    return [(ln, s) for ln, s in out]


def _where(lineno: int, stmt: str) -> str:
    return f"model line {lineno} ({stmt!r})"


def _parse_value_list(inner: str, lineno: int, stmt: str) -> list[str]:
    items = [s for s in _split_top(inner, ",")]
    if any(not s for s in items):
        raise LavaanSyntaxError(f"{_where(lineno, stmt)}: empty element in c({inner})")
    return items


def _unquote(s: str) -> str | None:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
    return None


def _parse_modifier(mod: str, lineno: int, stmt: str) -> tuple[str, tuple]:
    """Return (kind, values) with kind in {'fixed', 'start', 'label'}."""
    where = _where(lineno, stmt)
    if _NUMBER_RE.match(mod):
        return "fixed", (float(mod),)
    if mod == "NA":
        return "fixed", (None,)
    m = re.match(r"^(start|label|equal|c)\((.*)\)$", mod)
    if m:
        fun, inner = m.group(1), m.group(2)
        if fun in ("label", "equal", "start") and inner.startswith("c(") and inner.endswith(")"):
            inner = inner[2:-1]
        items = _parse_value_list(inner, lineno, stmt)
        if fun == "start":
            vals = []
            for it in items:
                if not _NUMBER_RE.match(it):
                    raise LavaanSyntaxError(f"{where}: start() needs numbers, got {it!r}")
                vals.append(float(it))
            return "start", tuple(vals)
        if fun in ("label", "equal"):
            labels = []
            for it in items:
                q = _unquote(it)
                name = q if q is not None else it
                if not _NAME_RE.match(name):
                    raise LavaanSyntaxError(f"{where}: {fun}() needs a label name, got {it!r}")
                labels.append(name)
            return "label", tuple(labels)
        # c(...): numbers / NA (fixed or free per group) or labels per group
        kinds = set()
        fixed_vals: list[float | None] = []
        label_vals: list[str] = []
        for it in items:
            if _NUMBER_RE.match(it):
                kinds.add("fixed")
                fixed_vals.append(float(it))
            elif it == "NA":
                kinds.add("fixed")
                fixed_vals.append(None)
            else:
                q = _unquote(it)
                name = q if q is not None else it
                if not _NAME_RE.match(name):
                    raise LavaanSyntaxError(f"{where}: cannot read {it!r} inside c(...)")
                kinds.add("label")
                label_vals.append(name)
        if len(kinds) != 1:
            raise LavaanSyntaxError(
                f"{where}: c(...) mixes numbers and labels; write them as separate "
                f"modifiers, e.g. c(a, b)*c(1, NA)*x1"
            )
        return (("fixed", tuple(fixed_vals)) if "fixed" in kinds else ("label", tuple(label_vals)))
    q = _unquote(mod)
    if q is not None and _NAME_RE.match(q):
        return "label", (q,)
    if _NAME_RE.match(mod):
        return "label", (mod,)
    raise LavaanSyntaxError(f"{where}: cannot read the modifier {mod!r} (expected a number, NA, "
                            f"a label, start(...), label(...) or c(...))")


def _parse_term(term: str, lineno: int, stmt: str) -> tuple[str, dict]:
    where = _where(lineno, stmt)
    if not term:
        raise LavaanSyntaxError(f"{where}: empty term (a stray '+'?)")
    pieces = _split_top(term, "*")
    if any(p == "" for p in pieces):
        raise LavaanSyntaxError(f"{where}: empty modifier in {term!r} (a stray '*'?)")
    name = pieces[-1]
    mods: dict[str, tuple] = {}
    for mod in pieces[:-1]:
        kind, vals = _parse_modifier(mod, lineno, stmt)
        if kind in mods:
            raise LavaanSyntaxError(f"{where}: two {kind} modifiers on {name!r}")
        mods[kind] = vals
    return name, mods


def _check_name(name: str, lineno: int, stmt: str) -> None:
    if not _NAME_RE.match(name):
        raise LavaanSyntaxError(
            f"{_where(lineno, stmt)}: {name!r} is not a valid variable name (letters, digits, "
            f"'.' and '_', not starting with a digit); rename the column"
        )


def parse_model(text: str) -> ParsedModel:
    """Parse lavaan model syntax (measurement-model subset) into rows.

    Raises :class:`LavaanSyntaxError` (an ``InputError``) naming the line for
    unsupported operators or unreadable terms.

    Returns a :class:`ParsedModel`: one :class:`SyntaxRow` per parameter
    statement (``lhs``, ``op``, ``rhs``, fixed value, start, label; ``~ 1`` rows
    have ``op == "~1"``), the latent and the observed names.

    References
    ----------
    Rosseel Y (2012). lavaan: an R package for structural equation modeling. Journal of
    Statistical Software 48(2), 1-36.
    The lavaan model syntax, https://lavaan.ugent.be/tutorial/syntax1.html; the rows
    correspond to those of R ``lavaan::lavaanify`` (its ``lhs``, ``op``, ``rhs``,
    ``label`` and fixed values) before the default parameters are added.

    Examples
    --------
    >>> m = parse_model("f =~ x1 + a*x2 + a*x3; x1 ~~ 0.5*x1")
    >>> [(r.lhs, r.op, r.rhs, r.label, r.fixed) for r in m.rows][:2]
    [('f', '=~', 'x1', None, None), ('f', '=~', 'x2', ('a',), None)]
    >>> m.latent, m.observed
    (('f',), ('x1', 'x2', 'x3'))
    >>> parse_model("f =~ x1 + x2; y ~ f")
    Traceback (most recent call last):
    ...
    veplab.factor_analysis.lavaan_syntax.LavaanSyntaxError: model line 1 ('y~f'): regressions ('~') are not supported: cfa() fits measurement models (=~, ~~, ~ 1); fit structural models in lavaan or semopy
    """
    if not isinstance(text, str):
        raise LavaanSyntaxError(f"model must be lavaan syntax text (a str), got {type(text).__name__}")
    rows: list[SyntaxRow] = []
    for lineno, stmt in _statements(text):
        m = _OPERATOR_RE.search(stmt)
        if m is None:
            raise LavaanSyntaxError(f"{_where(lineno, stmt)}: no operator (=~, ~~ or ~ 1) found")
        op = m.group(0)
        lhs_text, rhs_text = stmt[: m.start()], stmt[m.end():]
        if op in _UNSUPPORTED and op != "~":
            raise LavaanSyntaxError(f"{_where(lineno, stmt)}: {_UNSUPPORTED[op]}")
        if not lhs_text:
            raise LavaanSyntaxError(f"{_where(lineno, stmt)}: nothing on the left of {op!r}")
        if not rhs_text:
            raise LavaanSyntaxError(f"{_where(lineno, stmt)}: nothing on the right of {op!r}")
        lhs_names = _split_top(lhs_text, "+")
        for name in lhs_names:
            if "*" in name:
                raise LavaanSyntaxError(
                    f"{_where(lineno, stmt)}: modifiers go on the right-hand side ({name!r})"
                )
            _check_name(name, lineno, stmt)
        terms = [_parse_term(t, lineno, stmt) for t in _split_top(rhs_text, "+")]
        if op == "~":
            if not all(name == "1" for name, _ in terms):
                raise LavaanSyntaxError(f"{_where(lineno, stmt)}: {_UNSUPPORTED['~']}")
            op = "~1"
        if op == "=~" and len(lhs_names) != 1:
            raise LavaanSyntaxError(
                f"{_where(lineno, stmt)}: define one latent variable per '=~' statement"
            )
        for lhs in lhs_names:
            for name, mods in terms:
                if op == "~1":
                    rhs = ""
                else:
                    _check_name(name, lineno, stmt)
                    rhs = name
                if op == "=~" and rhs == lhs:
                    raise LavaanSyntaxError(
                        f"{_where(lineno, stmt)}: latent {lhs!r} cannot be its own indicator"
                    )
                rows.append(
                    SyntaxRow(
                        lhs=lhs,
                        op=op,
                        rhs=rhs,
                        fixed=mods.get("fixed"),
                        start=mods.get("start"),
                        label=mods.get("label"),
                        line=lineno,
                        text=stmt,
                    )
                )
    if not rows:
        raise LavaanSyntaxError("model is empty: write at least one 'latent =~ item1 + item2 + ...' line")
    for r in rows:
        for values in (r.fixed, r.start):
            if values is not None and any(v is not None and not math.isfinite(v) for v in values):
                raise LavaanSyntaxError(f"{_where(r.line, r.text)}: modifier values must be finite")
    latent = tuple(dict.fromkeys(r.lhs for r in rows if r.op == "=~"))
    lat = set(latent)
    observed_order: list[str] = [r.rhs for r in rows if r.op == "=~" and r.rhs not in lat]
    for r in rows:
        if r.op == "~~":
            observed_order += [v for v in (r.lhs, r.rhs) if v not in lat]
        elif r.op == "~1" and r.lhs not in lat:
            observed_order.append(r.lhs)
    observed = tuple(dict.fromkeys(observed_order))
    return ParsedModel(rows=tuple(rows), latent=latent, observed=observed, text=text)
