"""Rasch and partial credit models by conditional maximum likelihood, as R's eRm.

:func:`rasch` fits the Rasch model to dichotomous (0/1) items, :func:`partial_credit`
the partial credit model to ordinal items scored ``0..m_i``; both return a result
with the item parameters and their standard errors, the person parameters (ML),
infit and outfit of items and persons, item and test information and a Wright map.
:func:`~veplab.irt.lr_test` is Andersen's likelihood-ratio test.

The model, for person ``v`` and item ``i`` with categories ``h = 0..m_i``::

    P(X_vi = h) = exp(h theta_v + beta_ih) / sum_{l=0..m_i} exp(l theta_v + beta_il),   beta_i0 = 0

(for the Rasch model ``m_i = 1``).  ``beta_ih`` are eRm's *easiness* parameters
(``betapar``); the threshold (step difficulty) of step ``h`` is
``tau_ih = -(beta_ih - beta_i,h-1)`` and the item's location (its difficulty, for a
dichotomous item ``-beta_i1``) is the mean of its thresholds, ``-beta_im / m_i``,
as ``eRm::thresholds``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result
from .._validate import InputError, check_ci, format_rows, numeric_data
from ._esf import CMLData, cml_derivatives, cml_loglik

__all__ = ["RaschResult", "PartialCreditResult", "RatingScaleResult", "rasch", "partial_credit", "rating_scale",
           "item_information", "test_information"]

# the largest |beta| taken as finite: beyond it the conditional ML estimate does not exist
_DIVERGED = 25.0


# --------------------------------------------------------------------------- input
def _responses(data: Any, items: Sequence[str] | None, what: str, binary: bool,
               shared_steps: bool = False) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The item columns as floats (NaN missing), checked; and each item's highest category ``m_i``.

    ``shared_steps`` (the rating scale model): an item may leave a category unused, as long as
    some item uses it (the category's parameter is shared), as ``eRm::RSM`` allows."""
    if items is not None:
        if isinstance(items, str):
            raise InputError(f"{what}: items= must be a list of column names, got the string {items!r}")
        if not isinstance(data, pd.DataFrame):
            raise InputError(f"{what}: items= needs a pandas DataFrame, got {type(data).__name__}")
        items = list(items)
        unknown = [c for c in items if c not in data.columns]
        if unknown:
            raise InputError(f"{what}: column(s) {unknown} are not in the data (columns: {list(data.columns)[:20]})")
        data = data[items]
    frame, x, _ = numeric_data(data, what=what, column_label="item")
    names = [str(c) for c in frame.columns]
    if len(names) < 2:
        raise InputError(f"{what}: needs at least two items, got {len(names)} ({names}); a single item "
                         "cannot be scaled (its conditional likelihood is constant)")
    obs = ~np.isnan(x)
    for j, name in enumerate(names):
        col = x[obs[:, j], j]
        bad = (col != np.round(col)) | ~np.isfinite(col) | (col < 0)
        if bad.any():
            rows = frame.index[obs[:, j]][bad]
            raise InputError(f"{what}: item {name!r} has {int(bad.sum())} value(s) that are not whole numbers "
                             f"0, 1, 2, ... ({format_rows(list(rows))}: {sorted(set(col[bad].tolist()))[:5]}); "
                             "ratings must be category codes starting at 0")
        if binary and (col > 1).any():
            rows = frame.index[obs[:, j]][col > 1]
            raise InputError(f"{what}: item {name!r} has values above 1 ({format_rows(list(rows))}); the Rasch "
                             "model is for 0/1 items: use partial_credit() for ordinal items")
        if col.min() == col.max():
            raise InputError(f"{what}: item {name!r} has no variance (every answer is {col.min():g}); it carries "
                             "no information on the trait: drop it")
    m = np.nanmax(x, axis=0).astype(int)
    if shared_steps and len(set(m.tolist())) == 1:
        counts = np.bincount(x[obs].astype(int), minlength=m[0] + 1)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise InputError(f"{what}: no item has an answer in categor{'y' if empty.size == 1 else 'ies'} "
                             f"{empty.tolist()} of 0..{m[0]}; recode the categories to 0..m with every one used")
    for j, name in enumerate(names):
        if shared_steps:
            break
        counts = np.bincount(x[obs[:, j], j].astype(int), minlength=m[j] + 1)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise InputError(f"{what}: item {name!r} has no answer in categor{'y' if empty.size == 1 else 'ies'} "
                             f"{empty.tolist()} of 0..{m[j]}; its parameters cannot be estimated: recode the "
                             "categories to 0..m with every one used (collapse empty ones into a neighbour)")
    few = obs.sum(axis=1) < 2
    if few.any():
        raise InputError(f"{what}: {int(few.sum())} person(s) answered fewer than two items "
                         f"({format_rows(list(frame.index[few]))}); they carry no information on the items: "
                         "drop them (e.g. data.dropna(thresh=2))")
    return frame, x, m


