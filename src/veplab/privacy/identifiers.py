"""The identifier gate: refuse direct identifiers before any analysis sees the data.

Data minimisation (GDPR art. 5(1)(c), art. 89(1); Convention 108+ art. 5)
means an analysis file holds no names, phone numbers or national id numbers:
people appear only under keyed pseudonyms (:mod:`veplab.privacy.pseudonyms`).
:func:`identifier_problems` checks a raw data frame against its codebook and
returns one problem per offending column, in the shape
:func:`veplab.data.load` reports problems (``file, column, rows, problem,
fix, severity``).  **No message ever contains a data value**: only column
names, row numbers, the kind of identifier and counts.

Rules
-----
Every column is scanned as read from the file (before typing, so numbers
that lost a leading ``0`` or ``+`` are seen as the file holds them), whatever
its type in the codebook.  Identifier problems are always errors:
:func:`veplab.data.load` stops whatever ``on_error`` (``"flag"`` included)
and ``unknown`` (``"drop"``/``"keep"``) say, and ``veplab validate`` fails.

1. A column whose codebook role is ``identifier`` is refused unless the item
   says ``pseudonymised: true`` *and* every non-missing value is a veplab
   pseudonym (:func:`~veplab.privacy.pseudonyms.looks_like_pseudonym`).
2. The codebook's ``id_column`` and every ``admin`` item marked
   ``pseudonymised: true`` must hold pseudonyms, or codes that match no
   detector: **one** value that is a phone number, an id number or a name
   (in any case, with digits or initials attached) refuses the column, as
   does a majority of name-shaped values.  Study codes such as ``R0012``
   pass.
3. *Facility columns* (``facility_columns=``: the study's ``design:
   cluster:`` column, holding prison codes such as ``KZ-P07``, ``UG-P112``,
   ``TN-P3``) are never put to rule 2 or to the name rules; they are refused
   for strong identifiers and when at least ``min_share`` of the values are
   phone or id numbers.
4. Every other column -- codebook items of every type (``text``,
   ``numeric``, ``likert``, ``categorical``, ``date`` ...) and columns not in
   the codebook -- is refused when

   * any value contains a *strong* identifier: an e-mail address, a phone
     number in international form (``+7 7xx``, ``+216``, ``+256``), a
     Kazakhstan IIN that passes its checksum (also as a number that lost its
     leading zeros), a Uganda NIN; or
   * at least ``min_share`` (default 0.5) of its non-missing values are
     *weak* matches: a local phone number, an 8-digit number shaped like a
     Tunisian CIN, a 12-digit number shaped like an IIN (date and century
     digit right, checksum wrong), or a personal name; or
   * (coded and numeric items) any value is a phone or id number that the
     item does not allow (not an option code, outside its ``min``..``max``):
     a phone number in a Likert or age column is never an answer; or
   * (columns not in the codebook) at least 60 % of at least 10
     non-missing values are *name-shaped* (two to five capitalised words of
     one script) and at least half of them are distinct.

   The item's missing codes (``99``, ``99999999``) are not scanned, and
   fillers such as ``00000000`` or ``12345678`` count as no number.

Detectors
---------
*Kazakhstan IIN* (ЖСН/ИИН): 12 digits ``YYMMDD C NNNN K``: birth date, a
century-and-sex digit ``C`` (1/2: 1800s, 3/4: 1900s, 5/6: 2000s; odd = male),
a serial and the check digit ``K``: ``sum(d_i * i, i=1..11) mod 11``; if
that is 10, the weights ``3,4,...,11,1,2`` are used instead; a second 10 means
no IIN has these first 11 digits (:func:`iin_check_digit`).

*Tunisia CIN*: 8 digits; issued numbers start with ``0`` or ``1``.
An 8-digit number starting ``2``-``9`` is taken as a Tunisian phone number
(mobiles start 2, 4, 5, 9; fixed lines 3, 7).  Both are identifiers; the
kind named in the message is a best guess.  Ungrouped 8-digit values that
are valid ``YYYYMMDD`` dates are not counted.

*Uganda NIN*: 14 characters, ``C``/``A`` (citizen/alien) + ``M``/``F`` + two
digits (birth year) + 10 letters or digits (``CM90012345ABCD``).

*Phone numbers*: after removing spaces, dots, hyphens and brackets (and
``00`` → ``+``): Kazakhstan ``+7 7xx xxx xx xx`` / ``8 7xx xxx xx xx`` (and as
numbers ``77xxxxxxxxx``, ``7xxxxxxxxx``); Tunisia ``+216 xx xxx xxx`` / 8
digits (``216xxxxxxxx``); Uganda ``+256 7xx xxx xxx`` / ``07xx xxx xxx`` (also
``3``/``4`` fixed lines; as numbers ``2567xxxxxxxx`` and ``7xxxxxxxx``, the
leading 0 lost).

*Numbers as spreadsheets write them*: ``772123456.0`` and ``7.72123456E+08``
are read as ``772123456``; a 9- to 11-digit number that is an IIN with its
leading zeros lost (people born 2000-2009) counts as an IIN.  Not counted:
``YYYYMMDD`` dates; a column whose 8-digit values are (80 % or more) dates
``DDMMYYYY``/``MMDDYYYY``; numbers that rise row by row in steps of at most 10
(record counters, database keys); the item's missing codes.  Likert codes,
ages, counts, years and ids such as ``100007`` have too few digits to match.

*Names* (Latin, Cyrillic including Kazakh letters, Arabic script): one to five
words of one script, with up to three initials (``N. Abenov``, ``Abenov N.``,
``N.Abenov``, ``Абенов Н.К.``); digits attached to words or standing alone
are ignored (``Nurlan Abenov2``, ``nurlan abenov 3``); ``_`` and ``.`` join
words (``nurlan_abenov``); ``SURNAME, Given`` (``ABENOV, Nurlan``, ``Okello,
Joseph``) is read as the two names.  Particles are allowed (``Ben``,
``bin``, ``ibn``, ``Ould``, ``uly``, ``kyzy``, ``ұлы``, ``қызы``, ``بن``,
``بنت`` ...).  A value is a *name* when it has *evidence*: a word from a
list of common given names and family names of Kazakhstan, Tunisia and
Uganda, a Kazakh/Russian family-name ending (``-ov``, ``-eva``, ``-bekov``,
``-uly``, ``-ова``, ``-ұлы`` ...), a Maghreb ``Ben``/``Ould`` + name or an
Arabic ``بن``/``عبد`` pattern.  Case does not matter (``nurlan abenov`` is a
name), but in lower or mixed case only a listed name that is not also a
common word (``grace``, ``rose``, ``salah`` ...), or a Latin family-name
ending, is evidence (lower-case Russian words end in ``-ов`` too).  A value
is *name-shaped* (rule 4's last point, rule 2's majority) when two or more
of its words are capitalised or in capitals (Arabic script: any two to five
words); an initial and one word, or ``Word, Word``, only with evidence (or
``SURNAME, Given`` with the family name in capitals).  Examples caught:
``Nurlan Abenov``, ``Айгерим Серикбаева``, ``Mohamed Ben Salah``,
``محمد بن صالح``, ``Okello Joseph``, ``Nakato Sarah``, ``nurlan abenov``,
``N. Abenov``, ``ABENOV, Nurlan``.

Trade-offs
----------
The detectors look at *columns*, not at every word of free text.  A comment
such as ``"I talked with the imam after Friday prayer"`` is not a name (too
many words, no capitals pattern); a sentence that *mentions* a name
(``"my brother Nurlan was arrested"``) is not caught either: free-text answers
must be reviewed and redacted by a person before they leave the secure
environment, and they are never published (the leak scan,
:mod:`veplab.privacy.leakscan`, checks reports for them).  Strong identifiers
(e-mail, international phone numbers, checksum-valid IINs, Uganda NINs) are
caught anywhere, even once in a comment.  Ordinary survey columns -- Likert
codes, prison codes like ``KZ-P07``, dates, option labels such as
``"Strongly agree"`` or ``"Remand Centre"`` -- do not trip the gate: codes
match no pattern, and labels repeat (few distinct values) and name no person.
Columns of facility or place names in Title Case outside the codebook may be
flagged by the name-shape rule; describe such columns in the codebook (and
replace them by codes: names of prisons identify people in combination).
Numbers are judged by their shape, so a numeric column of 8-digit or
``7xxxxxxxx`` amounts (sums in Ugandan shillings) is refused as phone or CIN
numbers: record such amounts in thousands.  A 7-digit number is never taken
for a Tunisian CIN that lost its leading ``0`` (too many ordinary numbers
have 7 digits); nor is a submission counter that does not rise in small steps
(a Kobo ``_id`` kept with ``unknown="keep"``) told from phone numbers when it
has their shape.

Examples
--------
>>> import pandas as pd
>>> from veplab.codebook import from_dict
>>> cb = from_dict({"id": "s", "title": "t", "id_column": "rid", "items": [
...     {"id": "q1", "label": "Q1", "type": "likert", "options": {1: "no", 2: "yes"}}]})
>>> df = pd.DataFrame({"rid": ["R1", "R2"], "q1": [1, 2],
...                    "who": ["Nurlan Abenov", "Okello Joseph"]})
>>> [(p["column"], p["kind"]) for p in identifier_problems(df, cb)]
[('who', 'name')]

References
----------
Law of the Republic of Kazakhstan of 12 January 2007 No. 223 "On national registers of
identification numbers" (the IIN: 12 digits, assigned once for life).
Government for Citizens (2021). Individual identification number (IIN). egov.kz,
https://egov.kz/cms/en/articles/passport/iin_info.
The two-pass mod-11 check digit is the one the open IIN validators implement
(kz-iin-validator on PyPI; kaz-person-id, github.com/valery1707/kaz-person-id) and
Yvision.kz (2011), "ИИН. Алгоритм расчета и проверки" (IIN: computing and checking it)
describes; the regulation that fixes it is not cited here (not checked).
veplab design, docs/DESIGN.md, section "Privacy" (``load`` refuses national id numbers).
Regulation (EU) 2016/679 (General Data Protection Regulation), art. 5(1)(c) (data
minimisation) and art. 89(1) (safeguards for research: pseudonymisation).
Council of Europe (2018). Modernised Convention for the Protection of Individuals with
regard to the Processing of Personal Data (Convention 108+), art. 5.
Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 3: direct
identifiers are removed before microdata are released).
docs/DESIGN.md, section "Privacy": ``load`` refuses columns that look like direct
identifiers (names, phone numbers, national id numbers) unless they are pseudonymised.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError
from ..codebook import CODED_TYPES, Codebook
from .pseudonyms import is_pseudonym, looks_like_pseudonym

__all__ = [
    "IdentifierError",
    "identifier_problems",
    "check_identifiers",
    "iin_check_digit",
    "is_valid_iin",
    "looks_like_iin",
    "is_phone_number",
    "is_email",
    "is_uganda_nin",
    "is_tunisia_cin",
    "looks_like_name",
    "identifier_kinds",
]


class IdentifierError(InputError):
    """Direct identifiers found in data.  ``problems`` lists them (no values)."""

    def __init__(self, problems: list[dict[str, Any]]):
        self.problems = problems
        lines = [f"the data hold direct identifiers ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"]
        for p in problems:
            lines.append(f"  {p['file']}: column {p['column']!r} ({_rows_text(p.get('rows') or [])}): "
                         f"{p['problem']} -- {p['fix']}")
        lines.append("Identifiers always stop the load (on_error='flag' and unknown='drop'/'keep' do not "
                     "apply to them); no value is shown here.")
        super().__init__("\n".join(lines))


# ------------------------------------------------------------------ value helpers


def _text(value: Any) -> str | None:
    """A value as stripped text (whole floats without '.0'); None when missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (_dt.date, _dt.time, _dt.timedelta, np.datetime64, np.timedelta64)):
        return None  # dates and times (pandas Timestamps too) hold no identifier
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        if float(value).is_integer() and -1e18 < value < 1e18:
            return str(int(value))
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    return text or None


