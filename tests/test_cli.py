"""The veplab command: version, help, keygen, pseudonymise, audit verify, synth/validate on the demo."""

from __future__ import annotations

import json
import os
import stat

import pandas as pd
import pytest
from typer.testing import CliRunner

from veplab import __version__
from veplab.cli import app

runner = CliRunner(env={"COLUMNS": "200"})


def has(text: str, output: str) -> bool:
    """``text`` in ``output`` whatever the terminal width did to line breaks."""
    def flat(x: str) -> str:
        return "".join(ch for ch in x if ch.isalnum())
    return flat(text) in flat(output)


def test_version_and_help():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and __version__ in res.output
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("synth", "validate", "build", "pseudonymise", "keygen", "audit"):
        assert cmd in res.output


def test_keygen_pseudonymise_and_audit(tmp_path):
    keydir = tmp_path / "keys"
    key = keydir / "study.key"
    res = runner.invoke(app, ["keygen", str(key)])
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    data = tmp_path / "export.csv"
    pd.DataFrame({"prisoner_no": ["KZ-000123", "KZ-000456", "KZ-000123"], "q1": [1, 2, 3]}).to_csv(data, index=False)
    study = tmp_path / "study"
    study.mkdir()
    out = tmp_path / "export_pseudo.csv"
    res = runner.invoke(app, ["pseudonymise", str(data), "--key", str(key), "--columns", "prisoner_no",
                              "--out", str(out), "--study", str(study)])
    assert res.exit_code == 0, res.output
    pseud = pd.read_csv(out)
    assert pseud["prisoner_no"].str.fullmatch(r"p_[a-z2-7]{26}").all()
    assert pseud["prisoner_no"][0] == pseud["prisoner_no"][2] != pseud["prisoner_no"][1]
    assert "KZ-000123" not in res.output
    log = study / "audit.log"
    rec = json.loads(log.read_text().splitlines()[-1])
    assert rec["event"] == "pseudonymise" and len(rec["fields"]["key_id"]) >= 8
    assert runner.invoke(app, ["audit", "verify", str(study)]).exit_code == 0
    # tamper with the log: verify fails
    lines = log.read_text().splitlines()
    lines[0] = lines[0].replace('"rows":3', '"rows":4')
    log.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["audit", "verify", str(study)])
    assert res.exit_code == 1 and has("altered", res.output)


