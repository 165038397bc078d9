"""Validity analyses run from a study's declared design (``analyses: validity``).

The ``validity`` notebook calls these with the resolved analysis
(:func:`veplab.analyses.resolve`); each part that cannot run gives one sentence, without
digits, that the page shows in its place (:class:`PartNotRun`):

* :func:`structure` -- sampling adequacy (KMO, Bartlett), parallel analysis
  (``psych::fa.parallel``), an exploratory factor analysis (minres, oblimin) and a
  confirmatory model with one factor per scale (``lavaan::cfa``; with a single scale a
  one-factor model), each step on its own so that one failing leaves the others;
* :func:`invariance_across` -- configural, metric and scalar invariance across one
  grouping (``lavaan`` ``group.equal``), skipped with a sentence when a group is too small
  for a multi-group model;
* :func:`prediction_frame` -- the outcome source with the score joined from its own
  source by a pseudonymous id; from a ratings source (several rows per case) each case's
  first rating, the lowest rater id, is used;
* :func:`predictive_validity` -- the AUC with DeLong's interval (``pROC::ci.auc``), the
  outcome rate by score level with exact intervals, the ROC curve and performance by
  subgroup (:func:`~veplab.validity.subgroup_performance`).

References
----------
DeLong, E. R., DeLong, D. M., & Clarke-Pearson, D. L. (1988). Comparing the areas under
two or more correlated receiver operating characteristic curves. *Biometrics*, 44, 837-845.

Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. *Structural Equation Modeling*, 14, 464-504.

Example
-------
>>> import pandas as pd
>>> out = pd.DataFrame({"pid": ["a", "b", "c"], "event": [1, 0, 0]})
>>> ratings = pd.DataFrame({"pid": ["a", "a", "b", "c"], "rater": [2, 1, 1, 1], "risk": [3, 2, 1, 1]})
>>> frame = prediction_frame(out, "event", score_df=ratings, score="risk", join="pid", rater="rater")
>>> frame["risk"].tolist()
[2, 1, 1]
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import InputError, format_rows
from ..descriptives.tables import without_digits
from ..push_pull.design import _code_text
from ..factor_analysis.confirmatory import cfa, invariance
from ..factor_analysis.exploratory import efa, parallel_analysis
from .prediction import AUCResult, roc_auc, roc_curve, subgroup_performance
from .report import _scale_items, cfa_model, sampling_adequacy

__all__ = [
    "MAX_LEVELS",
    "PartNotRun",
    "PredictionResult",
    "StructureResult",
    "invariance_across",
    "prediction_frame",
    "predictive_validity",
    "structure",
]


class PartNotRun(InputError):
    """A part of the validity analysis that cannot run; ``sentence`` (no digits) is shown on the page."""

    def __init__(self, message: str, sentence: str):
        super().__init__(message)
        self.sentence = sentence


def _group_labels(df: pd.DataFrame, codebook: Any, columns: Sequence[str], lang: str) -> pd.DataFrame:
    """Group columns as their option labels in ``lang`` (text for uncoded columns); missing stays missing."""
    from ..descriptives.tables import labelled

    out = {}
    for c in columns:
        if codebook is not None and c in codebook and codebook.item(c).options:
            col = labelled(df, codebook, c, lang=lang)
            out[c] = pd.Series(np.asarray(col, dtype=object), index=df.index)
        else:
            col = pd.Series(np.asarray(df[c], dtype=object), index=df.index)
            out[c] = col.map(lambda v: v if pd.isna(v) else str(v))
    return pd.DataFrame(out, index=df.index)


_FEW_PER_PARAMETER = re.compile(r"less than (\d+) cases per free parameter")
_NUMBER_WORDS = {"5": "five", "10": "ten", "20": "twenty"}


def _messages(caught: list[Any]) -> list[str]:
    """The fitting functions' warnings as notes for a table: the usual small-sample warning in words
    (a note stating "5 cases" would read as a count of people and be withheld), repeats dropped."""
    out = []
    for w in caught:
        if not issubclass(w.category, UserWarning):
            continue
        text = re.sub(r"^(\[\w+\] )?(cfa|invariance|efa|kmo|parallel_analysis): ", "", str(w.message))
        m = _FEW_PER_PARAMETER.search(text)
        if m:
            text = (f"Fewer than {_NUMBER_WORDS.get(m.group(1), m.group(1))} people per free parameter: estimates, "
                    "standard errors and fit indices may be unstable.")
        out.append(text)
    return list(dict.fromkeys(out))


# ------------------------------------------------------------------ structure


@dataclasses.dataclass(frozen=True)
class StructureResult:
    """What :func:`structure` found.  A table is ``None`` when its step could not run;
    ``failed`` maps the step (``adequacy``, ``parallel``, ``efa``, ``cfa``) to the sentence
    saying why; ``notes`` holds the fitting functions' warnings (technical, for table notes).
    """

    n: int
    n_items: int
    scales: tuple[str, ...]
    sampling_adequacy: pd.DataFrame | None
    parallel: pd.DataFrame | None
    parallel_result: Any
    n_factors_suggested: int | None
    loadings: pd.DataFrame | None
    n_factors: int
    cfa_fit: pd.DataFrame | None
    failed: dict[str, str]
    notes: tuple[str, ...]


_STEP_SENTENCE = {
    "adequacy": "Sampling adequacy cannot be computed for these items (their correlation matrix is singular).",
    "parallel": "Parallel analysis cannot be run on these items.",
    "efa": "The exploratory factor analysis cannot be estimated on these items.",
    "cfa": "The confirmatory factor model cannot be estimated on these items.",
}


def structure(df: pd.DataFrame, codebook: Any, scales: Sequence[str], *, missing: str = "ml", n_iter: int = 20,
              seed: int | None = None) -> StructureResult:
    """Structure of the items of ``scales``: adequacy, parallel analysis, EFA and a CFA with one factor per scale.

    Reverse-keyed items are reversed first.  The EFA extracts as many factors as scales
    (minres, oblimin; a single scale gives one factor).  The CFA is the measurement
    model the codebook implies (:func:`~veplab.factor_analysis.cfa_model`), fitted by
    full-information ML (``missing="ml"``, lavaan ``missing = "ml"``: everyone with an item
    answered counts) or on complete cases (``"listwise"``).  KMO, Bartlett and the EFA
    use pairwise correlations.  Each step runs on its own: one that fails is named in
    ``failed`` with a sentence, and the others are still reported.
    """
    scales = list(scales)
    if not scales:
        raise PartNotRun("structure: no scales", "No scale is named for the structure, so there is none to test.")
    x = _scale_items(df, codebook, scales)
    answered = x.notna().any(axis=1)
    n = int(answered.sum()) if missing != "listwise" else int(x.notna().all(axis=1).sum())
    failed: dict[str, str] = {}
    notes: list[str] = []
    adequacy = parallel = loadings = fit = None
    pa = None
    suggested = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            adequacy = sampling_adequacy(x)
        except (InputError, np.linalg.LinAlgError):
            failed["adequacy"] = _STEP_SENTENCE["adequacy"]
        try:
            pa = parallel_analysis(x, n_iter=n_iter, seed=seed)
            suggested = pa.n_factors
            parallel = pa.table
        except (InputError, np.linalg.LinAlgError):
            failed["parallel"] = _STEP_SENTENCE["parallel"]
        try:
            loadings = efa(x, len(scales), method="minres", rotation="oblimin" if len(scales) > 1 else None).loadings
        except (InputError, np.linalg.LinAlgError):
            failed["efa"] = _STEP_SENTENCE["efa"]
        try:
            data = x.dropna() if missing == "listwise" else x[answered]
            fitted = cfa(data, cfa_model(codebook, scales), missing=missing)
            fit = pd.DataFrame([{m: getattr(fitted, m) for m in
                                 ("n", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low",
                                  "rmsea_ci_high", "srmr", "aic", "bic") if hasattr(fitted, m)}], index=["CFA"])
        except (InputError, np.linalg.LinAlgError):
            failed["cfa"] = _STEP_SENTENCE["cfa"]
    notes += _messages(caught)
    return StructureResult(n=n, n_items=int(x.shape[1]), scales=tuple(scales), sampling_adequacy=adequacy,
                           parallel=parallel, parallel_result=pa, n_factors_suggested=suggested, loadings=loadings,
                           n_factors=len(scales), cfa_fit=fit, failed=failed, notes=tuple(notes))


def invariance_across(df: pd.DataFrame, codebook: Any, scales: Sequence[str], group: str, *, missing: str = "ml",
                      threshold: int | None = None, lang: str = "en") -> tuple[pd.DataFrame, int, tuple[str, ...]]:
    """Configural, metric and scalar invariance of the scales' factor model across ``group``.

    Groups are the codebook's option labels; people without a group are left out.  Every
    group needs at least ``items + 1`` people (complete cases for ``missing="listwise"``,
    else people with an item answered) -- fewer cannot identify a group's covariance
    matrix -- and, with ``threshold``, at least the disclosure threshold: otherwise
    :class:`PartNotRun` says so and the grouping is skipped.  Returns
    :func:`~veplab.validity.invariance`'s table (indexed by model), the number of people
    in the models and the fitting functions' warnings.
    """
    label = without_digits(codebook.item(group).text(lang) if group in codebook else group, "this grouping")
    x = _scale_items(df, codebook, scales)
    keep = x.dropna().index if missing == "listwise" else x.index[x.notna().any(axis=1)]
    g = _group_labels(df.loc[keep], codebook, [group], lang)[group].dropna()
    counts = g.value_counts()
    counts = counts[counts > 0]
    if len(counts) < 2:
        raise PartNotRun(f"invariance: {group!r} has a single group",
                         f"{label[:1].upper() + label[1:]} takes a single value among the people answering the "
                         "items, so there is no invariance to test across it.")
    need = max(x.shape[1] + 1, threshold or 0)
    if int(counts.min()) < need:
        raise PartNotRun(f"invariance: a group of {group!r} has {int(counts.min())} people, {need} needed",
                         f"Invariance across {label.lower()} is not tested: one of its groups has too few people "
                         "for a multi-group model (at least the number of items plus one, and the disclosure "
                         "threshold).")
    data = x.loc[g.index].join(g)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = invariance(data, cfa_model(codebook, scales), group, missing=missing)
        except (InputError, np.linalg.LinAlgError) as exc:
            raise PartNotRun(f"invariance across {group!r}: {exc}",
                             f"The multi-group model across {label.lower()} cannot be estimated.") from None
    return res.table.set_index("model"), int(res.n), tuple(_messages(caught))


# ------------------------------------------------------------------ prediction


def _ids(values: pd.Series) -> str:
    return format_rows(list(pd.unique(values.astype(str)))[:20], limit=5).replace("rows", "ids").replace("row", "id")


def prediction_frame(outcome_df: pd.DataFrame, outcome: str, *, score: str, score_df: pd.DataFrame | None = None,
                     join: str | None = None, rater: str | None = None, outcome_source: str = "the outcome source",
                     score_source: str = "the score's source") -> pd.DataFrame:
    """The outcome source with the score: in place, or joined from its own source on ``join``.

    The outcome source must hold one row per ``join`` id (else an
    :class:`~veplab._validate.InputError` naming the source and column).  A score source
    with several rows per id (a ratings source: several assessors per case) gives each
    case's first rating, that of the lowest ``rater`` id (``rater`` is required then).
    People without a score keep a missing score (:func:`predictive_validity` counts
    and leaves them out).  ``frame.attrs`` records ``first_rating`` (whether ratings were
    reduced to one per case) and ``n_without_score``.
    """
    if outcome not in outcome_df.columns:
        raise InputError(f"analyses.validity.prediction.outcome: {outcome_source} has no column {outcome!r}")
    if score_df is None:
        if score not in outcome_df.columns:
            raise InputError(f"analyses.validity.prediction.score: {outcome_source} has no column {score!r}")
        frame = outcome_df.copy()
        frame.attrs.update(first_rating=False, n_without_score=int(frame[score].isna().sum()))
        return frame
    if join is None:
        raise InputError("analyses.validity.prediction.join: the score is in another source; name the id column "
                         "that links the two")
    for src, d, col in ((outcome_source, outcome_df, join), (score_source, score_df, join),
                        (score_source, score_df, score)):
        if col not in d.columns:
            raise InputError(f"analyses.validity.prediction: {src} has no column {col!r}")
    ids = outcome_df[join]
    dup = ids[ids.notna() & ids.duplicated(keep=False)]
    if len(dup):
        raise InputError(f"analyses.validity.prediction.join: {outcome_source} must hold one row per {join!r}, but "
                         f"{dup.nunique()} ids appear more than once ({_ids(dup)}); keep one row per person")
    sdf = score_df[score_df[join].notna()]
    several = bool(sdf[join].duplicated().any())
    if several:
        if rater is None or rater not in sdf.columns:
            raise InputError(f"analyses.validity.prediction.rater: {score_source} holds several rows per {join!r}; "
                             "name the rater column so that each case's first rating is used")
        sdf = sdf.sort_values([join, rater], kind="stable").drop_duplicates(join)
    right = sdf[[join, score]]
    left = outcome_df.drop(columns=[score]) if score in outcome_df.columns else outcome_df
    key_l, key_r = left[join].map(_code_text), right[join].map(_code_text)
    merged = left.assign(__key__=key_l.to_numpy()).merge(
        right.drop(columns=[join]).assign(__key__=key_r.to_numpy()), on="__key__", how="left",
        validate="many_to_one")
    merged.index = outcome_df.index
    frame = merged.drop(columns=["__key__"])
    frame.attrs.update(first_rating=several, n_without_score=int(frame[score].isna().sum()))
    return frame


@dataclasses.dataclass(frozen=True)
class PredictionResult:
    """What :func:`predictive_validity` found (see there); ``notes`` are sentences without digits."""

    auc: AUCResult
    by_level: pd.DataFrame
    roc: pd.DataFrame
    subgroups: pd.DataFrame | None
    y: pd.Series
    score: pd.Series
    n_left_out: int
    notes: tuple[str, ...]
    #: the score the rate table and the ROC figure use: the score itself, or its tenths when it
    #: takes more than :data:`MAX_LEVELS` values (a curve with a step per person is row-level data)
    plot_score: pd.Series | None = None
    grouped: bool = False


#: A score with more distinct values than this is grouped into tenths for the rate table and the ROC figure.
MAX_LEVELS = 10


def predictive_validity(frame: pd.DataFrame, outcome: str, score: str, *, subgroups: Sequence[str] = (),
                        outcome_codebook: Any = None, score_codebook: Any = None, ci: float = 0.95,
                        seed: int | None = None, lang: str = "en") -> PredictionResult:
    """How well ``score`` separates people with the outcome (1) from those without (0).

    * the AUC, ``P(score_event > score_nonevent) + P(tie)/2``, with DeLong's interval
      (``pROC::ci.auc``); a higher score is read as a higher risk (an AUC below 0.5
      means the score ranks people the wrong way);
    * the outcome rate at each level of the score with exact (Clopper-Pearson)
      intervals, levels named by the score's option labels when it is coded; a score
      with more than :data:`MAX_LEVELS` values is grouped into tenths (quantile groups)
      for this table and for the ROC curve (the AUC and the subgroups use the score itself);
    * the ROC curve (sensitivity and specificity at each threshold);
    * the same by each grouping of ``subgroups`` with two or more groups
      (:func:`~veplab.validity.subgroup_performance`, groups named by option labels).

    The outcome must be coded 0/1.  People without the outcome or the score are left
    out (``n_left_out``).  :class:`PartNotRun` when the outcome does not have both values.
    """
    for col in (outcome, score):
        if col not in frame.columns:
            raise InputError(f"predictive_validity: column {col!r} is not in the data")
    y = pd.to_numeric(pd.Series(np.asarray(frame[outcome], dtype=object), index=frame.index), errors="coerce")
    s = pd.to_numeric(pd.Series(np.asarray(frame[score], dtype=object), index=frame.index), errors="coerce")
    bad = y.notna() & ~y.isin([0, 1])
    if bad.any():
        raise InputError(f"analyses.validity.prediction.outcome: {outcome!r} must be coded 0/1 (1 = the event); it "
                         f"holds {sorted(pd.unique(y[bad]))[:5]}")
    ok = y.notna() & s.notna()
    notes = []
    if (~ok).any():
        notes.append("People without the outcome or without a score are left out.")
    y, s = y[ok].astype(int), s[ok].astype(float)
    if y.nunique() < 2:
        raise PartNotRun("predictive_validity: the outcome has a single value",
                         "Everyone with a score has the same outcome, so the score's prediction cannot be assessed.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auc = roc_auc(y, s, ci=ci, direction="<")
    if any("only" in m and "events" in m for m in _messages(caught)):
        notes.append("There are few events (or few people without the event), so the interval of the AUC is "
                     "unreliable.")
    rows = []
    item = score_codebook.item(score) if score_codebook is not None and score in score_codebook else None
    grouped = s.nunique() > MAX_LEVELS
    levels = s
    names: dict[Any, str] = {}
    if grouped:
        bins = pd.qcut(s, 10, duplicates="drop")
        levels = pd.Series(bins.cat.codes.astype(float) + 1, index=s.index)
        names = {float(i + 1): f"{iv.left:.4g} to {iv.right:.4g}" for i, iv in enumerate(bins.cat.categories)}
    for level, yy in y.groupby(levels):
        events, total = int(yy.sum()), len(yy)
        lo = stats.beta.ppf((1 - ci) / 2, events, total - events + 1) if events > 0 else 0.0
        hi = stats.beta.ppf(1 - (1 - ci) / 2, events + 1, total - events) if events < total else 1.0
        name: Any = names.get(level, level)
        if grouped:
            pass
        elif item is not None and item.options and float(level).is_integer() and int(level) in item.options:
            name = item.option_text(int(level), lang)
        rows.append({"level": name, "n": total, "events": events, "rate": events / total, "ci_low": float(lo),
                     "ci_high": float(hi)})
    by_level = pd.DataFrame(rows).set_index("level")
    by_level.index.name = (item.text(lang) if item is not None else score) + (" (tenths)" if grouped else "")
    curve = roc_curve(y, levels, direction="<")[["threshold", "sensitivity", "specificity"]]
    sub = None
    present = [g for g in subgroups if g in frame.columns and frame.loc[y.index, g].nunique() >= 2]
    for g in subgroups:
        if g in frame.columns and g not in present:
            name = outcome_codebook.item(g).text(lang) if outcome_codebook is not None and g in outcome_codebook else g
            notes.append(f"{without_digits(name, 'One of the subgroups')} takes a single value among these people, so "
                         "performance is not broken down by it.")
    if present:
        groups = _group_labels(frame.loc[y.index], outcome_codebook, present, lang)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sub = subgroup_performance(y, s, groups, ci=ci, seed=seed, direction="<")
        if outcome_codebook is not None:
            names = {g: outcome_codebook.item(g).text(lang) for g in present if g in outcome_codebook}
            sub["variable"] = sub["variable"].map(lambda v: names.get(v, v))
        # what the page shows for each row: "All" for everyone, "Gender: Woman" for a group
        overall = (sub["variable"] == "(all)") & (sub["group"] == "(all)")
        sub.insert(0, "subgroup", np.where(overall, "All", sub["variable"].astype(str) + ": " + sub["group"].astype(str)))
    if grouped:
        notes.append("The score takes many values: the rate table and the curve group it into tenths, the AUC uses "
                     "the score itself.")
    return PredictionResult(auc=auc, by_level=by_level, roc=curve, subgroups=sub, y=y, score=s,
                            n_left_out=int((~ok).sum()), notes=tuple(notes), plot_score=levels, grouped=grouped)