_SEP_RE = re.compile(r"[\s.\-()\u00a0/]")


def _digits(text: str) -> str:
    """The value with separators removed (no other change)."""
    return _SEP_RE.sub("", text)


_FLOAT_WHOLE = re.compile(r"^(\d{6,18})\.0+$")
_SCIENTIFIC = re.compile(r"^\d(?:\.\d{1,17})?[eE]\+?\d{1,2}$")


def _plain_number(text: str) -> str:
    """A whole number written as ``772123456.0`` or ``7.72123456E+08`` (as spreadsheets and
    pandas write numbers) as its digits; any other text unchanged."""
    m = _FLOAT_WHOLE.match(text)
    if m:
        return m.group(1)
    if _SCIENTIFIC.match(text):
        f = float(text)
        if f.is_integer() and 1e6 <= f < 1e15:
            return str(int(f))
    return text


def _placeholder(digits: str) -> bool:
    """``99999999``, ``00000000``, ``12345678``: fillers, not numbers of a person."""
    return len(set(digits)) == 1 or digits in "01234567890" or digits in "9876543210"


def _compact(text: str) -> str:
    """Digits (and a leading +) with separators removed; ``00`` → ``+``."""
    c = _SEP_RE.sub("", text)
    if c.startswith("00"):
        c = "+" + c[2:]
    return c


def iin_check_digit(first11: str) -> int | None:
    """The IIN/BIN check digit of the first 11 digits, or ``None`` if none exists.

    The 12th digit of a Kazakhstan IIN is a weighted sum of the first 11
    digits ``d_1 .. d_11`` modulo 11::

        K = sum(d_i * i, i = 1..11) mod 11

    and when that is 10, a second pass with the weights ``3, 4, ..., 11, 1, 2``::

        K = sum(d_i * w_i) mod 11,  w = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

    A second 10 means no IIN is issued with these first 11 digits (``None``).

    Parameters
    ----------
    first11:
        The first 11 digits, as text (leading zeros matter).

    Returns
    -------
    int or None
        The check digit 0-9, or ``None`` when both passes give 10.

    Raises
    ------
    InputError
        ``first11`` is not exactly 11 digits.

    References
    ----------
    Law of the Republic of Kazakhstan No. 223 of 12 January 2007 (the IIN) and the open IIN validators;
    the full list is in the References of :mod:`veplab.privacy.identifiers`.

    Examples
    --------
    A synthetic number (born 1 January 1800, serial 0000: nobody holds it):

    >>> iin_check_digit("00010110000")
    6
    >>> is_valid_iin("000101100006")
    True
    >>> iin_check_digit("0001011000")
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: iin_check_digit needs exactly 11 digits
    """
    if len(first11) != 11 or not first11.isdigit():
        raise InputError("iin_check_digit needs exactly 11 digits")
    d = [int(c) for c in first11]
    for weights in ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)):
        r = sum(a * w for a, w in zip(d, weights)) % 11
        if r != 10:
            return r
    return None


