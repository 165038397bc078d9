"""Two small studies that are not the demo, each made from its own XLSForms.

* ``three_assessors``: one country (no country column), a prisoners' survey with three
  scales (push, pull, outcome) in eight prisons, a risk-and-needs tool rated by three
  assessors per case drawn from a pool of five (4-point items, 3-level judgement), and
  a follow-up with a yes/no outcome joined to the ratings by a case id.  No facility
  audit, no staff survey.
* ``prepost``: a staff survey before and after training, only (one country, two scales,
  labels in French only).

Everything is invented and clearly synthetic; no real person or prison is in it.
The forms go through :func:`veplab.ingest.xlsform.from_xlsform` exactly as a research
centre's would, so these studies test the whole path from form to report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
EN = "label::English (en)"
FR = "label::French (fr)"


def _write_form(path: Path, survey: list[dict[str, Any]], choices: list[dict[str, Any]],
                settings: dict[str, Any], scales: list[dict[str, Any]] | None = None) -> Path:
    from veplab.ingest.xlsform import write_sheets

    sheets = {"survey": survey, "choices": choices, "settings": [settings]}
    if scales:
        sheets["veplab_scales"] = scales
    return write_sheets(path, sheets)


def _choices(list_name: str, options: list[tuple[Any, str]], lang: str = EN) -> list[dict[str, Any]]:
    return [{"list_name": list_name, "name": str(code), lang: text} for code, text in options]


AGREE = [(1, "Strongly disagree"), (2, "Disagree"), (3, "Neither agree nor disagree"), (4, "Agree"),
         (5, "Strongly agree"), (8, "Don't know")]
AGREE_FR = [(1, "Pas du tout d'accord"), (2, "Plutôt pas d'accord"), (3, "Ni d'accord ni pas d'accord"),
            (4, "Plutôt d'accord"), (5, "Tout à fait d'accord")]


def _likert(rng: np.random.Generator, latent: np.ndarray, k: int, *, levels: int = 5,
            loading: float = 0.8) -> np.ndarray:
    """k Likert items (1..levels) driven by one latent trait."""
    noise = rng.normal(size=(len(latent), k))
    z = loading * latent[:, None] + np.sqrt(1 - loading ** 2) * noise
    cuts = np.quantile(rng.normal(size=20000), np.linspace(0, 1, levels + 1)[1:-1])
    return 1 + (z[..., None] > cuts).sum(axis=-1)


def _project(root: Path) -> Path:
    (root / "surveys").mkdir(parents=True, exist_ok=True)
    return root


def _convert(form: Path, out: Path) -> None:
    from veplab.ingest.xlsform import from_xlsform

    conv = from_xlsform(form, check_with_pyxform=False)
    conv.write(out, form.name)


def three_assessors(root: Path, *, seed: int = 7, n_people: int = 320, n_cases: int = 48,
                    sampled: bool = False) -> Path:
    """Make the ``three_assessors`` study under ``root`` (a project folder); returns the study folder.

    ``sampled=True`` makes it a sampled survey (the ``weighted`` study): prisons drawn
    within two strata (4 of 10 large, 4 of 20 small), women sampled at nine times the
    rate of men (half the sample, a tenth of the population) and endorsing violence
    less, with ``stratum``, ``weight`` and ``prisons_in_stratum`` columns, a
    ``population.yml`` of sex margins and ``design:`` weights/strata/fpc/population;
    only the overview and push_pull analyses run.
    """
    rng = np.random.default_rng(seed)
    root = _project(root)
    study = root / "research" / "centre_a"
    forms = study / "forms"
    data = study / "data"
    data.mkdir(parents=True, exist_ok=True)

    # ---- prisoners' survey
    scales = {"hardship": ("push", "Hardship in prison"), "belonging": ("pull", "Need to belong"),
              "support_violence": ("outcome", "Support for violence")}
    survey = [
        {"type": "text", "name": "resp_code", EN: "Respondent code", "veplab::role": "admin",
         "veplab::pseudonymised": "yes"},
        {"type": "text", "name": "facility", EN: "Facility code", "veplab::role": "quasi_identifier"},
        {"type": "select_one sex", "name": "sex", EN: "Sex", "veplab::role": "quasi_identifier"},
        {"type": "select_one ages", "name": "age_group", EN: "Age group", "veplab::role": "quasi_identifier",
         "veplab::type": "ordinal"},
    ]
    if sampled:
        survey += [
            {"type": "integer", "name": "stratum", EN: "Sampling stratum of the prison", "veplab::role": "admin"},
            {"type": "integer", "name": "prisons_in_stratum", EN: "Prisons in the stratum",
             "veplab::role": "admin"},
            {"type": "decimal", "name": "weight", EN: "Sampling weight", "veplab::role": "admin"},
        ]
    for sid, (_, label) in scales.items():
        for j in range(1, 5):
            survey.append({"type": "select_one agree", "name": f"{sid}_{j}", EN: f"{label}: statement {j}",
                           "veplab::type": "likert"})
    choices = (_choices("sex", [(1, "Male"), (2, "Female")]) + _choices("ages", [(1, "18-29"), (2, "30-44"),
                                                                               (3, "45 and over")])
               + _choices("agree", AGREE))
    scale_rows = [{"id": sid, EN: label, "items": " ".join(f"{sid}_{j}" for j in range(1, 5)), "score": "mean",
                   "domain": dom} for sid, (dom, label) in scales.items()]
    form = _write_form(forms / "survey.xlsx", survey, choices,
                       {"form_title": "Survey of prisoners' views (synthetic)", "form_id": "centre_a_survey",
                        "veplab::id_column": "resp_code", "veplab::unit": "respondent"}, scale_rows)
    _convert(form, study / "survey.yml")
    prisons = [f"F{i:02d}" for i in range(1, 9)]
    facility = rng.choice(prisons, size=n_people)
    effect = {p: rng.normal(scale=0.4) for p in prisons}
    sex = rng.choice([1, 2], size=n_people, p=[0.5, 0.5] if sampled else [0.8, 0.2])
    age = rng.choice([1, 2, 3], size=n_people, p=[0.4, 0.4, 0.2])
    push = rng.normal(size=n_people) + np.array([effect[p] for p in facility])
    pull = 0.4 * push + rng.normal(size=n_people)
    outcome = 0.5 * push + 0.3 * pull + rng.normal(size=n_people) * 0.8
    if sampled:  # women (oversampled) endorse violence much less
        outcome = outcome - 1.2 * (sex == 2)
    df = pd.DataFrame({"resp_code": [f"R{i:04d}" for i in range(n_people)], "facility": facility, "sex": sex,
                       "age_group": age})
    if sampled:  # strata: F01-F04 drawn from 10 large prisons, F05-F08 from 20 small ones; men at 1/9 women's rate
        large = np.isin(facility, prisons[:4])
        df["stratum"] = np.where(large, 1, 2)
        df["prisons_in_stratum"] = np.where(large, 10, 20)
        df["weight"] = np.where(large, 10 / 4, 20 / 4) * np.where(sex == 1, 1 / 0.05, 1 / 0.45)
    for sid, latent in (("hardship", push), ("belonging", pull), ("support_violence", outcome)):
        items = _likert(rng, latent, 4)
        for j in range(4):
            col = items[:, j].astype(float)
            col[rng.random(n_people) < 0.02] = 8  # a few "don't know"
            df[f"{sid}_{j + 1}"] = col.astype(int)
    df.to_csv(data / "survey.csv", index=False)

    # ---- risk-and-needs ratings: three assessors per case from a pool of five
    r_items = [f"need_{j}" for j in range(1, 7)]
    levels4 = [(0, "Not present"), (1, "Slightly present"), (2, "Moderately present"), (3, "Clearly present")]
    rsurvey = [
        {"type": "text", "name": "rating_no", EN: "Rating number", "veplab::role": "admin"},
        {"type": "text", "name": "case_ref", EN: "Case (pseudonymous code)", "veplab::role": "admin",
         "veplab::pseudonymised": "yes"},
        {"type": "select_one assessors", "name": "assessor", EN: "Assessor", "veplab::role": "admin"},
    ] + [{"type": "select_one present", "name": it, EN: f"Need indicator {it[-1]}", "veplab::type": "ordinal"}
         for it in r_items] + [
        {"type": "select_one risk", "name": "overall_risk", EN: "Overall risk judgement", "veplab::type": "ordinal"},
    ]
    rchoices = (_choices("assessors", [(i, f"Assessor {chr(64 + i)}") for i in range(1, 6)])
                + _choices("present", levels4) + _choices("risk", [(1, "Low"), (2, "Medium"), (3, "High")]))
    rform = _write_form(forms / "ratings.xlsx", rsurvey, rchoices,
                        {"form_title": "Risk and needs ratings (synthetic)", "form_id": "centre_a_ratings",
                         "veplab::id_column": "rating_no", "veplab::unit": "rating"},
                        [{"id": "needs", EN: "Needs", "items": " ".join(r_items), "score": "sum"}])
    _convert(rform, study / "ratings.yml")
    true_need = rng.normal(size=n_cases)
    rows = []
    for c in range(n_cases):
        for a in sorted(rng.choice(np.arange(1, 6), size=3, replace=False)):
            z = true_need[c] + rng.normal(scale=0.5, size=len(r_items))
            vals = np.clip(np.round(z + 1.5), 0, 3).astype(int)
            judgement = int(np.clip(np.round(true_need[c] + rng.normal(scale=0.4) + 2), 1, 3))
            rows.append({"rating_no": f"N{len(rows):05d}", "case_ref": f"C{c:03d}", "assessor": int(a),
                         **dict(zip(r_items, vals)), "overall_risk": judgement})
    pd.DataFrame(rows).to_csv(data / "ratings.csv", index=False)

    # ---- follow-up: a yes/no outcome for each rated case
    fsurvey = [
        {"type": "text", "name": "case_ref", EN: "Case (pseudonymous code)", "veplab::role": "admin",
         "veplab::pseudonymised": "yes"},
        {"type": "select_one yn", "name": "new_offence", EN: "New violent offence within a year",
         "veplab::role": "outcome", "veplab::type": "binary"},
    ]
    fform = _write_form(forms / "followup.xlsx", fsurvey, _choices("yn", [(0, "No"), (1, "Yes")]),
                        {"form_title": "One-year follow-up (synthetic)", "form_id": "centre_a_followup",
                         "veplab::id_column": "case_ref", "veplab::unit": "person"})
    _convert(fform, study / "followup.yml")
    p = 1 / (1 + np.exp(-(-0.6 + 1.1 * true_need)))
    pd.DataFrame({"case_ref": [f"C{c:03d}" for c in range(n_cases)],
                  "new_offence": (rng.random(n_cases) < p).astype(int)}).to_csv(data / "followup.csv", index=False)

    config = {
        "id": "centre_a",
        "title": {"en": "Centre A: views of prisoners and a risk tool (synthetic test study)"},
        "description": {"en": "A synthetic test study from one country: a survey, ratings by three assessors "
                              "per case and a one-year follow-up."},
        "languages": ["en"],
        "seed": 11,
        "disclosure": {"threshold": 10},
        "sources": {
            "survey": {"path": "data/survey.csv", "codebook": "survey.yml"},
            "ratings": {"path": "data/ratings.csv", "codebook": "ratings.yml"},
            "followup": {"path": "data/followup.csv", "codebook": "followup.yml"},
        },
        "design": {"cluster": "facility", "breakdowns": ["sex", "age_group"]},
        "analyses": {
            "overview": {"sources": ["survey", "ratings", "followup"]},
            "data_quality": {},
            "reliability": {"sources": ["survey"], "n_boot": 50,
                            "ratings": {"source": "ratings", "subject": "case_ref", "rater": "assessor",
                                        "judgement": "overall_risk"}},
            "validity": {"source": "survey", "n_iter": 5,
                         "prediction": {"source": "followup", "score": "overall_risk", "join": "case_ref"}},
            "push_pull": {"source": "survey", "imputations": 2},
        },
    }
    if sampled:
        w = df["weight"].to_numpy()
        men, women = float(w[sex == 1].sum()), float(w[sex == 2].sum())
        pop = {"source": "invented prison statistics (synthetic test study)",
               "total": round(men * 1.04) + round(women * 0.9),
               "margins": {"sex": {1: round(men * 1.04), 2: round(women * 0.9)}}}
        (study / "population.yml").write_text(yaml.safe_dump(pop, sort_keys=False), encoding="utf-8")
        config["title"] = {"en": "Centre A (sampled): a sampled prisoners' survey with weights (synthetic test study)"}
        config["design"].update({"weights": "weight", "strata": "stratum", "fpc": "prisons_in_stratum",
                                 "population": "population.yml"})
        config["analyses"] = {"overview": {"sources": ["survey", "ratings"]},
                              "push_pull": {"source": "survey", "imputations": 0}}
    (study / "study.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return study


def weighted(root: Path) -> Path:
    """The ``three_assessors`` study as a sampled survey with weights, strata, fpc and population margins."""
    return three_assessors(root, sampled=True)


def prepost(root: Path, *, seed: int = 3, n_staff: int = 140) -> Path:
    """Make the ``prepost`` study under ``root``; returns the study folder.  Labels are in French only."""
    rng = np.random.default_rng(seed)
    root = _project(root)
    study = root / "research" / "centre_b"
    data = study / "data"
    data.mkdir(parents=True, exist_ok=True)
    scales = {"attitudes": "Attitudes envers les détenus", "competence": "Sentiment de compétence"}
    survey = [
        {"type": "text", "name": "row_id", FR: "Numéro de ligne", "veplab::role": "admin"},
        {"type": "text", "name": "agent", FR: "Agent (code pseudonyme)", "veplab::role": "admin",
         "veplab::pseudonymised": "yes"},
        {"type": "select_one vague", "name": "vague", FR: "Vague", "veplab::role": "admin"},
        {"type": "select_one genre", "name": "genre", FR: "Genre", "veplab::role": "quasi_identifier"},
    ]
    for sid, label in scales.items():
        for j in range(1, 5):
            survey.append({"type": "select_one accord", "name": f"{sid}_{j}", FR: f"{label} : affirmation {j}",
                           "veplab::type": "likert"})
    choices = (_choices("vague", [(1, "Avant la formation"), (2, "Après la formation")], FR)
               + _choices("genre", [(1, "Homme"), (2, "Femme")], FR) + _choices("accord", AGREE_FR, FR))
    scale_rows = [{"id": sid, FR: label, "items": " ".join(f"{sid}_{j}" for j in range(1, 5)), "score": "mean"}
                  for sid, label in scales.items()]
    form = _write_form(study / "forms" / "personnel.xlsx", survey, choices,
                       {"form_title": "Enquête auprès du personnel (synthétique)", "form_id": "centre_b_staff",
                        "default_language": "French (fr)", "veplab::id_column": "row_id",
                        "veplab::unit": "response"}, scale_rows)
    _convert(form, study / "personnel.yml")
    genre = rng.choice([1, 2], size=n_staff, p=[0.7, 0.3])
    base = {s: rng.normal(size=n_staff) for s in scales}
    rows = []
    for wave in (1, 2):
        for i in range(n_staff):
            row = {"row_id": f"L{len(rows):05d}", "agent": f"A{i:04d}", "vague": wave, "genre": int(genre[i])}
            for sid in scales:
                shift = 0.5 if wave == 2 else 0.0
                items = _likert(rng, np.array([base[sid][i] + shift]), 4)[0]
                row.update({f"{sid}_{j + 1}": int(v) for j, v in enumerate(items)})
            rows.append(row)
    pd.DataFrame(rows).to_csv(data / "personnel.csv", index=False)
    config = {
        "id": "centre_b",
        "title": {"fr": "Centre B : formation du personnel (étude de test synthétique)"},
        "languages": ["fr"],
        "seed": 5,
        "sources": {"personnel": {"path": "data/personnel.csv", "codebook": "personnel.yml"}},
        "design": {"breakdowns": ["genre"]},
        "analyses": {
            "overview": {},
            "data_quality": {},
            "reliability": {"subsets": {"personnel": {"vague": 1}}, "n_boot": 50},
            "outcomes": {"prepost": {"source": "personnel", "id": "agent", "wave": "vague"}},
        },
    }
    (study / "study.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return study


if __name__ == "__main__":  # pragma: no cover - to look at the studies: python tests/_studies.py OUTDIR
    import sys

    out = Path(sys.argv[1])
    print(three_assessors(out), prepost(out))
