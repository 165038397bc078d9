"""``validity_report``: structure, invariance and prediction of an instrument in one call."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import InputError
from ..codebook import Codebook
from ..data.scoring import scored_items
from ..factor_analysis.confirmatory import cfa, invariance
from ..factor_analysis.confirmatory._checks import _normalise_missing
from ..factor_analysis.exploratory import bartlett_sphericity, efa, kmo, parallel_analysis
from .prediction import roc_auc, subgroup_performance

__all__ = ["ValidityReport", "validity_report", "cfa_model"]


def cfa_model(codebook: Codebook, scales: Sequence[str]) -> str:
    """lavaan syntax of the measurement model the codebook implies: one factor per scale.

    Each scale of ``scales`` becomes a factor measured by its items (``=~``, lavaan's
    "is measured by"); factors correlate freely, as ``lavaan::cfa`` fits them by default.

    References
    ----------
    Rosseel, Y. (2012). lavaan: an R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2), 1-36 (the model syntax).
    veplab design notes (DESIGN.md), "Codebook (instrument) format" (``scales:`` and their ``items``).

    Examples
    --------
    >>> from veplab.codebook import from_dict
    >>> opts = {k: str(k) for k in range(1, 6)}
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     *[{"id": f"g{j}", "label": f"Grievance {j}", "type": "likert", "options": opts} for j in range(3)],
    ...     *[{"id": f"e{j}", "label": f"Economic {j}", "type": "likert", "options": opts} for j in range(3)]],
    ...     "scales": [{"id": "grievance", "label": "Grievance", "items": ["g0", "g1", "g2"]},
    ...                {"id": "economic", "label": "Economic", "items": ["e0", "e1", "e2"]}]})
    >>> print(cfa_model(cb, ["grievance", "economic"]))
    grievance =~ g0 + g1 + g2
    economic =~ e0 + e1 + e2
    """
    lines = []
    for sid in scales:
        scale = codebook.scale(sid)
        lines.append(f"{scale.id} =~ " + " + ".join(scale.items))
    return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class ValidityReport(Result):
    """Result of :func:`validity_report` (tables; ``notes`` says what was skipped and why)."""

    codebook: str
    n: int
    n_factors_suggested: int | None
    sampling_adequacy: pd.DataFrame = dataclasses.field(repr=False)
    parallel: pd.DataFrame = dataclasses.field(repr=False)
    loadings: pd.DataFrame = dataclasses.field(repr=False)
    cfa_fit: pd.DataFrame = dataclasses.field(repr=False)
    invariance: dict = dataclasses.field(repr=False)
    prediction: pd.DataFrame = dataclasses.field(repr=False)
    subgroups: pd.DataFrame = dataclasses.field(repr=False)
    by_level: pd.DataFrame = dataclasses.field(repr=False)
    efa_result: Any = dataclasses.field(default=None, repr=False)
    parallel_result: Any = dataclasses.field(default=None, repr=False)
    notes: tuple[str, ...] = ()

    def summary(self) -> str:
        lines = [f"Validity of {self.codebook} (n = {self.n})"]
        if not self.sampling_adequacy.empty:
            lines.append(self.sampling_adequacy.to_string())
        if self.n_factors_suggested is not None:
            lines.append(f"parallel analysis suggests {self.n_factors_suggested} factor(s)")
        if not self.cfa_fit.empty:
            lines.append(self.cfa_fit.to_string())
        for group, table in self.invariance.items():
            lines.append(f"invariance across {group}:\n{table.to_string()}")
        if not self.prediction.empty:
            lines.append(self.prediction.to_string())
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _labels(df: pd.DataFrame, codebook: Codebook, columns: Sequence[str]) -> pd.DataFrame:
    """Group columns as text labels (codebook option labels where the codebook has them)."""
    from ..descriptives.tables import labelled

    out = {}
    for c in columns:
        if c in codebook and codebook.item(c).options:
            out[c] = labelled(df, codebook, c).astype(str)
        else:
            out[c] = df[c].astype(str)
    return pd.DataFrame(out, index=df.index)


def _scale_items(df: pd.DataFrame, codebook: Codebook, scales: Sequence[str]) -> pd.DataFrame:
    """The items of ``scales`` as factor models take them: :func:`veplab.scoring.scored_items`
    (missing codes missing, keyed items 1 correct / 0 otherwise, reverse-keyed items reversed)."""
    items = [i for s in scales for i in codebook.scale(s).items]
    absent = [i for i in items if i not in df.columns]
    if absent:
        raise InputError(f"validity_report: items {absent} of the chosen scales are not in the data")
    return scored_items(df, codebook, items)


def sampling_adequacy(x: pd.DataFrame) -> pd.DataFrame:
    """Kaiser-Meyer-Olkin MSA and Bartlett's test of sphericity of the items ``x``, as one table.

    KMO = sum r^2 / (sum r^2 + sum q^2) over off-diagonal correlations r and partial correlations q;
    Bartlett's chi-square = -(n - 1 - (2p + 5) / 6) ln|R| on p(p - 1) / 2 df.

    References: ``psych::KMO``, ``psych::cortest.bartlett``.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1); f = rng.normal(size=200)
    >>> x = pd.DataFrame({f"i{j}": f + rng.normal(size=200) for j in range(4)})
    >>> list(sampling_adequacy(x).columns)
    ['KMO', 'KMO rating', 'Bartlett chi-square', 'df', 'p']
    """
    k = kmo(x)
    b = bartlett_sphericity(x)
    # one row: each statistic in its own column, so df is shown as a whole number and p as a p value
    return pd.DataFrame({"KMO": [k.msa], "KMO rating": [k.label], "Bartlett chi-square": [b.statistic],
                         "df": [int(round(b.df))], "p": [b.p_value]},
                        index=pd.Index([f"{x.shape[1]} items"], name="items"))


def validity_report(
    df: pd.DataFrame,
    codebook: Codebook,
    *,
    scales: Sequence[str] | None = None,
    n_factors: int | None = None,
    method: Literal["minres", "ml", "pa"] = "minres",
    rotation: Literal["oblimin", "promax", "varimax"] | None = "oblimin",
    groups: Sequence[str] = ("country", "gender"),
    outcome: str | None = None,
    score: str | None = None,
    subgroups: Sequence[str] = ("gender", "age_band", "country"),
    n_iter: int = 20,
    seed: int | None = None,
    ci: float = 0.95,
    missing: str = "listwise",
) -> ValidityReport:
    """Structure, invariance and predictive validity of an instrument.

    **Structure** (items of ``scales``, default every scale of the codebook;
    reverse-keyed items reversed): KMO and Bartlett's test, parallel analysis
    (``psych::fa.parallel``), an EFA with ``n_factors`` (default: as many as
    scales) and a CFA of the measurement model the codebook implies (one factor
    per scale, :func:`cfa_model`) with lavaan's fit measures.

    **Invariance** across each column of ``groups`` present in ``df``
    (configural, metric, scalar, as ``lavaan`` ``group.equal``); a group
    column with a level of fewer cases than items + 1 is skipped with a note.

    **Prediction** when ``outcome`` (0/1) and ``score`` (the tool's rating,
    e.g. its final judgement) are columns of ``df``: AUC with DeLong (or
    bootstrap when events are few) interval, the observed rate by level of
    the score with exact intervals, and performance by ``subgroups``.

    ``missing`` is passed to :func:`cfa` and :func:`invariance`: ``"listwise"``
    (default) fits them to the rows with every item answered; ``"ml"`` (aliases
    ``"fiml"``, ``"direct"``) fits them by full-information maximum likelihood
    on every row with at least one item answered, as ``lavaan``'s ``missing =
    "ml"``.  KMO, Bartlett, parallel analysis and the EFA are unchanged by it.

    Each step that cannot run (too few cases, no convergence) leaves a note
    instead of stopping the others.

    Statistics: ``KMO = sum r_ij^2 / (sum r_ij^2 + sum q_ij^2)`` (``q`` partial
    correlations), Bartlett's ``chi2 = -(n - 1 - (2 p + 5) / 6) log det(R)``, the
    factor model ``Sigma = Lambda Phi Lambda' + Theta`` (EFA by ``method``, CFA by ML),
    invariance by nested chi-square differences, and the AUC with DeLong's interval.

    References
    ----------
    Kaiser, H. F. (1974). An index of factorial simplicity. *Psychometrika*, 39, 31-36.
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika*, 30, 179-185.
    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    *Psychometrika*, 58, 525-543.
    DeLong, E. R., DeLong, D. M., & Clarke-Pearson, D. L. (1988). Comparing the areas under
    two or more correlated receiver operating characteristic curves. *Biometrics*, 44, 837-845.
    R: ``psych::KMO``, ``psych::cortest.bartlett``, ``psych::fa.parallel``, ``psych::fa``,
    ``lavaan::cfa`` (with ``group.equal`` for invariance) and ``pROC::ci.auc``
    (tests/reference/validity_efa.R, validity_cfa.R, validity_prediction.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {k: str(k) for k in range(1, 6)}
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     *[{"id": f"g{j}", "label": f"Grievance {j}", "type": "likert", "options": opts} for j in range(3)],
    ...     *[{"id": f"e{j}", "label": f"Economic {j}", "type": "likert", "options": opts} for j in range(3)]],
    ...     "scales": [{"id": "grievance", "label": "Grievance", "items": ["g0", "g1", "g2"]},
    ...                {"id": "economic", "label": "Economic", "items": ["e0", "e1", "e2"]}]})
    >>> r = np.random.default_rng(5); n = 300
    >>> f = r.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    >>> d = pd.DataFrame({"id": range(n)})
    >>> for j in range(3):
    ...     d[f"g{j}"] = np.clip(np.round(3 + 0.9 * f[:, 0] + 0.6 * r.normal(size=n)), 1, 5)
    ...     d[f"e{j}"] = np.clip(np.round(3 + 0.9 * f[:, 1] + 0.6 * r.normal(size=n)), 1, 5)
    >>> rep = validity_report(d, cb, groups=(), subgroups=(), n_iter=5, seed=1)
    >>> rep.n_factors_suggested, rep.sampling_adequacy["KMO"].round(3).tolist()
    (2, [0.746])
    >>> rep.cfa_fit[["chisq", "df", "cfi"]].round(3)
          chisq  df    cfi
    CFA  10.614   8  0.996
    """
    notes: list[str] = []
    missing = _normalise_missing(missing)
    if scales is None:
        scales = [s.id for s in codebook.scales]
    scales = list(scales)
    empty = pd.DataFrame()
    x = _scale_items(df, codebook, scales) if scales else empty
    n = len(df)
    adequacy, parallel, loadings, fit = empty, empty, empty, empty
    inv: dict[str, pd.DataFrame] = {}
    efa_res = pa = None
    suggested = None
    if not x.empty:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            adequacy = sampling_adequacy(x)
            pa = parallel_analysis(x, n_iter=n_iter, seed=seed)
            suggested = pa.n_factors
            parallel = pa.table if hasattr(pa, "table") else empty
            nf = n_factors or len(scales)
            efa_res = efa(x, nf, method=method, rotation=rotation)
            loadings = efa_res.loadings
            complete = x.dropna()
            model = cfa_model(codebook, scales)
            cfa_data = complete if missing == "listwise" else x
            fitted = cfa(cfa_data, model, missing=missing)
            fit = pd.DataFrame([{m: getattr(fitted, m) for m in
                                 ("n", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low",
                                  "rmsea_ci_high", "srmr", "aic", "bic") if hasattr(fitted, m)}], index=["CFA"])
            for g in groups:
                if g not in df.columns:
                    continue
                data = cfa_data.join(_labels(df, codebook, [g]))
                counts = data[g].value_counts()
                small = counts[counts < x.shape[1] + 1]
                if len(counts) < 2:
                    notes.append(f"invariance across {g}: only one group in the data; skipped")
                    continue
                if len(small):
                    notes.append(f"invariance across {g}: groups {list(small.index)} have fewer complete cases "
                                 f"({list(small.values)}) than items + 1; skipped (merge groups or use fewer items)")
                    continue
                inv[g] = invariance(data, model, g, missing=missing).table
        notes += [f"warning: {w.message}" for w in caught if issubclass(w.category, UserWarning)]

    prediction, by_level, sub = empty, empty, empty
    if outcome is not None and score is not None:
        if outcome not in df.columns or score not in df.columns:
            raise InputError(f"validity_report: outcome {outcome!r} or score {score!r} is not a column of the data")
        y = pd.to_numeric(pd.Series(np.asarray(df[outcome], dtype=object), index=df.index), errors="coerce")
        s = pd.to_numeric(pd.Series(np.asarray(df[score], dtype=object), index=df.index), errors="coerce")
        ok = y.notna() & s.notna()
        if (~ok).any():
            notes.append(f"prediction: {int((~ok).sum())} rows without outcome or score left out")
        y, s = y[ok], s[ok]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            auc = roc_auc(y, s, ci=ci, seed=seed)
            prediction = auc.to_frame()
            from scipy import stats

            rows = []
            for level, yy in y.groupby(s):
                events, total = int(yy.sum()), len(yy)
                lo = stats.beta.ppf((1 - ci) / 2, events, total - events + 1) if events > 0 else 0.0
                hi = stats.beta.ppf(1 - (1 - ci) / 2, events + 1, total - events) if events < total else 1.0
                rows.append({"level": level, "n": total, "events": events, "rate": events / total,
                             "ci_low": lo, "ci_high": hi})
            by_level = pd.DataFrame(rows).set_index("level")
            present = [g for g in subgroups if g in df.columns]
            if present:
                sub = subgroup_performance(y, s, _labels(df.loc[y.index], codebook, present), ci=ci,
                                           seed=seed).table
        notes += [f"warning: {w.message}" for w in caught if issubclass(w.category, UserWarning)]
    return ValidityReport(codebook=codebook.id, n=n, n_factors_suggested=suggested, sampling_adequacy=adequacy,
                          parallel=parallel, loadings=loadings, cfa_fit=fit, invariance=inv,
                          prediction=prediction, subgroups=sub, by_level=by_level, efa_result=efa_res,
                          parallel_result=pa, notes=tuple(dict.fromkeys(notes)))