def _iin_date_ok(digits: str) -> bool:
    """Birth date and century digit of a 12-digit string are plausible."""
    c = digits[6]
    if c not in "123456":
        return False
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}[c]
    try:
        _dt.date(century + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return False
    return True


def looks_like_iin(value: Any) -> bool:
    """Whether a value has the shape of a Kazakhstan IIN (checksum not checked).

    ``YYMMDD C NNNN K``: 12 digits (spaces, dots and hyphens ignored) whose
    first six are a real calendar date ``YYMMDD`` in the century given by the
    seventh digit ``C`` (1/2: 1800s, 3/4: 1900s, 5/6: 2000s; odd = male, even =
    female).  The identifier gate counts such values as *weak* matches (a share
    of a column must match); a value that also passes the check digit
    (:func:`is_valid_iin`) is a *strong* match.

    Parameters
    ----------
    value:
        Any cell value (text or number); missing values give ``False``.

    Returns
    -------
    bool

    References
    ----------
    Law of the Republic of Kazakhstan No. 223 of 12 January 2007 (the IIN) and the open IIN validators;
    the full list is in the References of :mod:`veplab.privacy.identifiers`.

    Examples
    --------
    Synthetic numbers (born 1 January 1800):

    >>> looks_like_iin("000101 100007")       # right shape, wrong check digit
    True
    >>> looks_like_iin("001301100007")        # month 13
    False
    >>> looks_like_iin("000101700007")        # century digit 7 does not exist
    False
    """
    t = _text(value)
    if t is None:
        return False
    c = _digits(t)
    return len(c) == 12 and c.isdigit() and _iin_date_ok(c)


def is_valid_iin(value: Any) -> bool:
    """Whether a value is a Kazakhstan IIN: plausible date and century digit, and a correct check digit.

    The value (spaces, dots and hyphens ignored) must be 12 digits
    ``YYMMDD C NNNN K`` with a real birth date, a century-and-sex digit ``C`` from
    1 to 6 (see :func:`looks_like_iin`) and ``K = iin_check_digit(first 11
    digits)`` (see :func:`iin_check_digit` for the formula).  Such a value
    anywhere in a column is a *strong* identifier: the identifier gate refuses
    the column.

    Parameters
    ----------
    value:
        Any cell value (text or number); missing values give ``False``.

    Returns
    -------
    bool

    References
    ----------
    Law of the Republic of Kazakhstan No. 223 of 12 January 2007 (the IIN) and the open IIN validators;
    the full list is in the References of :mod:`veplab.privacy.identifiers`.

    Examples
    --------
    Synthetic numbers (born 1 January 1800, serial 0000):

    >>> is_valid_iin("000101100006"), is_valid_iin("000101 100006")
    (True, True)
    >>> is_valid_iin("000101100007")          # check digit should be 6
    False
    >>> is_valid_iin(None)
    False
    """
    t = _text(value)
    if t is None:
        return False
    c = _digits(t)
    if not (len(c) == 12 and c.isdigit() and _iin_date_ok(c)):
        return False
    return iin_check_digit(c[:11]) == int(c[11])


_DATE_RE = re.compile(r"\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{4}")


def _written_date(text: str) -> bool:
    """A date written with separators (2024-01-15, 15.01.2024, 15/01/2024) or as YYYYMMDD.

    (``DDMMYYYY`` without separators is told from a number column by column: see
    :func:`identifier_kinds`.)"""
    t = text.strip()
    return bool(_DATE_RE.fullmatch(t)) or (t.isdigit() and _is_yyyymmdd(t))


def _is_ddmmyyyy(c: str) -> bool:
    """8 digits ``DDMMYYYY`` (or ``MMDDYYYY``) with a year 1900-2100."""
    if len(c) != 8 or not c.isdigit() or not 1900 <= int(c[4:]) <= 2100:
        return False
    y, a, b = int(c[4:]), int(c[:2]), int(c[2:4])
    for m, d in ((b, a), (a, b)):
        try:
            _dt.date(y, m, d)
            return True
        except ValueError:
            continue
    return False


def _is_yyyymmdd(c: str) -> bool:
    if len(c) != 8 or not c.isdigit():
        return False
    y, m, d = int(c[:4]), int(c[4:6]), int(c[6:])
    if not 1900 <= y <= 2100:
        return False
    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return True


def is_tunisia_cin(value: Any) -> bool:
    """Whether a value has the shape of a Tunisian national identity card (CIN) number.

    veplab's rule (the module's *Detectors*): 8 digits (spaces, dots and
    hyphens ignored) starting with ``0`` or ``1``, and not a ``YYYYMMDD`` date
    (nor a date written with separators).  8-digit numbers starting ``2``-``9``
    are read as Tunisian phone numbers instead (:func:`is_phone_number`).  The
    CIN carries no check digit, so the shape is all that can be checked: the
    identifier gate counts CIN-shaped values as *weak* matches (a share of a
    column must match), and fillers such as ``00000000`` are ignored there.

    Parameters
    ----------
    value:
        Any cell value (text or number); missing values give ``False``.

    Returns
    -------
    bool

    References
    ----------
    Loi n° 93-27 du 22 mars 1993 relative à la carte nationale d'identité (Tunisia), as amended
    by the loi organique n° 2024-22 du 11 mars 2024 (the card and its number).
    The 8-digit shape is veplab's detector rule: see this module's docstring (*Detectors*)
    and docs/DESIGN.md, section "Privacy".

    Examples
    --------
    Synthetic values:

    >>> [is_tunisia_cin(v) for v in ["00000001", "1000 0001", "20000001", "19991231"]]
    [True, True, False, False]
    """
    t = _text(value)
    if t is None:
        return False
    c = _digits(t)
    return len(c) == 8 and c.isdigit() and c[0] in "01" and not _written_date(t)


_PHONE_INTL = {
    "kz": re.compile(r"^\+77\d{9}$"),
    "tn": re.compile(r"^\+216[2-9]\d{7}$"),
    "ug": re.compile(r"^\+256[347]\d{8}$"),
}
_PHONE_LOCAL = {
    # 8 7xx..., 7 7xx... (+7 read as a number), or the 10-digit national number 7xx...
    "kz": re.compile(r"^(?:(?:8|7)7\d{9}|7[0-7]\d{8})$"),
    "tn": re.compile(r"^(?:216)?[2-9]\d{7}$"),
    # 256 7xx... (+256 read as a number), 07xx..., or 7xx... (the leading 0 lost in a number)
    "ug": re.compile(r"^(?:256[347]\d{8}|0[347]\d{8}|7\d{8})$"),
}


def _phone_kind(text: str) -> str | None:
    """'intl' for +7 7xx / +216 / +256 numbers, 'local' for local forms, else None."""
    c = _compact(text)
    if not re.fullmatch(r"\+?\d{8,13}", c):
        return None
    if c.startswith("+"):
        return "intl" if any(p.match(c) for p in _PHONE_INTL.values()) else None
    if _written_date(text):
        return None  # a date (phone numbers are grouped otherwise)
    if len(c) == 8 and c[0] in "01":
        return None  # CIN-shaped, not a phone
    return "local" if any(p.match(c) for p in _PHONE_LOCAL.values()) else None


def is_phone_number(value: Any) -> bool:
    """Whether a value is a Kazakh, Tunisian or Ugandan phone number, international or local form.

    After removing spaces, dots, hyphens and brackets (and ``00`` -> ``+``):

    * international (``+`` and country code, E.164): Kazakhstan ``+7 7xx xxx xx
      xx``, Tunisia ``+216`` and 8 digits starting 2-9, Uganda ``+256`` and 9
      digits starting 3, 4 or 7 -- a *strong* identifier for the gate;
    * local forms: Kazakhstan ``8 7xx ...`` (or ``77xxxxxxxxx``/``7xxxxxxxxx``
      as numbers), Tunisia 8 digits starting 2-9, Uganda ``07xx xxx xxx``
      (or ``7xxxxxxxx``, the leading 0 lost in a number) -- *weak* matches.

    Written dates and CIN-shaped numbers (8 digits starting 0/1) are not phone
    numbers.

    Parameters
    ----------
    value:
        Any cell value (text or number); missing values give ``False``.

    Returns
    -------
    bool

    References
    ----------
    ITU-T (2010). Recommendation E.164: The international public telecommunication numbering
    plan (country codes +7, +216, +256).
    The national number shapes are veplab's detector rules: see this module's docstring
    (*Detectors*) and docs/DESIGN.md, section "Privacy".

    Examples
    --------
    Synthetic all-zero numbers:

    >>> [is_phone_number(v) for v in ["+7 700 000 00 00", "+216 20 000 000", "0700 000000", "KZ-P07"]]
    [True, True, True, False]
    >>> is_phone_number("2024-01-15")          # a date, not a number
    False
    """
    t = _text(value)
    return t is not None and _phone_kind(t) is not None


_EMAIL_FULL = re.compile(r"^[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+$")
_EMAIL_ANY = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}")
_PHONE_ANY = re.compile(r"(?:\+|\b00)\s?(?:7[\s\-(]*7|216|256)[\d\s\-().]{7,16}\d")
_DIGITS12_ANY = re.compile(r"(?<!\d)\d{12}(?!\d)")
_NIN_FULL = re.compile(r"^[CA][MF]\d{2}[0-9A-Z]{10}$")
_NIN_ANY = re.compile(r"\b[CA][MF]\d{2}[0-9A-Z]{10}\b")


