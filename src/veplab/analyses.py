"""The analyses a study runs, declared in ``study.yml`` under ``analyses:``.

Each analysis is a notebook in ``notebooks/`` (``overview``, ``data_quality``,
``reliability``, ``validity``, ``push_pull``, ``outcomes``, ``simulation``).  A study says
which ones it runs and on which of its sources; everything else has a default
derived from the study's ``design:`` and its codebooks (scales and their
``domain:``, item roles, a ratings codebook's ``design: {subject, rater,
judgement}``, a follow-up codebook's ``survival: {time, event}``)::

    design:
      cluster: prison_id              # people nested in prisons
      breakdowns: [gender, age_band]  # disaggregation of every table, chart and brief
    analyses:
      overview:     {sources: [survey, rna]}
      reliability:  {sources: [survey], ratings: {source: rna}}
      validity:     {source: survey, prediction: {source: followup, score: final_risk, join: case_id}}
      push_pull:    {source: survey, facility: {source: audit, predictors: [occupancy]}}
      outcomes:     {prepost: {source: staff, id: officer_id, wave: wave}}
      simulation:   {spec: power.yml, reps: 1000}   # power curve of a planned design

:data:`ANALYSES` lists every analysis with its keys (type, default, meaning);
``veplab analyses`` prints it, and the README's "Your own study" holds the same
text.  :func:`check_analyses` validates a study's ``analyses:`` (unknown keys,
wrong types, unknown sources, columns or scales are errors naming the key and
the closest valid name); :func:`resolve` fills in the defaults and says, for
every optional part that will not run, why (one sentence a page can show).

>>> from veplab.analyses import ANALYSES
>>> sorted(ANALYSES)
['data_quality', 'outcomes', 'overview', 'push_pull', 'reliability', 'simulation', 'validity']
>>> [k.name for k in ANALYSES["push_pull"].keys][:3]
['source', 'outcome', 'domains']

References: the design contract of issue 15 (``study.yml`` keys ``design:`` and ``analyses:``).
"""

from __future__ import annotations

import dataclasses
import difflib
import keyword
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._validate import StudyError

if TYPE_CHECKING:  # pragma: no cover
    from .codebook import Codebook
    from .study import Study

__all__ = ["ANALYSES", "Analysis", "AnalysisSpec", "Key", "check_analyses", "resolve", "resolve_all",
           "describe", "analysis_names"]


@dataclasses.dataclass(frozen=True)
class Key:
    """One key of an analysis (or of a part of one, such as ``prediction:``).

    ``type`` is one of: ``source``, ``sources``, ``column``, ``columns``, ``scale``,
    ``scales``, ``int``, ``number``, ``choice``, ``text``, ``part`` (a mapping of its own
    ``keys``), ``subsets`` (source -> {column: value}), ``predictors`` (a list of columns
    or a mapping new name -> arithmetic of columns).  Columns and scales are checked
    against the codebook of the source named by the nearest ``source`` key.
    """

    name: str
    type: str
    default: str
    meaning: str
    required: bool = False
    keys: tuple["Key", ...] = ()
    choices: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class AnalysisSpec:
    """An analysis: its notebook, what it needs, and its keys."""

    name: str
    title: str
    needs: str
    does: str
    keys: tuple[Key, ...]


_SEED = Key("seed", "int", "the study's seed", "random seed for bootstrap, simulation and imputation")

