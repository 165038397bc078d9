"""Propensity scores: weighting or matching, balance, overlap, weighted effects.

For programme evaluations without randomisation (who joined a disengagement
programme is not random), the propensity score ``ps = P(treated | x)`` is
estimated by logistic regression (the GLM core :mod:`veplab._glm`, as R
``glm(family = binomial)``) and used either to weight or to match.

Weights
-------
``estimand="ATE"``: treated ``1/ps``, comparison ``1/(1-ps)``.
``estimand="ATT"``: treated ``1``, comparison ``ps/(1-ps)``
(as ``WeightIt``; weights are not normalised — estimates do not depend on it).

Matching
--------
1:1 greedy nearest-neighbour matching on the logit of the propensity score
(MatchIt ``method = "nearest", distance = "glm", link = "linear.logit"``),
treated units taken in ``order`` (default ``"largest"`` propensity first, as
MatchIt), without replacement unless ``replace=True``, within a caliper of
``caliper`` standard deviations of the logit (SD over all analysed units, as
MatchIt's ``std.caliper``).  Matched units get weight 1, unmatched 0 (with
replacement: a comparison unit's weight is the number of times it is used).
Matching estimates the ATT; ``estimand="ATE"`` with matching matches both
ways with replacement (each unit to its nearest counterpart, Abadie & Imbens
2006) and weights each unit 1 + the number of times it serves as a match.

Balance
-------
Standardised mean difference ``(mean_t - mean_c) / s``, with ``s`` from the
*unweighted* analysed sample both before and after (so the change reflects
the means only): ATE ``s = sqrt((s_t^2 + s_c^2) / 2)``, ATT ``s = s_t`` (the
treated SD), as MatchIt / cobalt.  Binary (0/1) covariates use ``p(1-p)`` as
their variance (cobalt).  Variance ratios ``var_t / var_c`` (weighted after,
with the unbiased weighted variance ``sum w (x-m)^2 / (sum w - sum w^2 / sum w)``)
for non-binary covariates.  A common rule: |SMD| < 0.1 and variance ratios
between 0.5 and 2.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .._glm import glm
from .._results import Result
from .._validate import InputError, check_choice, check_ci, format_rows, rng
from ._common import design_columns, level_counts, require_columns, require_frame, sorted_levels, z_crit
from ..privacy.outputs import ModelFacts

__all__ = ["propensity", "PropensityResult", "EffectEstimate", "plot_love", "plot_overlap"]


@dataclasses.dataclass(frozen=True)
class EffectEstimate(Result):
    """Weighted outcome-model estimate of the treatment effect.

    ``factor_counts`` (read-only): people in the outcome model per level of
    the treatment and of every categorical or two-valued covariate;
    ``outcome_counts``: people per outcome level (binary: 0/1; survival:
    event/censored).  Read by :func:`veplab.privacy.model_disclosure`.
    """

    kind: str
    estimand: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    n: int
    n_treated: int
    n_control: int
    ci: float
    scale: str
    ratio: float = float("nan")
    ratio_ci_low: float = float("nan")
    ratio_ci_high: float = float("nan")
    mean_treated: float = float("nan")
    mean_control: float = float("nan")
    table: pd.DataFrame = dataclasses.field(repr=False, default=None)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    outcome_counts: dict[Any, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        out = None
        if self.kind == "binary":
            out = ("outcome", self.outcome_counts)
        elif self.kind == "survival":
            out = ("status", self.outcome_counts)
        k = len(self.table) if isinstance(self.table, pd.DataFrame) else 2
        return ModelFacts(f"treatment-effect model ({self.kind})", self.n, float(self.n - k), self.factor_counts, out)


@dataclasses.dataclass(frozen=True)
class PropensityResult(Result):
    """Propensity-score weights or matches, with balance and overlap diagnostics.

    ``factor_counts`` (read-only): people in the propensity model per level of
    every categorical or two-valued covariate; ``outcome_counts``: people per
    level of the treatment (the propensity model's outcome).  Read by
    :func:`veplab.privacy.model_disclosure`.
    """

    estimand: str
    method: str
    n: int
    n_treated: int
    n_control: int
    n_dropped: int
    n_matched_treated: int
    n_unmatched_treated: int
    caliper_width: float
    ess_treated: float
    ess_control: float
    common_support_low: float
    common_support_high: float
    share_outside_support: float
    max_abs_smd_before: float
    max_abs_smd_after: float
    weights: pd.Series = dataclasses.field(repr=False)
    ps: pd.Series = dataclasses.field(repr=False)
    balance: pd.DataFrame = dataclasses.field(repr=False)
    overlap: pd.DataFrame = dataclasses.field(repr=False)
    model: pd.DataFrame = dataclasses.field(repr=False)
    pairs: pd.Series | None = dataclasses.field(repr=False, default=None)
    treatment: Any = None
    _df: Any = dataclasses.field(repr=False, default=None, compare=False)
    _t: Any = dataclasses.field(repr=False, default=None, compare=False)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)
    outcome_counts: dict[Any, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def effect(
        self,
        outcome: Any = None,
        kind: str = "continuous",
        duration: Any = None,
        event: Any = None,
        *,
        covariates: Sequence[Any] = (),
        ci: float = 0.95,
    ) -> EffectEstimate:
        """Treatment effect from the weighted outcome model, with robust SEs.

        - ``kind="continuous"``: weighted least squares ``outcome ~ treated
          (+ covariates)``, HC0 sandwich variance (R ``lm(weights = w)`` +
          ``sandwich::vcovHC(type = "HC0")``); estimate = mean difference.
        - ``kind="binary"``: weighted logistic regression (R
          ``glm(family = quasibinomial, weights = w)``) with the HC0 sandwich;
          estimate = log odds ratio, ``ratio`` = odds ratio; weighted risks in
          ``mean_treated`` / ``mean_control``.
        - ``kind="survival"``: weighted Cox model (``duration``, ``event``)
          with the robust variance (R ``coxph(..., weights = w, robust =
          TRUE)``); estimate = log hazard ratio, ``ratio`` = hazard ratio.

        Intervals are normal-based (sandwich variances are large-sample).
        ``covariates`` adds outcome-model adjustment ("doubly robust").
        HC0 ignores the pairing of matched samples; for matching without
        replacement it is close to the pair-clustered variance.
        """
        check_choice(kind, "kind", ("continuous", "binary", "survival"))
        ci = check_ci(ci)
        df = self._df
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        need = [c for c in (outcome, duration, event) if c is not None] + covariates
        require_columns(df, need, "effect")
        w = self.weights.loc[df.index]
        use = w.notna() & (w > 0)
        t = self._t
        if kind == "survival":
            if duration is None or event is None:
                raise InputError("effect(kind='survival') needs duration= and event= columns")
            from .survival import cox

            sub = df.loc[use].copy()
            tname = str(self.treatment)
            sub["__treated__"] = t[use].to_numpy()
            cols = ["__treated__"] + covariates
            fit = cox(sub, duration, event, cols, weights=w[use].to_numpy(), robust=True, ci=ci)
            counts = {tname: level_counts(df.loc[use], [self.treatment]).get(tname, {}),
                      **level_counts(df.loc[use], covariates)}
            tab = fit.table.copy()
            tab.loc[tab["term"] == "__treated__", "term"] = tname
            r = tab.iloc[0]
            return EffectEstimate(
                kind=kind, estimand=self.estimand, estimate=float(r["coef"]), se=float(r["se"]),
                ci_low=float(r["ci_low"]), ci_high=float(r["ci_high"]), z=float(r["z"]), p=float(r["p"]),
                n=int(use.sum()), n_treated=int((t[use] == 1).sum()), n_control=int((t[use] == 0).sum()),
                ci=ci, scale="log hazard ratio", ratio=float(r["hr"]), ratio_ci_low=float(r["hr_ci_low"]),
                ratio_ci_high=float(r["hr_ci_high"]), table=tab, factor_counts=counts,
                outcome_counts=fit.outcome_counts,
            )
        if outcome is None:
            raise InputError(f"effect(kind={kind!r}) needs an outcome= column")
        from ._common import numeric_column

        y_all = numeric_column(df, outcome, "effect")
        cov_df, _ = design_columns(df, covariates, "effect")
        ok = use & y_all.notna() & ~cov_df.isna().any(axis=1)
        if (use & ~ok).any():
            warnings.warn(f"effect: {int((use & ~ok).sum())} weighted rows with a missing outcome or "
                          f"covariate were left out ({format_rows(list(df.index[use & ~ok]))})",
                          stacklevel=2)
        y = y_all[ok].to_numpy()
        counts = {str(self.treatment): level_counts(df.loc[ok], [self.treatment]).get(str(self.treatment), {}),
                  **level_counts(df.loc[ok], covariates)}
        tt = t[ok].to_numpy(dtype=float)
        ww = w[ok].to_numpy()
        if len(np.unique(tt)) < 2:
            raise InputError("effect: after weighting, only one group remains; check the matches")
        X = np.column_stack([np.ones(len(y)), tt, cov_df[ok].to_numpy(dtype=float)])
        names = ["(Intercept)", str(self.treatment)] + list(cov_df.columns)
        q = z_crit(ci)
        mt = float(np.average(y[tt == 1], weights=ww[tt == 1]))
        mc = float(np.average(y[tt == 0], weights=ww[tt == 0]))
        if kind == "continuous":
            beta, V = _wls_hc0(X, y, ww)
            scale = "mean difference"
        else:
            if not np.isin(y, [0.0, 1.0]).all():
                raise InputError(f"effect(kind='binary'): outcome {outcome!r} must be 0/1")
            beta, V = _wlogit_hc0(X, y, ww)
            scale = "log odds ratio"
        se = np.sqrt(np.diag(V))
        z = beta / se
        tab = pd.DataFrame({"term": names, "estimate": beta, "se": se, "z": z,
                            "p": 2 * stats.norm.sf(np.abs(z)), "ci_low": beta - q * se,
                            "ci_high": beta + q * se})
        b, s = float(beta[1]), float(se[1])
        ratio = (math.exp(b), math.exp(b - q * s), math.exp(b + q * s)) if kind == "binary" else (
            float("nan"),) * 3
        return EffectEstimate(
            kind=kind, estimand=self.estimand, estimate=b, se=s, ci_low=b - q * s, ci_high=b + q * s,
            z=b / s, p=float(2 * stats.norm.sf(abs(b / s))), n=len(y), n_treated=int((tt == 1).sum()),
            n_control=int((tt == 0).sum()), ci=ci, scale=scale, ratio=ratio[0], ratio_ci_low=ratio[1],
            ratio_ci_high=ratio[2], mean_treated=mt, mean_control=mc, table=tab, factor_counts=counts,
            outcome_counts=({0: int((y == 0).sum()), 1: int((y == 1).sum())} if kind == "binary" else {}),
        )

    def plot(self, kind: str = "balance", *, ax: Any = None, threshold: float = 0.1) -> Any:
        """``kind="balance"``: standardised differences before and after (:func:`plot_love`);
        ``kind="overlap"``: the propensity scores of both groups (:func:`plot_overlap`)."""
        check_choice(kind, "kind", ("balance", "overlap"))
        if kind == "overlap":
            return plot_overlap(self, ax=ax)
        return plot_love(self.balance, ax=ax, threshold=threshold)

    def plot_love(self, ax: Any = None, threshold: float = 0.1) -> Any:
        """The balance chart (:func:`plot_love`); the same as ``plot("balance")``."""
        return plot_love(self.balance, ax=ax, threshold=threshold)

    def plot_overlap(self, ax: Any = None) -> Any:
        """The overlap chart (:func:`plot_overlap`); the same as ``plot("overlap")``."""
        return plot_overlap(self, ax=ax)

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        return ModelFacts("propensity-score model (logistic)", self.n, float(self.n - len(self.model)),
                          self.factor_counts, (str(self.treatment), self.outcome_counts))


# --------------------------------------------------------------------------- estimation helpers
def _wls_hc0(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares with the HC0 sandwich (R ``lm(weights = w)`` + ``vcovHC(type = "HC0")``)."""
    fit = glm(X, y, family="gaussian", weights=w, on_boundary="ignore", what="effect")
    return fit.coef, fit.vcov("HC0")


def _wlogit_hc0(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic regression with the HC0 sandwich (R ``glm(quasibinomial, weights = w)`` + ``vcovHC``)."""
    fit = glm(X, y, family="binomial", weights=w, on_boundary="ignore", what="effect")
    return fit.coef, fit.vcov("HC0")


def _fit_ps(X: np.ndarray, t: np.ndarray, names: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    sep_cols = []
    for j, nm in enumerate(names):
        x1, x0 = X[t == 1, j], X[t == 0, j]
        if x1.max() < x0.min() or x0.max() < x1.min():
            sep_cols.append(nm)
        elif _is_binary(X[:, j]):
            # quasi-complete: everyone with (or without) this category is in one group
            for v in (0.0, 1.0):
                tv = t[X[:, j] == v]
                if len(tv) and (tv.min() == tv.max()):
                    sep_cols.append(nm)
                    break
    if sep_cols:
        raise InputError(_sep_msg(sep_cols))
    Xc = np.column_stack([np.ones(len(t)), X])
    # collinear covariates: fit the independent columns (the propensity scores are the same);
    # the aliased terms get NaN, as R's glm reports NA for them
    # (a column is aliased when it adds nothing to the columns before it, as R's QR decides)
    r = np.linalg.qr(Xc, mode="r")
    keep = np.flatnonzero(np.abs(np.diag(r)) > 1e-7 * np.linalg.norm(Xc, axis=0))
    fit = glm(Xc[:, keep], t.astype(float), family="binomial", on_boundary="ignore", what="propensity")
    lin = fit.eta
    if not fit.converged or fit.boundary or np.max(np.abs(lin)) > 18.4:  # fitted ps within 1e-8 of 0 or 1
        raise InputError(_sep_msg(_likely_sep(X, t, names)))
    ps = special.expit(lin)
    est = np.full(Xc.shape[1], np.nan)
    se = np.full(Xc.shape[1], np.nan)
    est[keep] = fit.coef
    se[keep] = np.sqrt(np.diag(fit.bread))
    z = est / se
    model = pd.DataFrame({"term": ["(Intercept)"] + names, "estimate": est, "se": se,
                          "z": z, "p": 2 * stats.norm.sf(np.abs(z))})
    return ps, model


def _likely_sep(X: np.ndarray, t: np.ndarray, names: list[str]) -> list[str]:
    out = []
    for j, nm in enumerate(names):
        x1, x0 = X[t == 1, j], X[t == 0, j]
        if x1.max() <= x0.min() or x0.max() <= x1.min():
            out.append(nm)
    return out


def _sep_msg(cols: list[str]) -> str:
    which = (f"covariate(s) {cols} separate the groups (every treated unit lies on one side of "
             f"every comparison unit, or a category occurs in one group only)") if cols else \
        "a combination of covariates predicts treatment perfectly"
    return (f"propensity: complete (or quasi-complete) separation — {which}, so the propensity "
            f"score is 0 or 1 for some people and no comparison is possible for them. Drop or "
            f"coarsen that covariate, or restrict the sample to people eligible for both "
            f"conditions (common support)")


def _match(logit: np.ndarray, t: np.ndarray, width: float, order: str, replace: bool,
           gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Greedy 1:1 nearest-neighbour matching (treated to comparison). Returns weights, pair ids."""
    n = len(t)
    tr = np.flatnonzero(t == 1)
    co = np.flatnonzero(t == 0)
    w = np.zeros(n)
    pair = np.full(n, -1)
    co_sorted = co[np.argsort(logit[co], kind="stable")]
    vals = logit[co_sorted]
    if order == "largest":
        seq = tr[np.argsort(-logit[tr], kind="stable")]
    elif order == "smallest":
        seq = tr[np.argsort(logit[tr], kind="stable")]
    elif order == "random":
        seq = gen.permutation(tr)
    else:
        seq = tr
    if replace:
        pos = np.searchsorted(vals, logit[seq])
        left = np.clip(pos - 1, 0, len(vals) - 1)
        right = np.clip(pos, 0, len(vals) - 1)
        dl = np.abs(logit[seq] - vals[left])
        dr = np.abs(vals[right] - logit[seq])
        pick = np.where(dl <= dr, left, right)
        dist = np.minimum(dl, dr)
        ok = dist <= width
        w[seq[ok]] = 1.0
        np.add.at(w, co_sorted[pick[ok]], 1.0)
        pair[seq[ok]] = np.arange(ok.sum())
        return w, pair
    # without replacement: available controls via union-find "next available" pointers
    m = len(vals)
    nxt = list(range(m + 1))  # next available index >= i (m = none)
    prv = list(range(-1, m))  # prv[i+1] = previous available index <= i (-1 = none)

    def find_next(i: int) -> int:
        root = i
        while nxt[root] != root:
            root = nxt[root]
        while nxt[i] != root:
            nxt[i], i = root, nxt[i]
        return root

    def find_prev(i: int) -> int:  # i in [-1, m-1]
        root = i
        while root >= 0 and prv[root + 1] != root:
            root = prv[root + 1]
        while i >= 0 and prv[i + 1] != root:
            prv[i + 1], i = root, prv[i + 1]
        return root

    vl = vals.tolist()
    k = 0
    for i in seq.tolist():
        x = float(logit[i])
        at = bisect.bisect_left(vl, x)
        r = find_next(at) if at <= m else m
        lft = find_prev(at - 1)
        cand = []
        if r < m:
            cand.append((vl[r] - x, 0, r))
        if lft >= 0:
            cand.append((x - vl[lft], 1, lft))
        if not cand:
            break
        d, _, j = min(cand)
        if d > width:
            continue
        w[i] = 1.0
        c = int(co_sorted[j])
        w[c] = 1.0
        pair[i] = pair[c] = k
        k += 1
        nxt[j] = j + 1
        prv[j + 1] = j - 1
    return w, pair


def _is_binary(x: np.ndarray) -> bool:
    return bool(np.isin(x, [0.0, 1.0]).all())


def _wvar(x: np.ndarray, w: np.ndarray) -> float:
    sw = w.sum()
    if sw <= 0:
        return float("nan")
    m = np.sum(w * x) / sw
    den = sw - np.sum(w**2) / sw
    return float(np.sum(w * (x - m) ** 2) / den) if den > 0 else float("nan")


def _balance(Xd: pd.DataFrame, t: np.ndarray, w: np.ndarray, estimand: str) -> pd.DataFrame:
    rows = []
    for c in Xd.columns:
        x = Xd[c].to_numpy(dtype=float)
        x1, x0 = x[t == 1], x[t == 0]
        w1, w0 = w[t == 1], w[t == 0]
        binary = _is_binary(x)
        if binary:
            v1 = x1.mean() * (1 - x1.mean())
            v0 = x0.mean() * (1 - x0.mean())
        else:
            v1 = x1.var(ddof=1)
            v0 = x0.var(ddof=1)
        s = math.sqrt(v1) if estimand == "ATT" else math.sqrt((v1 + v0) / 2)
        m1a = float(np.average(x1, weights=w1)) if w1.sum() > 0 else float("nan")
        m0a = float(np.average(x0, weights=w0)) if w0.sum() > 0 else float("nan")
        with np.errstate(divide="ignore", invalid="ignore"):
            rows.append({
                "covariate": c, "type": "binary" if binary else "continuous",
                "mean_treated": x1.mean(), "mean_control": x0.mean(),
                "smd_before": (x1.mean() - x0.mean()) / s if s > 0 else float("nan"),
                "var_ratio_before": float("nan") if binary else float(x1.var(ddof=1) / x0.var(ddof=1)),
                "mean_treated_adj": m1a, "mean_control_adj": m0a,
                "smd_after": (m1a - m0a) / s if s > 0 else float("nan"),
                # numpy division, as before weighting: a constant comparison group gives inf or nan,
                # not ZeroDivisionError (a covariate unrelated to treatment makes the score constant)
                "var_ratio_after": float("nan") if binary else float(np.float64(_wvar(x1, w1)) / _wvar(x0, w0)),
            })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- API
def propensity(
    df: pd.DataFrame,
    treatment: Any,
    covariates: Sequence[Any],
    *,
    estimand: str = "ATT",
    method: str = "weighting",
    caliper: float | None = 0.2,
    seed: int | np.random.Generator | None = None,
    treated: Any = None,
    order: str = "largest",
    replace: bool = False,
    support_warn: float = 0.1,
) -> PropensityResult:
    """Propensity-score weighting or 1:1 matching with balance and overlap diagnostics.

    Parameters
    ----------
    treatment : column with two levels; ``treated`` names the treated level
        (default: 1 / True / the second level in sorted order).
    covariates : columns for the logistic propensity model (text columns are
        dummy-coded).  Rows with a missing covariate are left out (warned,
        weight NaN).
    estimand : ``"ATT"`` or ``"ATE"`` (see the module docstring for weights).
    method : ``"weighting"`` or ``"matching"``.
    caliper : matching caliper in SDs of the logit propensity (None: no caliper).
    seed, order, replace : matching order (``"largest"``, ``"smallest"``,
        ``"random"`` — uses ``seed`` — or ``"data"``) and replacement.
    support_warn : warn when more than this share of units lies outside the
        common support [max of group minima, min of group maxima] of the
        propensity score.

    Returns
    -------
    PropensityResult with ``.weights`` (Series aligned with ``df``),
    ``.ps``, ``.balance`` (SMDs and variance ratios before / after),
    ``.overlap`` (PS distribution by group), ``.model`` (logistic
    coefficients), ``.pairs`` (matching) and ``.effect(...)``.

    Complete separation (a covariate that predicts treatment perfectly) is an
    :class:`~veplab._validate.InputError`.

    The propensity model and the weights (``T`` the treatment indicator)::

        logit ps_i = x_i' b   (maximum likelihood, as R glm(family = binomial))
        ATE: w_i = T_i / ps_i + (1 - T_i) / (1 - ps_i)
        ATT: w_i = T_i + (1 - T_i) ps_i / (1 - ps_i)
        SMD = (mean_t - mean_c) / s

    References
    ----------
    Rosenbaum PR, Rubin DB (1983). The central role of the propensity score in
    observational studies for causal effects. Biometrika 70, 41-55.
    Austin PC, Stuart EA (2015). Moving towards best practice when using inverse
    probability of treatment weighting (IPTW) using the propensity score to estimate
    causal treatment effects in observational studies. Statistics in Medicine 34, 3661-3679.
    Ho DE, Imai K, King G, Stuart EA (2011). MatchIt: nonparametric preprocessing for
    parametric causal inference. Journal of Statistical Software 42(8), 1-28.
    Abadie A, Imbens GW (2006). Large sample properties of matching estimators for average
    treatment effects. Econometrica 74, 235-267.
    The propensity model, weights and balance agree with R ``glm(family = binomial)`` and the
    SMD formulas of MatchIt/cobalt written out in tests/reference/outcomes.R; matching
    follows MatchIt's ``method = "nearest"`` but is not checked against MatchIt (not
    installed).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> r = np.random.default_rng(1)
    >>> x = r.normal(size=200)
    >>> d = pd.DataFrame({"x": x, "t": (r.random(200) < 1 / (1 + np.exp(-x))).astype(int)})
    >>> res = propensity(d, "t", ["x"], estimand="ATE")
    >>> bool(abs(res.balance["smd_after"][0]) < abs(res.balance["smd_before"][0]))
    True
    """
    df = require_frame(df, "propensity")
    check_choice(estimand, "estimand", ("ATT", "ATE"))
    check_choice(method, "method", ("weighting", "matching"))
    check_choice(order, "order", ("largest", "smallest", "random", "data"))
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        raise InputError("propensity: give at least one covariate for the propensity model")
    require_columns(df, [treatment] + covariates, "propensity")
    tcol = df[treatment]
    if tcol.isna().any():
        raise InputError(f"propensity: treatment column {treatment!r} is missing in "
                         f"{int(tcol.isna().sum())} rows ({format_rows(list(df.index[tcol.isna()]))}); "
                         f"code who was treated before estimating propensity scores")
    levels = sorted_levels(tcol)
    if len(levels) == 1:
        raise InputError(f"propensity: every row has {treatment}={levels[0]!r} (all treated, or none); "
                         f"propensity scores need both treated and comparison people. Add a comparison "
                         f"group (e.g. eligible non-participants)")
    if len(levels) > 2:
        raise InputError(f"propensity: treatment column {treatment!r} has {len(levels)} levels {levels[:6]}; "
                         f"recode it to treated / comparison")
    if treated is None:
        # (``True in [0, 1]`` is true in Python, so test for real booleans first)
        if any(isinstance(v, (bool, np.bool_)) for v in levels):
            treated = True
        else:
            treated = 1 if 1 in levels else levels[1]
    if treated not in levels:
        raise InputError(f"propensity: treated={treated!r} is not a level of {treatment!r} ({levels})")
    Xd_all, _ = design_columns(df, covariates, "propensity")
    miss = Xd_all.isna().any(axis=1)
    if miss.any():
        warnings.warn(f"propensity: {int(miss.sum())} rows with a missing covariate were left out "
                      f"(weight NaN; {format_rows(list(df.index[miss]))})", stacklevel=2)
    keep = ~miss
    Xd = Xd_all.loc[keep]
    t = (tcol.loc[keep] == treated).to_numpy(dtype=int)
    if t.sum() == 0 or t.sum() == len(t):
        raise InputError("propensity: after leaving out rows with missing covariates only one group "
                         "remains; check the covariates' missingness")
    const = [c for c in Xd.columns if Xd[c].nunique() <= 1]
    if const:
        raise InputError(f"propensity: covariate column(s) {const} take a single value; drop them")
    X = Xd.to_numpy(dtype=float)
    names = list(Xd.columns)
    ps, model = _fit_ps(X, t, names)
    logit = np.log(ps / (1 - ps))
    gen = rng(seed)
    pairs = None
    width = float("nan")
    n_unmatched = 0
    if method == "weighting":
        if estimand == "ATE":
            w = np.where(t == 1, 1 / ps, 1 / (1 - ps))
        else:
            w = np.where(t == 1, 1.0, ps / (1 - ps))
    else:
        width = float(caliper * logit.std(ddof=1)) if caliper is not None else float("inf")
        if estimand == "ATT":
            w, pair = _match(logit, t, width, order, replace, gen)
        else:
            w1, _ = _match(logit, t, width, order, True, gen)
            w0, _ = _match(-logit, 1 - t, width, order, True, gen)
            # w1: treated matched (1) + controls' use counts; w0: controls matched (1) + treated use counts
            w = np.where(t == 1, np.where(w1 > 0, 1, 0) + w0, np.where(w0 > 0, 1, 0) + w1).astype(float)
            pair = np.full(len(t), -1)
        n_unmatched = int(np.sum((t == 1) & (w == 0)))
        if n_unmatched:
            warnings.warn(f"propensity: {n_unmatched} of {int(t.sum())} treated people had no comparison "
                          f"within the caliper ({caliper} SD of the logit) and are left out; the estimate "
                          f"then refers to the matched treated only", stacklevel=2)
        if estimand == "ATT" and not replace:
            pairs = pd.Series(np.nan, index=df.index)
            pairs.loc[keep] = np.where(pair >= 0, pair, np.nan)
    weights = pd.Series(np.nan, index=df.index, name="weight")
    weights.loc[keep] = w
    ps_s = pd.Series(np.nan, index=df.index, name="ps")
    ps_s.loc[keep] = ps
    # balance (with the PS itself as a row, as MatchIt's "distance")
    bal_X = Xd.copy()
    bal_X.insert(0, "propensity score", ps)
    balance = _balance(bal_X, t, w, estimand)
    # overlap
    lo = max(ps[t == 1].min(), ps[t == 0].min())
    hi = min(ps[t == 1].max(), ps[t == 0].max())
    outside = (ps < lo) | (ps > hi)
    ov = []
    for g, lab in ((1, "treated"), (0, "comparison")):
        p = ps[t == g]
        ov.append({"group": lab, "n": len(p), "min": p.min(), "q05": np.quantile(p, 0.05),
                   "q25": np.quantile(p, 0.25), "median": np.median(p), "q75": np.quantile(p, 0.75),
                   "q95": np.quantile(p, 0.95), "max": p.max(),
                   "n_outside_support": int(outside[t == g].sum()),
                   "share_outside_support": float(outside[t == g].mean())})
    overlap = pd.DataFrame(ov)
    share_out = float(outside.mean())
    if share_out > support_warn:
        warnings.warn(f"propensity: poor overlap — {share_out:.0%} of people have a propensity score "
                      f"outside the common support [{lo:.3g}, {hi:.3g}]; comparisons for them rest on "
                      f"extrapolation. Consider restricting the sample or other covariates", stacklevel=2)
    if method == "weighting" and estimand == "ATE" and (ps.min() < 0.01 or ps.max() > 0.99):
        warnings.warn("propensity: some propensity scores are below 0.01 or above 0.99, so some ATE "
                      "weights are extreme; check .weights and consider ATT or trimming", stacklevel=2)

    def ess(v: np.ndarray) -> float:
        return float(v.sum() ** 2 / np.sum(v**2)) if np.sum(v**2) > 0 else 0.0

    sm = balance["smd_before"].abs().iloc[1:]
    sa = balance["smd_after"].abs().iloc[1:]
    return PropensityResult(
        estimand=estimand, method=method, n=int(keep.sum()), n_treated=int(t.sum()),
        n_control=int((1 - t).sum()), n_dropped=int(miss.sum()),
        n_matched_treated=int(np.sum((t == 1) & (w > 0))), n_unmatched_treated=n_unmatched,
        caliper_width=width, ess_treated=ess(w[t == 1]), ess_control=ess(w[t == 0]),
        common_support_low=float(lo), common_support_high=float(hi), share_outside_support=share_out,
        max_abs_smd_before=float(sm.max()), max_abs_smd_after=float(sa.max()),
        weights=weights, ps=ps_s, balance=balance, overlap=overlap, model=model, pairs=pairs,
        treatment=treatment, _df=df.loc[keep], _t=pd.Series(t, index=df.index[keep]),
        factor_counts=level_counts(df.loc[keep], covariates),
        outcome_counts={lev: int((tcol.loc[keep] == lev).sum()) for lev in levels
                        if (tcol.loc[keep] == lev).any()},
    )


def plot_love(balance: pd.DataFrame, ax: Any = None, threshold: float = 0.1) -> Any:
    """Love plot: |SMD| per covariate before (open) and after (filled) adjustment.

    One row per covariate of ``balance`` (the propensity score's own row is left
    out), the absolute standardised mean difference of :func:`propensity`,
    ``SMD = (mean_t - mean_c) / s`` with ``s`` from the unweighted sample, before
    (open circle) and after (filled square) weighting or matching, joined by a
    grey line; the dashed line marks ``threshold`` (|SMD| < 0.1 is the usual
    criterion of balance).

    Parameters
    ----------
    balance : DataFrame
        :attr:`PropensityResult.balance` (columns ``covariate``, ``smd_before``,
        ``smd_after``).
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).
    threshold : float, default 0.1
        Where the dashed reference line is drawn.

    Returns
    -------
    matplotlib Axes

    References
    ----------
    Austin PC (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples.
    *Statistics in Medicine* 28, 3083-3107.
    Austin PC, Stuart EA (2015). Moving towards best practice when using inverse
    probability of treatment weighting (IPTW) using the propensity score.
    *Statistics in Medicine* 34, 3661-3679.
    Mirrors R ``cobalt::love.plot`` (``abs = TRUE``, ``thresholds = c(m = .1)``).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np, pandas as pd
    >>> r = np.random.default_rng(1)
    >>> x = r.normal(size=200)
    >>> d = pd.DataFrame({"x": x, "z": r.normal(size=200), "t": (r.random(200) < 1 / (1 + np.exp(-x))).astype(int)})
    >>> res = propensity(d, "t", ["x", "z"], estimand="ATE")
    >>> ax = plot_love(res.balance)
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_xlabel()
    (['x', 'z'], '|standardised mean difference|')
    >>> len(ax.collections)     # the before and the after points
    2
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt

    b = balance[balance["covariate"] != "propensity score"]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.6 + 0.35 * len(b)))
    y = np.arange(len(b))[::-1]
    ax.scatter(b["smd_before"].abs(), y, facecolors="none", edgecolors="0.2", label="before", zorder=3)
    ax.scatter(b["smd_after"].abs(), y, color="0.1", marker="s", label="after", zorder=3)
    for yy, a0, a1 in zip(y, b["smd_before"].abs(), b["smd_after"].abs()):
        ax.plot([a0, a1], [yy, yy], color="0.7", linewidth=1, zorder=1)
    ax.axvline(threshold, color="0.4", linestyle="--", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels(b["covariate"])
    ax.set_xlabel("|standardised mean difference|")
    from ..plots.charts import legend_outside

    legend_outside(ax)  # above the plot: never on a covariate's points
    return ax


def plot_overlap(result: PropensityResult, ax: Any = None, bins: int = 30) -> Any:
    """Histograms of the propensity score by group (treated up, comparison mirrored down).

    The estimated ``ps = P(treated | x)`` of the treated (bars up) and of the
    comparison group (bars down) in ``bins`` equal bins over [0, 1]; the shaded
    band is the common support, ``[max(min ps_t, min ps_c), min(max ps_t, max
    ps_c)]`` (the minima-maxima comparison), outside which effects rest on
    extrapolation.

    Parameters
    ----------
    result : PropensityResult
        The result of :func:`propensity`.
    ax : matplotlib Axes, optional
        Axes to draw into (default: a new figure).
    bins : int, default 30
        Number of bins over [0, 1].

    Returns
    -------
    matplotlib Axes

    References
    ----------
    Caliendo M, Kopeinig S (2008). Some practical guidance for the implementation of
    propensity score matching. *Journal of Economic Surveys* 22, 31-72 (common support).
    Austin PC, Stuart EA (2015). *Statistics in Medicine* 34, 3661-3679.
    Mirrors R ``cobalt::bal.plot(x, var.name = "distance", which = "unadjusted",
    type = "histogram", mirror = TRUE)``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, numpy as np, pandas as pd
    >>> r = np.random.default_rng(1)
    >>> x = r.normal(size=200)
    >>> d = pd.DataFrame({"x": x, "t": (r.random(200) < 1 / (1 + np.exp(-x))).astype(int)})
    >>> ax = plot_overlap(propensity(d, "t", ["x"]), bins=20)
    >>> len(ax.patches), ax.get_xlabel()      # 20 bars up, 20 down, and the support band
    (41, 'propensity score')
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ps = result.ps.dropna()
    t = result._t.reindex(ps.index)
    edges = np.linspace(0, 1, bins + 1)
    h1, _ = np.histogram(ps[t == 1], bins=edges)
    h0, _ = np.histogram(ps[t == 0], bins=edges)
    ax.bar(edges[:-1], h1, width=np.diff(edges), align="edge", color="0.3", label="treated")
    ax.bar(edges[:-1], -h0, width=np.diff(edges), align="edge", color="0.75", label="comparison")
    ax.axvspan(result.common_support_low, result.common_support_high, color="0.9", zorder=0)
    ax.axhline(0, color="0", linewidth=0.8)
    ax.set_xlabel("propensity score")
    ax.set_ylabel("count (comparison below)")
    from ..plots.charts import legend_outside

    legend_outside(ax)
    return ax
