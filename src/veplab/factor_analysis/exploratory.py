"""Exploratory factor structure: KMO, Bartlett's test, EFA, parallel analysis.

Everything here matches R's ``psych`` package (version 2.2.9) -- the
reference most psychometricians use -- function for function:

=============================  ==========================================
veplab                         R
=============================  ==========================================
:func:`kmo`                    ``psych::KMO``
:func:`bartlett_sphericity`    ``psych::cortest.bartlett``
:func:`efa`                    ``psych::fa`` (``fm = "minres"`` / ``"ml"`` / ``"pa"``;
                               ``rotate = "none"``, ``"varimax"``,
                               ``"promax"``, ``"oblimin"``)
:func:`parallel_analysis`      ``psych::fa.parallel`` (simulated normal data)
:func:`smc`                    ``psych::smc``
=============================  ==========================================

How the estimators work (and where veplab differs in the numerics only); the
fits and rotations are veplab's factor-analysis core,
:mod:`veplab.factor_analysis._core`, which omega's models use too:

* **minres** (``fm = "minres"``) minimises the sum of squared off-diagonal
  residuals ``sum_{i<j} (r_ij - (LL')_ij)^2``.  psych optimises the
  uniquenesses ``psi`` by L-BFGS-B on ``[0.005, 1]`` starting from
  ``1 - SMC``, with loadings ``L`` the first ``k`` eigenvectors of
  ``R - diag(psi)`` scaled by the square roots of their eigenvalues, and
  psych's gradient ``diag(LL') + psi - diag(R)``.  That gradient is the exact
  gradient of the unweighted-least-squares function
  ``F(psi) = 1/2 sum_{j>k} lambda_j(R - diag(psi))^2`` (plus the negative
  part of the first ``k``), whose minimum is the minres solution; veplab
  minimises ``F`` with its exact gradient (same bounds, same start) to a
  tighter tolerance, so it lands on the point psych converges to.
* **ml** (``fm = "ml"``) minimises psych's ``FAfn``,
  ``-sum_{j>k}(log e_j - e_j) - k + p`` with ``e_j`` the eigenvalues of
  ``Psi^-1/2 R Psi^-1/2``, with psych's gradient ``FAgr`` (Joreskog 1967),
  by L-BFGS-B on the same bounds.
* **pa** (``fm = "pa"``) is psych's iterated principal axis: SMCs on the
  diagonal, principal axes of the reduced matrix, their communalities back on
  the diagonal, until the sum of communalities changes by at most 0.001 (at
  most 50 passes).  The same steps as psych, so it agrees with it to rounding
  (not a minimum of any function: it stops where psych stops).
* Loadings are reflected so every column sums to a positive number; after
  rotation they are reflected again and factors are sorted by the variance
  they account for (``diag(Phi L'L)``), as psych does.  Factor names are
  ``MR1..MRk`` / ``ML1..MLk`` / ``PA1..PAk`` in that final order (psych keeps the
  pre-sorting numbers, e.g. ``MR1 MR3 MR2``).
* Fit statistics are psych's ``fa.stats``: the ML objective of the fitted
  model, Bartlett-corrected chi-square ``(n - 1 - (2p + 5)/6 - 2k/3) F``,
  RMSEA with psych's formula and interval, Tucker-Lewis index, BIC, the
  empirical chi-square (``sum r_res^2 * n`` over off-diagonal cells), the
  root mean square residual and its df-corrected version.

References
----------
Harman, H. H. (1976). *Modern Factor Analysis* (3rd ed.). University of Chicago Press.
Joreskog, K. G. (1967). Some contributions to maximum likelihood factor analysis.
*Psychometrika*, 32, 443-482.
Kaiser, H. F. (1974). An index of factorial simplicity. *Psychometrika*, 39, 31-36.
Bartlett, M. S. (1951). The effect of standardization on a chi square approximation
in factor analysis. *Biometrika*, 38, 337-344.
Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
*Psychometrika*, 30, 179-185.
Revelle, W. (2022). *psych: Procedures for Psychological, Psychometric, and
Personality Research*. R package version 2.2.9.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.optimize import linear_sum_assignment

from . import _core as core
from .._results import Result
from .._validate import InputError, check_choice, check_ci, numeric_frame, rng as make_rng
from .correlations import cor_smooth, polychoric
from .rotation import rotate as _rotate

__all__ = [
    "KMOResult",
    "BartlettResult",
    "EFAResult",
    "ParallelAnalysisResult",
    "kmo",
    "bartlett_sphericity",
    "efa",
    "parallel_analysis",
    "plot_scree",
    "smc",
    "align_loadings",
]

_PSI_LOWER = core.PSI_LOWER  # psych's lower bound for uniquenesses


# ======================================================================= input
def _looks_like_correlation(df: pd.DataFrame) -> bool:
    """psych's ``isCorrelation``: square, symmetric, unit diagonal, within [-1, 1]."""
    if df.shape[0] != df.shape[1] or df.shape[0] < 2:
        return False
    a = df.to_numpy(dtype=float, na_value=np.nan)
    if not np.all(np.isfinite(a)):
        return False
    if not np.allclose(a, a.T, atol=1e-10, rtol=0):
        return False
    if not np.allclose(np.diag(a), 1.0, atol=1e-8):
        return False
    if a.min() < -1 - 1e-12 or a.max() > 1 + 1e-12:
        return False
    if list(map(str, df.index)) != list(map(str, df.columns)) and not isinstance(df.index, pd.RangeIndex):
        return False
    return True


@dataclasses.dataclass
class _Prepared:
    r: np.ndarray
    names: list[str]
    n_obs: float  # NaN when unknown
    np_obs: np.ndarray | None
    is_correlation: bool
    corr: str