def _check_connected(x: np.ndarray, names: list[str], what: str) -> None:
    """eRm's check for the Rasch model: the items must form one strongly connected graph
    (i -> j when someone answered i right and j wrong), else the CML estimates do not exist."""
    from scipy.sparse.csgraph import connected_components

    one = np.nan_to_num(x == 1).astype(float)
    zero = np.nan_to_num(x == 0).astype(float)
    adj = (one.T @ zero) > 0
    ncomp, labels = connected_components(adj, directed=True, connection="strong")
    if ncomp > 1:
        groups = [[names[i] for i in range(len(names)) if labels[i] == c] for c in range(ncomp)]
        raise InputError(f"{what}: the conditional ML estimates do not exist for this response matrix (eRm's "
                         f"'ill-conditioned data matrix'): the items fall into {ncomp} groups {groups} that are "
                         "not linked both ways; every pair of items needs someone who answered the first right and "
                         "the second wrong, and someone the other way round, directly or via other items")


def _design(npar: int, sum0: bool) -> np.ndarray:
    """eRm's design matrix W: beta = W eta; first row -1 (sum0) or 0 (first beta fixed at 0)."""
    w = np.zeros((npar, npar - 1))
    w[1:, :] = np.eye(npar - 1)
    if sum0:
        w[0, :] = -1.0
    return w


def _rating_scale_design(n_items: int, hmax: int, sum0: bool) -> np.ndarray:
    """eRm's design matrix of the rating scale model (``datprep_RSM``): ``beta_ih = h eta_i + omega_h``.

    Rows are the item-category parameters item by item (``h = 1..hmax``); columns the
    items 2..k (entry ``h``; item 1's rows hold ``-h`` in every item column with ``sum0``)
    and the categories 2..hmax (entry 1; ``omega_1 = 0``).
    """
    W = np.zeros((n_items * hmax, n_items - 1 + hmax - 1))
    for i in range(n_items):
        for h in range(1, hmax + 1):
            r = i * hmax + h - 1
            if i > 0:
                W[r, i - 1] = h
            elif sum0:
                W[r, : n_items - 1] = -h
            if h > 1:
                W[r, n_items - 1 + h - 2] = 1.0
    return W


def _fit(x: np.ndarray, m: np.ndarray, sum0: bool, names: list[str], what: str, model: str = "PCM") -> dict[str, Any]:
    """Newton-Raphson on eta (analytic gradient and Hessian) with step halving."""
    d = CMLData(x, m)
    W = _rating_scale_design(len(m), int(m[0]), sum0) if model == "RSM" else _design(d.npar, sum0)
    eta = np.zeros(W.shape[1])
    converged = False
    it = 0
    ll, g, H = cml_derivatives(d, W @ eta)
    for it in range(1, 101):
        ge = W.T @ g
        He = W.T @ H @ W
        try:
            step = np.linalg.solve(-He, ge)
        except np.linalg.LinAlgError:
            break
        big = np.max(np.abs(step))
        if big > 3.0:
            step *= 3.0 / big
        t = 1.0
        while True:
            new = eta + t * step
            ll_new = cml_loglik(d, W @ new)
            if ll_new >= ll - 1e-12 * abs(ll) or t < 1e-6:
                break
            t /= 2
        eta = new
        ll, g, H = cml_derivatives(d, W @ eta)
        if np.max(np.abs(t * step)) < 1e-10 or np.max(np.abs(W.T @ g)) < 1e-9:
            converged = True
            break
        if np.max(np.abs(W @ eta)) > _DIVERGED:
            break
    beta = W @ eta
    if not converged or np.max(np.abs(beta)) > _DIVERGED:
        far = sorted({names[int(np.searchsorted(d.offsets, j, side="right") - 1)]
                      for j in np.flatnonzero(np.abs(beta) > _DIVERGED / 2)})
        raise InputError(f"{what}: the conditional ML estimates do not converge to finite values"
                         + (f" (items {far} drift off)" if far else "")
                         + "; an item or category answered by (almost) no one, or a response pattern that "
                         "orders items perfectly, has no finite estimate: collapse sparse categories or drop the item")
    He = W.T @ H @ W
    vcov_eta = np.linalg.inv(-He)
    vcov_beta = W @ vcov_eta @ W.T
    return {"data": d, "W": W, "eta": eta, "beta": beta, "loglik": ll, "vcov_eta": vcov_eta,
            "vcov_beta": vcov_beta, "iterations": it, "converged": converged}


def _category_logits(beta: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k, H) matrix of beta_ih with beta_i0 = 0 and -inf beyond m_i; and the category numbers 0..H-1."""
    hmax = int(m.max())
    B = np.full((len(m), hmax + 1), -np.inf)
    off = np.r_[0, np.cumsum(m)]
    for i, mi in enumerate(m):
        B[i, 0] = 0.0
        B[i, 1:mi + 1] = beta[off[i]:off[i + 1]]
    return B, np.arange(hmax + 1, dtype=float)


def _moments(theta: np.ndarray, B: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Category probabilities (n, k, H) and E, V, C (fourth central moment) per person and item."""
    lin = theta[:, None, None] * h[None, None, :] + B[None, :, :]
    lin = lin - lin.max(axis=2, keepdims=True)
    p = np.exp(lin)
    p /= p.sum(axis=2, keepdims=True)
    e = (p * h).sum(axis=2)
    dev = h[None, None, :] - e[:, :, None]
    v = (p * dev ** 2).sum(axis=2)
    c = (p * dev ** 4).sum(axis=2)
    return p, e, v, c


