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
    "veplab.descriptives": ["wilson_interval", "p_adjust", "endorsement", "compare_groups", "population_shares"],
    "veplab.models": ["logit", "linear", "ordinal", "mixed_linear", "mixed_logit", "icc_null"],
    "veplab.latent_classes": ["latent_classes", "adjusted_rand_index", "profile_table"],
    "veplab.reliability": [
        "alpha",
        "omega",
        "reliability_report",
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
        "power",
        "minimum_detectable_effect",
    ],
    "veplab.outcomes.power": ["design_effect"],
    "veplab.outcomes.design": [
        "pre_post_scales",
        "reliable_change_of",
        "survival_at_horizon",
        "treatment_effects",
        "power_table",
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
    "veplab.factor_analysis.exploratory": [
        "smc", "kmo", "bartlett_sphericity", "efa", "parallel_analysis", "align_loadings"
    ],
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
    "veplab.validity.design": [
        "structure",
        "invariance_across",
        "ordinal_invariance_across",
        "item_response",
        "dif_across",
        "predictive_validity",
        "prediction_over_time",
    ],
    "veplab.validity.report": ["validity_report"],
    "veplab.irt": ["rasch", "partial_credit", "rating_scale", "lr_test", "item_information", "test_information"],
    "veplab.missing": ["impute", "pool"],
    "veplab.push_pull.design": [
        "fit_model",
        "icc_by_cluster",
        "imputation_sensitivity",
        "compare_two_groups",
        "top_item_agreement",
        "endorsement_tables",
        "typology",
    ],
    "veplab.factor_analysis.confirmatory": ["cfa", "scaled_difference_test", "invariance"],
    "veplab.scoring": ["score_scales", "scored_items"],
    "veplab.simulate": ["power"],
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


# --- every public function: References and an example ----------------------------------
#
# Public = a function exported by a public module of veplab (its ``__all__``, or its
# names without a leading underscore).  ``veplab.cli`` is left out: its functions are
# typer commands whose docstrings are the ``--help`` text, tested through the CLI.
# Statistics must also state their formula (STATISTICS above); every other public
# function needs a References section (the paper, standard, specification or R
# function it follows) and an Examples section with a doctest that runs.

_NOT_API = ("veplab.cli", "veplab.describe", "veplab.factors", "veplab.report.charts", "veplab.__main__")


def public_functions() -> dict[str, object]:
    """{dotted name where it is defined: function} for every public veplab function."""
    import pkgutil

    import veplab

    found: dict[str, object] = {}
    for info in pkgutil.walk_packages(veplab.__path__, prefix="veplab."):
        name = info.name
        if any(part.startswith("_") for part in name.split(".")[1:]) or name.startswith(_NOT_API):
            continue
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [k for k in vars(module) if not k.startswith("_")]
        for key in names:
            obj = getattr(module, key, None)
            if not inspect.isfunction(obj) or not obj.__module__.startswith("veplab"):
                continue
            if obj.__module__.startswith(_NOT_API):
                continue
            found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


# Functions still waiting for their References and example.  Remove a name when its
# docstring is complete (the test below fails while a completed name is still listed).
PENDING: frozenset[str] = frozenset({
})

_PUBLIC = public_functions()


@pytest.mark.parametrize("name", list(_PUBLIC))
def test_public_function_has_references_and_example(name: str) -> None:
    doc = inspect.cleandoc(inspect.getdoc(_PUBLIC[name]) or "")
    sec = _sections(doc)
    complete = bool(sec.get("References", "").strip()) and ">>>" in sec.get("Examples", "")
    if name in PENDING:
        assert not complete, f"{name} now has References and an example: remove it from PENDING"
        pytest.skip("docstring pending")
    assert doc, f"{name} has no docstring"
    assert sec.get("References", "").strip(), f"{name}: no 'References' section (numpy style, underlined)"
    assert ">>>" in sec.get("Examples", ""), f"{name}: no 'Examples' section with a doctest"


def test_pending_names_exist() -> None:
    assert not PENDING - set(_PUBLIC), f"PENDING names no public function: {sorted(PENDING - set(_PUBLIC))}"


def test_public_functions_found() -> None:
    assert len(_PUBLIC) > 250
    assert "veplab.reliability._alpha.alpha" in _PUBLIC
    assert not any(name.startswith("veplab.cli.") for name in _PUBLIC)


def test_references_name_nothing_outside_the_repository() -> None:
    """A reader of a docstring has the repository, not the developers' machines."""
    import pathlib

    src = pathlib.Path(__file__).resolve().parents[1] / "src" / "veplab"
    bad = [f"{p.relative_to(src)}:{i}" for p in src.rglob("*.py")
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "/work/" in line]
    assert bad == [], f"paths of a developer machine in {bad[:10]}"
    assert (src.parents[1] / "docs" / "DESIGN.md").exists()


def test_every_statistic_is_listed() -> None:
    """A public function of the methods or applied layers that returns a Result is a statistic:
    it must be in STATISTICS, so that its docstring keeps a formula and a dated source."""
    import typing

    from test_architecture import layer_of

    from veplab._results import Result

    listed = {id(_resolve(m, n)) for m, names in STATISTICS.items() for n in names}
    missing = []
    for name, f in _PUBLIC.items():
        if layer_of(f.__module__) not in ("methods", "applied"):
            continue
        ret = typing.get_type_hints(f).get("return")
        if inspect.isclass(ret) and issubclass(ret, Result) and id(f) not in listed:
            missing.append(name)
    assert missing == [], f"add to STATISTICS (formula, References with a dated source, example): {missing}"


#: Examples that cannot run in the test suite, with the reason.
ONLY_SKIPPED_EXAMPLES = {
    "veplab.brief._render.html_to_pdf": "needs headless Chromium",
    "veplab.brief._render.layout_pdf": "needs headless Chromium",
    "veplab.brief._render.render_fitted": "needs headless Chromium",
}


@pytest.mark.parametrize("name", list(_PUBLIC))
def test_an_example_runs(name: str) -> None:
    """At least one line of each example runs (a docstring whose every line is +SKIP shows nothing)."""
    ex = _sections(inspect.cleandoc(inspect.getdoc(_PUBLIC[name]) or "")).get("Examples", "")
    lines = [line for line in ex.splitlines() if line.strip().startswith(">>>")]
    if not lines or name in PENDING:
        pytest.skip("no example yet")
    ran = [line for line in lines if "doctest: +SKIP" not in line]
    if name in ONLY_SKIPPED_EXAMPLES:
        assert not ran, f"{name} now has an example that runs: remove it from ONLY_SKIPPED_EXAMPLES"
    else:
        assert ran, f"{name}: every line of its example is skipped; give one that runs (or say why in ONLY_SKIPPED_EXAMPLES)"


def test_help_of_every_subpackage_lists_its_exports() -> None:
    import pkgutil

    import veplab

    for info in pkgutil.iter_modules(veplab.__path__):
        if not info.ispkg or info.name.startswith("_") or info.name == "factors":
            continue
        module = importlib.import_module(f"veplab.{info.name}")
        names = [n for n in getattr(module, "__all__", []) if inspect.isfunction(getattr(module, n, None))]
        missing = [n for n in names if f"``{n}``" not in (module.__doc__ or "")]
        assert missing == [], f"veplab.{info.name}'s docstring does not list {missing}"