def is_email(value: Any) -> bool:
    """Whether a whole value is an e-mail address.

    ``local@domain.tld``: a local part of letters, digits and ``. + - _``, an
    ``@``, and a domain of at least two dot-separated labels.  This is a
    deliberately simple subset of the RFC 5322 ``addr-spec`` (quoted local
    parts and address literals are not recognised).  The identifier gate also
    finds addresses *inside* longer text (a comment), and treats any as a
    strong identifier.

    Parameters
    ----------
    value:
        Any cell value; missing values give ``False``.

    Returns
    -------
    bool

    References
    ----------
    Resnick P (ed.) (2008). RFC 5322: Internet Message Format, section 3.4.1 (addr-spec). IETF.
    docs/DESIGN.md, section "Privacy" (direct identifiers are refused by ``load``).

    Examples
    --------
    >>> [is_email(v) for v in ["someone@example.org", "a.b+c@mail.example.com", "someone at example.org", None]]
    [True, True, False, False]
    """
    t = _text(value)
    return t is not None and bool(_EMAIL_FULL.match(t))


def is_uganda_nin(value: Any) -> bool:
    """Whether a value has the shape of a Uganda National Identification Number (NIN).

    14 characters (spaces, dots and hyphens ignored, case ignored)::

        [C|A] [M|F] YY XXXXXXXXXX

    citizen/alien, male/female, two digits (the birth year) and 10 letters or
    digits, with at least four digits in all (``CM90012345ABCD`` in the module
    docstring's notation).  No check digit is known, so only the shape is
    checked; a NIN anywhere in a column (even inside free text) is a *strong*
    identifier for the gate.

    Parameters
    ----------
    value:
        Any cell value; missing values give ``False``.

    Returns
    -------
    bool

    References
    ----------
    Registration of Persons Act, 2015 (Uganda): the National Identification Register and the
    NIN, issued by the National Identification and Registration Authority (NIRA).
    The letter layout is veplab's detector rule (see this module's docstring, *Detectors*, and
    docs/DESIGN.md, section "Privacy").

    Examples
    --------
    Synthetic values:

    >>> [is_uganda_nin(v) for v in ["CM00000000XXXX", "cf 0000 0000 xxxx", "CM00XXXXXXXXXX", "KZ-P07"]]
    [True, True, False, False]
    """
    t = _text(value)
    if t is None:
        return False
    c = _SEP_RE.sub("", t).upper()
    return bool(_NIN_FULL.match(c)) and sum(ch.isdigit() for ch in c) >= 4


# ------------------------------------------------------------------------- names

_PARTICLES = {
    "ben", "bin", "bint", "bent", "ibn", "ould", "el", "al", "bou", "abu", "abou", "bel",
    "uly", "ulu", "kyzy", "qyzy", "uulu", "de", "da", "van", "von",
    "улы", "ұлы", "кызы", "қызы", "оглы", "оглу", "уулу",
    "بن", "بنت", "ابن", "أبو", "ابو", "بو", "ولد",
}
_STRONG_PARTICLES = {"ben", "bin", "bint", "bent", "ibn", "ould", "uly", "kyzy", "qyzy", "uulu",
                     "улы", "ұлы", "кызы", "қызы", "оглы", "уулу", "بن", "بنت", "ابن", "ولد"}

# Common given and family names of Kazakhstan, Tunisia and Uganda (Latin
# transliterations, Cyrillic and Arabic script).  A word from this list is
# evidence that a capitalised pair of words is a person's name.
_NAMES_TEXT = """
nurlan nursultan nurzhan nurbol nurlybek yerlan erlan yerzhan erzhan yerbol erbol askar asqar aidos aidar aibek
aizhan aigerim aigul ainur aruzhan asel assel aliya aliia almas almaz arman azamat bakhyt bakyt baurzhan bauyrzhan
bolat daulet dauren daniyar dinara dana gulnara gulmira gulnar kairat kanat marat madina maira meruert nazerke
nurgul raushan ruslan saule samal serik sergey sergei timur talgat yerkebulan zhanna zhanar zhandos zhasulan
akmaral ardak arailym ayan ayana beibit berik dias didar ermek galym kuanysh kuat mukhtar olzhas rustem sabina
sanzhar shyngys temirlan ulan zarina zhansaya abay abai amir alikhan alisher aslan
alexander aleksandr alexey aleksey andrey andrei dmitry dmitriy ivan igor oleg pavel vladimir viktor yuri evgeny
olga elena tatiana tatyana natalia natalya irina svetlana anna maria ekaterina yulia lyudmila galina
mohamed mohammed muhammad mohammad mohamad mehdi ahmed ahmad ali youssef yousef yassine yassin amine amin hamza
omar karim walid bilel bilal khaled khalil mounir nabil hichem hatem anis riadh riadh tarek tarak slim sami
sofiene sofien aymen ayoub oussama houssem wassim marwen haythem fares faouzi lotfi habib moez mourad naceur
noureddine abdallah abdellah abdelkader abderrahmane abdelaziz salah saleh hedi hamadi chokri fethi kamel
fatma fatima amel mariem maryam meriem leila leyla salma sonia ines rim nour houda khadija aicha aisha asma
samira sana sarra sawsen imen emna olfa hajer wafa rania yasmine
joseph john peter paul james david moses samuel sarah grace florence esther ruth mary agnes rose joyce betty
patience brenda emmanuel robert richard isaac joshua daniel godfrey ronald denis dennis sharon annet harriet
prossy juliet jane margaret stella scovia immaculate charles francis henry michael simon stephen vincent
okello akello opio apio ocen acen okot akot odongo adong ojok ajok otim atim oryem aryem ochola achola
ochieng achieng auma onyango oketch akena okwir olweny okumu
nakato babirye kato wasswa waiswa kizza nabirye nambi nakabiri nalubega nansubuga namukasa namubiru namutebi
nakimuli nakitto nankya nassali nakku mukasa musoke lubega kaggwa kintu mutebi ssali ssemakula ssebunya
ssemwogerere ssekandi kiggundu nsubuga mugisha tumusiime byaruhanga kyomuhendo ainembabazi atuhaire
ahimbisibwe twinomugisha tumwine asiimwe ninsiima kansiime mbabazi natukunda
нурлан нурсултан ерлан ержан аскар айдос айбек айжан айгерим айгуль айнур асель алия арман азамат бахыт
болат даулет даурен динара гульнара кайрат канат марат мадина руслан сауле серик сергей тимур жанна
александр алексей андрей дмитрий иван игорь олег павел владимир виктор ольга елена татьяна наталья ирина
светлана анна мария екатерина юлия
محمد أحمد احمد علي يوسف ياسين أمين امين حمزة عمر كريم وليد بلال خالد خليل منير نبيل هشام حاتم أنيس رياض
طارق سليم سامي سفيان أيمن أيوب أسامة مراد عبدالله صالح فاطمة آمال مريم ليلى سلمى إيناس ريم نور هدى خديجة
عائشة أسماء سميرة سناء سارة وفاء رانية ياسمين
"""
_NAME_WORDS = frozenset(_NAMES_TEXT.split())
_SURNAME_LATIN = re.compile(r"(?:ov|ova|ev|eva|yev|yeva|bekov|bekova|bayev|bayeva|baev|baeva|enko|uly|kyzy|uulu)$")
_SURNAME_CYR = re.compile(r"(?:ов|ова|ев|ева|ёв|ёва|ин|ина|енко|ұлы|қызы|улы|кызы)$")
_LATIN_TOKEN = re.compile(r"^[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F'’\-]*$")
_CYR_TOKEN = re.compile(r"^[\u0400-\u04FF][\u0400-\u04FF'’\-]*$")
_ARABIC_TOKEN = re.compile(r"^[\u0621-\u064A\u066E-\u06D3\u06FA-\u06FF\u0750-\u077F]+$")


