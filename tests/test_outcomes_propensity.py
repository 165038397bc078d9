"""veplab.outcomes.propensity against R glm / weighted lm + HC0 (tests/reference/outcomes.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.outcomes import plot_love, propensity

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "outcomes.json").read_text())["propensity"]
GR = pd.read_csv(REF / "data" / "outcomes_groups.csv")
COVS = ["age", "prior", "sex", "pre"]


def _fit(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 2 rows with missing 'pre' are reported by a warning
        return propensity(GR, "treated", COVS, **kw)


def test_missing_covariates_are_reported():
    with pytest.warns(UserWarning, match="2 rows with a missing covariate"):
        res = propensity(GR, "treated", COVS)
    assert res.n == R["n"] == 298 and res.n_dropped == 2
    assert res.weights.isna().sum() == 2 and res.weights.index.equals(GR.index)


def test_ps_model_and_weights_match_glm():
    res = _fit(estimand="ATE")
    assert res.model["estimate"].to_numpy() == pytest.approx(R["ps_coef"], rel=1e-6)
    assert res.model["se"].to_numpy() == pytest.approx(R["ps_se"], rel=1e-5)
    assert res.ps.dropna().iloc[:10].to_numpy() == pytest.approx(R["ps_first"], rel=1e-7)
    t = GR["treated"][res.weights.notna()]
    w = res.weights.dropna()
    assert [w[t == 1].sum(), w[t == 0].sum()] == pytest.approx(R["w_ate_sum"], rel=1e-7)
    att = _fit(estimand="ATT")
    w = att.weights.dropna()
    assert [w[t == 1].sum(), w[t == 0].sum()] == pytest.approx(R["w_att_sum"], rel=1e-7)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_balance_table_matches_formulas(estimand):
    res = _fit(estimand=estimand)
    ref = R[f"balance_{estimand.lower()}"]
    b = res.balance
    assert list(b["covariate"]) == ref["covariate"]
    assert b["smd_before"].to_numpy() == pytest.approx(ref["smd_before"], rel=1e-6)
    assert b["smd_after"].to_numpy() == pytest.approx(ref["smd_after"], rel=1e-6, abs=1e-9)
    vr = np.array([np.nan if v is None else v for v in ref["vr_after"]], float)
    np.testing.assert_allclose(b["var_ratio_after"].to_numpy(), vr, rtol=1e-6)
    # weighting improves balance on every covariate here
    assert res.max_abs_smd_after < res.max_abs_smd_before


def test_weighted_outcome_models_with_hc0():
    ate = _fit(estimand="ATE")
    e = ate.effect("post")
    assert [e.estimate, e.se] == pytest.approx([R["lm_ate"]["coef"][1], R["lm_ate"]["se"][1]], rel=1e-7)
    assert e.ci_low == pytest.approx(e.estimate - 1.959963984540054 * e.se)
    eb = ate.effect("violation", kind="binary")
    assert [eb.estimate, eb.se] == pytest.approx([R["logit_ate"]["coef"][1], R["logit_ate"]["se"][1]], rel=1e-6)
    assert eb.ratio == pytest.approx(np.exp(eb.estimate))
    att = _fit(estimand="ATT")
    e = att.effect("post")
    assert [e.estimate, e.se] == pytest.approx([R["lm_att"]["coef"][1], R["lm_att"]["se"][1]], rel=1e-7)
    e = att.effect("post", covariates=["age"])
    assert [e.estimate, e.se] == pytest.approx([R["lm_att_adj"]["coef"][1], R["lm_att_adj"]["se"][1]], rel=1e-7)


def _greedy_reference(logit, t, width):
    """Plain O(n^2) greedy matching, largest propensity first, ties to the higher logit."""
    tr = sorted(np.flatnonzero(t == 1), key=lambda i: -logit[i])
    avail = set(np.flatnonzero(t == 0))
    pairs = {}
    for i in tr:
        if not avail:
            break
        j = min(avail, key=lambda c: (abs(logit[c] - logit[i]), -logit[c]))
        if abs(logit[j] - logit[i]) <= width:
            pairs[i] = j
            avail.remove(j)
    return pairs


def test_matching_att_equals_brute_force_greedy_and_respects_caliper():
    res = _fit(method="matching", caliper=0.2)
    ps = res.ps.dropna()
    logit = np.log(ps / (1 - ps)).to_numpy()
    t = GR.loc[ps.index, "treated"].to_numpy()
    assert res.caliper_width == pytest.approx(0.2 * logit.std(ddof=1))
    ref = _greedy_reference(logit, t, res.caliper_width)
    w = res.weights.loc[ps.index].to_numpy()
    # same treated matched; same partner up to people with identical scores
    assert set(np.flatnonzero((w > 0) & (t == 1))) == set(ref)
    pairs = res.pairs.loc[ps.index].to_numpy()
    for i, j in ref.items():
        partner = [k for k in np.flatnonzero(pairs == pairs[i]) if k != i]
        assert len(partner) == 1 and t[partner[0]] == 0
        assert logit[partner[0]] == pytest.approx(logit[j], abs=1e-12)
        assert abs(logit[i] - logit[partner[0]]) <= res.caliper_width
    assert res.n_matched_treated == len(ref)
    # matched samples: one comparison per treated
    assert (w[t == 1] > 0).sum() == (w[t == 0] > 0).sum()


def test_matching_random_order_is_seeded():
    a = _fit(method="matching", order="random", seed=11)
    b = _fit(method="matching", order="random", seed=11)
    assert a.weights.equals(b.weights) and a.pairs.equals(b.pairs)


def test_matching_with_replacement_and_ate():
    res = _fit(method="matching", replace=True, caliper=None)
    t = GR["treated"][res.weights.notna()]
    w = res.weights.dropna()
    assert w[t == 1].sum() == t.sum()  # every treated matched (no caliper)
    assert w[t == 0].sum() == t.sum()  # use counts of controls add up
    ate = _fit(method="matching", estimand="ATE", caliper=None)
    assert (ate.weights.dropna() >= 1).all()
    assert ate.weights.dropna().sum() == 2 * len(t)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["ATE", "ATT"]))
def test_saturated_model_weights_balance_exactly(seed, estimand):
    # with one binary covariate the logistic model is saturated: ps = observed share in each
    # cell, so ATE and ATT weights reproduce the target means exactly
    r = np.random.default_rng(seed)
    n = 300
    x = (r.random(n) < 0.4).astype(int)
    t = (r.random(n) < np.where(x == 1, 0.6, 0.25)).astype(int)
    cells = pd.crosstab(x, t)
    if cells.shape != (2, 2) or (cells.to_numpy() == 0).any():
        return
    res = propensity(pd.DataFrame({"x": x, "t": t}), "t", ["x"], estimand=estimand, support_warn=1)
    assert res.balance.set_index("covariate").loc["x", "smd_after"] == pytest.approx(0, abs=1e-8)


def test_overlap_diagnostics_and_warning():
    r = np.random.default_rng(3)
    x = np.r_[r.uniform(-3, 1, 100), r.uniform(-1, 3, 100)]
    t = np.r_[np.zeros(100, int), np.ones(100, int)]
    with pytest.warns(UserWarning, match="poor overlap"):
        res = propensity(pd.DataFrame({"x": x, "t": t}), "t", ["x"], estimand="ATT")
    assert res.share_outside_support > 0.1
    assert set(res.overlap["group"]) == {"treated", "comparison"}


def test_love_plot():
    import matplotlib.pyplot as plt

    res = _fit()
    ax = plot_love(res.balance)
    assert len(ax.get_yticklabels()) == len(COVS)
    res.plot_overlap()
    plt.close("all")


# ------------------------------------------------------------------ bad input
def test_constant_propensity_score_gives_nan_variance_ratio_not_an_error():
    # a covariate with the same distribution in both groups: every ps is 0.5, the score's weighted
    # variance is 0 in both groups (was ZeroDivisionError)
    d = pd.DataFrame({"t": [0, 0, 0, 0, 1, 1, 1, 1], "g": [1, 2, 1, 2, 2, 1, 2, 1]})
    res = propensity(d, "t", ["g"], estimand="ATT")
    assert np.allclose(res.ps, 0.5)
    row = res.balance.set_index("covariate").loc["propensity score"]
    assert np.isnan(row["var_ratio_after"]) and np.isnan(row["var_ratio_before"])
    assert res.balance.set_index("covariate").loc["g", ["smd_after", "var_ratio_after"]].tolist() == [0.0, 1.0]


def test_complete_separation_is_a_clear_error():
    d = pd.DataFrame({"x": np.arange(40.0), "t": (np.arange(40) >= 20).astype(int),
                      "z": np.random.default_rng(0).normal(size=40)})
    with pytest.raises(InputError, match="separation.*'x'"):
        propensity(d, "t", ["x", "z"])
    # quasi-complete: a category only among the treated
    d2 = pd.DataFrame({"site": ["A"] * 10 + ["B"] * 30, "t": [1] * 10 + [0, 1] * 15,
                       "z": np.random.default_rng(1).normal(size=40)})
    with pytest.raises(InputError, match="separation"):
        propensity(d2, "t", ["site", "z"])


def test_all_treated_and_bad_columns():
    with pytest.raises(InputError, match="all treated, or none"):
        propensity(GR.assign(treated=1), "treated", ["age"])
    with pytest.raises(InputError, match=r"\['agee'\] are not in the data"):
        propensity(GR, "treated", ["agee"])
    with pytest.raises(InputError, match="estimand must be one of"):
        propensity(GR, "treated", ["age"], estimand="ATC")
    with pytest.raises(InputError, match="3 levels"):
        propensity(GR, "arm", ["age"])


def test_codebook_categoricals_from_the_loader():
    """Loaded data hold 0/1 treatment and nominal codes as categoricals with integer
    categories: the treated level is 1 (not True) and country is dummy-coded."""
    rng = np.random.default_rng(7)
    n = 400
    country = rng.integers(1, 4, n)
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(x + 0.5 * (country == 3))))).astype(int)
    plain = pd.DataFrame({"t": t, "x": x, "country": country.astype(str)})
    coded = pd.DataFrame({
        "t": pd.Categorical(t, categories=[0, 1], ordered=True),
        "x": x,
        "country": pd.Categorical(country, categories=[1, 2, 3], ordered=False),
    })
    a = propensity(plain, "t", ["x", "country"])
    b = propensity(coded, "t", ["x", "country"])
    np.testing.assert_allclose(a.ps.to_numpy(), b.ps.to_numpy(), rtol=1e-10)
    assert len(b.model) == 4  # intercept, x, two country dummies
