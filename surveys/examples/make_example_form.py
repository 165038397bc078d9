"""Make ``example_form.xlsx``: a small, synthetic XLSForm showing veplab's columns (surveys/README.md).

    python surveys/examples/make_example_form.py                      # writes surveys/examples/example_form.xlsx
    python surveys/examples/make_example_form.py --export export.csv  # and a synthetic Kobo export of it

The form is what a research centre would field in KoboToolbox: Kobo's metadata
(start, end, today, deviceid, username), a prison code, gender and age group,
three groups of agree/disagree statements, a note and a calculation, labels in
English and French.  Its veplab columns make the groups scales:

* ``veplab::scale`` on a ``begin_group`` row scores the group's questions as one
  scale (``hardship``, ``belonging``); on a question row it names the scale(s)
  the question belongs to (``support_violence``);
* ``veplab::domain`` on a ``begin_group`` row gives the scale's domain (push,
  pull, protective, outcome: what the push_pull analysis reads);
* ``veplab::reverse`` marks a reverse-keyed statement, ``veplab::role`` a
  question's privacy role (``quasi_identifier`` for the demographics);
* the ``veplab_scales`` sheet labels a scale, sets its domain, its score (mean
  or sum) and ``min_items`` (answered items needed for a score); ``items`` may
  stay empty when the questions are marked with ``veplab::scale``;
* ``veplab_missing`` on the choices sheet marks "Don't know" as a missing code;
* settings ``veplab::id_column: uuid``: each submission is identified by Kobo's
  ``_uuid``.

Everything is invented (statements written for this example, no real prison or
person).  The export is random data, reproducible from ``--seed``.
"""

from __future__ import annotations

import argparse
import csv
import random
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
EN, FR = "label::English (en)", "label::French (fr)"

AGREE = [("1", "Strongly disagree", "Pas du tout d'accord"), ("2", "Disagree", "Plutôt pas d'accord"),
         ("3", "Neither agree nor disagree", "Ni d'accord ni pas d'accord"), ("4", "Agree", "Plutôt d'accord"),
         ("5", "Strongly agree", "Tout à fait d'accord")]
STATEMENTS = {
    "hardship": ("Hardship in prison", "Difficultés en détention", "push", [
        ("There is not enough food for everyone here.", "Il n'y a pas assez de nourriture pour tous ici."),
        ("I am treated unfairly by the rules of this prison.",
         "Le règlement de cet établissement me traite injustement."),
        ("I feel unsafe most days.", "Je ne me sens pas en sécurité la plupart du temps."),
        ("I can get help when I need it.", "Je peux obtenir de l'aide quand j'en ai besoin."),
    ]),
    "belonging": ("Need to belong", "Besoin d'appartenance", "pull", [
        ("I want to be part of a group that protects me.", "Je veux faire partie d'un groupe qui me protège."),
        ("Some groups here give me a sense of purpose.", "Certains groupes ici donnent un sens à ma vie."),
        ("I would follow a leader who respects me.", "Je suivrais un chef qui me respecte."),
        ("I feel alone in this prison.", "Je me sens seul(e) dans cet établissement."),
    ]),
    "support_violence": ("Support for violence", "Soutien à la violence", "outcome", [
        ("Violence is sometimes needed to change things.", "La violence est parfois nécessaire pour changer les "
                                                            "choses."),
        ("People who use violence for a cause deserve respect.",
         "Ceux qui recourent à la violence pour une cause méritent le respect."),
        ("I understand people who attack the authorities.", "Je comprends ceux qui attaquent les autorités."),
    ]),
}
REVERSED = {"hardship_4"}
PRISONS = [(str(k), f"Prison {chr(64 + k)}", f"Établissement {chr(64 + k)}") for k in range(1, 7)]


def survey_rows() -> list[dict[str, str]]:
    rows = [{"type": t, "name": t} for t in ("start", "end", "today", "deviceid", "username")]
    rows += [
        {"type": "note", "name": "intro", EN: "This survey is anonymous. You may skip any question.",
         FR: "Ce questionnaire est anonyme. Vous pouvez passer toute question."},
        {"type": "select_one prisons", "name": "prison", EN: "Prison code", FR: "Code de l'établissement",
         "required": "yes"},
        {"type": "select_one genders", "name": "gender", EN: "Gender", FR: "Genre", "required": "yes",
         "veplab::role": "quasi_identifier"},
        {"type": "select_one ages", "name": "age_band", EN: "Age group", FR: "Tranche d'âge", "required": "yes",
         "veplab::role": "quasi_identifier", "veplab::type": "ordinal"},
    ]
    for sid, (en, fr, domain, items) in STATEMENTS.items():
        group = {"type": "begin_group", "name": f"{sid}_group", EN: en, FR: fr, "appearance": "field-list"}
        if sid != "support_violence":  # the group is the scale; support_violence is marked question by question
            group.update({"veplab::scale": sid, "veplab::domain": domain})
        rows.append(group)
        for k, (s_en, s_fr) in enumerate(items, start=1):
            name = f"{sid}_{k}"
            row = {"type": "select_one agree", "name": name, EN: s_en, FR: s_fr}
            if name in REVERSED:
                row["veplab::reverse"] = "yes"
            if sid == "support_violence":
                row["veplab::scale"] = sid
            rows.append(row)
        rows.append({"type": "end_group", "name": ""})
    rows.append({"type": "calculate", "name": "n_views",
                 "calculation": "count-selected(${support_violence_1}) + count-selected(${support_violence_2})"})
    return rows


