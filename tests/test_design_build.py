"""The push_pull and validity notebooks run on a study that is not the demo, from its declared design only.

``centre_x`` is made here, by hand: one country (no country column), a prisoners' survey with three
4-item Likert scales (``domain:`` push, pull, outcome), sex, an age band and a facility code in eight
facilities; no facility source, no comparison, no typology.  A follow-up source holds a yes/no outcome,
joined by a person id to a 3-level rating kept in the survey.  A second study, ``centre_y``, declares no
cluster and no imputations, and has a breakdown that takes one value.  Both are built with
``veplab.build.build``; every part gives its outputs or its one-sentence reason, the headline numbers
equal the ones computed here from the raw files, and no page carries the demo's wording.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from veplab.build import build
from veplab.study import load_study

ROOT = Path(__file__).resolve().parents[1]
DEMO_WORDS = ["Kazakhstan", "Tunisia", "Uganda", "re-arrest", "rearrest", "two assessors", "officer", "climate",
              "violent extremist prisoner", "prison_id", "vep_status", "risk_at_release", "violence_endorsement",
              "occupancy", "dynamic security", "Nelson Mandela", "endorsement of violence"]

AGREE = {1: "Disagree strongly", 2: "Disagree", 3: "Unsure", 4: "Agree", 5: "Agree strongly"}
SCALES = {"hardship": ("push", "Hardship inside"), "belonging": ("pull", "Wish to belong"),
          "approval": ("outcome", "Approval of force")}


def _codebook(cluster_item: bool = True, extra: list | None = None) -> dict:
    items = [
        {"id": "pid", "label": "Person code", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Male", 2: "Female"},
         "role": "quasi_identifier"},
        {"id": "age_group", "label": "Age bracket", "type": "ordinal",
         "options": {1: "Younger", 2: "Middle", 3: "Older"}, "role": "quasi_identifier"},
        {"id": "risk_level", "label": "Initial rating of risk", "type": "ordinal",
         "options": {1: "Low", 2: "Medium", 3: "High"}},
    ]
    if cluster_item:
        items.insert(1, {"id": "unit", "label": "Facility code", "type": "text", "role": "quasi_identifier"})
    for sid, (_, label) in SCALES.items():
        for j in range(1, 5):
            items.append({"id": f"{sid}_{j}", "label": f"{label}: statement {'ABCD'[j - 1]}", "type": "likert",
                          "options": AGREE, "missing": {8: "dont_know"}, "reverse": sid == "approval" and j == 4})
    items += extra or []
    return {"id": "centre_x_survey", "title": {"en": "Views of people in custody (test)"}, "unit": "respondent",
            "id_column": "pid", "items": items,
            "scales": [{"id": sid, "label": label, "items": [f"{sid}_{j}" for j in range(1, 5)], "score": "mean",
                        "min_items": 2, "domain": dom} for sid, (dom, label) in SCALES.items()]}


FOLLOWUP = {"id": "centre_x_followup", "title": {"en": "Follow-up (test)"}, "unit": "person", "id_column": "pid",
            "items": [
                {"id": "pid", "label": "Person code", "type": "text", "role": "admin", "pseudonymised": True},
                {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Male", 2: "Female"},
                 "role": "quasi_identifier"},
                {"id": "new_incident", "label": "Serious incident within a year", "type": "binary",
                 "options": {0: "No", 1: "Yes"}, "role": "outcome"}]}


def _survey(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    units = [f"U{i}" for i in range(1, 9)]
    unit = rng.choice(units, n)
    shift = dict(zip(units, rng.normal(scale=0.5, size=8)))
    push = rng.normal(size=n) + np.array([shift[u] for u in unit])
    pull = 0.4 * push + rng.normal(size=n)
    out = 0.5 * push + 0.3 * pull + 0.8 * rng.normal(size=n)
    df = pd.DataFrame({"pid": [f"P{i:04d}" for i in range(n)], "unit": unit, "sex": rng.choice([1, 2], n, p=[.75, .25]),
                       "age_group": rng.choice([1, 2, 3], n, p=[.4, .35, .25])})
    cuts = np.array([-1.2, -0.4, 0.4, 1.2])
    for sid, latent in (("hardship", push), ("belonging", pull), ("approval", out)):
        for j in range(1, 5):
            z = 0.8 * latent + 0.6 * rng.normal(size=n)
            if sid == "approval" and j == 4:
                z = -z  # the reverse-keyed statement
            v = 1 + (z[:, None] > cuts).sum(axis=1)
            v[rng.random(n) < 0.03] = 8  # a few "don't know"
            df[f"{sid}_{j}"] = v
    risk = 1 + (out[:, None] > np.array([-0.5, 0.6])).sum(axis=1)
    df["risk_level"] = risk
    return df, out


def _write(folder: Path, name: str, config: dict, codebooks: dict[str, dict], data: dict[str, pd.DataFrame]) -> Path:
    study = folder / "research" / name
    (study / "data").mkdir(parents=True)
    (folder / "surveys").mkdir(exist_ok=True)
    for cid, cb in codebooks.items():
        (folder / "surveys" / f"{cid}.yml").write_text(yaml.safe_dump(cb, sort_keys=False))
    for src, df in data.items():
        df.to_csv(study / "data" / f"{src}.csv", index=False)
    (study / "study.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return study


def _make(root: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(2024)
    survey, latent = _survey(rng, 300)
    p = 1 / (1 + np.exp(-(-1.0 + 1.2 * latent)))
    follow = pd.DataFrame({"pid": survey["pid"], "sex": survey["sex"],
                           "new_incident": (rng.random(300) < p).astype(int)})
    follow = follow.sample(frac=0.9, random_state=1)  # not everyone was followed up
    x = {"id": "centre_x", "title": {"en": "Centre X: a small test study"}, "seed": 5,
         "disclosure": {"threshold": 10},
         "sources": {"survey": {"path": "data/survey.csv", "codebook": "centre_x_survey"},
                     "followup": {"path": "data/followup.csv", "codebook": "centre_x_followup"}},
         "design": {"cluster": "unit", "breakdowns": ["sex", "age_group"]},
         "analyses": {"push_pull": {"source": "survey", "imputations": 2},
                      "validity": {"source": "survey", "n_iter": 5,
                                   "prediction": {"source": "followup", "score": "risk_level", "join": "pid"}}}}
    study_x = _write(root / "x", "centre_x", x, {"centre_x_survey": _codebook(), "centre_x_followup": FOLLOWUP},
                     {"survey": survey, "followup": follow})
    # centre_y: no cluster, no imputations, one scale for the structure, a breakdown with a single value
    one_site = {"id": "site", "label": "Site", "type": "categorical", "options": {1: "North", 2: "South"},
                "role": "quasi_identifier"}
    cb_y = _codebook(cluster_item=False, extra=[one_site])
    y = {"id": "centre_y", "title": {"en": "Centre Y: a small test study without clusters"}, "seed": 6,
         "sources": {"survey": {"path": "data/survey.csv", "codebook": "centre_x_survey"}},
         "design": {"breakdowns": ["sex", "age_group", "site"]},
         "analyses": {"push_pull": {"source": "survey", "imputations": 0},
                      "validity": {"source": "survey", "scales": ["approval"], "n_iter": 5,
                                   "invariance_by": ["sex", "site"]}}}
    study_y = _write(root / "y", "centre_y", y, {"centre_x_survey": cb_y},
                     {"survey": survey.drop(columns=["unit"]).iloc[:200].assign(site=1)})
    return study_x, study_y


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("design_build")
    out = {}
    for study in _make(root):
        res = build(study, jobs=2, notebooks_dir=ROOT / "notebooks", pdf=False)
        assert res.ok and res.published, ([r.error for r in res.failed], res.leaks)
        report = study.parents[1] / "reports" / study.name
        out[study.name] = (study, report)
    return out


def _pages(report: Path) -> dict[str, str]:
    return {p.stem: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", p.read_text(encoding="utf-8"))).split())
            for p in report.glob("*.html")}


def _release(report: Path) -> dict[str, str]:
    rel = json.loads((report / "release.json").read_text())
    return {o["output"]: o["status"] for o in rel["outputs"]}


def _results(report: Path) -> dict:
    return json.loads((report / "results.json").read_text())["notebooks"]


def test_every_part_gives_outputs_or_its_reason(built):
    study, report = built["centre_x"]
    status = _release(report)
    published = {k for k, v in status.items() if v in ("published", "suppressed")}
    for key in ["tables/domain_means_by_overall", "tables/domain_means_by_sex", "tables/domain_means_by_age_group",
                "tables/approval_by_sex", "tables/approval_by_age_group", "values/outcome_item_agree_share",
                "values/icc_cluster", "tables/outcome_model", "tables/outcome_model_variance",
                "tables/yes_no_model", "tables/imputation_sensitivity", "figures/outcome_model_forest"]:
        assert f"push_pull/{key}" in published, (key, status)
    for key in ["tables/sampling_adequacy", "tables/parallel_analysis", "tables/efa_loadings", "tables/cfa_fit",
                "tables/invariance_sex", "tables/invariance_age_group", "values/score_auc",
                "tables/rate_by_score_level", "figures/roc", "tables/subgroup_performance"]:
        assert f"validity/{key}" in published, (key, status)
    assert not [k for k, v in status.items() if v not in ("published", "suppressed")], status
    pages = _pages(report)
    analysis = load_study(study).analysis("push_pull")
    for part in ("compare", "facility", "typology"):
        assert " ".join(analysis.why_not(part).split()) in pages["push_pull"], part
    assert "Approval of force" in pages["push_pull"] and "Initial rating of risk" in pages["validity"]
    assert "Serious incident within a year" in pages["validity"]
    for page in ("push_pull", "validity"):
        for word in DEMO_WORDS:
            assert word.lower() not in pages[page].lower(), (page, word)
        assert "Traceback" not in pages[page] and "withheld" not in pages[page], page


def test_numbers_match_the_raw_files(built):
    study, report = built["centre_x"]
    res = _results(report)
    survey = pd.read_csv(study / "data" / "survey.csv")
    follow = pd.read_csv(study / "data" / "followup.csv")
    # share agreeing (4 or 5 of 1..5) with the most agreed outcome statement; don't know (8) is not an answer,
    # the reverse-keyed fourth statement is left out
    shares = {}
    for j in (1, 2, 3):
        v = survey[f"approval_{j}"]
        v = v[v != 8]
        shares[j] = ((v >= 4).sum() / len(v), len(v))
    best = max(shares.values())
    value = res["push_pull"]["values"]["outcome_item_agree_share"]
    assert value["value"] == pytest.approx(best[0], abs=1e-12) and value["n"] == best[1]
    # AUC of the survey's risk rating for the follow-up outcome, joined by person code (Mann-Whitney)
    d = follow.merge(survey[["pid", "risk_level"]], on="pid")
    ev = d.loc[d["new_incident"] == 1, "risk_level"].to_numpy()
    ne = d.loc[d["new_incident"] == 0, "risk_level"].to_numpy()
    auc = ((ev[:, None] > ne[None, :]).sum() + 0.5 * (ev[:, None] == ne[None, :]).sum()) / (len(ev) * len(ne))
    got = res["validity"]["values"]["score_auc"]
    assert got["value"] == pytest.approx(auc, abs=1e-12) and got["n"] == len(d) == 270
    rates = res["validity"]["tables"]["rate_by_score_level"]
    assert rates["index"] == ["Low", "Medium", "High"]
    ns = [row[rates["columns"].index("n")] for row in rates["data"]]
    assert ns == [int((d["risk_level"] == k).sum()) for k in (1, 2, 3)]
    icc = res["push_pull"]["values"]["icc_cluster"]
    assert 0 < icc["ci"][0] < icc["value"] < icc["ci"][1] < 1
    model = res["push_pull"]["tables"]["outcome_model"]
    assert model["index"][:3] == ["Intercept", "Hardship inside", "Wish to belong"]
    assert "Sex: Female" in model["index"] and "Age bracket: Older" in model["index"]


def test_a_study_without_clusters(built):
    study, report = built["centre_y"]
    status = _release(report)
    pages = _pages(report)
    a = load_study(study).analysis("push_pull")
    assert " ".join(a.why_not("multilevel").split()) in pages["push_pull"]
    assert "heteroskedasticity-robust (sandwich) standard errors" in pages["push_pull"]
    assert "Site takes a single value in these data" in pages["push_pull"]
    assert "Site takes a single value among the people answering the items" in pages["validity"]
    assert "sensitivity to missing answers is not shown" in pages["push_pull"]
    assert "push_pull/values/icc_cluster" not in status and "push_pull/tables/domain_means_by_site" not in status
    assert status["push_pull/tables/outcome_model"] == "published"
    assert status["validity/tables/cfa_fit"] == "published" and status["validity/tables/invariance_sex"] == "published"
    v = load_study(study).analysis("validity")
    assert " ".join(v.why_not("prediction").split()) in pages["validity"]
    # the single-level model is ordinary least squares with HC1 errors: same numbers as fitting it directly
    import statsmodels.formula.api as smf

    from veplab.study import load_study as _ls

    df = _ls(study).load_source("survey")
    cols = ["approval", "hardship", "belonging", "sex", "age_group"]
    d = df[cols].dropna().astype({"sex": int, "age_group": int})
    ref = smf.ols("approval ~ hardship + belonging + C(sex) + C(age_group)", d).fit(cov_type="HC1")
    tab = _results(report)["push_pull"]["tables"]["outcome_model"]
    est = dict(zip(tab["index"], (r[tab["columns"].index("estimate")] for r in tab["data"])))
    se = dict(zip(tab["index"], (r[tab["columns"].index("se")] for r in tab["data"])))
    assert est["Hardship inside"] == pytest.approx(ref.params["hardship"], abs=1e-10)
    assert se["Sex: Female"] == pytest.approx(ref.bse["C(sex)[T.2]"], abs=1e-10)
    for page in ("push_pull", "validity"):
        for word in DEMO_WORDS:
            assert word.lower() not in pages[page].lower(), (page, word)
        assert "Traceback" not in pages[page] and "withheld" not in pages[page], page
