"""Keyed pseudonyms and key handling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat

import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.privacy import (
    KeyFileError,
    generate_key,
    is_pseudonym,
    key_id,
    looks_like_pseudonym,
    normalise_id,
    pseudonym,
    pseudonymise,
    pseudonymise_file,
    read_key,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


@pytest.fixture
def keydir(tmp_path_factory):
    """A folder outside any project tree (pytest's tmp folder under /tmp)."""
    return tmp_path_factory.mktemp("keys")


def test_format_and_reference_value():
    p = pseudonym("KZ-00012", KEY_A)
    # independent computation of the documented formula
    digest = hmac.new(KEY_A, b"veplab-pseudonym-v1|" + b"kz-00012", hashlib.sha256).digest()
    expected = "p_" + base64.b32encode(digest[:16]).decode().rstrip("=").lower()
    assert p == expected
    assert len(p) == 28 and is_pseudonym(p)
    assert pseudonym("KZ-00012", KEY_A, prefix="kz_").startswith("kz_")
    assert pseudonym(None, KEY_A) is None and pseudonym("  ", KEY_A) is None


def test_normalisation_links_waves():
    wave1 = pd.DataFrame({"pid": ["900101300126", " 900101 300126", "A-12"], "x": [1, 2, 3]})
    wave2 = pd.DataFrame({"pid": ["a-12", "900101300126"]})
    p1 = pseudonymise(wave1, ["pid"], KEY_A)
    p2 = pseudonymise(wave2, "pid", KEY_A)
    assert p1["pid"][0] == p1["pid"][1]
    assert p2["pid"][0] == p1["pid"][2] and p2["pid"][1] == p1["pid"][0]
    assert p1["x"].tolist() == [1, 2, 3]  # other columns untouched
    assert wave1["pid"][0] == "900101300126"  # input not modified
    assert normalise_id(12.0) == "12" and normalise_id("ＫＺ－１") == "kz-1"
    assert normalise_id("1-23") != normalise_id("12-3")


def test_different_keys_differ_and_missing_stays_missing():
    df = pd.DataFrame({"pid": [f"P{i}" for i in range(200)] + [None]})
    a = pseudonymise(df, ["pid"], KEY_A)["pid"]
    b = pseudonymise(df, ["pid"], KEY_B)["pid"]
    assert a.iloc[:200].nunique() == 200
    assert not (a.iloc[:200] == b.iloc[:200]).any()
    assert a.isna().iloc[200] and b.isna().iloc[200]
    assert looks_like_pseudonym(a) and not looks_like_pseudonym(df["pid"])
    assert not looks_like_pseudonym([None, None])


def test_pseudonymise_refuses_bad_input():
    df = pd.DataFrame({"pid": ["a", "b"]})
    with pytest.raises(InputError, match="not in the data"):
        pseudonymise(df, ["nope"], KEY_A)
    with pytest.raises(InputError, match="at least 32 bytes"):
        pseudonymise(df, ["pid"], b"short")
    with pytest.raises(InputError, match="already holds veplab pseudonyms"):
        pseudonymise(pseudonymise(df, ["pid"], KEY_A), ["pid"], KEY_A)
    with pytest.raises(InputError, match="prefix"):
        pseudonymise(df, ["pid"], KEY_A, prefix="P-")
    with pytest.warns(UserWarning, match="leading zeros"):
        pseudonymise(pd.DataFrame({"pid": [12, 13]}), ["pid"], KEY_A)


def test_generate_and_read_key(keydir):
    path = keydir / "study.key"
    kid = generate_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key(path)
    assert len(key) == 32 and key_id(key) == kid and len(kid) == 16
    assert kid == hashlib.sha256(b"veplab-key-id-v1|" + key).hexdigest()[:16]
    with pytest.raises(KeyFileError, match="already exists"):
        generate_key(path)
    assert key_id(KEY_A) != key_id(KEY_B)


def test_key_with_mode_0644_refused(keydir):
    path = keydir / "open.key"
    generate_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="0644") as err:
        read_key(path)
    assert "chmod 600" in str(err.value)
    os.chmod(path, 0o640)
    with pytest.raises(KeyFileError):
        read_key(path)


def test_key_inside_project_tree_refused(tmp_path):
    project = tmp_path / "proj"
    (project / "research").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "veplab"\n')
    key = project / "research" / "k.key"
    key.write_bytes(bytes(32))
    os.chmod(key, 0o600)
    with pytest.raises(KeyFileError, match="inside the project tree"):
        read_key(key)
    with pytest.raises(KeyFileError, match="inside the project tree"):
        generate_key(project / "other.key")
    # a .git folder marks a project too
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "k.key").write_bytes(bytes(32))
    os.chmod(repo / "k.key", 0o600)
    with pytest.raises(KeyFileError, match="inside the project tree"):
        read_key(repo / "k.key")
    # and an explicit project_root
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "k.key").write_bytes(bytes(32))
    os.chmod(outside / "k.key", 0o600)
    assert read_key(outside / "k.key") == bytes(32)
    with pytest.raises(KeyFileError):
        read_key(outside / "k.key", project_root=tmp_path)


def test_key_wrong_length_or_missing(keydir):
    path = keydir / "short.key"
    path.write_bytes(b"x" * 16)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="16 bytes"):
        read_key(path)
    with pytest.raises(KeyFileError, match="not found"):
        read_key(keydir / "none.key")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_pseudonymise_file_roundtrip(keydir, tmp_path, suffix):
    key_path = keydir / f"k{suffix}.key"
    generate_key(key_path)
    src = tmp_path / f"wave{suffix}"
    df = pd.DataFrame({"iin": ["050101500123", "900101300126", None], "q1": [1, 2, 3]})
    if suffix == ".csv":
        df.to_csv(src, index=False)
    elif suffix == ".xlsx":
        df.to_excel(src, index=False)
    else:
        df.to_parquet(src, index=False)
    out = tmp_path / f"wave_p{suffix}"
    summary = pseudonymise_file(src, out, key_path, ["iin"])
    assert summary["rows"] == 3 and summary["key_id"] == key_id(read_key(key_path))
    assert summary["distinct"] == {"iin": 2} and summary["missing"] == {"iin": 1}
    back = (pd.read_csv(out, dtype={"iin": str}) if suffix == ".csv" else
            pd.read_excel(out) if suffix == ".xlsx" else pd.read_parquet(out))
    key = read_key(key_path)
    assert back["iin"][0] == pseudonym("050101500123", key)  # leading zero kept
    assert back["iin"].isna()[2]
    assert back["q1"].tolist() == [1, 2, 3]
    assert "050101500123" not in str(summary)
    with pytest.raises(InputError, match="already exists"):
        pseudonymise_file(src, out, key_path, ["iin"])


def test_pseudonymise_file_refuses_overwriting_input(keydir, tmp_path):
    key_path = keydir / "k.key"
    generate_key(key_path)
    src = tmp_path / "w.csv"
    pd.DataFrame({"id": ["a"]}).to_csv(src, index=False)
    with pytest.raises(InputError, match="is the input file"):
        pseudonymise_file(src, src, key_path, ["id"], overwrite=True)
    with pytest.raises(InputError, match="same format"):
        pseudonymise_file(src, tmp_path / "w.parquet", key_path, ["id"])
    with pytest.raises(InputError, match="not in the file"):
        pseudonymise_file(src, tmp_path / "o.csv", key_path, ["nope"])
