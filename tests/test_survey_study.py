"""A study that declares a sampled survey (design: weights/strata/fpc/population): study.yml checks, the
design-based tables the notebooks publish, and the same pages unchanged for a study without one.

The ``weighted`` study (tests/_studies.py) is not the demo: eight prisons in two strata (4 of 10 large,
4 of 20 small), women sampled at nine times the rate of men (half the sample, a tenth of the
population) and endorsing violence less, raked to sex margins in population.yml.  The design-based
numbers themselves are checked against R's survey package in test_survey.py; here the wiring is
checked against SurveyDesign computed directly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import _studies
from veplab.push_pull import design as dz
from veplab.descriptives import endorsement, population_shares
from veplab.study import StudyError, load_study
from veplab.survey import SurveyDesign, rake, read_population


@pytest.fixture(scope="module")
def weighted_study(tmp_path_factory) -> Path:
    return _studies.weighted(tmp_path_factory.mktemp("weighted"))


def _design_by_hand(study: Path, data: pd.DataFrame) -> SurveyDesign:
    d = SurveyDesign(data, weights="weight", strata="stratum", cluster="facility", fpc="prisons_in_stratum")
    return rake(d, read_population(study / "population.yml"))


def test_study_yml_accepts_a_survey_design(weighted_study):
    s = load_study(weighted_study)
    assert s.survey_sources == ("survey",)
    assert {k: s.survey[k] for k in ("cluster", "weights", "strata", "fpc")} == {
        "cluster": "facility", "weights": "weight", "strata": "stratum", "fpc": "prisons_in_stratum"}
    assert Path(s.survey["population"]) == (weighted_study / "population.yml").resolve()
    data = s.load_source("survey")
    d = s.survey_design("survey", data)
    assert d is not None and d.calibrated
    assert s.survey_design("ratings", s.load_source("ratings")) is None   # not a sampled source
    ref = _design_by_hand(weighted_study, data)
    np.testing.assert_allclose(d.weights, ref.weights, rtol=1e-12)
    # raked to the sex margins of population.yml
    pop = read_population(weighted_study / "population.yml")
    tot = d.weights.groupby(data["sex"].astype(int).to_numpy()).sum()
    np.testing.assert_allclose(tot.to_numpy(), [pop.margins["sex"][1], pop.margins["sex"][2]], rtol=1e-7)


def test_a_study_without_survey_keys_has_no_design(tmp_path):
    s = load_study(_studies.three_assessors(tmp_path))
    assert s.survey is None and s.survey_sources == ()
    assert s.survey_design("survey", s.load_source("survey")) is None


def _edit(study: Path, tmp: Path, change) -> Path:
    root = tmp / "copy"
    shutil.copytree(study.parents[1], root)
    folder = root / "research" / study.name
    cfg = yaml.safe_load((folder / "study.yml").read_text(encoding="utf-8"))
    change(cfg, folder)
    (folder / "study.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return folder


def _set(**keys):
    def change(cfg, folder):
        for k, v in keys.items():
            if v is None:
                cfg["design"].pop(k, None)
            else:
                cfg["design"][k] = v
    return change


@pytest.mark.parametrize("change, message", [
    (_set(weights="wt"), "design.weights names column 'wt', which source 'survey' does not have (codebook "
                         "survey.yml); add 'wt' to that codebook"),
    (_set(strata="stratum", weights="weight", sources=["survey", "ratings"]),
     "design.cluster names column 'facility', which source 'ratings' does not have"),
    (_set(sources=["surveys"]), "design.sources names 'surveys', which is not a source"),
    (_set(population="pop.yml"), "design.population: file 'pop.yml' not found"),
    (_set(fpc=["prisons_in_stratum", "a", "b"]), "design.fpc must be one column"),
    (_set(weighting="rake"), "design.weighting must be one of raking, linear, logit, poststratify"),
    (_set(bounds=[2, 3]), "design.bounds must be [lower, upper] around 1"),
    (_set(lonely_psu="drop"), "design.lonely_psu must be one of fail, adjust"),
    (_set(probs="weight"), "give weights: (sampling weights) or probs: (inclusion probabilities), not both"),
    (_set(weigths="weight"), "design: unknown key 'weigths'; did you mean 'weights'?"),
    (_set(population=None, weighting="raking"), "design.weighting adjusts the weights to population figures"),
    (_set(weights=None, strata=None, fpc=None, population=None, lonely_psu="adjust"),
     "design.lonely_psu belongs to a sampled survey"),
])
def test_survey_design_errors_name_file_key_and_fix(weighted_study, tmp_path, change, message):
    folder = _edit(weighted_study, tmp_path, change)
    with pytest.raises(StudyError) as info:
        load_study(folder)
    assert message in str(info.value)
    assert str(folder / "study.yml") in str(info.value)


def test_population_file_errors_name_the_file(weighted_study, tmp_path):
    def change(cfg, folder):
        (folder / "population.yml").write_text("total: 10\nmargins:\n  sex: {1: 3, 2: 4}\n", encoding="utf-8")
    folder = _edit(weighted_study, tmp_path, change)
    with pytest.raises(StudyError, match=r"design.population \(population.yml\): .*margins.sex sum to 7, not the "
                                         r"total 10"):
        load_study(folder)


def test_data_problems_are_study_errors_naming_the_source(weighted_study, tmp_path):
    s = load_study(weighted_study)
    data = s.load_source("survey")
    bad = data.assign(weight=data["weight"].where(data.index != 3))
    with pytest.raises(StudyError, match=r"the survey design \(design:\) on source 'survey' \(survey.csv\): "
                                         r"SurveyDesign: weights column 'weight' is missing in row 3"):
        s.survey_design("survey", bad)
    with pytest.raises(StudyError, match=r"design.strata names column 'stratum', which the data of source 'survey' "
                                         r"\(survey.csv\) do not hold"):
        s.survey_design("survey", data.drop(columns="stratum"))


def test_design_based_tables_equal_the_design_computed_directly(weighted_study):
    s = load_study(weighted_study)
    cb = s.codebook("survey")
    data = s.load_source("survey")
    d = s.survey_design("survey", data)
    ref = _design_by_hand(weighted_study, data)
    wide, tidy, _ = dz.endorsement_tables(data, ["hardship", "support_violence"], ["sex"], codebook=cb,
                                          threshold=10, design=d)
    women = (data["sex"] == 2).to_numpy()
    direct = ref.subset(women).mean("support_violence", na_rm=True).iloc[0]
    row = tidy[(tidy["variable"] == "support_violence") & (tidy["group_code"] == 2)].iloc[0]
    np.testing.assert_allclose([row["estimate"], row["ci_low"], row["ci_high"], row["deff"]],
                               [direct["estimate"], direct["ci_low"], direct["ci_high"], direct["deff"]], rtol=1e-12)
    assert row["n"] == data.loc[women, "support_violence"].notna().sum()      # n stays unweighted
    overall = ref.mean("support_violence", na_rm=True).iloc[0]
    assert wide["overall"].loc["Support for violence", "All"] == pytest.approx(overall["estimate"], rel=1e-12)
    assert dz.design_effect(tidy, "support_violence") == pytest.approx(overall["deff"], rel=1e-12)
    # women (half the sample, a tenth of the population) endorse less: weighting raises the mean
    naive = endorsement(data, "support_violence", by=[]).table["estimate"].iloc[0]
    assert overall["estimate"] - naive > 0.3
    # the share agreeing with the top outcome item
    top = dz.top_item_agreement(data, cb, "support_violence", design=d)
    agree = ((pd.to_numeric(data[top["item"]].astype(object), errors="coerce") >= 4)
             .where(data[top["item"]].notna()).astype(float))
    p = ref.update(a=agree).proportion("a", level=1.0, na_rm=True).iloc[0]
    np.testing.assert_allclose([top["estimate"], top["ci_low"], top["ci_high"], top["deff"]],
                               [p["estimate"], p["ci_low"], p["ci_high"], p["deff"]], rtol=1e-12)
    assert top["n"] == data[top["item"]].notna().sum()
    # the comparison table
    cmp = dz.weighting_comparison(data, ["support_violence"], d, codebook=cb, truth={"support_violence": 2.9})
    assert list(cmp.columns) == ["n", "unweighted", "weighted", "ci_low", "ci_high", "deff", "truth"]
    assert cmp.iloc[0]["unweighted"] == pytest.approx(naive) and cmp.iloc[0]["weighted"] == overall["estimate"]
    # population shares: raked to sex, so the sex shares are the population's
    shares = population_shares(data, "sex", d, codebook=cb).table
    pop = read_population(weighted_study / "population.yml").margins["sex"]
    np.testing.assert_allclose(shares["share"], [pop[1] / sum(pop.values()), pop[2] / sum(pop.values())],
                               rtol=1e-9)
    assert shares["n"].tolist() == [float((data["sex"] == 1).sum()), float((data["sex"] == 2).sum())]


def test_threshold_applies_to_unweighted_counts(weighted_study):
    """A group with fewer people than the threshold is hidden however large its weights."""
    s = load_study(weighted_study)
    cb = s.codebook("survey")
    data = s.load_source("survey")
    women = data.index[data["sex"] == 2]
    data = data[(data["sex"] == 1) | data.index.isin(women[:6])].copy()   # a handful of women
    few = int((data["sex"] == 2).sum())
    assert 0 < few < 10
    d = SurveyDesign(data, weights="weight", strata="stratum", cluster="facility", fpc="prisons_in_stratum")
    _, tidy, _ = dz.endorsement_tables(data, ["support_violence"], ["sex"], codebook=cb, threshold=10, design=d)
    by_sex = tidy[tidy["group_var"] == "sex"]
    assert by_sex["suppressed"].all() and by_sex["estimate"].isna().all()   # secondary suppression too


def test_built_pages_are_design_based(weighted_report):
    report, info = weighted_report
    assert info["ok"], info["errors"]
    res = json.loads((report / "results.json").read_text(encoding="utf-8"))["notebooks"]
    pp = res["push_pull"]
    assert pp["values"]["design_effect"]["status"] == "published" and pp["values"]["design_effect"]["value"] > 1
    texts = [t["text"] for t in pp["texts"].values() if t.get("text")]
    note = next(t for t in texts if t.startswith("Weighted to the prison population"))
    deff = pp["values"]["design_effect"]["value"]
    assert f"design effect {deff:.2f}" in note and "adjusted to national figures" in note
    by_sex = pp["tables"]["support_violence_by_sex"]
    assert by_sex["columns"] == ["n", "estimate", "ci_low", "ci_high"] and "weighted mean" in by_sex["caption"]
    cmp = pp["tables"]["weighting_comparison"]
    assert cmp["columns"] == ["n", "unweighted", "weighted", "ci_low", "ci_high", "deff"]   # no truth: not synthetic
    assert pp["values"]["outcome_item_agree_share"]["caption"].startswith("Weighted share")
    ov = res["overview"]
    shares = ov["tables"]["survey_share_by_age_group"]
    assert shares["columns"] == ["n", "share", "ci_low", "ci_high", "deff"] and shares["status"] == "published"
    counts = ov["tables"]["survey_by_age_group"]
    n_by_age = {i: row[0] for i, row in zip(counts["index"], counts["data"]) if i != "Total"}
    assert {i: row[0] for i, row in zip(shares["index"], shares["data"])} == n_by_age  # the same n as the counts
    assert "ratings_share_by_sex" not in ov["tables"]      # not a sampled source
    html = (report / "push_pull.html").read_text(encoding="utf-8")
    assert "Weighted to the prison population" in html


def test_without_a_survey_design_pages_are_unchanged(three_assessors_report):
    report, info = three_assessors_report
    assert info["ok"], info["errors"]
    res = json.loads((report / "results.json").read_text(encoding="utf-8"))["notebooks"]
    pp = res["push_pull"]
    assert "design_effect" not in pp["values"] and "weighting_comparison" not in pp["tables"]
    assert pp["tables"]["support_violence_by_sex"]["columns"] == ["estimate", "ci_low", "ci_high"]
    assert pp["values"]["outcome_item_agree_share"]["caption"].startswith("Share answering")
    assert not any("share_by" in k for k in res["overview"]["tables"])
    assert not any((t.get("text") or "").startswith("Weighted") for nb in res.values() for t in nb["texts"].values())


def test_demo_is_a_sampled_survey_with_truth_on_its_pages(demo_report):
    """The demo declares weights/strata/fpc/population: its push_pull page sets unweighted, weighted and the
    synthetic truth side by side, the overview estimates the population's make-up, and the brief says the
    figures are weighted, with the design effect."""
    res = json.loads((demo_report / "results.json").read_text(encoding="utf-8"))["notebooks"]
    cmp = res["push_pull"]["tables"]["weighting_comparison"]
    assert cmp["status"] == "published" and cmp["columns"][-1] == "truth"
    rows = {i: dict(zip(cmp["columns"], r)) for i, r in zip(cmp["index"], cmp["data"])}
    assert all(r["truth"] is not None and r["n"] >= 10 for r in rows.values())
    off = [abs(r["weighted"] - r["truth"]) / ((r["ci_high"] - r["ci_low"]) / 3.92) for r in rows.values()]
    assert max(off) < 3.5                      # design-based: within sampling error of the truth
    shares = res["overview"]["tables"]["push_pull_share_by_gender"]
    women = dict(zip(shares["columns"], shares["data"][shares["index"].index("Woman")]))
    assert women["share"] == pytest.approx(6465 / 128831, rel=1e-6)    # raked to population.yml
    assert women["ci_low"] is None                                     # known exactly: no interval
    brief = (demo_report / "brief-en.html").read_text(encoding="utf-8")
    assert "figures weighted to the prison population (design-based estimates; design effect)" in brief
