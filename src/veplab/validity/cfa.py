"""Confirmatory factor analysis and measurement invariance (lavaan-compatible).

:func:`cfa` fits a confirmatory factor model written in lavaan's model syntax
(see :mod:`veplab.validity.lavaan_syntax`) by maximum likelihood, with the
defaults of ``lavaan::cfa`` (lavaan 0.6): marker-variable identification (the
first loading of each factor fixed to 1) unless ``std_lv=True``; factor
covariances free; ``estimator = "ML"`` with ``likelihood = "normal"`` (the
sample covariance matrix divides by *N*, not *N - 1*); standard errors from the
expected information matrix (``se = "standard"``, ``information =
"expected"``, ``h1.information = "structured"``); the standard chi-square test
(``test = "standard"``); listwise deletion, or full-information maximum
likelihood with ``missing="ml"`` (see *Missing data* below).  With ``group=`` the model is fitted
in every group with a mean structure (free intercepts, latent means fixed to 0;
with equal intercepts the latent means of groups 2, 3, ... are freed, as lavaan
does), and ``equal=`` takes lavaan's ``group.equal`` names.

:func:`invariance` fits the usual sequence configural -> metric -> scalar
(-> strict) and compares consecutive models with the chi-square difference
test (``lavaan::lavTestLRT`` for standard ML) and the changes in CFI and RMSEA.

The model
---------
For group *g* with observed variables *y* (p of them) and factors *eta* (m)::

    y = nu + Lambda eta + eps,   Cov(eta) = Psi,  E(eta) = alpha,  Cov(eps) = Theta
    Sigma(theta) = Lambda Psi Lambda' + Theta,    mu(theta) = nu + Lambda alpha

and the ML discrepancy minimised is ``F = sum_g (N_g / N) F_g`` with::

    F_g = log|Sigma| + tr(S Sigma^-1) - log|S| - p + (ybar - mu)' Sigma^-1 (ybar - mu)

(the mean part only with a mean structure).  It is minimised by Fisher scoring
(Gauss-Newton steps with the expected information and step halving), with
``scipy.optimize.minimize`` (L-BFGS-B, analytic gradient) as a fallback.  The
test statistic is ``chisq = sum_g N_g F_g``; the standard errors are the square
roots of the diagonal of ``(sum_g N_g Delta_g' W_g Delta_g)^-1`` with
``W_g = [Sigma^-1 (means), 1/2 D'(Sigma^-1 (x) Sigma^-1) D (covariances)]``.
Equality constraints (shared labels, ``equal=``) are imposed by
reparametrisation (one free parameter per equality set), which gives the same
estimates and standard errors as lavaan's constrained information matrix.

Fit measures follow lavaan's ``fitMeasures``: baseline (independence) model
with free means and variances in every group; CFI and TLI (Bentler 1990;
Tucker & Lewis 1973); RMSEA ``sqrt(max(chisq/N/df - 1/N, 0)) * sqrt(G)`` with
its 90% interval and the test of close fit (RMSEA <= .05) (Steiger 1990;
Browne & Cudeck 1993); SRMR as lavaan's ``srmr`` (= ``srmr_bentler``: residual
covariances and, with a mean structure, mean residuals, scaled by the sample
standard deviations, root mean square, weighted by N_g/N); log-likelihood, AIC,
BIC and sample-size adjusted BIC.

Missing data (FIML, ``missing="ml"``)
-------------------------------------
As ``lavaan::cfa(..., missing = "ml")`` (aliases ``"fiml"``, ``"direct"``):
rows missing every indicator are dropped (with a warning, as lavaan), rows
without a group value too; every other row contributes the likelihood of its
observed values (Arbuckle 1996; Enders 2010, ch. 4).  Rows are grouped by
missing-data pattern P (observed variables o, n_P rows, their mean ybar_P and
covariance S_P dividing by n_P), so for group g::

    logL_g = sum_P -n_P/2 [ p_o log(2 pi) + log|Sigma_oo|
                            + tr(Sigma_oo^-1 (S_P + d_P d_P')) ],   d_P = ybar_P - mu_o

A mean structure is always fitted (lavaan sets ``meanstructure = TRUE``).  The
saturated model H1 (free means and covariances per group) is fitted by EM
(Dempster, Laird & Rubin 1977) exactly as lavaan's
``lav_mvnorm_missing_h1_estimate_moments`` (available-case start, stop when no
moment changes by more than 1e-5), which gives ``unrestricted_loglik`` and the
"sample" moments used for starting values and SRMR (``sample_cov`` and
``sample_mean`` are these EM estimates).  The model minimises
``sum_g (N_g/N) F_g`` with ``F_g = 2 (logL_H1,g - logL_g) / N_g``, by Fisher
scoring with the pattern-wise expected information (analytic gradient
``dF_g = [tr(W dSigma) - 2 dmu' u] / N_g``, ``W = sum_P n_P (Sigma_oo^-1 -
Sigma_oo^-1 (S_P + d d') Sigma_oo^-1)``, ``u = sum_P n_P Sigma_oo^-1 d``, both
embedded in p x p) and a trust-region Newton fallback on the exact Hessian.
Then ``chisq = 2 (logL_H1 - logL) = sum_g N_g F_g`` with the usual df.  The
baseline model (free means and variances, zero covariances) is fitted by FIML
too: its likelihood factors by variable, so its estimates are the
available-case means and ML variances in closed form, and ``baseline_chisq =
2 (logL_H1 - logL_baseline)``.  CFI, TLI, RMSEA (N = rows used), logLik, AIC,
BIC and SRMR (EM moments against the implied ones) follow the formulas above,
as lavaan's ``fitMeasures``.  Standard errors use lavaan's default for
``missing = "ml"``: ``information = "observed"`` (``observed.information =
"hessian"``), the inverse of the exact Hessian of ``-logL``.  With no missing
data FIML gives the listwise ML estimates and chi-square; only the standard
errors differ (observed instead of expected information).  FIML is valid when
the data are missing at random given the observed indicators (MAR).

References: Rosseel (2012) lavaan: an R package for structural equation
modeling, J Stat Softw 48(2); Bollen (1989) Structural equations with latent
variables; Jöreskog (1971) Simultaneous factor analysis in several
populations, Psychometrika 36; Chen (2007) Sensitivity of goodness of fit
indexes to lack of measurement invariance, SEM 14(3); Cheung & Rensvold
(2002) SEM 9(2); Putnick & Bornstein (2016) Dev Rev 41; Arbuckle (1996) Full
information estimation in the presence of incomplete data, in Marcoulides &
Schumacker (eds), Advanced structural equation modeling; Enders (2010) Applied
missing data analysis, Guilford; Dempster, Laird & Rubin (1977) JRSS B 39.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from veplab import _optim
from veplab._results import Result
from veplab._validate import InputError, check_ci, check_choice, format_rows, numeric_frame

from .lavaan_syntax import LavaanSyntaxError, ParsedModel, parse_model

__all__ = [
    "cfa",
    "invariance",
    "CFAResult",
    "InvarianceResult",
    "LavaanSyntaxError",
    "EQUAL_NAMES",
    "INVARIANCE_LEVELS",
]

#: lavaan ``group.equal`` names understood by ``equal=``.
EQUAL_NAMES = (
    "loadings",
    "intercepts",
    "means",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
)

#: The cumulative equality constraints of each invariance level.
INVARIANCE_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}

_MAX_ITER = 500
_WHAT = "cfa"


# ---------------------------------------------------------------------------
# parameter table (lavaan's partable, for the measurement-model subset)
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Row:
    id: int  # 1-based, as lavaan's partable id
    lhs: str
    op: str
    rhs: str
    group: int  # 0-based
    user: bool
    free: bool = True
    value: float = math.nan  # fixed value (lavaan ustart) when not free
    start: float = math.nan  # user start value
    label: str = ""  # user label, or lavaan's plabel for equality sets
    eqlabel: str = ""  # lavaan's internal LABEL (who is equal to whom)
    mat: str = ""
    i: int = 0
    j: int = 0
    x: int = -1  # index into the free-parameter vector
    line: int = 0


def _per_group(values: tuple | None, g: int, ngroups: int, where: str) -> Any:
    if values is None:
        return None
    if len(values) == 1:
        return values[0]
    if len(values) != ngroups:
        raise InputError(
            f"{where}: a modifier vector has {len(values)} values but the model has "
            f"{ngroups} group(s); give one value, or one per group"
        )
    return values[g]


def _build_partable(
    parsed: ParsedModel,
    ov: Sequence[str],
    lv: Sequence[str],
    ngroups: int,
    std_lv: bool,
    meanstructure: bool,
    equal: Sequence[str],
    partial: Iterable[str],
) -> list[_Row]:
    lv_set = set(lv)
    ov_index = {v: k for k, v in enumerate(ov)}
    lv_index = {v: k for k, v in enumerate(lv)}

    # USER rows in text order (duplicates ignored, as lavaan does, with a warning)
    user_rows = []
    seen: set[tuple[str, str, str]] = set()
    for r in parsed.rows:
        key = (r.lhs, r.op, r.rhs)
        if key in seen or (r.op == "~~" and (r.rhs, r.op, r.lhs) in seen):
            warnings.warn(
                f"cfa: model line {r.line}: '{r.lhs} {r.op} {r.rhs}' is duplicated; "
                f"the repeat is ignored (as lavaan does)",
                stacklevel=4,
            )
            continue
        seen.add(key)
        user_rows.append(r)
    defaults: list[tuple[str, str, str]] = [(v, "~~", v) for v in ov]
    defaults += [(f, "~~", f) for f in lv]
    defaults += [(lv[a], "~~", lv[b]) for a in range(len(lv)) for b in range(a + 1, len(lv))]
    if meanstructure:
        defaults += [(v, "~1", "") for v in ov] + [(f, "~1", "") for f in lv]
    defaults = [d for d in defaults if d not in seen and (d[2], d[1], d[0]) not in seen]

    template = [(r.lhs, r.op, r.rhs, True, r) for r in user_rows] + [(*d, False, None) for d in defaults]
    rows: list[_Row] = []
    rid = 0
    for g in range(ngroups):
        first_done: set[str] = set()
        for lhs, op, rhs, is_user, src in template:
            rid += 1
            row = _Row(id=rid, lhs=lhs, op=op, rhs=rhs, group=g, user=is_user)
            if src is not None:
                row.line = src.line
            # matrix position
            if op == "=~":
                row.mat, row.i, row.j = "lambda", ov_index[rhs], lv_index[lhs]
            elif op == "~~":
                if lhs in lv_set and rhs in lv_set:
                    row.mat, row.i, row.j = "psi", lv_index[lhs], lv_index[rhs]
                else:
                    row.mat, row.i, row.j = "theta", ov_index[lhs], ov_index[rhs]
            elif op == "~1":
                if lhs in lv_set:
                    row.mat, row.i = "alpha", lv_index[lhs]
                else:
                    row.mat, row.i = "nu", ov_index[lhs]
            # lavaan's automatic fixing (lav_partable_flat)
            if std_lv and op == "~~" and lhs in lv_set and lhs == rhs:
                row.free, row.value = False, 1.0
            if not std_lv and op == "=~" and lhs not in first_done:
                first_done.add(lhs)
                row.free, row.value = False, 1.0
            if op == "~1" and lhs in lv_set and not is_user:
                row.free, row.value = False, 0.0
            if g > 0:
                if (
                    meanstructure
                    and op == "~1"
                    and lhs in lv_set
                    and not is_user
                    and "intercepts" in equal
                    and "means" not in equal
                ):
                    row.free, row.value = True, math.nan
                if (
                    std_lv
                    and op == "~~"
                    and lhs in lv_set
                    and lhs == rhs
                    and not is_user
                    and "loadings" in equal
                    and "lv.variances" not in equal
                ):
                    row.free, row.value = True, math.nan
            # modifiers from the model text
            if src is not None:
                where = f"cfa: model line {src.line} ({src.text!r})"
                fixed = _per_group(src.fixed, g, ngroups, where)
                if src.fixed is not None:
                    if fixed is None:
                        row.free, row.value = True, math.nan
                    else:
                        row.free, row.value = False, float(fixed)
                start = _per_group(src.start, g, ngroups, where)
                if start is not None:
                    row.start = float(start)
                label = _per_group(src.label, g, ngroups, where)
                if label is not None:
                    row.label = label
            rows.append(row)

    if ngroups > 1:
        single = sorted(
            f"{r.lhs} ~ 1" if r.op == "~1" else f"{r.lhs} {r.op} {r.rhs}"
            for r in user_rows
            if r.label is not None and len(r.label) == 1
        )
        if single:
            warnings.warn(
                "cfa: a single label in a multi-group model applies to every group, so these "
                f"parameters are constrained equal across groups: {', '.join(single)}. Use "
                "c(a1, a2, ...) for one label per group if that is not intended (lavaan warns too).",
                stacklevel=4,
            )

    # lavaan's LABEL (lav_partable_labels): who is constrained equal to whom
    partial_set = {p.replace(" ", "") for p in partial}
    group1 = {}
    for r in rows:
        r.eqlabel = f"{r.lhs}{r.op}{r.rhs}" + (f".g{r.group + 1}" if r.group > 0 else "")
        if r.group == 0:
            group1[(r.lhs, r.op, r.rhs)] = r
    if ngroups > 1 and equal:
        for r in rows:
            if r.group == 0:
                continue
            ref = group1.get((r.lhs, r.op, r.rhs))
            if ref is None or f"{ref.lhs}{ref.op}{ref.rhs}" in partial_set:
                continue
            if _equal_category(ref, lv_set) in equal:
                r.eqlabel = ref.eqlabel
    for r in rows:
        if r.label:
            r.eqlabel = r.label
    # equality sets
    sets: dict[str, list[_Row]] = {}
    for r in rows:
        sets.setdefault(r.eqlabel, []).append(r)
    for members in sets.values():
        if len(members) < 2:
            continue
        fixed_members = [m for m in members if not m.free]
        if fixed_members:
            value = fixed_members[0].value
            if any(m.value != value for m in fixed_members):
                warnings.warn(
                    f"cfa: equality constraint on {members[0].eqlabel!r} involves fixed "
                    f"parameters with different values; only the first ({value}) is used "
                    f"(as lavaan does)",
                    stacklevel=4,
                )
            for m in members:
                m.free, m.value = False, value
        else:
            plabel = f".p{members[0].id}."
            for m in members:
                if not m.label:
                    m.label = plabel
    # free-parameter indices (one per equality set)
    xmap: dict[str, int] = {}
    for r in rows:
        if r.free:
            if r.eqlabel not in xmap:
                xmap[r.eqlabel] = len(xmap)
            r.x = xmap[r.eqlabel]
    return rows


def _equal_category(r: _Row, lv_set: set[str]) -> str:
    if r.op == "=~":
        return "loadings"
    if r.op == "~1":
        return "means" if r.lhs in lv_set else "intercepts"
    if r.lhs in lv_set:
        return "lv.variances" if r.lhs == r.rhs else "lv.covariances"
    return "residuals" if r.lhs == r.rhs else "residual.covariances"


# ---------------------------------------------------------------------------
# the model: implied moments, discrepancy, gradient, expected information
# ---------------------------------------------------------------------------


def _trace_products(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """T[a, b] = tr(A_a B_b) for stacks of square matrices (one matrix product)."""
    q = A.shape[0]
    return A.reshape(q, -1) @ np.swapaxes(B, 1, 2).reshape(B.shape[0], -1).T


def _add_second_derivative_terms(
    H: np.ndarray, rows: list[_Row], lam: np.ndarray, psi: np.ndarray, W: np.ndarray,
    u: np.ndarray, meanstructure: bool,
) -> None:
    """Add ``tr(W Sigma_ab) - 2 mu_ab' u`` to H (in place): the Hessian terms from the second
    derivatives of Sigma and mu, non-zero only for loading pairs, loading x factor (co)variance
    and loading x factor mean."""
    kind = np.array([r.mat for r in rows])
    ii = np.array([r.i for r in rows])
    jj = np.array([r.j for r in rows])
    lam_idx = np.flatnonzero(kind == "lambda")
    if lam_idx.size:
        li, lj = ii[lam_idx], jj[lam_idx]
        H[np.ix_(lam_idx, lam_idx)] += 2.0 * psi[np.ix_(lj, lj)] * W[np.ix_(li, li)]
        WL = W @ lam
        for b in np.flatnonzero(kind == "psi"):
            k, l = ii[b], jj[b]
            if k == l:
                val = 2.0 * (lj == k) * WL[li, k]
            else:
                val = 2.0 * ((lj == k) * WL[li, l] + (lj == l) * WL[li, k])
            H[lam_idx, b] += val
            H[b, lam_idx] += val
        if meanstructure:
            for b in np.flatnonzero(kind == "alpha"):
                val = -2.0 * (lj == ii[b]) * u[li]
                H[lam_idx, b] += val
                H[b, lam_idx] += val


class _Model:
    def __init__(
        self,
        rows: list[_Row],
        p: int,
        m: int,
        ngroups: int,
        meanstructure: bool,
        S: list[np.ndarray],
        ybar: list[np.ndarray],
        nobs: list[int],
    ) -> None:
        self.rows = rows
        self.p, self.m, self.G = p, m, ngroups
        self.meanstructure = meanstructure
        self.S, self.ybar, self.nobs = S, ybar, nobs
        self.N = int(sum(nobs))
        self.w = np.array(nobs, dtype=float) / self.N
        self.nx = 1 + max((r.x for r in rows), default=-1)
        self.by_group = [[r for r in rows if r.group == g] for g in range(ngroups)]
        self.free_by_group = [[r for r in rs if r.free] for rs in self.by_group]
        self.logdetS = [2.0 * float(np.sum(np.log(np.diag(linalg.cholesky(s, lower=True))))) for s in S]
        # K_g maps x to the free rows of group g
        self.K = []
        for g in range(ngroups):
            K = np.zeros((len(self.free_by_group[g]), self.nx))
            for a, r in enumerate(self.free_by_group[g]):
                K[a, r.x] = 1.0
            self.K.append(K)

    def matrices(self, x: np.ndarray, g: int) -> tuple[np.ndarray, ...]:
        p, m = self.p, self.m
        lam, theta, psi = np.zeros((p, m)), np.zeros((p, p)), np.zeros((m, m))
        nu, alpha = np.zeros(p), np.zeros(m)
        for r in self.by_group[g]:
            v = x[r.x] if r.free else r.value
            if r.mat == "lambda":
                lam[r.i, r.j] = v
            elif r.mat == "theta":
                theta[r.i, r.j] = theta[r.j, r.i] = v
            elif r.mat == "psi":
                psi[r.i, r.j] = psi[r.j, r.i] = v
            elif r.mat == "nu":
                nu[r.i] = v
            else:
                alpha[r.i] = v
        return lam, theta, psi, nu, alpha

    def implied(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        lam, theta, psi, nu, alpha = self.matrices(x, g)
        sigma = lam @ psi @ lam.T + theta
        mu = nu + lam @ alpha
        return sigma, mu

    def _derivatives(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """d Sigma / d row and d mu / d row for the free rows of group g."""
        lam, theta, psi, nu, alpha = self.matrices(x, g)
        rows = self.free_by_group[g]
        p = self.p
        dS = np.zeros((len(rows), p, p))
        dm = np.zeros((len(rows), p))
        lampsi = lam @ psi
        for a, r in enumerate(rows):
            if r.mat == "lambda":
                col = lampsi[:, r.j]
                dS[a, r.i, :] += col
                dS[a, :, r.i] += col
                dm[a, r.i] = alpha[r.j]
            elif r.mat == "psi":
                li, lj = lam[:, r.i], lam[:, r.j]
                if r.i == r.j:
                    dS[a] = np.outer(li, li)
                else:
                    dS[a] = np.outer(li, lj) + np.outer(lj, li)
            elif r.mat == "theta":
                if r.i == r.j:
                    dS[a, r.i, r.i] = 1.0
                else:
                    dS[a, r.i, r.j] = dS[a, r.j, r.i] = 1.0
            elif r.mat == "nu":
                dm[a, r.i] = 1.0
            else:
                dm[a] = lam[:, r.i]
        if not self.meanstructure:
            dm[:] = 0.0
        return dS, dm

    def discrepancy(self, x: np.ndarray) -> tuple[float, list[float]]:
        """(sum_g w_g F_g, [F_g]); inf when an implied matrix is not positive definite."""
        fs = []
        for g in range(self.G):
            sigma, mu = self.implied(x, g)
            try:
                c = linalg.cho_factor(sigma, lower=True, check_finite=True)
            except (linalg.LinAlgError, ValueError):
                return math.inf, []
            logdet = 2.0 * float(np.sum(np.log(np.diag(c[0]))))
            sinv_s = linalg.cho_solve(c, self.S[g])
            f = logdet + float(np.trace(sinv_s)) - self.logdetS[g] - self.p
            if self.meanstructure:
                d = self.ybar[g] - mu
                f += float(d @ linalg.cho_solve(c, d))
            fs.append(f)
        if not all(np.isfinite(fs)):
            return math.inf, []
        return float(np.dot(self.w, fs)), fs

    def gradient_information(
        self, x: np.ndarray, *, weighted: bool = True, information: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of sum_g w_g F_g and the expected information sum_g c_g K'E_gK.

        ``E_g`` is the per-observation expected information (the Hessian of
        ``F_g / 2``); ``c_g = w_g`` (weighted) or ``N_g`` (for standard errors).
        """
        grad = np.zeros(self.nx)
        info = np.zeros((self.nx, self.nx))
        for g in range(self.G):
            if not self.free_by_group[g]:
                continue
            sigma, mu = self.implied(x, g)
            sinv = linalg.cho_solve(linalg.cho_factor(sigma, lower=True), np.eye(self.p))
            sinv = (sinv + sinv.T) / 2.0
            dS, dm = self._derivatives(x, g)
            d = self.ybar[g] - mu if self.meanstructure else np.zeros(self.p)
            Wm = sinv - sinv @ (self.S[g] + np.outer(d, d)) @ sinv
            q = dS.shape[0]
            dF = dS.reshape(q, -1) @ Wm.ravel() - 2.0 * dm @ (sinv @ d)
            K = self.K[g]
            grad += self.w[g] * (K.T @ dF)
            if information:
                M = np.matmul(sinv, dS)
                E = 0.5 * _trace_products(M, M) + dm @ sinv @ dm.T
                c = self.w[g] if weighted else float(self.nobs[g])
                info += c * (K.T @ E @ K)
        return grad, (info + info.T) / 2.0

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Exact Hessian of sum_g w_g F_g (for the trust-region Newton fallback).

        With W = Sigma^-1 - Sigma^-1 (S + d d') Sigma^-1, M_a = Sigma^-1 dSigma_a,
        A = Sigma^-1 (S + d d') Sigma^-1, d = ybar - mu and u = Sigma^-1 d::

            H_ab = tr(W Sigma_ab) - tr(M_a M_b) + 2 tr(M_b A Sigma_a)
                   + 2 mu_b' Sigma^-1 Sigma_a u + 2 mu_a' Sigma^-1 Sigma_b u
                   + 2 mu_a' Sigma^-1 mu_b - 2 mu_ab' u

        (second derivatives Sigma_ab, mu_ab are non-zero only for loading pairs,
        loading x factor (co)variance and loading x factor mean).
        """
        hess = np.zeros((self.nx, self.nx))
        for g in range(self.G):
            rows = self.free_by_group[g]
            if not rows:
                continue
            lam, theta, psi, nu, alpha = self.matrices(x, g)
            sigma, mu = self.implied(x, g)
            sinv = linalg.cho_solve(linalg.cho_factor(sigma, lower=True), np.eye(self.p))
            sinv = (sinv + sinv.T) / 2.0
            dS, dm = self._derivatives(x, g)
            d = self.ybar[g] - mu if self.meanstructure else np.zeros(self.p)
            u = sinv @ d
            A = sinv @ (self.S[g] + np.outer(d, d)) @ sinv
            W = sinv - A
            M = np.matmul(sinv, dS)
            N = np.matmul(A, dS)
            H = -_trace_products(M, M) + 2.0 * _trace_products(N, M)
            Z = dS @ u  # Sigma_a u
            U = dm @ sinv  # Sigma^-1 mu_b
            T = Z @ U.T
            H += 2.0 * (T + T.T) + 2.0 * U @ dm.T
            _add_second_derivative_terms(H, rows, lam, psi, W, u, self.meanstructure)
            K = self.K[g]
            hess += self.w[g] * (K.T @ H @ K)
        return (hess + hess.T) / 2.0


# ---------------------------------------------------------------------------
# full-information maximum likelihood (missing = "ml")
# ---------------------------------------------------------------------------

_LOG2PI = math.log(2.0 * math.pi)


@dataclasses.dataclass
class _Pattern:
    """Rows of one group sharing a missing-data pattern: their sufficient statistics."""

    obs: np.ndarray  # indices of the observed variables
    n: int
    mean: np.ndarray  # mean of the observed variables
    cov: np.ndarray  # their covariance matrix, divided by n (lavaan's lav_matrix_cov)
    mis: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=int))
    oo: tuple = ()  # np.ix_(obs, obs)

    def __post_init__(self) -> None:
        self.oo = np.ix_(self.obs, self.obs)


def _missing_patterns(arr: np.ndarray) -> list[_Pattern]:
    """Group the rows of ``arr`` (no row entirely missing) by their pattern of observed values."""
    mask = ~np.isnan(arr)
    uniq, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    pats = []
    for k in range(uniq.shape[0]):
        obs = np.flatnonzero(uniq[k])
        block = arr[np.ix_(inverse == k, obs)]
        mean = block.mean(axis=0)
        dev = block - mean
        pats.append(_Pattern(obs=obs, n=block.shape[0], mean=mean, cov=dev.T @ dev / block.shape[0],
                             mis=np.flatnonzero(~uniq[k])))
    return pats


def _fiml_loglik(pats: Sequence[_Pattern], sigma: np.ndarray, mu: np.ndarray) -> float:
    """Observed-data normal log-likelihood (Arbuckle 1996): sum over patterns of

    ``-n_P / 2 [p_P log(2 pi) + log|Sigma_PP| + tr(Sigma_PP^-1 (S_P + d d'))]``, ``d = ybar_P - mu_P``.
    Returns -inf when a Sigma_PP is not positive definite.
    """
    total = 0.0
    for pat in pats:
        o = pat.obs
        try:
            c = _pattern_cholesky(sigma[pat.oo])
        except (linalg.LinAlgError, ValueError):
            return -math.inf
        d = pat.mean - mu[o]
        logdet = 2.0 * float(np.sum(np.log(np.diag(c))))
        quad = float(np.trace(_pattern_solve(c, pat.cov))) + float(d @ _pattern_solve(c, d))
        total += -0.5 * pat.n * (o.size * _LOG2PI + logdet + quad)
    return total


# The pattern loops call LAPACK's Cholesky routines directly: the same calls (dpotrf, lower, unclean; dpotrs)
# and so the same numbers as scipy.linalg.cho_factor / cho_solve, without their per-call argument handling,
# which cost several times the factorisation of a small pattern block (hundreds of patterns per group,
# every likelihood, gradient and Hessian of every fit).
_POTRF = linalg.lapack.dpotrf
_POTRS = linalg.lapack.dpotrs


def _pattern_cholesky(block: np.ndarray) -> np.ndarray:
    """``scipy.linalg.cho_factor(block, lower=True)[0]`` of a float64 pattern block (same errors)."""
    if not np.isfinite(block).all():
        raise ValueError("array must not contain infs or NaNs")
    c, info = _POTRF(block, lower=1, clean=0)
    if info > 0:
        raise linalg.LinAlgError(f"{info}-th leading minor of the array is not positive definite")
    if info < 0:
        raise ValueError(f"LAPACK reported an illegal value in {-info}-th argument on entry to \"POTRF\".")
    return c


def _pattern_solve(c: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``scipy.linalg.cho_solve((c, True), b, check_finite=False)``."""
    x, info = _POTRS(c, b, lower=1)
    if info != 0:
        raise ValueError(f"illegal value in {-info}th argument of internal potrs")
    return x


def _pattern_inverse(block: np.ndarray) -> np.ndarray:
    """``cho_solve(cho_factor(block, lower=True), I, check_finite=False)``, symmetrised."""
    sinv = _pattern_solve(_pattern_cholesky(block), np.eye(block.shape[0]))
    return (sinv + sinv.T) / 2.0


def _available_case_moments(pats: Sequence[_Pattern], p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each variable's available-case mean and ML variance, and its number of observed values."""
    sums, counts = np.zeros(p), np.zeros(p)
    for pat in pats:
        sums[pat.obs] += pat.n * pat.mean
        counts[pat.obs] += pat.n
    mean = sums / counts
    ss = np.zeros(p)
    for pat in pats:
        ss[pat.obs] += pat.n * (np.diag(pat.cov) + (pat.mean - mean[pat.obs]) ** 2)
    return mean, ss / counts, counts


def _em_moments(
    pats: Sequence[_Pattern], p: int, max_iter: int = 500, tol: float = 1e-5
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Saturated (H1) means and covariances by EM, as lavaan's
    ``lav_mvnorm_missing_h1_estimate_moments`` (same start, ridge and stopping rule:
    available-case means and variances to start; stop when no mean or covariance
    changes by more than ``tol``; at most ``max_iter`` iterations).

    Returns (mu, sigma, loglik, iterations).
    """
    N = sum(pat.n for pat in pats)
    mu0, var0, _ = _available_case_moments(pats, p)
    var0[~np.isfinite(var0) | (var0 == 0)] = 1.0
    sigma0 = np.diag(var0)
    mu, sigma = mu0, sigma0
    iu = np.triu_indices(p)
    # the observed part of T1, T2 never changes
    T1_obs, T2_obs = np.zeros(p), np.zeros((p, p))
    parts = []
    for pat in pats:
        m2 = pat.cov + np.outer(pat.mean, pat.mean)  # average second moment of the observed
        T1_obs[pat.obs] += pat.n * pat.mean
        T2_obs[pat.oo] += pat.n * m2
        if pat.mis.size:
            parts.append((pat, m2, np.ix_(pat.mis, pat.obs), np.ix_(pat.obs, pat.mis), np.ix_(pat.mis, pat.mis)))
    it = 0
    for it in range(1, max_iter + 1):
        T1, T2 = T1_obs.copy(), T2_obs.copy()
        for pat, m2, mo, om, mm_ix in parts:
            o, m, nP = pat.obs, pat.mis, pat.n
            s_mo = sigma[mo]
            B = np.linalg.solve(sigma[pat.oo], s_mo.T).T  # regression of missing on observed
            c = mu[m] - B @ mu[o]
            bm = B @ pat.mean
            T1[m] += nP * (bm + c)
            cross = B @ m2 + np.outer(c, pat.mean)
            T2[mo] += nP * cross
            T2[om] += nP * cross.T
            mm = B @ m2 @ B.T + np.outer(bm, c) + np.outer(c, bm) + np.outer(c, c)
            T2[mm_ix] += nP * (mm + sigma[mm_ix] - B @ s_mo.T)
        mu = T1 / N
        sigma = T2 / N - np.outer(mu, mu)
        sigma = (sigma + sigma.T) / 2.0
        if linalg.eigvalsh(sigma).min() < 1e-6:
            sigma[np.diag_indices(p)] += np.max(np.diag(sigma)) * 1e-8
        delta = float(np.max(np.abs(np.concatenate([mu - mu0, sigma[iu] - sigma0[iu]]))))
        if delta < tol:
            break
        mu0, sigma0 = mu, sigma
    return mu, sigma, _fiml_loglik(pats, sigma, mu), it


def _independence_loglik(pats: Sequence[_Pattern], p: int) -> float:
    """Log-likelihood of the baseline (independence) model under FIML.

    With zero covariances the observed-data likelihood factors by variable, so the
    estimates are each variable's available-case mean and (ML) variance.
    """
    _, var, counts = _available_case_moments(pats, p)
    return float(np.sum(-0.5 * counts * (_LOG2PI + np.log(var) + 1.0)))


class _FimlModel(_Model):
    """The CFA model fitted by FIML: ``F_g = 2 (logL_H1,g - logL_g) / N_g`` so that, as for
    complete data, ``chisq = sum_g N_g F_g`` and the optimiser minimises ``sum_g w_g F_g``."""

    def __init__(
        self,
        rows: list[_Row],
        p: int,
        m: int,
        ngroups: int,
        S: list[np.ndarray],
        ybar: list[np.ndarray],
        nobs: list[int],
        patterns: list[list[_Pattern]],
        loglik_h1: list[float],
    ) -> None:
        super().__init__(rows, p, m, ngroups, True, S, ybar, nobs)
        self.patterns = patterns
        self.loglik_h1 = loglik_h1

    def loglik(self, x: np.ndarray) -> list[float]:
        out = []
        for g in range(self.G):
            sigma, mu = self.implied(x, g)
            out.append(_fiml_loglik(self.patterns[g], sigma, mu))
        return out

    def discrepancy(self, x: np.ndarray) -> tuple[float, list[float]]:
        lls = self.loglik(x)
        if not all(math.isfinite(v) for v in lls):
            return math.inf, []
        fs = [2.0 * (h1 - ll) / n for h1, ll, n in zip(self.loglik_h1, lls, self.nobs)]
        return float(np.dot(self.w, fs)), fs

    def gradient_information(
        self, x: np.ndarray, *, weighted: bool = True, information: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of sum_g w_g F_g and the expected (observed-pattern) information.

        Per pattern P (observed variables o): ``W_P = Sigma_oo^-1 - Sigma_oo^-1 (S_P + d d')
        Sigma_oo^-1`` and ``u_P = Sigma_oo^-1 d``; ``dF_g/dtheta_a = [tr(W dSigma_a) -
        2 dmu_a' u] / N_g`` with W, u the sums of ``n_P W_P``, ``n_P u_P`` embedded in p x p.
        The information is ``sum_P n_P [tr(Sigma_oo^-1 dSigma_a Sigma_oo^-1 dSigma_b) / 2
        + dmu_a' Sigma_oo^-1 dmu_b] / N_g`` (the Hessian of ``F_g / 2`` in expectation).
        """
        grad = np.zeros(self.nx)
        info = np.zeros((self.nx, self.nx))
        p = self.p
        for g in range(self.G):
            if not self.free_by_group[g]:
                continue
            sigma, mu = self.implied(x, g)
            dS, dm = self._derivatives(x, g)
            q = dS.shape[0]
            Wt, ut = np.zeros((p, p)), np.zeros(p)
            E = np.zeros((q, q))
            for pat in self.patterns[g]:
                o = pat.obs
                sinv = _pattern_inverse(sigma[pat.oo])
                d = pat.mean - mu[o]
                A = sinv @ (pat.cov + np.outer(d, d)) @ sinv
                Wt[pat.oo] += pat.n * (sinv - A)
                ut[o] += pat.n * (sinv @ d)
                if information:
                    dSo = dS[:, o][:, :, o] if o.size < p else dS
                    M = np.matmul(sinv, dSo)
                    dmo = dm[:, o]
                    E += pat.n * (0.5 * _trace_products(M, M) + dmo @ sinv @ dmo.T)
            ng = float(self.nobs[g])
            dF = (dS.reshape(q, -1) @ Wt.ravel() - 2.0 * dm @ ut) / ng
            K = self.K[g]
            grad += self.w[g] * (K.T @ dF)
            if information:
                c = self.w[g] if weighted else ng
                info += c * (K.T @ (E / ng) @ K)
        return grad, (info + info.T) / 2.0

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """Exact Hessian of sum_g w_g F_g (the observed information, up to N / 2).

        The complete-data formula of :meth:`_Model.hessian` applied to each pattern's
        observed block (``Sigma_oo``, ``mu_o``, ``S_P``, ``ybar_P``), summed with weights
        ``n_P / N_g``; the second-derivative terms are linear in W and u, so they use the
        pattern sums embedded in p x p.
        """
        hess = np.zeros((self.nx, self.nx))
        p = self.p
        for g in range(self.G):
            rows = self.free_by_group[g]
            if not rows:
                continue
            lam, theta, psi, nu, alpha = self.matrices(x, g)
            sigma, mu = self.implied(x, g)
            dS, dm = self._derivatives(x, g)
            q = dS.shape[0]
            H = np.zeros((q, q))
            Wt, ut = np.zeros((p, p)), np.zeros(p)
            for pat in self.patterns[g]:
                o = pat.obs
                sinv = _pattern_inverse(sigma[pat.oo])
                d = pat.mean - mu[o]
                u = sinv @ d
                A = sinv @ (pat.cov + np.outer(d, d)) @ sinv
                dSo = dS[:, o][:, :, o] if o.size < p else dS
                dmo = dm[:, o]
                M = np.matmul(sinv, dSo)
                Nm = np.matmul(A, dSo)
                Hp = -_trace_products(M, M) + 2.0 * _trace_products(Nm, M)
                T = (dSo @ u) @ (dmo @ sinv).T
                Hp += 2.0 * (T + T.T) + 2.0 * (dmo @ sinv) @ dmo.T
                H += pat.n * Hp
                Wt[pat.oo] += pat.n * (sinv - A)
                ut[o] += pat.n * u
            ng = float(self.nobs[g])
            H /= ng
            _add_second_derivative_terms(H, rows, lam, psi, Wt / ng, ut / ng, True)
            K = self.K[g]
            hess += self.w[g] * (K.T @ H @ K)
        return (hess + hess.T) / 2.0

    def hessian_numeric(self, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
        """Hessian by differencing the analytic gradient (lavaan's lav_model_hessian:
        four-point central differences with step 1e-6); used to check :meth:`hessian`."""
        return _optim.hessian_from_gradient(
            lambda v: self.gradient_information(v, information=False)[0], x, delta=h, points=4
        )

# ---------------------------------------------------------------------------
# starting values (lavaan-like: simple one-factor loadings, half the variances)
# ---------------------------------------------------------------------------


def _one_factor_raw(s: np.ndarray) -> np.ndarray:
    k = s.shape[0]
    sd = np.sqrt(np.diag(s))
    if k == 1:
        return np.array([math.sqrt(0.5) * sd[0]])
    if k == 2:
        a = math.sqrt(abs(s[0, 1]))
        return np.array([a, a if s[0, 1] >= 0 else -a])
    r = s / np.outer(sd, sd)
    try:
        smc = 1.0 - 1.0 / np.diag(linalg.cho_solve(linalg.cho_factor(r, lower=True), np.eye(k)))
    except (linalg.LinAlgError, ValueError):
        smc = np.full(k, 0.5)
    smc = np.clip(smc, 0.05, 0.95)
    reduced = r.copy()
    np.fill_diagonal(reduced, smc)
    vals, vecs = linalg.eigh(reduced)
    lam = math.sqrt(max(vals[-1], 1e-4)) * vecs[:, -1]
    if lam.sum() < 0:
        lam = -lam
    return lam * sd


def _fabin(s: np.ndarray) -> tuple[np.ndarray, float]:
    """lavaan's one-factor starting values (lav_cfa_1fac_fabin / _3ind), marker first.

    Returns (lambda with lambda[0] = 1, psi); psi is NaN when only loadings are
    computed (four or more indicators), as lavaan's ``lambda.only``.
    """
    k = s.shape[0]
    if k < 4:
        if k == 1:
            return np.array([1.0]), float(s[0, 0])
        if k == 2:
            extra = np.array([np.mean(np.diag(s)), s[1, 0]])
            s = np.block([[s, extra[:, None]], [extra[None, :], np.array([[np.max(np.diag(s))]])]])
        s21, s31, s32 = s[1, 0], s[2, 0], s[2, 1]
        if s21 * s31 * s32 < 0 or s31 == 0 or s21 == 0 or s32 == 0:
            return np.ones(k), math.nan
        psi = s21 * s31 / s32
        lower = 0.1 * s[0, 0]
        psi = min(max(psi, lower), s[0, 0])
        b2, b3 = math.sqrt(s[1, 1] / lower), math.sqrt(s[2, 2] / lower)
        lam = np.array([1.0, min(max(-b2, s32 / s31), b2), min(max(-b3, s32 / s21), b3)])
        return lam[:k], (psi / 2.0 if k == 2 else psi)
    lam = np.ones(k)
    lower = 0.1 * s[0, 0]
    for i in range(1, k):
        idx3 = [j for j in range(k) if j not in (0, i)]
        s23 = s[i, idx3]
        s31 = s[idx3, 0]
        try:
            tmp = linalg.solve(s[np.ix_(idx3, idx3)], s31, assume_a="pos")
            val = float(s23 @ tmp) / float(s31 @ tmp)
        except (linalg.LinAlgError, ValueError, ZeroDivisionError):
            val = float(s23 @ s31) / float(s31 @ s31)
        bound = math.sqrt(s[i, i] / lower)
        lam[i] = min(max(-bound, val), bound) if math.isfinite(val) else 1.0
    return lam, math.nan


def _start_values(model: _Model, lv: Sequence[str], method: str = "lavaan") -> np.ndarray:
    """Starting values: ``"lavaan"`` mimics lavaan's defaults (fabin3 loadings, factor
    variances 0.05, residual variances half the observed); ``"pa"`` takes loadings and
    factor variances from a one-factor principal-axis step per factor."""
    values: dict[int, list[float]] = {}

    def put(r: _Row, v: float) -> None:
        if r.free:
            values.setdefault(r.x, []).append(v)

    for g in range(model.G):
        rows = model.by_group[g]
        S = model.S[g]
        for k, f in enumerate(lv):
            ind = [r for r in rows if r.op == "=~" and r.lhs == f]
            idx = [r.i for r in ind]
            raw = _one_factor_raw(S[np.ix_(idx, idx)])
            var_row = next((r for r in rows if r.mat == "psi" and r.i == k and r.j == k), None)
            ref = next((a for a, r in enumerate(ind) if not r.free and r.value != 0.0), None)
            var_fixed = var_row is not None and not var_row.free and var_row.value > 0
            if method == "lavaan":
                fab, fpsi = _fabin(S[np.ix_(idx, idx)])
                if var_fixed:  # std.lv-like: loadings scaled by sqrt(psi), as lavaan
                    if not math.isfinite(fpsi):
                        fpsi = _one_factor_raw(S[np.ix_(idx, idx)])[0] ** 2
                    lam = fab * math.copysign(math.sqrt(abs(fpsi) / var_row.value), fpsi)
                    psi = var_row.value
                else:
                    c = ind[ref].value / fab[ref] if ref is not None and fab[ref] != 0 else 1.0
                    lam, psi = fab * c, 0.05
                for a, r in enumerate(ind):
                    put(r, float(lam[a]))
                if var_row is not None:
                    put(var_row, float(psi))
                continue
            if ref is not None and abs(raw[ref]) > 1e-8:
                c = ind[ref].value
                lam = raw * c / raw[ref]
                psi = (raw[ref] / c) ** 2
            elif var_fixed:
                psi = var_row.value
                lam = raw / math.sqrt(psi)
            else:
                psi, lam = 1.0, raw
            for a, r in enumerate(ind):
                put(r, float(lam[a]))
            if var_row is not None:
                put(var_row, float(psi))
        for r in rows:
            if r.mat == "theta":
                put(r, 0.5 * S[r.i, r.i] if r.i == r.j else 0.0)
            elif r.mat == "psi" and r.i != r.j:
                put(r, 0.0)
            elif r.mat == "nu":
                put(r, float(model.ybar[g][r.i]))
            elif r.mat == "alpha":
                put(r, 0.0)
    for r in model.rows:  # user start() values win
        if r.free and not math.isnan(r.start):
            values[r.x] = [r.start]
    x0 = np.zeros(model.nx)
    for k in range(model.nx):
        x0[k] = float(np.mean(values[k])) if k in values else 0.0
    return x0


# ---------------------------------------------------------------------------
# optimisation
# ---------------------------------------------------------------------------


def _fisher_scoring(
    model: _Model, x0: np.ndarray, max_iter: int = _MAX_ITER
) -> tuple[np.ndarray, bool, int]:
    """Fisher scoring (Newton steps on the expected information) with step halving; gives
    up early when the steps stall, where the expected information is a poor model of the
    surface (typically a Heywood case or a ridge) and the trust-region Newton method takes over."""

    def grad_info(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad, info = model.gradient_information(x)
        return grad, 2.0 * info

    return _optim.newton(lambda x: model.discrepancy(x)[0], grad_info, x0, max_iter=max_iter)


def _scaled_gradient(model: _Model, x: np.ndarray) -> float:
    grad, info = model.gradient_information(x)
    s = np.sqrt(np.clip(np.diag(2.0 * info), 1e-300, None))
    return float(np.max(np.abs(grad / s))) if grad.size else 0.0


def _trust_newton(model: _Model, x0: np.ndarray, max_iter: int = 300) -> tuple[np.ndarray, int]:
    """Trust-region Newton (scipy 'trust-exact') with the exact analytic Hessian.

    Parameters are scaled by the square roots of the diagonal of the expected information
    so the trust region is sensible whatever the units of the items.
    """
    _, info = model.gradient_information(x0)
    return _optim.trust_newton(
        lambda x: model.discrepancy(x)[0],
        lambda x: model.gradient_information(x, information=False)[0],
        model.hessian,
        x0,
        scale=np.sqrt(np.clip(np.diag(2.0 * info), 1e-12, None)),
        max_iter=max_iter,
    )


def _optimise(model: _Model, x0: np.ndarray) -> tuple[np.ndarray, bool, int]:
    """Fisher scoring; trust-region Newton when scoring stalls; convergence checked on
    the gradient scaled by the expected information."""
    if model.nx == 0:
        return x0, True, 0
    x, ok, it = _fisher_scoring(model, x0, max_iter=200)
    if ok:
        return x, True, it
    start = x if math.isfinite(model.discrepancy(x)[0]) else x0
    x1, it1 = _trust_newton(model, start, max_iter=100)
    x2, ok2, it2 = _fisher_scoring(model, x1, max_iter=20)
    if not ok2 or model.discrepancy(x2)[0] > model.discrepancy(x1)[0]:
        x2 = x1
    return x2, _scaled_gradient(model, x2) < 1e-7, it + it1 + it2


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CFAResult(Result):
    """A fitted confirmatory factor model (see :func:`cfa`).

    Scalar fields are lavaan's ``fitMeasures`` (names in snake case:
    ``rmsea_pvalue`` is the test of close fit, lavaan's ``rmsea.pvalue``;
    ``srmr`` is lavaan's ``srmr`` = ``srmr_bentler``); ``parameters`` is
    lavaan's ``parameterEstimates(fit, standardized = TRUE)`` with the
    ``std.all`` column as ``std_all``.  ``missing`` is ``"listwise"`` or
    ``"ml"`` (FIML); ``n_patterns`` the number of missing-data patterns per
    group (1 per group for listwise fits).
    """

    chisq: float
    df: int
    pvalue: float
    baseline_chisq: float
    baseline_df: int
    baseline_pvalue: float
    cfi: float
    tli: float
    rmsea: float
    rmsea_ci_low: float
    rmsea_ci_high: float
    rmsea_pvalue: float
    srmr: float
    srmr_nomean: float
    loglik: float
    unrestricted_loglik: float
    aic: float
    bic: float
    sabic: float
    npar: int
    n: int
    ngroups: int
    n_dropped: int
    converged: bool
    iterations: int
    estimator: str
    std_lv: bool
    meanstructure: bool
    ci: float
    rmsea_ci_level: float
    parameters: pd.DataFrame = dataclasses.field(repr=False)
    group_sizes: pd.Series = dataclasses.field(repr=False)
    implied_cov: dict = dataclasses.field(repr=False)
    implied_mean: dict = dataclasses.field(repr=False)
    sample_cov: dict = dataclasses.field(repr=False)
    sample_mean: dict = dataclasses.field(repr=False)
    model: str = dataclasses.field(repr=False, default="")
    equal: tuple[str, ...] = ()
    partial: tuple[str, ...] = ()
    group: str | None = None
    notes: tuple[str, ...] = ()
    missing: str = "listwise"
    n_patterns: tuple[int, ...] = ()

    FIT_MEASURES = (
        "npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "baseline_pvalue",
        "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high", "rmsea_pvalue", "srmr",
        "srmr_nomean", "loglik", "unrestricted_loglik", "aic", "bic", "sabic", "n",
    )

    def fit_measures(self) -> pd.Series:
        """The fit measures as a Series (lavaan ``fitMeasures`` in snake case)."""
        return pd.Series({k: getattr(self, k) for k in self.FIT_MEASURES}, name="value")

    @property
    def loadings(self) -> pd.DataFrame:
        """The ``=~`` rows of :attr:`parameters`."""
        return self.parameters[self.parameters["op"] == "=~"].reset_index(drop=True)

    def summary(self) -> str:
        lines = [
            f"Confirmatory factor analysis ({self.estimator}, lavaan-compatible)",
            f"  N = {self.n}" + (f" in {self.ngroups} groups ({self.group}): "
                                  + ", ".join(f"{k} {v}" for k, v in self.group_sizes.items())
                                  if self.ngroups > 1 else "")
            + (f"; {self.n_dropped} rows dropped (listwise)" if self.n_dropped and self.missing != "ml" else ""),
        ]
        if self.missing == "ml":
            lines.append(
                f"  missing data: FIML (missing = 'ml'), {sum(self.n_patterns)} missing-data patterns"
                + (f"; {self.n_dropped} rows dropped (no indicator observed, or no group)" if self.n_dropped else "")
                + "; standard errors from the observed information")
        if self.equal:
            lines.append(f"  equal across groups: {', '.join(self.equal)}")
        if not self.converged:
            lines.append("  WARNING: the optimiser did not converge; do not interpret these numbers")
        lines += [
            f"  chi-square({self.df}) = {self.chisq:.3f}, p = {self.pvalue:.4g}; "
            f"{self.npar} free parameters",
            f"  CFI = {self.cfi:.3f}, TLI = {self.tli:.3f}",
            f"  RMSEA = {self.rmsea:.3f} ({self.rmsea_ci_level:.0%} CI {self.rmsea_ci_low:.3f} to "
            f"{self.rmsea_ci_high:.3f}), p(RMSEA <= .05) = {self.rmsea_pvalue:.3f}",
            f"  SRMR = {self.srmr:.3f}",
            f"  logLik = {self.loglik:.3f}, AIC = {self.aic:.3f}, BIC = {self.bic:.3f}",
            "",
            "Parameter estimates",
        ]
        cols = ["lhs", "op", "rhs"] + (["group_label"] if self.ngroups > 1 else []) + [
            "label", "est", "se", "z", "pvalue", "ci_low", "ci_high", "std_all"]
        table = self.parameters[cols].rename(columns={"group_label": "group"})
        lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        lines.append(f"({self.ci:.0%} Wald intervals; fixed parameters have se = 0, as in lavaan)")
        for note in self.notes:
            lines.append(f"Note: {note}")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class InvarianceResult(Result):
    """Measurement invariance sequence (see :func:`invariance`).

    ``table`` has one row per model; ``fits`` maps each level to its
    :class:`CFAResult`.  ``to_frame()`` returns the table.
    """

    group: str
    n: int
    ngroups: int
    table: pd.DataFrame = dataclasses.field(repr=False)
    fits: dict = dataclasses.field(repr=False)
    guidance: str = ""

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        cols = ["model", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "delta_chisq",
                "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "verdict"]
        return "\n".join([
            f"Measurement invariance across {self.group!r} ({self.ngroups} groups, N = {self.n})",
            self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            self.guidance,
        ])


# ---------------------------------------------------------------------------
# fit measures (lavaan's formulas)
# ---------------------------------------------------------------------------


def _pchisq(x: float, df: float, ncp: float) -> float:
    if ncp <= 0.0:
        return float(stats.chi2.cdf(x, df))
    return float(stats.ncx2.cdf(x, df, ncp))


def _rmsea(chisq: float, df: float, n: float, G: int) -> float:
    if df <= 0:
        return 0.0
    return math.sqrt(max(chisq / n / df - 1.0 / n, 0.0)) * math.sqrt(G)


def _rmsea_ci(chisq: float, df: float, n: float, G: int, level: float) -> tuple[float, float]:
    """lavaan's lav_fit_rmsea_ci: noncentrality interval inverted to RMSEA."""
    upper_p, lower_p = 1.0 - (1.0 - level) / 2.0, (1.0 - level) / 2.0

    def lower_fun(lam: float) -> float:
        return _pchisq(chisq, df, lam) - upper_p

    def upper_fun(lam: float) -> float:
        return _pchisq(chisq, df, lam) - lower_p

    if df < 1 or lower_fun(0.0) < 0:
        lo = 0.0
    else:
        if lower_fun(chisq) < 0:
            lam_l = optimize.brentq(lower_fun, 0.0, chisq, xtol=1e-12, rtol=1e-12)
        else:
            lam_l = chisq
        lo = math.sqrt(lam_l / (n * df)) * math.sqrt(G)
    n_rmsea = max(n, chisq * 4.0)
    if df < 1 or upper_fun(n_rmsea) > 0 or upper_fun(0.0) < 0:
        hi = 0.0
    else:
        lam_u = optimize.brentq(upper_fun, 0.0, n_rmsea, xtol=1e-12, rtol=1e-12)
        hi = math.sqrt(lam_u / (n * df)) * math.sqrt(G)
    return lo, hi


def _cfi(x2: float, df: float, x2b: float, dfb: float) -> float:
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x2b - dfb, 0.0)
    if math.isclose(t1, 0.0, abs_tol=1.5e-8) and math.isclose(t2, 0.0, abs_tol=1.5e-8):
        return 1.0
    return 1.0 - t1 / t2


def _tli(x2: float, df: float, x2b: float, dfb: float) -> float:
    t1 = (x2 - df) * dfb
    t2 = (x2b - dfb) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------


def _check_model_names(parsed: ParsedModel, columns: Sequence[str], group: str | None) -> None:
    lv = set(parsed.latent)
    for r in parsed.rows:
        if r.op == "=~" and r.rhs in lv:
            raise InputError(
                f"cfa: model line {r.line}: latent {r.rhs!r} is an indicator of {r.lhs!r} "
                f"(a second-order factor); cfa() fits first-order measurement models only"
            )
        if r.op == "~~" and ((r.lhs in lv) != (r.rhs in lv)):
            raise InputError(
                f"cfa: model line {r.line}: '{r.lhs} ~~ {r.rhs}' mixes a latent and an observed "
                f"variable; covariances are between two latents or between two indicators"
            )
    indicators = {r.rhs for r in parsed.rows if r.op == "=~"}
    stray = [v for v in parsed.observed if v not in indicators]
    if stray:
        raise InputError(
            f"cfa: {stray} appear in the model but are indicators of no latent variable; "
            f"add them to a '=~' line or drop them from the model"
        )
    cols = {str(c) for c in columns}
    missing = [v for v in parsed.observed if v not in cols]
    if missing:
        shown = ", ".join(map(str, list(columns)[:20])) + (" ..." if len(columns) > 20 else "")
        raise InputError(
            f"cfa: the model names variables that are not columns of the data: {missing}. "
            f"Check the spelling (the data has: {shown})"
        )
    if group is not None and group in parsed.observed:
        raise InputError(f"cfa: the group column {group!r} is also an indicator in the model")


def _check_identification(rows: list[_Row], ov: Sequence[str], lv: Sequence[str], ngroups: int) -> None:
    for g in range(ngroups):
        grows = [r for r in rows if r.group == g]
        for k, f in enumerate(lv):
            ind = [r for r in grows if r.op == "=~" and r.lhs == f]
            var_row = next(r for r in grows if r.mat == "psi" and r.i == k and r.j == k)
            has_scale = any(not r.free and r.value != 0 for r in ind) or not var_row.free
            tied = any(
                r.free and any(o.x == r.x and o.group != g for o in rows) for r in ind
            )
            if not has_scale and not tied:
                raise InputError(
                    f"cfa: latent {f!r} has no scale (not identified): all its loadings and its "
                    f"variance are free. Fix one loading ('{f} =~ 1*{ind[0].rhs} + ...'), fix its "
                    f"variance ('{f} ~~ 1*{f}'), or use std_lv=True"
                )
            if len(ind) == 1:
                item = ind[0].rhs
                resid = next(r for r in grows if r.mat == "theta" and r.i == ind[0].i and r.j == ind[0].i)
                loads_elsewhere = sum(1 for r in grows if r.op == "=~" and r.rhs == item) > 1
                if resid.free and not loads_elsewhere and (ind[0].free or var_row.free):
                    raise InputError(
                        f"cfa: latent {f!r} has a single indicator ({item!r}) with a free residual "
                        f"variance: not identified. Add indicators, or fix the residual variance "
                        f"(e.g. '{item} ~~ 0*{item}', which makes {f!r} equal to {item!r}; lavaan "
                        f"does this silently, veplab asks you to say so)"
                    )


def _group_moments(
    X: pd.DataFrame, groups: pd.Series | None, ov: Sequence[str]
) -> tuple[list[Any], list[np.ndarray], list[np.ndarray], list[int]]:
    p = len(ov)
    if groups is None:
        labels: list[Any] = [None]
        parts = [X]
    else:
        labels = list(pd.unique(groups))
        parts = [X[groups == lab] for lab in labels]
    S, ybar, nobs = [], [], []
    for lab, part in zip(labels, parts):
        where = "the data" if lab is None else f"group {lab!r}"
        n = len(part)
        if n < p + 1:
            raise InputError(
                f"cfa: {where} has n = {n} complete cases for {p} observed variables; the sample "
                f"covariance matrix needs n >= {p + 1} (and far more for a stable factor model). "
                + ("Merge small groups or drop this group." if lab is not None else "Collect more data.")
            )
        arr = part.to_numpy(dtype=float)
        mean = arr.mean(axis=0)
        dev = arr - mean
        cov = dev.T @ dev / n  # lavaan likelihood = "normal": divide by N
        const = [ov[k] for k in range(p) if cov[k, k] <= 1e-12 * max(1.0, abs(mean[k]) ** 2)]
        if const:
            raise InputError(
                f"cfa: in {where}, variable(s) {const} are constant (no variance); drop them "
                f"from the model" + (" or drop this group" if lab is not None else "")
            )
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
        vals, vecs = linalg.eigh(corr)
        if vals[0] < 1e-10:
            v = vecs[:, 0]
            involved = [ov[k] for k in np.argsort(-np.abs(v)) if abs(v[k]) > 0.1]
            raise InputError(
                f"cfa: the sample covariance matrix of {where} is singular (not positive "
                f"definite): variables {involved} are linearly dependent (e.g. a duplicated item "
                f"or a total score). Drop one of them"
            )
        S.append(cov)
        ybar.append(mean)
        nobs.append(n)
    return labels, S, ybar, nobs


def _group_moments_fiml(
    X: pd.DataFrame, groups: pd.Series | None, ov: Sequence[str]
) -> tuple[list[Any], list[np.ndarray], list[np.ndarray], list[int], list[list[_Pattern]], list[float], list[float]]:
    """Per group: EM (H1) covariance and mean, N_g, missing-data patterns, H1 and
    independence log-likelihoods (rows missing every indicator already removed)."""
    p = len(ov)
    if groups is None:
        labels: list[Any] = [None]
        parts = [X]
    else:
        labels = list(pd.unique(groups))
        parts = [X[groups == lab] for lab in labels]
    S, ybar, nobs, pats_all, h1, base = [], [], [], [], [], []
    for lab, part in zip(labels, parts):
        where = "the data" if lab is None else f"group {lab!r}"
        arr = part.to_numpy(dtype=float)
        counts = (~np.isnan(arr)).sum(axis=0)
        few = [f"{ov[k]} ({counts[k]})" for k in range(p) if counts[k] < 2]
        if few:
            raise InputError(
                f"cfa: in {where}, variable(s) {few} have fewer than 2 observed values; FIML cannot "
                f"estimate their mean and variance. Drop them from the model"
                + (" or drop this group" if lab is not None else "")
            )
        n = arr.shape[0]
        if n < p + 1:
            raise InputError(
                f"cfa: {where} has n = {n} rows for {p} observed variables; the saturated model "
                f"needs n >= {p + 1} (and far more for a stable factor model). "
                + ("Merge small groups or drop this group." if lab is not None else "Collect more data.")
            )
        pats = _missing_patterns(arr)
        var_ac = np.array([np.nanvar(arr[:, k]) for k in range(p)])
        mean_ac = np.nanmean(arr, axis=0)
        const = [ov[k] for k in range(p) if var_ac[k] <= 1e-12 * max(1.0, abs(mean_ac[k]) ** 2)]
        if const:
            raise InputError(
                f"cfa: in {where}, variable(s) {const} are constant (no variance among the observed "
                f"values); drop them from the model" + (" or drop this group" if lab is not None else "")
            )
        together = (~np.isnan(arr)).astype(float)
        cover = together.T @ together
        never = [(ov[a], ov[b]) for a in range(p) for b in range(a + 1, p) if cover[a, b] == 0]
        if never:
            raise InputError(
                f"cfa: in {where}, these pairs of variables are never observed together, so their "
                f"covariance is not estimable: {never[:10]}{' ...' if len(never) > 10 else ''}. "
                f"Drop one variable of each pair or collect data with both"
            )
        mu, sigma, ll, _ = _em_moments(pats, p)
        sd = np.sqrt(np.diag(sigma))
        vals, vecs = linalg.eigh(sigma / np.outer(sd, sd))
        if vals[0] < 1e-10:
            v = vecs[:, 0]
            involved = [ov[k] for k in np.argsort(-np.abs(v)) if abs(v[k]) > 0.1]
            raise InputError(
                f"cfa: the EM-estimated covariance matrix of {where} is singular (not positive "
                f"definite): variables {involved} are linearly dependent (e.g. a duplicated item "
                f"or a total score), or too few rows observe them together. Drop one of them"
            )
        S.append(sigma)
        ybar.append(mu)
        nobs.append(n)
        pats_all.append(pats)
        h1.append(ll)
        base.append(_independence_loglik(pats, p))
    return labels, S, ybar, nobs, pats_all, h1, base


def _normalise_missing(missing: str) -> str:
    """"listwise", or "ml" for lavaan's FIML names "ml", "fiml", "direct" (any case)."""
    key = missing.lower() if isinstance(missing, str) else missing
    if key in ("ml", "fiml", "direct"):
        return "ml"
    if key == "listwise":
        return "listwise"
    raise InputError(
        f"cfa: missing must be 'listwise' (drop incomplete rows) or 'ml' (full-information "
        f"maximum likelihood; aliases 'fiml', 'direct'); got {missing!r}"
    )


def _normalise_equal(equal: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(equal, str):
        equal = (equal,)
    out = []
    for e in equal:
        if e not in EQUAL_NAMES:
            raise InputError(
                f"cfa: unknown equal= name {e!r}; use lavaan group.equal names: "
                f"{', '.join(EQUAL_NAMES)}"
            )
        out.append(e)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------


def cfa(
    data: pd.DataFrame,
    model: str,
    *,
    group: str | None = None,
    equal: str | Sequence[str] = (),
    partial: str | Sequence[str] = (),
    std_lv: bool = False,
    estimator: str = "ML",
    missing: str = "listwise",
    meanstructure: bool | str = "default",
    ci: float = 0.95,
    rmsea_ci: float = 0.90,
) -> CFAResult:
    """Confirmatory factor analysis by maximum likelihood, as ``lavaan::cfa``.

    Parameters
    ----------
    data : DataFrame
        One row per respondent; the model's indicators as numeric columns.
    model : str
        lavaan model syntax (``f =~ x1 + x2 + x3``; ``~~``; ``~ 1``; fixed
        values ``0*``, labels ``a*``, ``NA*``; see
        :mod:`veplab.validity.lavaan_syntax`).
    group : str, optional
        Column defining groups for a multi-group model (lavaan ``group=``).
        Groups are taken in order of first appearance in the data, as lavaan
        does.
    equal : names
        lavaan ``group.equal``: any of ``"loadings"``, ``"intercepts"``,
        ``"means"``, ``"residuals"``, ``"residual.covariances"``,
        ``"lv.variances"``, ``"lv.covariances"``.
    partial : names
        lavaan ``group.partial``: parameters exempt from ``equal``, written
        as lavaan does (``"f=~x2"``, ``"x3~1"``).
    std_lv : bool
        Fix factor variances to 1 and free all loadings (lavaan ``std.lv``).
        With ``equal`` containing ``"loadings"``, factor variances in groups
        2, 3, ... are freed, as lavaan does.
    estimator : {"ML"}
        Normal-theory maximum likelihood (lavaan ``estimator = "ML"``).
    missing : {"listwise", "ml"}
        ``"listwise"``: rows with a missing indicator (or group) are dropped,
        with a warning saying how many.  ``"ml"`` (aliases ``"fiml"``,
        ``"direct"``; lavaan's ``missing = "ml"``): full-information maximum
        likelihood on every row with at least one indicator observed (rows
        missing every indicator, or the group, are dropped with a warning);
        always with a mean structure, standard errors from the observed
        information, the H1 model by EM (see the module docstring).  Valid
        when data are missing at random given the observed indicators.
    meanstructure : "default" or bool
        ``"default"``: a mean structure when ``group`` is given or the model
        has ``~ 1`` terms, as lavaan.
    ci : float
        Level of the Wald intervals of the parameters (lavaan ``level``).
    rmsea_ci : float
        Level of the RMSEA interval (lavaan's default 0.90).

    Returns
    -------
    CFAResult
        Fit measures as fields, ``n`` (rows used), ``n_dropped``,
        ``missing`` ("listwise" or "ml"), ``n_patterns`` (missing-data
        patterns per group), ``parameters`` (lhs, op, rhs, group,
        group_label, label, free, est, se, z, pvalue, ci_low, ci_high,
        std_all) like lavaan's ``parameterEstimates(fit, standardized =
        TRUE)``, implied and sample moments per group.

    A latent variable may share its name with a column of the data (e.g. a
    scale score); the name on the left of ``=~`` always means the latent.
    For a saturated model (df = 0) the chi-square p-value and the RMSEA
    close-fit p-value are undefined (NaN), as in lavaan.

    Warns when a residual variance is negative (a Heywood case), when the
    latent covariance matrix is not positive definite, when there are fewer
    than 5 cases per free parameter, and when the optimiser does not converge.

    Example
    -------
    >>> fit = cfa(df, "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6")  # doctest: +SKIP
    >>> fit.cfi, fit.rmsea, fit.parameters.query("op == '=~'")  # doctest: +SKIP
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"cfa: data must be a pandas DataFrame, got {type(data).__name__}")
    ci = check_ci(ci)
    rmsea_ci = check_ci(rmsea_ci)
    check_choice(estimator, "estimator", ("ML",))
    missing = _normalise_missing(missing)
    if meanstructure not in ("default", True, False):
        raise InputError(f"cfa: meanstructure must be 'default', True or False; got {meanstructure!r}")
    equal_t = _normalise_equal(equal)
    partial_t = (partial,) if isinstance(partial, str) else tuple(partial)
    parsed = parse_model(model)
    if group is not None and group not in data.columns:
        raise InputError(f"cfa: group column {group!r} is not in the data")
    if group is None and (equal_t or partial_t):
        raise InputError("cfa: equal= and partial= need group= (they constrain parameters across groups)")
    _check_model_names(parsed, [str(c) for c in data.columns], group)
    ov, lv = list(parsed.observed), list(parsed.latent)
    if not lv:
        raise InputError("cfa: the model defines no latent variable; write 'factor =~ item1 + item2 + ...'")
    has_int = any(r.op == "~1" for r in parsed.rows)
    fiml = missing == "ml"
    if fiml and meanstructure is False:
        raise InputError(
            "cfa: missing='ml' (FIML) needs a mean structure (lavaan sets meanstructure = TRUE); "
            "drop meanstructure=False"
        )
    ms = (group is not None or has_int or fiml) if meanstructure == "default" else bool(meanstructure)
    if not ms and has_int:
        raise InputError("cfa: the model has '~ 1' terms but meanstructure=False")
    if not ms and any(e in equal_t for e in ("intercepts", "means")):
        raise InputError("cfa: equal intercepts or means need a mean structure (meanstructure=True)")

    col_of = {str(c): c for c in data.columns}
    X = numeric_frame(data[[col_of[v] for v in ov]], what=_WHAT)
    X.columns = ov
    notes: list[str] = []
    groups = None
    if fiml:
        keep = pd.Series(True, index=X.index)
        if group is not None:
            no_group = data[group].isna().to_numpy()
            if no_group.any():
                msg = (f"dropped {int(no_group.sum())} of {len(X)} rows with a missing group "
                       f"({group!r}) value: {format_rows(list(X.index[no_group]))}")
                warnings.warn(f"cfa: {msg}", stacklevel=2)
                notes.append(msg)
            keep &= ~no_group
        empty = (X.isna().all(axis=1) & keep).to_numpy()
        if empty.any():
            msg = (f"dropped {int(empty.sum())} of {len(X)} rows missing every indicator (FIML "
                   f"cannot use them; lavaan drops them too): {format_rows(list(X.index[empty]))}")
            warnings.warn(f"cfa: {msg}", stacklevel=2)
            notes.append(msg)
        keep &= ~empty
    else:
        keep = X.notna().all(axis=1)
        if group is not None:
            keep &= data[group].notna()
    n_dropped = int((~keep).sum())
    if n_dropped and not fiml:
        msg = (f"dropped {n_dropped} of {len(X)} rows with missing values (listwise deletion: "
               f"{format_rows(list(X.index[~keep]))})")
        warnings.warn(f"cfa: {msg}", stacklevel=2)
        notes.append(msg)
    X = X[keep]
    if group is not None:
        groups = data.loc[keep, group]
    if fiml:
        labels, S, ybar, nobs, patterns, h1_ll, base_ll = _group_moments_fiml(X, groups, ov)
    else:
        labels, S, ybar, nobs = _group_moments(X, groups, ov)
        patterns = [[_Pattern(obs=np.arange(len(ov)), n=n, mean=m, cov=s)] for n, m, s in zip(nobs, ybar, S)]
    G = len(labels)
    if group is not None and G < 2:
        raise InputError(f"cfa: group column {group!r} has a single group ({labels[0]!r}); drop group=")

    rows = _build_partable(parsed, ov, lv, G, std_lv, ms, equal_t, partial_t)
    _check_identification(rows, ov, lv, G)
    p = len(ov)
    pstar = p * (p + 1) // 2 + (p if ms else 0)
    if fiml:
        mdl: _Model = _FimlModel(rows, p, len(lv), G, S, ybar, nobs, patterns, h1_ll)
    else:
        mdl = _Model(rows, p, len(lv), G, ms, S, ybar, nobs)
    npar = mdl.nx
    df = G * pstar - npar
    if df < 0:
        raise InputError(
            f"cfa: the model has {npar} free parameters but only {G * pstar} sample moments "
            f"(df = {df}): not identified. Fix or constrain parameters, or add indicators"
        )
    N = mdl.N
    if N < 5 * npar:
        msg = (f"N = {N} is less than 5 cases per free parameter ({npar} parameters); estimates, "
               f"standard errors and fit indices may be unstable")
        warnings.warn(f"cfa: {msg}", stacklevel=2)
        notes.append(msg)

    x, converged, iterations = _optimise(mdl, _start_values(mdl, lv, "lavaan"))
    if not converged:  # try again from principal-axis starting values; keep the better fit
        x2, converged2, it2 = _optimise(mdl, _start_values(mdl, lv, "pa"))
        f1, f2 = mdl.discrepancy(x)[0], mdl.discrepancy(x2)[0]
        if (converged2 and (f2 <= f1 + 1e-10 or not math.isfinite(f1))) or (not converged2 and f2 < f1):
            x, converged = x2, converged2
        iterations += it2
    fmin, fgroups = mdl.discrepancy(x)
    if not math.isfinite(fmin):
        raise InputError(
            "cfa: the optimiser could not find a model-implied covariance matrix that is positive "
            "definite; the model is probably misspecified or the data badly scaled"
        )
    if not converged:
        msg = (f"the optimiser did not converge after {iterations} iterations; try a simpler model, "
               f"check the scaling of the items (very different variances), or look for items that "
               f"hardly correlate with their factor")
        warnings.warn(f"cfa: {msg}", stacklevel=2)
        notes.append(msg)

    if fiml:
        # standard errors: observed information (lavaan's default with missing = "ml":
        # information = "observed", observed.information = "hessian"), the Hessian of
        # -logL = (N / 2) sum_g w_g F_g
        info = mdl.hessian(x) * (N / 2.0)
    else:
        # standard errors (expected information, N_g weights)
        _, info = mdl.gradient_information(x, weighted=False)
    vcov = _invert_information(info, mdl, converged)

    # Heywood cases and improper latent covariance matrices
    for g in range(G):
        lam, theta, psi, nu, alpha = mdl.matrices(x, g)
        where = "" if labels[g] is None else f" in group {labels[g]!r}"
        neg = [ov[k] for k in range(p) if theta[k, k] < 0]
        if neg:
            vals = ", ".join(f"{ov[k]} = {theta[k, k]:.4g}" for k in range(p) if theta[k, k] < 0)
            msg = (f"negative residual variance (Heywood case) for {neg}{where} ({vals}); "
                   f"the model may be misspecified, an item may be nearly redundant, or the "
                   f"sample too small. Do not interpret the standardized solution for these items")
            warnings.warn(f"cfa: {msg}", stacklevel=2)
            notes.append(msg)
        if len(lv) and linalg.eigvalsh(psi).min() < 0:
            msg = (f"the covariance matrix of the latent variables{where} is not positive definite "
                   f"(a negative variance or a correlation beyond +-1); check the factor structure")
            warnings.warn(f"cfa: {msg}", stacklevel=2)
            notes.append(msg)

    params = _parameter_table(mdl, x, vcov, labels, ov, lv, ci)

    chisq = float(sum(n * f for n, f in zip(nobs, fgroups)))
    chisq = max(chisq, 0.0) if chisq > -1e-8 else chisq
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan
    if fiml:
        base_chisq = float(sum(2.0 * (h - b) for h, b in zip(h1_ll, base_ll)))
    else:
        base_chisq = float(sum(
            n * (float(np.sum(np.log(np.diag(s)))) - ld) for n, s, ld in zip(nobs, S, mdl.logdetS)))
    base_df = G * p * (p - 1) // 2
    base_p = float(stats.chi2.sf(base_chisq, base_df)) if base_df > 0 else math.nan
    rmsea = _rmsea(chisq, df, N, G)
    rlo, rhi = _rmsea_ci(chisq, df, N, G, rmsea_ci)
    rmsea_p = float(1.0 - _pchisq(chisq, df, N * df * 0.05**2 / G)) if df > 0 else math.nan
    srmr, srmr_nomean = _srmr(mdl, x)
    if fiml:
        loglik_h1 = float(sum(h1_ll))
        loglik = float(sum(mdl.loglik(x)))
    else:
        loglik_h1 = float(sum(-n / 2.0 * (p * math.log(2 * math.pi) + ld + p)
                              for n, ld in zip(nobs, mdl.logdetS)))
        loglik = loglik_h1 - chisq / 2.0

    implied_cov, implied_mean, sample_cov, sample_mean = {}, {}, {}, {}
    for g in range(G):
        key = labels[g] if labels[g] is not None else "all"
        sig, mu = mdl.implied(x, g)
        implied_cov[key] = pd.DataFrame(sig, index=ov, columns=ov)
        implied_mean[key] = pd.Series(mu if ms else ybar[g], index=ov)
        sample_cov[key] = pd.DataFrame(S[g], index=ov, columns=ov)
        sample_mean[key] = pd.Series(ybar[g], index=ov)

    return CFAResult(
        chisq=chisq,
        df=int(df),
        pvalue=pvalue,
        baseline_chisq=base_chisq,
        baseline_df=int(base_df),
        baseline_pvalue=base_p,
        cfi=_cfi(chisq, df, base_chisq, base_df),
        tli=_tli(chisq, df, base_chisq, base_df),
        rmsea=rmsea,
        rmsea_ci_low=rlo,
        rmsea_ci_high=rhi,
        rmsea_pvalue=rmsea_p,
        srmr=srmr,
        srmr_nomean=srmr_nomean,
        loglik=loglik,
        unrestricted_loglik=loglik_h1,
        aic=-2.0 * loglik + 2.0 * npar,
        bic=-2.0 * loglik + math.log(N) * npar,
        sabic=-2.0 * loglik + math.log((N + 2.0) / 24.0) * npar,
        npar=int(npar),
        n=int(N),
        ngroups=G,
        n_dropped=n_dropped,
        converged=bool(converged),
        iterations=int(iterations),
        estimator=estimator,
        std_lv=bool(std_lv),
        meanstructure=bool(ms),
        ci=ci,
        rmsea_ci_level=rmsea_ci,
        parameters=params,
        group_sizes=pd.Series(nobs, index=[lab if lab is not None else "all" for lab in labels], name="n"),
        implied_cov=implied_cov,
        implied_mean=implied_mean,
        sample_cov=sample_cov,
        sample_mean=sample_mean,
        model=model,
        equal=equal_t,
        partial=partial_t,
        group=group,
        notes=tuple(notes),
        missing=missing,
        n_patterns=tuple(len(pp) for pp in patterns),
    )


def _row_name(r: _Row) -> str:
    return f"{r.lhs} ~ 1" if r.op == "~1" else f"{r.lhs} {r.op} {r.rhs}"


def _invert_information(info: np.ndarray, mdl: _Model, converged: bool = True) -> np.ndarray:
    if mdl.nx == 0:
        return np.zeros((0, 0))
    d = np.sqrt(np.clip(np.diag(info), 1e-300, None))
    scaled = info / np.outer(d, d)
    vals, vecs = linalg.eigh(scaled)
    if not np.all(np.isfinite(vals)) or vals[0] < 1e-10 * max(vals[-1], 1.0):
        v = vecs[:, 0]
        names = []
        for k in np.argsort(-np.abs(v)):
            if abs(v[k]) < 0.1:
                break
            r = next(r for r in mdl.rows if r.x == k)
            names.append(_row_name(r) + (f" (group {r.group + 1})" if mdl.G > 1 else ""))
        if not converged:
            raise InputError(
                "cfa: the optimiser did not converge and the information matrix is singular "
                f"where it stopped (parameters involved: {names}): the model is empirically "
                "unidentified for these data, e.g. groups too small for the model or a factor "
                "whose variance collapses to zero. Try a simpler model, pool small groups, or "
                "check the items' scaling"
            )
        raise InputError(
            "cfa: the model is not identified (the information matrix is singular); the "
            f"parameters involved: {names}. Fix a loading or a variance to set each factor's "
            f"scale, give every factor at least three indicators (or two with a correlated "
            f"factor), or drop the offending covariance"
        )
    inv = ((vecs / vals) @ vecs.T) / np.outer(d, d)
    return (inv + inv.T) / 2.0


def _srmr(mdl: _Model, x: np.ndarray) -> tuple[float, float]:
    """lavaan srmr_bentler (with mean residuals when there is a mean structure) and _nomean."""
    p = mdl.p
    iu = np.tril_indices(p)
    tot, nomean = 0.0, 0.0
    for g in range(mdl.G):
        sig, mu = mdl.implied(x, g)
        sd = np.sqrt(np.diag(mdl.S[g]))
        rc = ((mdl.S[g] - sig) / np.outer(sd, sd))[iu]
        cov_part = float(np.sqrt(np.sum(rc**2) / rc.size))
        if mdl.meanstructure:
            rm = (mdl.ybar[g] - mu) / sd
            total = float(np.sqrt((np.sum(rc**2) + np.sum(rm**2)) / (rc.size + p)))
        else:
            total = cov_part
        tot += mdl.w[g] * total
        nomean += mdl.w[g] * cov_part
    return tot, nomean


def _parameter_table(
    mdl: _Model, x: np.ndarray, vcov: np.ndarray, labels: list[Any], ov: list[str], lv: list[str], ci: float
) -> pd.DataFrame:
    zcrit = float(stats.norm.ppf(0.5 + ci / 2.0))
    recs = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in range(mdl.G):
            lam, theta, psi, nu, alpha = mdl.matrices(x, g)
            sig, _ = mdl.implied(x, g)
            ov_sd = np.sqrt(np.where(np.diag(sig) > 0, np.diag(sig), np.nan))
            lv_var = np.diag(psi).copy()
            lv_sd = np.sqrt(np.where(lv_var > 0, lv_var, np.nan))
            for r in mdl.by_group[g]:
                est = float(x[r.x]) if r.free else float(r.value)
                if r.free:
                    se = float(math.sqrt(vcov[r.x, r.x])) if vcov[r.x, r.x] >= 0 else math.nan
                    z = est / se if se > 0 else math.nan
                    pv = float(2.0 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan
                    lo, hi = est - zcrit * se, est + zcrit * se
                else:
                    se, z, pv, lo, hi = 0.0, math.nan, math.nan, est, est
                if r.mat == "lambda":
                    std = est * lv_sd[r.j] / ov_sd[r.i]
                elif r.mat == "theta":
                    if r.i == r.j:
                        std = est / sig[r.i, r.i]
                    else:
                        std = est / math.sqrt(abs(theta[r.i, r.i]) * abs(theta[r.j, r.j]))
                elif r.mat == "psi":
                    std = est / (lv_sd[r.i] * lv_sd[r.j])
                elif r.mat == "nu":
                    std = est / ov_sd[r.i]
                else:
                    std = est / lv_sd[r.i]
                recs.append({
                    "lhs": r.lhs,
                    "op": r.op,
                    "rhs": r.rhs,
                    "group": g + 1,
                    "group_label": labels[g],
                    "label": r.label,
                    "free": bool(r.free),
                    "est": est,
                    "se": se,
                    "z": z,
                    "pvalue": pv,
                    "ci_low": lo,
                    "ci_high": hi,
                    "std_all": float(std),
                })
    return pd.DataFrame.from_records(recs)


def invariance(
    data: pd.DataFrame,
    model: str,
    group: str,
    *,
    levels: Sequence[str] = ("configural", "metric", "scalar"),
    std_lv: bool = False,
    partial: str | Sequence[str] = (),
    missing: str = "listwise",
    ci: float = 0.95,
    cfi_cutoff: float = -0.010,
    rmsea_cutoff: float = 0.015,
) -> InvarianceResult:
    """Measurement invariance across groups: configural, metric, scalar (, strict).

    Fits :func:`cfa` with ``group=`` and the cumulative ``equal=`` of each
    level (``configural``: none; ``metric``: loadings; ``scalar``: loadings and
    intercepts; ``strict``: also residual variances), then compares each model
    with the previous one:

    * ``delta_chisq``, ``delta_df``, ``delta_pvalue``: the chi-square
      difference test of nested ML models, as ``lavaan::lavTestLRT`` (and
      ``anova``) for the standard test; ``rmsea_d`` is the RMSEA of that
      difference (lavTestLRT's ``RMSEA`` column);
    * ``delta_cfi``, ``delta_rmsea``, ``delta_srmr``: the change in the index
      (more constrained minus less constrained);
    * ``verdict``: ``"tenable"`` when ``delta_cfi >= cfi_cutoff`` (-0.010) and
      ``delta_rmsea <= rmsea_cutoff`` (0.015), ``"not tenable"`` when both are
      beyond, ``"unclear"`` when they disagree (Chen 2007; Cheung & Rensvold
      2002).  These cut-offs are conventions from simulation studies, guidance
      rather than a test: read them with the chi-square difference, the sample
      size and the size of the non-invariant parameters.

    ``missing`` is passed to :func:`cfa` (``"listwise"`` or ``"ml"`` for
    FIML); with ``"ml"`` the difference tests compare FIML chi-squares, as
    ``lavTestLRT`` does for ``missing = "ml"`` fits.

    ``partial`` (lavaan ``group.partial``) frees named parameters in every
    level, for partial invariance (e.g. ``partial=("x3~1",)``).

    Returns an :class:`InvarianceResult`: ``.table`` (one row per model),
    ``.fits`` (level -> :class:`CFAResult`), ``.summary()``.

    Example
    -------
    >>> res = invariance(df, "grievance =~ g1 + g2 + g3 + g4", group="gender")  # doctest: +SKIP
    >>> res.table[["model", "cfi", "delta_cfi", "verdict"]]  # doctest: +SKIP
    """
    if isinstance(levels, str):
        levels = (levels,)
    levels = list(levels)
    if len(levels) < 1:
        raise InputError("invariance: give at least one level, e.g. ('configural', 'metric', 'scalar')")
    for lev in levels:
        if lev not in INVARIANCE_LEVELS:
            raise InputError(
                f"invariance: unknown level {lev!r}; use {', '.join(map(repr, INVARIANCE_LEVELS))}"
            )
    if len(set(levels)) != len(levels):
        raise InputError(f"invariance: levels repeat: {levels}")
    for a, b in zip(levels, levels[1:]):
        if not set(INVARIANCE_LEVELS[a]) < set(INVARIANCE_LEVELS[b]):
            raise InputError(
                f"invariance: levels must go from less to more constrained (e.g. configural, "
                f"metric, scalar, strict); {a!r} is not nested in {b!r}"
            )
    if group is None:
        raise InputError("invariance: group= is required (the column defining the groups)")
    fits: dict[str, CFAResult] = {}
    seen_msgs: list[str] = []
    for lev in levels:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fits[lev] = cfa(data, model, group=group, equal=INVARIANCE_LEVELS[lev], partial=partial,
                            std_lv=std_lv, missing=missing, ci=ci)
        for w in caught:
            text = str(w.message)
            if text not in seen_msgs:
                seen_msgs.append(text)
                prefix = "" if "dropped" in text or lev == levels[0] else f"[{lev}] "
                warnings.warn(prefix + text, w.category, stacklevel=2)
    recs = []
    prev: CFAResult | None = None
    for lev in levels:
        f = fits[lev]
        rec = {
            "model": lev,
            "equal": ", ".join(INVARIANCE_LEVELS[lev]) or "none",
            "npar": f.npar,
            "chisq": f.chisq,
            "df": f.df,
            "pvalue": f.pvalue,
            "cfi": f.cfi,
            "tli": f.tli,
            "rmsea": f.rmsea,
            "rmsea_ci_low": f.rmsea_ci_low,
            "rmsea_ci_high": f.rmsea_ci_high,
            "srmr": f.srmr,
            "aic": f.aic,
            "bic": f.bic,
            "delta_chisq": math.nan,
            "delta_df": math.nan,
            "delta_pvalue": math.nan,
            "rmsea_d": math.nan,
            "delta_cfi": math.nan,
            "delta_rmsea": math.nan,
            "delta_srmr": math.nan,
            "verdict": "reference model (judge by its own fit)",
        }
        if prev is not None:
            dchi = f.chisq - prev.chisq
            ddf = f.df - prev.df
            if dchi < -(np.finfo(float).eps ** (1 / 3)):
                warnings.warn(
                    f"invariance: the {lev} model fits better than the less restricted one "
                    f"(delta chi-square = {dchi:.4g}); the models are not nested or the less "
                    f"restricted model did not reach its optimum",
                    stacklevel=2,
                )
            rec["delta_chisq"] = dchi
            rec["delta_df"] = ddf
            rec["delta_pvalue"] = float(stats.chi2.sf(dchi, ddf)) if ddf > 0 else math.nan
            rec["rmsea_d"] = _rmsea(dchi, ddf, f.n, f.ngroups)
            rec["delta_cfi"] = f.cfi - prev.cfi
            rec["delta_rmsea"] = f.rmsea - prev.rmsea
            rec["delta_srmr"] = f.srmr - prev.srmr
            ok_cfi = rec["delta_cfi"] >= cfi_cutoff
            ok_rmsea = rec["delta_rmsea"] <= rmsea_cutoff
            rec["verdict"] = "tenable" if ok_cfi and ok_rmsea else (
                "not tenable" if not ok_cfi and not ok_rmsea else "unclear")
        recs.append(rec)
        prev = f
    table = pd.DataFrame.from_records(recs)
    first = fits[levels[0]]
    guidance = (
        f"Verdicts are guidance, not a test: 'tenable' when delta CFI >= {cfi_cutoff:g} and delta "
        f"RMSEA <= {rmsea_cutoff:g} relative to the previous model (Chen 2007; Cheung & Rensvold "
        f"2002); read them with the chi-square difference test, the sample size and the size of "
        f"the group differences in the parameters."
    )
    rejected = [lev for lev, v in zip(table["model"], table["verdict"]) if v == "not tenable"]
    if rejected and rejected[0] != levels[-1]:
        guidance += (
            f" The {rejected[0]} model is not tenable, so the levels after it build on a rejected "
            f"model; look for the non-invariant parameters and consider partial invariance "
            f"(partial=...)."
        )
    return InvarianceResult(
        group=group,
        n=first.n,
        ngroups=first.ngroups,
        table=table,
        fits=fits,
        guidance=guidance,
    )