def _token_script(tok: str) -> str | None:
    if _LATIN_TOKEN.match(tok):
        return "latin"
    if _CYR_TOKEN.match(tok):
        return "cyrillic"
    if _ARABIC_TOKEN.match(tok):
        return "arabic"
    return None


def _capitalised(tok: str) -> bool:
    first = tok[0]
    return first.isupper() and (tok[1:] == tok[1:].lower() or tok.isupper() or "-" in tok or "'" in tok or "’" in tok
                                or tok[1:2].islower())


# Lexicon words that are also ordinary words (English, French, Kazakh, Russian, Arabic
# transliterated): written in lower case they are no evidence of a name on their own.
_AMBIGUOUS_WORDS = frozenset("""
slim grace rose patience immaculate saule dana kuat ulan samal nour salah amir habib amel karim rim sana
bolat ayan dias anis asma joy
канат сауле болат даулет
""".split())
_TOKEN_END_JUNK = re.compile(r"^[\d\-#№()\[\]{}*;:!?\"«»]+|[\d\-#№()\[\]{}*;:!?\"«»]+$")
_INITIALS_DOTTED = re.compile(r"^(?:[^\W\d_]\.){1,3}$")
_INITIALS_GLUED = re.compile(r"^((?:[^\W\d_]\.){1,3})([^\W\d_][^\W\d_'’\-]+)$")  # N.Abenov


def _name_tokens(text: str) -> tuple[list[str], list[str], bool, bool] | None:
    """Split a value into (words, initials, surname-first comma form, ALL-CAPS surname first).

    Digits attached to words or standing alone (``Abenov2``, ``nurlan abenov 3``) are
    dropped; ``N.``, ``N``, ``N.K.`` are initials; ``N.Abenov``, ``nurlan.abenov``,
    ``nurlan_abenov`` are split; ``SURNAME, Given`` is read as the two names.
    ``None`` when the value cannot be a name (more than one comma, a word with digits inside).
    """
    t = unicodedata.normalize("NFC", text).strip()
    comma = caps_first = False
    if "," in t:
        parts = t.split(",")
        if len(parts) != 2:
            return None
        head, tail = parts[0].split(), parts[1].split()
        if not 1 <= len(head) <= 3 or not 1 <= len(tail) <= 4:
            return None
        comma = True
        caps_first = all(w.isupper() for w in head)
        t = " ".join(head + tail)
    words: list[str] = []
    initials: list[str] = []
    for raw in t.replace("_", " ").split():
        pieces = [raw]
        if "." in raw and not _INITIALS_DOTTED.match(raw):
            glued = _INITIALS_GLUED.match(raw)
            if glued:
                pieces = [glued.group(1), glued.group(2)]
            else:
                pieces = [p for p in raw.split(".") if p]
        for piece in pieces:
            if _INITIALS_DOTTED.match(piece):
                initials.extend(ch for ch in piece if ch != ".")
                continue
            tok = _TOKEN_END_JUNK.sub("", piece)
            if not tok:
                continue
            if any(ch.isdigit() for ch in tok):
                return None
            if len(tok) == 1:
                if tok.isalpha():
                    initials.append(tok)
                    continue
                return None
            words.append(tok)
    return words, initials, comma, caps_first


def _name_shape(text: str) -> tuple[bool, bool]:
    """(name-shaped, with evidence) for one value.

    *Shaped*: one to five words (two or more without initials) of one script, each
    capitalised (or in capitals).  *Evidence*: see the module docstring.  Values
    in lower or mixed case are names only with evidence (a lexicon name, or for
    Latin script a Kazakh/Russian family-name ending), never by shape alone.
    """
    if len(text) > 80:
        return False, False
    split = _name_tokens(text)
    if split is None:
        return False, False
    tokens, initials, comma, caps_first = split
    if not 1 <= len(tokens) <= 5 or len(initials) > 3 or len(tokens) + len(initials) < 2:
        return False, False
    scripts = {_token_script(t) for t in tokens} | {_token_script(i) for i in initials}
    if len(scripts) != 1 or None in scripts:
        return False, False
    script = scripts.pop()
    folded = [t.casefold().strip("'’-") for t in tokens]
    core = [t for t, f in zip(tokens, folded) if f not in _PARTICLES]
    if not core:
        return False, False
    if any(len(t) < 2 for t in core):
        return False, False
    cased = script == "arabic" or (all(_capitalised(t) for t in core) and all(i.isupper() for i in initials))
    # a pair of words is shaped like a name; an initial and one word, or "Word, Word", only with evidence
    # (SURNAME, Given -- the family name in capitals -- is shaped)
    shaped = cased and len(tokens) >= 2 and (not comma or caps_first)
    evidence = False
    for tok, f in zip(tokens, folded):
        parts = re.split(r"[-'’]", f)
        in_lexicon = f in _NAME_WORDS or any(p in _NAME_WORDS for p in parts if len(p) >= 3)
        if in_lexicon and (cased or (f not in _AMBIGUOUS_WORDS and not any(p in _AMBIGUOUS_WORDS for p in parts))):
            evidence = True
            break
        if f not in _PARTICLES and len(f) >= 5:
            if script == "latin" and _SURNAME_LATIN.search(f):
                evidence = True
                break
            if script == "cyrillic" and cased and _SURNAME_CYR.search(f):
                evidence = True  # lower-case Russian words end in -ов/-ин too ("родственников")
                break
        if script == "arabic" and (f.startswith("عبد") or f.startswith("أبو")):
            evidence = True
            break
    if not evidence:
        for i, f in enumerate(folded[:-1]):
            if f in _STRONG_PARTICLES and folded[i + 1] not in _PARTICLES:
                evidence = True
                break
    return shaped, evidence


def looks_like_name(value: Any) -> bool:
    """Whether one value looks like a person's name (shape *and* evidence; see module doc).

    A value is a name when it splits into one to five words of one script
    (Latin, Cyrillic, Arabic) with up to three initials, and has *evidence*: a
    word from the lexicon of common given and family names of Kazakhstan,
    Tunisia and Uganda, a Kazakh/Russian family-name ending (``-ov``, ``-eva``,
    ``-uly`` ...), or a particle pattern (``Ben``/``bin``/``Ould`` + name,
    ``بن``, ``عبد``).  In lower case only unambiguous lexicon names and Latin
    family-name endings count (``grace`` or ``rose`` alone are ordinary words).
    A heuristic: it finds the names of the study's countries as typed in data
    files, not every name in free text.

    Parameters
    ----------
    value:
        Any cell value; missing values and numbers give ``False``.

    Returns
    -------
    bool

    References
    ----------
    Regulation (EU) 2016/679 (General Data Protection Regulation), art. 4(1) (a name is
    personal data) and art. 5(1)(c) (data minimisation).
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 3: direct
    identifiers are removed before microdata are released).
    docs/DESIGN.md, section "Privacy" (``load`` refuses columns of names).

    Examples
    --------
    Common names, not particular people:

    >>> [looks_like_name(v) for v in ["Nurlan Abenov", "محمد بن صالح", "Strongly agree", "KZ-P07"]]
    [True, True, False, False]
    >>> [looks_like_name(v) for v in ["nurlan abenov", "ABENOV, Nurlan", "grace", "Remand Centre"]]
    [True, True, False, False]
    """
    t = _text(value)
    if t is None:
        return False
    return _name_shape(t)[1]


