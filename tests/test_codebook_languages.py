"""Codebooks without English: ``default_language`` is the language every label has, and the fallback."""

from __future__ import annotations

import pytest

from veplab.codebook import CodebookError, from_dict
from veplab.ingest._common import codebook_to_dict


def _cb(**top):
    raw = {"id": "fr_v1", "title": {"fr": "Enquête"}, "id_column": "rid", "items": [
        {"id": "rid", "label": {"fr": "Numéro"}, "type": "text", "role": "admin"},
        {"id": "q1", "label": {"ar": "سؤال", "fr": "Question"}, "type": "likert",
         "options": {1: {"fr": "Non"}, 2: {"fr": "Plutôt non"}, 3: {"fr": "Oui", "en": "Yes"}}}],
           "scales": [{"id": "s", "items": ["q1"], "label": {"fr": "Échelle"}}], **top}
    return from_dict(raw)


def test_default_language_replaces_english():
    cb = _cb(default_language="fr")
    assert cb.default_language == "fr" and cb.text("en") == "Enquête" and cb.text("ar") == "Enquête"
    q1 = cb.item("q1")
    assert list(q1.label) == ["fr", "ar"]  # the default language first: the fallback
    assert q1.text("en") == "Question" and q1.text("ar") == "سؤال" and q1.text("ru") == "Question"
    assert q1.option_text(3, "en") == "Yes" and q1.option_text(1, "en") == "Non"
    assert cb.scale("s").text("ru") == "Échelle"
    assert codebook_to_dict(cb)["default_language"] == "fr"
    assert codebook_to_dict(from_dict(codebook_to_dict(cb))) == codebook_to_dict(cb)


def test_without_default_language_english_is_required():
    with pytest.raises(CodebookError) as info:
        _cb()
    assert "title has no English ('en') text; English is required" in str(info.value)
    with pytest.raises(CodebookError, match="default_language 'sw' is not one of en, fr, ar, ru"):
        _cb(default_language="sw")
    with pytest.raises(CodebookError, match=r"label has no Arabic \('ar'\) text; the codebook's default_language"):
        _cb(default_language="ar")