def choice_rows() -> list[dict[str, str]]:
    rows = [{"list_name": "prisons", "name": c, EN: en, FR: fr} for c, en, fr in PRISONS]
    rows += [{"list_name": "genders", "name": "1", EN: "Man", FR: "Homme"},
             {"list_name": "genders", "name": "2", EN: "Woman", FR: "Femme"}]
    rows += [{"list_name": "ages", "name": c, EN: en, FR: fr} for c, en, fr in
             (("1", "18-29", "18-29 ans"), ("2", "30-44", "30-44 ans"), ("3", "45 and over", "45 ans et plus"))]
    rows += [{"list_name": "agree", "name": c, EN: en, FR: fr} for c, en, fr in AGREE]
    rows.append({"list_name": "agree", "name": "8", EN: "Don't know", FR: "Ne sait pas",
                 "veplab_missing": "dont_know"})
    return rows


SETTINGS = {"form_title": "Views of life in prison (synthetic example)", "form_id": "example_views",
            "version": "2025010101", "default_language": "English (en)",
            "veplab::title::French (fr)": "Regards sur la vie en détention (exemple synthétique)",
            "veplab::id_column": "uuid", "veplab::unit": "respondent"}
SCALES = [
    {"id": "hardship", EN: "Hardship in prison", FR: "Difficultés en détention", "items": "", "score": "mean",
     "min_items": "3"},
    {"id": "belonging", EN: "Need to belong", FR: "Besoin d'appartenance", "items": "", "score": "mean",
     "min_items": "3"},
    {"id": "support_violence", EN: "Support for violence", FR: "Soutien à la violence", "items": "",
     "score": "mean", "min_items": "2", "domain": "outcome"},
]


def write_form(path: Path = HERE / "example_form.xlsx") -> Path:
    """Write the example form (an .xlsx with survey, choices, settings and veplab_scales sheets)."""
    from veplab.ingest.xlsform import write_sheets

    return write_sheets(path, {"survey": survey_rows(), "choices": choice_rows(), "settings": [SETTINGS],
                               "veplab_scales": SCALES})


def write_export(path: Path, n: int = 240, seed: int = 1) -> Path:
    """A synthetic Kobo export of the form ("XML values and headers", group prefixes, Kobo's metadata)."""
    rng = random.Random(seed)
    header = ["start", "end", "today", "deviceid", "username", "prison", "gender", "age_band"]
    for sid, (_, _, _, items) in STATEMENTS.items():
        header += [f"{sid}_group/{sid}_{k}" for k in range(1, len(items) + 1)]
    header += ["n_views", "meta/instanceID", "_id", "_uuid", "_submission_time", "_validation_status", "_notes",
               "_status", "_submitted_by", "__version__", "_tags", "_index"]
    rows = []
    for i in range(n):
        prison = rng.randint(1, 6)
        hardship = rng.gauss(0.3 * (prison - 3.5), 1)
        belonging = 0.4 * hardship + rng.gauss(0, 1)
        support = 0.5 * hardship + 0.3 * belonging + rng.gauss(0, 0.8)
        day = f"2025-03-{1 + i % 28:02d}"
        uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        row = [f"{day}T09:{i % 60:02d}:00.000+03:00", f"{day}T09:{i % 60:02d}:40.000+03:00", day,
               f"collect:{rng.getrandbits(40):010x}", f"enumerator{1 + i % 4}", prison,
               1 if rng.random() < 0.8 else 2, rng.choice([1, 1, 2, 2, 3])]
        for sid, latent in (("hardship", hardship), ("belonging", belonging), ("support_violence", support)):
            for k in range(1, len(STATEMENTS[sid][3]) + 1):
                z = latent + rng.gauss(0, 0.7)
                value = min(5, max(1, round(3 + z)))
                if f"{sid}_{k}" in REVERSED:
                    value = 6 - value
                row.append(8 if rng.random() < 0.03 else value)
        row += [2, f"uuid:{uid}", 1000 + i, uid, f"{day}T12:00:00", "", "", "submitted_via_web",
                f"enumerator{1 + i % 4}", "vExample1", "", i + 1]
        rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header)
        w.writerows(rows)
    return path


if __name__ == "__main__":  # pragma: no cover
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "example_form.xlsx")
    ap.add_argument("--export", type=Path, help="also write a synthetic Kobo export (CSV) here")
    ap.add_argument("-n", type=int, default=240, help="records in the export")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(write_form(args.out))
    if args.export:
        print(write_export(args.export, n=args.n, seed=args.seed))
