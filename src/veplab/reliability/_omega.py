"""McDonald's omega: total (one-factor ML model) and hierarchical (Schmid-Leiman)."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import InputError, check_choice, check_ci, rng
from . import _boot
from . import _factor as fac
from ._alpha import _check_cov, _pairwise_cov, boot_covariances
from ._common import items_frame, pairwise_cor, small_blas

__all__ = ["OmegaResult", "omega"]


@dataclasses.dataclass(frozen=True)
class OmegaResult(Result):
    """Omega total and hierarchical.

    ``estimate`` is omega total from a one-factor maximum-likelihood model
    of the item covariances (the model ``lavaan::cfa('f =~ x1 + ... + xk')``
    fits)::

        omega = (sum lambda)^2 / ((sum lambda)^2 + sum theta)

    ``omega_h`` and ``omega_total_sl`` are ``psych::omega``'s omega
    hierarchical and omega total from a Schmid-Leiman transformation of an
    oblimin-rotated minres solution with ``nfactors`` group factors (on the
    correlation matrix).  Intervals are bootstrap percentile intervals.
    ``loadings`` (one-factor model), ``sl`` (psych's ``schmid$sl``) and
    ``omega_group`` (psych's ``omega.group``) are tables.
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    ci: float
    missing: str
    omega_h: float
    omega_h_ci_low: float
    omega_h_ci_high: float
    omega_total_sl: float
    omega_total_sl_ci_low: float
    omega_total_sl_ci_high: float
    omega_lim: float
    ecv: float
    alpha_std: float
    g6: float
    nfactors: int
    hierarchical: bool
    ml_converged: bool
    heywood: bool
    n_dropped: int
    n_boot: int
    boot_weights: str | None
    n_boot_failed: int
    note: str
    loadings: pd.DataFrame = dataclasses.field(repr=False)
    sl: pd.DataFrame | None = dataclasses.field(default=None, repr=False)
    omega_group: pd.DataFrame | None = dataclasses.field(default=None, repr=False)

    def summary(self) -> str:
        lines = [
            f"omega total (one-factor ML) = {self.estimate:.4f}  "
            f"({self.ci:.0%} CI {self.ci_low:.4f} to {self.ci_high:.4f})",
        ]
        if self.hierarchical:
            lines += [
                f"omega hierarchical = {self.omega_h:.4f}  ({self.ci:.0%} CI {self.omega_h_ci_low:.4f} "
                f"to {self.omega_h_ci_high:.4f}); Schmid-Leiman omega total = {self.omega_total_sl:.4f}",
                f"  explained common variance of the general factor {self.ecv:.4f}, {self.nfactors} group factors",
            ]
        lines.append(f"  n = {self.n}, k = {self.k} items, missing = {self.missing!r}, {self.n_boot} resamples")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


def _identified(k: int, m: int) -> bool:
    """Exploratory m-factor model of k variables has non-negative degrees of freedom."""
    return (k - m) ** 2 - (k + m) >= 0


def _omega_ml(c: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, bool]:
    lam, th, conv = fac.ml_one_factor(c)
    s = lam.sum()
    return float(s**2 / (s**2 + th.sum())), lam, th, conv


def omega(
    items: Any,
    *,
    nfactors: int = 3,
    hierarchical: bool | None = None,
    missing: str = "pairwise",
    ci: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
    boot_weights: str = "auto",
) -> OmegaResult:
    """McDonald's omega of a scale: total (one-factor ML) and hierarchical (Schmid-Leiman).

    * **Omega total** (``estimate``): a one-factor maximum-likelihood model is
      fitted to the item covariance matrix (by Fisher scoring; the same
      estimates as ``lavaan::cfa('f =~ x1 + ... + xk', std.lv = TRUE)``) and
      ``omega = (sum lambda)^2 / ((sum lambda)^2 + sum theta)``: the
      reliability of the unit-weighted sum score.
    * **Omega hierarchical** and its omega total (``omega_h``,
      ``omega_total_sl``), ``omega_lim``, ``ecv``, the Schmid-Leiman loadings
      ``sl`` and ``omega_group``: exactly ``psych::omega(items, nfactors)``
      with its defaults (``fm = "minres"``, ``rotate = "oblimin"``, items
      standardised, pairwise correlations): minres factors, varimax then
      GPArotation's oblimin, a general factor from the factor correlations,
      Schmid & Leiman (1957).  With 2 group factors the general loadings are
      set equal (psych's ``option = "equal"``).  Computed when the
      ``nfactors``-factor model is identified (``(k - m)^2 >= k + m``); with
      ``hierarchical=None`` (default) it is otherwise skipped and ``note``
      says so, with ``hierarchical=True`` that raises.

    Intervals: percentile bootstrap over respondents (``n_boot`` resamples;
    covariance matrices of all resamples come from one pass of resampling
    weights over row moments, then every model is refitted in batch from
    psych's starting values).  ``n_boot=0`` skips the bootstrap (intervals are
    then NaN and ``note`` says so).  psych's own ``omega(n.iter=)`` reports
    normal intervals on Fisher's z instead.

    Parameters
    ----------
    items:
        Respondents x items (numeric, reverse-keyed items already reversed,
        keyed knowledge items scored 1/0: :func:`veplab.scoring.scored_items`),
        at least 3 items.  On 0/1 items the models are linear factor models of
        the Pearson (phi) covariances, as ``psych::omega`` and lavaan fit them
        by default.
    nfactors:
        Group factors of the Schmid-Leiman solution (psych's default 3).
    missing:
        ``"pairwise"`` (default): pairwise-complete covariances (one-factor
        model; a pseudo-ML fit) and correlations (Schmid-Leiman, as psych).
        ``"listwise"``: complete respondents only (lavaan's default).
    ci, n_boot, seed, boot_weights:
        Confidence level and bootstrap settings.

    Notes
    -----
    Uniquenesses are kept at or above 0.005 of the item variance (as
    factanal/psych do); lavaan would report a negative variance (Heywood
    case).  ``heywood`` flags a solution on that bound.  In bootstrap
    resamples a 3-factor minres solution can have several local optima; the
    one reached from psych's start (``1 - smc``) is used.

    References
    ----------
    McDonald (1999); Zinbarg et al. (2005); Schmid & Leiman (1957);
    Revelle, ``psych::omega``; Rosseel (2012), lavaan.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.reliability import omega
    >>> g = np.random.default_rng(1).normal(size=(200, 1))
    >>> x = pd.DataFrame(g + np.random.default_rng(2).normal(size=(200, 4)), columns=list("abcd"))
    >>> round(omega(x, n_boot=0).estimate, 3)
    0.758
    """
    check_choice(missing, "missing", ("pairwise", "listwise"))
    ci = check_ci(ci)
    if isinstance(nfactors, bool) or not isinstance(nfactors, (int, np.integer)) or nfactors < 2:
        raise InputError(f"omega: nfactors must be an integer >= 2 (psych's default is 3), got {nfactors!r}")
    nfactors = int(nfactors)
    df, dropped = items_frame(items, what="omega", missing=missing)
    x = df.to_numpy()
    n, k = x.shape
    if k < 3:
        raise InputError(f"omega: a one-factor model needs at least 3 items, got {k} ({list(df.columns)})")
    if n_boot != 0:
        n_boot = _boot.check_n_boot(n_boot)
    notes: list[str] = []
    ident = _identified(k, nfactors)
    if hierarchical is None:
        hierarchical = ident
        if not ident:
            notes.append(
                f"omega hierarchical not computed: {nfactors} group factors are not identified with {k} items"
            )
    elif hierarchical and not ident:
        raise InputError(
            f"omega: {nfactors} group factors are not identified with {k} items "
            f"(need (k - m)^2 >= k + m); use fewer nfactors or hierarchical=False"
        )
    names = [str(c) for c in df.columns]

    # ---- omega total, one-factor ML
    c = _pairwise_cov(x)
    _check_cov(c, names, "omega")
    with small_blas():
        om_t, lam, th, conv = _omega_ml(c)
    sd = np.sqrt(np.diag(c))
    heywood = bool((th <= fac.PSI_LOWER * sd**2 * (1 + 1e-8)).any())
    if heywood:
        warnings.warn(
            "omega: the one-factor model has an item with (nearly) zero residual variance (Heywood case); "
            "omega total is unreliable",
            stacklevel=2,
        )
    if not conv:
        notes.append("the one-factor ML fit did not fully converge")
    loadings = pd.DataFrame(
        {"lambda": lam, "theta": th, "std_lambda": lam / sd, "std_theta": th / sd**2},
        index=pd.Index(names, name="item"),
    )

    # ---- Schmid-Leiman (psych::omega)
    hier: dict[str, Any] = {}
    sl_df = group_df = None
    if hierarchical:
        r = pairwise_cor(x)
        with small_blas():
            sl = fac.schmid(r, nfactors)
            o = fac.omega_from_schmid(r, sl)
        hier = o
        star = [f"F{i + 1}*" for i in range(nfactors)]
        sl_df = pd.DataFrame(
            np.column_stack([o["g_signed"], o["s_signed"], sl["h2"], sl["u2"], sl["p2"]]),
            index=pd.Index([nm + ("-" if kk < 0 else "") for nm, kk in zip(names, o["key"])], name="item"),
            columns=["g", *star, "h2", "u2", "p2"],
        )
        group_df = _omega_group(o["m"], o["g_signed"], o["s_signed"], float(o["omega_total"]), star)
        if not sl["converged"]:
            notes.append("the oblimin rotation did not converge")

    # ---- bootstrap
    nan = float("nan")
    lo = hi = h_lo = h_hi = t_lo = t_hi = nan
    failed = 0
    scheme = None
    if n_boot:
        scheme = _boot.resolve_scheme(boot_weights, n, n_boot)
        gen = rng(seed)
        if hierarchical:
            covs, cors = boot_covariances(x, n_boot, gen, scheme, correlations=True)
        else:
            covs = boot_covariances(x, n_boot, gen, scheme)
        with small_blas():
            om_b, oh, ot = _boot_fits(covs, cors if hierarchical else None, lam, th, nfactors)
        lo, hi, failed = _boot.percentile_interval(om_b, ci)
        if hierarchical:
            h_lo, h_hi, f2 = _boot.percentile_interval(oh, ci)
            t_lo, t_hi, _ = _boot.percentile_interval(ot, ci)
            failed = max(failed, f2)
        if failed:
            warnings.warn(f"omega: {failed} of {n_boot} bootstrap resamples could not be fitted and were ignored", stacklevel=2)
    else:
        notes.append("no bootstrap (n_boot=0): intervals not computed")

    return OmegaResult(
        estimate=om_t,
        ci_low=lo,
        ci_high=hi,
        n=int(n),
        k=int(k),
        ci=ci,
        missing=missing,
        omega_h=float(hier.get("omega_h", nan)),
        omega_h_ci_low=h_lo,
        omega_h_ci_high=h_hi,
        omega_total_sl=float(hier.get("omega_total", nan)),
        omega_total_sl_ci_low=t_lo,
        omega_total_sl_ci_high=t_hi,
        omega_lim=float(hier.get("omega_lim", nan)),
        ecv=float(hier.get("ecv", nan)),
        alpha_std=float(hier.get("alpha", nan)),
        g6=float(hier.get("g6", nan)),
        nfactors=nfactors,
        hierarchical=bool(hierarchical),
        ml_converged=bool(conv),
        heywood=heywood,
        n_dropped=dropped,
        n_boot=int(n_boot),
        boot_weights=scheme,
        n_boot_failed=int(failed),
        note="; ".join(notes),
        loadings=loadings,
        sl=sl_df,
        omega_group=group_df,
    )


def _boot_fits(
    covs: np.ndarray, cors: np.ndarray | None, lam: np.ndarray, th: np.ndarray, nfactors: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Omega total (one-factor ML) and Schmid-Leiman omegas of every resample (NaN if unfit).

    Each resample is fitted on its own, so chunks of resamples run in threads
    (:func:`veplab.reliability._boot.map_chunks`) with the same results.
    """
    parts = _boot.map_chunks(
        lambda s: _boot_fits_chunk(covs[s], None if cors is None else cors[s], lam, th, nfactors), covs.shape[0]
    )
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


def _boot_fits_chunk(
    covs: np.ndarray, cors: np.ndarray | None, lam: np.ndarray, th: np.ndarray, nfactors: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_boot = covs.shape[0]
    nan = float("nan")
    ok = np.isfinite(covs).all(axis=(1, 2)) & (np.diagonal(covs, axis1=1, axis2=2) > 0).all(axis=1)
    om_b = np.full(n_boot, nan)
    idx = np.flatnonzero(ok)
    # refits stop when no parameter moves by 1e-7 of the largest item sd (the
    # point estimate uses 1e-9): omega then agrees to ~1e-9, far inside any interval
    lam_b, th_b, conv_b = fac.ml_one_factor_batch(
        covs[idx], np.tile(lam, (idx.size, 1)), np.tile(th, (idx.size, 1)), tol=1e-7
    )
    s_b = lam_b.sum(axis=1)
    om_b[idx] = s_b**2 / (s_b**2 + th_b.sum(axis=1))
    for b in idx[~conv_b]:  # rare: refit from the correlation-scale start
        try:
            om_b[b] = _omega_ml(covs[b])[0]
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            om_b[b] = nan  # counted as a failed resample in the result
    oh = np.full(n_boot, nan)
    ot = np.full(n_boot, nan)
    if cors is not None:
        okr = ok & np.isfinite(cors).all(axis=(1, 2))
        idr = np.flatnonzero(okr)
        res = fac.schmid_batch(cors[idr], nfactors)  # from psych's start, 1 - smc
        oh[idr] = res["omega_h"]
        ot[idr] = res["omega_total"]
    return om_b, oh, ot


def _omega_group(m: np.ndarray, g: np.ndarray, s: np.ndarray, om_tot: float, star: list[str]) -> pd.DataFrame:
    """psych's ``omega.group``: total, general and group omega for g and each group factor."""
    nf = s.shape[1]
    sub = np.argmax(np.abs(s), axis=1)
    total = np.full(nf + 1, np.nan)
    general = np.full(nf + 1, np.nan)
    group = np.full(nf + 1, np.nan)
    grs = 0.0
    for f in range(nf):
        gi = np.flatnonzero(sub == f)
        if gi.size:
            vgr = m[np.ix_(gi, gi)].sum()
            gr = s[gi, f].sum()
            grs += gr**2
            group[f + 1] = gr**2 / vgr
            general[f + 1] = g[gi].sum() ** 2 / vgr
            total[f + 1] = (gr**2 + g[gi].sum() ** 2) / vgr
    general[0] = g.sum() ** 2 / m.sum()
    group[0] = grs / m.sum()
    total[0] = om_tot
    return pd.DataFrame({"total": total, "general": general, "group": group}, index=pd.Index(["g", *star], name="factor"))
