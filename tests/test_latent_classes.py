"""veplab.latent_classes.latent_classes: recovery of a known 4-class model, likelihood and EM fixed point.

poLCA is not available here, so the fit is checked independently: the
observed-data log-likelihood is recomputed row by row from the reported
parameters, one more EM step must leave the maximum-likelihood estimates
unchanged, and a simulated typology must be recovered (adjusted Rand index,
BIC choosing the true k, profiles after matching the labels).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

from veplab._validate import InputError
from veplab.latent_classes import adjusted_rand_index, latent_classes, plot_profiles
from veplab.latent_classes import lca as lc

PI = np.array([0.4, 0.3, 0.2, 0.1])
# leaders / facilitators / followers / marginal: distinct modal answers per item block
MODES = np.array([[0, 0, 0, 0, 0, 0, 0, 0],
                  [2, 2, 2, 2, 0, 0, 0, 0],
                  [0, 0, 0, 0, 2, 2, 2, 2],
                  [2, 2, 1, 1, 2, 2, 1, 1]])


def _simulate(n: int = 1000, seed: int = 42, p_missing: float = 0.03):
    rng = np.random.default_rng(seed)
    rho = np.full((4, 8, 3), 0.1)
    for c in range(4):
        rho[c, np.arange(8), MODES[c]] = 0.8
    z = rng.choice(4, n, p=PI)
    u = rng.random((n, 8))
    y = (u[:, :, None] > np.cumsum(rho[z], axis=2)).sum(axis=2) + 1
    d = pd.DataFrame(y, columns=[f"item{j + 1}" for j in range(8)])
    d = d.mask(rng.random(d.shape) < p_missing)
    return d, z, rho


@pytest.fixture(scope="module")
def fitted():
    d, z, rho = _simulate()
    res = latent_classes(d, list(d.columns), range(1, 6), n_starts=12, seed=7)
    return d, z, rho, res


def test_bic_chooses_the_true_number_of_classes_and_recovers_membership(fitted):
    d, z, rho, res = fitted
    assert res.k == 4 and res.criterion == "bic"
    assert list(res.fit["k"]) == [1, 2, 3, 4, 5]
    assert res.fit.set_index("k")["bic"].idxmin() == 4
    ari = adjusted_rand_index(res.modal.to_numpy(dtype=float), z)
    assert ari > 0.8
    # label switching: match estimated to true classes, then compare shares and profiles
    prof = res.solution(4).rho  # per item: k x 3
    est = np.stack(prof, axis=1)  # k x items x 3
    cost = np.array([[np.abs(est[a] - rho[b]).sum() for b in range(4)] for a in range(4)])
    rows, cols = linear_sum_assignment(cost)
    assert np.abs(est[rows] - rho[cols]).max() < 0.12
    assert np.abs(res.class_sizes["share"].to_numpy()[rows] - PI[cols]).max() < 0.04
    assert res.class_sizes["share"].is_monotonic_decreasing  # classes ordered by size


def test_fit_table_quantities(fitted):
    d, z, rho, res = fitted
    f = res.fit.set_index("k")
    for k in f.index:
        npar = (k - 1) + k * 8 * 2
        assert f.loc[k, "npar"] == npar
        assert f.loc[k, "aic"] == pytest.approx(-2 * f.loc[k, "loglik"] + 2 * npar)
        assert f.loc[k, "bic"] == pytest.approx(-2 * f.loc[k, "loglik"] + npar * math.log(len(d)))
    assert np.isnan(f.loc[1, "entropy_r2"]) and 0.5 < f.loc[4, "entropy_r2"] <= 1
    assert f.loc[4, "n_best"] >= 2
    assert (np.diff(f["loglik"].to_numpy()) > 0).all()  # nested models: likelihood rises with k
    post = res.posterior
    assert post.shape == (len(d), 4) and np.allclose(post.sum(axis=1), 1)
    assert res.modal.tolist() == (post.to_numpy().argmax(axis=1) + 1).tolist()
    p = res.profiles
    assert set(p.columns) == {"class", "item", "category", "probability"}
    assert np.allclose(p.groupby(["class", "item"])["probability"].sum(), 1)
    assert res.profile_table().shape == (24, 4)


def test_loglik_recomputed_directly_and_em_fixed_point(fitted):
    d, z, rho, res = fitted
    sol = res.solution(4)
    # observed-data log-likelihood, row by row, skipping missing items (MAR)
    ll = 0.0
    codes = d.to_numpy()
    for row in codes:
        lik = 0.0
        for c in range(4):
            p = sol.pi[c]
            for j, v in enumerate(row):
                if not np.isnan(v):
                    p *= sol.rho[j][c, int(v) - 1]
            lik += p
        ll += math.log(lik)
    assert ll == pytest.approx(sol.loglik, rel=1e-10)
    # one more EM step leaves the MLE (practically) unchanged
    data = lc._prepare(d, list(d.columns), "test")
    log_rho = np.log(np.concatenate(sol.rho, axis=1))[None]
    post, ll2 = lc._e_step(data, np.log(sol.pi)[None], log_rho)
    new_pi, new_rho = lc._m_step(data, post)
    assert ll2[0] == pytest.approx(sol.loglik, rel=1e-12)
    assert np.abs(new_pi[0] - sol.pi).max() < 1e-4
    assert np.abs(new_rho[0] - np.concatenate(sol.rho, axis=1)).max() < 1e-4


def test_same_seed_same_result_and_starts_vectorised():
    d, z, _ = _simulate(n=300, seed=3)
    a = latent_classes(d, list(d.columns), [2, 3], n_starts=6, seed=5)
    b = latent_classes(d, list(d.columns), [2, 3], n_starts=6, seed=5)
    pd.testing.assert_frame_equal(a.fit, b.fit)
    pd.testing.assert_frame_equal(a.posterior, b.posterior)
    assert (a.fit["n_starts"] == 6).all()


def test_adjusted_rand_index_known_values():
    assert adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0
    # Hubert & Arabie example computed by hand: contingency [[2,1],[0,2]] -> ARI = 0.16666...
    assert adjusted_rand_index([0, 0, 0, 1, 1], [0, 0, 1, 1, 1]) == pytest.approx(1 / 6)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, 200), rng.integers(0, 4, 200)
    sk = pytest.importorskip("sklearn.metrics")
    assert adjusted_rand_index(a, b) == pytest.approx(sk.adjusted_rand_score(a, b), abs=1e-12)


def test_rows_without_answers_and_text_items():
    d, _, _ = _simulate(n=200, seed=9, p_missing=0.0)
    d = d.astype(object)
    d.iloc[:, 0] = d.iloc[:, 0].map({1: "low", 2: "mid", 3: "high"})
    d.loc[5, :] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = latent_classes(d, list(d.columns), [1, 2], n_starts=4, seed=1)
    assert any("1 row(s) answered none of the items" in str(w.message) for w in caught)
    assert res.posterior.loc[5].isna().all() and pd.isna(res.modal.loc[5])
    assert set(res.profiles.query("item == 'item1'")["category"]) == {"low", "mid", "high"}


def test_lca_bad_input():
    d, _, _ = _simulate(n=100, seed=1)
    with pytest.raises(InputError, match="no answers"):
        latent_classes(d.assign(blank=np.nan), ["item1", "blank"], [1, 2])
    with pytest.raises(InputError, match="at least 2 items"):
        latent_classes(d, ["item1"], [1, 2])
    with pytest.raises(InputError, match="not in the data"):
        latent_classes(d, ["item1", "zzz"], [1, 2])
    with pytest.raises(InputError, match="non-integer"):
        latent_classes(d.assign(score=np.linspace(1, 5, 100)), ["item1", "score"], [1, 2])
    with pytest.raises(InputError, match="k_range"):
        latent_classes(d, ["item1", "item2"], [0])
    # 2 items x 3 categories: 8 free cells; k=2 needs 9 parameters (not identified)
    with pytest.warns(UserWarning, match="k=2 has 9 parameters"):
        res = latent_classes(d, ["item1", "item2"], [1, 2], n_starts=3, seed=1)
    assert list(res.solutions) == [1] and res.k == 1
    with pytest.raises(InputError, match="was not fitted"):
        res.solution(2)


def test_plot_profiles(fitted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = fitted[3]
    fig = plot_profiles(res)  # one panel of rating probabilities per class (no longer an expected score)
    assert len([a for a in fig.axes if a.patches]) == res.k
    plt.close(fig)
    ax = plot_profiles(res, category=3)
    assert len(ax.get_lines()) == res.k and ax.get_ylim() == (0, 1)
    assert ax.get_ylabel() == "probability of rating 3"
    plt.close(ax.figure)
    with pytest.raises(InputError):
        plot_profiles(object())


def test_docstring_examples_run():
    import doctest

    import veplab.latent_classes.lca as mod

    assert doctest.testmod(mod).failed == 0
