"""study.yml safety: plain study ids, empty files, misspelt keys, timeout -- as `veplab validate` shows them."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from veplab.cli import app
from veplab.study import STUDY_KEYS, StudyError, check_study_id, load_study

runner = CliRunner(env={"COLUMNS": "200"})


def flat(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def has(text: str, output: str) -> bool:
    """``text`` in ``output`` whatever the terminal width did to line breaks."""
    return flat(text) in flat(output)


def _write(folder, text: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yml").write_text(text, encoding="utf-8")
    return folder


def _validate(folder):
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    return res.output


@pytest.mark.parametrize("text, message", [
    ("", "study.yml is empty: a study needs at least sources:"),
    ("# only a comment\n", "is empty: a study needs at least sources:"),
    ("{}\n", "is empty: a study needs at least sources:"),
    ("- id: s\n", "is not a mapping"),
    ("just text\n", "is not a mapping"),
    ("id: s\nsoruces: {}\n", "unknown key 'soruces' in study.yml; did you mean 'sources'?"),
    ("id: s\nnotebook: []\n", "unknown key 'notebook' in study.yml; did you mean 'notebooks'?"),
    ("id: s\nxyzzy: 1\n", "unknown key 'xyzzy' in study.yml; valid keys are id, title"),
    ("id: s\ndisclosure: {treshold: 10}\n", "unknown key 'treshold' in disclosure: of study.yml; did you mean "
                                            "'threshold'?"),
    ("id: ../other\n", "id '../other' contains a path separator"),
    ("id: a..b\n", "id 'a..b' contains '..'"),
    ("id: .hidden\n", "id '.hidden' starts with '.'"),
    ("id: ''\n", "id '' is empty"),
    ("id:\n", "id 'None' is empty"),
    ("id: my study\n", "id 'my study' contains characters other than letters"),
    (f"id: {'x' * 65}\n", "is 65 characters long; at most 64"),
    ("id: s\ntimeout: 0\n", "timeout must be a positive whole number of seconds"),
    ("id: s\ntimeout: 1.5\n", "timeout must be a positive whole number of seconds"),
    ("id: s\ntimeout: yes\n", "timeout must be a positive whole number of seconds"),
])
def test_study_yml_errors_through_validate(tmp_path, text, message):
    folder = _write(tmp_path / "s", text)
    with pytest.raises(StudyError) as info:
        load_study(folder)
    assert message in str(info.value)
    assert has(message, _validate(folder))


def test_folder_name_used_as_id_must_be_plain(tmp_path):
    folder = _write(tmp_path / "my study", "sources: {}\n")
    with pytest.raises(StudyError, match="no id: and the folder name 'my study'"):
        load_study(folder)
    assert load_study(_write(tmp_path / "ok", "sources: {}\n")).id == "ok"


def test_valid_keys_and_timeout(tmp_path):
    cfg = {"id": "kz_prisons-2026.v2", "title": "T", "description": "D", "languages": ["en"], "seed": 1,
           "disclosure": {"threshold": 10}, "synth": {}, "sources": {}, "parameters": {}, "inputs": [],
           "notebooks": [], "brief": {}, "timeout": 600}
    assert set(cfg) <= set(STUDY_KEYS)
    study = load_study(_write(tmp_path / "s", yaml.safe_dump(cfg)))
    assert study.id == "kz_prisons-2026.v2" and study.timeout == 600
    assert load_study(_write(tmp_path / "t", "id: 2026\n")).id == "2026"
    assert load_study(_write(tmp_path / "u", "id: u\n")).timeout is None


_PLAIN_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
_PLAIN = st.from_regex(_PLAIN_RE, fullmatch=True).filter(lambda s: ".." not in s)


@settings(max_examples=200, deadline=None)
@given(_PLAIN)
def test_plain_ids_are_accepted(name):
    assert check_study_id(name) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_accepted_ids_are_safe_folder_names(name):
    if check_study_id(name) is None:
        assert 1 <= len(name) <= 64
        assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")
        assert name.isascii() and all(ch.isalnum() or ch in "-_." for ch in name)
    else:
        assert not (_PLAIN_RE.fullmatch(name) and ".." not in name)

