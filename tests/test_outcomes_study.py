"""The outcomes analysis on studies that are not the demo, from their declared design.

Two small studies are made here from hand-written codebooks and simulated data and built with
``veplab.build.build`` (the real notebook, only the ``outcomes`` analysis):

* ``course``: a before-and-after survey only (two four-item scales, a third scale asked in the
  second round only; the rounds are coded 1 = "Intake", 2 = "Exit"; one country; sex);
* ``mentoring``: a follow-up only (days to the event, the event, a 0/1 treatment; the horizon comes
  from the codebook's ``survival:``) and an evaluation framework, no before-and-after survey.

Each build's published numbers are checked against the same statistic computed here from the data,
every part that does not run shows its one-sentence reason, and no page carries the demo's wording.
The functions of :mod:`veplab.outcomes.design` are tested on their own below (fast).
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

from veplab.outcomes import design as od

ROOT = Path(__file__).resolve().parents[1]
# Wording of the demo study that must not appear on another study's page.
DEMO_WORDS = ["Kazakhstan", "Tunisia", "Uganda", "re-arrest", "rearrest", "officer", "release", "staff",
              "programme", "Nelson Mandela", "violent extremist", "prison_id", "risk_at_release", "time_days",
              "confidence", "two years", "730"]
AGREE = {k: {"en": v} for k, v in enumerate(["Strongly disagree", "Disagree", "Neither", "Agree",
                                             "Strongly agree"], start=1)}


def _item(iid: str, label: str, type_: str = "likert", **kw) -> dict:
    return {"id": iid, "label": {"en": label}, "type": type_, **kw}


def _write_study(root: Path, sid: str, codebook: dict, data: pd.DataFrame, analyses: dict,
                 breakdowns: list[str]) -> Path:
    (root / "surveys").mkdir(parents=True, exist_ok=True)
    study = root / "research" / sid
    (study / "data").mkdir(parents=True, exist_ok=True)
    (study / f"{sid}.yml").write_text(yaml.safe_dump(codebook, allow_unicode=True, sort_keys=False))
    data.to_csv(study / "data" / f"{sid}.csv", index=False)
    (study / "study.yml").write_text(yaml.safe_dump({
        "id": sid, "title": {"en": f"{sid.title()} (synthetic test study)"}, "languages": ["en"], "seed": 3,
        "disclosure": {"threshold": 10},
        "sources": {sid: {"path": f"data/{sid}.csv", "codebook": f"{sid}.yml"}},
        "design": {"breakdowns": breakdowns}, "analyses": analyses}, sort_keys=False))
    return study


def _likert(rng: np.random.Generator, latent: np.ndarray, k: int) -> np.ndarray:
    return np.clip(np.round(3 + latent[:, None] + rng.normal(scale=0.7, size=(len(latent), k))), 1, 5).astype(int)


def course_study(root: Path, n: int = 120) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(5)
    items = [_item("response_id", "Response", "text", role="admin", pseudonymised=True),
             _item("person", "Participant (pseudonymous code)", "text", role="admin", pseudonymised=True),
             _item("round", "Survey round", "categorical", role="admin",
                   options={1: {"en": "Intake"}, 2: {"en": "Exit"}}),
             _item("sex", "Sex", "categorical", role="quasi_identifier",
                   options={1: {"en": "Female"}, 2: {"en": "Male"}})]
    scales = []
    for sid, label, k in (("skills", "Communication skills", 4), ("wellbeing", "Wellbeing at work", 4),
                          ("satisfaction", "Satisfaction with the course", 2)):
        items += [_item(f"{sid}_{j}", f"{label}: statement {j}", options=AGREE) for j in range(1, k + 1)]
        scales.append({"id": sid, "label": {"en": label}, "items": [f"{sid}_{j}" for j in range(1, k + 1)],
                       "score": "mean", "min_items": k})
    scales[0]["kirkpatrick"] = 2
    codebook = {"id": "course_v1", "title": {"en": "Course evaluation survey"}, "unit": "response",
                "id_column": "response_id", "items": items, "scales": scales}
    sex = rng.choice([1, 2], size=n, p=[0.55, 0.45])
    skill, well = rng.normal(scale=0.6, size=n), rng.normal(scale=0.6, size=n)
    rows = []
    for rnd in (1, 2):
        s = _likert(rng, skill + (0.5 if rnd == 2 else 0.0), 4)
        w = _likert(rng, well, 4)
        sat = _likert(rng, rng.normal(scale=0.6, size=n), 2)
        for i in range(n):
            row = {"response_id": f"R{rnd}{i:04d}", "person": f"P{i:04d}", "round": rnd, "sex": int(sex[i])}
            row.update({f"skills_{j + 1}": int(s[i, j]) for j in range(4)})
            row.update({f"wellbeing_{j + 1}": int(w[i, j]) for j in range(4)})
            row.update({f"satisfaction_{j + 1}": int(sat[i, j]) if rnd == 2 else None for j in range(2)})
            rows.append(row)
    data = pd.DataFrame(rows)
    study = _write_study(root, "course", codebook, data,
                         {"outcomes": {"prepost": {"source": "course", "id": "person", "wave": "round"}}}, ["sex"])
    return study, data


def mentoring_study(root: Path, n: int = 200) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(8)
    items = [_item("person", "Person (pseudonymous code)", "text", role="admin", pseudonymised=True),
             _item("sex", "Sex", "categorical", role="quasi_identifier",
                   options={1: {"en": "Female"}, 2: {"en": "Male"}}),
             _item("age_group", "Age group", "ordinal", role="quasi_identifier",
                   options={1: {"en": "Under 30"}, 2: {"en": "30 and over"}}),
             _item("mentored", "Took part in the mentoring scheme", "binary",
                   options={0: {"en": "Not mentored"}, 1: {"en": "Mentored"}}),
             _item("days", "Days from the start of follow-up to a new conviction or the end of follow-up",
                   "numeric", role="outcome", min=0, max=400),
             _item("convicted", "New conviction during follow-up", "binary", role="outcome",
                   options={0: {"en": "No"}, 1: {"en": "Yes"}})]
    codebook = {"id": "mentoring_v1", "title": {"en": "Mentoring follow-up"}, "unit": "person",
                "id_column": "person", "items": items,
                "survival": {"time": "days", "event": "convicted", "horizon": 365}}
    sex = rng.choice([1, 2], size=n, p=[0.4, 0.6])
    age = rng.choice([1, 2], size=n)
    treated = (rng.random(n) < 1 / (1 + np.exp(-(age - 1.5)))).astype(int)
    hazard = 0.0015 * np.exp(-0.5 * treated + 0.3 * (age == 1))
    t_event = rng.exponential(1 / hazard)
    t_event = np.ceil(t_event)
    lost = rng.random(n) < 0.1  # some people leave follow-up early (censored)
    end = np.where(lost, rng.integers(30, 365, size=n), 365)
    days = np.minimum(t_event, end).astype(int)
    event = (t_event <= end).astype(int)
    data = pd.DataFrame({"person": [f"M{i:04d}" for i in range(n)], "sex": sex, "age_group": age,
                         "mentored": treated, "days": days, "convicted": event})
    study = _write_study(root, "mentoring", codebook, data,
                         {"outcomes": {"followup": {"source": "mentoring", "treatment": "mentored"},
                                       "framework": "framework.yml"}},
                         ["sex", "age_group"])
    (study / "framework.yml").write_text(yaml.safe_dump({"mentoring": {"indicators": [
        {"id": "reach", "label": {"en": "People mentored (share)"}, "criterion": "coherence", "baseline": 0.3,
         "target": 0.6, "direction": "increase", "source": "Scheme records", "unit": "share",
         "actual": {"stat": "share", "column": "mentored"}},
        {"id": "cost", "label": "Cost per person", "criterion": "efficiency", "baseline": 100, "target": 80,
         "direction": "decrease", "source": "Accounts", "actual": 90}]}}))
    return study, data


def _build(study: Path) -> tuple[dict, str, dict]:
    from veplab.build import build
    from veplab.study import load_study

    res = build(study, notebooks_dir=ROOT / "notebooks", pdf=False)
    assert res.ok and res.published, ([r.error for r in res.failed], res.leaks)
    report = study.parents[1] / "reports" / study.name
    results = json.loads((report / "results.json").read_text())["notebooks"]["outcomes"]
    page = (report / "outcomes.html").read_text(encoding="utf-8")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return results, text, load_study(study).analysis("outcomes").skipped


def _no_demo_words(text: str, skipped: dict) -> None:
    # The contract's own sentences (veplab.analyses) are checked above; "No follow-up after release is
    # declared" is its wording, not the notebook's.
    for why in skipped.values():
        text = text.replace(" ".join(why.split()), "")
    for word in DEMO_WORDS:
        assert word.lower() not in text.lower(), f"the page says {word!r}"
    assert "Traceback" not in text and "withheld" not in text.lower()


def test_prepost_only_study(tmp_path):
    study, data = course_study(tmp_path / "proj")
    results, text, skipped = _build(study)
    # the parts that are not declared say why, in the analyses contract's words
    assert set(skipped) == {"followup", "framework"}
    for why in skipped.values():
        assert " ".join(why.split()) in text
    assert "No scale is named for reliable change" in text
    # waves and scales are named from the codebook; the scale asked in one round only is listed
    assert "Change from 'Intake' to 'Exit', by scale" in text
    assert "'Satisfaction with the course' was not answered in both waves" in text
    table = results["tables"]["prepost_change"]
    assert table["index"] == ["Communication skills", "Wellbeing at work"]
    assert table["columns"][:2] == ["kirkpatrick", "n_pairs"]
    # the published change is the paired mean difference of the scale scores
    score = data.assign(skills=data[[f"skills_{j}" for j in range(1, 5)]].mean(axis=1))
    wide = score.pivot(index="person", columns="round", values="skills")
    diff = wide[2] - wide[1]
    value = results["values"]["skills_change"]
    assert value["value"] == pytest.approx(diff.mean(), rel=1e-12) and value["n"] == 120
    half = 1.9801 * diff.std(ddof=1) / np.sqrt(120)  # qt(0.975, 119)
    assert value["ci"] == pytest.approx([diff.mean() - half, diff.mean() + half], rel=1e-4)
    assert "wellbeing_change" in results["values"] and "satisfaction_change" not in results["values"]
    assert "prepost_effect_sizes" in results["figures"]
    # power: only the before-and-after row
    power = results["tables"]["power"]
    assert power["index"] == ["change from 'Intake' to 'Exit' (paired t)"]
    assert not any(k.startswith(("km_", "event_", "treatment_")) for g in results.values() for k in g)
    _no_demo_words(text, skipped)


def _km_rate(days: np.ndarray, event: np.ndarray, horizon: float) -> float:
    surv = 1.0
    for t in np.unique(days[(event == 1) & (days <= horizon)]):
        at_risk = (days >= t).sum()
        surv *= 1 - ((days == t) & (event == 1)).sum() / at_risk
    return 1 - surv


def test_followup_only_study(tmp_path):
    study, data = mentoring_study(tmp_path / "proj")
    results, text, skipped = _build(study)
    assert set(skipped) == {"prepost"}
    for why in skipped.values():
        assert " ".join(why.split()) in text
    assert "Reliable change needs the before-and-after comparison" in text
    # horizon from the codebook (365 days): the grid and the rate at the horizon
    risk = results["tables"]["km_numbers_at_risk"]
    assert risk["columns"] == ["day 0", "day 90", "day 180", "day 270", "day 365"]
    assert risk["index"] == ["Not mentored", "Mentored"]  # the treatment's option labels, in code order
    assert risk["data"][1][0] == int(data["mentored"].sum())
    rate = results["values"]["event_rate_horizon"]
    assert rate["value"] == pytest.approx(_km_rate(data["days"].to_numpy(), data["convicted"].to_numpy(), 365))
    assert rate["n"] == len(data)
    assert "New conviction during follow-up" in rate["caption"] and "day 365" in rate["caption"]
    by = results["tables"]["event_rate_by_treatment"]
    m = data["mentored"] == 1
    assert by["data"][1][1] == pytest.approx(_km_rate(data.loc[m, "days"].to_numpy(),
                                                      data.loc[m, "convicted"].to_numpy(), 365))
    # the treatment effect three ways, the weighted one as a headline value; covariates = the breakdowns
    hr = results["tables"]["treatment_hazard_ratios"]
    assert hr["index"] == ["naive (unadjusted Cox)", "covariate-adjusted Cox", "propensity-weighted Cox (ATT)"]
    assert results["values"]["treatment_hr_weighted"]["value"] == pytest.approx(
        hr["data"][2][hr["columns"].index("hazard_ratio")])
    assert results["tables"]["treatment_balance"]["index"] == ["propensity score", "Sex: Male", "Age group"]
    assert results["tables"]["power"]["index"] == ["time to the event: New conviction during follow-up (Cox)"]
    assert not any(k.startswith(("prepost_", "reliable_")) for g in results.values() for k in g)
    # the framework's indicators, broken down by the design's breakdowns labelled from the codebook
    ind = results["tables"]["indicators"]
    assert ind["index"] == ["reach · all", "reach · Female", "reach · Male", "reach · Under 30",
                            "reach · 30 and over", "cost · all"]
    actual = ind["columns"].index("actual")
    assert ind["data"][0][actual] == pytest.approx(data["mentored"].mean())
    assert ind["data"][1][actual] == pytest.approx(data.loc[data["sex"] == 1, "mentored"].mean())
    assert ind["caption"].endswith("(all, then by sex and by age group)")
    _no_demo_words(text, skipped)


# --------------------------------------------------------------------------- the building blocks


def _course_cb_and_data(tmp_path):
    from veplab.study import load_study

    study, _ = course_study(tmp_path / "proj", n=40)
    cfg = load_study(study)
    return cfg.codebook("course"), cfg.load_source("course")


def test_pre_post_scales_and_reliable_change(tmp_path):
    cb, data = _course_cb_and_data(tmp_path)
    pp = od.pre_post_scales(data, cb, id="person", wave="round", pre="1", post=2,
                            scales=["skills", "wellbeing", "satisfaction"])
    assert pp.scales == ["skills", "wellbeing"] and pp.one_wave == ["satisfaction"]
    assert (pp.pre, pp.post, pp.pre_label, pp.post_label) == (1, 2, "Intake", "Exit")
    assert pp.table.loc["Communication skills", "n_pairs"] == 40
    rc, rel = od.reliable_change_of(data, cb, "skills", id="person", wave="round", pre=1, post=2)
    from veplab.reliability import alpha

    first = data[data["round"] == 1]
    assert rel == pytest.approx(alpha(first[[f"skills_{j}" for j in range(1, 5)]].astype(float)).estimate)
    assert rc.n == 40 and rc.sd == pytest.approx(first["skills"].std())
    with pytest.raises(od.NotRun) as exc:
        od.pre_post_scales(data, cb, id="person", wave="round", pre=1, post=3, scales=["skills"])
    assert exc.value.sentence.startswith("No answers from the wave") and not re.search(r"\d", exc.value.sentence)
    with pytest.raises(od.NotRun, match="more than once"):
        od.pre_post_scales(pd.concat([data, data.head(1)]), cb, id="person", wave="round", pre=1, post=2,
                           scales=["skills"])


def test_followup_checks_and_horizon_grid():
    assert od.horizon_grid(730) == [0, 180, 365, 545, 730]  # the demo's days, derived from its horizon
    assert od.horizon_grid(1095) == [0, 250, 500, 800, 1095] and od.horizon_grid(4) == [0, 1, 2, 3, 4]

    class CB:  # a codebook with no labels: sentences fall back to column names
        item_ids: tuple = ()
        scales: tuple = ()

        def scale(self, s):
            raise KeyError(s)

    fu = pd.DataFrame({"t": [5.0, 8, 3, 9], "e": [1, 2, 1, 0], "g": [0, 1, 0, 1]})
    for frame, match in ((fu, "not coded zero"), (fu.assign(e=0), "Nobody had the event"),
                         (fu.assign(e=[1, 0, 1, 0], g=1), "same value of the treatment"),
                         (fu.assign(e=[1, 0, 1, 0], t=[5.0, None, 3, 9]), "missing or negative")):
        with pytest.raises(od.NotRun, match=match) as exc:
            od.followup_frame(frame, CB(), time="t", event="e", treatment="g")
        assert not re.search(r"\d", exc.value.sentence)
    ok = od.followup_frame(fu.assign(e=[1, 0, 1, 0]), CB(), time="t", event="e", treatment="g")
    with pytest.raises(od.NotRun, match="Nobody was followed up to the horizon"):
        od.survival_at_horizon(ok, time="t", event="e", horizon=30)
    overall = od.survival_at_horizon(ok, time="t", event="e", horizon=8)  # no treatment: everyone together
    assert overall.risk.index.tolist() == ["All"] and overall.grid == [0, 2, 4, 6, 8]
    assert overall.risk.iloc[0].tolist() == [4, 4, 3, 2, 2]
    assert overall.overall["rate"] == pytest.approx(1 - (3 / 4) * (2 / 3)) == overall.rates["event_rate"].iloc[0]
    assert od.plain("Knowledge (0-8)", "x") == "Knowledge" and od.plain("Round 2", "a round") == "a round"