# --------------------------------------------------------------- column detectors

#: Labels of the identifier kinds, as messages name them.
KIND_LABELS = {
    "email": "e-mail addresses",
    "phone": "phone numbers",
    "kz_iin": "Kazakhstan IIN numbers",
    "tn_cin": "Tunisia CIN numbers",
    "ug_nin": "Uganda NIN numbers",
    "name": "personal names",
}


_DIGIT_RE = re.compile(r"\d")
_NAME_SEP = re.compile(r"[\s,._]")
_LETTER = re.compile(r"[^\W\d_]")
#: Weak kinds a plain number can match (counted, not named, in numeric columns).
_NUMBER_KINDS = frozenset({"phone", "kz_iin", "tn_cin"})


def _classify(text: str) -> tuple[set[str], set[str], bool, str | None]:
    """(strong kinds, weak kinds, name-shaped, digits of a plain number) for one non-missing value.

    Cheap tests first (an '@', the number of digits, the number of words),
    so that a national-scale column is scanned in a few seconds.
    """
    strong: set[str] = set()
    weak: set[str] = set()
    if "@" in text and _EMAIL_ANY.search(text):
        strong.add("email")
    if text[:1].isdigit() and len(text) <= 24:
        text = _plain_number(text)
    ndigits = sum(map(str.isdigit, text)) if _DIGIT_RE.search(text) else 0
    if ndigits >= 8:
        if "+" in text or "00" in text:
            for m in _PHONE_ANY.finditer(text):
                if _phone_kind(m.group(0)) == "intl":
                    strong.add("phone")
                    break
        if ndigits >= 12:
            for m in _DIGITS12_ANY.finditer(_SEP_RE.sub("", text) if len(text) <= 20 else text):
                if is_valid_iin(m.group(0)):
                    strong.add("kz_iin")
                    break
        if len(text) <= 24:
            pk = _phone_kind(text)
            if pk == "intl":
                strong.add("phone")
            elif pk == "local":
                weak.add("phone")
            c = _digits(text)
            if len(c) == 12 and c.isdigit() and _iin_date_ok(c):
                weak.add("kz_iin")
            if text.isdigit() and 9 <= len(text) <= 11 and text[0] != "0":
                # an IIN of someone born 2000-2009 read as a number: its leading zero(s) are lost
                padded = text.zfill(12)
                if padded[6] in "56" and _iin_date_ok(padded):
                    if iin_check_digit(padded[:11]) == int(padded[11]):
                        strong.add("kz_iin")
                    else:
                        weak.add("kz_iin")
            if is_tunisia_cin(text):
                weak.add("tn_cin")
            if c.isdigit() and _placeholder(c):
                weak -= _NUMBER_KINDS
    if ndigits >= 4 and len(text) >= 14:
        upper = text.upper()
        nin_candidates = [m.group(0) for m in _NIN_ANY.finditer(upper)]
        if len(text) <= 24:
            nin_candidates.append(_SEP_RE.sub("", upper))
        if any(_NIN_FULL.match(c) and sum(ch.isdigit() for ch in c) >= 4 for c in nin_candidates):
            strong.add("ug_nin")
    shaped = evidence = False
    if "@" not in text and len(text) <= 80 and _NAME_SEP.search(text) and _LETTER.search(text):
        shaped, evidence = _name_shape(text)
    if evidence:
        weak.add("name")
    number = text if ndigits >= 8 and text.isdigit() else None
    return strong, weak, shaped, number


def _counter(numbers: list[int]) -> bool:
    """Numbers that rise row by row in small steps: a record counter or database key
    (``_id``, an autoincrement column), not phone or id numbers of people."""
    if len(numbers) < 10:
        return False
    arr = np.asarray(numbers, dtype=np.float64)
    steps = np.diff(arr)
    return bool((steps > 0).all() and np.median(steps) <= 10)


