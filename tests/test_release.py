"""Default-deny publishing: planted leak attempts never reach reports/, linked tables are protected together.

A tiny study holds 5 women in prison P1 with a planted score (77.77) and planted free-text answers; one notebook
tries every way of publishing them that an adversarial review found (issue 14).  After the build, none of the
planted values appears in any file under reports/, and release.json records what happened to each output.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings, strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from scipy.optimize import linprog

from veplab import release as rel
from veplab.build import build
from veplab.report import Report

CODEBOOK = {
    "id": "leaky_v1", "title": {"en": "Leaky"}, "id_column": "rid",
    "items": [
        {"id": "rid", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "prison", "label": "Prison", "type": "text", "role": "quasi_identifier"},
        {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "Man", 2: "Woman"},
         "role": "quasi_identifier"},
        {"id": "score", "label": "Score", "type": "numeric"},
        {"id": "story", "label": "Story", "type": "text", "role": "sensitive"},
    ],
}
WOMAN_TEXT = "my cousin told me the group would protect my children while I was held here"


def _data() -> pd.DataFrame:
    rows = []
    for i in range(60):
        rows.append({"rid": f"r{i:04d}", "prison": "P1" if i < 30 else "P2", "gender": 1, "score": float(i % 4 + 1),
                     "story": ""})
    for k in range(5):  # the planted small group: 5 women in P1
        rows.append({"rid": f"w{k:04d}", "prison": "P1", "gender": 2, "score": 77.77,
                     "story": f"{WOMAN_TEXT} number {chr(97 + k)} and that is why i stayed with them"})
    return pd.DataFrame(rows)


ATTEMPTS = r'''
from veplab.report import Report
from veplab.study import load_study
import pandas as pd
import matplotlib.pyplot as plt
cfg = load_study(study)
df = cfg.load_source("d")
rep = Report(cfg, "leaky")
women = df[df["gender"] == 2]
# 1-4: bypassing the helpers
display(pd.crosstab(df["prison"], df["gender"]))
display(pd.DataFrame({"n": [len(women)], "mean": [women["score"].mean()]}, index=["women P1"]))
print(women[["rid", "prison", "gender", "score", "story"]])
display(df[["story"]])
# 5: run-time text with the group's mean and n
rep.markdown(f"Women in P1: mean {women['score'].mean():.2f} (n={len(women)})")
# 6: a value without n
rep.value("women_mean", float(women["score"].mean()), caption="Mean score of women")
# 7: group means as a 'model' table without n
means = df.groupby("gender")["score"].mean().to_frame("mean")
rep.table(means, "means_as_model", kind="model")
# 8: two tables by prison (everyone, men) whose difference gives the women -- with their records
everyone = df.groupby("prison").size().to_frame("n")
men = df[df["gender"] == 1].groupby("prison").size().to_frame("n")
everyone.index.name = men.index.name = "Prison"
rep.table(everyone, "by_prison_all", data=df, by="prison")
rep.table(men, "by_prison_men", data=df[df["gender"] == 1], by="prison")
# ... and without them
rep.table(everyone.rename(columns={"n": "n"}), "by_prison_all_plain")
rep.table(men, "by_prison_men_plain")
# 9: one point per person
fig, ax = plt.subplots()
ax.scatter(women["score"], women.index)
rep.figure(fig, "women_points", data=women[["score"]])
fig, ax = plt.subplots()
ax.scatter(df["score"], df.index)
rep.figure(fig, "everyone_points", data=df[["score"]].assign(y=range(len(df))), n=len(df))
# 10: a caption that states the count
rep.table(everyone, "caption_leak", caption=f"Prisons (women in P1: n={len(women)})", data=df, by="prison")
# the legitimate output still publishes
rep.value("n_people", len(df), kind="count", caption="People")
rep.markdown("The study counted {n_people} people.")
'''


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):
    root = tmp_path_factory.mktemp("leaky") / "proj"
    (root / "surveys").mkdir(parents=True)
    (root / "notebooks").mkdir()
    folder = root / "research" / "lk"
    (folder / "data").mkdir(parents=True)
    (root / "surveys" / "leaky.yml").write_text(yaml.safe_dump(CODEBOOK))
    _data().to_csv(folder / "data" / "d.csv", index=False)
    nb = new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    cells = [new_markdown_cell("# Leaky page"), new_code_cell('study = "."'), new_code_cell(ATTEMPTS)]
    cells[1].metadata["tags"] = ["parameters"]
    for i, c in enumerate(cells):
        c["id"] = f"c{i}"
    nb.cells = cells
    nbformat.write(nb, root / "notebooks" / "leaky.ipynb")
    (folder / "study.yml").write_text(yaml.safe_dump({
        "id": "lk", "title": {"en": "Leaky study"}, "disclosure": {"threshold": 10},
        "sources": {"d": {"path": "data/d.csv", "codebook": "leaky"}}, "notebooks": [{"name": "leaky"}]}))
    # an older build's private folder inside reports/ must not survive
    (root / "reports" / "lk" / ".work").mkdir(parents=True)
    (root / "reports" / "lk" / ".work" / "old.ipynb").write_text("w0001 w0002")
    res = build(folder)
    assert res.ok and res.published, (res.failed and res.failed[0].error, res.leaks)
    return root


def _published_text(root: Path) -> str:
    return "\n".join(p.read_text(errors="ignore") for p in (root / "reports").rglob("*") if p.is_file())


def test_planted_values_never_published(leaky):
    text = _published_text(leaky)
    for planted in ("77.77", "77.8", "w000", "r00", WOMAN_TEXT[:30], "n=5", "women P1"):
        assert planted not in text, planted
    assert not (leaky / "reports" / "lk" / ".work").exists()
    assert (leaky / "research" / "lk" / ".build" / "leaky.ipynb").is_file()


def test_release_log_records_each_output(leaky):
    release = json.loads((leaky / "reports" / "lk" / "release.json").read_text())
    status = {e["output"]: e["status"] for e in release["outputs"]}
    assert status["leaky/values/women_mean"] == "withheld for review"
    assert status["leaky/tables/means_as_model"] == "withheld for review"
    assert status["leaky/figures/women_points"] == "withheld for review"
    assert status["leaky/figures/everyone_points"] == "refused"
    assert status["leaky/texts/text_1"] == "withheld" and status["leaky/texts/text_2"] == "published"
    assert status["leaky/values/n_people"] == "published"
    assert status["leaky/tables/by_prison_men_plain"] == "withheld for review"
    assert release["withheld_raw_outputs"] == {"leaky": 4}
    assert sorted(release["files"]) == sorted(p.name for p in (leaky / "reports" / "lk").iterdir())
    assert release["audit_head"]["count"] >= 0
    page = (leaky / "reports" / "lk" / "leaky.html").read_text()
    assert "4 outputs withheld: not checked" in page and "The study counted 65 people." in page


def test_text_shortened_answer_is_a_leak(leaky):
    """rep.markdown of a shortened free-text answer has no digit, so only the leak scan can stop it (the build
    then publishes nothing): the prefix rule finds a 47-character opening."""
    from veplab.privacy import scan_artifacts

    findings = scan_artifacts([_write(leaky, f"<p>{WOMAN_TEXT[:47]}...</p>")], n_records=65,
                              free_text=[f"{WOMAN_TEXT} number a and that is why i stayed with them"])
    assert any(f.kind == "free_text" for f in findings)


def _write(root: Path, html: str) -> Path:
    p = root / "probe.html"
    p.write_text(html)
    return p


def test_linked_tables_hide_the_difference(leaky):
    results = json.loads((leaky / "reports" / "lk" / "results.json").read_text())
    tabs = results["notebooks"]["leaky"]["tables"]
    all_p1 = tabs["by_prison_all"]["data"][0][0]
    men_p1 = tabs["by_prison_men"]["data"][0][0]
    assert all_p1 is None or men_p1 is None  # 35 - 30 = 5 women cannot be computed
    cap = tabs["caption_leak"]["caption"]
    assert "withheld" in cap


def test_caption_with_planted_count_is_replaced():
    p = {"caption": "Prisons (women in P1: n=5)", "note": "5 women answered"}
    assert rel.check_caption(p, 10) == ["caption", "note"] and "5" not in p["caption"]


def test_forged_payload_is_checked_again():
    """A payload claiming 'ok' with a small published count is refused at the build."""
    forged = {"kind": "table", "key": "x", "table_kind": "counts", "status": "ok", "columns": ["n"],
              "index": ["P1"], "data": [[5]], "suppressed": [[False]]}
    status, reasons = rel.verify(forged, 10)
    assert status == "refused" and "below 10" in reasons[-1]
    value = {"kind": "value", "key": "v", "status": "ok", "value": 3.2, "n": None, "value_kind": "stat"}
    assert rel.verify(value, 10)[0] == "review"


def test_approval_releases_an_output(tmp_path):
    (tmp_path / "approvals.yml").write_text(yaml.safe_dump({"approvals": [
        {"output": "nb/tables/power", "reason": "design calculation", "approved_by": "A. Researcher"}]}))
    approvals = rel.load_approvals(tmp_path / "approvals.yml")
    out = rel.Output("nb", {"kind": "table", "key": "power"}, "review", ["cannot check"])
    assert rel.apply_approvals([out], approvals) == [] and out.status == "approved" and out.published
    (tmp_path / "approvals.yml").write_text(yaml.safe_dump({"approvals": [{"output": "nb/tables/power"}]}))
    with pytest.raises(rel.ApprovalError, match="needs reason"):
        rel.load_approvals(tmp_path / "approvals.yml")


# ------------------------------------------------------------------ property: linked tables


def _recoverable(cells: list[tuple[np.ndarray, float, bool]], n_universe: int, target: int) -> bool:
    """Independent check over the full cross-classification: min == max of a suppressed cell."""
    A = np.array([c[0] for c in cells if c[2]], dtype=float)
    b = np.array([c[1] for c in cells if c[2]], dtype=float)
    obj = cells[target][0].astype(float)
    lo = linprog(obj, A_eq=A if len(A) else None, b_eq=b if len(b) else None, bounds=(0, None), method="highs")
    hi = linprog(-obj, A_eq=A if len(A) else None, b_eq=b if len(b) else None, bounds=(0, None), method="highs")
    if hi.status == 3:
        return False
    return abs((-hi.fun) - lo.fun) < 0.5


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_linked_tables_never_reveal_a_suppressed_cell(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 120))
    df = pd.DataFrame({"a": rng.choice(["a1", "a2", "a3"], n, p=[.6, .3, .1]),
                       "b": rng.choice(["b1", "b2"], n, p=[.8, .2]),
                       "c": rng.choice(["c1", "c2", "c3"], n, p=[.5, .4, .1])})
    rep = Report(None, "nb", threshold=5, display=False)
    outputs = []
    for t in range(int(rng.integers(2, 5))):
        row, col = rng.choice(["a", "b", "c"], 2, replace=False)
        part = df if rng.random() < .5 else df[df["c"] != rng.choice(["c1", "c2", "c3"])]
        if rng.random() < .3:  # a stats table: groups of `row`, their n and a statistic
            table = part.groupby(row).agg(n=(col, "size"), share=(col, lambda v: float((v == v.iloc[0]).mean())))
            rep.table(table, f"t{t}", kind="stats", n="n", data=part, by=row)
            col = None
        else:
            table = pd.crosstab(part[row], part[col], margins=True, margins_name="Total")
            rep.table(table, f"t{t}", margins=True, data=part, by=[row, col])
        p = dict(rep.results["tables"][f"t{t}"])
        p["_universe"] = (part.index, row, col)
        outputs.append(rel.Output("nb", p, "suppressed" if any(map(any, p["suppressed"])) else "ok", []))
    rel.protect_linked([o for o in outputs], 5)
    # universe: every combination of a x b x c, each cell a sum of them
    combos = [(x, y, z) for x in ["a1", "a2", "a3"] for y in ["b1", "b2"] for z in ["c1", "c2", "c3"]]
    truth = df.value_counts().reindex(pd.MultiIndex.from_tuples(combos, names=["a", "b", "c"]), fill_value=0)
    cells = []
    for o in outputs:
        if not o.published:
            continue
        idx, row, col = o.payload["_universe"]
        part = df.loc[idx]
        kept = set(map(tuple, part[["a", "b", "c"]].drop_duplicates().to_numpy()))
        # a filtered population: the reader knows which c level was dropped (it shows in the table), not more
        for i, rl in enumerate(o.payload["index"]):
            for j, cl in enumerate(o.payload["columns"]):
                if col is None and cl != "n":
                    continue  # a stats table: only its n counts people
                vec = np.array([1 if ((rl == "Total" or combo["abc".index(row)] == rl)
                                      and (col is None or cl == "Total" or combo["abc".index(col)] == cl)
                                      and (combo[2] in {k[2] for k in kept} if len(part) < len(df) else True))
                                else 0 for combo in combos])
                true = float(vec @ truth.to_numpy())
                cells.append((vec, true, not o.payload["suppressed"][i][j]))
    for k, (vec, true, pub) in enumerate(cells):
        if not pub and 0 < true < 5:
            assert not _recoverable(cells, len(combos), k), (seed, k, true)


def test_second_build_of_a_study_is_stopped(tmp_path, monkeypatch):
    """A lock in the study's private folder: a second build exits with a message (or waits with --wait)."""
    import fcntl
    import time

    from veplab.build import BuildError, _BuildLock

    assert _BuildLock.grace == 5.0  # what a build waits for a killed one to let go; shortened here
    monkeypatch.setattr(_BuildLock, "grace", 0.5)
    path = tmp_path / "build.lock"
    with _BuildLock(path, "s", wait=False, log=None):
        with open(path, "a+") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(path, "a+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        t = time.monotonic()
        with pytest.raises(BuildError, match="another build of study 's' is running"):
            with _BuildLock(path, "s", wait=False, log=None):
                pass
        assert time.monotonic() - t >= 0.5  # it kept trying for the grace period


def test_data_by_for_counts_and_stats_tables_only():
    rep = Report(None, "nb", threshold=5, display=False)
    df = pd.DataFrame({"g": ["a"] * 6 + ["b"] * 7})
    model = pd.DataFrame({"estimate": [1.0], "n": [13]}, index=["x"])
    with pytest.raises(ValueError, match="kind='model' table gives its people with n="):
        rep.table(model, "m", kind="model", n="n", data=df, by="g")
    wrong = pd.DataFrame({"n": [6, 8]}, index=pd.Index(["a", "b"], name="g"))
    with pytest.raises(ValueError, match="holds 8 but data= has 7 records"):
        rep.table(wrong, "w", data=df, by="g")
    stats_wrong = pd.DataFrame({"mean": [1.0, 2.0], "n": [6, 8]}, index=pd.Index(["a", "b"], name="g"))
    with pytest.raises(ValueError, match="holds 8 but data= has 7 records"):
        rep.table(stats_wrong, "sw", kind="stats", n="n", data=df, by="g")
    with pytest.raises(ValueError, match="one column whose groups are its rows"):
        rep.table(stats_wrong.assign(n=[6, 7]), "s2", kind="stats", n="n", data=df, by=["g", "g"])
    rep.table(stats_wrong.assign(n=[6, 7]), "ok", kind="stats", n="n", data=df, by="g")
    m = rep.results["tables"]["ok"]["_members"]
    assert m["col"] == [1] * 13 and m["whole_rows"] and sorted(m["row"]) == [0] * 6 + [1] * 7


def _linked_outputs(rep: Report, keys: list[str]) -> list[rel.Output]:
    return [rel.Output("nb", rep.results["tables"][k], "ok", []) for k in keys]


def test_stats_table_linked_with_counts_table_hides_whole_row():
    """Everyone by prison (counts) and men by prison (mean age, n): P1 35 vs 30 gives 5 women away."""
    df = pd.DataFrame({"prison": ["P1"] * 35 + ["P2"] * 40,
                       "gender": ["f"] * 5 + ["m"] * 30 + ["f"] * 12 + ["m"] * 28,
                       "age": np.arange(75, dtype=float)})
    rep = Report(None, "nb", threshold=10, display=False)
    everyone = df.groupby("prison").size().to_frame("n")
    rep.table(everyone, "all", data=df, by="prison")
    men = df[df.gender == "m"]
    stats = men.groupby("prison").agg(mean_age=("age", "mean"), n=("age", "size"))
    rep.table(stats, "men", kind="stats", n="n", data=men, by="prison")
    outs = _linked_outputs(rep, ["all", "men"])
    rel.protect_linked(outs, 10)
    a, s = outs[0].payload, outs[1].payload
    p1 = lambda p, j: p["data"][0][j]  # noqa: E731
    assert p1(a, 0) is None or p1(s, 1) is None          # 35 - 30 cannot be computed
    if p1(s, 1) is None:                                  # a hidden stats row is hidden whole
        assert s["data"][0] == [None, None] and s["suppressed"][0] == [True, True]
    # without members the two tables are only compared by label
    rep2 = Report(None, "nb", threshold=10, display=False)
    rep2.table(everyone, "all")
    rep2.table(stats, "men", kind="stats", n="n")
    outs2 = _linked_outputs(rep2, ["all", "men"])
    rel.protect_linked(outs2, 10)
    assert outs2[1].status == "review"


def test_records_of_different_files_are_not_the_same_people():
    """Without an id column the record key is the row label tagged with the file it was loaded from."""
    from veplab.report.gate import record_keys

    a = pd.DataFrame({"x": range(5)})
    b = pd.DataFrame({"x": range(5)})
    assert (record_keys(a) == record_keys(b)).all()       # two frames of unknown origin: same labels, same keys

    class Info:
        def __init__(self, file: str) -> None:
            self.file, self.codebook_id = file, "cb"

    a.attrs["veplab"], b.attrs["veplab"] = Info("staff.xlsx"), Info("prisoners.csv")
    assert not set(record_keys(a).tolist()) & set(record_keys(b).tolist())
    assert (record_keys(a) == record_keys(a.copy())).all()
