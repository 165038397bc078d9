"""The factor-analysis core (veplab.factor_analysis._core): fits and rotations, one matrix and batched.

Its agreement with R is tested through its users (psych::fa, fa.parallel,
GPArotation and stats::varimax in test_validity_efa.py; psych::omega and lavaan
in test_reliability.py).  Here: exact recovery of population models, batched
forms equal to the one-matrix forms, and that reliability and validity both
take their factor models from the core (not from each other).
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from veplab.factor_analysis import _core as fa

SRC = Path(__file__).resolve().parents[1] / "src" / "veplab"


def _population(lam: np.ndarray, phi: np.ndarray | None = None) -> np.ndarray:
    phi = np.eye(lam.shape[1]) if phi is None else phi
    r = lam @ phi @ lam.T
    np.fill_diagonal(r, 1.0)
    return r


def _sample_correlations(b: int, lam: np.ndarray, n: int, seed: int) -> np.ndarray:
    gen = np.random.default_rng(seed)
    out = []
    for _ in range(b):
        f = gen.standard_normal((n, lam.shape[1]))
        x = f @ lam.T + gen.standard_normal((n, lam.shape[0])) * np.sqrt(1 - (lam**2).sum(axis=1))
        out.append(np.corrcoef(x, rowvar=False))
    return np.stack(out)


LAM3 = np.array([[.8, 0, 0], [.7, 0, 0], [.6, .2, 0], [0, .7, 0], [0, .6, 0], [.1, .5, 0],
                 [0, 0, .8], [0, 0, .6], [0, .2, .5]])


@pytest.mark.parametrize("method", ["minres", "ml"])
def test_fit_recovers_a_population_one_factor_model(method):
    lam = np.array([.8, .7, .6, .5, .4])
    r = _population(lam[:, None])
    psi, res = fa.fit_uniquenesses(r, 1, method)
    load = fa.principal_loadings(psi, r, 1) if method == "minres" else fa.ml_loadings(psi, r, 1)
    load = load * fa.reflect(load)
    np.testing.assert_allclose(load[:, 0], lam, atol=1e-6)
    np.testing.assert_allclose(psi, 1 - lam**2, atol=1e-6)
    assert fa.projected_gradient(psi, res.jac, r) < 1e-5


def test_ml_one_factor_recovers_a_population_covariance():
    lam = np.array([1.2, 0.9, 0.5, 2.0])
    th = np.array([0.5, 0.8, 0.3, 1.1])
    c = np.outer(lam, lam) + np.diag(th)
    got_lam, got_th, conv = fa.ml_one_factor(c)
    assert conv
    np.testing.assert_allclose(got_lam, lam, rtol=1e-8)
    np.testing.assert_allclose(got_th, th, rtol=1e-8)


def test_minres_batch_equals_one_matrix_fits_and_its_fallback():
    r = _sample_correlations(12, LAM3, 150, seed=4)
    load, psi, conv = fa.minres_batch(r, 3)
    assert conv.all()
    for b in range(r.shape[0]):
        one, psi_one = fa.minres(r[b], 3, start=1 - fa.smc(r[b]))
        np.testing.assert_allclose(psi[b], psi_one, atol=1e-6)
        np.testing.assert_allclose(load[b] @ load[b].T, one @ one.T, atol=1e-6)
    # with no Newton steps every matrix goes through the scipy fallback: same solutions
    load0, psi0, conv0 = fa.minres_batch(r, 3, maxit=0)
    assert conv0.all()
    np.testing.assert_allclose(psi0, psi, atol=1e-6)
    # without the fallback an unfinished fit says so
    _, _, conv_none = fa.minres_batch(r, 3, maxit=0, fallback=False)
    assert not conv_none.any()


def test_batched_rotations_equal_one_matrix_rotations():
    gen = np.random.default_rng(11)
    a = gen.standard_normal((7, 9, 3)) * 0.5
    z, tt, it, conv = fa.varimax(a)
    lam, tm, f, it_o, conv_o = fa.oblimin(a, gamma=0.3, normalize=True)
    for b in range(a.shape[0]):
        z1, tt1, it1, conv1 = fa.varimax(a[b])
        np.testing.assert_allclose(z[b], z1, atol=1e-12)
        assert (it[b], conv[b]) == (it1, conv1)
        lam1, tm1, f1, it1, conv1 = fa.oblimin(a[b], gamma=0.3, normalize=True)
        np.testing.assert_allclose(lam[b], lam1, atol=1e-12)
        assert f[b] == pytest.approx(f1, abs=1e-14) and (it_o[b], conv_o[b]) == (it1, conv1)
    # an orthogonal rotation keeps L L'; an oblique one keeps L Phi L'
    np.testing.assert_allclose(z @ np.swapaxes(z, 1, 2), a @ np.swapaxes(a, 1, 2), atol=1e-12)
    phi = np.swapaxes(tm, 1, 2) @ tm
    np.testing.assert_allclose(lam @ phi @ np.swapaxes(lam, 1, 2), a @ np.swapaxes(a, 1, 2), atol=1e-10)


def test_oblimin_finds_simple_structure_of_correlated_factors():
    # (not mirror-symmetric: a symmetric start is a stationary point of quartimin, in GPArotation too)
    lam = np.array([[.8, 0], [.7, 0], [.6, 0], [0, .75], [0, .5], [0, .65]])
    phi = np.array([[1, .4], [.4, 1]])
    r = _population(lam, phi)
    load, _ = fa.minres(r, 2)
    got, tm, _, _, conv = fa.oblimin(load)
    assert conv
    order = np.argmax(np.abs(got), axis=1)
    assert list(order[:3]) == [order[0]] * 3 and list(order[3:]) == [order[3]] * 3 and order[0] != order[3]
    np.testing.assert_allclose(np.sort(np.abs(got).max(axis=1)), np.sort(lam.max(axis=1)), atol=1e-4)
    assert abs((tm.T @ tm)[0, 1]) == pytest.approx(0.4, abs=1e-4)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = "." * node.level + (node.module or "")
            out.add(mod)
            out.update(mod.rstrip(".") + "." + a.name if node.module else "." * node.level + a.name for a in node.names)
    return out


def test_factor_models_come_from_the_core_not_from_a_sibling_subpackage():
    core = _imports(SRC / "factor_analysis" / "_core.py")
    assert not any(m.startswith(".") for m in core), core  # numpy/scipy only: importable from anywhere
    for f in (SRC / "reliability").glob("*.py"):
        assert not any("validity" in m for m in _imports(f)), f
    for f in ("reliability/_factor.py", "factor_analysis/exploratory.py", "factor_analysis/rotation.py"):
        assert any("_core" in m for m in _imports(SRC / f)), f