def identifier_kinds(values: Iterable[Any] | pd.Series, *, ignore: Iterable[str] = ()) -> dict[str, Any]:
    """Detector summary for one column: how many values match each identifier kind, and where.

    Each distinct non-missing value is classified once (see the module's
    *Detectors*): *strong* kinds (``email``, international ``phone``,
    checksum-valid ``kz_iin``, ``ug_nin``) and *weak* kinds (local ``phone``,
    IIN-shaped ``kz_iin``, ``tn_cin``, ``name``), and whether it is
    *name-shaped*.  Shares are over the ``n`` non-missing values::

        any_weak_share = (values matching any kind) / n
        name_shaped_share = (name-shaped values) / n
        distinct = (distinct matching values) / n

    Values whose text is in ``ignore`` (a codebook's missing codes) count as
    missing.  Numbers that rise row by row in steps of at most 10 (a record
    counter, ``counter``) are not counted as weak phone or id numbers, nor are
    columns whose 8-digit values are mostly ``DDMMYYYY`` dates.  Counts and
    positions only -- never the values.

    Parameters
    ----------
    values:
        One column (a Series or any iterable of cell values), as read from the file.
    ignore:
        Texts to treat as missing (``"99"``, ``"-9"``).

    Returns
    -------
    dict
        ``{"n", "distinct", "strong": {kind: count}, "weak": {kind: count},
        "any_weak_share", "name_shaped_share", "positions": {kind: [0-based
        positions]}, "any_positions", "strong_positions", "weak_positions",
        "shaped_positions", "counter"}``.

    References
    ----------
    Regulation (EU) 2016/679 (GDPR), art. 5(1)(c), and Hundepool et al. (2012), ch. 3;
    the full list is in the References of :mod:`veplab.privacy.identifiers`.

    Examples
    --------
    Synthetic values:

    >>> import pandas as pd
    >>> s = pd.Series(["R0001", "+7 700 000 00 00", "R0003", None, "someone@example.org"])
    >>> k = identifier_kinds(s)
    >>> k["n"], k["strong"], sorted(k["positions"].items())
    (4, {'email': 1, 'phone': 1}, [('email', [4]), ('phone', [1])])
    >>> k = identifier_kinds(["Nurlan Abenov", "Okello Joseph", "Nakato Sarah", "KZ-P07"])
    >>> k["weak"], k["name_shaped_share"]
    ({'name': 3}, 0.75)
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    arr = s.to_numpy(dtype=object)
    codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    ignore = set(ignore)
    cache: dict[str, tuple[set[str], set[str], bool, str | None]] = {}
    results: list[tuple[set[str], set[str], bool, str | None] | None] = []
    text_of: list[str | None] = []
    nothing: tuple[set[str], set[str], bool, str | None] = (set(), set(), False, None)
    for u in uniques:
        t = _text(u)
        if t is None or t in ignore:
            results.append(None)
            text_of.append(None)
            continue
        if isinstance(u, (int, float, np.integer, np.floating)) and -1e7 < u < 1e7:
            results.append(nothing)  # a number of at most 7 digits: no phone, no id number
            text_of.append(t)
            continue
        res = cache.get(t)
        if res is None:
            res = cache[t] = _classify(t)
        results.append(res)
        text_of.append(t)
    present_u = np.array([r is not None for r in results] + [False], dtype=bool)  # last: the NA sentinel -1
    present = present_u[codes]
    n = int(present.sum())
    counts = np.bincount(codes[present], minlength=len(uniques)) if n else np.zeros(len(uniques), dtype=np.int64)
    distinct_texts = {text_of[i] for i in range(len(uniques)) if results[i] is not None and counts[i] > 0}

    def where(pred: Any) -> list[int]:
        idx = [i for i, r in enumerate(results) if r is not None and pred(r)]
        if not idx:
            return []
        return np.flatnonzero(np.isin(codes, idx)).tolist()

    strong_kinds = sorted({k for r in results if r is not None for k in r[0]})
    weak_kinds = sorted({k for r in results if r is not None for k in r[1]})
    strong_pos = {k: where(lambda r, k=k: k in r[0]) for k in strong_kinds}
    weak_pos = {k: where(lambda r, k=k: k in r[1]) for k in weak_kinds}
    counter = False
    number_u = [i for i, r in enumerate(results) if r is not None and r[1] & _NUMBER_KINDS and r[3] is not None]
    dmy_u = [i for i in number_u if (r := results[i]) is not None and r[3] is not None and _is_ddmmyyyy(r[3])]
    if dmy_u and counts[dmy_u].sum() >= 0.8 * counts[number_u].sum():
        # a column of dates written DDMMYYYY (or MMDDYYYY): those values are dates, not numbers
        dmy = np.flatnonzero(np.isin(codes, dmy_u))
        weak_pos = {k: (sorted(set(v) - set(dmy.tolist())) if k in _NUMBER_KINDS else v) for k, v in weak_pos.items()}
        weak_pos = {k: v for k, v in weak_pos.items() if v}
    number_pos = sorted({p for k, v in weak_pos.items() if k in _NUMBER_KINDS for p in v})
    if len(number_pos) >= 10:
        numbers = [int(results[codes[p]][3]) if results[codes[p]][3] is not None else -1 for p in number_pos]
        counter = -1 not in numbers and _counter(numbers)
        if counter:
            weak_pos = {k: v for k, v in weak_pos.items() if k not in _NUMBER_KINDS}
    shaped_pos = where(lambda r: r[2])
    positions = {k: sorted(set(strong_pos.get(k, [])) | set(weak_pos.get(k, [])))
                 for k in set(strong_pos) | set(weak_pos)}
    any_weak = sorted({p for v in strong_pos.values() for p in v} | {p for v in weak_pos.values() for p in v})
    return {
        "n": n,
        "distinct": len(distinct_texts) / n if n else 0.0,
        "strong": {k: len(v) for k, v in strong_pos.items()},
        "weak": {k: len(v) for k, v in weak_pos.items()},
        "any_weak_share": len(any_weak) / n if n else 0.0,
        "name_shaped_share": len(shaped_pos) / n if n else 0.0,
        "positions": positions,
        "any_positions": any_weak,
        "strong_positions": strong_pos,
        "weak_positions": weak_pos,
        "shaped_positions": shaped_pos,
        "counter": counter,
    }


# -------------------------------------------------------------------- the gate


def _rows(positions: Sequence[int], row_numbers: Sequence[int] | None) -> list[int]:
    if row_numbers is None:
        return [int(p) + 2 for p in positions]
    return [int(row_numbers[p]) for p in positions]


def _rows_text(rows: Sequence[int], limit: int = 12) -> str:
    rows = list(rows)
    if not rows:
        return "the whole column"
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return ("row " if len(rows) == 1 else "rows ") + shown + more


def _verdict(info: dict[str, Any], *, min_share: float, mode: str) -> tuple[list[str], list[int]] | None:
    """Kinds that make a column refused, and positions of the matching values.

    ``mode``: ``"id"`` (id column, pseudonymised admin ids: any weak match or a
    name-shaped majority refuses), ``"facility"`` (strong kinds, and the share
    rule for phone and id numbers; no name or id rules), ``"column"`` (codebook
    items: strong kinds and the share rule), ``"unknown"`` (columns not in the
    codebook: also the name-shape rule).
    """
    n = info["n"]
    if n == 0:
        return None
    strong = sorted(info["strong"])
    weak = {k: v for k, v in info["weak_positions"].items() if v and (mode != "facility" or k in _NUMBER_KINDS)}
    any_pos = sorted({p for v in weak.values() for p in v})
    kinds = sorted(weak, key=lambda k: (-len(weak[k]), k))
    weak_hit = bool(any_pos) and (mode == "id" or len(any_pos) / n >= min_share)
    if strong:
        pos = {p for k in strong for p in info["positions"][k]}
        if weak_hit:  # name every kind and every row at fault
            return strong + [k for k in kinds if k not in strong], sorted(pos | set(any_pos))
        return strong, sorted(pos)
    if weak_hit:
        return kinds, any_pos
    shaped = info["shaped_positions"]
    if mode == "id" and shaped and info["name_shaped_share"] >= 0.5 and info["distinct"] >= 0.5:
        return ["name"], list(shaped)
    if mode == "unknown" and n >= 10 and info["name_shaped_share"] >= 0.6 and info["distinct"] >= 0.5:
        return ["name"], list(shaped)
    return None


def _kind_text(kinds: Sequence[str]) -> str:
    labels = [KIND_LABELS[k] for k in kinds]
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _missing_texts(item: Any) -> set[str]:
    """A coded or numeric item's missing codes as the gate reads values (``99``, ``-9``)."""
    out = set()
    for code in getattr(item, "missing", {}) or {}:
        try:
            f = float(code)
        except (TypeError, ValueError):
            continue
        out.add(str(int(f)) if f.is_integer() else repr(f))
    return out


def _not_allowed(item: Any, series: pd.Series, positions: Sequence[int]) -> list[int]:
    """Positions whose (number-shaped) value a coded or numeric item does not allow:
    not an option code, or outside the item's min..max."""
    bad = []
    codes = {float(c) for c in item.codes} if item.type in CODED_TYPES else None
    lo = item.min if item.min is not None else -np.inf
    hi = item.max if item.max is not None else np.inf
    values = series.to_numpy(dtype=object)
    for p in positions:
        t = _text(values[p])
        c = _digits(_plain_number(t)).lstrip("+") if t is not None else ""
        if not c.isdigit():
            continue
        v = float(c)
        if codes is not None:
            if v not in codes:
                bad.append(p)
        elif not lo <= v <= hi:
            bad.append(p)
    return bad


