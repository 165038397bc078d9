"""Translation catalogues, locale-aware numbers and dates, codebook labels.

A catalogue is ``i18n/<lang>.yml`` beside this file::

    locale: fr              # Babel locale for numbers and dates
    direction: ltr          # ltr | rtl
    fonts: ["Noto Sans", "DejaVu Sans"]
    text:                   # template text; {placeholders} are filled in by the renderer
      key_messages: "Messages clés"
      people: {one: "{n} personne", other: "{n} personnes"}     # CLDR plural categories
    labels:                 # table labels the codebooks do not translate ("Total", "All")
      Total: "Total"

Every lookup that falls back to English is recorded in :attr:`Translator.missing`.
Numbers use Western (Latin) digits in every language, Arabic included: that is
usual in Tunisia (and in the Maghreb generally) and keeps figures identical
across the four versions of a brief; Babel's ``numbering_system="latn"`` is
passed explicitly so a CLDR change cannot switch the digits.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import string
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import yaml

__all__ = ["Translator", "catalogue", "LANGS"]

LANGS = ("en", "fr", "ar", "ru")
_HAS_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_FR_PUNCT = re.compile(r" ([:;!?])")


class BriefError(ValueError):
    """The brief cannot be rendered as configured; the message names the key and the fix."""


@functools.lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, Any]:
    """The parsed catalogue of ``lang`` (empty mapping when the file is absent)."""
    res = resources.files(__package__) / "i18n" / f"{lang}.yml"
    if not res.is_file():
        return {}
    data = yaml.safe_load(res.read_text(encoding="utf-8")) or {}
    if not isinstance(data, Mapping):
        raise BriefError(f"translation catalogue i18n/{lang}.yml must be a YAML mapping")
    return dict(data)


class _Strict(dict):
    def __init__(self, values: Mapping[str, Any], where: str):
        super().__init__(values)
        self.where = where

    def __missing__(self, key: str) -> str:
        raise BriefError(f"{self.where}: unknown placeholder {{{key}}}; available: "
                         + ", ".join("{" + k + "}" for k in sorted(self)))


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template uses (empty for a malformed one: :func:`fill` reports that)."""
    try:
        return {name for _l, name, _s, _c in string.Formatter().parse(template) if name}
    except ValueError:
        return set()


def fill(template: str, values: Mapping[str, Any], where: str) -> str:
    """``template`` with its ``{name}`` placeholders replaced from ``values``.

    Only plain names are allowed (no ``{value.attr}``, ``{value[0]}``, ``!r`` or
    ``:format``); anything else is a :class:`BriefError` naming the text."""
    fmt = string.Formatter()
    try:
        parts = list(fmt.parse(template))
    except ValueError as exc:
        raise BriefError(f"{where}: malformed placeholder in {template!r} ({exc}); "
                         "write literal braces as {{ and }}") from None
    for _lit, name, spec, conv in parts:
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise BriefError(f"{where}: placeholder {{{name}{'!' + conv if conv else ''}"
                             f"{':' + spec if spec else ''}}} in {template!r} is not a plain name; use one of "
                             + ", ".join("{" + k + "}" for k in sorted(values)))
    return fmt.vformat(template, (), _Strict(values, where))