ANALYSES: dict[str, AnalysisSpec] = {a.name: a for a in (
    AnalysisSpec(
        "overview", "Study overview",
        "any sources",
        "Counts of records (cases, for a ratings source) in each source, overall and by each of the design's "
        "breakdowns present in the source, and the cross-table of the first two.",
        (
            Key("sources", "sources", "every source of the study", "the sources to describe"),
        ),
    ),
    AnalysisSpec(
        "data_quality", "Data quality",
        "any sources",
        "Missing, don't-know and refused answers by item and by record, straight-lining, duplicates and "
        "values the codebook does not allow (counted, not loaded).",
        (
            Key("sources", "sources", "every source of the study", "the sources to check"),
        ),
    ),
    AnalysisSpec(
        "reliability", "Reliability and rater agreement",
        "sources with scales; for rater agreement, a source with several ratings per case",
        "Cronbach's alpha (Feldt interval), omega (bootstrap interval) and item statistics for every scale; "
        "agreement between assessors item by item and on the final judgement: for two assessors weighted "
        "kappa, Gwet's AC1 and the ICC; for three or more (fixed or drawn from a pool) Fleiss' kappa, "
        "Krippendorff's alpha and the ICC forms the design allows.",
        (
            Key("sources", "sources", "every source with scales (but the ratings source)",
                "sources whose scales' internal consistency is reported"),
            Key("subsets", "subsets", "none", "records kept per source first, e.g. {staff: {wave: 1}} for one "
                "answer per person"),
            Key("ratings", "part", "none (no rater agreement)", "the source rated by several assessors", keys=(
                Key("source", "source", "", "the ratings source (one row per case and assessor)", required=True),
                Key("subject", "column", "the codebook's design.subject", "the case being rated"),
                Key("rater", "column", "the codebook's design.rater", "the assessor"),
                Key("judgement", "column", "the codebook's design.judgement (optional)",
                    "the final judgement, reported on its own"),
                Key("items", "columns", "the items of the source's scales", "the rated items"),
            )),
            Key("n_boot", "int", "500", "bootstrap resamples for omega's interval"),
            _SEED,
        ),
    ),
    AnalysisSpec(
        "validity", "Validity: structure, invariance and prediction",
        "a source with scales; for prediction, an outcome and a risk score",
        "Sampling adequacy, parallel analysis, exploratory factor analysis and a confirmatory model with one "
        "factor per scale (FIML), measurement invariance across groups; each scale's partial credit model (item "
        "locations, infit/outfit, person-item map, and whether the items share their answer scale's steps: the "
        "rating scale model tested against it); whether items mean the same everywhere (ordinal invariance by "
        "WLSMV and differential item functioning of each item across language, country, gender); with "
        "prediction: AUC with DeLong's "
        "interval, the outcome rate by score level and performance by subgroup; with a follow-up time: prediction "
        "over time (time-dependent AUC, Uno's C, calibration at the horizon, decision curve, competing-risk "
        "incidence by score level).",
        (
            Key("source", "source", "", "the source whose structure is tested", required=True),
            Key("scales", "scales", "every scale of the source with at least 3 items", "the factors of the model"),
            Key("invariance_by", "columns", "design.breakdowns present in the source",
                "groups across which invariance is tested"),
            Key("dif_by", "columns", "invariance_by",
                "groups (language, country, gender) across which each item is tested for differential item "
                "functioning"),
            Key("missing", "choice", "ml", "ml: full-information ML (lavaan missing='ml'); listwise: complete cases",
                choices=("ml", "listwise")),
            Key("n_iter", "int", "20", "parallel-analysis simulations"),
            Key("prediction", "part", "none (structure and invariance only)", "predictive validity of a score", keys=(
                Key("source", "source", "", "the source holding the outcome", required=True),
                Key("outcome", "column", "the codebook's survival.event, else its one yes/no outcome item",
                    "the outcome to predict (0/1)"),
                Key("score", "column", "a ratings codebook's design.judgement", "the risk score or judgement"),
                Key("join", "column", "none (score and outcome in one source)",
                    "the pseudonymous id linking the outcome source to the score's source"),
                Key("score_source", "source", "the source holding the score column", "where the score is"),
                Key("rater", "column", "the score source's design.rater, else reliability.ratings.rater for it",
                    "with several ratings per case, each case's first rating (lowest rater id) is used"),
                Key("subgroups", "columns", "design.breakdowns present in the outcome source",
                    "groups for which performance is reported"),
                Key("time", "column", "the codebook's survival.time when the outcome is its survival.event",
                    "follow-up time: with it, prediction over time (time-dependent AUC, calibration at the "
                    "horizon, decision curve, competing-risk incidence by risk level) is reported"),
                Key("status", "column", "the codebook's survival.status",
                    "how follow-up ended (0 censored, the outcome's code, other codes competing events such as "
                    "death or deportation)"),
                Key("horizon", "int", "the codebook's survival.horizon, else analyses.outcomes.followup.horizon, "
                    "else the longest follow-up", "the time at which calibration and net benefit are judged"),
            )),
            _SEED,
        ),
    ),
    AnalysisSpec(
        "push_pull", "Push and pull factors",
        "a survey with scales (domain: push, pull, protective) and an outcome scale",
        "Mean domain scores overall and by each breakdown; a comparison of two groups; a multilevel model "
        "of the outcome (random intercept by cluster, breakdowns as factors, facility predictors at level "
        "2) and its yes/no version; sensitivity to missing answers (multiple imputation); a typology by "
        "latent classes.",
        (
            Key("source", "source", "", "the survey", required=True),
            Key("outcome", "scale", "the scale with domain: outcome", "the outcome scale (e.g. support for violence)"),
            Key("domains", "scales", "the scales with domain push, pull or protective", "the explanatory domains"),
            Key("compare", "column", "none", "a two-group column to compare every domain across (e.g. vep_status)"),
            Key("cut", "number", "the midpoint of the outcome's scale", "outcome scores at or above it count as "
                "endorsing (the yes/no model)"),
            Key("facility", "part", "none (no level-2 predictors)", "facility-level predictors", keys=(
                Key("source", "source", "", "one row per facility (e.g. an audit)", required=True),
                Key("key", "column", "design.cluster", "the facility code, in both sources"),
                Key("predictors", "predictors", "every scale of the facility source",
                    "columns, or new names with arithmetic of columns: {occupancy: population / capacity}"),
            )),
            Key("typology", "part", "none", "latent classes of rated items", keys=(
                Key("source", "source", "", "the source whose items are classified", required=True),
                Key("items", "columns", "the items of the source's scales", "the items"),
                Key("max_classes", "int", "6", "largest number of classes tried"),
            )),
            Key("imputations", "int", "10", "multiple imputations for the sensitivity analysis (0: none)"),
            _SEED,
        ),
    ),
    AnalysisSpec(
        "outcomes", "Intervention outcomes",
        "a pre/post survey, or a follow-up with time to an event, or both",
        "Pre/post: change by scale with paired tests, Hedges' g_av and reliable change. Follow-up: "
        "Kaplan-Meier, the treatment's hazard ratio (naive, adjusted, propensity-weighted with balance), "
        "the event rate at the horizon; power; evaluation indicators.",
        (
            Key("prepost", "part", "none", "a survey answered before and after", keys=(
                Key("source", "source", "", "the pre/post survey", required=True),
                Key("id", "column", "the codebook's prepost.id", "the person answering both waves", required=True),
                Key("wave", "column", "the codebook's prepost.wave", "the wave column", required=True),
                Key("pre", "text", "the wave's first code", "the wave value before"),
                Key("post", "text", "the wave's second code", "the wave value after"),
                Key("scales", "scales", "every scale answered in both waves", "the scales compared"),
                Key("reliable_change", "scale", "none", "a scale for the reliable change index"),
            )),
            Key("followup", "part", "none", "a follow-up after release", keys=(
                Key("source", "source", "", "one row per person followed", required=True),
                Key("time", "column", "the codebook's survival.time", "days to the event or to censoring"),
                Key("event", "column", "the codebook's survival.event", "1 = the event happened (e.g. re-arrest)"),
                Key("treatment", "column", "none (no programme effect)", "0/1 programme participation"),
                Key("covariates", "columns", "design.breakdowns present in the source",
                    "what the propensity model and adjusted model balance"),
                Key("horizon", "int", "the codebook's survival.horizon, else 730", "days at which the rate is reported"),
                Key("target_hr", "number", "0.7", "hazard ratio the programme hopes for (power)"),
            )),
            Key("framework", "text", "none", "an evaluation framework file in the study folder (indicators)"),
            _SEED,
        ),
    ),
    AnalysisSpec(
        "simulation", "Power of the design by simulation",
        "a simulation spec (YAML) in the study folder; no data",
        "The power of a planned clustered design (prisons per arm, people per prison, ICC, base rate, effect) "
        "by simulation with veplab.simulate: a power curve against the clusters per arm, one line per ICC, "
        "with Monte-Carlo intervals, the design-effect formula's power, bias, SEs and interval coverage.",
        (
            Key("spec", "text", "", "the simulation spec file in the study folder (see veplab.simulate)",
                required=True),
            Key("reps", "int", "the spec's reps, else 1000", "replicates per grid point"),
            Key("workers", "int", "the cores ($DASK_SCHEDULER_ADDRESS if set)",
                "local Dask worker processes (0: in the notebook's process)"),
            _SEED,
        ),
    ),
)}