def _person_ml(x: np.ndarray, m: np.ndarray, beta: np.ndarray) -> dict[str, np.ndarray]:
    """ML person parameters per (missing pattern, raw score), as eRm::person.parameter.

    Non-extreme scores: Newton on ``sum_i E(X_i | theta) = r``; SE ``1 / sqrt(sum_i Var(X_i | theta))``.
    Extreme scores (0 or the pattern's maximum): eRm's interpolation -- a natural cubic spline
    (``splines::interpSpline``) through the (score, theta) of the pattern's non-extreme scores
    present in the data, extrapolated linearly; NaN when the pattern has fewer than 4 such scores.
    """
    from scipy.interpolate import CubicSpline

    obs = ~np.isnan(x)
    score = np.where(obs, x, 0).sum(axis=1)
    top = (obs * m[None, :]).sum(axis=1)
    extreme = (score == 0) | (score == top)
    patterns, pat = np.unique(obs, axis=0, return_inverse=True)
    pat = pat.ravel()
    B, h = _category_logits(beta, m)
    # one ML fit per distinct (pattern, score) of the non-extreme persons
    keys = np.unique(np.column_stack([pat[~extreme], score[~extreme]]), axis=0) if (~extreme).any() \
        else np.zeros((0, 2), dtype=int)
    kp, ks = keys[:, 0].astype(int), keys[:, 1].astype(float)
    kobs = patterns[kp]
    ktop = (kobs * m[None, :]).sum(axis=1)
    theta = np.log(ks / (ktop - ks)) if len(ks) else np.zeros(0)
    for _ in range(200):
        _, e, v, _c = _moments(theta, B, h)
        se_ = (e * kobs).sum(axis=1)
        sv = (v * kobs).sum(axis=1)
        delta = np.clip((ks - se_) / sv, -2.0, 2.0)
        theta = theta + delta
        if len(delta) == 0 or np.max(np.abs(delta)) < 1e-12:
            break
    _, e, v, _c = _moments(theta, B, h)
    kse = 1.0 / np.sqrt((v * kobs).sum(axis=1))
    out_theta = np.full(len(x), np.nan)
    out_se = np.full(len(x), np.nan)
    lookup = {(int(a), float(b)): i for i, (a, b) in enumerate(zip(kp, ks))}
    idx = np.array([lookup.get((int(a), float(b)), -1) for a, b in zip(pat, score)])
    ok = idx >= 0
    out_theta[ok] = theta[idx[ok]]
    out_se[ok] = kse[idx[ok]]
    interpolated = np.zeros(len(x), dtype=bool)
    for g in np.unique(pat[extreme]):
        sel = kp == g
        members = extreme & (pat == g)
        interpolated[members] = True
        if sel.sum() < 4:
            continue
        xs, ys = ks[sel], theta[sel]
        order = np.argsort(xs)
        xs, ys = xs[order], ys[order]
        spline = CubicSpline(xs, ys, bc_type="natural")
        slope = spline.derivative()
        for v_ in np.flatnonzero(members):
            s_ = score[v_]
            end = xs[0] if s_ < xs[0] else xs[-1]
            out_theta[v_] = float(spline(end) + slope(end) * (s_ - end))
    return {"theta": out_theta, "se": out_se, "interpolated": interpolated, "extreme": extreme,
            "score": score, "max_score": top, "pattern": pat}


def _fit_statistics(x: np.ndarray, m: np.ndarray, beta: np.ndarray, theta: np.ndarray,
                    use: np.ndarray) -> dict[str, np.ndarray]:
    """Standardised residuals and their E, V, C for the persons ``use`` (eRm's pifit.internal)."""
    B, h = _category_logits(beta, m)
    xs = x[use]
    _, e, v, c = _moments(theta[use], B, h)
    miss = np.isnan(xs)
    e = np.where(miss, np.nan, e)
    v = np.where(miss, np.nan, v)
    c = np.where(miss, np.nan, c)
    return {"x": xs, "e": e, "v": v, "c": c}