class Translator:
    """Text, labels, numbers and dates in one language, with English fallback.

    ``missing`` collects ``"<lang>: <what>"`` for every fallback, in order, once.
    """

    def __init__(self, lang: str, *, label_table: Mapping[str, Mapping[str, str]] | None = None,
                 locale: str | None = None):
        self.lang = lang
        self.cat = catalogue(lang)
        self.en = catalogue("en")
        if not self.en:
            raise BriefError("the English catalogue i18n/en.yml is missing from the veplab.brief package")
        self.locale = locale or self.cat.get("locale") or lang
        self.direction = self.cat.get("direction", "rtl" if lang == "ar" else "ltr")
        self.fonts = list(self.cat.get("fonts") or self.en.get("fonts") or ["Noto Sans", "DejaVu Sans"])
        self.label_table = label_table or {}
        self.missing: list[str] = []
        if not self.cat and lang != "en":
            self._miss(f"catalogue i18n/{lang}.yml (all template text)")

    # ------------------------------------------------------------------ bookkeeping
    def _miss(self, what: str) -> None:
        entry = f"{self.lang}: {what}"
        if entry not in self.missing:
            self.missing.append(entry)

    # ------------------------------------------------------------------ catalogue text
    def _raw(self, key: str) -> Any:
        own = (self.cat.get("text") or {}).get(key)
        if own is not None:
            return own
        fallback = (self.en.get("text") or {}).get(key)
        if fallback is None:
            raise BriefError(f"catalogue key {key!r} is not in i18n/en.yml")
        if self.cat:  # a wholly missing catalogue is reported once, above
            self._miss(f"catalogue text {key!r}")
        return fallback

    def t(self, key: str, **values: Any) -> str:
        """Catalogue text ``key`` with ``{placeholders}`` filled; ``count=`` picks a plural form."""
        raw = self._raw(key)
        if isinstance(raw, Mapping):
            count = values.get("count")
            form = self.plural_form(count if count is not None else 0)
            raw = raw.get(form) or raw.get("other") or next(iter(raw.values()))
        return self.typography(fill(str(raw), values, f"i18n/{self.lang}.yml text.{key}"))

    def typography(self, text: str) -> str:
        """French spacing: a no-break space before : ; ! ? so they never start a line."""
        if self.lang == "fr":
            text = _FR_PUNCT.sub("\u00a0\\1", text)
        return text

    def plural_form(self, n: float) -> str:
        from babel import Locale

        try:
            return Locale.parse(self.locale).plural_form(abs(n))
        except (ValueError, TypeError):
            return "other"

    # ------------------------------------------------------------------ authored text
    def pick(self, value: Any, where: str) -> str:
        """Authored text: a string (English only) or ``{lang: text}``; English fallback recorded."""
        if value is None:
            return ""
        if isinstance(value, str):
            if self.lang != "en":
                self._miss(where)
            return value
        if not isinstance(value, Mapping):
            raise BriefError(f"{where}: expected text or a mapping of language to text, got {value!r}")
        text = value.get(self.lang)
        if text is not None:
            return self.typography(str(text))
        self._miss(where)
        if "en" in value:
            return str(value["en"])
        if value:
            return str(next(iter(value.values())))
        return ""

    # ------------------------------------------------------------------ data labels
    def label(self, text: Any) -> str:
        """A table label (English, as notebooks publish them) in this language."""
        s = "" if text is None else str(text)
        if self.lang == "en" or not s:
            return s
        own = (self.cat.get("labels") or {}).get(s)
        if own is not None:
            return str(own)
        entry = self.label_table.get(s)
        if entry and entry.get(self.lang):
            return entry[self.lang]
        if _HAS_LETTER.search(s):
            self._miss(f"label {s!r}")
        return s

    # ------------------------------------------------------------------ numbers
    def _babel(self, fn: Any, *args: Any, **kw: Any) -> str:
        return fn(*args, locale=self.locale, numbering_system="latn", **kw)

    def _ltr(self, text: str) -> str:
        """A negative number keeps its sign on the left in right-to-left text (LEFT-TO-RIGHT MARK)."""
        if self.direction == "rtl" and text[:1] in ("-", "\u2212"):
            return "\u200e" + text
        return text

    def integer(self, n: float) -> str:
        from babel.numbers import format_decimal

        return self._ltr(self._babel(format_decimal, int(round(n)), format="#,##0"))

    def number(self, x: float, digits: int = 2) -> str:
        from babel.numbers import format_decimal

        fmt = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return self._ltr(self._babel(format_decimal, x, format=fmt))

    @staticmethod
    def share_digits(*shares: float | None) -> int:
        """Decimals for a set of shares shown together (a value and its interval): 1 if any is below 10 %."""
        return 1 if any(s is not None and 0 < abs(s) < 0.1 for s in shares) else 0

    def percent(self, p: float, digits: int | None = None) -> str:
        """A share 0..1 as a percentage in the locale's pattern ("41%", "41 %"; 1 decimal below 10 %).

        A share that is not 0 never shows as 0 %, and one that is not 1 never as
        100 %: decimals are added (up to 3) until it does not."""
        from babel import Locale
        from babel.numbers import parse_pattern

        p = float(p)
        if digits is None:
            digits = self.share_digits(p)
        while digits < 3 and ((p != 0 and round(p, 2 + digits) == 0) or (p != 1 and round(p, 2 + digits) == 1)):
            digits += 1
        loc = Locale.parse(self.locale)
        pattern = parse_pattern(loc.percent_formats[None].pattern)  # the locale's pattern, fixed decimals
        pattern.frac_prec = (digits, digits)
        return self._ltr(pattern.apply(p, loc, numbering_system="latn"))

    def people(self, n: float) -> str:
        return self.t("people", n=self.integer(n), count=int(round(n)))

    def approx_share(self, p: float) -> str:
        """A share in plain words: 'about 4 in 10', 'about 1 in 7', 'about 3 in 100'.

        Candidates are k in 10 (within 1.5 percentage points of ``p``) and 1 in N
        for N = 3..9 (within 10 % of 1/N); the nearest is used.  Otherwise k in
        100; below 1 in 100 'fewer than 1 in 100', above 99 in 100 'nearly all'.

        >>> Translator("en").approx_share(0.41), Translator("en").approx_share(0.143)
        ('about 4 in 10', 'about 1 in 7')
        """
        if p is None or not math.isfinite(p):
            return ""
        if p < 0 or p > 1:
            raise BriefError(f"a share must lie between 0 and 1, got {p!r}; use format: number for other values")
        if p == 0:
            return self.t("none_of")
        if p == 1:
            return self.t("all_of")
        cands = [(abs(p - k / 10), k, 10) for k in range(1, 10) if abs(p - k / 10) <= 0.015]
        cands += [(abs(p - 1 / n), 1, n) for n in range(3, 10) if abs(p - 1 / n) <= 0.1 / n]
        if cands:
            _, k, of = min(cands)
            return self.t("about_in", k=self.integer(k), of=self.integer(of), count=k)
        k = int(math.floor(p * 100 + 0.5))
        if k < 1:
            return self.t("fewer_than_in", k=self.integer(1), of=self.integer(100))
        if k >= 100:
            return self.t("nearly_all")
        return self.t("about_in", k=self.integer(k), of=self.integer(100), count=k)

    # ------------------------------------------------------------------ dates
    def date(self, value: Any) -> str:
        from babel.dates import format_date

        if isinstance(value, _dt.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = _dt.date.fromisoformat(value[:10])
            except ValueError:
                return value  # free text such as "November 2026" is kept as written
        if not isinstance(value, _dt.date):
            return str(value)
        return format_date(value, format="long", locale=self.locale)


def label_table(codebooks: Iterable[Any]) -> dict[str, dict[str, str]]:
    """English label -> {lang: label} from codebooks: titles, item and scale labels, option labels;
    item and scale ids map to their labels too (tidy tables carry ids)."""
    table: dict[str, dict[str, str]] = {}

    def add(key: str, labels: Mapping[str, str]) -> None:
        if key and labels:
            table.setdefault(str(key), {}).update({k: v for k, v in labels.items() if v})

    for cb in codebooks:
        add(cb.title.get("en", ""), cb.title)
        for item in cb.items:
            add(item.label.get("en", ""), item.label)
            add(item.id, item.label)
            for opt in item.options.values():
                add(opt.get("en", ""), opt)
        for scale in cb.scales:
            if scale.label:
                add(scale.label.get("en", ""), scale.label)
                add(scale.id, scale.label)
    return table
