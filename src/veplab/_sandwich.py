"""Sandwich (heteroskedasticity- and cluster-robust) variances, as R ``sandwich``.

One implementation for every model fitted by estimating equations
(logistic regression, OLS): give it the *bread* ``B`` -- the unscaled
inverse information, ``(X' W X)^{-1}`` for a GLM with working weights ``W``,
``(X'X)^{-1}`` for OLS -- and the per-row score contributions ``s_i``
(``w_i (y_i - mu_i) x_i`` for a canonical GLM, ``e_i x_i`` for OLS), with
``n`` rows and ``k`` coefficients::

    HC0  B (sum_i s_i s_i') B                                   vcovHC(type = "HC0")
    HC1  n / (n - k) * HC0                                      vcovHC(type = "HC1")
    HC3  B (sum_i s_i s_i' / (1 - h_i)^2) B                     vcovHC(type = "HC3")
    CR0  G / (G - 1) * B (sum_g s_g s_g') B                     vcovCL(type = "HC0")
    CR1  G / (G - 1) * (n - 1) / (n - k) * B (sum_g s_g s_g') B vcovCL(type = "HC1")

``h_i`` are the hat values (``hatvalues(fit)``: the diagonal of
``W^{1/2} X B X' W^{1/2}``), ``s_g`` the sum of the scores in cluster ``g`` of
``G``.  ``CR0``/``CR1`` carry ``vcovCL``'s default ``cadjust = TRUE`` factor
``G / (G - 1)`` (``CR0`` is therefore *not* the unadjusted Liang-Zeger
estimator, which is ``(G - 1) / G`` times it); ``CR1`` is also statsmodels'
``cov_type="cluster"`` and Stata's ``vce(cluster)``.  ``n`` counts rows
(also with frequency weights, as ``sandwich`` on ``glm(weights = )``).

References
----------
White (1980) Econometrica 48, 817-838 (HC0); MacKinnon & White (1985)
Journal of Econometrics 29, 305-325 (HC1, HC3); Liang & Zeger (1986)
Biometrika 73, 13-22 (clusters); Zeileis, Koell & Graham (2020) Journal of
Statistical Software 95(1) (R ``sandwich``: ``vcovHC``, ``vcovCL``).
"""

from __future__ import annotations

import numpy as np

from ._validate import InputError

__all__ = ["ROBUST_TYPES", "sandwich", "hat_values"]

#: ``vcov=`` choices that are sandwiches (``"model"`` is the inverse information).
ROBUST_TYPES = ("HC0", "HC1", "HC3", "CR0", "CR1")


def hat_values(X: np.ndarray, bread: np.ndarray, working_weights: np.ndarray | None = None) -> np.ndarray:
    """Diagonal of the hat matrix ``W^{1/2} X B X' W^{1/2}`` (R ``hatvalues``)."""
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    return h if working_weights is None else h * working_weights


def sandwich(
    bread: np.ndarray,
    scores: np.ndarray,
    *,
    type: str,
    cluster: np.ndarray | None = None,
    hat: np.ndarray | None = None,
    what: str = "sandwich",
) -> np.ndarray:
    """Robust variance of the coefficients (see the module docstring for the formulas).

    ``cluster`` holds integer cluster codes 0..G-1 (for ``CR0``/``CR1``);
    ``hat`` the hat values (for ``HC3``).

    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0.0, 1, 2, 3]]); e = np.array([0.5, -1, 1, -0.5])
    >>> B = np.linalg.inv(X.T @ X)
    >>> V = sandwich(B, X * e[:, None], type="HC0")
    >>> bool(np.allclose(V, B @ (X.T * e**2) @ X @ B))
    True
    """
    n, k = scores.shape
    if type in ("HC0", "HC1", "HC3"):
        s = scores
        if type == "HC3":
            if hat is None:
                raise ValueError("sandwich: HC3 needs the hat values")
            if np.any(hat >= 1 - 1e-12):
                raise InputError(
                    f"{what}: HC3 is undefined: some rows have leverage 1 (hat value 1: a category or "
                    "combination held by one respondent); use vcov='HC1' or merge sparse categories")
            s = scores / (1.0 - hat)[:, None]
        adj = n / (n - k) if type == "HC1" else 1.0
        return adj * bread @ (s.T @ s) @ bread
    if type in ("CR0", "CR1"):
        if cluster is None:
            raise ValueError("sandwich: CR0/CR1 need cluster codes")
        G = int(cluster.max()) + 1
        S = np.zeros((G, k))
        np.add.at(S, cluster, scores)
        adj = G / (G - 1) * ((n - 1) / (n - k) if type == "CR1" else 1.0)
        return adj * bread @ (S.T @ S) @ bread
    raise ValueError(f"sandwich: unknown type {type!r}")