def _msq(sq: np.ndarray, v: np.ndarray, c: np.ndarray, axis: int) -> dict[str, np.ndarray]:
    """Outfit and infit mean-squares and their Wilson-Hilferty t (eRm's itemfit / personfit)."""
    n = np.sum(~np.isnan(sq), axis=axis)
    chisq = np.nansum(sq, axis=axis)
    outfit = chisq / n
    q_out = np.sqrt(np.nansum(c / v ** 2, axis=axis) / n ** 2 - 1.0 / n)
    sumv = np.nansum(v, axis=axis)
    infit = np.nansum(sq * v, axis=axis) / sumv
    q_in = np.sqrt(np.nansum(c - v ** 2, axis=axis) / sumv ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        out_t = (np.cbrt(outfit) - 1) * (3 / q_out) + q_out / 3
        in_t = (np.cbrt(infit) - 1) * (3 / q_in) + q_in / 3
    return {"chisq": chisq, "df": n - 1, "p": stats.chi2.sf(chisq, n - 1), "outfit_msq": outfit,
            "infit_msq": infit, "outfit_t": out_t, "infit_t": in_t}


# --------------------------------------------------------------------------- results
#: eRm's model names and what a reader calls them.
_MODEL_NAMES = {"RM": "Rasch model", "PCM": "partial credit model", "RSM": "rating scale model"}


@dataclasses.dataclass(frozen=True, eq=False)
class RaschResult(Result):
    """A Rasch-family model fitted by conditional ML (:func:`rasch`, :func:`partial_credit`, :func:`rating_scale`).

    Scalars: ``model`` (``"RM"``, ``"PCM"`` or ``"RSM"``, eRm's names), ``n`` persons, ``n_items``,
    ``loglik`` (the conditional log-likelihood, eRm's ``loglik``), ``npar`` (free item
    parameters), ``iterations``, ``converged``, ``normalisation`` (``"sum0"``: the
    ``beta`` sum to zero, eRm's default; ``"first"``: the first ``beta`` is 0),
    ``n_extreme`` (persons with the lowest or highest possible score on the items they
    answered; they carry no information on the items and are left out of the fit
    statistics), ``n_patterns`` (missing-answer patterns), ``separation_reliability``
    (person separation reliability, ``eRm::SepRel``: ``(SSD - MSE) / SSD`` with ``SSD``
    the variance of the non-interpolated person parameters and ``MSE`` the mean of
    their squared SEs) and ``ci``.

    Tables:

    * ``items``: ``item, n`` (answers), ``categories``, ``location`` (the item's
      difficulty: the mean of its thresholds), ``se``, ``ci_low``, ``ci_high``, and for
      the Rasch model ``beta``, ``se_beta`` (eRm's ``betapar``, ``se.beta``:
      ``location = -beta``).
    * ``thresholds``: one row per item step ``h = 1..m_i``: ``threshold``
      (``-(beta_ih - beta_i,h-1)``, ``eRm::thresholds``), ``se``, ``beta`` and ``se_beta``.
    * ``persons`` (indexed as the data): ``score``, ``max_score`` (of the items
      answered), ``theta`` (ML), ``se``, ``extreme``, ``interpolated`` (theta of an
      extreme score, by eRm's spline; NaN when not possible), ``pattern``, and the person
      fit ``outfit_msq, infit_msq, outfit_t, infit_t`` (NaN for extreme scores).
    * ``item_fit``: ``item, chisq, df, p, outfit_msq, infit_msq, outfit_t, infit_t``
      (``eRm::itemfit``; persons with extreme scores left out as eRm does).
    * ``person_fit``: the same per person (``eRm::personfit``), extreme scores left out.

    Arrays: ``beta`` (eRm's ``betapar``: easiness, ``beta = W eta_internal``) and its
    ``vcov_beta``; ``eta`` and ``se_eta`` (eRm's ``etapar``, ``se.eta``: with the default
    design matrix, minus the free ``beta`` of the second to last item or category -- for
    the Rasch model the difficulties of items 2..k; the first is implied by the
    normalisation); ``responses`` (the item matrix used) and ``categories`` (``m_i``).

    Sign convention: veplab reports difficulties (``location``, ``threshold``: larger =
    harder, a higher trait needed); eRm's ``betapar`` are easiness parameters, so for a
    dichotomous item ``location = -betapar`` and for an ordinal item
    ``threshold_h = betapar_(h-1) - betapar_h`` and ``location = -betapar_m / m``.
    """

    model: str
    n: int
    n_items: int
    loglik: float
    npar: int
    iterations: int
    converged: bool
    normalisation: str
    n_extreme: int
    n_patterns: int
    separation_reliability: float
    ci: float
    items: pd.DataFrame = dataclasses.field(repr=False)
    thresholds: pd.DataFrame = dataclasses.field(repr=False)
    persons: pd.DataFrame = dataclasses.field(repr=False)
    item_fit: pd.DataFrame = dataclasses.field(repr=False)
    person_fit: pd.DataFrame = dataclasses.field(repr=False)
    eta: np.ndarray = dataclasses.field(repr=False)
    se_eta: np.ndarray = dataclasses.field(repr=False)
    beta: np.ndarray = dataclasses.field(repr=False)
    vcov_beta: np.ndarray = dataclasses.field(repr=False)
    responses: np.ndarray = dataclasses.field(repr=False)
    categories: np.ndarray = dataclasses.field(repr=False)

    @property
    def item_names(self) -> list[str]:
        return list(self.items["item"])

    def to_frame(self) -> pd.DataFrame:
        """One row per item: location, SE and interval, with the item fit."""
        return self.items.merge(self.item_fit, on="item", how="left")

    def summary(self) -> str:
        name = _MODEL_NAMES[self.model].capitalize()
        lines = [
            f"{name} (conditional ML, as eRm::{self.model}): {self.n} persons, {self.n_items} items, "
            f"{self.n_patterns} missing pattern(s)",
            f"conditional log-likelihood {self.loglik:.4f}, {self.npar} parameters, "
            f"normalisation {self.normalisation!r}, {self.iterations} Newton iterations"
            + ("" if self.converged else " (NOT converged)"),
            f"{self.n_extreme} persons with an extreme score (no person fit; theta interpolated); "
            f"person separation reliability {self.separation_reliability:.3f}",
            "",
        ]
        cols = ["item", "location", "se", "ci_low", "ci_high", "outfit_msq", "infit_msq", "outfit_t", "infit_t"]
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            lines.append(self.to_frame()[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return "\n".join(lines)

    def item_information(self, theta: Any = None) -> pd.DataFrame:
        """Item information at ``theta`` (see :func:`item_information`)."""
        return item_information(self, theta)

    def test_information(self, theta: Any = None) -> pd.Series:
        """Test information at ``theta`` (see :func:`test_information`)."""
        return test_information(self, theta)

    def lr_test(self, split: Any = "median") -> Any:
        """Andersen's likelihood-ratio test (see :func:`veplab.irt.lr_test`)."""
        from .andersen import lr_test

        return lr_test(self, split)

    def plot(self, **kwargs: Any) -> Any:
        """Person-item map (Wright map; see :func:`veplab.irt.plot_wright_map`)."""
        from .wright import plot_wright_map

        return plot_wright_map(self, **kwargs)


@dataclasses.dataclass(frozen=True, eq=False)
class PartialCreditResult(RaschResult):
    """The partial credit model fitted by conditional ML (:func:`partial_credit`); as :class:`RaschResult`.

    The ``items`` table's ``location`` is the mean of the item's thresholds
    (``eRm::thresholds``' ``Location``), with ``se = se_beta_im / m_i`` by the delta method.
    """


@dataclasses.dataclass(frozen=True)
class RatingScaleResult(PartialCreditResult):
    """The rating scale model fitted by conditional ML (:func:`rating_scale`); as :class:`PartialCreditResult`.

    Every item shares the category steps: ``eta`` holds the item parameters (items 2..k,
    eRm's ``etapar``) followed by the category parameters ``omega_2..omega_m``, so an
    item's thresholds are its location plus the same offsets as every other item's.
    """


def _build(frame: pd.DataFrame, x: np.ndarray, m: np.ndarray, sum0: bool, ci: float, model: str,
           what: str) -> RaschResult:
    names = [str(c) for c in frame.columns]
    if model == "RM":
        _check_connected(x, names, what)
    fit = _fit(x, m, sum0, names, what, model)
    d: CMLData = fit["data"]
    beta, vb = fit["beta"], fit["vcov_beta"]
    se_beta = np.sqrt(np.diag(vb))
    z = stats.norm.ppf(0.5 + ci / 2)
    off = d.offsets
    # thresholds tau_ih = -(beta_ih - beta_i,h-1): a linear map T of beta (eRm::thresholds)
    T = np.zeros((d.npar, d.npar))
    rows = []
    for i, name in enumerate(names):
        for h in range(1, m[i] + 1):
            r = off[i] + h - 1
            T[r, r] = -1.0
            if h > 1:
                T[r, r - 1] = 1.0
            rows.append({"item": name, "step": h})
    tau = T @ beta
    se_tau = np.sqrt(np.diag(T @ vb @ T.T))
    thresholds = pd.DataFrame(rows)
    thresholds["threshold"] = tau
    thresholds["se"] = se_tau
    thresholds["beta"] = beta
    thresholds["se_beta"] = se_beta
    last = off[1:] - 1
    loc = -beta[last] / m
    se_loc = se_beta[last] / m
    items = pd.DataFrame({"item": names, "n": (~np.isnan(x)).sum(axis=0), "categories": m + 1,
                          "location": loc, "se": se_loc, "ci_low": loc - z * se_loc, "ci_high": loc + z * se_loc})
    if model == "RM":
        items["beta"] = beta
        items["se_beta"] = se_beta
    pp = _person_ml(x, m, beta)
    use = ~pp["extreme"]
    fs = _fit_statistics(x, m, beta, pp["theta"], use)
    sq = (fs["x"] - fs["e"]) ** 2 / fs["v"]
    ifit = _msq(sq, fs["v"], fs["c"], axis=0)
    pfit = _msq(sq, fs["v"], fs["c"], axis=1)
    item_fit = pd.DataFrame({"item": names, **ifit})
    person_fit = pd.DataFrame(pfit, index=frame.index[use])
    persons = pd.DataFrame({"score": pp["score"], "max_score": pp["max_score"], "theta": pp["theta"],
                            "se": pp["se"], "extreme": pp["extreme"], "interpolated": pp["interpolated"],
                            "pattern": pp["pattern"]}, index=frame.index)
    for col in ("outfit_msq", "infit_msq", "outfit_t", "infit_t"):
        persons[col] = np.nan
        persons.loc[use, col] = pfit[col]
    ok = ~pp["extreme"] & np.isfinite(pp["theta"])
    ssd = float(np.var(pp["theta"][ok], ddof=1)) if ok.sum() > 1 else math.nan
    sep_rel = (ssd - float(np.mean(pp["se"][ok] ** 2))) / ssd if ok.sum() > 1 and ssd > 0 else math.nan
    cls = {"RM": RaschResult, "PCM": PartialCreditResult, "RSM": RatingScaleResult}[model]
    return cls(model=model, n=len(x), n_items=len(names), loglik=float(fit["loglik"]), npar=int(fit["W"].shape[1]),
               iterations=int(fit["iterations"]), converged=bool(fit["converged"]),
               normalisation="sum0" if sum0 else "first", n_extreme=int(pp["extreme"].sum()), n_patterns=d.G,
               separation_reliability=sep_rel, ci=ci, items=items, thresholds=thresholds, persons=persons, item_fit=item_fit,
               person_fit=person_fit, eta=-fit["eta"], se_eta=np.sqrt(np.diag(fit["vcov_eta"])), beta=beta,
               vcov_beta=vb, responses=x, categories=m)


def rasch(data: Any, items: Sequence[str] | None = None, *, sum0: bool = True, ci: float = 0.95) -> RaschResult:
    """Rasch model for dichotomous items by conditional maximum likelihood (``eRm::RM``).

    For person ``v`` with trait ``theta_v`` and item ``i``::

        P(X_vi = 1) = exp(theta_v - delta_i) / (1 + exp(theta_v - delta_i))

    with ``delta_i`` the item's difficulty (``location``).  eRm writes the model with
    easiness ``beta_i = -delta_i`` (``betapar``); both are reported.  The item parameters
    maximise the conditional likelihood given the persons' raw scores ``r_v``, which does
    not involve ``theta`` (Andersen 1972)::

        log L_c = sum_i n_i beta_i - sum_v log gamma_{r_v}(exp(beta))

    where ``n_i`` is the number of 1s of item ``i`` and ``gamma_r`` the elementary
    symmetric function of order ``r`` of the ``exp(beta_i)`` of the items the person
    answered (summation algorithm; persons are grouped by missing pattern, as eRm).
    Newton-Raphson with the analytic gradient and Hessian; the SEs come from the inverse
    Hessian.  With ``sum0=True`` (eRm's default) the ``beta`` sum to zero, so the
    difficulties are centred at 0; ``sum0=False`` fixes the first item's ``beta`` at 0.

    Person parameters are ML estimates given the item parameters
    (``eRm::person.parameter``); infit, outfit and their t statistics follow
    ``eRm::itemfit`` / ``personfit`` (see :class:`RaschResult`).

    Parameters
    ----------
    data : one row per person; the item columns coded 0/1, missing as NaN.
    items : the item columns (default: every column of ``data``).
    sum0 : normalisation, as eRm's ``sum0``.
    ci : level of the intervals of the item locations (Wald, ``location ± z se``).

    Returns
    -------
    :class:`RaschResult`

    Raises
    ------
    InputError
        fewer than two items, values other than 0/1 (or non-integer), an item with no
        variance, a person with fewer than two answers, or data whose estimates do
        not exist (eRm's "ill-conditioned data matrix").

    References
    ----------
    Rasch, G. (1960). *Probabilistic Models for Some Intelligence and Attainment Tests*.
    Copenhagen: Danish Institute for Educational Research.
    Andersen, E. B. (1972). The numerical solution of a set of conditional estimation
    equations. *Journal of the Royal Statistical Society B*, 34, 42-54.
    Mair, P., & Hatzinger, R. (2007). Extended Rasch modeling: The eRm package for the
    application of IRT models in R. *Journal of Statistical Software*, 20(9), 1-20.
    Checked against ``eRm::RM``, ``person.parameter``, ``itemfit``, ``personfit``
    (tests/reference/irt.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> theta = rng.normal(size=300)
    >>> delta = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    >>> x = (rng.random((300, 5)) < 1 / (1 + np.exp(-(theta[:, None] - delta)))).astype(int)
    >>> res = rasch(pd.DataFrame(x, columns=[f"q{i}" for i in range(1, 6)]))
    >>> res.items[["item", "location", "se"]].round(2)
      item  location    se
    0   q1     -1.14  0.12
    1   q2     -0.34  0.11
    2   q3      0.05  0.11
    3   q4      0.46  0.11
    4   q5      0.97  0.12
    >>> round(res.loglik, 3)
    -463.485
    """
    what = "rasch"
    ci = check_ci(ci)
    frame, x, m = _responses(data, items, what, binary=True)
    return _build(frame, x, m, bool(sum0), ci, "RM", what)


def partial_credit(data: Any, items: Sequence[str] | None = None, *, sum0: bool = True,
                   ci: float = 0.95) -> PartialCreditResult:
    """Partial credit model for ordinal items by conditional maximum likelihood (``eRm::PCM``).

    For an item ``i`` scored ``0..m_i``::

        P(X_vi = h) = exp(h theta_v + beta_ih) / sum_{l=0..m_i} exp(l theta_v + beta_il),  beta_i0 = 0

    with eRm's cumulative category (easiness) parameters ``beta_ih`` (``betapar``).  The
    thresholds (step difficulties, where categories ``h-1`` and ``h`` are equally
    likely) are ``tau_ih = -(beta_ih - beta_i,h-1)`` and the item's ``location`` is their
    mean, ``-beta_im / m_i`` (``eRm::thresholds``).  The conditional log-likelihood
    (Masters 1982; Andersen 1977) is::

        log L_c = sum_ih n_ih beta_ih - sum_v log gamma_{r_v}

    with ``n_ih`` the number of answers in category ``h`` and ``gamma_r`` the
    coefficient of ``z^r`` in ``prod_i sum_h exp(beta_ih) z^h`` over the items the
    person answered.  ``sum0=True`` (eRm's default) makes *all* ``beta_ih`` sum to
    zero (so the locations are not centred at 0 unless every item has the same number
    of categories); ``sum0=False`` fixes the first item's first ``beta`` at 0.
    Items may have different numbers of categories, but every category from 0 to the
    item's highest must be used (eRm warns and may fail; veplab refuses).

    Parameters
    ----------
    data : one row per person; item columns coded 0, 1, ..., m_i; missing as NaN.
    items : the item columns (default: every column of ``data``).
    sum0 : normalisation, as eRm's ``sum0``.
    ci : level of the intervals of the item locations.

    Returns
    -------
    :class:`PartialCreditResult`

    Raises
    ------
    InputError
        fewer than two items, non-integer or negative codes, an item with no variance,
        an unused category, a person with fewer than two answers, estimates that
        do not converge.

    References
    ----------
    Masters, G. N. (1982). A Rasch model for partial credit scoring. *Psychometrika*,
    47, 149-174.
    Andersen, E. B. (1972). The numerical solution of a set of conditional estimation
    equations. *Journal of the Royal Statistical Society B*, 34, 42-54.
    Mair, P., & Hatzinger, R. (2007). Extended Rasch modeling: The eRm package for the
    application of IRT models in R. *Journal of Statistical Software*, 20(9), 1-20.
    Checked against ``eRm::PCM`` and ``thresholds`` (tests/reference/irt.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> theta = rng.normal(size=400)
    >>> latent = theta[:, None] + rng.logistic(size=(400, 4)) - np.array([-0.5, 0.0, 0.3, 0.8])
    >>> d = pd.DataFrame(np.digitize(latent, [-1.5, 0.0, 1.5]), columns=["r1", "r2", "r3", "r4"])
    >>> res = partial_credit(d)
    >>> res.thresholds.query("item == 'r1'")[["step", "threshold"]].round(2)
       step  threshold
    0     1      -0.91
    1     2       0.07
    2     3       0.12
    >>> res.items["location"].round(2).tolist()
    [-0.24, 0.12, 0.29, 0.45]
    """
    what = "partial_credit"
    ci = check_ci(ci)
    frame, x, m = _responses(data, items, what, binary=False)
    res = _build(frame, x, m, bool(sum0), ci, "PCM", what)
    assert isinstance(res, PartialCreditResult)
    return res


def rating_scale(data: Any, items: Sequence[str] | None = None, *, sum0: bool = True,
                 ci: float = 0.95) -> RatingScaleResult:
    """Rating scale model for items sharing one response scale, by conditional ML (``eRm::RSM``).

    The partial credit model with the category steps shared by all items (Andrich 1978):
    for items scored ``0..m`` (every item the same ``m``)::

        P(X_vi = h) = exp(h theta_v + beta_ih) / sum_{l=0..m} exp(l theta_v + beta_il),
        beta_ih = h eta_i + omega_h,   omega_1 = 0,   beta_i0 = 0

    with eRm's design (``datprep_RSM``): ``eta`` the item parameters (``sum0=True``
    makes the item parameters sum to zero, ``sum0=False`` fixes the first at 0) and
    ``omega_h`` the category parameters.  It has ``k - 1 + m - 1`` free parameters
    against the partial credit model's ``k m - 1``, so it suits Likert items written
    to one answer scale.  The two are nested: ``2 (log L_PCM - log L_RSM)`` is
    chi-square on the difference in parameters when the steps are shared (what
    :func:`veplab.validity.design.item_response` reports); :func:`lr_test` checks
    either model across groups of people.  Thresholds, item locations, person parameters,
    item and person fit and information are computed as for :func:`partial_credit`.

    Parameters
    ----------
    data : one row per person; item columns coded 0, 1, ..., m; missing as NaN.
    items : the item columns (default: every column of ``data``).
    sum0 : normalisation, as eRm's ``sum0``.
    ci : level of the intervals of the item locations.

    Returns
    -------
    :class:`RatingScaleResult`

    Raises
    ------
    InputError
        items with different numbers of categories (eRm stops), a category no item uses, and
        the other refusals of :func:`partial_credit` (an item may leave a category unused:
        the category's step is shared, as in ``eRm::RSM``).

    References
    ----------
    Andrich, D. (1978). A rating formulation for ordered response categories.
    *Psychometrika*, 43, 561-573.
    Andersen, E. B. (1977). Sufficient statistics and latent trait models.
    *Psychometrika*, 42, 69-81.
    Mair, P., & Hatzinger, R. (2007). Extended Rasch modeling: The eRm package for the
    application of IRT models in R. *Journal of Statistical Software*, 20(9), 1-20.
    Checked against ``eRm::RSM`` and ``thresholds`` (tests/reference/irt.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> theta = rng.normal(size=400)
    >>> latent = theta[:, None] + rng.logistic(size=(400, 4)) - np.array([-0.5, 0.0, 0.3, 0.8])
    >>> d = pd.DataFrame(np.digitize(latent, [-1.5, 0.0, 1.5]), columns=["r1", "r2", "r3", "r4"])
    >>> rsm = rating_scale(d)
    >>> rsm.npar, partial_credit(d).npar          # 3 items + 2 steps against 12 - 1
    (5, 11)
    >>> rsm.items["location"].round(2).tolist()
    [0.1, 0.41, 0.55, 0.76]
    >>> steps = rsm.thresholds.pivot(index="item", columns="step", values="threshold")
    >>> steps.sub(steps[2], axis=0).round(2).drop_duplicates()   # every item: the same steps around its middle
    step     1    2     3
    item
    r1   -0.45  0.0  0.46
    """
    what = "rating_scale"
    ci = check_ci(ci)
    frame, x, m = _responses(data, items, what, binary=False, shared_steps=True)
    if len(set(m.tolist())) > 1:
        shown = ", ".join(f"{c!r}: 0-{k}" for c, k in zip(frame.columns, m))
        raise InputError(f"{what}: the rating scale model needs every item on the same scale, but the items' "
                         f"highest codes differ ({shown}); use partial_credit() or recode the items")
    res = _build(frame, x, m, bool(sum0), ci, "RSM", what)
    assert isinstance(res, RatingScaleResult)
    return res


# --------------------------------------------------------------------------- information
def _theta_grid(theta: Any) -> np.ndarray:
    try:
        grid = (np.round(np.arange(-4.0, 4.0001, 0.1), 10) if theta is None
                else np.atleast_1d(np.asarray(theta, dtype=float)))
    except (TypeError, ValueError):
        raise InputError(f"theta must be a finite number or a 1-D sequence of finite numbers, got {theta!r}") from None
    if grid.ndim != 1 or not np.isfinite(grid).all():
        raise InputError("theta must be a finite number or a 1-D sequence of finite numbers")
    return grid


def item_information(result: RaschResult, theta: Any = None) -> pd.DataFrame:
    """Fisher information of each item about ``theta`` (``eRm::item_info``).

    For a Rasch-family item the information is the variance of the item score::

        I_i(theta) = sum_h h^2 P_ih(theta) - (sum_h h P_ih(theta))^2

    (for a dichotomous item ``P (1 - P)``); eRm computes the same as
    ``sum_h P'_ih(theta)^2 / P_ih(theta)``.

    Parameters
    ----------
    result : a fitted :func:`rasch` or :func:`partial_credit` model.
    theta : where to evaluate (default -4 to 4 by 0.1).

    Returns
    -------
    DataFrame indexed by ``theta``, one column per item.

    References
    ----------
    Mair, P., & Hatzinger, R. (2007). Extended Rasch modeling: The eRm package.
    *Journal of Statistical Software*, 20(9). Checked against ``eRm::item_info``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> x = pd.DataFrame({"a": [0, 1, 1, 0, 1, 0], "b": [0, 0, 1, 1, 1, 0], "c": [1, 0, 1, 0, 0, 0]})
    >>> info = item_information(rasch(x), theta=[0.0])
    >>> info.round(3)
             a      b      c
    theta
    0.0    0.245  0.245  0.232
    """
    grid = _theta_grid(theta)
    B, h = _category_logits(result.beta, result.categories)
    _, _, v, _ = _moments(grid, B, h)
    return pd.DataFrame(v, index=pd.Index(grid, name="theta"), columns=result.item_names)


def test_information(result: RaschResult, theta: Any = None) -> pd.Series:
    """Test information, the sum of the item informations (``eRm::test_info``).

    ``I(theta) = sum_i I_i(theta)``; ``1 / sqrt(I(theta))`` is the standard error of the
    ML person parameter at ``theta`` for a person who answered every item.

    References
    ----------
    Mair, P., & Hatzinger, R. (2007). Extended Rasch modeling: The eRm package.
    *Journal of Statistical Software*, 20(9). Checked against ``eRm::test_info``.

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"a": [0, 1, 1, 0, 1, 0], "b": [0, 0, 1, 1, 1, 0], "c": [1, 0, 1, 0, 0, 0]})
    >>> round(float(test_information(rasch(x), theta=0.0).iloc[0]), 3)
    0.722
    """
    info = item_information(result, theta)
    return info.sum(axis=1).rename("information")
