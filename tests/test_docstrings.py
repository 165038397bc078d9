"""Every public statistical function documents its formula, its sources and an example.

The numpy-style docstring of each function listed here must have

* a formula or estimating equation: a line outside the Examples section with
  ``=`` between spaces (``kappa = (po - pe) / (1 - pe)``);
* a ``References`` section (the paper(s), and the R function the result is
  checked against where there is one);
* an ``Examples`` section with at least one doctest (``>>>``); the examples
  themselves are run by tests/test_docstring_examples.py.

Add a new statistic to ``STATISTICS`` when it lands, so that a docstring
that loses one of these fails here.
"""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

STATISTICS: dict[str, list[str]] = {
    "veplab.descriptives": ["wilson_interval", "p_adjust", "endorsement", "compare_groups"],
    "veplab.models": ["logit", "ordinal", "mixed_linear", "mixed_logit", "icc_null"],
    "veplab.latent_classes": ["latent_classes", "adjusted_rand_index", "profile_table"],
    "veplab.reliability": [
        "alpha",
        "item_analysis",
        "icc",
        "icc_oneway",
        "test_retest",
        "cohen_kappa",
        "fleiss_kappa",
        "gwet_ac",
        "percent_agreement",
        "krippendorff_alpha",
    ],
    "veplab.outcomes": [
        "ancova",
        "did",
        "group_means",
        "paired_tests",
        "pre_post",
        "pre_post_long",
        "reliable_change",
        "propensity",
        "kaplan_meier",
        "logrank",
        "cox",
        "cox_zph",
        "concordance",
        "truncate_at_risk",
        "indicators",
    ],
    "veplab.outcomes.prepost": ["wilcoxon_signed_rank"],
    "veplab.validity": [
        "roc_auc",
        "compare_auc",
        "roc_curve",
        "calibration",
        "subgroup_performance",
        "polychoric",
        "dif_ordinal",
        "mantel_haenszel",
    ],
    "veplab.factor_analysis.correlations": ["bivariate_normal_cdf", "cor_smooth"],
    "veplab.factor_analysis.rotation": ["varimax", "oblimin", "promax", "rotate"],
    "veplab.privacy": [
        "suppress_counts",
        "suppress_magnitudes",
        "suppress_stats",
        "dominance",
        "protection_intervals",
        "is_protected",
        "equivalence_class_sizes",
        "individual_risk",
        "risk_report",
    ],
    "veplab.survey": [
        "calibrate",
        "poststratify",
        "rake",
        "SurveyDesign",
        "SurveyDesign.mean",
        "SurveyDesign.total",
        "SurveyDesign.proportion",
        "SurveyDesign.quantile",
        "SurveyDesign.glm",
        "SurveyDesign.subset",
        "SurveyDesign.replicate",
        "ReplicateDesign",
    ],
    "veplab.outcomes.competing": ["cumulative_incidence", "fine_gray", "cause_specific_cox"],
    "veplab.validity.timedep": ["time_auc", "brier_score", "uno_c", "calibration_at"],
    "veplab.validity.decision": ["decision_curve"],
    "veplab.irt": ["rasch", "partial_credit", "lr_test", "item_information", "test_information"],
    "veplab.factor_analysis.confirmatory": ["cfa", "scaled_difference_test"],
}

_SECTION = re.compile(r"^(?P<name>[A-Z][A-Za-z ]+)\n-{3,}\s*$", re.M)


def _sections(doc: str) -> dict[str, str]:
    """Split a cleaned numpy docstring into {section name: text}; the summary is ``""``."""
    out: dict[str, str] = {}
    marks = list(_SECTION.finditer(doc))
    out[""] = doc[: marks[0].start()] if marks else doc
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(doc)
        out[m.group("name").strip()] = doc[m.end() : end]
    return out


def _resolve(module: str, name: str) -> object:
    obj: object = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _cases() -> list[tuple[str, str]]:
    return [(m, n) for m, names in STATISTICS.items() for n in names]


@pytest.mark.parametrize(("module", "name"), _cases(), ids=[f"{m}.{n}" for m, n in _cases()])
def test_statistic_docstring_has_formula_references_and_example(module: str, name: str) -> None:
    obj = _resolve(module, name)
    doc = inspect.cleandoc(inspect.getdoc(obj) or "")
    assert doc, f"{module}.{name} has no docstring"
    sec = _sections(doc)
    refs = sec.get("References", "").strip()
    assert refs, f"{module}.{name}: no 'References' section (numpy style: 'References' underlined with dashes)"
    assert re.search(r"(1[89]|20)\d\d", refs), f"{module}.{name}: the References section cites no dated source"
    assert ">>>" in sec.get("Examples", ""), f"{module}.{name}: no 'Examples' section with a doctest"
    body = "\n".join(text for key, text in sec.items() if key not in ("Examples", "References"))
    assert re.search(r"\S\s=\s\S", body), f"{module}.{name}: no formula or estimating equation (a line with ' = ')"


def test_section_parser_finds_numpy_sections() -> None:
    doc = "Summary.\n\n    x = 1\n\nReferences\n----------\nA (2000).\n\nExamples\n--------\n>>> 1\n1\n"
    sec = _sections(doc)
    assert sec["References"].strip() == "A (2000)."
    assert ">>>" in sec["Examples"]
    assert "x = 1" in sec[""]
    assert "References" not in _sections("Summary only.\nReferences: inline, not a section.")
