"""The overview, data_quality and reliability notebooks run on a small study that is not the demo.

The study is made here, by hand (codebooks as YAML, data as CSV): one country, two Likert scales of
four items, gender, age band and a prison code; a ratings source in which three assessors drawn
from a pool of five rate each of 40 cases on 4-point ordinal items with a 3-level final
judgement.  It is built with ``veplab.build.build`` from the repository's notebooks, and the test
checks that every analysis published its tables (or its one-sentence reason), that the numbers on
the page are the package's numbers, and that no page carries the demo's wording.

Everything is invented and clearly synthetic; no real person or prison is in it.
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

ROOT = Path(__file__).resolve().parents[1]

# Wording of the demo study that must never appear on another study's pages.
DEMO_WORDS = ["Kazakhstan", "Tunisia", "Uganda", "re-arrest", "rearrest", "two assessors", "two independent",
              "the two", "officer", "climate", "violent extremist", "prison_id", "push_pull", "rna_",
              "risk-and-needs", "Nelson Mandela", "by country"]

AGREE = {1: "Strongly disagree", 2: "Disagree", 3: "Neither", 4: "Agree", 5: "Strongly agree"}
PRESENT = {0: "Absent", 1: "Possibly present", 2: "Present", 3: "Clearly present"}
CONCERN = {1: "Low concern", 2: "Some concern", 3: "High concern"}


def _options(labels: dict) -> dict:
    return {code: {"en": text} for code, text in labels.items()}


def _survey_codebook() -> dict:
    items = [
        {"id": "resp_id", "label": "Respondent (pseudonymous code)", "type": "text", "role": "admin",
         "pseudonymised": True},
        {"id": "prison", "label": "Prison", "type": "categorical", "role": "quasi_identifier",
         "options": _options({i: f"Prison {chr(64 + i)}" for i in range(1, 7)})},
        {"id": "country", "label": "Country", "type": "categorical", "role": "quasi_identifier",
         "options": _options({1: "Freedonia"})},
        {"id": "gender", "label": "Gender", "type": "categorical", "role": "quasi_identifier",
         "options": _options({1: "Man", 2: "Woman"})},
        {"id": "age_band", "label": "Age band", "type": "ordinal", "role": "quasi_identifier",
         "options": _options({1: "Younger", 2: "Middle", 3: "Older"})},
    ]
    for scale, text in (("trust", "Trust in staff"), ("hope", "Hope for the future")):
        for j in range(1, 5):
            items.append({"id": f"{scale}_{j}", "label": f"{text}: statement {j}", "type": "likert",
                          "options": _options(AGREE), "missing": {8: "dont_know"}})
    return {"id": "views_v1", "title": {"en": "Views of people in custody"}, "unit": "respondent",
            "id_column": "resp_id", "items": items,
            "scales": [{"id": "trust", "label": {"en": "Trust in staff"}, "items": [f"trust_{j}" for j in range(1, 5)]},
                       {"id": "hope", "label": {"en": "Hope for the future"},
                        "items": [f"hope_{j}" for j in range(1, 5)]}]}


def _ratings_codebook() -> dict:
    items = [
        {"id": "rating_id", "label": "Rating", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "case_id", "label": "Case (pseudonymous code)", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "assessor", "label": "Assessor", "type": "categorical", "role": "admin",
         "options": _options({i: f"Assessor {chr(64 + i)}" for i in range(1, 6)})},
    ]
    for j in range(1, 5):
        items.append({"id": f"need_{j}", "label": f"Need indicator {j}", "type": "ordinal",
                      "options": _options(PRESENT)})
    items.append({"id": "concern", "label": "Overall level of concern", "type": "ordinal",
                  "options": _options(CONCERN), "role": "outcome"})
    return {"id": "needs_v1", "title": {"en": "Needs screening by case workers"}, "unit": "rating",
            "id_column": "rating_id", "design": {"subject": "case_id", "rater": "assessor", "judgement": "concern"},
            "items": items, "scales": [{"id": "needs", "label": {"en": "Needs"},
                                        "items": [f"need_{j}" for j in range(1, 5)], "score": "sum"}]}


def _make_study(root: Path, seed: int = 2, *, name: str = "small", breakdowns: bool = True) -> Path:
    rng = np.random.default_rng(seed)
    (root / "surveys").mkdir(parents=True, exist_ok=True)
    study = root / "research" / name
    (study / "data").mkdir(parents=True)
    (study / "views.yml").write_text(yaml.safe_dump(_survey_codebook(), sort_keys=False))
    (study / "needs.yml").write_text(yaml.safe_dump(_ratings_codebook(), sort_keys=False))
    n = 240
    survey = pd.DataFrame({"resp_id": [f"V{i:04d}" for i in range(n)], "prison": rng.integers(1, 7, n),
                           "country": 1, "gender": rng.choice([1, 2], n, p=[0.75, 0.25]),
                           "age_band": rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2])})
    for scale in ("trust", "hope"):
        latent = rng.normal(size=n)
        for j in range(1, 5):
            z = 0.8 * latent + 0.6 * rng.normal(size=n)
            col = 1 + np.searchsorted([-1.2, -0.4, 0.4, 1.2], z)
            col[rng.random(n) < 0.03] = 8
            survey[f"{scale}_{j}"] = col
    survey.to_csv(study / "data" / "views.csv", index=False)
    rows = []
    need = rng.normal(size=40)
    for c in range(40):
        for a in sorted(rng.choice(np.arange(1, 6), size=3, replace=False)):
            vals = np.clip(np.round(need[c] + 1.5 + rng.normal(scale=0.6, size=4)), 0, 3).astype(int)
            rows.append({"rating_id": f"G{len(rows):04d}", "case_id": f"K{c:03d}", "assessor": int(a),
                         **{f"need_{j + 1}": int(v) for j, v in enumerate(vals)},
                         "concern": int(np.clip(np.round(need[c] + 2 + rng.normal(scale=0.5)), 1, 3))})
    pd.DataFrame(rows).to_csv(study / "data" / "needs.csv", index=False)
    config = {
        "id": name, "title": {"en": "A small synthetic test study"},
        "description": {"en": "Invented data: a survey of people in custody in one country and a needs "
                              "screening rated by several case workers per case."},
        "languages": ["en"], "seed": 3, "disclosure": {"threshold": 10},
        "sources": {"views": {"path": "data/views.csv", "codebook": "views.yml"},
                    "needs": {"path": "data/needs.csv", "codebook": "needs.yml"}},
        "design": {"cluster": "prison", "breakdowns": ["country", "gender", "age_band"]},
        "analyses": {"overview": {}, "data_quality": {},
                     # the ratings source named among the scale sources too: its scales are shown once
                     "reliability": {"sources": ["views", "needs"], "n_boot": 20,
                                     "ratings": {"source": "needs", "subject": "case_id", "rater": "assessor"}}},
    }
    if not breakdowns:
        config["design"] = {"cluster": "prison"}
        config["analyses"] = {"overview": {}}
    (study / "study.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return study


def _text(page: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))).split())


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    from veplab.build import build

    root = tmp_path_factory.mktemp("small_study")
    study = _make_study(root)
    res = build(study, jobs=3, notebooks_dir=ROOT / "notebooks", reports=root / "reports", pdf=False)
    assert res.ok and res.published, [(r.name, r.error) for r in res.failed]
    return study, root / "reports" / "small"


def test_three_notebooks_on_a_small_non_demo_study(small_report):
    from veplab.codebook import from_dict
    from veplab.data import load
    from veplab.reliability import fleiss_kappa, krippendorff_alpha, long_to_wide

    study, report = small_report
    results = json.loads((report / "results.json").read_text())["notebooks"]
    pages = {p.stem: _text(p) for p in report.glob("*.html")}

    # overview: one country -> no country table, one sentence instead; the breakdowns that vary are tabulated
    ov = results["overview"]
    assert {"views_by_gender", "views_by_age_band", "views_by_gender_age_band"} <= set(ov["tables"])
    assert not any("country" in k for k in ov["tables"])
    assert "views_by_gender_age_band_chart" in ov["figures"]
    assert ov["values"]["views_n"]["value"] == 240 and ov["values"]["needs_n"]["value"] == 40  # cases, not ratings
    by_gender = ov["tables"]["views_by_gender"]
    assert by_gender["index"][-1] == "Total" and by_gender["data"][-1][0] == 240
    assert "All records in this source share the same country (Freedonia), so it is not broken down." \
        in pages["overview"]
    assert "None of the characteristics the study design names is recorded in this source." in pages["overview"]

    # data quality: every source
    dq = results["data_quality"]
    assert {"views_missing_by_item", "needs_missing_by_item", "views_duplicates"} <= set(dq["tables"])

    # reliability: both scales, and agreement of three assessors from a pool of five
    rel = results["reliability"]
    assert {"views_scales", "views_items", "needs_scales", "needs_agreement", "needs_judgement_spread"} \
        <= set(rel["tables"])
    assert "needs_judgement_agreement_table" not in rel["tables"]  # a two-rater table: not for three
    vals = rel["values"]
    assert vals["needs_n_raters"]["value"] == 5 and vals["needs_ratings_per_case"]["value"] == 3
    assert "Each case was rated by 3 assessors drawn from a pool of 5." in pages["reliability"]
    ratings = pd.read_csv(study / "data" / "needs.csv")
    wide = long_to_wide(ratings, "case_id", "assessor", "concern")
    assert vals["needs_judgement_kappa"]["value"] == pytest.approx(fleiss_kappa(wide, levels=[1, 2, 3]).estimate,
                                                                 rel=1e-12)
    assert "Fleiss' kappa" in vals["needs_judgement_kappa"]["caption"]
    assert vals["needs_judgement_alpha"]["value"] == pytest.approx(
        krippendorff_alpha(wide, "ordinal", n_boot=0, levels=[1, 2, 3]).estimate, rel=1e-12)
    agreement = rel["tables"]["needs_agreement"]
    assert "fleiss_kappa" in agreement["columns"] and "kripp_alpha" in agreement["columns"]
    assert agreement["index"] == ["need_1", "need_2", "need_3", "need_4", "concern"]
    icc_form = agreement["data"][-1][agreement["columns"].index("icc_form")]
    assert icc_form == "ICC(1)"
    survey = load(study / "data" / "views.csv", from_dict(_survey_codebook()))
    assert rel["values"]["views_alpha_median"]["n"] == len(survey)
    assert "Needs screening by case workers" in pages["reliability"]

    for name, text in pages.items():
        for word in DEMO_WORDS:
            assert word.lower() not in text.lower(), f"{name}.html says {word!r}"
        assert "withheld" not in text.lower() or name == "index", f"{name}.html withheld something"
        assert "Traceback" not in text, name


def test_overview_without_breakdowns(tmp_path):
    """A study whose design names no breakdowns: counts only, and one sentence saying why."""
    from veplab.build import build

    study = _make_study(tmp_path, name="plain", breakdowns=False)
    res = build(study, notebooks_dir=ROOT / "notebooks", reports=tmp_path / "reports", pdf=False)
    assert res.ok and res.published, [(r.name, r.error) for r in res.failed]
    ov = json.loads((tmp_path / "reports" / "plain" / "results.json").read_text())["notebooks"]["overview"]
    assert ov["tables"] == {} and ov["values"]["views_n"]["value"] == 240 and ov["values"]["needs_n"]["value"] == 40
    page = _text(tmp_path / "reports" / "plain" / "overview.html")
    assert ("The study design names no characteristics to break the numbers down by (design.breakdowns), so only "
            "the number of records in each source is shown.") in page
    assert "None of the characteristics" not in page  # said once for the study, not for every source