def identifier_problems(
    df: pd.DataFrame,
    codebook: Codebook,
    *,
    file: str = "<data>",
    row_numbers: Sequence[int] | None = None,
    min_share: float = 0.5,
    facility_columns: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Direct identifiers in ``df`` as a list of problems (empty when the data pass).

    Each problem is a dict with keys ``file``, ``column``, ``rows`` (1-based
    spreadsheet rows of the offending values -- header = row 1, first record
    = row 2 -- or ``[]`` when the whole column is at fault), ``problem``,
    ``fix``, ``severity`` (always ``"error"``) and ``kind`` (``"identifier"``,
    ``"not_pseudonymised"`` or the detector kinds).  No message contains a
    data value.  The rules and detectors are described in the module
    docstring.  Every column is scanned, whatever its type in the codebook.

    Parameters
    ----------
    df : the data as read from the file (before typing and recoding), one row per record.
    codebook : the instrument's :class:`~veplab.codebook.Codebook`.
    file : file name for the messages.
    row_numbers : the file's row number of each record (as
        :func:`veplab.data.load` knows them); default position + 2.
    min_share : share of non-missing values matching a weak detector above
        which a column is refused (default 0.5).
    facility_columns : columns holding facility (prison) codes, such as the
        study's cluster column (``design: cluster:`` in study.yml): they are
        scanned for phone and id numbers and e-mail addresses, never with the
        id-column or name rules.

    Returns
    -------
    list of dict
        One problem per refused column, ``[]`` when the data pass.

    Raises
    ------
    InputError
        ``df`` is not a DataFrame, ``min_share`` is outside (0, 1], or
        ``row_numbers`` has the wrong length.

    References
    ----------
    Regulation (EU) 2016/679 (GDPR), art. 5(1)(c), and Hundepool et al. (2012), ch. 3;
    the full list is in the References of :mod:`veplab.privacy.identifiers`.

    Examples
    --------
    Synthetic values (an all-zero phone number; a common name):

    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "rid", "items": [
    ...     {"id": "q1", "label": "Q1", "type": "likert", "options": {1: "no", 2: "yes"}}]})
    >>> df = pd.DataFrame({"rid": ["R1", "R2"], "q1": [1, 2],
    ...                    "contact": ["+7 700 000 00 00", "Nurlan Abenov"]})
    >>> [(p["column"], p["rows"], p["kind"]) for p in identifier_problems(df, cb, file="wave1.csv")]
    [('contact', [2, 3], 'phone,name')]
    >>> identifier_problems(df[["rid", "q1"]], cb)
    []
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"identifier_problems: expected a pandas DataFrame, got {type(df).__name__}")
    if not 0.0 < float(min_share) <= 1.0:
        raise InputError(f"min_share must be in (0, 1], got {min_share!r}")
    if row_numbers is not None and len(row_numbers) != len(df):
        raise InputError(f"row_numbers has {len(row_numbers)} entries for {len(df)} rows")
    if isinstance(facility_columns, str):
        facility_columns = (facility_columns,)
    facility = {str(c) for c in facility_columns or ()}
    problems: list[dict[str, Any]] = []

    def add(column: str, rows: list[int], problem: str, fix: str, kind: str) -> None:
        problems.append({"file": file, "column": column, "rows": rows, "problem": problem, "fix": fix,
                         "severity": "error", "kind": kind})

    checked: set[str] = set()
    cols = [str(c) for c in df.columns]
    frame = df.set_axis(cols, axis=1) if list(df.columns) != cols else df
    for col in cols:
        if col in codebook and codebook.item(col).role == "identifier":
            id_item = codebook.item(col)
            checked.add(col)
            series = frame[col]
            present = series.notna() & (series.astype(str).str.strip() != "")
            if not present.any():
                continue
            if not id_item.pseudonymised:
                add(col, [], "column has codebook role 'identifier' (a direct identifier) and is not pseudonymised",
                    "drop it from the export, or replace it with keyed pseudonyms (veplab pseudonymise "
                    "--columns " + col + ") and mark the item 'pseudonymised: true' in the codebook", "identifier")
                continue
            bad = [i for i, (ok, v) in enumerate(zip(present.to_numpy(), series.to_numpy(dtype=object)))
                   if ok and not is_pseudonym(str(v).strip())]
            if bad:
                add(col, _rows(bad, row_numbers),
                    f"column is an identifier marked 'pseudonymised: true' but {len(bad)} of "
                    f"{int(present.sum())} values are not veplab pseudonyms",
                    "pseudonymise the column with the study's key (veplab pseudonymise), or correct the "
                    "codebook if the column was never pseudonymised", "not_pseudonymised")

    # id column and pseudonymised admin ids: pseudonyms or non-identifying codes
    id_like = [codebook.id_column] + [i.id for i in codebook.by_role("admin") if i.pseudonymised]
    for col in dict.fromkeys(id_like):
        if col not in cols or col in checked or col in facility:
            continue
        checked.add(col)
        series = frame[col]
        if looks_like_pseudonym(series):
            continue
        info = identifier_kinds(series)
        verdict = _verdict(info, min_share=min_share, mode="id")
        if verdict is None:
            continue
        kinds, pos = verdict
        add(col, _rows(pos, row_numbers),
            f"id column holds what look like {_kind_text(kinds)} ({len(pos) or info['n']} of {info['n']} values)",
            "replace the ids with keyed pseudonyms (veplab pseudonymise --columns " + col + ") or with "
            "study codes that carry no personal data", ",".join(kinds))

    # every other column, whatever its type: facility columns, codebook items, unknown columns
    for col in cols:
        if col in checked:
            continue
        known = col in codebook
        item = codebook.item(col) if known else None
        series = frame[col]
        typed = item is not None and (item.type in CODED_TYPES or item.type == "numeric")
        info = identifier_kinds(series, ignore=_missing_texts(item) if typed else ())
        mode = "facility" if col in facility else ("column" if known else "unknown")
        verdict = _verdict(info, min_share=min_share, mode=mode)
        if verdict is None and typed and mode == "column":
            # a phone or id number where the codebook expects a code or a bounded number
            number_pos = sorted({p for k, v in info["weak_positions"].items() if k in _NUMBER_KINDS for p in v})
            bad = _not_allowed(item, series, number_pos)
            if bad:
                kinds = sorted({k for k, v in info["weak_positions"].items()
                                if k in _NUMBER_KINDS and set(v) & set(bad)})
                verdict = (kinds, bad)
        if verdict is None:
            continue
        kinds, pos = verdict
        count = f"{len(pos)} of {info['n']} values"
        if mode == "facility":
            where = "facility column (the study's cluster column)"
            fix = ("remove them: a facility column holds facility codes such as KZ-P07 only (correct the cells, "
                   "or check that the export put the right field in this column)")
        elif item is None:  # not known
            where = "column not in the codebook"
            fix = ("remove the column from the export (or replace the identifiers with keyed pseudonyms and "
                   "describe the column in the codebook)")
        elif item.type == "text":
            where = "column described in the codebook as free text"
            fix = ("redact the identifiers from the answers before loading (free text must not hold names, phone "
                   "numbers or id numbers)")
        else:
            what = "option codes" if item.type in CODED_TYPES else ("dates" if item.type == "date" else "numbers")
            where = f"column described in the codebook as {item.type}"
            fix = (f"remove the identifiers from the export: this column holds {what}, never names, phone or id "
                   "numbers (correct the cells, or check that the export put the right field in this column)")
        add(col, _rows(pos, row_numbers),
            f"{where} holds what look like {_kind_text(kinds)} ({count})", fix, ",".join(kinds))
    return problems


def check_identifiers(df: pd.DataFrame, codebook: Codebook, *, file: str = "<data>",
                      row_numbers: Sequence[int] | None = None, min_share: float = 0.5,
                      facility_columns: Sequence[str] = ()) -> None:
    """Raise :class:`IdentifierError` when :func:`identifier_problems` finds any problem.

    Parameters are those of :func:`identifier_problems`.  The exception's
    ``problems`` attribute holds the problems; its message lists them by file,
    column and row, never with a value.

    Raises
    ------
    IdentifierError
        (an :class:`~veplab._validate.InputError`) when any column holds direct
        identifiers.

    References
    ----------
    Regulation (EU) 2016/679 (GDPR), art. 5(1)(c), and Hundepool et al. (2012), ch. 3;
    the full list is in the References of :mod:`veplab.privacy.identifiers`.

    Examples
    --------
    Synthetic all-zero phone numbers:

    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "rid", "items": [
    ...     {"id": "q1", "label": "Q1", "type": "likert", "options": {1: "no", 2: "yes"}}]})
    >>> df = pd.DataFrame({"rid": ["R1", "R2"], "q1": [1, 2],
    ...                    "phone": ["+7 700 000 00 00", "+256 700 000000"]})
    >>> try:
    ...     check_identifiers(df, cb, file="wave1.csv")
    ... except IdentifierError as exc:
    ...     p = exc.problems[0]
    ...     print(p["file"], p["column"], p["rows"], p["problem"])
    wave1.csv phone [2, 3] column not in the codebook holds what look like phone numbers (2 of 2 values)
    >>> check_identifiers(df[["rid", "q1"]], cb) is None
    True
    """
    problems = identifier_problems(df, codebook, file=file, row_numbers=row_numbers, min_share=min_share,
                                   facility_columns=facility_columns)
    if problems:
        raise IdentifierError(problems)
