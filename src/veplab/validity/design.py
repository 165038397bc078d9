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
  subgroup (:func:`~veplab.validity.subgroup_performance`);
* :func:`prediction_over_time` -- with a follow-up time: AUC(t), Uno's C, calibration at
  the horizon, the decision curve and the competing-risk incidence by score level.

References
----------
DeLong, E. R., DeLong, D. M., & Clarke-Pearson, D. L. (1988). Comparing the areas under
two or more correlated receiver operating characteristic curves. *Biometrics*, 44, 837-845.

Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
invariance. *Structural Equation Modeling*, 14, 464-504.

Examples
--------
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
    "DIFAcross",
    "dif_across",
    "ordinal_invariance_across",
    "ItemResponse",
    "item_response",
    "merge_empty_categories",
    "OverTimeResult",
    "prediction_frame",
    "prediction_over_time",
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

    Statistics (``R`` the item correlations, ``Q`` the partial correlations, ``p`` items)::

        KMO = sum_{i != j} r_ij^2 / (sum_{i != j} r_ij^2 + sum_{i != j} q_ij^2)
        Bartlett chi2 = -(n - 1 - (2 p + 5) / 6) log det(R),  df = p (p - 1) / 2
        CFA: Sigma = Lambda Phi Lambda' + Theta, fitted by maximum likelihood

    and parallel analysis retains the factors whose eigenvalues exceed those of
    random data of the same size (Horn 1965).

    References
    ----------
    Kaiser, H. F. (1974). An index of factorial simplicity. *Psychometrika*, 39, 31-36.
    Bartlett, M. S. (1950). Tests of significance in factor analysis. *British Journal of
    Psychology, Statistical Section*, 3, 77-85.
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika*, 30, 179-185.
    Rosseel, Y. (2012). lavaan: an R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2), 1-36.
    R: ``psych::KMO``, ``psych::cortest.bartlett``, ``psych::fa.parallel``,
    ``psych::fa(fm = "minres", rotate = "oblimin")`` and ``lavaan::cfa``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {k: str(k) for k in range(1, 6)}
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "lang", "label": "Language", "type": "categorical", "options": {1: "English", 2: "Russian"}},
    ...     *[{"id": f"g{j}", "label": f"Grievance {j}", "type": "likert", "options": opts} for j in range(3)],
    ...     *[{"id": f"e{j}", "label": f"Economic {j}", "type": "likert", "options": opts} for j in range(3)]],
    ...     "scales": [{"id": "grievance", "label": "Grievance", "items": ["g0", "g1", "g2"]},
    ...                {"id": "economic", "label": "Economic", "items": ["e0", "e1", "e2"]}]})
    >>> r = np.random.default_rng(5); n = 300
    >>> f = r.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    >>> d = pd.DataFrame({"id": range(n), "lang": np.repeat([1, 2], n // 2)})
    >>> for j in range(3):
    ...     d[f"g{j}"] = np.clip(np.round(3 + 0.9 * f[:, 0] + 0.6 * r.normal(size=n)), 1, 5)
    ...     d[f"e{j}"] = np.clip(np.round(3 + 0.9 * f[:, 1] + 0.6 * r.normal(size=n)), 1, 5)
    >>> st = structure(d, cb, ["grievance", "economic"], missing="listwise", n_iter=5, seed=1)
    >>> st.n, st.n_items, st.n_factors_suggested, st.failed
    (300, 6, 2, {})
    >>> st.loadings.abs().idxmax(axis=1).tolist()   # each scale's items load on one factor
    ['MR2', 'MR2', 'MR2', 'MR1', 'MR1', 'MR1']
    >>> st.cfa_fit[["chisq", "df", "cfi"]].round(3)
          chisq  df    cfi
    CFA  10.614   8  0.996
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

    Each model adds equality constraints to the previous one (metric: equal loadings;
    scalar: also equal intercepts) and is compared with it by
    ``delta_chisq = chisq_restricted - chisq_free`` on ``delta_df`` degrees of freedom
    and by the change in CFI and RMSEA (a CFI drop of more than 0.01 suggests
    non-invariance; Chen 2007).

    References
    ----------
    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    *Psychometrika*, 58, 525-543.
    Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of measurement
    invariance. *Structural Equation Modeling*, 14, 464-504.
    R: ``lavaan::cfa(group = , group.equal = c("loadings", "intercepts"))`` and
    ``lavTestLRT``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {k: str(k) for k in range(1, 6)}
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "lang", "label": "Language", "type": "categorical", "options": {1: "English", 2: "Russian"}},
    ...     *[{"id": f"g{j}", "label": f"Grievance {j}", "type": "likert", "options": opts} for j in range(3)],
    ...     *[{"id": f"e{j}", "label": f"Economic {j}", "type": "likert", "options": opts} for j in range(3)]],
    ...     "scales": [{"id": "grievance", "label": "Grievance", "items": ["g0", "g1", "g2"]},
    ...                {"id": "economic", "label": "Economic", "items": ["e0", "e1", "e2"]}]})
    >>> r = np.random.default_rng(5); n = 300
    >>> f = r.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    >>> d = pd.DataFrame({"id": range(n), "lang": np.repeat([1, 2], n // 2)})
    >>> for j in range(3):
    ...     d[f"g{j}"] = np.clip(np.round(3 + 0.9 * f[:, 0] + 0.6 * r.normal(size=n)), 1, 5)
    ...     d[f"e{j}"] = np.clip(np.round(3 + 0.9 * f[:, 1] + 0.6 * r.normal(size=n)), 1, 5)
    >>> table, n_used, notes = invariance_across(d, cb, ["grievance", "economic"], "lang", missing="listwise")
    >>> n_used, table["verdict"].tolist()[1:]
    (300, ['tenable', 'tenable'])
    >>> table[["df", "delta_df"]]
                df  delta_df
    model
    configural  16       NaN
    metric      20       4.0
    scalar      24       4.0
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


def _with_large_groups(x: pd.DataFrame, groups: pd.Series, need: int) -> tuple[pd.DataFrame, bool]:
    """``x`` joined with its group as ``__group__``, complete rows only, without the groups of fewer than
    ``need`` people; and whether a group was left out."""
    data = x.join(groups.rename("__group__")).dropna()
    counts = data["__group__"].value_counts()
    small = counts[counts < need].index
    return (data[~data["__group__"].isin(small)], True) if len(small) else (data, False)


# ------------------------------------------------------------------ ordinal invariance


def merge_empty_categories(x: pd.DataFrame, groups: pd.Series) -> tuple[pd.DataFrame, list[str]]:
    """Merge, for every group alike, each answer category of an item that some group never chose
    with its neighbour (the one towards the middle of the scale; for an inner category the one
    chosen by fewer people), until every category of every item is chosen in every group.

    Thresholds of an ordinal model need every category in every group (lavaan stops otherwise);
    merging for all groups keeps the items comparable.  Returns the recoded items (codes 0, 1,
    ... in order) and the names of the items whose categories were merged.

    References
    ----------
    lavaan's error "some categories of variable ... are empty in group ..." and the usual
    remedy: Muthén, B., & Asparouhov, T. (2002). Latent variable analysis with categorical
    outcomes: multiple-group and growth modeling in Mplus. *Mplus Web Notes*, 4.
    Liu, Y., Millsap, R. E., West, S. G., Tein, J.-Y., Tanaka, R., & Grimm, K. J. (2017).
    Testing measurement invariance in longitudinal data with ordered-categorical measures.
    *Psychological Methods*, 22, 486-506.

    Examples
    --------
    >>> x = pd.DataFrame({"a": [1, 2, 3, 1, 2, 2], "b": [1, 2, 1, 2, 1, 2]})
    >>> out, merged = merge_empty_categories(x, pd.Series(["u", "u", "u", "v", "v", "v"]))
    >>> out["a"].tolist(), merged
    ([0, 1, 1, 0, 1, 1], ['a'])
    """
    out = {}
    merged: list[str] = []
    g = groups.to_numpy()
    levels = pd.unique(groups)
    for col in x.columns:
        v = x[col].to_numpy(dtype=float)
        cats = sorted(np.unique(v[~np.isnan(v)]).tolist())
        mapping = {c: k for k, c in enumerate(cats)}
        codes = np.array([mapping[c] for c in v], dtype=int)
        changed = False
        while True:
            k = max(codes) + 1
            counts = np.array([[np.sum((codes == c) & (g == lv)) for c in range(k)] for lv in levels])
            empty = np.flatnonzero((counts == 0).any(axis=0))
            if k <= 2 or empty.size == 0:
                break
            c = int(empty[0])
            total = counts.sum(axis=0)
            if c == 0:
                into = 1
            elif c == k - 1:
                into = k - 2
            else:
                into = c - 1 if total[c - 1] <= total[c + 1] else c + 1
            codes = np.where(codes == c, into, codes)
            codes = np.unique(codes, return_inverse=True)[1]
            changed = True
        out[col] = codes
        if changed:
            merged.append(str(col))
    return pd.DataFrame(out, index=x.index), merged


def ordinal_invariance_across(df: pd.DataFrame, codebook: Any, scales: Sequence[str], group: str, *,
                              threshold: int | None = None, lang: str = "en"
                              ) -> tuple[pd.DataFrame, int, tuple[str, ...]]:
    """Measurement invariance of the scales' items treated as ordinal, across ``group``.

    The items' answers are ordered categories: the models are fitted by WLSMV on polychoric
    correlations (``lavaan::cfa(ordered = TRUE, estimator = "WLSMV")``), and the levels are
    those of Wu & Estabrook (2016): configural, equal thresholds, equal thresholds and
    loadings, then also equal intercepts (lavaan ``group.equal = c("thresholds",
    "loadings")``), each compared with the previous by the scaled chi-square difference
    (``lavTestLRT``, Satorra 2000) and the change in the robust CFI and RMSEA
    (:func:`~veplab.factor_analysis.invariance` with ``ordered=True``).  People who answered
    every item and have a group are used (WLSMV's listwise default); groups smaller than the
    disclosure ``threshold`` are left out; categories some group never chose are merged with
    a neighbour for all groups (:func:`merge_empty_categories`).  Returns the table (indexed by
    model), the people in the models and sentences (without digits) for the page.

    Model: an item's answer is ``k`` when its latent response ``y* = nu + lambda eta + e``
    falls between thresholds ``tau_k`` and ``tau_{k+1}``; the levels constrain ``tau``, then
    ``lambda``, then ``nu`` to be equal across groups.

    References
    ----------
    Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. *Psychometrika*, 81,
    1014-1045.
    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of
    moment structures. In R. D. H. Heijmans, D. S. G. Pollock, & A. Satorra (Eds.),
    *Innovations in Multivariate Statistical Analysis* (pp. 233-247). Kluwer.
    R: ``lavaan::cfa(ordered = TRUE, estimator = "WLSMV", group.equal = )`` and ``lavTestLRT``
    (tests/reference/validity_cfa_ordinal.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> rng = np.random.default_rng(4); n = 600
    >>> d = pd.DataFrame({"pid": [f"p{i}" for i in range(n)], "lang": np.repeat([1, 2], n // 2)})
    >>> f = rng.normal(size=n)
    >>> for j in range(4):
    ...     d[f"q{j}"] = 1 + np.digitize(0.8 * f + 0.6 * rng.normal(size=n), [-0.8, 0, 0.8])
    >>> opts = {k: {"en": t} for k, t in zip(range(1, 5), "abcd")}
    >>> cb = from_dict({"id": "s", "version": "1", "title": {"en": "S"}, "id_column": "pid", "items": [
    ...     {"id": "pid", "label": {"en": "Id"}, "type": "text", "role": "admin"},
    ...     {"id": "lang", "label": {"en": "Language"}, "type": "categorical",
    ...      "options": {1: {"en": "English"}, 2: {"en": "Russian"}}},
    ...     *[{"id": f"q{j}", "label": {"en": f"Item {j}"}, "type": "likert", "options": opts} for j in range(4)]],
    ...     "scales": [{"id": "sc", "label": {"en": "Scale"}, "items": ["q0", "q1", "q2", "q3"]}]})
    >>> table, n_used, notes = ordinal_invariance_across(d, cb, ["sc"], "lang")
    >>> list(table.index), n_used
    (['configural', 'thresholds', 'metric', 'scalar'], 600)
    """
    label = without_digits(codebook.item(group).text(lang) if group in codebook else group, "this grouping")
    x = _scale_items(df, codebook, scales)
    g = _group_labels(df, codebook, [group], lang)[group]
    notes: list[str] = []
    data, dropped = _with_large_groups(x, g, max(threshold or 0, x.shape[1] + 1))
    if dropped:
        notes.append(f"Groups of {label.lower()} with too few people (fewer than the disclosure threshold or the "
                     "number of items) are left out of the ordinal models.")
    if data["__group__"].nunique() < 2:
        raise PartNotRun(f"ordinal invariance: fewer than two groups of {group!r}",
                         f"Ordinal invariance across {label.lower()} is not tested: fewer than two of its groups "
                         "are large enough.")
    items, merged = merge_empty_categories(data[list(x.columns)], data["__group__"])
    if merged:
        texts = [without_digits(codebook.item(i).text(lang) if i in codebook else i, "an item").rstrip(".")
                 for i in merged]
        notes.append("Answer categories that nobody in one of the groups chose were merged with a neighbouring "
                     "category for every group, for: " + "; ".join(texts) + ".")
    single = [c for c in items.columns if items[c].nunique() < 2]
    if single:
        raise PartNotRun(f"ordinal invariance: {single} constant", f"Ordinal invariance across {label.lower()} is "
                         "not tested: an item has a single answer among the people in the models.")
    frame = items.join(data["__group__"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = invariance(frame, cfa_model(codebook, scales), "__group__", ordered=True)
        except (InputError, np.linalg.LinAlgError) as exc:
            raise PartNotRun(f"ordinal invariance across {group!r}: {exc}",
                             f"The ordinal multi-group model across {label.lower()} cannot be estimated.") from None
    notes.extend(m for m in _messages(caught) if m not in notes)
    return res.table.set_index("model"), int(res.n), tuple(notes)


# ------------------------------------------------------------------ item response theory


@dataclasses.dataclass(frozen=True)
class ItemResponse:
    """What :func:`item_response` found for one scale: the fitted model (``result``, a
    :class:`~veplab.irt.PartialCreditResult` or :class:`~veplab.irt.RaschResult`), the item
    table for the page (``table``: location, its SE, infit and outfit mean-squares and their
    t, indexed by item text), the item texts (``labels``), the people in the model (``n``) and
    sentences without digits (``notes``).  ``shared_steps``: when every item has the same
    answer scale, the rating scale model (:func:`veplab.irt.rating_scale`) tested against the
    partial credit model (``statistic``, ``df``, ``p``, ``rating_scale`` the fit); None otherwise."""

    scale: str
    result: Any
    table: pd.DataFrame
    labels: dict[str, str]
    n: int
    notes: tuple[str, ...]
    shared_steps: dict[str, Any] | None = None


def item_response(df: pd.DataFrame, codebook: Any, scale: str, *, lang: str = "en") -> ItemResponse:
    """The partial credit model (Rasch model for yes/no items) of one scale's items.

    Items are scored as the factor models take them (missing codes missing, reverse keys
    applied), their observed answers numbered 0, 1, ... in order (a category nobody chose
    is left out of the numbering); people who answered fewer than two of the items are left
    out (no conditional information).  The model is fitted by conditional maximum likelihood
    (:func:`veplab.irt.partial_credit`, ``eRm::PCM``; :func:`veplab.irt.rasch`, ``eRm::RM``
    when every item is yes/no).  Mean-squares near 1 fit; above 1.3 an item is noisier than
    the model expects (it measures something else too), below 0.7 more predictable (often a
    redundant item) (Wright & Linacre 1994).  :class:`PartNotRun` when the model cannot be
    fitted (an item everyone answers alike, fewer than two items).  When every item has the
    same answer scale, the rating scale model (:func:`veplab.irt.rating_scale`: the steps
    between answers shared by all items) is tested against it by the conditional
    likelihood-ratio statistic ``2 (log L_PCM - log L_RSM)`` on ``npar_PCM - npar_RSM`` df
    (``shared_steps``; Andersen 1977).

    Model: ``P(X_vi = k) = exp(sum_{h <= k} (theta_v - delta_ih)) / sum_l exp(sum_{h <= l}
    (theta_v - delta_ih))``; outfit ``MSQ = mean of z^2`` and infit ``MSQ = sum (x - E)^2 /
    sum Var`` over people, ``z`` the standardised residuals.

    References
    ----------
    Masters, G. N. (1982). A Rasch model for partial credit scoring. *Psychometrika*, 47,
    149-174.
    Mair, P., & Hatzinger, R. (2007). Extended Rasch modeling: the eRm package for the
    application of IRT models in R. *Journal of Statistical Software*, 20(9).
    Wright, B. D., & Linacre, J. M. (1994). Reasonable mean-square fit values. *Rasch
    Measurement Transactions*, 8, 370.
    Andrich, D. (1978). A rating formulation for ordered response categories.
    *Psychometrika*, 43, 561-573.
    Andersen, E. B. (1977). Sufficient statistics and latent trait models. *Psychometrika*,
    42, 69-81.
    R: ``eRm::PCM`` / ``eRm::RM`` / ``eRm::RSM`` and ``eRm::itemfit`` (tests/reference/irt.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> rng = np.random.default_rng(2); n = 400; f = rng.normal(size=n)
    >>> d = pd.DataFrame({"pid": [f"p{i}" for i in range(n)]})
    >>> for j in range(4):
    ...     d[f"q{j}"] = 1 + np.digitize(f + rng.logistic(size=n) / 1.7, [-1 + j / 2, j / 2, 1 + j / 2])
    >>> opts = {k: {"en": t} for k, t in zip(range(1, 5), "abcd")}
    >>> cb = from_dict({"id": "s", "version": "1", "title": {"en": "S"}, "id_column": "pid", "items": [
    ...     {"id": "pid", "label": {"en": "Id"}, "type": "text", "role": "admin"},
    ...     *[{"id": f"q{j}", "label": {"en": f"Item {j}"}, "type": "likert", "options": opts} for j in range(4)]],
    ...     "scales": [{"id": "sc", "label": {"en": "Scale"}, "items": ["q0", "q1", "q2", "q3"]}]})
    >>> ir = item_response(d, cb, "sc")
    >>> list(ir.table.columns), bool(ir.table["location"].is_monotonic_increasing)
    (['location', 'se', 'infit MSQ', 'outfit MSQ', 'infit t', 'outfit t'], True)
    """
    from ..irt import partial_credit, rasch, rating_scale

    title = without_digits(codebook.scale(scale).text(lang), "this scale")
    x = _scale_items(df, codebook, [scale])
    notes: list[str] = []
    answered = x.notna().sum(axis=1)
    if (answered.between(1, 1)).any():
        notes.append("People who answered a single item of the scale are left out (the model compares answers "
                     "within a person).")
    x = x[answered >= 2]
    codes = x.apply(lambda c: c.map({v: k for k, v in enumerate(sorted(c.dropna().unique()))}))
    def offered(item: str) -> int:
        it = codebook.item(item)
        return 2 if it.key is not None else len([c for c in (it.options or {}) if c not in it.missing])

    if any(x[c].nunique() < offered(c) for c in x.columns if c in codebook):
        notes.append("Answer categories nobody chose are left out of the items' scoring.")
    binary = bool((codes.max() <= 1).all())
    try:
        res = (rasch if binary else partial_credit)(codes)
    except InputError as exc:
        raise PartNotRun(f"item response model of {scale!r}: {exc}",
                         f"The item response model of {title} cannot be fitted (for example an item that "
                         "everyone answered alike).") from None
    shared = None
    # the rating scale model compares the items' steps, so the items must have the same answers: the same
    # observed codes (after a category nobody chose on one item is left out, its numbering means other answers)
    same_answers = len({tuple(sorted(x[c].dropna().unique().tolist())) for c in x.columns}) == 1
    if not binary and codes.shape[1] > 1 and same_answers and int(codes.max().iloc[0]) > 1:
        try:
            rsm = rating_scale(codes)
        except InputError:
            rsm = None
        if rsm is not None:
            stat = max(0.0, 2.0 * (res.loglik - rsm.loglik))
            ddf = int(res.npar - rsm.npar)
            p = float(stats.chi2.sf(stat, ddf))
            shared = {"statistic": stat, "df": ddf, "p": p, "rating_scale": rsm}
            notes.append("The items share the answer scale's steps: the rating scale model, where every item uses "
                         "the steps between answers alike, fits as well as the partial credit model (conditional "
                         "likelihood-ratio test, five per cent level)." if p >= 0.05 else
                         "The items use the answer scale differently: the rating scale model, where every item uses "
                         "the steps between answers alike, fits worse than the partial credit model (conditional "
                         "likelihood-ratio test, five per cent level), so the partial credit model is kept.")
    labels = {str(i): (codebook.item(i).text(lang) if i in codebook else str(i)) for i in x.columns}
    fit = res.item_fit.set_index("item")
    items = res.items.set_index("item")
    table = pd.DataFrame({
        "location": items["location"], "se": items["se"],
        "infit MSQ": fit["infit_msq"], "outfit MSQ": fit["outfit_msq"],
        "infit t": fit["infit_t"], "outfit t": fit["outfit_t"]})
    table.index = pd.Index([labels[str(i)] for i in table.index], name="item")
    return ItemResponse(scale=scale, result=res, table=table, labels=labels, n=int(res.n), notes=tuple(notes),
                        shared_steps=shared)


# ------------------------------------------------------------------ DIF


@dataclasses.dataclass(frozen=True)
class DIFAcross:
    """What :func:`dif_across` found for one grouping.

    ``table``: one row per item (its codebook text), with its scale, the people in the
    models, the likelihood-ratio test of any DIF (models 1 vs 3), the McFadden R² changes
    for uniform, non-uniform and any DIF, and ``DIF`` (``uniform``, ``non-uniform``, both, or
    empty).  ``results``: the :class:`~veplab.validity.DIFResult` of each scale; ``plot_table``
    the stacked per-item tables (item ids) for :func:`~veplab.validity.plot_dif`;
    ``flagged`` the flagged items' texts; ``notes`` sentences (without digits) for the page.
    """

    group: str
    n: int
    table: pd.DataFrame
    plot_table: pd.DataFrame
    results: dict[str, Any]
    flagged: tuple[str, ...]
    labels: dict[str, str]
    notes: tuple[str, ...]


def dif_across(df: pd.DataFrame, codebook: Any, scales: Sequence[str], group: str, *, threshold: int | None = None,
               lang: str = "en", matching: str = "purified", alpha: float = 0.01, r2_change: float = 0.02
               ) -> DIFAcross:
    """Differential item functioning of every item of ``scales`` across ``group`` (logistic-regression DIF).

    For each scale of at least three items, :func:`~veplab.validity.dif_ordinal` fits the three
    nested proportional-odds models of each item on the matching score and the group (by
    default ``matching="purified"``: the sum of the scale's *other* items, refitted with the
    flagged items left out of the others' scores until the flags settle, as lordif purifies its
    trait estimate, so that one DIF item does not make the clean items look biased), and flags an item when a likelihood-ratio test has ``p < alpha`` and the McFadden
    R² change is at least ``r2_change`` (lordif's criteria).  Items are scored as the factor
    models take them (missing codes missing, reverse keys applied); a scale's models use the
    people who answered all its items and have a group.  Groups with fewer people than the
    disclosure ``threshold`` are left out (a model table may not rest on a smaller group);
    fewer than two groups left raises :class:`PartNotRun`.

    Models of item ``i`` (proportional odds): (1) ``logit P(X_i <= k) = a_k - b s``, (2) with
    the group, (3) with the group and score-by-group; ``LR_13 = 2 (log L_3 - log L_1)`` on 2
    df, and the McFadden ``R²_13 change = (log L_1 - log L_3) / log L_0``.

    References
    ----------
    Zumbo, B. D. (1999). *A Handbook on the Theory and Methods of Differential Item
    Functioning (DIF)*. Ottawa: Department of National Defense.
    Choi, S. W., Gibbons, L. E., & Crane, P. K. (2011). lordif: an R package for detecting
    differential item functioning. *Journal of Statistical Software*, 39(8), 1-30.
    Nested ``MASS::polr`` fits and their likelihood-ratio tests in R (tests/reference/dif.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> rng = np.random.default_rng(3); n = 900
    >>> lang = np.repeat([1, 2], n // 2); theta = rng.normal(size=n)
    >>> d = pd.DataFrame({"lang": lang})
    >>> for j in range(4):
    ...     d[f"q{j}"] = 1 + np.digitize(theta - 1.2 * (lang == 2) * (j == 0) + rng.logistic(size=n) / 2, [-1, 0, 1])
    >>> d.insert(0, "pid", [f"p{i}" for i in range(n)])
    >>> opts = {k: {"en": t} for k, t in zip(range(1, 5), "abcd")}
    >>> cb = from_dict({"id": "s", "version": "1", "title": {"en": "S"}, "id_column": "pid", "items": [
    ...     {"id": "pid", "label": {"en": "Id"}, "type": "text", "role": "admin"},
    ...     {"id": "lang", "label": {"en": "Language"}, "type": "categorical",
    ...      "options": {1: {"en": "English"}, 2: {"en": "Russian"}}},
    ...     *[{"id": f"q{j}", "label": {"en": f"Item {j}"}, "type": "likert", "options": opts} for j in range(4)]],
    ...     "scales": [{"id": "sc", "label": {"en": "Scale"}, "items": ["q0", "q1", "q2", "q3"]}]})
    >>> dif_across(d, cb, ["sc"], "lang").flagged
    ('Item 0',)
    """
    from .dif import dif_ordinal

    label = without_digits(codebook.item(group).text(lang) if group in codebook else group, "this grouping")
    g = _group_labels(df, codebook, [group], lang)[group]
    notes: list[str] = []
    rows, plots, results, labels = [], [], {}, {}
    n_all = 0
    for sc in scales:
        items = list(codebook.scale(sc).items)
        if len(items) < 3:
            notes.append(f"The scale {without_digits(codebook.scale(sc).text(lang), '')!s} has fewer than three "
                         "items, too few for a matching score without the studied item; it is not tested.")
            continue
        x = _scale_items(df, codebook, [sc])
        data, dropped = _with_large_groups(x, g, max(threshold or 0, 1))
        if dropped:
            note = (f"Groups of {label.lower()} with fewer people than the disclosure threshold are left out of "
                    "the DIF models.")
            if note not in notes:
                notes.append(note)
        if data["__group__"].nunique() < 2:
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = dif_ordinal(data, items, "__group__", matching=matching, alpha=alpha, r2_change=r2_change)
            except (InputError, np.linalg.LinAlgError):
                notes.append(f"The DIF models of the scale {without_digits(codebook.scale(sc).text(lang), '')} "
                             f"across {label.lower()} cannot be estimated.")
                continue
        notes.extend(m for m in _messages(caught) if m not in notes)
        results[sc] = res
        n_all = max(n_all, int(res.n))
        t = res.table.copy()
        t.insert(0, "scale", sc)
        plots.append(t)
        scale_text = codebook.scale(sc).text(lang)
        for _, r in t.iterrows():
            text = codebook.item(r["item"]).text(lang) if r["item"] in codebook else str(r["item"])
            labels[str(r["item"])] = text
            rows.append({"item": text, "scale": scale_text, "n": int(res.n), "chi-square": r["chi2_13"],
                         "df": int(r["df_13"]), "p": r["p_13"], "R² uniform": r["r2_12"],
                         "R² non-uniform": r["r2_23"], "R² any": r["r2_13"],
                         "DIF": r["type"] if bool(r["flag"]) else ""})
    if not rows:
        raise PartNotRun(f"dif: no scale could be tested across {group!r}",
                         f"Differential item functioning across {label.lower()} is not tested: fewer than two of "
                         "its groups are large enough, or no scale has three items.")
    table = pd.DataFrame(rows).set_index("item")
    flagged = tuple(table.index[table["DIF"] != ""])
    return DIFAcross(group=group, n=n_all, table=table, plot_table=pd.concat(plots, ignore_index=True),
                     results=results, flagged=flagged, labels=labels, notes=tuple(notes))


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

    References
    ----------
    veplab design notes (DESIGN.md), "A study is declared, not coded" (the sources and the
    ``analyses.validity.prediction`` keys) and "Privacy" (sources are linked by
    pseudonymous ids, keyed HMAC-SHA256; RFC 2104, 1997).

    Examples
    --------
    >>> import pandas as pd
    >>> out = pd.DataFrame({"pid": ["a", "b", "c"], "event": [1, 0, 0]})
    >>> ratings = pd.DataFrame({"pid": ["a", "a", "b"], "rater": [2, 1, 1], "risk": [3, 2, 1]})
    >>> frame = prediction_frame(out, "event", score_df=ratings, score="risk", join="pid", rater="rater")
    >>> frame["risk"].tolist(), frame.attrs    # a's first rating is rater 1's; c has none
    ([2.0, 1.0, nan], {'first_rating': True, 'n_without_score': 1})
    >>> prediction_frame(pd.concat([out, out]), "event", score_df=ratings, score="risk", join="pid")
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: analyses.validity.prediction.join: the outcome source must hold one row per 'pid', ...
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

    The AUC is the Mann-Whitney estimate ``AUC = (1 / (n1 n0)) sum_i sum_j psi(s_i, s_j)``
    over events ``i`` and non-events ``j``, ``psi = 1`` when ``s_i > s_j``, ``1/2`` when tied.

    References
    ----------
    Hanley, J. A., & McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. *Radiology*, 143, 29-36.
    DeLong, E. R., DeLong, D. M., & Clarke-Pearson, D. L. (1988). Comparing the areas under
    two or more correlated receiver operating characteristic curves. *Biometrics*, 44, 837-845.
    Clopper, C. J., & Pearson, E. S. (1934). The use of confidence or fiducial limits
    illustrated in the case of the binomial. *Biometrika*, 26, 404-413.
    R: ``pROC::roc``, ``pROC::ci.auc`` and ``binom.test`` (tests/reference/validity_prediction.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "level", "label": "Risk level", "type": "ordinal", "options": {1: "Low", 2: "Moderate", 3: "High"}},
    ...     {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "Man", 2: "Woman"}}]})
    >>> r = np.random.default_rng(2); n = 200; level = r.integers(1, 4, n)
    >>> d = pd.DataFrame({"level": level, "gender": r.integers(1, 3, n),
    ...                   "event": (r.random(n) < np.array([0.05, 0.15, 0.4])[level - 1]).astype(int)})
    >>> pv = predictive_validity(d, "event", "level", subgroups=["gender"], score_codebook=cb, outcome_codebook=cb)
    >>> round(pv.auc.estimate, 3), round(pv.auc.ci_low, 3), round(pv.auc.ci_high, 3)
    (0.732, 0.658, 0.807)
    >>> pv.by_level[["n", "events", "rate"]].round(3)
                 n  events   rate
    Risk level
    Low         62       2  0.032
    Moderate    75      13  0.173
    High        63      23  0.365
    >>> pv.subgroups["subgroup"].tolist()
    ['All', 'Gender: Man', 'Gender: Woman']
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
            sub = subgroup_performance(y, s, groups, ci=ci, seed=seed, direction="<").to_frame()
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


# ------------------------------------------------------------------ prediction over time


@dataclasses.dataclass(frozen=True)
class OverTimeResult:
    """What :func:`prediction_over_time` found (see there); tables are ready for the disclosure gate.

    ``auc``: AUC(t) with intervals and the numbers of cases and controls at each time
    of the grid; ``auc_result`` the :class:`~veplab.validity.TimeAUC`; ``uno`` Uno's C up
    to the horizon; ``calibration`` the :class:`~veplab.validity.CalibrationAt` by score
    level (its ``table`` with level names); ``decision`` the
    :class:`~veplab.validity.DecisionCurve` and ``decision_table`` its rows at round
    thresholds; ``incidence`` the competing-risk curves by level
    (:class:`~veplab.outcomes.CumulativeIncidence`), ``incidence_table`` per level at the
    horizon (Aalen-Johansen for the outcome and for the competing events, Kaplan-Meier
    for comparison), ``incidence_at`` the curves at the grid (figure data) and
    ``at_risk`` the numbers still followed at the grid per level; ``notes`` sentences
    without digits.
    """

    horizon: float
    n: int
    n_events: int
    n_competing: int
    competing: bool
    auc: pd.DataFrame
    auc_result: Any
    uno: Any
    calibration: Any
    calibration_table: pd.DataFrame
    decision: Any
    decision_table: pd.DataFrame
    incidence: Any
    incidence_table: pd.DataFrame
    incidence_at: pd.DataFrame
    at_risk: pd.DataFrame
    grid: list
    risk_from_levels: bool
    gray: pd.DataFrame
    notes: tuple[str, ...]


def _level_names(levels: pd.Series, codebook: Any, score: str, lang: str) -> dict[Any, str]:
    item = codebook.item(score) if codebook is not None and score in codebook else None
    out = {}
    for v in pd.unique(levels.dropna()):
        if item is not None and item.options and float(v).is_integer() and int(v) in item.options:
            out[v] = item.option_text(int(v), lang)
        else:
            out[v] = f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)
    return out


