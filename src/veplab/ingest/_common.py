"""Shared pieces of the ingest readers: languages, missing-code wording,
option-list shapes, and writing a codebook back out as canonical YAML."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..codebook import LANGUAGES, REASON_LABELS, Codebook, Item, Scale, norm_text

__all__ = [
    "LANGUAGE_NAMES",
    "REASON_LABELS",
    "REASON_CODES",
    "codebook_to_dict",
    "dump_yaml",
    "guess_reason",
    "language_of",
    "norm_text",
    "option_shape",
    "sanitize_id",
]

#: XLSForm language column names veplab writes (``label::English (en)``).
LANGUAGE_NAMES: dict[str, str] = {"en": "English (en)", "fr": "French (fr)", "ar": "Arabic (ar)", "ru": "Russian (ru)"}

_LANG_WORDS = {
    "en": ("english", "anglais", "английский", "الإنجليزية", "الانجليزية", "eng"),
    "fr": ("french", "français", "francais", "французский", "الفرنسية", "fra", "fre"),
    "ar": ("arabic", "arabe", "العربية", "عربي", "арабский", "ara"),
    "ru": ("russian", "russe", "русский", "الروسية", "rus"),
}


#: Preferred codes for missing reasons when a source gives none (the veplab
#: convention of surveys/README.md: 7 not applicable, 8 don't know, 9 refused;
#: 9x when those are taken by options).
REASON_CODES: dict[str, tuple[int, ...]] = {
    "not_applicable": (7, 97),
    "dont_know": (8, 98),
    "refused": (9, 99),
    "not_asked": (96, 996),
    "missing": (95, 995),
}

_REASON_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("dont_know", re.compile(
        r"\b(don'?t know|do not know|dont know|dk|not sure|unknown|ne sai[st]? pas|nsp|"
        r"ne se prononce pas)\b|не знаю|затрудня|لا أعرف|لا اعرف|لا أدري|لا ادري", re.I)),
    ("refused", re.compile(
        r"\b(refus\w*|declined?|no answer|prefer(s|red)? not|does not want|ne souhaite pas|"
        r"sans réponse|pas de réponse)\b|отказ|нет ответа|رفض|يرفض|لا إجابة|بدون إجابة", re.I)),
    ("not_applicable", re.compile(
        r"\b(not applicable|n/?a|inapplicable|sans objet|non applicable|ne s'applique pas)\b|"
        r"не ?применим|не относится|لا ينطبق|غير منطبق", re.I)),
    ("not_asked", re.compile(
        r"\b(not asked|skipped|non posée?)\b|не задавал|لم يُ?طرح|لم يُ?سأل", re.I)),
    ("missing", re.compile(r"\b(missing|manquant|no data|sysmis)\b|нет данных|пропуск|مفقود", re.I)),
]

_AGREE = re.compile(
    r"agree|disagree|d'accord|daccord|désaccord|согла|أوافق|اوافق|موافق|أعارض|معارض", re.I)
_ORDINAL = re.compile(
    r"\b(never|rarely|sometimes|often|always|very|somewhat|a little|not at all|extremely|"
    r"low|medium|moderate|high|none|some|most|all|poor|fair|good|excellent|"
    r"jamais|rarement|parfois|souvent|toujours|faible|moyen|élevé|"
    r"mild|severe|minor|major|less|more)\b|"
    r"никогда|редко|иногда|часто|всегда|низк|средн|высок|"
    r"أبدا|أبدًا|نادرا|نادرًا|أحيانا|أحيانًا|غالبا|غالبًا|دائما|دائمًا|منخفض|متوسط|مرتفع|"
    r"^\s*\d+\s*[-–]\s*\d+|\d+\s*(and over|\+|or more|et plus|и старше|فأكثر)", re.I)
_YES_NO = re.compile(r"^(yes|no|oui|non|да|нет|نعم|لا|true|false|vrai|faux)$", re.I)


def language_of(name: str) -> str | None:
    """The veplab language code named by an XLSForm language suffix.

    Accepts ``English (en)``, ``en``, ``English``, ``Français``, ``العربية``,
    ``Русский`` ...; returns None for a language veplab does not hold.

    >>> language_of("Arabic (ar)"), language_of("French"), language_of("Swahili (sw)")
    ('ar', 'fr', None)
    """
    text = name.strip()
    m = re.search(r"\(([A-Za-z]{2,3})(?:[-_][A-Za-z]+)?\)\s*$", text)
    if m:
        code = m.group(1).lower()
        for lang, words in _LANG_WORDS.items():
            if code == lang or code in words:
                return lang
        return None
    low = text.casefold()
    if low in LANGUAGES:
        return low
    for lang, words in _LANG_WORDS.items():
        if low in words:
            return lang
    return None


def guess_reason(label: str) -> str | None:
    """The missing reason a label describes ("Don't know", "Refus", "Отказ", "لا أعرف" ...), or None."""
    text = unicodedata.normalize("NFC", str(label))
    for reason, rx in _REASON_PATTERNS:
        if rx.search(text):
            return reason
    return None


def option_shape(labels: list[Mapping[str, str]], codes: list[int] | None = None) -> str:
    """Guess the item type an option list has: ``binary`` (two options, yes/no
    or codes 0/1), ``likert`` (agree/disagree wording, up to 11 options),
    ``ordinal`` (frequency, intensity or numeric-band wording) or ``categorical``."""
    texts = [" ".join(str(v) for v in lab.values()) for lab in labels]
    if len(labels) == 2:
        if codes is not None and set(codes) == {0, 1}:
            return "binary"
        words = [str(v).strip() for lab in labels for v in lab.values()]
        if words and all(_YES_NO.match(w) for w in words):
            return "binary"
    if 3 <= len(labels) <= 11 and sum(bool(_AGREE.search(t)) for t in texts) >= len(labels) - 1:
        return "likert"
    if len(labels) >= 3 and sum(bool(_ORDINAL.search(t)) for t in texts) >= len(labels) - 1:
        return "ordinal"
    return "categorical"


def sanitize_id(name: str, prefix: str = "v") -> str:
    """A codebook id (letters, digits, underscores, starting with a letter) made from ``name``."""
    text = re.sub(r"[^A-Za-z0-9_]+", "_", unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode())
    text = re.sub(r"_+", "_", text).strip("_")
    if not text or not text[0].isalpha():
        text = f"{prefix}_{text}" if text else prefix
    return text


# --------------------------------------------------------------------------- canonical codebook


def _labels(value: Mapping[str, str]) -> dict[str, str]:
    return {lang: value[lang] for lang in LANGUAGES if value.get(lang)}


def _item_dict(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "label": _labels(item.label), "type": item.type}
    if item.role != "item":
        out["role"] = item.role
    if item.options:
        out["options"] = {code: _labels(item.options[code]) for code in sorted(item.options)}
    if item.missing:
        out["missing"] = {code: item.missing[code] for code in sorted(item.missing)}
    if item.reverse:
        out["reverse"] = True
    if not item.required:
        out["required"] = False
    if item.key is not None:
        out["key"] = item.key
    for bound in ("min", "max"):
        value = getattr(item, bound)
        if value is not None:
            out[bound] = int(value) if float(value).is_integer() else float(value)
    if item.integer:
        out["integer"] = True
    if item.date_format:
        out["format"] = item.date_format
    if item.pseudonymised:
        out["pseudonymised"] = True
    if item.domain:
        out["domain"] = item.domain
    for k, v in item.extra.items():
        out[k] = _plain(v)
    return out


def _scale_dict(scale: Scale) -> dict[str, Any]:
    out: dict[str, Any] = {"id": scale.id}
    if scale.label:
        out["label"] = _labels(scale.label)
    out["items"] = list(scale.items)
    out["score"] = scale.score
    out["min_items"] = scale.min_items
    if scale.domain:
        out["domain"] = scale.domain
    for k, v in scale.extra.items():
        out[k] = _plain(v)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def codebook_to_dict(cb: Codebook) -> dict[str, Any]:
    """A codebook as the canonical mapping veplab writes (defaults left out,
    languages in the order en, fr, ar, ru, option codes sorted, ``default_language``
    only when it is not English).  Two codebooks
    that mean the same give equal mappings, whatever file they came from."""
    out: dict[str, Any] = {"id": cb.id}
    if cb.version is not None:
        out["version"] = cb.version
    if cb.default_language != "en":
        out["default_language"] = cb.default_language
    out["title"] = _labels(cb.title)
    if cb.description:
        out["description"] = _labels(cb.description)
    out["unit"] = cb.unit
    out["id_column"] = cb.id_column
    for k, v in cb.extra.items():
        out[k] = _plain(v)
    out["items"] = [_item_dict(i) for i in cb.items]
    if cb.scales:
        out["scales"] = [_scale_dict(s) for s in cb.scales]
    return out


class _Flow(dict):
    """A mapping YAML writes on one line (labels, option labels)."""


class _Dumper(yaml.SafeDumper):
    pass


def _flow_repr(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)


_Dumper.add_representer(_Flow, _flow_repr)


def _flowify(value: Any, key: str | None = None) -> Any:
    if isinstance(value, Mapping):
        if key in ("label", "title", "description", "question_label", "choice_label", "constraint_message") or (
            value and all(k in LANGUAGES for k in value) and all(isinstance(v, str) for v in value.values())
        ):
            return _Flow(value)
        if key == "missing" and all(isinstance(v, str) for v in value.values()):
            return _Flow(value)
        return {k: _flowify(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_flowify(v) for v in value]
    return value


def dump_yaml(data: Mapping[str, Any], header: str = "") -> str:
    """YAML text for a codebook mapping: block structure, labels on one line, UTF-8 scripts kept."""
    text = yaml.dump(_flowify(dict(data)), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096,
                     default_flow_style=False)
    if header:
        text = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + text
    return text


class YamlDraft:
    """Mixin for a converted codebook: :meth:`write` saves what ``yaml(source)`` returns."""

    def yaml(self, source: str | None = None) -> str:
        raise NotImplementedError

    def write(self, path: str | Path, source: str | None = None) -> Path:
        """Write the YAML text to ``path`` (UTF-8, parent folders made); return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.yaml(source), encoding="utf-8")
        return path