def analysis_names() -> tuple[str, ...]:
    """The names of the analyses a study can declare under ``analyses:``, in the order pages show them.

    Each name is also the notebook (``notebooks/<name>.ipynb``) that runs it.

    Returns
    -------
    tuple of str

    References
    ----------
    docs/DESIGN.md, "A study is declared, not coded" (``analyses:``
    in study.yml).

    Examples
    --------
    >>> analysis_names()
    ('overview', 'data_quality', 'reliability', 'validity', 'push_pull', 'outcomes', 'simulation')
    """
    return tuple(ANALYSES)


class _Problems:
    def __init__(self, config: Any):
        self.config = config
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{self.config}: analyses.{where}: {message}")


def _closest(name: str, valid: Any) -> str:
    valid = [str(v) for v in valid]
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(valid[:12]) + (", ..." if len(valid) > 12 else "")
    return f"valid: {shown}" if valid else "there is none"


def _is_list_of_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


_EXPR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPR_OK = re.compile(r"^[A-Za-z0-9_ .+\-*/()]+$")


def expression_columns(expr: str) -> list[str]:
    """The column names an arithmetic predictor expression uses (``population / capacity``)."""
    return [n for n in _EXPR_NAME.findall(expr) if not n[0].isdigit() and not re.fullmatch(r"[0-9eE]+", n)]


def _check_keys(spec: Mapping[str, Any], keys: tuple[Key, ...], where: str, study: "Study", probs: _Problems,
                source: str | None) -> None:
    """Structure and types (codebook-free), recursively for parts."""
    by_name = {k.name: k for k in keys}
    for name in spec:
        if name not in by_name:
            probs.add(where, f"unknown key {str(name)!r}; {_closest(name, by_name)}")
    for key in keys:
        if key.name not in spec or spec[key.name] is None:
            continue
        value = spec[key.name]
        w = f"{where}.{key.name}"
        t = key.type
        if t == "source":
            if not isinstance(value, str):
                probs.add(w, f"must be the name of one source, got {value!r}")
            elif value not in study.sources:
                probs.add(w, f"no source {value!r}; {_closest(value, study.sources)}")
        elif t == "sources":
            if not _is_list_of_names(value):
                probs.add(w, f"must be a list of source names such as [{', '.join(list(study.sources)[:2])}], "
                             f"got {value!r}")
            else:
                for v in value:
                    if v not in study.sources:
                        probs.add(w, f"no source {v!r}; {_closest(v, study.sources)}")
        elif t in ("column", "scale"):
            if not isinstance(value, str) or not value.strip():
                probs.add(w, f"must be one {t} name, got {value!r}")
        elif t in ("columns", "scales"):
            if not _is_list_of_names(value):
                probs.add(w, f"must be a list of {t} names, got {value!r}")
        elif t == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                probs.add(w, f"must be a whole number of 0 or more, got {value!r}")
        elif t == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                probs.add(w, f"must be a number, got {value!r}")
        elif t == "choice":
            if value not in key.choices:
                probs.add(w, f"must be one of {', '.join(map(str, key.choices))}, got {value!r}")
        elif t == "text":
            if isinstance(value, (Mapping, list, bool)):
                probs.add(w, f"must be a single value, got {value!r}")
        elif t == "subsets":
            if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
                probs.add(w, f"must map a source to {{column: value}}, e.g. {{staff: {{wave: 1}}}}, got {value!r}")
            else:
                for src in value:
                    if src not in study.sources:
                        probs.add(w, f"no source {src!r}; {_closest(src, study.sources)}")
        elif t == "predictors":
            if isinstance(value, Mapping):
                for new, expr in value.items():
                    if not isinstance(new, str) or not new.isidentifier() or keyword.iskeyword(new):
                        probs.add(w, f"{new!r} is not a usable name (letters, digits and _)")
                    if not isinstance(expr, str) or not _EXPR_OK.match(expr) or not expression_columns(expr):
                        probs.add(w, f"{new}: {expr!r} must be arithmetic (+ - * / and brackets) of columns")
            elif not _is_list_of_names(value):
                probs.add(w, f"must be a list of columns or a mapping name: arithmetic, got {value!r}")
        elif t == "part":
            if not isinstance(value, Mapping):
                probs.add(w, f"must be a mapping of its keys ({', '.join(k.name for k in key.keys)}), got {value!r}")
                continue
            _check_keys(value, key.keys, w, study, probs, value.get("source") if isinstance(value.get("source"), str)
                        else source)
    for key in keys:
        if key.required and key.type in ("source", "sources") and spec.get(key.name) is None:
            probs.add(f"{where}.{key.name}", f"is required: name the {key.meaning}")


def check_structure(study: "Study", raw: Any, config: Any) -> list[str]:
    """Problems with ``analyses:`` that need no codebook: keys, types, source names."""
    probs = _Problems(config)
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        return [f"{config}: analyses must be a mapping of analysis name to its keys, e.g. "
                "{overview: {sources: [survey]}}; got " + repr(raw)]
    for name, spec in raw.items():
        if name not in ANALYSES:
            probs.items.append(f"{config}: analyses: unknown analysis {str(name)!r}; {_closest(name, ANALYSES)}")
            continue
        if spec is None:
            spec = {}
        if not isinstance(spec, Mapping):
            probs.add(str(name), f"must be a mapping of keys, got {spec!r}")
            continue
        _check_keys(spec, ANALYSES[name].keys, str(name), study, probs, spec.get("source"))
    return probs.items


