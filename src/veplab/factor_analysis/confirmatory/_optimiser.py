"""Optimisation: Fisher scoring, then a trust-region Newton polish (veplab._optim)."""

from __future__ import annotations

import math

import numpy as np
from veplab import _optim

from ._common import _MAX_ITER
from ._model import _Model


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
