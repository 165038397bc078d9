"""Hash-chained audit log: edits, insertions, removals and reordering are detected."""

from __future__ import annotations

import json
import multiprocessing as mp
import re
from pathlib import Path

import pytest

from veplab._validate import InputError
from veplab.privacy import GENESIS, AuditError, AuditLog, file_sha256, verify_audit_log


@pytest.fixture
def log(tmp_path, monkeypatch):
    monkeypatch.setenv("VEPLAB_USER", "amina")
    data = tmp_path / "wave1.csv"
    data.write_text("a,b\n1,2\n")
    lg = AuditLog(tmp_path / "research" / "demo" / "audit.log")
    lg.append("load", inputs={"data/wave1.csv": file_sha256(data)}, rules=["identifier gate", "codebook v1"])
    lg.append("pseudonymise", key_id="3f2a9c0d41b7e6a5", columns=["prison_number"], rows=412)
    lg.append("build", study="demo", outputs=[Path("reports/demo/index.html")], threshold=10)
    lg.append("release", manifest_sha256="ab" * 32)
    return lg


def lines(lg: AuditLog) -> list[str]:
    return lg.path.read_text(encoding="utf-8").splitlines()


def write(lg: AuditLog, new: list[str]) -> None:
    lg.path.write_text("\n".join(new) + "\n", encoding="utf-8")


def test_records_and_intact_log(log):
    recs = [json.loads(x) for x in lines(log)]
    assert [r["seq"] for r in recs] == [1, 2, 3, 4]
    assert [r["event"] for r in recs] == ["load", "pseudonymise", "build", "release"]
    assert recs[0]["prev"] == GENESIS and all(recs[i]["prev"] == recs[i - 1]["hash"] for i in range(1, 4))
    assert all(r["user"] == "amina" for r in recs)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", recs[0]["time"])
    assert recs[0]["fields"]["inputs"]["data/wave1.csv"] == recs[0]["fields"]["inputs"]["data/wave1.csv"].lower()
    assert recs[2]["fields"]["outputs"] == ["reports/demo/index.html"]
    assert verify_audit_log(log.path) == [] and log.verify() == []
    head = json.loads(log.head_path.read_text())
    assert head == log.head() == {"count": 4, "hash": recs[-1]["hash"]}
    assert log.head_path.name == "audit.head"


def test_edited_line_detected(log):
    ls = lines(log)
    ls[1] = ls[1].replace('"rows":412', '"rows":413')
    write(log, ls)
    problems = log.verify()
    assert any("line 2" in p and "edited" in p for p in problems)


def test_edited_line_with_recomputed_hash_breaks_the_chain(log):
    from veplab.privacy.audit import _canonical, _line_hash

    ls = lines(log)
    rec = json.loads(ls[1])
    rec["fields"]["rows"] = 1
    rec["hash"] = _line_hash(rec)
    ls[1] = _canonical(rec)
    write(log, ls)
    problems = log.verify()
    assert any(p.startswith("line 3") and "link" in p for p in problems)


def test_removed_line_detected(log):
    ls = lines(log)
    del ls[1]
    write(log, ls)
    problems = log.verify()
    assert any("line 2" in p and ("link" in p or "sequence" in p) for p in problems)


def test_reordered_lines_detected(log):
    ls = lines(log)
    ls[1], ls[2] = ls[2], ls[1]
    write(log, ls)
    problems = log.verify()
    assert any("line 2" in p for p in problems) and any("line 3" in p for p in problems)


def test_inserted_line_detected(log):
    ls = lines(log)
    fake = json.loads(ls[0])
    fake["event"] = "access"
    ls.insert(1, json.dumps(fake, sort_keys=True, separators=(",", ":")))
    write(log, ls)
    assert log.verify()


def test_removed_last_line_detected_by_head_and_anchor(log):
    anchor = log.head()
    ls = lines(log)
    write(log, ls[:-1])
    problems = log.verify()
    assert any("removed from the end" in p for p in problems)
    # someone who also rewrites audit.head is caught only by an anchor kept elsewhere
    log.head_path.write_text(json.dumps({"count": 3, "hash": json.loads(ls[2])["hash"]}))
    assert log.verify() == []
    problems = log.verify(anchor=anchor)
    assert any("removed from the end" in p for p in problems)
    assert verify_audit_log(log.path, anchor=(anchor["count"], anchor["hash"]))


def test_missing_head_reported(log):
    log.head_path.unlink()
    assert any("audit.head is missing" in p for p in log.verify())