# ------------------------------------------------------------------ resolution


@dataclasses.dataclass
class Analysis:
    """One analysis of a study, its defaults filled in.

    ``options`` holds every key (parts as nested dicts, ``None`` where a part is not
    declared); ``skipped`` maps a part's name to the sentence saying why it will not
    run; ``labels`` gives readable names for the columns and scales involved.
    """

    name: str
    options: dict[str, Any]
    skipped: dict[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.options[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)

    def runs(self, part: str) -> bool:
        """Whether the optional part ``part`` runs (declared and resolvable)."""
        return self.options.get(part) is not None and part not in self.skipped

    def why_not(self, part: str) -> str:
        return self.skipped.get(part, "")


class AnalysisError(StudyError):
    """An ``analyses:`` entry that cannot run: names the key and the closest valid name."""


class _Ctx:
    def __init__(self, study: "Study"):
        self.study = study
        self._cbs: dict[str, "Codebook"] = {}
        self.problems: list[str] = []

    def cb(self, source: str) -> "Codebook":
        if source not in self._cbs:
            self._cbs[source] = self.study.codebook(source)
        return self._cbs[source]

    def columns(self, source: str) -> list[str]:
        cb = self.cb(source)
        return list(cb.item_ids) + [s.id for s in cb.scales]

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{self.study.config_path}: analyses.{where}: {message}")

    def column(self, source: str, name: Any, where: str, *, scale: bool = False) -> str | None:
        if name is None:
            return None
        valid = [s.id for s in self.cb(source).scales] if scale else self.columns(source)
        if name not in valid:
            what = "scale" if scale else "column"
            self.fail(where, f"source {source!r} has no {what} {name!r}; {_closest(name, valid)}")
            return None
        return str(name)

    def columns_of(self, source: str, names: Any, where: str, *, scale: bool = False) -> list[str]:
        out = [self.column(source, n, where, scale=scale) for n in (names or [])]
        return [n for n in out if n is not None]

    def present(self, source: str, names: Any) -> list[str]:
        cols = set(self.columns(source))
        return [n for n in names if n in cols]


def _extra(cb: "Codebook", key: str) -> Mapping[str, Any]:
    value = (getattr(cb, "extra", None) or {}).get(key)
    return value if isinstance(value, Mapping) else {}


def _scales_with_items(cb: "Codebook", minimum: int) -> list[str]:
    return [s.id for s in cb.scales if len(s.items) >= minimum]


def _rated_items(cb: "Codebook") -> list[str]:
    return [i for s in cb.scales for i in s.items]


def _binary_outcomes(cb: "Codebook") -> list[str]:
    out = []
    for item in cb.by_role("outcome"):
        codes = set(item.codes)
        if item.type in ("binary", "boolean") or (codes and codes <= {0, 1}):
            out.append(item.id)
    return out


def _resolve_overview(ctx: _Ctx, spec: Mapping[str, Any], name: str) -> Analysis:
    sources = list(spec.get("sources") or ctx.study.sources)
    breakdowns = {s: ctx.present(s, ctx.study.breakdowns) for s in sources}
    return Analysis(name, {"sources": sources, "breakdowns": breakdowns, "cluster": ctx.study.cluster}, {})


def _resolve_reliability(ctx: _Ctx, spec: Mapping[str, Any]) -> Analysis:
    study = ctx.study
    skipped: dict[str, str] = {}
    ratings_spec = spec.get("ratings")
    ratings = None
    if ratings_spec:
        src = ratings_spec["source"]
        design = _extra(ctx.cb(src), "design")
        ratings = {"source": src, **_required_columns(
            ctx, src, ratings_spec, design, ("subject", "rater"), "reliability.ratings",
            f"the codebook of {src!r} has no design.{{key}}; name the column holding the case (subject) or the "
            "assessor (rater)")}
        ratings["judgement"] = ctx.column(src, ratings_spec.get("judgement", design.get("judgement")),
                                          "reliability.ratings.judgement")
        items = ratings_spec.get("items")
        ratings["items"] = ctx.columns_of(src, items, "reliability.ratings.items") if items else _rated_items(ctx.cb(src))
    else:
        skipped["ratings"] = ("No source rated by several assessors is declared (analyses.reliability.ratings), "
                              "so rater agreement is not reported.")
    default_sources = [s for s in study.sources if ctx.cb(s).scales and (ratings is None or s != ratings["source"])]
    sources = list(spec.get("sources") or default_sources)
    for s in sources:
        if not ctx.cb(s).scales:
            ctx.fail("reliability.sources", f"source {s!r} has no scales in its codebook; reliability needs scales")
    subsets = {}
    for src, cond in (spec.get("subsets") or {}).items():
        subsets[src] = {ctx.column(src, c, f"reliability.subsets.{src}") or c: v for c, v in cond.items()}
    return Analysis("reliability", {"sources": sources, "subsets": subsets, "ratings": ratings,
                                    "n_boot": spec.get("n_boot", 500), "seed": spec.get("seed", study.seed)}, skipped)


def _score_source(ctx: _Ctx, score: str, exclude: str) -> str | None:
    for name in ctx.study.sources:
        if name != exclude and score in ctx.columns(name):
            return name
    return None


def _resolve_validity(ctx: _Ctx, spec: Mapping[str, Any]) -> Analysis:
    study = ctx.study
    src = spec["source"]
    cb = ctx.cb(src)
    scales = ctx.columns_of(src, spec.get("scales"), "validity.scales", scale=True) if spec.get("scales") \
        else _scales_with_items(cb, 3)
    short = [s for s in scales if len(cb.scale(s).items) < 2]
    if short:
        ctx.fail("validity.scales", f"scales {short} have fewer than 2 items; a factor needs at least 2 (3 or more "
                 "is advised)")
    invariance = ctx.columns_of(src, spec.get("invariance_by"), "validity.invariance_by") \
        if spec.get("invariance_by") is not None else ctx.present(src, study.breakdowns)
    skipped: dict[str, str] = {}
    if not scales:
        skipped["structure"] = (f"The codebook of {src!r} has no scale of 3 or more items, so there is no "
                                "structure to test.")
    if not invariance:
        skipped["invariance"] = "No grouping is declared for invariance (analyses.validity.invariance_by)."
    dif_by = ctx.columns_of(src, spec.get("dif_by"), "validity.dif_by") if spec.get("dif_by") is not None \
        else invariance
    if not dif_by:
        skipped["dif"] = ("No grouping is declared for differential item functioning (analyses.validity.dif_by or "
                          "invariance_by).")
    prediction = None
    pspec = spec.get("prediction")
    if pspec:
        psrc = pspec["source"]
        pcb = ctx.cb(psrc)
        outcome = pspec.get("outcome") or _extra(pcb, "survival").get("event")
        if outcome is None:
            binary = _binary_outcomes(pcb)
            outcome = binary[0] if len(binary) == 1 else None
        if outcome is None:
            ctx.fail("validity.prediction.outcome", f"is required: the codebook of {psrc!r} declares no "
                     "survival.event and no single yes/no outcome item; name the outcome column")
        outcome = ctx.column(psrc, outcome, "validity.prediction.outcome")
        score = pspec.get("score")
        if score is None:
            for name in study.sources:
                judgement = _extra(ctx.cb(name), "design").get("judgement")
                if judgement:
                    score = judgement
                    break
        score_source = pspec.get("score_source")
        join = pspec.get("join")
        if score is None:
            ctx.fail("validity.prediction.score", "is required: no codebook declares a design.judgement; name the "
                     "risk score column")
        elif score_source is None:
            score_source = psrc if score in ctx.columns(psrc) else _score_source(ctx, score, psrc)
            if score_source is None:
                ctx.fail("validity.prediction.score", f"no source has a column {score!r}; "
                         f"{_closest(score, ctx.columns(psrc))}")
        if score is not None and score_source is not None:
            ctx.column(score_source, score, "validity.prediction.score")
        if score_source not in (None, psrc):
            if join is None:
                ctx.fail("validity.prediction.join", f"is required: the score {score!r} is in source "
                         f"{score_source!r} and the outcome in {psrc!r}; name the id column that links them")
            else:
                for s in (psrc, score_source):
                    ctx.column(s, join, "validity.prediction.join")
        subgroups = ctx.columns_of(psrc, pspec.get("subgroups"), "validity.prediction.subgroups") \
            if pspec.get("subgroups") is not None else ctx.present(psrc, study.breakdowns)
        rater = None
        if score_source not in (None, psrc):
            rater = pspec.get("rater") or _extra(ctx.cb(score_source), "design").get("rater")
            rspec = _declared(study).get("reliability") or {}
            rspec = rspec.get("ratings") if isinstance(rspec, Mapping) else None
            if rater is None and isinstance(rspec, Mapping) and rspec.get("source") == score_source:
                rater = rspec.get("rater")
            rater = ctx.column(score_source, rater, "validity.prediction.rater")
        surv = _extra(pcb, "survival")
        from_codebook = outcome is not None and outcome == surv.get("event")
        ptime = pspec.get("time", surv.get("time") if from_codebook else None)
        ptime = ctx.column(psrc, ptime, "validity.prediction.time")
        pstatus = pspec.get("status", surv.get("status") if from_codebook else None)
        pstatus = ctx.column(psrc, pstatus, "validity.prediction.status")
        fspec = (_declared(study).get("outcomes") or {})
        fspec = fspec.get("followup") if isinstance(fspec, Mapping) else None
        horizon = pspec.get("horizon", surv.get("horizon"))
        if horizon is None and isinstance(fspec, Mapping) and fspec.get("source") == psrc:
            horizon = fspec.get("horizon", 730)  # the horizon the follow-up analysis reports at
        prediction = {"source": psrc, "outcome": outcome, "score": score, "score_source": score_source,
                      "join": join, "rater": rater, "subgroups": subgroups, "time": ptime, "status": pstatus,
                      "horizon": horizon}
        if ptime is None:
            skipped["over_time"] = ("No follow-up time is declared for the outcome (analyses.validity.prediction.time "
                                    "or the codebook's survival.time), so prediction over time is not reported.")
    else:
        skipped["prediction"] = ("No outcome to predict is declared (analyses.validity.prediction), so predictive "
                                 "validity is not reported.")
        skipped["over_time"] = ("No outcome to predict is declared (analyses.validity.prediction), so prediction over "
                                "time is not reported.")
    return Analysis("validity", {"source": src, "scales": scales, "invariance_by": invariance, "dif_by": dif_by,
                                 "missing": spec.get("missing", "ml"), "n_iter": spec.get("n_iter", 20),
                                 "prediction": prediction, "seed": spec.get("seed", study.seed)}, skipped)


def _scale_range(cb: "Codebook", scale: str) -> tuple[float, float] | None:
    codes = [c for i in cb.scale(scale).items for c in cb.item(i).codes]
    return (float(min(codes)), float(max(codes))) if codes else None


def _resolve_push_pull(ctx: _Ctx, spec: Mapping[str, Any]) -> Analysis:
    study = ctx.study
    src = spec["source"]
    cb = ctx.cb(src)
    skipped: dict[str, str] = {}
    outcome = spec.get("outcome")
    if outcome is None:
        outs = [s.id for s in cb.scales if (s.domain or "") == "outcome"]
        if len(outs) != 1:
            ctx.fail("push_pull.outcome", f"is required: the codebook of {src!r} has "
                     f"{'no scale' if not outs else 'several scales'} with domain: outcome {outs or ''}; "
                     "name the outcome scale")
        outcome = outs[0] if len(outs) == 1 else None
    outcome = ctx.column(src, outcome, "push_pull.outcome", scale=True)
    if spec.get("domains"):
        domains = ctx.columns_of(src, spec["domains"], "push_pull.domains", scale=True)
    else:
        domains = [s.id for s in cb.scales if (s.domain or "") in ("push", "pull", "protective") and s.id != outcome]
        if not domains:
            ctx.fail("push_pull.domains", f"is required: the codebook of {src!r} has no scale with domain push, "
                     "pull or protective; name the explanatory scales")
    compare = ctx.column(src, spec.get("compare"), "push_pull.compare")
    if compare is None:
        skipped["compare"] = "No two groups to compare are declared (analyses.push_pull.compare)."
    cut = spec.get("cut")
    if cut is None and outcome is not None:
        rng = _scale_range(cb, outcome)
        cut = (rng[0] + rng[1]) / 2 if rng else None
    cluster = study.cluster if study.cluster in ctx.columns(src) else None
    if cluster is None:
        skipped["multilevel"] = ("The study declares no cluster column present in this source (design.cluster), "
                                 "so the models are single-level, without a random intercept.")
    facility = None
    fspec = spec.get("facility")
    if fspec:
        fsrc = fspec["source"]
        key = fspec.get("key") or study.cluster
        if key is None:
            ctx.fail("push_pull.facility.key", "is required: the study declares no design.cluster; name the "
                     "facility code column")
        else:
            ctx.column(fsrc, key, "push_pull.facility.key")
            ctx.column(src, key, "push_pull.facility.key")
        preds = fspec.get("predictors")
        if preds is None:
            derived = {s.id: s.id for s in ctx.cb(fsrc).scales}
        elif isinstance(preds, Mapping):
            derived = {str(k): str(v) for k, v in preds.items()}
        else:
            derived = {p: p for p in preds}
        for new, expr in derived.items():
            for col in expression_columns(expr):
                ctx.column(fsrc, col, f"push_pull.facility.predictors.{new}")
        if not derived:
            ctx.fail("push_pull.facility.predictors", f"source {fsrc!r} has no scales; name the predictors")
        facility = {"source": fsrc, "key": key, "predictors": derived}
    else:
        skipped["facility"] = ("No facility data are declared (analyses.push_pull.facility), so the model has no "
                               "facility-level predictors.")
    typology = None
    tspec = spec.get("typology")
    if tspec:
        tsrc = tspec["source"]
        items = ctx.columns_of(tsrc, tspec.get("items"), "push_pull.typology.items") if tspec.get("items") \
            else _rated_items(ctx.cb(tsrc))
        design = _extra(ctx.cb(tsrc), "design")
        typology = {"source": tsrc, "items": items, "max_classes": tspec.get("max_classes", 6),
                    "subject": design.get("subject"), "rater": design.get("rater")}
    else:
        skipped["typology"] = "No typology is declared (analyses.push_pull.typology)."
    breakdowns = ctx.present(src, study.breakdowns)
    return Analysis("push_pull", {"source": src, "outcome": outcome, "domains": domains, "compare": compare,
                                  "cut": cut, "breakdowns": breakdowns, "cluster": cluster, "facility": facility,
                                  "typology": typology, "imputations": spec.get("imputations", 10),
                                  "seed": spec.get("seed", study.seed)}, skipped)


def _required_columns(ctx: _Ctx, src: str, spec: Mapping[str, Any], defaults: Mapping[str, Any],
                      keys: tuple[str, ...], where: str, why: str) -> dict[str, str | None]:
    """Columns named by ``spec`` or, failing that, by the codebook's ``defaults``; a key named by
    neither is a problem ``{where}.{key}: is required: {why}`` (``{key}`` in ``why`` is the key)."""
    out: dict[str, str | None] = {}
    for key in keys:
        value = spec.get(key, defaults.get(key))
        out[key] = ctx.column(src, value, f"{where}.{key}")
        if value is None:
            ctx.fail(f"{where}.{key}", "is required: " + why.format(key=key))
    return out


def _wave_codes(cb: "Codebook", wave: str) -> list[Any]:
    try:
        return list(cb.item(wave).codes)
    except (KeyError, AttributeError):
        return []


def _resolve_outcomes(ctx: _Ctx, spec: Mapping[str, Any]) -> Analysis:
    study = ctx.study
    skipped: dict[str, str] = {}
    prepost = None
    pspec = spec.get("prepost")
    if pspec:
        src = pspec["source"]
        cb = ctx.cb(src)
        cols = _required_columns(ctx, src, pspec, _extra(cb, "prepost"), ("id", "wave"), "outcomes.prepost",
                                 "name the {key} column (the person's id, the wave), or declare "
                                 "prepost: {{id:, wave:}} in the codebook")
        pid, wave = cols["id"], cols["wave"]
        codes = _wave_codes(cb, wave) if wave else []
        pre = pspec.get("pre", codes[0] if codes else None)
        post = pspec.get("post", codes[1] if len(codes) > 1 else None)
        if wave and (pre is None or post is None):
            ctx.fail("outcomes.prepost.pre", f"the wave column {wave!r} has no coded options; name pre: and post:")
        scales = ctx.columns_of(src, pspec.get("scales"), "outcomes.prepost.scales", scale=True) \
            if pspec.get("scales") else [s.id for s in cb.scales]
        rc = ctx.column(src, pspec.get("reliable_change"), "outcomes.prepost.reliable_change", scale=True)
        prepost = {"source": src, "id": pid, "wave": wave, "pre": pre, "post": post, "scales": scales,
                   "reliable_change": rc}
    else:
        skipped["prepost"] = "No before-and-after survey is declared (analyses.outcomes.prepost)."
    followup = None
    fspec = spec.get("followup")
    if fspec:
        src = fspec["source"]
        cb = ctx.cb(src)
        surv = _extra(cb, "survival")
        cols = _required_columns(ctx, src, fspec, surv, ("time", "event"), "outcomes.followup",
                                 f"the codebook of {src!r} declares no survival.{{key}}; name the column")
        time, event = cols["time"], cols["event"]
        treatment = ctx.column(src, fspec.get("treatment"), "outcomes.followup.treatment")
        covariates = ctx.columns_of(src, fspec.get("covariates"), "outcomes.followup.covariates") \
            if fspec.get("covariates") is not None else [c for c in ctx.present(src, study.breakdowns)
                                                         if c != treatment]
        horizon = fspec.get("horizon", surv.get("horizon", 730))
        followup = {"source": src, "time": time, "event": event, "treatment": treatment, "covariates": covariates,
                    "horizon": horizon, "target_hr": fspec.get("target_hr", 0.7)}
        if treatment is None:
            skipped["treatment"] = ("No treatment column is declared (analyses.outcomes.followup.treatment), so "
                                    "no treatment effect is estimated.")
    else:
        skipped["followup"] = "No follow-up is declared (analyses.outcomes.followup)."
    framework = spec.get("framework")
    if framework is not None and not (study.folder / str(framework)).is_file():
        ctx.fail("outcomes.framework", f"file {framework!r} not found in {study.folder}")
    if framework is None:
        skipped["framework"] = "No evaluation framework is declared (analyses.outcomes.framework)."
    return Analysis("outcomes", {"prepost": prepost, "followup": followup, "framework": framework,
                                 "seed": spec.get("seed", study.seed)}, skipped)


def _resolve_simulation(ctx: _Ctx, spec: Mapping[str, Any]) -> Analysis:
    """The spec file is read here, so its contents (not its name) are in the build's cache key."""
    from ._validate import InputError
    from .simulate import expand, read_spec

    study = ctx.study
    path = study.folder / str(spec.get("spec"))
    parsed: dict[str, Any] | None = None
    if spec.get("spec") is None:
        ctx.fail("simulation.spec", "is required: name the simulation spec file (YAML) in the study folder, "
                 "e.g. spec: power.yml")
    elif not path.is_file():
        ctx.fail("simulation.spec", f"file {str(spec.get('spec'))!r} not found in {study.folder}")
    else:
        try:
            parsed = read_spec(path)
            expand({k: v for k, v in parsed.items() if k not in ("reps", "seed", "batch_size")})
        except InputError as exc:
            ctx.fail("simulation.spec", f"{spec.get('spec')}: {exc}")
            parsed = None
    reps = spec.get("reps", (parsed or {}).get("reps", 1000))
    return Analysis("simulation", {"spec": parsed, "reps": reps, "workers": spec.get("workers"),
                                   "seed": spec.get("seed", (parsed or {}).get("seed", study.seed))}, {})


def _resolve_one(ctx: _Ctx, name: str, spec: Mapping[str, Any]) -> Analysis:
    if name in ("overview", "data_quality"):
        return _resolve_overview(ctx, spec, name)
    return {"reliability": _resolve_reliability, "validity": _resolve_validity, "push_pull": _resolve_push_pull,
            "outcomes": _resolve_outcomes, "simulation": _resolve_simulation}[name](ctx, spec)


def _declared(study: "Study") -> Mapping[str, Any]:
    raw = study.raw.get("analyses")
    return raw if isinstance(raw, Mapping) else {}


def resolve(study: "Study", name: str) -> Analysis:
    r"""The analysis ``name`` of ``study`` with every default filled in.

    Raises :class:`AnalysisError` listing every problem (unknown column or scale,
    a required key without a default), each naming its key and the closest valid name.

    Defaults come from the study's ``design:`` (cluster, breakdowns present in
    each source) and its codebooks (scales and their ``domain:``, item roles,
    a ratings codebook's design, a follow-up codebook's survival columns).

    Parameters
    ----------
    study : Study
        From :func:`veplab.study.load_study`.
    name : str
        One of :func:`analysis_names`, declared by the study.

    Returns
    -------
    Analysis
        ``options`` (every key; ``a["key"]``), ``skipped`` (optional part ->
        why it will not run), ``runs(part)``.

    Raises
    ------
    AnalysisError
        Naming study.yml, the key and the closest valid name.

    References
    ----------
    docs/DESIGN.md, "A study is declared, not coded" (notebooks derive
    everything else from the design and the codebooks).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from veplab.study import load_study
    >>> folder = tempfile.TemporaryDirectory()
    >>> root = Path(folder.name)
    >>> (root / "surveys").mkdir()
    >>> _ = (root / "surveys" / "wellbeing.yml").write_text(
    ...     "id: wellbeing\ntitle: Wellbeing\nid_column: rid\nitems:\n"
    ...     "  - {id: prison_id, label: Prison, type: text, role: admin}\n"
    ...     "  - {id: gender, label: Gender, type: categorical, role: quasi_identifier,"
    ...     " options: {1: Man, 2: Woman}}\n"
    ...     "  - {id: q1, label: I feel safe, type: binary, options: {0: 'No', 1: 'Yes'}}\n")
    >>> (root / "pilot").mkdir()
    >>> _ = (root / "pilot" / "study.yml").write_text(
    ...     "id: pilot\nsources:\n  wellbeing: {path: data/wellbeing.csv, codebook: wellbeing}\n"
    ...     "design: {cluster: prison_id, breakdowns: [gender, age_band]}\n"
    ...     "analyses:\n  overview: {}\n")
    >>> overview = resolve(load_study(root / "pilot"), "overview")
    >>> overview["sources"], overview["breakdowns"], overview["cluster"]
    (['wellbeing'], {'wellbeing': ['gender']}, 'prison_id')
    >>> try:
    ...     resolve(load_study(root / "pilot"), "validity")
    ... except AnalysisError as error:
    ...     print(str(error).split(": ", 1)[1])
    analyses: the study does not run 'validity' (it runs overview); add it under analyses:
    >>> folder.cleanup()
    """
    declared = _declared(study)
    if name not in ANALYSES:
        raise AnalysisError(f"no analysis {name!r}; {_closest(name, ANALYSES)}")
    if name not in declared:
        raise AnalysisError(f"{study.config_path}: analyses: the study does not run {name!r} (it runs "
                            f"{', '.join(declared) or 'none'}); add it under analyses:")
    problems = check_structure(study, {name: declared[name]}, study.config_path)
    if problems:
        raise AnalysisError("\n".join(problems))
    ctx = _Ctx(study)
    analysis = _resolve_one(ctx, name, declared[name] or {})
    if ctx.problems:
        raise AnalysisError("\n".join(ctx.problems))
    return analysis


def resolve_all(study: "Study") -> tuple[dict[str, Analysis], list[str]]:
    r"""Every declared analysis resolved, and every problem found (all of them, not the first).

    Parameters
    ----------
    study : Study

    Returns
    -------
    (dict of str to Analysis, list of str)
        The analyses that resolve, and one message per problem (empty when
        every analysis can run).

    References
    ----------
    docs/DESIGN.md, "A study is declared, not coded" and "API
    conventions" (every problem reported at once, naming the key and the fix).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from veplab.study import load_study
    >>> folder = tempfile.TemporaryDirectory()
    >>> root = Path(folder.name)
    >>> (root / "surveys").mkdir()
    >>> _ = (root / "surveys" / "wellbeing.yml").write_text(
    ...     "id: wellbeing\ntitle: Wellbeing\nid_column: rid\nitems:\n"
    ...     "  - {id: q1, label: I feel safe, type: binary, options: {0: 'No', 1: 'Yes'}}\n")
    >>> (root / "pilot").mkdir()
    >>> _ = (root / "pilot" / "study.yml").write_text(
    ...     "id: pilot\nsources:\n  wellbeing: {path: data/wellbeing.csv, codebook: wellbeing}\n"
    ...     "analyses:\n  overview: {}\n  data_quality: {}\n")
    >>> analyses, problems = resolve_all(load_study(root / "pilot"))
    >>> list(analyses), problems
    (['overview', 'data_quality'], [])
    >>> folder.cleanup()
    """
    declared = _declared(study)
    problems = check_structure(study, declared, study.config_path)
    if problems:
        return {}, problems
    out = {}
    for name, spec in declared.items():
        ctx = _Ctx(study)
        try:
            out[name] = _resolve_one(ctx, name, spec or {})
        except Exception as exc:  # a codebook that does not load is reported by validate itself
            ctx.problems.append(f"{study.config_path}: analyses.{name}: {type(exc).__name__}: {exc}")
        problems += ctx.problems
    return out, problems


def check_analyses(study: "Study") -> list[str]:
    r"""Every problem with the study's ``analyses:`` (empty when all can run).

    What ``veplab validate`` reports for ``analyses:``: the problems
    :func:`resolve_all` finds (unknown keys, sources, columns or scales,
    required keys without a default), each naming study.yml, the key and
    the closest valid name.

    Parameters
    ----------
    study : Study

    Returns
    -------
    list of str

    References
    ----------
    docs/DESIGN.md, "A study is declared, not coded".

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from veplab.study import load_study
    >>> folder = tempfile.TemporaryDirectory()
    >>> root = Path(folder.name)
    >>> (root / "surveys").mkdir()
    >>> _ = (root / "surveys" / "wellbeing.yml").write_text(
    ...     "id: wellbeing\ntitle: Wellbeing\nid_column: rid\nitems:\n"
    ...     "  - {id: q1, label: I feel safe, type: binary, options: {0: 'No', 1: 'Yes'}}\n")
    >>> (root / "pilot").mkdir()
    >>> _ = (root / "pilot" / "study.yml").write_text(
    ...     "id: pilot\nsources:\n  wellbeing: {path: data/wellbeing.csv, codebook: wellbeing}\n"
    ...     "analyses:\n  push_pull: {source: wellbeing, outcome: q_safe}\n")
    >>> for problem in check_analyses(load_study(root / "pilot")):
    ...     print(problem.split(": ", 1)[1])
    analyses.push_pull.outcome: source 'wellbeing' has no scale 'q_safe'; there is none
    analyses.push_pull.domains: is required: the codebook of 'wellbeing' has no scale with domain push, pull or protective; name the explanatory scales
    >>> folder.cleanup()
    """
    return resolve_all(study)[1]


def describe(markdown: bool = False) -> str:
    r"""The list of analyses with their keys (type, default, meaning): ``veplab analyses`` and the README.

    Parameters
    ----------
    markdown : bool
        Markdown (the README's "Your own study") instead of plain text (the
        ``veplab analyses`` command).

    Returns
    -------
    str

    References
    ----------
    docs/DESIGN.md, "A study is declared, not coded" (``veplab
    analyses`` documents every analysis and its keys).

    Examples
    --------
    >>> print(describe().split("\n\n")[0])
    overview: Study overview
      needs: any sources
      does:  Counts of records (cases, for a ratings source) in each source, overall and by each of the design's breakdowns present in the source, and the cross-table of the first two.
      keys:
        sources          sources    default: every source of the study
                         the sources to describe
    >>> describe(markdown=True).splitlines()[0]
    '#### `overview`: Study overview'
    """
    lines: list[str] = []

    def key_lines(keys: tuple[Key, ...], indent: str) -> None:
        for k in keys:
            req = "required" if k.required else f"default: {k.default}"
            if markdown:
                lines.append(f"{indent}- `{k.name}` ({k.type}; {req}): {k.meaning}")
            else:
                lines.append(f"{indent}{k.name:<16} {k.type:<10} {req}")
                lines.append(f"{indent}{'':<16} {k.meaning}")
            if k.keys:
                key_lines(k.keys, indent + "  ")

    for a in ANALYSES.values():
        if markdown:
            lines += [f"#### `{a.name}`: {a.title}", "", f"Needs {a.needs}. {a.does}", ""]
        else:
            lines += [f"{a.name}: {a.title}", f"  needs: {a.needs}", f"  does:  {a.does}", "  keys:"]
        key_lines(a.keys, "  " if markdown else "    ")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