def test_pseudonymise_refuses_readable_key(tmp_path):
    key = tmp_path / "k" / "open.key"
    key.parent.mkdir()
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)
    data = tmp_path / "d.csv"
    pd.DataFrame({"id": ["a1"]}).to_csv(data, index=False)
    res = runner.invoke(app, ["pseudonymise", str(data), "--key", str(key), "--columns", "id",
                              "--out", str(tmp_path / "o.csv")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert has("600", res.output)


def test_validate_demo_logs_loads(demo_data, tmp_path):
    res = runner.invoke(app, ["validate", str(demo_data)])
    assert res.exit_code == 0, res.output
    assert has("load cleanly", res.output)
    events = [json.loads(x)["event"] for x in (demo_data / "audit.log").read_text().splitlines()]
    assert events.count("load") >= 5


def test_synth_national_refuses_bad_scale(tmp_path, demo_data):
    res = runner.invoke(app, ["synth", str(demo_data), "--scale", "huge"])
    assert res.exit_code == 1 and has("demo or national", res.output)


def test_unknown_study_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert res.exit_code == 1 and has("study.yml", res.output) and "Traceback" not in res.output


@pytest.mark.parametrize("option, message", [
    ({"unknown": "bogus"}, "unknown: must be one of"), ({"on_error": "ignore"}, "on_error: must be one of"),
    ({"source": "excel"}, "source: must be one of"), ({"encoding": 5}, "encoding: must be text"),
    ({"delimiter": ";;"}, "delimiter: must be one character"), ({"encoding": "klingon"}, "is not known"),
])
def test_bad_source_options_are_study_errors(tmp_path, option, message):
    import yaml

    from veplab.study import StudyError, load_study

    (tmp_path / "surveys").mkdir()
    (tmp_path / "surveys" / "t.yml").write_text("id: t_v1\n")
    study = tmp_path / "research" / "s"
    study.mkdir(parents=True)
    (study / "study.yml").write_text(yaml.safe_dump({"id": "s", "sources": {"a": {"path": "data/a.csv",
                                                                              "codebook": "t", **option}}}))
    with pytest.raises(StudyError, match=message):
        load_study(study)


def test_disclosure_must_be_a_mapping(tmp_path):
    import yaml

    from veplab.study import StudyError, load_study

    (tmp_path / "study.yml").write_text(yaml.safe_dump({"id": "s", "disclosure": 5}))
    with pytest.raises(StudyError, match="disclosure must be a mapping"):
        load_study(tmp_path)


# ------------------------------------------------------------------ audit verify against anchors outside the log


def _rewrite_chain(log, edit) -> None:  # noqa: ANN001
    """Change records, re-hash the whole chain and rewrite audit.head consistently."""
    from veplab.privacy.audit import GENESIS, _canonical, _line_hash

    recs = [json.loads(x) for x in log.read_text().splitlines()]
    edit(recs)
    prev = GENESIS
    for i, rec in enumerate(recs, start=1):
        rec["seq"], rec["prev"] = i, prev
        rec["hash"] = prev = _line_hash(rec)
    log.write_text("".join(_canonical(r) + "\n" for r in recs))
    log.with_name("audit.head").write_text(json.dumps({"count": len(recs), "hash": prev}))


@pytest.fixture
def anchored_study(tmp_path):
    """A project whose study log was anchored in reports/s/manifest.json, then grew (the build line)."""
    from veplab.privacy import AuditLog

    (tmp_path / "surveys").mkdir()
    study = tmp_path / "research" / "s"
    study.mkdir(parents=True)
    (study / "study.yml").write_text("id: s\nsources: {}\n")
    log = AuditLog(study / "audit.log")
    for i in range(3):
        log.append("load", source=f"src{i}", rows=10 + i)
    reports = tmp_path / "reports" / "s"
    reports.mkdir(parents=True)
    (reports / "manifest.json").write_text(json.dumps({"study": "s", "audit_head": log.head()}))
    log.append("build", study="s")
    return study


def test_audit_verify_uses_the_published_manifest(anchored_study):
    res = runner.invoke(app, ["audit", "verify", str(anchored_study)])
    assert res.exit_code == 0, res.output
    assert has("4 entries, chain intact", res.output) and has("reports/s/manifest.json (line 3)", res.output)
    release = anchored_study.parents[1] / "reports" / "s" / "release.json"
    release.write_text(json.dumps({"releases": [], "audit_head": json.loads(
        (anchored_study / "audit.head").read_text())}))
    res = runner.invoke(app, ["audit", "verify", str(anchored_study)])
    assert res.exit_code == 0 and has("release.json (line 4)", res.output), res.output

    def edit(recs):
        recs[0]["fields"]["rows"] = 99

    _rewrite_chain(anchored_study / "audit.log", edit)
    res = runner.invoke(app, ["audit", "verify", str(anchored_study)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert has("line 3: differs from the line the anchor", res.output)
    assert has("does not match the audit head recorded in", res.output)
    assert has("reports/s/manifest.json", res.output) and has("reports/s/release.json", res.output)


def test_audit_verify_with_explicit_anchor(anchored_study, tmp_path):
    elsewhere = tmp_path / "offsite"
    elsewhere.mkdir()
    head = elsewhere / "head.json"
    head.write_text((anchored_study / "audit.head").read_text())     # a bare {count, hash}
    log = anchored_study / "audit.log"
    copy = elsewhere / "audit.log"                                    # the log alone: no study.yml beside it
    copy.write_text(log.read_text())
    (elsewhere / "audit.head").write_text(head.read_text())
    res = runner.invoke(app, ["audit", "verify", str(copy), "--anchor", str(head)])
    assert res.exit_code == 0 and has(f"{head} (line 4)", res.output), res.output
    _rewrite_chain(copy, lambda recs: recs.pop())                     # truncated, head rewritten to match
    assert runner.invoke(app, ["audit", "verify", str(copy)]).exit_code == 0   # invisible without an anchor
    res = runner.invoke(app, ["audit", "verify", str(copy), "--anchor", str(head)])
    assert res.exit_code == 1 and has("lines were removed from the end", res.output)
    assert has(f"does not match the audit head recorded in {head}", res.output)
    head.write_text(json.dumps({"count": "four"}))
    res = runner.invoke(app, ["audit", "verify", str(copy), "--anchor", str(head)])
    assert res.exit_code == 1 and has("needs count and hash", res.output) and "Traceback" not in res.output


def test_audit_verify_without_anchor_says_so(anchored_study):
    (anchored_study.parents[1] / "reports" / "s" / "manifest.json").unlink()
    res = runner.invoke(app, ["audit", "verify", str(anchored_study)])
    assert res.exit_code == 0 and has("no audit head recorded outside the log was found", res.output)
    (anchored_study / "study.yml").write_text("id: s\nsoruces: {}\n")    # the anchors cannot be looked for
    res = runner.invoke(app, ["audit", "verify", str(anchored_study)])
    assert res.exit_code == 1 and has("cannot look for the published anchors", res.output)


# ------------------------------------------------------------------ key continuity


def test_pseudonymise_refuses_a_different_key_unless_declared(tmp_path):
    keys = tmp_path / "keys"
    for name in ("a.key", "b.key"):
        assert runner.invoke(app, ["keygen", str(keys / name)]).exit_code == 0
    data = tmp_path / "export.csv"
    pd.DataFrame({"prisoner_no": ["KZ-000123", "KZ-000456"], "q1": [1, 2]}).to_csv(data, index=False)
    study = tmp_path / "study"
    study.mkdir()
    log = study / "audit.log"

    def run(key, out, *extra):
        return runner.invoke(app, ["pseudonymise", str(data), "--key", str(keys / key), "--columns", "prisoner_no",
                                   "--out", str(tmp_path / out), "--study", str(study), *extra])

    assert run("a.key", "w1.csv").exit_code == 0
    kid_a = json.loads(log.read_text().splitlines()[-1])["fields"]["key_id"]
    assert run("a.key", "w2.csv").exit_code == 0            # same key: fine
    res = run("b.key", "w3.csv")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert has(f"was pseudonymised with key id {kid_a}", res.output) and has("pseudonyms would not match", res.output)
    assert has('--new-key --reason "..."', res.output)
    assert not (tmp_path / "w3.csv").exists() and len(log.read_text().splitlines()) == 2
    res = run("b.key", "w3.csv", "--new-key")
    assert res.exit_code == 1 and has("--new-key needs --reason", res.output)
    res = run("b.key", "w3.csv", "--reason", "lost")
    assert res.exit_code == 1 and has("--reason is only used with --new-key", res.output)
    res = run("b.key", "w3.csv", "--new-key", "--reason", "key a was on a stolen laptop")
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r["event"] for r in recs] == ["pseudonymise", "pseudonymise", "key", "pseudonymise"]
    change = recs[2]["fields"]
    kid_b = recs[3]["fields"]["key_id"]
    assert change == {"old_key_id": kid_a, "new_key_id": kid_b, "reason": "key a was on a stolen laptop",
                      "previous_key_ids": [kid_a]}
    assert (keys / "b.key").read_bytes().hex() not in log.read_text()
    res = run("a.key", "w4.csv")                             # the old key is now the wrong one
    assert res.exit_code == 1 and has(f"with key id {kid_b}; this key has id {kid_a}", res.output)
    assert runner.invoke(app, ["audit", "verify", str(study)]).exit_code == 0
    res = runner.invoke(app, ["pseudonymise", str(data), "--key", str(keys / "b.key"), "--columns", "prisoner_no",
                              "--out", str(tmp_path / "w5.csv"), "--study", str(tmp_path / "typo")])
    assert res.exit_code == 1 and has("no such study folder", res.output)