def _cross_validated_level_risk(t: np.ndarray, s: np.ndarray, levels: np.ndarray, horizon: float, cause: Any,
                                folds: int, seed: int | None) -> np.ndarray:
    """Each person's predicted risk by ``horizon``: the Aalen-Johansen incidence of the cause in the person's
    level among the people of the other folds (``folds``-fold cross-validation)."""
    from ..outcomes.competing import _cinc

    rng = np.random.default_rng(seed)
    fold = rng.permutation(np.arange(len(t)) % folds)
    out = np.full(len(t), np.nan)
    for k in range(folds):
        train = fold != k
        for lev in np.unique(levels):
            m = train & (levels == lev)
            if not m.any():
                continue
            order = np.argsort(t[m], kind="stable")
            tab = _cinc(t[m][order], (s[m][order] != 0).astype(float), (s[m][order] == cause).astype(float))
            j = np.searchsorted(tab["time"].to_numpy(), horizon, side="right") - 1
            out[(fold == k) & (levels == lev)] = tab["estimate"].to_numpy()[j] if j >= 0 else 0.0
    return out


def prediction_over_time(frame: pd.DataFrame, *, time: str, event: str, score: str, status: str | None = None,
                         horizon: float | None = None, score_codebook: Any = None, threshold: int = 10,
                         folds: int = 10, seed: int | None = None, lang: str = "en") -> OverTimeResult:
    """How well ``score`` predicts the event over the follow-up, with censoring and competing events.

    * AUC(t) at the :func:`~veplab.outcomes.design.horizon_grid` times up to the horizon
      (cumulative/dynamic, IPCW, as ``riskRegression::Score``); a time with fewer than
      ``threshold`` cases or controls is left out; Uno's C up to the horizon;
    * calibration at the horizon by score level: the predicted risk of a person is the
      score itself when it is a probability, else the Aalen-Johansen incidence of the
      person's level in the other ``folds`` folds (cross-validated, so a level's risk
      is not judged on the people it was estimated from); observed risk per level by
      Aalen-Johansen (Kaplan-Meier without competing events), IPCW calibration
      intercept and slope (:func:`~veplab.validity.calibration_at`);
    * the decision curve at the horizon (:func:`~veplab.validity.decision_curve`);
    * the cumulative incidence of the event and of the competing events by score level
      (:func:`~veplab.outcomes.cumulative_incidence`, Gray's test), with the
      Kaplan-Meier risk that censors the competing events for comparison.

    ``status`` codes how follow-up ended (0 censored; the code the ``event`` rows carry;
    any other code a competing event); without it every non-event is censored.  The
    horizon defaults to the longest follow-up.  :class:`PartNotRun` when fewer than
    ``threshold`` people are still followed at the horizon or there are no events.

    ``AUC(t) = P(s_i > s_j | T_i <= t, cause_i = 1, T_j > t)``, each case weighted by
    ``1 / G(T_i-)`` and each control by ``1 / G(t)`` (``G`` the Kaplan-Meier of censoring);
    the cumulative incidence ``F_1(t) = sum_{t_j <= t} S(t_j-) d_1j / n_j`` (Aalen-Johansen).

    References
    ----------
    Blanche, P., Dartigues, J.-F., & Jacqmin-Gadda, H. (2013). Estimating and comparing
    time-dependent areas under receiver operating characteristic curves for censored event
    times with competing risks. *Statistics in Medicine*, 32, 5381-5397.
    Uno, H., Cai, T., Pencina, M. J., D'Agostino, R. B., & Wei, L. J. (2011). On the
    C-statistics for evaluating overall adequacy of risk prediction procedures with censored
    survival data. *Statistics in Medicine*, 30, 1105-1117.
    Vickers, A. J., & Elkin, E. B. (2006). Decision curve analysis: a novel method for
    evaluating prediction models. *Medical Decision Making*, 26, 565-574.
    Gray, R. J. (1988). A class of K-sample tests for comparing the cumulative incidence of
    a competing risk. *Annals of Statistics*, 16, 1141-1154.
    R: ``riskRegression::Score``, ``survival::concordance(timewt = "n/G2")`` and
    ``cmprsk::cuminc`` (tests/reference/timedep.R, competing.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "level", "label": "Risk level", "type": "ordinal", "options": {1: "Low", 2: "Moderate", 3: "High"}},
    ...     {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "Man", 2: "Woman"}}]})
    >>> r = np.random.default_rng(2); n = 200; level = r.integers(1, 4, n)
    >>> d = pd.DataFrame({"level": level, "gender": r.integers(1, 3, n),
    ...                   "event": (r.random(n) < np.array([0.05, 0.15, 0.4])[level - 1]).astype(int)})
    >>> d["days"] = np.where(d["event"] == 1, r.uniform(10, 300, n), r.uniform(100, 400, n)).round()
    >>> ot = prediction_over_time(d, time="days", event="event", score="level", horizon=300,
    ...                           score_codebook=cb, folds=5, seed=1)
    >>> ot.n, ot.n_events, ot.grid
    (200, 38, [0, 75, 150, 225, 300])
    >>> ot.auc.loc["day 300", ["auc", "n_cases", "n_controls"]].round(3).tolist()
    [0.746, 38.0, 51.0]
    >>> ot.calibration_table[["predicted", "observed"]].round(3)
              predicted  observed
    Low           0.056     0.055
    Moderate      0.198     0.200
    High          0.530     0.524
    """
    from ..outcomes.competing import cumulative_incidence
    from ..outcomes.design import horizon_grid
    from ..outcomes.survival import kaplan_meier
    from .decision import decision_curve
    from .timedep import calibration_at, time_auc, uno_c

    for col in (time, event, score, status):
        if col is not None and col not in frame.columns:
            raise InputError(f"prediction_over_time: column {col!r} is not in the data")
    num = {c: pd.to_numeric(pd.Series(np.asarray(frame[c], dtype=object), index=frame.index), errors="coerce")
           for c in {time, event, score} | ({status} if status else set())}
    ok = pd.concat(num.values(), axis=1).notna().all(axis=1)
    notes = []
    if (~ok).any():
        notes.append("People without a follow-up time, outcome or score are left out of the prediction over time.")
    t = num[time][ok].to_numpy(dtype=float)
    e = num[event][ok].to_numpy(dtype=float)
    sc = num[score][ok].to_numpy(dtype=float)
    if (e == 1).sum() == 0:
        raise PartNotRun("prediction over time: no events", "Nobody had the event during follow-up, so its "
                         "prediction over time cannot be assessed.")
    if status is not None:
        st = num[status][ok].to_numpy(dtype=float)
        codes = pd.unique(st[e == 1])
        if len(codes) != 1:
            raise InputError(f"analyses.validity.prediction.status: the rows with {event!r} = 1 must share one code of "
                             f"{status!r}; they have {sorted(codes)[:5]}")
        cause = float(codes[0])
        if (st[e == 0] == cause).any():
            raise InputError(f"analyses.validity.prediction.status: {int((st[e == 0] == cause).sum())} rows have "
                             f"{status!r} = {cause:g} but {event!r} = 0; the two columns disagree")
        s = np.where(st == cause, 1.0, np.where(st == 0, 0.0, 2.0))
    else:
        s = e.copy()
    n = len(t)
    if (s == 1).sum() == 0:
        raise PartNotRun("prediction over time: no events", "Nobody had the event during follow-up, so its "
                         "prediction over time cannot be assessed.")
    h = float(horizon) if horizon is not None else float(t.max())
    if not (t > h).any() and (t < h).any():
        # follow-up ends at the horizon: nobody is known to be event-free beyond it, so the measures are
        # taken at the last time before it (IPCW needs people followed beyond the horizon)
        h = float(np.max(t[t < h]))
        notes.append("Follow-up ends at the horizon, so the measures are taken at the last day before it.")
    if (t > h).sum() < threshold:
        raise PartNotRun("prediction over time: too few followed to the horizon",
                         "Fewer people than the disclosure threshold were followed up to the horizon, so prediction "
                         "over time is not reported there; declare a shorter horizon "
                         "(analyses.validity.prediction.horizon).")
    competing = bool((s == 2).any())
    grid = [g for g in horizon_grid(h, points=9) if g > 0]
    # AUC(t): the score itself (higher = more risk)
    ar = time_auc(t, s, sc, grid)
    auc = ar.table.copy()
    small = (auc["n_cases"] < threshold) | (auc["n_controls"] < threshold)
    if small.any():
        notes.append("At the earliest times too few people had had the event for an AUC; those times are left out.")
    auc = auc[~small & auc["auc"].notna()].copy()
    ar = dataclasses.replace(ar, table=ar.table.loc[auc.index].reset_index(drop=True))  # the times shown
    auc.index = pd.Index([f"day {x:g}" for x in auc["time"]])
    auc = auc[["auc", "ci_low", "ci_high", "n_cases", "n_controls"]]
    uno = uno_c(t, (s == 1).astype(int), sc, h)
    # levels of the score (tenths when it has many values), named by the codebook
    levels = pd.Series(sc)
    if levels.nunique() > MAX_LEVELS:
        levels = pd.Series(pd.qcut(levels, 10, labels=False, duplicates="drop").astype(float) + 1)
        names = {v: f"tenth {int(v)}" for v in pd.unique(levels)}
    else:
        names = _level_names(levels, score_codebook, score, lang)
    lv = levels.to_numpy()
    is_prob = bool(((sc > 0) & (sc < 1)).all() and not np.all(np.mod(sc, 1) == 0))
    if is_prob:
        risk = sc
    else:
        # each level's risk: the mean of its people's out-of-fold incidences (one value per level, so the
        # decision rules are "act on this level and above")
        cv = _cross_validated_level_risk(t, s, lv, h, 1, folds, seed)
        risk = pd.Series(cv).groupby(lv).transform("mean").to_numpy()
    risk = np.clip(risk, 1e-4, 1 - 1e-4)
    cal = calibration_at(t, s, risk, h, groups=lv, cause=1, method="aj" if competing else "km")
    ctab = cal.table.copy()
    ctab["group"] = ctab["group"].map(names)
    ctab = ctab.set_index("group")[["n", "predicted", "observed", "ci_low", "ci_high"]]
    ctab.index.name = None
    dc = decision_curve(risk, time=t, status=s, tau=h, method="aj" if competing else "km")
    keep = np.isclose(dc.table["threshold"] * 100 % 5, 0) & (dc.table["threshold"] <= 0.6)
    dtab = dc.table[keep].set_index("threshold")[["net_benefit", "treat_all", "n_above"]]
    # competing-risk incidence by level
    df = pd.DataFrame({"time": t, "status": s, "level": pd.Categorical(
        [names[v] for v in lv], categories=[names[v] for v in sorted(names)])})
    ci = cumulative_incidence(df, "time", "status", "level")
    at = ci.at([h])
    km = kaplan_meier(df.assign(ev=(s == 1).astype(float)), "time", "ev", group="level").survival_at([h])
    rows = []
    for g in ci.groups:
        r1 = at[(at["group"] == g) & (at["cause"] == 1.0)].iloc[0]
        row = {"level": g, "n": int((df["level"] == g).sum()), "incidence": r1["estimate"], "ci_low": r1["ci_low"],
               "ci_high": r1["ci_high"]}
        if competing:
            r2 = at[(at["group"] == g) & (at["cause"] == 2.0)].iloc[0]
            row.update(competing_incidence=r2["estimate"], competing_ci_low=r2["ci_low"],
                       competing_ci_high=r2["ci_high"])
            row["kaplan_meier"] = 1 - float(km.loc[km["group"] == g, "surv"].iloc[0])
        rows.append(row)
    itab = pd.DataFrame(rows).set_index("level")
    itab.index.name = None
    at_grid = ci.at(horizon_grid(h))
    at_grid["cause"] = at_grid["cause"].map({1.0: "outcome", 2.0: "competing"})
    at_grid = at_grid.set_index(["group", "cause", "time"])[["estimate", "ci_low", "ci_high"]]
    risk_tab = pd.DataFrame({f"day {g}": [int(((df["level"] == lev) & (df["time"] >= g)).sum()) for lev in ci.groups]
                             for g in horizon_grid(h)}, index=list(ci.groups))
    gray = ci.tests.copy()
    gray["cause"] = gray["cause"].map({1.0: "outcome", 2.0: "competing"})
    gray = gray.set_index("cause")
    gray.index.name = None
    if not is_prob:
        words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
        notes.append("The score gives levels, not probabilities: a level's predicted risk is its incidence among "
                     f"the other people, by {words.get(folds, 'k')}-fold cross-validation (averaged over the level).")
    return OverTimeResult(horizon=h, n=n, n_events=int((s == 1).sum()), n_competing=int((s == 2).sum()),
                          competing=competing, auc=auc, auc_result=ar, uno=uno, calibration=cal,
                          calibration_table=ctab, decision=dc, decision_table=dtab, incidence=ci,
                          incidence_table=itab, incidence_at=at_grid, at_risk=risk_tab, grid=horizon_grid(h),
                          risk_from_levels=not is_prob, gray=gray, notes=tuple(notes))