def test_damaged_last_line_refuses_append(log):
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write('{"seq": 5, "broken\n')
    with pytest.raises(AuditError, match="damaged"):
        log.append("note", text="x")
    assert any("line 5" in p for p in log.verify())


def test_bad_event_and_fields(log):
    with pytest.raises(InputError, match="event"):
        log.append("lunch")
    with pytest.raises(AuditError, match="cannot be written"):
        log.append("note", obj=object())
    with pytest.raises(AuditError, match="finite"):
        log.append("note", x=float("nan"))
    assert log.verify() == []


def _append_many(path: str, n: int) -> None:
    lg = AuditLog(path)
    for i in range(n):
        lg.append("access", i=i)


def test_concurrent_appends_keep_the_chain(tmp_path):
    path = str(tmp_path / "audit.log")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(path, 15)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert len(Path(path).read_text().splitlines()) == 45
    assert verify_audit_log(path) == []


# ------------------------------------------------------------------ anchors kept outside the log


def rewrite_chain(lg: AuditLog, edit) -> None:  # noqa: ANN001 - edit(records) changes them in place
    """What a fully privileged editor does: change records, re-hash the whole chain, rewrite audit.head."""
    from veplab.privacy.audit import _canonical, _line_hash

    recs = [json.loads(x) for x in lines(lg)]
    edit(recs)
    prev = GENESIS
    for i, rec in enumerate(recs, start=1):
        rec["seq"], rec["prev"] = i, prev
        rec["hash"] = prev = _line_hash(rec)
    write(lg, [_canonical(r) for r in recs])
    lg.head_path.write_text(json.dumps({"count": len(recs), "hash": prev}))


def test_rewritten_chain_with_consistent_head_found_only_by_an_anchor(log):
    anchor = log.head()                      # recorded in the manifest before the build line
    log.append("build", study="demo")        # the log legitimately grows after the anchor
    assert log.verify(anchor=anchor) == [] and verify_audit_log(log.path, anchors={"m.json": anchor}) == []

    def edit(recs):
        recs[1]["fields"]["rows"] = 1

    rewrite_chain(log, edit)
    assert log.verify() == []                # the chain and audit.head agree: invisible without an anchor
    problems = verify_audit_log(log.path, anchors={"reports/demo/manifest.json": anchor})
    assert problems == ["line 4: differs from the line the anchor reports/demo/manifest.json recorded "
                        "(the log was rewritten)"]


def test_truncated_and_rewritten_chain_found_by_anchor(log):
    anchor = log.head()
    rewrite_chain(log, lambda recs: recs.pop())
    problems = verify_audit_log(log.path, anchors={"release.json": anchor})
    assert problems == ["the log has 3 lines but the anchor release.json records 4: lines were removed from the end"]


def test_read_anchor(tmp_path, log):
    head = log.head()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"study": "demo", "audit_head": head}))
    bare = tmp_path / "head.json"
    bare.write_text(json.dumps(head))
    from veplab.privacy import read_anchor

    assert read_anchor(manifest) == read_anchor(bare) == read_anchor({"audit_head": head}) == head
    for bad, message in [({"study": "demo"}, "needs count and hash"),
                         ({"audit_head": {"count": -1, "hash": head["hash"]}}, "count must be"),
                         ({"count": 2, "hash": "xyz"}, "64 lower-case hex")]:
        bare.write_text(json.dumps(bad))
        with pytest.raises(AuditError, match=message) as info:
            read_anchor(bare)
        assert str(bare) in str(info.value)
    bare.write_text("{not json")
    with pytest.raises(AuditError, match="not a readable JSON file"):
        read_anchor(bare)
    with pytest.raises(AuditError, match="not found"):
        read_anchor(tmp_path / "nope.json")
    assert any("the anchor x: not an audit head" in p for p in verify_audit_log(log.path, anchors={"x": {}}))


def test_pseudonym_key_ids_and_current_key(log):
    from veplab.privacy import current_key_id, pseudonym_key_ids

    assert pseudonym_key_ids(log.path) == ["3f2a9c0d41b7e6a5"] and current_key_id(log.path) == "3f2a9c0d41b7e6a5"
    log.append("key", old_key_id="3f2a9c0d41b7e6a5", new_key_id="00112233aabbccdd", reason="key lost")
    assert current_key_id(log.path) == "00112233aabbccdd"
    log.append("pseudonymise", key_id="00112233aabbccdd", columns=["prison_number"], rows=3)
    assert pseudonym_key_ids(log.path) == ["3f2a9c0d41b7e6a5", "00112233aabbccdd"]
    assert pseudonym_key_ids(log.path.with_name("none.log")) == [] and current_key_id(log.path.with_name("x")) is None
