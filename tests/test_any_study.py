"""Any study, not the demo: two studies made from their own forms (tests/_studies.py) build end to end.

* ``three_assessors``: one country, three assessors per case from a pool, no facility audit,
  a follow-up joined to the ratings; analyses overview, data_quality, reliability, validity, push_pull.
* ``prepost``: a staff survey before and after training only, labels in French only.

Every declared analysis produces its outputs, and every part that cannot run says why on its
page (the sentence veplab.analyses gives); no page carries the demo's wording.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from veplab.analyses import resolve_all
from veplab.study import load_study

# Wording of the demo study that must never appear on another study's pages.
DEMO_WORDS = ["Kazakhstan", "Tunisia", "Uganda", "re-arrest", "rearrest", "two assessors", "two independent",
              "officer", "climate", "violent extremist prisoners", "prison_id", "vep_status", "risk_at_release",
              "violence_endorsement", "push_pull.csv", "rna", "Nelson Mandela"]


def _pages(report: Path) -> dict[str, str]:
    return {p.stem: html.unescape(re.sub(r"<[^>]+>", " ", p.read_text(encoding="utf-8")))
            for p in report.glob("*.html")}


def _check(report: Path, info: dict, min_outputs: dict[str, int]) -> None:
    assert info["ok"], f"build failed: {info['errors']} {info.get('leaks')}"
    study = load_study(info["study"])
    resolved, problems = resolve_all(study)
    assert problems == []
    release = json.loads((report / "release.json").read_text())
    pages = _pages(report)
    for name, analysis in resolved.items():
        published = [o for o in release["outputs"] if o["notebook"] == name and o["kind"] != "text"
                     and o["status"] in ("published", "suppressed")]
        assert len(published) >= min_outputs[name], (name, [o["output"] for o in release["outputs"]
                                                            if o["notebook"] == name])
        for part, why in analysis.skipped.items():
            assert " ".join(why.split()) in " ".join(pages[name].split()), f"{name}: no reason shown for {part}"
    for page, text in pages.items():
        for word in DEMO_WORDS:
            assert not re.search(rf"\b{re.escape(word)}", text, re.IGNORECASE), f"{page}.html says {word!r}"
        assert "Traceback" not in text and "Error" not in text.replace("Standard error", ""), page


def test_one_country_three_assessors_no_audit(three_assessors_report):
    report, info = three_assessors_report
    _check(report, info, {"overview": 4, "data_quality": 3, "reliability": 3, "validity": 4, "push_pull": 5})
    results = json.loads((report / "results.json").read_text())["notebooks"]
    pages = _pages(report)
    # one country: no country table, the overview shows the breakdowns that exist
    assert "survey_by_sex_age_group" in results["overview"]["tables"]
    assert not any("country" in k for k in results["overview"]["tables"])
    # three assessors: multi-rater agreement on the final judgement, named honestly
    assert "three" in pages["reliability"].lower() or "3 assessors" in pages["reliability"]
    assert "ratings_judgement_kappa" in results["reliability"]["values"]


def test_prepost_only_study(prepost_report):
    report, info = prepost_report
    _check(report, info, {"overview": 2, "data_quality": 3, "reliability": 2, "outcomes": 2})
    pages = _pages(report)
    assert "Avant la formation" in pages["outcomes"] or "Après la formation" in pages["outcomes"]
