"""Factor rotations: varimax, oblimin (GPA) and promax, as R computes them.

The algorithms are ports of the R code that ``psych::fa`` calls, step for
step, so rotated loadings agree with psych to rounding error.  They live in
veplab's factor-analysis core (:mod:`veplab.factor_analysis._core`, which also
runs them over stacks of matrices for bootstraps); this module gives them
their public form (:class:`RotationResult`, warnings):

* :func:`varimax` is ``stats::varimax`` (Kaiser 1958; Kaiser row
  normalisation, convergence when the criterion improves by less than a
  relative ``eps = 1e-5``), which ``psych::fa(rotate = "varimax")`` uses.
* :func:`oblimin` is ``GPArotation::oblimin`` -- the gradient projection
  algorithm for oblique rotations (``GPFoblq``; Jennrich 2002, Bernaards and
  Jennrich 2005) with the oblimin criterion (``gam = 0``: quartimin), no
  row normalisation, ``eps = 1e-5``, ``maxit = 1000`` -- which
  ``psych::fa(rotate = "oblimin")`` uses.
* :func:`promax` is ``psych::Promax`` (Hendrickson and White 1964; power
  ``m = 4``) applied to Kaiser-normalised loadings as ``psych::kaiser`` does
  it, which ``psych::fa(rotate = "promax")`` uses.

Conventions (as GPArotation): for an unrotated loading matrix ``A`` and
rotation ``T``, oblique pattern loadings are ``L = A (T')^-1`` and the
factor correlations ``Phi = T'T``; orthogonal ones ``L = A T``.

References
----------
Bernaards, C. A., & Jennrich, R. I. (2005). Gradient projection algorithms
and software for arbitrary rotation criteria in factor analysis.
*Educational and Psychological Measurement*, 65, 676-696.

Jennrich, R. I. (2002). A simple general method for oblique rotation.
*Psychometrika*, 67, 7-19.

Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor
analysis. *Psychometrika*, 23, 187-200.

Hendrickson, A. E., & White, P. O. (1964). Promax: a quick method for
rotation to oblique simple structure. *British Journal of Statistical
Psychology*, 17, 65-70.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from . import _core as fa
from .._results import Result
from .._validate import InputError

__all__ = ["RotationResult", "varimax", "oblimin", "promax", "rotate"]


@dataclasses.dataclass(frozen=True)
class RotationResult(Result):
    """Rotated loadings with the rotation matrix and (oblique) factor correlations.

    ``rotation_matrix`` is the matrix ``M`` with ``loadings = unrotated @ M``
    (psych's ``rot.mat``); ``phi`` is ``None`` for orthogonal rotations.
    """

    method: str
    converged: bool
    n_iter: int
    criterion: float
    loadings: pd.DataFrame = dataclasses.field(repr=False)
    rotation_matrix: np.ndarray = dataclasses.field(repr=False)
    phi: pd.DataFrame | None = dataclasses.field(default=None, repr=False)


def _as_matrix(loadings: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, list, list]:
    if isinstance(loadings, pd.DataFrame):
        a = loadings.to_numpy(dtype=float)
        rows, cols = list(loadings.index), list(loadings.columns)
    else:
        a = np.asarray(loadings, dtype=float)
        if a.ndim != 2:
            raise InputError(f"rotation: loadings must be a 2-D matrix, got shape {a.shape}")
        rows = [f"V{i + 1}" for i in range(a.shape[0])]
        cols = [f"F{j + 1}" for j in range(a.shape[1])]
    if not np.all(np.isfinite(a)):
        raise InputError("rotation: loadings contain missing or infinite values")
    return a, rows, cols


def _frame(a: np.ndarray, rows: list, cols: list) -> pd.DataFrame:
    return pd.DataFrame(a, index=rows, columns=cols)


# ----------------------------------------------------------------------- varimax
def varimax(
    loadings: pd.DataFrame | np.ndarray, *, normalize: bool = True, eps: float = 1e-5
) -> RotationResult:
    """Varimax rotation exactly as ``stats::varimax`` (what ``psych::fa`` uses).

    Maximises ``V = sum_j [ sum_i l_ij^4 / p - (sum_i l_ij^2 / p)^2 ]`` over
    orthogonal rotations, on Kaiser-normalised rows when ``normalize`` is true
    (R's default), by the SVD iteration of ``stats::varimax``.

    References
    ----------
    Kaiser HF (1958). The varimax criterion for analytic rotation in factor analysis.
    Psychometrika 23, 187-200.
    Agrees with R ``stats::varimax`` (tests/reference/validity_efa.R; on the example below
    R gives the same loadings).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[.7, .3], [.6, .35], [.3, .6], [.35, .7]])
    >>> r = varimax(a)
    >>> bool(np.allclose(r.loadings.to_numpy() @ r.loadings.to_numpy().T, a @ a.T))
    True
    """
    a, rows, cols = _as_matrix(loadings)
    z, tt, it, conv = fa.varimax(a, normalize=normalize, eps=eps)
    crit = float(np.sum(np.var(z**2, axis=0)))
    return RotationResult(
        method="varimax", converged=bool(conv), n_iter=int(it), criterion=crit,
        loadings=_frame(z, rows, cols), rotation_matrix=tt, phi=None,
    )


# ----------------------------------------------------------------------- oblimin
def oblimin(
    loadings: pd.DataFrame | np.ndarray,
    *,
    gamma: float = 0.0,
    normalize: bool = False,
    eps: float = 1e-5,
    max_iter: int = 1000,
) -> RotationResult:
    """Oblimin rotation by gradient projection, as ``GPArotation::oblimin``.

    Minimises ``Q(L) = 1/4 sum_i sum_{j != k} l_ij^2 l_ik^2`` (``gamma = 0``,
    direct quartimin; other ``gamma`` centre the columns of ``L^2`` as in
    Jennrich 2002) over oblique rotations ``L = A (T')^-1`` with unit-length
    columns of ``T``, by the GPFoblq algorithm of Bernaards and Jennrich
    (2005).  Defaults are GPArotation's (and therefore ``psych::fa``'s):
    no Kaiser normalisation, ``eps = 1e-5``, ``maxit = 1000``.
    Factor correlations are ``Phi = T'T``.

    References
    ----------
    Jennrich RI (2002). A simple general method for oblique rotation. Psychometrika 67, 7-19.
    Bernaards CA, Jennrich RI (2005). Gradient projection algorithms and software for
    arbitrary rotation criteria in factor analysis. Educational and Psychological
    Measurement 65, 676-696.
    Agrees with ``GPArotation::oblimin`` (tests/reference/validity_efa.R).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[.7, .3], [.6, .35], [.3, .6], [.35, .7]])
    >>> r = oblimin(a)
    >>> r.phi.shape
    (2, 2)
    """
    a, rows, cols = _as_matrix(loadings)
    if a.shape[1] < 2:
        raise InputError("oblimin: rotation needs at least two factors")
    L, T, f, it, conv = fa.oblimin(a, gamma=gamma, normalize=normalize, eps=eps, max_iter=max_iter)
    if not conv:
        warnings.warn(
            f"oblimin rotation did not converge in {max_iter} iterations; the loadings may not be "
            "a stationary point. Try rotation='promax', fewer factors, or a larger max_iter.",
            RuntimeWarning,
            stacklevel=2,
        )
    phi = T.T @ T
    return RotationResult(
        method="oblimin", converged=bool(conv), n_iter=int(it), criterion=float(f),
        loadings=_frame(L, rows, cols),
        rotation_matrix=np.linalg.inv(T).T,
        phi=_frame(phi, cols, cols),
    )


# ----------------------------------------------------------------------- promax
def promax(loadings: pd.DataFrame | np.ndarray, *, m: float = 4.0, kaiser: bool = True) -> RotationResult:
    """Promax rotation as ``psych::fa(rotate = "promax")`` computes it.

    With ``kaiser=True`` (what ``psych::fa`` does, via ``psych::kaiser``) the
    rows of the loadings are first divided by ``sqrt(h2)``, rotated by
    ``psych::Promax(m = 4)`` -- varimax, then a least-squares fit to the
    target ``L |L|^(m-1)`` with columns rescaled so factor variances are 1 --
    and multiplied back.  ``kaiser=False`` is ``psych::Promax`` on the raw
    loadings.

    The Promax target and rotation (``m = 4``), from the varimax loadings ``L``::

        P = L |L|^(m-1),   U = (L'L)^-1 L'P  (columns rescaled),   loadings = L U

    References
    ----------
    Hendrickson AE, White PO (1964). Promax: a quick method for rotation to oblique simple
    structure. British Journal of Statistical Psychology 17, 65-70.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and Personality
    Research. R package version 2.2.9. Agrees with
    ``psych::kaiser(L, rotate = "Promax")``, what ``psych::fa(rotate = "promax")`` does
    (tests/reference/validity_efa.R).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[.7, .3], [.6, .35], [.3, .6], [.35, .7]])
    >>> r = promax(a)
    >>> bool(r.phi.iloc[0, 1] > 0)
    True
    """
    a, rows, cols = _as_matrix(loadings)
    if a.shape[1] < 2:
        raise InputError("promax: rotation needs at least two factors")
    if kaiser:
        h = np.sqrt(np.sum(a**2, axis=1))
        z, U, phi = fa.promax(a / h[:, None], m=m)
        z = z * h[:, None]
    else:
        z, U, phi = fa.promax(a, m=m)
    return RotationResult(
        method="promax", converged=True, n_iter=0, criterion=float("nan"),
        loadings=_frame(z, rows, cols), rotation_matrix=U, phi=_frame(phi, cols, cols),
    )


def rotate(loadings: pd.DataFrame | np.ndarray, method: str) -> RotationResult:
    """Dispatch to :func:`varimax`, :func:`oblimin` or :func:`promax` with psych's defaults.

    The criteria: varimax maximises ``sum_j [sum_i l_ij^4 / p - (sum_i l_ij^2 / p)^2]``;
    oblimin (quartimin) minimises ``Q = 1/4 sum_i sum_(j != k) l_ij^2 l_ik^2``; promax
    fits ``P = L |L|^(m-1)`` to the varimax loadings ``L``.

    References
    ----------
    Kaiser HF (1958). The varimax criterion for analytic rotation in factor analysis.
    Psychometrika 23, 187-200.
    Hendrickson AE, White PO (1964). Promax: a quick method for rotation to oblique simple
    structure. British Journal of Statistical Psychology 17, 65-70.
    Bernaards CA, Jennrich RI (2005). Gradient projection algorithms and software for
    arbitrary rotation criteria in factor analysis. Educational and Psychological
    Measurement 65, 676-696.
    See each function for the R function it agrees with.

    Examples
    --------
    >>> import numpy as np
    >>> from veplab.factor_analysis.rotation import rotate
    >>> a = np.array([[.7, .3], [.6, .35], [.3, .6], [.35, .7]])
    >>> rotate(a, "oblimin").loadings.round(4)      # R: GPArotation::oblimin(a)
            F1      F2
    V1  0.7919 -0.0393
    V2  0.6126  0.1012
    V3  0.0038  0.6679
    V4  0.0044  0.7792
    """
    if method == "varimax":
        return varimax(loadings)
    if method == "oblimin":
        return oblimin(loadings)
    if method == "promax":
        return promax(loadings)
    raise InputError(f"rotation must be one of 'oblimin', 'promax', 'varimax' or None; got {method!r}")