def _prepare(
    items: Any,
    *,
    what: str,
    missing: str,
    corr: str | None,
    n_obs: int | None,
    smooth: bool,
    min_items: int = 2,
    need_n: bool = True,
) -> _Prepared:
    check_choice(missing, "missing", ("pairwise", "listwise"))
    if corr is not None:
        check_choice(corr, "corr", ("pearson", "polychoric"))
    if isinstance(items, np.ndarray) and items.ndim == 2:
        items = pd.DataFrame(items, columns=[f"V{i + 1}" for i in range(items.shape[1])])
    if not isinstance(items, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame of items (or a correlation matrix), got {type(items).__name__}")
    if n_obs is not None:
        try:
            n_obs_f = float(n_obs)
        except (TypeError, ValueError):
            raise InputError(f"{what}: n_obs must be a positive integer, got {n_obs!r}") from None
        if not (n_obs_f > 1 and n_obs_f == int(n_obs_f)):
            raise InputError(f"{what}: n_obs must be an integer greater than 1, got {n_obs!r}")
    if _looks_like_correlation(items) and not (corr == "polychoric"):
        r = items.to_numpy(dtype=float)
        r = (r + r.T) / 2.0
        names = [str(c) for c in items.columns]
        if n_obs is None and need_n:
            warnings.warn(
                f"{what}: a correlation matrix was given without n_obs; statistics that need the "
                "sample size (chi-square, p values, RMSEA, BIC) are NaN. Pass n_obs=...",
                UserWarning,
                stacklevel=3,
            )
        prepared = _Prepared(r, names, float(n_obs) if n_obs is not None else float("nan"), None, True, "given")
    else:
        df = numeric_frame(items, what=what, min_columns=min_items, min_rows=3, allow_constant=False, column_label="item")
        names = [str(c) for c in df.columns]
        if missing == "listwise":
            complete = df.notna().all(axis=1)
            dropped = int((~complete).sum())
            if dropped:
                warnings.warn(
                    f"{what}: missing='listwise' dropped {dropped} of {len(df)} rows with a missing item",
                    UserWarning,
                    stacklevel=3,
                )
            df = df[complete]
            if len(df) < 3:
                raise InputError(f"{what}: only {len(df)} complete rows remain after listwise deletion")
        obs = df.notna().to_numpy().astype(float)
        np_obs = obs.T @ obs
        if corr == "polychoric":
            pr = polychoric(df)
            r = pr.rho.to_numpy()
        else:
            r = df.corr(method="pearson", min_periods=1).to_numpy()
        if not np.all(np.isfinite(r)):
            bad = np.argwhere(~np.isfinite(np.triu(r, 1)) & np.triu(np.ones_like(r, bool), 1))
            pairs = [f"{names[i]}-{names[j]}" for i, j in bad[:10]]
            raise InputError(
                f"{what}: correlations are undefined for item pairs {pairs} (too few rows where both are "
                "answered, or no variance within those rows); drop one item of each pair"
            )
        few = np.argwhere(np.triu(np_obs < 3, 1))
        if len(few):
            pairs = [f"{names[i]}-{names[j]}" for i, j in few[:10]]
            raise InputError(f"{what}: item pairs {pairs} have fewer than 3 rows answered together; drop one item of each pair")
        n_used = float(n_obs) if n_obs is not None else float(len(df))
        prepared = _Prepared(r, names, n_used, np_obs, False, corr or "pearson")
    prepared.r = _check_positive_definite(prepared.r, prepared.names, what=what, smooth=smooth)
    return prepared


def _check_positive_definite(r: np.ndarray, names: list[str], *, what: str, smooth: bool) -> np.ndarray:
    vals, vecs = np.linalg.eigh(r)
    tol = max(1e-10, r.shape[0] * np.finfo(float).eps * 100)
    if vals[0] > tol:
        return r
    if smooth:
        smoothed, _ = cor_smooth(r)
        warnings.warn(
            f"{what}: the correlation matrix is not positive definite (smallest eigenvalue "
            f"{vals[0]:.3g}); it was smoothed as psych::cor.smooth does. Results are approximate.",
            UserWarning,
            stacklevel=4,
        )
        return smoothed
    # name the items in the (near) linear dependence
    v = vecs[:, 0]
    involved = [names[i] for i in np.argsort(-np.abs(v)) if abs(v[i]) > 0.1][:8]
    kind = "singular" if vals[0] < 1e-8 else "not positive definite"
    raise InputError(
        f"{what}: the correlation matrix of the items is {kind} (smallest eigenvalue {vals[0]:.3g}); "
        f"items {involved} are (nearly) linearly dependent. Drop redundant items (e.g. duplicates, or a "
        "total score together with its items), use missing='listwise' if pairwise deletion caused it, "
        "or pass smooth=True to smooth the matrix as psych::cor.smooth does."
    )


# ======================================================================= small pieces
def smc(r: pd.DataFrame | np.ndarray) -> pd.Series | np.ndarray:
    """Squared multiple correlations ``1 - 1 / diag(R^-1)`` (``psych::smc``).

    Uses the Moore-Penrose inverse as psych does (``Pinv``); values are
    clipped to [0, 1].  Accepts a correlation matrix (a DataFrame gives a
    Series named by its columns, an array an array)::

        smc_i = 1 - 1 / (R^-1)_ii

    the share of item ``i``'s variance explained by the other items, the
    starting communality of minres, ML and principal-axis factoring.

    References
    ----------
    Guttman L (1956). "Best possible" systematic estimates of communalities.
    Psychometrika 21, 273-285.
    Agrees with R ``psych::smc`` (psych 2.2.9; tests/reference/validity_efa.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.standard_normal((300, 1))
    >>> items = pd.DataFrame(f @ np.full((1, 4), .7) + rng.standard_normal((300, 4)) * .7)
    >>> smc(items.corr()).round(3).tolist()
    [0.397, 0.404, 0.392, 0.425]
    """
    if isinstance(r, pd.DataFrame):
        return pd.Series(core.smc(r.to_numpy(dtype=float)), index=r.columns, name="smc")
    return core.smc(np.asarray(r, dtype=float))


def _kaiser_label(msa: float) -> str:
    # Kaiser (1974) / Kaiser & Rice (1974) labels
    for cut, label in ((0.9, "marvelous"), (0.8, "meritorious"), (0.7, "middling"), (0.6, "mediocre"), (0.5, "miserable")):
        if msa >= cut:
            return label
    return "unacceptable"


# ======================================================================= KMO
@dataclasses.dataclass(frozen=True)
class KMOResult(Result):
    """Kaiser-Meyer-Olkin measure of sampling adequacy (overall and per item)."""

    msa: float
    label: str
    n_items: int
    n_obs: float
    msa_items: pd.Series = dataclasses.field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per item plus an ``overall`` row."""
        rows = [{"item": k, "msa": float(v), "label": _kaiser_label(float(v))} for k, v in self.msa_items.items()]
        rows.append({"item": "overall", "msa": self.msa, "label": self.label})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        lines = [f"Kaiser-Meyer-Olkin measure of sampling adequacy: {self.msa:.3f} ({self.label})", "per item:"]
        lines += [f"  {k:<20} {v:.3f}" for k, v in self.msa_items.items()]
        return "\n".join(lines)


def kmo(items: pd.DataFrame, *, missing: str = "pairwise", corr: str | None = None) -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, matching ``psych::KMO``.

    With ``R`` the correlation matrix and ``Q`` the partial (anti-image)
    correlations (``R^-1`` scaled to unit diagonal), off-diagonal sums::

        MSA   = sum r_ij^2 / (sum r_ij^2 + sum q_ij^2)
        MSA_i = sum_j r_ij^2 / (sum_j r_ij^2 + sum_j q_ij^2)

    Kaiser's labels: >= .9 marvelous, .8 meritorious, .7 middling,
    .6 mediocre, .5 miserable, below .5 unacceptable.

    Parameters
    ----------
    items
        Item responses (rows respondents) or a correlation matrix.
    missing
        ``"pairwise"`` (psych's default) or ``"listwise"``.
    corr
        ``None``/``"pearson"`` or ``"polychoric"`` for ordinal items.

    Returns
    -------
    KMOResult
        ``msa`` (overall), its Kaiser ``label`` and ``msa_items`` (per item).

    References
    ----------
    Kaiser HF (1970). A second generation little jiffy. Psychometrika 35, 401-415.
    Kaiser HF (1974). An index of factorial simplicity. Psychometrika 39, 31-36.
    Kaiser HF, Rice J (1974). Little jiffy, mark IV. Educational and Psychological
    Measurement 34, 111-117.
    Agrees with R ``psych::KMO`` (psych 2.2.9; tests/reference/validity_efa.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.standard_normal((300, 1))
    >>> items = pd.DataFrame(f @ np.full((1, 4), .7) + rng.standard_normal((300, 4)) * .7)
    >>> res = kmo(items)
    >>> round(res.msa, 3), res.label
    (0.797, 'middling')
    >>> res.msa_items.round(3).tolist()
    [0.8, 0.797, 0.805, 0.787]
    """
    p = _prepare(items, what="kmo", missing=missing, corr=corr, n_obs=None, smooth=False, need_n=False)
    r = p.r
    q = np.linalg.inv(r)
    d = np.sqrt(np.diag(q))
    q = q / np.outer(d, d)
    np.fill_diagonal(q, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    sr = float(np.sum(r0**2))
    sq = float(np.sum(q**2))
    msa = sr / (sr + sq)
    cr = np.sum(r0**2, axis=0)
    cq = np.sum(q**2, axis=0)
    msai = cr / (cr + cq)
    return KMOResult(
        msa=msa, label=_kaiser_label(msa), n_items=len(p.names), n_obs=p.n_obs if not p.is_correlation else float("nan"),
        msa_items=pd.Series(msai, index=p.names, name="msa"),
    )


# ======================================================================= Bartlett
@dataclasses.dataclass(frozen=True)
class BartlettResult(Result):
    """Bartlett's test that the correlation matrix is an identity matrix."""

    statistic: float
    df: int
    p_value: float
    n: float
    n_items: int

    def summary(self) -> str:
        return (
            f"Bartlett's test of sphericity: chi-square = {self.statistic:.4g}, df = {self.df}, "
            f"p = {self.p_value:.3g} (n = {self.n:g}, {self.n_items} items)"
        )


def bartlett_sphericity(
    items: pd.DataFrame, *, n_obs: int | None = None, missing: str = "pairwise", corr: str | None = None
) -> BartlettResult:
    """Bartlett's (1951) test of sphericity, matching ``psych::cortest.bartlett``.

    ``chi2 = -log det(R) * (n - 1 - (2p + 5) / 6)`` on ``p(p - 1)/2`` degrees of
    freedom.  ``n`` is the number of rows (psych uses all rows also with
    pairwise-missing data; with ``missing="listwise"`` the complete rows), or
    ``n_obs`` when a correlation matrix is given (required then).

    Parameters
    ----------
    items
        Item responses (rows respondents) or a correlation matrix with ``n_obs``.
    n_obs
        Sample size; required with a correlation matrix.
    missing
        ``"pairwise"`` (psych's default) or ``"listwise"``.
    corr
        ``None``/``"pearson"`` or ``"polychoric"`` for ordinal items.

    Returns
    -------
    BartlettResult
        ``statistic``, ``df``, ``p_value``, ``n`` and ``n_items``.

    Raises
    ------
    InputError
        A correlation matrix without ``n_obs``; non-numeric items.

    References
    ----------
    Bartlett MS (1951). The effect of standardization on a chi square approximation in
    factor analysis. Biometrika 38, 337-344.
    Agrees with R ``psych::cortest.bartlett`` (psych 2.2.9; tests/reference/validity_efa.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.standard_normal((300, 1))
    >>> items = pd.DataFrame(f @ np.full((1, 4), .7) + rng.standard_normal((300, 4)) * .7)
    >>> res = bartlett_sphericity(items)
    >>> round(res.statistic, 1), res.df, res.p_value < 1e-10
    (381.2, 6, True)
    """
    if isinstance(items, pd.DataFrame) and _looks_like_correlation(items) and n_obs is None:
        raise InputError("bartlett_sphericity: a correlation matrix was given; pass n_obs (the sample size)")
    p = _prepare(items, what="bartlett_sphericity", missing=missing, corr=corr, n_obs=n_obs, smooth=False)
    k = len(p.names)
    n = p.n_obs
    sign, logdet = np.linalg.slogdet(p.r)
    stat = -logdet * (n - 1 - (2 * k + 5) / 6.0)
    df = k * (k - 1) // 2
    return BartlettResult(statistic=float(stat), df=int(df), p_value=float(stats.chi2.sf(stat, df)), n=n, n_items=k)


# ======================================================================= EFA estimation (fits: veplab.factor_analysis._core)
@dataclasses.dataclass(frozen=True)
class EFAResult(Result):
    """Exploratory factor analysis (as ``psych::fa``).

    Scalar fields are the fit statistics; tables: ``loadings`` (pattern,
    items x factors), ``structure`` (``loadings @ phi``), ``communalities``,
    ``uniquenesses``, ``phi`` (factor correlations; ``None`` for orthogonal
    solutions), ``variance`` (SS loadings, proportion, cumulative -- one row
    per factor), ``complexity`` (Hoffman's index), ``residuals``,
    ``eigenvalues`` (of the correlation matrix and of the common-factor
    model), ``correlation`` (the matrix analysed) and ``rotation_matrix``.
    ``rmsea_ci_level`` is the level of the RMSEA interval (as in
    :class:`~veplab.validity.CFAResult`; ``ci`` is its deprecated name).
    """

    method: str
    rotation: str
    n_factors: int
    n_items: int
    n_obs: float
    converged: bool
    objective: float
    chi_square: float
    df: float
    p_value: float
    rmsea: float
    rmsea_ci_low: float
    rmsea_ci_high: float
    rmsea_ci_level: float
    tli: float
    bic: float
    empirical_chi_square: float
    empirical_p_value: float
    rms: float
    crms: float
    fit: float
    fit_off: float
    null_objective: float
    null_chi_square: float
    null_df: float
    loadings: pd.DataFrame = dataclasses.field(repr=False)
    structure: pd.DataFrame = dataclasses.field(repr=False)
    communalities: pd.Series = dataclasses.field(repr=False)
    uniquenesses: pd.Series = dataclasses.field(repr=False)
    phi: pd.DataFrame | None = dataclasses.field(repr=False)
    variance: pd.DataFrame = dataclasses.field(repr=False)
    complexity: pd.Series = dataclasses.field(repr=False)
    residuals: pd.DataFrame = dataclasses.field(repr=False)
    eigenvalues: pd.DataFrame = dataclasses.field(repr=False)
    correlation: pd.DataFrame = dataclasses.field(repr=False)
    rotation_matrix: np.ndarray | None = dataclasses.field(repr=False)
    unrotated_loadings: pd.DataFrame = dataclasses.field(repr=False)

    @property
    def ci(self) -> float:
        """Deprecated: the level of the RMSEA interval, now ``rmsea_ci_level``."""
        warnings.warn("EFAResult.ci is deprecated; use rmsea_ci_level", DeprecationWarning, stacklevel=2)
        return self.rmsea_ci_level

    def loadings_table(self, cut: float | None = None) -> pd.DataFrame:
        """Loadings with communality (h2), uniqueness (u2) and complexity, as psych prints.

        ``cut`` blanks (NaN) loadings whose absolute value is below it.
        """
        t = self.loadings.copy()
        if cut is not None:
            t = t.where(t.abs() >= cut)
        t["h2"] = self.communalities
        t["u2"] = self.uniquenesses
        t["complexity"] = self.complexity
        return t

    def summary(self) -> str:
        rot = self.rotation
        lines = [
            f"Exploratory factor analysis: {self.n_factors} factor(s), method = {self.method}, rotation = {rot}, "
            f"{self.n_items} items, n = {self.n_obs:g}",
            "",
            self.loadings_table().to_string(float_format=lambda v: f"{v:.3f}"),
            "",
            self.variance.T.to_string(float_format=lambda v: f"{v:.3f}"),
        ]
        if self.phi is not None:
            lines += ["", "Factor correlations (Phi):", self.phi.to_string(float_format=lambda v: f"{v:.3f}")]
        lines += [
            "",
            f"Objective {self.objective:.4g}; chi-square = {self.chi_square:.4g} on {self.df:g} df, p = {self.p_value:.3g}",
            f"RMSEA = {self.rmsea:.3f} [{self.rmsea_ci_low:.3f}, {self.rmsea_ci_high:.3f}] ({self.rmsea_ci_level:.0%} CI); "
            f"TLI = {self.tli:.3f}; BIC = {self.bic:.4g}",
            f"RMSR = {self.rms:.3f}; df-corrected RMSR = {self.crms:.3f}; empirical chi-square = "
            f"{self.empirical_chi_square:.4g}, p = {self.empirical_p_value:.3g}",
        ]
        if not self.converged:
            lines.append("WARNING: the estimation did not converge.")
        return "\n".join(lines)

    def plot(self, *, ax: Any = None) -> Any:
        """The scree plot of the eigenvalues: :func:`plot_scree`."""
        return plot_scree(self, ax=ax)


def _ncx2_cdf(q: float, df: float, nc: float) -> float:
    if nc <= 0:
        return float(stats.chi2.cdf(q, df))
    return float(stats.ncx2.cdf(q, df, nc))


def _fa_stats(
    r: np.ndarray, f: np.ndarray, phi: np.ndarray | None, n_obs: float, np_obs: np.ndarray | None, ci: float
) -> dict[str, float]:
    """psych's ``fa.stats`` (the parts it prints)."""
    n = r.shape[0]
    nf = f.shape[1]
    model = f @ f.T if phi is None else f @ phi @ f.T
    residual = r - model
    r2 = float(np.sum(r * r))
    rstar2 = float(np.sum(residual * residual))
    dof = n * (n - 1) / 2 - n * nf + nf * (nf - 1) / 2
    out: dict[str, float] = {"df": dof}
    r2_off = r2 - float(np.trace(r))
    res_off = residual.copy()
    np.fill_diagonal(res_off, 0.0)
    if np_obs is None:
        rstar_off = float(np.sum(res_off**2))
        chi = rstar_off * n_obs
        rms = np.sqrt(rstar_off / (n * (n - 1)))
        nh = n_obs
        crms = np.sqrt(rstar_off / (2 * dof)) if dof > 0 else np.nan
    else:
        rstar_off = float(np.sum(res_off**2 * np_obs))
        r2o = r * r * np_obs
        r2_off = float(np.sum(r2o) - np.trace(r2o))
        chi = rstar_off
        nh = stats.hmean(np_obs.ravel())
        rms = np.sqrt(rstar_off / (nh * n * (n - 1)))
        crms = np.sqrt(rstar_off / (2 * nh * dof)) if dof > 0 else np.nan
    out["empirical_chi_square"] = chi
    out["empirical_p_value"] = float(stats.chi2.sf(chi, dof)) if dof > 0 else np.nan
    out["rms"] = float(rms)
    out["crms"] = float(crms)
    out["fit"] = 1 - rstar2 / r2
    out["fit_off"] = 1 - rstar_off / r2_off
    m = model.copy()
    np.fill_diagonal(m, np.diag(r))
    m, _ = cor_smooth(m)
    rs, _ = cor_smooth(r)
    try:
        minvr = np.linalg.solve(m, rs)
        sign, logdet = np.linalg.slogdet(minvr)
        objective = float(np.trace(minvr) - logdet - n) if sign > 0 else float("inf")
    except np.linalg.LinAlgError:
        objective = float("inf")
    if not np.isfinite(objective):
        objective = rstar2
    out["objective"] = objective
    sign0, logdet0 = np.linalg.slogdet(rs)
    F0 = float(np.trace(rs) - logdet0 - n) if sign0 > 0 else r2
    out["null_objective"] = F0
    out["null_df"] = n * (n - 1) / 2
    nan = float("nan")
    chisq = nan
    for key in ("chi_square", "p_value", "rmsea", "rmsea_ci_low", "rmsea_ci_high", "tli", "bic", "null_chi_square"):
        out[key] = nan
    if np.isfinite(n_obs):
        chisq = objective * ((n_obs - 1) - (2 * n + 5) / 6 - (2 * nf) / 3)
        if chisq < 0:
            chisq = 0.0
        out["chi_square"] = chisq
        out["p_value"] = float(stats.chi2.sf(chisq, dof)) if dof > 0 else nan
        Mm = objective / dof if dof != 0 else nan
        M0 = F0 * 2 / (n * (n - 1))
        nm = (n_obs - 1) - (2 * n + 5) / 6 - (2 * nf) / 3
        out["null_chi_square"] = F0 * ((n_obs - 1) - (2 * n + 5) / 6)
        out["tli"] = (M0 - Mm) / (M0 - 1 / nm)
        if dof > 0:
            rmsea = np.sqrt(max(chisq / (dof * n_obs) - 1 / (n_obs - 1), 0.0))
            tail = (1 - ci) / 2
            upper_bracket = max(n_obs, chisq) + 2 * n_obs
            pc = float(stats.chi2.cdf(chisq, dof))
            lo = hi = 0.0
            if pc > tail:
                try:
                    root = optimize.brentq(lambda x: _ncx2_cdf(chisq, dof, x) - tail, 0.0, upper_bracket, xtol=1e-12)
                    hi = np.sqrt(root / (n_obs - 1) / dof)
                except ValueError:
                    hi = 0.0 if rmsea <= 0 else nan
            if pc > 1 - tail:
                try:
                    root = optimize.brentq(lambda x: _ncx2_cdf(chisq, dof, x) - 1 + tail, 0.0, upper_bracket, xtol=1e-12)
                    lo = np.sqrt(root / (n_obs - 1) / dof)
                except ValueError:
                    lo = nan
            if np.isfinite(hi) and hi < rmsea:
                hi = nan
            if np.isfinite(lo) and lo > rmsea:
                lo = nan
            out["rmsea"] = float(rmsea)
            out["rmsea_ci_low"] = float(lo)
            out["rmsea_ci_high"] = float(hi)
            out["bic"] = chisq - dof * np.log(n_obs)
    return out


def efa(
    items: pd.DataFrame,
    n_factors: int = 1,
    *,
    method: Literal["minres", "ml", "pa"] = "minres",
    rotation: Literal["oblimin", "promax", "varimax"] | None = "oblimin",
    missing: Literal["pairwise", "listwise"] = "pairwise",
    corr: Literal["pearson", "polychoric"] | None = None,
    n_obs: int | None = None,
    smooth: bool = False,
    rmsea_ci: float = 0.90,
    max_iter: int = 1000,
    ci: float | None = None,
) -> EFAResult:
    """Exploratory factor analysis, matching ``psych::fa``.

    Parameters
    ----------
    items
        Item responses (one column per item) -- or a correlation matrix
        (square, symmetric, unit diagonal, index equal to columns) together
        with ``n_obs``.
    n_factors
        Number of factors (``nfactors``).
    method
        ``"minres"`` (psych's default, minimum residual / unweighted least
        squares), ``"ml"`` (maximum likelihood) or ``"pa"`` (iterated
        principal axis, psych's ``fm = "pa"``: SMC start, stops when the sum of
        communalities changes by at most 0.001, at most 50 passes).
    rotation
        ``"oblimin"`` (psych's default; ``GPArotation::oblimin``),
        ``"promax"`` (Kaiser-normalised, m = 4), ``"varimax"``
        (``stats::varimax``) or ``None`` (unrotated).
    missing
        ``"pairwise"`` (psych's ``use = "pairwise"``) or ``"listwise"``.
        With pairwise correlations ``n_obs`` is the number of rows (as
        psych); the empirical chi-square weights each residual by the number
        of rows answering both items.
    corr
        ``"pearson"`` (default) or ``"polychoric"`` for ordinal items
        (``psych::fa(cor = "poly")``; see :func:`~veplab.factor_analysis.correlations`).
    n_obs
        Sample size when a correlation matrix is given.
    smooth
        Smooth a non-positive-definite correlation matrix (``psych::cor.smooth``)
        instead of raising.
    rmsea_ci
        Level of the RMSEA interval (psych's default ``alpha = .1``: 90%), as
        :func:`~veplab.factor_analysis.confirmatory`'s ``rmsea_ci``.
    max_iter
        Iteration limit of the optimiser.
    ci
        Deprecated name of ``rmsea_ci`` (``ci`` is a level of parameter
        intervals elsewhere in veplab); still accepted, with a ``DeprecationWarning``.

    Returns
    -------
    EFAResult
        loadings, communalities, uniquenesses, ``phi``, ``variance`` and the
        fit statistics psych prints.

    Warns
    -----
    UserWarning
        Heywood cases (items whose uniqueness reaches its lower bound 0.005,
        i.e. communality >= .995, or whose communality exceeds 1), naming the
        items; non-convergence, saying what to try; more factors than the
        data identify (negative degrees of freedom).

    Notes
    -----
    The model is ``R = L Phi L' + Psi`` (``p`` items, ``k`` factors, ``Psi``
    diagonal).  minres minimises the off-diagonal residuals (ML and principal
    axis: module docstring); the fit statistics are psych's ``fa.stats``, with
    ``M`` the fitted matrix ``L Phi L'`` given the diagonal of ``R``::

        F_minres = sum_{i<j} (r_ij - (L Phi L')_ij)^2
        F = tr(M^-1 R) - log det(M^-1 R) - p
        chi2 = (n - 1 - (2p + 5)/6 - 2k/3) F,  df = ((p - k)^2 - p - k) / 2
        RMSEA = sqrt(max(chi2 / (n df) - 1 / (n - 1), 0))

    References
    ----------
    Harman HH, Jones WH (1966). Factor analysis by minimizing residuals (minres).
    Psychometrika 31, 351-368.
    Joreskog KG (1967). Some contributions to maximum likelihood factor analysis.
    Psychometrika 32, 443-482.
    Bartlett MS (1951). The effect of standardization on a chi square approximation in
    factor analysis. Biometrika 38, 337-344.
    Tucker LR, Lewis C (1973). A reliability coefficient for maximum likelihood factor
    analysis. Psychometrika 38, 1-10.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research. R package version 2.2.9.
    Agrees with R ``psych::fa`` (``fm = "minres"``, ``"ml"``, ``"pa"``; rotations
    ``"oblimin"``, ``"promax"``, ``"varimax"``, ``"none"``; tests/reference/validity_efa.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> f = rng.standard_normal((400, 2))
    >>> lam = np.array([[.8, 0], [.7, 0], [.6, 0], [0, .8], [0, .7], [0, .6]])
    >>> x = pd.DataFrame(f @ lam.T + rng.standard_normal((400, 6)) * .6, columns=list("abcdef"))
    >>> fit = efa(x, 2, rotation="varimax")
    >>> fit.loadings.shape
    (6, 2)
    >>> fit.communalities.round(2).tolist()
    [0.6, 0.57, 0.53, 0.67, 0.58, 0.53]
    >>> round(fit.chi_square, 2), fit.df, round(fit.p_value, 3)
    (3.8, 4.0, 0.434)
    """
    what = "efa"
    check_choice(method, "method", ("minres", "ml", "pa"))
    if rotation is not None and rotation != "none":
        check_choice(rotation, "rotation", ("oblimin", "promax", "varimax", None))
    rotation_name = "none" if rotation in (None, "none") else str(rotation)
    if ci is not None:
        warnings.warn(
            f"{what}: ci= is deprecated; the level of the RMSEA interval is rmsea_ci= (as in cfa)",
            DeprecationWarning,
            stacklevel=2,
        )
        rmsea_ci = ci
    rmsea_ci = check_ci(rmsea_ci)
    try:
        nf = int(n_factors)
    except (TypeError, ValueError):
        raise InputError(f"{what}: n_factors must be a positive integer, got {n_factors!r}") from None
    if nf != n_factors or nf < 1:
        raise InputError(f"{what}: n_factors must be a positive integer, got {n_factors!r}")
    prep = _prepare(items, what=what, missing=missing, corr=corr, n_obs=n_obs, smooth=smooth, min_items=3)
    r, names = prep.r, prep.names
    p = len(names)
    if nf >= p:
        raise InputError(f"{what}: n_factors = {nf} needs more than {nf} items; got {p} items")
    dof = p * (p - 1) / 2 - p * nf + nf * (nf - 1) / 2
    if dof < 0:
        warnings.warn(
            f"{what}: {nf} factors for {p} items leave {dof:g} degrees of freedom -- the model is not "
            "identified and fit statistics are undefined. Use fewer factors or more items.",
            UserWarning,
            stacklevel=2,
        )

    pa_values = None
    if method == "pa":
        try:
            L, pa_values, n_pass, converged = core.principal_axis(r, nf)
        except ValueError:
            raise InputError(
                f"{what}: principal-axis factoring met a negative eigenvalue among the first {nf} of the "
                "reduced correlation matrix (psych: 'imaginary eigen value'); use method='minres' or fewer "
                "factors"
            ) from None
        psi = np.diag(r) - np.sum(L**2, axis=1)
        if not converged:
            warnings.warn(
                f"{what}: principal-axis factoring did not settle in {n_pass} passes (psych: 'maximum "
                "iteration exceeded'); the communalities are approximate. Try method='minres'.",
                RuntimeWarning,
                stacklevel=2,
            )
    else:
        psi, res = core.fit_uniquenesses(r, nf, method, max_iter)
        converged = bool(res.success) or core.projected_gradient(psi, res.jac, r) < 1e-5
    if method != "pa" and not converged:
        reason = "iteration limit reached" if res.nit >= max_iter else "the line search failed"
        warnings.warn(
            f"{what}: the {method} estimation did not converge ({reason}; largest projected gradient "
            f"{core.projected_gradient(psi, res.jac, r):.2g}). Try fewer factors, "
            f"method='{'minres' if method == 'ml' else 'ml'}', a larger max_iter, or check for "
            "near-redundant items.",
            RuntimeWarning,
            stacklevel=2,
        )
    if method == "minres":
        L = core.principal_loadings(psi, r, nf)
    elif method == "ml":
        L = core.ml_loadings(psi, r, nf)
    # psych: reflect so that column sums are positive; exact zeros -> 1e-15
    signs = core.reflect(L)
    L = L * signs
    L[L == 0] = 1e-15
    model = L @ L.T
    communality = np.diag(model).copy()
    reduced = r.copy()
    np.fill_diagonal(reduced, communality)
    # psych's "values": for principal axis those of the last reduced matrix it factored
    values = np.sort(np.linalg.eigvalsh(reduced))[::-1] if pa_values is None else pa_values
    e_values = np.sort(np.linalg.eigvalsh(r))[::-1]
    unrotated = L.copy()

    phi = None
    rot_mat = None
    if rotation_name != "none" and nf > 1:
        rr = _rotate(L, rotation_name)
        L = rr.loadings.to_numpy()
        rot_mat = rr.rotation_matrix
        phi = None if rr.phi is None else rr.phi.to_numpy()
    signs = core.reflect(L)
    L = L * signs
    if phi is not None:
        phi = phi * np.outer(signs, signs)
    if rot_mat is not None:
        rot_mat = rot_mat * signs[None, :]
    if nf > 1:
        ev = np.diag(phi @ L.T @ L) if phi is not None else np.sum(L**2, axis=0)
        order = np.argsort(-ev, kind="stable")
        L = L[:, order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]
        if rot_mat is not None:
            rot_mat = rot_mat[:, order]
    prefix = {"minres": "MR", "ml": "ML", "pa": "PA"}[method]
    fnames = [f"{prefix}{j + 1}" for j in range(nf)]

    fs = _fa_stats(r, L, phi, prep.n_obs, prep.np_obs, rmsea_ci)

    uniq = np.diag(r - model)
    vx = np.diag(phi @ L.T @ L) if phi is not None else np.sum(L**2, axis=0)
    vtotal = float(np.sum(communality + uniq))
    variance = pd.DataFrame(
        {
            "ss_loadings": vx,
            "proportion_var": vx / vtotal,
            "cumulative_var": np.cumsum(vx / vtotal),
            "proportion_explained": vx / vx.sum(),
            "cumulative_proportion": np.cumsum(vx / vx.sum()),
        },
        index=pd.Index(fnames, name="factor"),
    )
    complexity = np.sum(L**2, axis=1) ** 2 / np.sum(L**4, axis=1)
    structure = L @ phi if phi is not None else L.copy()
    model_rot = L @ L.T if phi is None else L @ phi @ L.T

    heywood = [names[i] for i in range(p) if psi[i] <= _PSI_LOWER * (1 + 1e-6) or communality[i] >= 1.0]
    if heywood:
        warnings.warn(
            f"{what}: Heywood case -- items {heywood} have communality >= 1 (uniqueness at its bound "
            f"{_PSI_LOWER}); the solution is improper. Try fewer factors, method='minres', dropping or "
            "merging near-duplicate items, or a larger sample.",
            UserWarning,
            stacklevel=2,
        )

    return EFAResult(
        method=method,
        rotation=rotation_name,
        n_factors=nf,
        n_items=p,
        n_obs=prep.n_obs,
        converged=converged,
        objective=fs["objective"],
        chi_square=fs["chi_square"],
        df=fs["df"],
        p_value=fs["p_value"],
        rmsea=fs["rmsea"],
        rmsea_ci_low=fs["rmsea_ci_low"],
        rmsea_ci_high=fs["rmsea_ci_high"],
        rmsea_ci_level=rmsea_ci,
        tli=fs["tli"],
        bic=fs["bic"],
        empirical_chi_square=fs["empirical_chi_square"],
        empirical_p_value=fs["empirical_p_value"],
        rms=fs["rms"],
        crms=fs["crms"],
        fit=fs["fit"],
        fit_off=fs["fit_off"],
        null_objective=fs["null_objective"],
        null_chi_square=fs["null_chi_square"],
        null_df=fs["null_df"],
        loadings=pd.DataFrame(L, index=names, columns=fnames),
        structure=pd.DataFrame(structure, index=names, columns=fnames),
        communalities=pd.Series(communality, index=names, name="h2"),
        uniquenesses=pd.Series(uniq, index=names, name="u2"),
        phi=None if phi is None else pd.DataFrame(phi, index=fnames, columns=fnames),
        variance=variance,
        complexity=pd.Series(complexity, index=names, name="complexity"),
        residuals=pd.DataFrame(r - model_rot, index=names, columns=names),
        eigenvalues=pd.DataFrame(
            {"correlation": e_values, "common_factor": values},
            index=pd.RangeIndex(1, p + 1, name="factor"),
        ),
        correlation=pd.DataFrame(r, index=names, columns=names),
        rotation_matrix=rot_mat,
        unrotated_loadings=pd.DataFrame(unrotated, index=names, columns=[f"{prefix}{j + 1}" for j in range(nf)]),
    )


# ======================================================================= alignment
def align_loadings(
    loadings: pd.DataFrame | np.ndarray, target: pd.DataFrame | np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Reorder and reflect the factors of ``loadings`` to best match ``target``.

    Factors are matched by maximum total absolute Tucker congruence (Hungarian
    assignment) and reflected so matched congruences are positive.  Returns
    ``(aligned, order, signs)`` with ``aligned = loadings[:, order] * signs``;
    apply the same to a factor correlation matrix with
    ``phi[np.ix_(order, order)] * np.outer(signs, signs)``.

    Use it to compare solutions whose factor order or signs are arbitrary
    (different software, bootstrap replicates).  Tucker's congruence of
    factor ``a`` of ``loadings`` with factor ``b`` of ``target``::

        phi(a, b) = sum_i x_ia y_ib / sqrt(sum_i x_ia^2 sum_i y_ib^2)

    Raises
    ------
    InputError
        The two loading matrices have different shapes.

    References
    ----------
    Tucker LR (1951). A method for synthesis of factor analysis studies. Personnel Research
    Section Report No. 984, Department of the Army, Washington DC.
    Lorenzo-Seva U, ten Berge JMF (2006). Tucker's congruence coefficient as a meaningful
    index of factor similarity. Methodology 2, 57-64.
    Kuhn HW (1955). The Hungarian method for the assignment problem. Naval Research
    Logistics Quarterly 2, 83-97 (``scipy.optimize.linear_sum_assignment``).
    The congruences are those of R ``psych::factor.congruence``.

    Examples
    --------
    >>> import numpy as np
    >>> target = np.array([[.8, 0], [.7, .1], [0, .6], [.1, .7]])
    >>> flipped = -target[:, ::-1]          # factors swapped and reflected
    >>> aligned, order, signs = align_loadings(flipped, target)
    >>> order.tolist(), signs.tolist(), bool(np.allclose(aligned, target))
    ([1, 0], [-1.0, -1.0], True)
    """
    a = np.asarray(loadings, dtype=float)
    b = np.asarray(target, dtype=float)
    if a.shape != b.shape:
        raise InputError(f"align_loadings: shapes differ, {a.shape} vs {b.shape}")
    na = np.sqrt(np.sum(a**2, axis=0))
    nb = np.sqrt(np.sum(b**2, axis=0))
    cong = (a.T @ b) / np.outer(na, nb)  # (k_a, k_b)
    rows, cols = linear_sum_assignment(-np.abs(cong))
    order = np.empty(b.shape[1], dtype=int)
    order[cols] = rows
    signs = np.sign(cong[order, np.arange(b.shape[1])])
    signs[signs == 0] = 1
    aligned = a[:, order] * signs
    if isinstance(target, pd.DataFrame):
        out = pd.DataFrame(aligned, index=target.index, columns=target.columns)
    elif isinstance(loadings, pd.DataFrame):
        out = pd.DataFrame(aligned, index=loadings.index, columns=[loadings.columns[i] for i in order])
    else:
        out = pd.DataFrame(aligned)
    return out, order, signs


# ======================================================================= parallel analysis
def _reduced_eigenvalues(S: np.ndarray, nf: int = 1) -> np.ndarray:
    """Eigenvalues of each matrix with the minres communalities on the diagonal (fa.parallel's fa values)."""
    load, _, _ = core.minres_batch(S, nf)
    h2 = np.sum(load**2, axis=2)
    R = S.copy()
    idx = np.arange(S.shape[1])
    R[:, idx, idx] = h2
    return np.sort(np.linalg.eigvalsh(R), axis=1)[:, ::-1]


@dataclasses.dataclass(frozen=True)
class ParallelAnalysisResult(Result):
    """Parallel analysis (``psych::fa.parallel``).

    ``table`` has one row per factor/component number with the observed
    eigenvalues (``pc_observed``: of the correlation matrix; ``fa_observed``:
    of the correlation matrix with one-factor minres communalities on the
    diagonal, as psych computes them) and the mean and quantile of the same
    eigenvalues over ``n_iter`` simulated normal data sets of the same size.
    ``n_factors`` / ``n_components``: the number of leading observed
    eigenvalues larger than the simulated benchmark (the quantile, or the mean
    when ``quantile`` is None).
    """

    n_factors: int | None
    n_components: int | None
    n_iter: int
    quantile: float | None
    n_obs: int
    n_items: int
    fa: str
    seed: int | None
    table: pd.DataFrame = dataclasses.field(repr=False)

    def summary(self) -> str:
        bench = "mean" if self.quantile is None else f"{self.quantile:.0%} quantile"
        head = (
            f"Parallel analysis ({self.n_iter} simulated data sets of {self.n_obs} x {self.n_items}, "
            f"benchmark: {bench}): suggests {self.n_factors if self.n_factors is not None else '-'} factor(s) and "
            f"{self.n_components if self.n_components is not None else '-'} component(s)"
        )
        return head + "\n" + self.table.to_string(float_format=lambda v: f"{v:.3f}")

    def plot(self, *, ax: Any = None) -> Any:
        """Observed eigenvalues against the simulated benchmark: :func:`plot_scree`."""
        return plot_scree(self, ax=ax)


def _first_not_above(observed: np.ndarray, bench: np.ndarray) -> int:
    above = observed > bench
    if above.all():
        return len(observed)
    return int(np.argmin(above))


def parallel_analysis(
    items: pd.DataFrame,
    *,
    n_iter: int = 20,
    fa: Literal["both", "pc", "fa"] = "both",
    quantile: float | None = 0.95,
    missing: Literal["pairwise", "listwise"] = "pairwise",
    corr: Literal["pearson", "polychoric"] | None = None,
    n_obs: int | None = None,
    seed: int | np.random.Generator | None = None,
    chunk_size: int = 100,
) -> ParallelAnalysisResult:
    """Horn's (1965) parallel analysis as ``psych::fa.parallel`` (simulation part).

    Eigenvalues of the observed correlation matrix (principal components) and
    of the reduced matrix with one-factor minres communalities on the
    diagonal (principal factors; psych's default ``SMC = FALSE``) are compared
    with the same eigenvalues of correlation matrices of ``n_iter`` data sets
    of independent standard normal variables with the same numbers of rows
    and items.  The suggested number is the count of leading observed
    eigenvalues that exceed the simulated benchmark.

    psych 2.2.9 uses the ``quant = .95`` quantile of the simulated eigenvalues
    as the benchmark (its printed ``fa.sim`` / ``pc.sim`` columns are the
    means); ``quantile=None`` uses the mean, as in Horn's original proposal.
    psych additionally resamples the observed data; veplab reports the
    simulated-normal benchmark only (psych's suggestion uses it too).

    The simulated correlation matrices are drawn directly: the centred
    cross-product matrix of ``n`` independent standard normal rows is
    Wishart(n - 1, I), sampled by Bartlett's decomposition -- the same
    distribution psych gets by simulating the data, at a cost independent of
    ``n``.  Matrices, eigenvalues and the one-factor minres fits are computed
    in batches of ``chunk_size`` with array operations (the batched minres fit
    of :mod:`veplab.factor_analysis._core`, the one omega's bootstrap uses).

    With ``lambda_j`` the observed eigenvalues in decreasing order and
    ``b_j`` the benchmark (the ``quantile`` of the ``j``-th simulated
    eigenvalue, or their mean)::

        n_factors = min {j : lambda_j <= b_j} - 1

    Returns
    -------
    ParallelAnalysisResult
        ``n_factors``, ``n_components`` and the ``table`` of observed and
        simulated eigenvalues.

    Raises
    ------
    InputError
        ``quantile`` outside (0, 1), ``n_iter`` not a positive integer, a
        correlation matrix without ``n_obs``, or no more rows than items.

    References
    ----------
    Horn JL (1965). A rationale and test for the number of factors in factor analysis.
    Psychometrika 30, 179-185.
    Glorfeld LW (1995). An improvement on Horn's parallel analysis methodology for selecting
    the correct number of factors to retain. Educational and Psychological Measurement 55,
    377-393 (the 95% quantile benchmark).
    Bartlett MS (1933). On the theory of statistical regression. Proceedings of the Royal
    Society of Edinburgh 53, 260-283 (the decomposition of the Wishart matrix).
    Agrees with R ``psych::fa.parallel`` (psych 2.2.9; observed eigenvalues exactly,
    suggested numbers on the simulated benchmark; tests/reference/validity_efa.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> f = rng.standard_normal((400, 2))
    >>> lam = np.array([[.8, 0], [.7, 0], [.6, 0], [0, .8], [0, .7], [0, .6]])
    >>> x = pd.DataFrame(f @ lam.T + rng.standard_normal((400, 6)) * .6, columns=list("abcdef"))
    >>> res = parallel_analysis(x, seed=1)
    >>> res.n_factors, res.n_components
    (2, 2)
    >>> res.table["pc_observed"].round(2).tolist()
    [2.18, 2.13, 0.47, 0.46, 0.4, 0.36]
    """
    what = "parallel_analysis"
    check_choice(fa, "fa", ("both", "pc", "fa"))
    if quantile is not None:
        try:
            quantile = float(quantile)
        except (TypeError, ValueError):
            raise InputError(f"{what}: quantile must be a number between 0 and 1 or None, got {quantile!r}") from None
        if not 0 < quantile < 1:
            raise InputError(f"{what}: quantile must be between 0 and 1 (e.g. 0.95) or None, got {quantile!r}")
    if int(n_iter) != n_iter or n_iter < 1:
        raise InputError(f"{what}: n_iter must be a positive integer, got {n_iter!r}")
    n_iter = int(n_iter)
    prep = _prepare(items, what=what, missing=missing, corr=corr, n_obs=n_obs, smooth=True, min_items=3)
    if not np.isfinite(prep.n_obs):
        raise InputError(f"{what}: pass n_obs with a correlation matrix (the simulated data need a sample size)")
    n = int(prep.n_obs)
    p = len(prep.names)
    if n <= p:
        raise InputError(f"{what}: needs more rows ({n}) than items ({p}) to simulate comparison data")
    gen = make_rng(seed)
    pc_obs = np.sort(np.linalg.eigvalsh(prep.r))[::-1]
    fa_obs = _reduced_eigenvalues(prep.r[None, :, :])[0] if fa != "pc" else np.full(p, np.nan)

    sim_pc = np.empty((n_iter, p))
    sim_fa = np.full((n_iter, p), np.nan)
    done = 0
    chunk = max(1, int(chunk_size))
    tril = np.tril_indices(p, k=-1)
    diag = np.arange(p)
    while done < n_iter:
        b = min(chunk, n_iter - done)
        # The centred cross-product matrix of n independent standard normal rows is
        # Wishart(n - 1, I); draw it directly by Bartlett's decomposition W = A A'
        # (A lower triangular, A_ii^2 ~ chi2(n - 1 - i), A_ij ~ N(0, 1) below the diagonal):
        # the same distribution as simulating the data, at O(p^2) rather than O(n p) cost.
        A = np.zeros((b, p, p))
        A[:, tril[0], tril[1]] = gen.standard_normal((b, len(tril[0])))
        A[:, diag, diag] = np.sqrt(gen.chisquare(n - 1 - diag, size=(b, p)))
        cov = A @ A.transpose(0, 2, 1)
        d = np.sqrt(np.einsum("bii->bi", cov))
        cor = cov / (d[:, :, None] * d[:, None, :])
        sim_pc[done: done + b] = np.sort(np.linalg.eigvalsh(cor), axis=1)[:, ::-1]
        if fa != "pc":
            sim_fa[done: done + b] = _reduced_eigenvalues(cor)
        done += b

    def bench(x: np.ndarray) -> np.ndarray:
        return x.mean(axis=0) if quantile is None else np.quantile(x, quantile, axis=0)

    table = pd.DataFrame(
        {
            "pc_observed": pc_obs,
            "pc_simulated_mean": sim_pc.mean(axis=0),
            "pc_simulated_quantile": np.quantile(sim_pc, quantile, axis=0) if quantile is not None else np.nan,
            "fa_observed": fa_obs,
            "fa_simulated_mean": sim_fa.mean(axis=0),
            "fa_simulated_quantile": np.quantile(sim_fa, quantile, axis=0) if quantile is not None else np.nan,
        },
        index=pd.RangeIndex(1, p + 1, name="factor"),
    )
    n_comp = _first_not_above(pc_obs, bench(sim_pc)) if fa != "fa" else None
    n_fact = _first_not_above(fa_obs, bench(sim_fa)) if fa != "pc" else None
    if fa == "pc":
        table = table[["pc_observed", "pc_simulated_mean", "pc_simulated_quantile"]]
    elif fa == "fa":
        table = table[["fa_observed", "fa_simulated_mean", "fa_simulated_quantile"]]
    if quantile is None:
        table = table[[c for c in table.columns if not c.endswith("_quantile")]]
    return ParallelAnalysisResult(
        n_factors=n_fact,
        n_components=n_comp,
        n_iter=n_iter,
        quantile=quantile,
        n_obs=n,
        n_items=p,
        fa=fa,
        seed=seed if isinstance(seed, int) else None,
        table=table,
    )


def plot_scree(result: ParallelAnalysisResult | EFAResult, ax: Any = None) -> Any:
    """Scree plot: observed eigenvalues against the simulated benchmark.

    For a :class:`ParallelAnalysisResult` draws the observed component and
    factor eigenvalues (solid lines, distinct markers) and the simulated
    benchmarks (dashed / dotted), readable in greyscale; for an
    :class:`EFAResult` the eigenvalues of the correlation matrix and of the
    common-factor model.  Returns the matplotlib Axes.  A grey line marks
    eigenvalue 1 (Kaiser's rule, for reading only).

    Raises
    ------
    InputError
        ``result`` is neither a :class:`ParallelAnalysisResult` nor an :class:`EFAResult`.

    References
    ----------
    Cattell RB (1966). The scree test for the number of factors. Multivariate Behavioral
    Research 1, 245-276.
    Horn JL (1965). A rationale and test for the number of factors in factor analysis.
    Psychometrika 30, 179-185.
    The plot R ``psych::fa.parallel`` draws (observed and simulated eigenvalues).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> f = rng.standard_normal((400, 2))
    >>> lam = np.array([[.8, 0], [.7, 0], [.6, 0], [0, .8], [0, .7], [0, .6]])
    >>> x = pd.DataFrame(f @ lam.T + rng.standard_normal((400, 6)) * .6, columns=list("abcdef"))
    >>> ax = plot_scree(parallel_analysis(x, n_iter=5, seed=1))
    >>> ax.get_ylabel(), [line.get_label() for line in ax.get_lines()][:2]
    ('Eigenvalue', ['components: observed', 'components: simulated (95% quantile)'])
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    if isinstance(result, ParallelAnalysisResult):
        t = result.table
        x = t.index.to_numpy()
        bench = "mean" if result.quantile is None else "quantile"
        btxt = "mean" if result.quantile is None else f"{result.quantile:.0%} quantile"
        if "pc_observed" in t:
            ax.plot(x, t["pc_observed"], color="black", marker="x", linestyle="-", label="components: observed")
            ax.plot(x, t[f"pc_simulated_{bench}"], color="0.4", linestyle="--", label=f"components: simulated ({btxt})")
        if "fa_observed" in t:
            ax.plot(x, t["fa_observed"], color="black", marker="^", linestyle="-", markerfacecolor="white",
                    label="factors: observed")
            ax.plot(x, t[f"fa_simulated_{bench}"], color="0.4", linestyle=":", label=f"factors: simulated ({btxt})")
        ax.set_title("Parallel analysis scree plot")
    elif isinstance(result, EFAResult):
        t = result.eigenvalues
        x = t.index.to_numpy()
        ax.plot(x, t["correlation"], color="black", marker="x", label="correlation matrix")
        ax.plot(x, t["common_factor"], color="0.4", marker="^", linestyle="--", markerfacecolor="white",
                label="common-factor model")
        ax.set_title("Scree plot")
    else:
        raise InputError(f"plot_scree: expected a ParallelAnalysisResult or EFAResult, got {type(result).__name__}")
    ax.axhline(1.0, color="0.7", linewidth=0.8)
    ax.set_xlabel("Factor / component number")
    ax.set_ylabel("Eigenvalue")
    ax.set_xticks(x)
    ax.legend(frameon=False, fontsize="small")
    return ax
