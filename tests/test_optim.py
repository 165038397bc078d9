"""veplab._optim: the derivatives, minimisers and intervals the mixed models and CFA share.

Their agreement with lme4 and lavaan is tested through those models
(test_factors_mixed.py, test_validity_cfa*.py); here each helper is checked
against closed-form answers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from veplab import _optim


def rosen(x: np.ndarray) -> float:
    return float(optimize.rosen(x))


def test_numerical_gradient_and_hessian_match_the_analytic_ones():
    x = np.array([-0.7, 1.3, 0.4])
    g_exact, h_exact = optimize.rosen_der(x), optimize.rosen_hess(x)
    np.testing.assert_allclose(_optim.gradient(rosen, x), g_exact, rtol=1e-7)
    g, h = _optim.gradient_hessian(rosen, x)
    np.testing.assert_allclose(g, g_exact, rtol=1e-6)
    np.testing.assert_allclose(h, h_exact, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_optim.hessian_from_gradient(optimize.rosen_der, x), h_exact, rtol=1e-7, atol=1e-6)
    # lavaan's four-point rule is exact for a cubic gradient (quartic function) up to rounding
    np.testing.assert_allclose(
        _optim.hessian_from_gradient(optimize.rosen_der, x, delta=1e-3, points=4), h_exact, rtol=1e-9, atol=1e-9
    )
    with pytest.raises(ValueError):
        _optim.hessian_from_gradient(optimize.rosen_der, x, points=3)


def test_newton_minimises_rosenbrock_and_reports_convergence():
    x, ok, it = _optim.newton(rosen, lambda z: (optimize.rosen_der(z), optimize.rosen_hess(z)), np.array([-1.2, 1.0]))
    assert ok and it < 60
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-9)
    # an infeasible start is reported, not iterated
    x, ok, it = _optim.newton(lambda z: math.inf, lambda z: (z, np.eye(2)), np.zeros(2))
    assert (ok, it) == (False, 0)


def test_newton_step_leaves_directions_without_curvature_alone():
    h = np.array([[2.0, 0.0], [0.0, 0.0]])
    step = _optim.newton_step(h, np.array([4.0, 3.0]))
    np.testing.assert_allclose(step, [-2.0, 0.0])
    assert _optim.newton_step(h, np.array([np.nan, 1.0])) is None


def test_trust_newton_stays_where_the_function_is_defined():
    # f = x - log(x) on x > 0 (inf elsewhere): minimum at 1
    def f(x: np.ndarray) -> float:
        return float(x[0] - math.log(x[0])) if x[0] > 0 else math.inf

    x, _ = _optim.trust_newton(f, lambda x: np.array([1.0 - 1.0 / x[0]]), lambda x: np.array([[1.0 / x[0] ** 2]]),
                               np.array([8.0]), scale=np.array([10.0]))
    assert x[0] == pytest.approx(1.0, abs=1e-8)


def test_newton_polish_respects_lower_bounds():
    fun = lambda x: float((x[0] + 1.0) ** 2 + (x[1] - 2.0) ** 2)  # noqa: E731
    grad = lambda x: np.array([2 * (x[0] + 1.0), 2 * (x[1] - 2.0)])  # noqa: E731
    x, f = _optim.newton_polish(fun, grad, np.array([0.5, 0.0]), fun(np.array([0.5, 0.0])), 2 * np.eye(2),
                                np.array([0.0, -np.inf]))
    np.testing.assert_allclose(x, [0.0, 2.0])
    assert f == pytest.approx(1.0)


def test_multistart_and_boundary_escape_find_the_lower_minimum():
    # f = (x^2 - 1)^2 on [0, inf): x = 0 is a stationary point where L-BFGS-B stops, x = 1 the minimum
    def f(x: np.ndarray) -> float:
        return float((x[0] ** 2 - 1.0) ** 2)

    bounds = [(0.0, None)]
    stuck = optimize.minimize(f, np.array([0.0]), method="L-BFGS-B", bounds=bounds)
    assert stuck.x[0] == 0.0 and stuck.fun == pytest.approx(1.0)
    freed = _optim.escape_boundary(f, stuck, 0, (0.01, 0.5), bounds=bounds)
    assert freed.x[0] == pytest.approx(1.0, abs=1e-5) and freed.fun < 1e-9

    # two local minima of a tilted double well: the start that reaches the lower one wins
    def g(x: np.ndarray) -> float:
        return float((x[0] ** 2 - 1.0) ** 2 + 0.3 * x[0])

    best = _optim.minimize_multistart(g, [np.array([2.0]), np.array([-2.0])], bounds=[(None, None)])
    assert best.x[0] < 0 and best.fun == pytest.approx(min(g(np.array([v])) for v in np.linspace(-2, 2, 40001)), abs=1e-6)
    assert _optim.lbfgsb_converged(best)
    with pytest.raises(ValueError):
        _optim.minimize_multistart(g, [])


def test_convergence_messages_follow_lme4s_checks():
    h = np.array([[4.0, 1.0], [1.0, 3.0]])
    assert _optim.convergence_messages(np.array([1e-4, -1e-4]), h, singular=False) == []
    msgs = _optim.convergence_messages(np.array([0.5, 0.0]), h, singular=False)
    assert len(msgs) == 1 and "max|grad| = 0.25" in msgs[0]  # scaled: min(|R^-T g|, |g|) = 0.5 / 2
    msgs = _optim.convergence_messages(np.zeros(2), np.diag([1.0, -1.0]), singular=False)
    assert any("negative eigenvalue" in m for m in msgs)
    assert _optim.convergence_messages(np.array([5.0, 5.0]), np.diag([1.0, -1.0]), singular=True) == []


@pytest.mark.parametrize("with_derivative", [False, True])
def test_profile_interval_of_a_quadratic_profile_is_the_wald_interval(with_derivative):
    # deviance of a normal mean with known sd: D(t) = n (t - m)^2 / s2; the 95% LR interval is m +- 1.96 s / sqrt(n)
    n, m, s2 = 50, 1.3, 4.0
    crit = stats.chi2.ppf(0.95, 1)

    def prof(t: float):
        d = n * (t - m) ** 2 / s2
        return (d, 2 * n * (t - m) / s2) if with_derivative else d

    lo, hi = _optim.profile_interval(prof, m, 0.0, crit, width=0.1, with_derivative=with_derivative)
    half = stats.norm.ppf(0.975) * math.sqrt(s2 / n)
    assert lo == pytest.approx(m - half, abs=1e-8)
    assert hi == pytest.approx(m + half, abs=1e-8)
    # a parameter at its bound 0 whose profile never rises enough: [0, inf)
    lo, hi = _optim.profile_interval(lambda t: (0.0, 0.0) if with_derivative else 0.0, 0.0, 0.0, crit,
                                     with_derivative=with_derivative)
    assert (lo, hi) == (0.0, math.inf)
