"""A codebook draft from an SPSS ``.sav`` file's dictionary.

Field teams often hold a survey as an SPSS file whose variable labels, value
labels and user-missing definitions are the only codebook there is.
:func:`from_sav` turns that dictionary (read with pyreadstat, no data) into a
veplab codebook draft that loads with :func:`veplab.codebook.load`, and lists
what a person must check:

* **types**: value labels with up to 11 codes worded agree/disagree ->
  ``likert``; two codes 0/1 or yes/no -> ``binary``; SPSS measure
  "ordinal" or frequency/intensity/band wording -> ``ordinal``; other
  labelled variables -> ``categorical``; numeric variables without value
  labels (or with measure "scale") -> ``numeric`` (``integer`` when the
  print format has no decimals); date formats -> ``date``; strings -> ``text``;
* **missing codes**: SPSS user-missing values (discrete, or short integer
  ranges) -> ``missing`` with the reason read from the value label ("don't
  know", "refused", "ne sait pas", "отказ", "لا أعرف", "not applicable"...;
  ``missing`` when the label says nothing);
* **labels**: the variable label becomes the English label (other languages
  are left for the translators; labels written in Arabic or Cyrillic script
  are also put under ``ar`` / ``ru`` and flagged for translation);
* **roles**: ``item`` by default; id-looking variables (``id``, ``case_no``,
  ``..._code``) get role ``admin`` and a warning to pseudonymise them; name,
  phone, address, birth-date and national-id variables get role
  ``identifier`` (``veplab.data.load`` refuses them); demographics (age, sex,
  nationality, prison...) get ``quasi_identifier``.  Each guess is listed.

>>> draft = from_sav("survey.sav")                     # doctest: +SKIP
>>> print(draft.yaml())                                # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

from .. import codebook as _cb
from ..codebook import Codebook
from ._common import YamlDraft, codebook_to_dict, dump_yaml, guess_reason, option_shape, sanitize_id

__all__ = ["SavDraft", "from_sav"]

_DATE_FORMATS = re.compile(r"^(DATE|ADATE|EDATE|SDATE|JDATE|DATETIME|YMDHMS|MOYR|QYR|WKYR|DTIME)", re.I)
_TIME_FORMATS = re.compile(r"^(TIME|MTIME)", re.I)
_IDENTIFIER_NAME = re.compile(
    r"(^|_)(name|names|surname|first_?name|last_?name|full_?name|phone|tel|mobile|address|email|e_?mail|"
    r"passport|nin|national_?id|id_?card|dob|birth_?date|date_?of_?birth|birthday)($|_)", re.I)
_IDENTIFIER_LABEL = re.compile(
    r"\b(name|surname|phone|telephone|address|e-?mail|passport|national id|identity card|date of birth|"
    r"nom|prénom|téléphone|adresse|date de naissance|carte d'identité)\b|"
    r"имя|фамилия|телефон|адрес|паспорт|дата рождения|الاسم|اسم|الهاتف|هاتف|العنوان|جواز|تاريخ الميلاد", re.I)
_ID_NAME = re.compile(r"(^id$|^id_|_id$|(^|_)(code|no|nr|num|number|case|caseid|serial|record|key)$)", re.I)
_ID_LABEL = re.compile(r"\b(id|identifier|identifiant|code|case number|record number|numéro)\b|номер|код|رقم|رمز",
                       re.I)
_QUASI_NAME = re.compile(
    r"^(age|age_?(band|group|cat)|sex|gender|nationality|citizenship|country|region|district|province|prison|"
    r"prison_?(id|type)|facility|ethnicity|ethnic_?group|religion|education|marital|marital_?status|"
    r"sentence|sentence_?(band|length)|offence|offense|offence_?category)$", re.I)


@dataclasses.dataclass(frozen=True)
class SavDraft(YamlDraft):
    """A codebook draft: ``data`` (the mapping :meth:`yaml` writes), the
    validated ``codebook`` and ``warnings`` (one per thing to check)."""

    data: Mapping[str, Any]
    codebook: Codebook
    warnings: tuple[str, ...]

    def yaml(self, source: str | None = None) -> str:
        header = ("veplab codebook DRAFT from the SPSS file " + (Path(source).name if source else "")).rstrip()
        header += "\nCheck every item: types, missing codes and roles were guessed; add fr/ar/ru labels."
        if self.warnings:
            header += f"\n{len(self.warnings)} note(s):\n" + "\n".join(f"- {w}" for w in self.warnings)
        return dump_yaml(self.data, header=header)


def _script_langs(text: str) -> set[str]:
    langs = set()
    if re.search(r"[\u0600-\u06FF]", text):
        langs.add("ar")
    if re.search(r"[\u0400-\u04FF]", text):
        langs.add("ru")
    return langs


def _label(text: str | None, fallback: str, notes: set[str]) -> dict[str, str]:
    text = (text or "").strip()
    if not text:
        return {"en": fallback}
    out = {"en": text}
    for lang in _script_langs(text):
        out[lang] = text
        notes.add(lang)
    return out


def _is_int(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and \
        float(value).is_integer()


def from_sav(path: str | Path, *, codebook_id: str | None = None, unit: str = "respondent",
             id_column: str | None = None) -> SavDraft:
    """Draft a veplab codebook from an SPSS file's variable and value labels (see the module docstring).

    ``codebook_id`` defaults to the file name; ``id_column`` to the first
    id-looking variable (else the first variable).  Raises ``ValueError``
    when the file cannot be read as SPSS.

    Only the dictionary is read (no data): variable labels become English
    labels, value labels options, user-missing values missing codes with
    their reason, and types and roles are guessed from the labels, formats and
    names; every guess a person must check is in ``warnings``.

    Parameters
    ----------
    path : str or Path
        The ``.sav`` (or ``.zsav``) file.
    codebook_id : str, optional
        The draft's id.
    unit : str
        What one record is (``respondent``, ``assessment``...).
    id_column : str, optional
        The variable holding the (pseudonymous) record id.

    Returns
    -------
    SavDraft
        ``codebook`` (validated), ``data``, ``warnings`` and ``yaml()``.

    References
    ----------
    IBM SPSS Statistics system files (``.sav``) read with ReadStat through
    pyreadstat (``read_sav(metadataonly=True)``), https://github.com/Roche/pyreadstat.
    IBM Corp. (2022), *IBM SPSS Statistics 29 Command Syntax Reference*, ``MISSING
    VALUES`` and ``VALUE LABELS`` (user-missing values and ranges).
    docs/DESIGN.md, "Codebook (instrument) format".

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> import pyreadstat
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "survey.sav"
    >>> pyreadstat.write_sav(
    ...     pd.DataFrame({"case_id": [1.0, 2.0], "q1": [1.0, 9.0], "age": [34.0, 51.0]}), str(path),
    ...     column_labels=["Case number", "I feel safe in this prison", "Age in years"],
    ...     variable_value_labels={"q1": {1.0: "Strongly disagree", 2.0: "Disagree", 3.0: "Agree",
    ...                                   4.0: "Strongly agree", 9.0: "Refused"}},
    ...     missing_ranges={"q1": [9.0]})
    >>> draft = from_sav(path)
    >>> draft.codebook.id_column
    'case_id'
    >>> [(i.id, i.type, i.role, dict(i.missing)) for i in draft.codebook.items]
    [('case_id', 'numeric', 'admin', {}), ('q1', 'likert', 'item', {9: 'refused'}), ('age', 'numeric', 'quasi_identifier', {})]
    >>> for note in draft.warnings:
    ...     print(note)
    variable 'age': role quasi_identifier (demographics); check
    variable 'case_id' looks like an id: role admin; pseudonymise it (veplab pseudonymise) and set pseudonymised: true
    >>> folder.cleanup()
    """
    import pyreadstat

    path = Path(path)
    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True, user_missing=True)
    except Exception as exc:  # pyreadstat raises ReadstatError / PyreadstatError
        raise ValueError(f"{path}: cannot be read as an SPSS .sav file ({exc}); export it again from SPSS") from None
    warns: list[str] = []
    scripts: set[str] = set()
    labels: dict[str, str | None] = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
    value_labels: dict[str, dict[Any, str]] = meta.variable_value_labels or {}
    ranges: dict[str, list[dict[str, Any]]] = getattr(meta, "missing_ranges", None) or {}
    formats: dict[str, str | None] = meta.original_variable_types or {}
    kinds: dict[str, str] = meta.readstat_variable_types or {}
    measures: dict[str, str] = getattr(meta, "variable_measure", None) or {}
    items: list[dict[str, Any]] = []
    roles: dict[str, str] = {}
    for name in meta.column_names:
        item_id = sanitize_id(name)
        if item_id != name:
            warns.append(f"variable {name!r}: named {item_id!r} in the codebook (ids hold letters, digits and "
                         f"underscores); rename the variable in the export to match")
        var_label = labels.get(name)
        item: dict[str, Any] = {"id": item_id, "label": _label(var_label, name, scripts)}
        fmt = (formats.get(name) or "").upper()
        vlabels = {k: v for k, v in (value_labels.get(name) or {}).items()}
        # user-missing values
        missing: dict[int, str] = {}
        for r in ranges.get(name, []):
            lo, hi = r.get("lo"), r.get("hi")
            if _is_int(lo) and _is_int(hi) and 0 <= hi - lo <= 20:
                codes = [int(c) for c in range(int(lo), int(hi) + 1)]
                if hi > lo:
                    labelled = [c for c in codes if c in vlabels or float(c) in vlabels]
                    codes = labelled or codes
                for code in codes:
                    text = vlabels.get(code, vlabels.get(float(code)))
                    reason = guess_reason(text) if text else None
                    if reason is None:
                        reason = "missing"
                        warns.append(f"variable {name!r}: user-missing code {code}"
                                     + (f" ({text!r})" if text else "") + " has reason 'missing'; choose "
                                     "dont_know, refused, not_applicable or not_asked if one fits")
                    missing[code] = reason
            elif lo is not None:
                warns.append(f"variable {name!r}: user-missing {'range' if lo != hi else 'value'} {lo!r}..{hi!r} "
                             "is not carried over (missing codes are whole numbers; ranges up to 20 codes)")
        kind = kinds.get(name, "double")
        if kind == "string":
            item["type"] = "text"
            if vlabels:
                warns.append(f"variable {name!r}: value labels of a string variable are not carried over")
            missing = {}
        elif _DATE_FORMATS.match(fmt) and not fmt.startswith("DTIME"):
            item["type"] = "date"
        elif _TIME_FORMATS.match(fmt) or fmt.startswith("DTIME"):
            item["type"] = "numeric"
            warns.append(f"variable {name!r}: SPSS time format {fmt} read as numeric seconds")
        else:
            opts = {k: v for k, v in vlabels.items() if not (_is_int(k) and int(k) in missing)}
            measure = measures.get(name, "unknown")
            if opts and all(_is_int(k) for k in opts) and measure != "scale":
                codes = sorted(int(k) for k in opts)
                option_labels = {c: _label(opts.get(c, opts.get(float(c))), str(c), scripts) for c in codes}
                shape = option_shape(list(option_labels.values()), codes)
                if shape == "categorical" and measure == "ordinal":
                    shape = "ordinal"
                if shape == "binary" and len(codes) != 2:
                    shape = "categorical"
                if shape == "likert" and len(codes) < 2:
                    shape = "categorical"
                item["type"] = shape
                item["options"] = option_labels
                if len(codes) == 1:
                    item["type"] = "categorical"
                    warns.append(f"variable {name!r}: only one labelled code; check the type")
            else:
                item["type"] = "numeric"
                if opts and not all(_is_int(k) for k in opts):
                    warns.append(f"variable {name!r}: value labels on non-integer values are not carried over")
                elif opts:
                    warns.append(f"variable {name!r}: measure 'scale' with value labels {sorted(opts)[:5]} read as "
                                 "numeric; make it ordinal or categorical if the codes are categories")
                if re.fullmatch(r"F\d+(\.0)?|N\d+|Z\d+(\.0)?", fmt):
                    item["integer"] = True
        if missing and item["type"] not in ("text", "date"):
            item["missing"] = dict(sorted(missing.items()))
        # roles
        if _IDENTIFIER_NAME.search(name) or _IDENTIFIER_LABEL.search(var_label or ""):
            item["role"] = "identifier"
            warns.append(f"variable {name!r} looks like a direct identifier (name, phone, address, birth date, "
                         "national id): role identifier; veplab.data.load refuses it until it is removed or "
                         "pseudonymised")
        elif _ID_NAME.search(name) or (_ID_LABEL.search(var_label or "") and item["type"] in ("text", "numeric")):
            item["role"] = "admin"
            roles[item_id] = "id"
        elif _QUASI_NAME.match(name):
            item["role"] = "quasi_identifier"
            warns.append(f"variable {name!r}: role quasi_identifier (demographics); check")
        items.append(item)
    ids = [i["id"] for i in items]
    if id_column is None:
        id_column = next((i for i in ids if roles.get(i) == "id"), None)
        if id_column is None:
            id_column = ids[0] if ids else "id"
            warns.append(f"no id-looking variable; {id_column!r} taken as the id column -- check, and pass "
                         "id_column= (or --id-column)")
    elif id_column not in ids:
        raise ValueError(f"{path}: id_column {id_column!r} is not a variable of the file; variables: {ids[:20]}")
    for item in items:
        if roles.get(item["id"]) == "id" or item["id"] == id_column:
            if item.get("role", "item") not in ("admin", "identifier"):
                item["role"] = "admin"
            if item.get("role") == "admin":
                warns.append(f"variable {item['id']!r} looks like an id: role admin; pseudonymise it (veplab "
                             "pseudonymise) and set pseudonymised: true")
    if scripts:
        langs = " and ".join({"ar": "Arabic", "ru": "Cyrillic"}[s] for s in sorted(scripts))
        warns.append(f"some labels are written in {langs} script: they are under en: (English is required) and "
                     "under their own language; translate the en: labels")
    title = (getattr(meta, "file_label", None) or "").strip() or path.stem
    data: dict[str, Any] = {
        "id": sanitize_id(codebook_id or path.stem, prefix="sav"),
        "title": {"en": title},
        "unit": unit,
        "id_column": id_column,
        "items": items,
    }
    cb = _cb.from_dict(data, file=str(path))
    return SavDraft(data=codebook_to_dict(cb), codebook=cb, warnings=tuple(warns))
