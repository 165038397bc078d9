"""veplab.outcomes.survival against R survival 3.5 (tests/reference/outcomes.R)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.outcomes import concordance, cox, cox_zph, kaplan_meier, logrank, plot_forest, plot_km

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "outcomes.json").read_text())
ROSSI = pd.read_csv(REF / "data" / "outcomes_rossi.csv")
SYN = pd.read_csv(REF / "data" / "outcomes_survival.csv")
COX_TOL = 1e-6  # our Newton iterations converge further than coxph's; agreement is ~1e-9


def _nan(x):
    return np.nan if x is None else x


def _vec(x):
    """R's auto_unbox writes length-1 vectors as scalars."""
    return x if isinstance(x, list) else [x]


def _check_cox(fit, ref, *, tol=COX_TOL, check_score=True):
    tab = fit.table
    assert list(tab["term"]) == ref["term"]
    assert tab["coef"].to_numpy() == pytest.approx(ref["coef"], rel=tol)
    assert tab["se"].to_numpy() == pytest.approx(ref["se"], rel=tol)
    assert tab["naive_se"].to_numpy() == pytest.approx(ref["naive_se"], rel=tol)
    assert tab["z"].to_numpy() == pytest.approx(ref["z"], rel=tol)
    assert tab["p"].to_numpy() == pytest.approx(ref["p"], rel=1e-5)
    assert tab["hr_ci_low"].to_numpy() == pytest.approx(ref["ci_low"], rel=tol)
    assert tab["hr_ci_high"].to_numpy() == pytest.approx(ref["ci_high"], rel=tol)
    assert [fit.loglik_null, fit.loglik] == pytest.approx(ref["loglik"], rel=1e-9)
    assert fit.wald_chisq == pytest.approx(ref["wald"], rel=tol)
    if check_score and ref["score"] is not None:
        assert fit.score_chisq == pytest.approx(ref["score"], rel=tol)
    if ref["rscore"] is not None:
        assert fit.robust_score_chisq == pytest.approx(ref["rscore"], rel=tol)
    assert fit.robust == ref["robust"]
    assert fit.concordance == pytest.approx(ref["concordance"], rel=1e-9)
    assert fit.concordance_se == pytest.approx(ref["concordance_std"], rel=1e-6)
    assert (fit.n, fit.n_events) == (ref["n"], ref["nevent"])


def _check_zph(res, ref, tol=1e-6):
    tab = res.table
    assert list(tab["term"]) == ref["term"]
    assert tab["chisq"].to_numpy() == pytest.approx(ref["chisq"], rel=tol)
    assert tab["df"].tolist() == ref["df"]
    assert tab["p"].to_numpy() == pytest.approx(ref["p"], rel=tol)


# ------------------------------------------------------------------ Cox on Rossi (public)
ROSSI_COV = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


def test_rossi_published_coefficients():
    # Fox & Weisberg's appendix on Cox models (Rossi data): fin -0.379, age -0.0574, prio 0.0915
    fit = cox(ROSSI, "week", "arrest", ROSSI_COV)
    coef = fit.table.set_index("term")["coef"]
    assert round(coef["fin"], 3) == -0.379
    assert round(coef["age"], 4) == -0.0574
    assert round(coef["prio"], 4) == 0.0915


def test_rossi_efron_matches_coxph_and_zph():
    fit = cox(ROSSI, "week", "arrest", ROSSI_COV)
    _check_cox(fit, R["rossi"]["cox_full"])
    _check_zph(fit.zph(), R["rossi"]["zph_full"])
    _check_zph(cox_zph(fit, "rank"), R["rossi"]["zph_full_rank"])
    _check_zph(cox_zph(fit, "identity"), R["rossi"]["zph_full_identity"])


def test_rossi_breslow_and_strata():
    _check_cox(cox(ROSSI, "week", "arrest", ["fin", "age", "prio"], ties="breslow"), R["rossi"]["cox_breslow"])
    fs = cox(ROSSI, "week", "arrest", ["fin", "age", "prio"], strata="wexp")
    _check_cox(fs, R["rossi"]["cox_strata"])
    _check_zph(fs.zph(), R["rossi"]["zph_strata"])


def test_rossi_with_propensity_weights_uses_robust_variance_like_coxph():
    from veplab.outcomes import propensity

    ps = propensity(ROSSI, "fin", ["age", "prio", "race", "wexp"], estimand="ATE")
    assert ps.weights.iloc[:5].to_numpy() == pytest.approx(R["rossi"]["w_ate_first"], rel=1e-7)
    d = ROSSI.assign(w=ps.weights)
    fit = cox(d, "week", "arrest", ["fin", "age", "prio"], weights="w")
    assert fit.robust  # non-integer weights -> robust by default, as coxph
    _check_cox(fit, R["rossi"]["cox_weighted"])
    _check_zph(fit.zph(), R["rossi"]["zph_weighted"])
    eff = ps.effect(kind="survival", duration="week", event="arrest")
    ref = R["rossi"]["cox_weighted_fin"]
    assert eff.estimate == pytest.approx(ref["coef"], rel=COX_TOL)
    assert eff.se == pytest.approx(ref["se"], rel=COX_TOL)
    assert eff.ratio == pytest.approx(np.exp(ref["coef"]), rel=COX_TOL)
    assert ref["robust"]


def test_integer_weights_are_frequency_weights_model_based():
    d = ROSSI.assign(w=2)
    f1 = cox(d, "week", "arrest", ["fin"], weights="w")
    assert not f1.robust
    f2 = cox(d, "week", "arrest", ["fin"], weights="w", robust=True)
    assert f2.robust and f2.table["se"][0] != pytest.approx(f1.table["se"][0])


# ------------------------------------------------------------------ Cox on synthetic data
def test_synthetic_factor_covariate_per_term_zph():
    fit = cox(SYN, "weeks", "rearrest", ["treated", "age", "prior", "country"])
    ref = R["synthetic"]["cox_country"]  # terms named as R names them (countryTunisia)
    _check_cox(fit, ref)
    z = fit.zph()
    _check_zph(z, R["synthetic"]["zph_country"])
    assert z.table.set_index("term").loc["country", "df"] == 2


def test_synthetic_strata_and_cluster():
    fit = cox(SYN, "weeks", "rearrest", ["treated", "age", "prior"], strata="sex", cluster="prison")
    _check_cox(fit, R["synthetic"]["cox_cluster"])
    assert fit.n_clusters == 10
    _check_zph(fit.zph(), R["synthetic"]["zph_cluster"])


def test_synthetic_weights_and_cluster():
    from veplab.outcomes import propensity

    ps = propensity(SYN, "treated", ["age", "prior", "sex"], estimand="ATT")
    d = SYN.assign(w=ps.weights)
    _check_cox(cox(d, "weeks", "rearrest", ["treated", "age"], weights="w", cluster="prison"),
               R["synthetic"]["cox_weights_cluster"])
    eff = ps.effect(kind="survival", duration="weeks", event="rearrest")
    ref = R["synthetic"]["cox_att"]
    assert [eff.estimate, eff.se, eff.z] == pytest.approx([ref["coef"], ref["se"], ref["z"]], rel=COX_TOL)


# ------------------------------------------------------------------ KM and log-rank
def _check_km(km, ref, strata_map=None):
    tab = km.table
    ours = tab[tab["n_event"] > 0].reset_index(drop=True)  # summary.survfit rows = event times
    # R's summary(censored=TRUE) lists all times; compare on all rows
    assert len(tab) == len(ref["time"])
    assert tab["time"].to_numpy() == pytest.approx(ref["time"])
    assert tab["n_risk"].to_numpy() == pytest.approx(ref["n_risk"])
    assert tab["surv"].to_numpy() == pytest.approx(ref["surv"], rel=1e-12)
    assert tab["std_err"].to_numpy() == pytest.approx(ref["std_err"], rel=1e-9, abs=1e-15)
    lo = np.array([_nan(v) for v in ref["lower"]], float)
    hi = np.array([_nan(v) for v in ref["upper"]], float)
    np.testing.assert_allclose(tab["lower"].to_numpy(), lo, rtol=1e-9)
    np.testing.assert_allclose(tab["upper"].to_numpy(), hi, rtol=1e-9)
    assert len(ours) > 0


def test_km_by_group_rossi_log_intervals_and_medians():
    km = kaplan_meier(ROSSI, "week", "arrest", "fin")
    _check_km(km, R["rossi"]["km"])
    med = R["rossi"]["km_median"]
    for col in ("median", "lower", "upper"):
        np.testing.assert_allclose(km.medians[col].to_numpy(), np.array([_nan(v) for v in med[col]], float))
    at = km.survival_at([0, 10, 26, 52])
    ref = R["rossi"]["km_at"]
    assert at["n_risk"].to_numpy() == pytest.approx(ref["n_risk"])
    assert at["surv"].to_numpy() == pytest.approx(ref["surv"], rel=1e-12)
    assert at["lower"].to_numpy() == pytest.approx(ref["lower"], rel=1e-9)
    rt = km.risk_table([0, 26, 52])
    assert rt.loc[0].tolist() == [216, at.query("group == 0 and time == 26")["n_risk"].item(),
                                  at.query("group == 0 and time == 52")["n_risk"].item()]


def test_km_loglog_90():
    km = kaplan_meier(ROSSI, "week", "arrest", ci=0.9, conf_type="log-log")
    _check_km(km, R["rossi"]["km_loglog"])
    med = R["rossi"]["km_loglog_median"]
    np.testing.assert_allclose(km.medians[["median", "lower", "upper"]].to_numpy()[0],
                               np.array([_nan(_vec(med[c])[0]) for c in ("median", "lower", "upper")], float))


def test_km_synthetic_groups_and_median_midpoint_rule():
    km = kaplan_meier(SYN, "weeks", "rearrest", "country")
    _check_km(km, R["synthetic"]["km"])
    med = R["synthetic"]["km_median"]
    for col in ("median", "lower", "upper"):
        np.testing.assert_allclose(km.medians[col].to_numpy(), np.array([_nan(v) for v in med[col]], float))
    half = kaplan_meier(pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": 1}), "t", "e")
    assert half.medians["median"][0] == R["km_half"]["median"] == 3.5


def test_logrank_matches_survdiff():
    lr = logrank(ROSSI, "week", "arrest", "fin")
    ref = R["rossi"]["survdiff"]
    assert lr.chisq == pytest.approx(ref["chisq"], rel=1e-9)
    assert lr.table["observed"].to_numpy() == pytest.approx(ref["obs"])
    assert lr.table["expected"].to_numpy() == pytest.approx(ref["exp"], rel=1e-9)
    assert lr.df == 1
    lr3 = logrank(SYN, "weeks", "rearrest", "country")
    assert lr3.chisq == pytest.approx(R["synthetic"]["survdiff"]["chisq"], rel=1e-9)
    assert lr3.table["expected"].to_numpy() == pytest.approx(R["synthetic"]["survdiff"]["exp"], rel=1e-9)
    assert lr3.df == 2
    lrs = logrank(SYN, "weeks", "rearrest", "treated", strata="sex")
    assert lrs.chisq == pytest.approx(R["synthetic"]["survdiff_strata"]["chisq"], rel=1e-9)
    assert lrs.table["expected"].to_numpy() == pytest.approx(R["synthetic"]["survdiff_strata"]["exp"], rel=1e-9)


# ------------------------------------------------------------------ invariants
def _brute_concordance(t, e, r, w):
    num = den = 0.0
    n = len(t)
    for i in range(n):
        if e[i] != 1:
            continue
        for j in range(n):
            if j == i:
                continue
            if t[j] > t[i] or (t[j] == t[i] and e[j] == 0):
                ww = w[i] * w[j]
                den += ww
                num += ww * (1.0 if r[i] > r[j] else 0.5 if r[i] == r[j] else 0.0)
    return num / den if den > 0 else np.nan


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 40))
def test_concordance_equals_brute_force(seed, n):
    r = np.random.default_rng(seed)
    t = r.integers(1, 8, n).astype(float)
    e = (r.random(n) < 0.6).astype(float)
    e[0] = 1
    risk = np.round(r.normal(size=n), 1)
    w = r.uniform(0.5, 2, n)
    c = concordance(t, e, risk, weights=w)
    brute = _brute_concordance(t, e, risk, w)
    if np.isnan(brute):
        assert np.isnan(c.estimate)
    else:
        assert c.estimate == pytest.approx(brute, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_cox_invariant_to_row_order_and_covariate_shift(seed):
    r = np.random.default_rng(seed)
    d = ROSSI.sample(frac=1, random_state=seed % 1000).reset_index(drop=True)
    f1 = cox(ROSSI, "week", "arrest", ["fin", "age"])
    f2 = cox(d.assign(age=d["age"] + r.normal(0, 5)), "week", "arrest", ["fin", "age"])
    assert f2.table["coef"].to_numpy() == pytest.approx(f1.table["coef"].to_numpy(), rel=1e-8)
    assert f2.concordance == pytest.approx(f1.concordance, rel=1e-12)


# ------------------------------------------------------------------ plots
def test_plots_return_objects():
    import matplotlib.pyplot as plt

    km = kaplan_meier(ROSSI, "week", "arrest", "fin")
    fig = plot_km(km, times=[0, 13, 26, 39, 52])
    assert fig.axes and any("At risk" in t.get_text() for t in fig.axes[0].texts)
    fit = cox(ROSSI, "week", "arrest", ["fin", "age", "prio"])
    ax = plot_forest(fit)
    assert len(ax.get_yticklabels()) == 3
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "hazard ratio (log scale) with interval"
    # the dots are the hazard ratios, top to bottom in the table's order
    points = [line for line in ax.get_lines() if line.get_marker() == "o"][0]
    np.testing.assert_allclose(points.get_xdata(), fit.table["hr"].to_numpy())
    assert [t.get_text() for t in fit.plot().get_yticklabels()] == list(fit.table["term"])
    plt.close("all")


# ------------------------------------------------------------------ bad input
def test_no_events():
    d = ROSSI.assign(arrest=0)
    with pytest.raises(InputError, match="no events"):
        cox(d, "week", "arrest", ["fin"])
    with pytest.raises(InputError, match="no events"):
        kaplan_meier(d, "week", "arrest")


def test_negative_and_missing_durations():
    d = ROSSI.copy()
    d.loc[3, "week"] = -2
    with pytest.raises(InputError, match="negative values.*row 3"):
        kaplan_meier(d, "week", "arrest")
    d.loc[3, "week"] = np.nan
    with pytest.raises(InputError, match="missing in 1 rows"):
        cox(d, "week", "arrest", ["fin"])


def test_event_coding_and_unknown_columns():
    with pytest.raises(InputError, match="must be 0 .* or 1"):
        kaplan_meier(ROSSI.assign(arrest=ROSSI["arrest"] * 2), "week", "arrest")
    with pytest.raises(InputError, match=r"\['weeks'\] are not in the data"):
        cox(ROSSI, "weeks", "arrest", ["fin"])


def test_group_with_one_level():
    with pytest.raises(InputError, match="only one level"):
        logrank(ROSSI.assign(g="a"), "week", "arrest", "g")
    with pytest.raises(InputError, match="single value"):
        cox(ROSSI.assign(g=1), "week", "arrest", ["g"])


def test_missing_covariate_rows_are_reported():
    d = ROSSI.copy()
    d.loc[[1, 2], "age"] = np.nan
    with pytest.warns(UserWarning, match="2 rows .* left out"):
        fit = cox(d, "week", "arrest", ["fin", "age"])
    assert fit.n == 430


# ------------------------------------------------------------------ vectorised concordance
def _brute_influence(t, e, r, w):
    """Per observation: weighted counts of its comparable partners that are concordant, discordant, tied."""
    n = len(t)
    infl = np.zeros((n, 3))
    for i in range(n):
        if e[i] != 1:
            continue
        for j in range(n):
            if j != i and (t[j] > t[i] or (t[j] == t[i] and e[j] == 0)):
                k = 0 if r[i] > r[j] else 1 if r[i] < r[j] else 2
                infl[i, k] += w[j]
                infl[j, k] += w[i]
    return infl


def _brute_concordance_se(t, e, r, w, strata, cluster):
    counts = np.zeros(3)
    infl = np.zeros((len(t), 3))
    for s in np.unique(strata):
        m = np.flatnonzero(strata == s)
        inf = _brute_influence(t[m], e[m], r[m], w[m])
        infl[m] = inf
        counts += (w[m, None] * inf).sum(axis=0) / 2  # every pair is counted from both ends
    npair = counts.sum()
    if npair == 0:
        return np.nan, np.nan
    somer = (counts[0] - counts[1]) / npair
    dfb = w * ((infl[:, 0] - infl[:, 1]) / npair - somer / npair * infl.sum(axis=1))
    dfb = pd.Series(dfb).groupby(cluster).sum().to_numpy()
    return (somer + 1) / 2, np.sqrt(np.sum(dfb**2) / 4)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 60), st.integers(1, 40), st.integers(1, 40))
def test_quadrant_sums_equal_brute_force(seed, n, mx, my):
    from veplab.outcomes.survival import _quadrant_sums

    r = np.random.default_rng(seed)
    x, y = r.integers(0, mx, n), r.integers(0, my, n)
    wa, wb = r.uniform(0, 2, n), r.integers(0, 2, n).astype(float)
    A, B = _quadrant_sums(x, y, wa, wb)
    lo = (x[None, :] < x[:, None]) & (y[None, :] > y[:, None])  # [i, j]: x_j < x_i, y_j > y_i
    hi = (x[None, :] > x[:, None]) & (y[None, :] < y[:, None])
    assert A == pytest.approx(lo @ wa, abs=1e-12)
    assert B == pytest.approx(hi @ wb, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 60), st.sampled_from([3, 50]), st.sampled_from([4, 1000]))
def test_concordance_and_se_equal_brute_force_with_strata_and_clusters(seed, n, n_times, n_risks):
    # few times and many risk values, and the reverse, so both orientations of the count are used
    r = np.random.default_rng(seed)
    t = r.integers(1, n_times + 1, n).astype(float)
    e = (r.random(n) < 0.6).astype(float)
    e[:2] = 1
    risk = r.integers(0, n_risks, n) / 7.0
    w = r.uniform(0.5, 2, n)
    strata = r.integers(0, 2, n)
    strata[:2] = [0, 1]
    cluster = r.integers(0, max(2, n // 3), n)
    c = concordance(t, e, risk, weights=w, strata=strata, cluster=cluster)
    c_ref, se_ref = _brute_concordance_se(t, e, risk, w, strata, cluster)
    if np.isnan(c_ref):
        assert np.isnan(c.estimate)
    else:
        assert c.estimate == pytest.approx(c_ref, rel=1e-12)
        assert c.se == pytest.approx(se_ref, rel=1e-9, abs=1e-15)


def test_cox_concordance_computed_on_first_use_and_in_to_dict():
    fit = cox(ROSSI, "week", "arrest", ROSSI_COV)
    assert "_concordance" not in fit.__dict__  # the fit itself does not pay for the count
    ref = R["rossi"]["cox_full"]
    assert fit.concordance == pytest.approx(ref["concordance"], rel=1e-9)
    assert "_concordance" in fit.__dict__
    d = fit.to_dict()
    assert d["concordance"] == fit.concordance and d["concordance_se"] == fit.concordance_se
    assert list(d)[list(d).index("robust_score_p") + 1] == "concordance"
    assert f"concordance={ref['concordance']:.4f}" in fit.summary()


def test_concordance_returns_a_result_with_an_interval():
    from veplab.outcomes import ConcordanceResult, concordance

    rng = np.random.default_rng(11)
    t = rng.exponential(size=80)
    e = (rng.random(80) < 0.7).astype(int)
    r = -t + rng.normal(scale=1.0, size=80)
    c = concordance(t, e, r)
    assert isinstance(c, ConcordanceResult) and c.n == 80 and c.timewt == "n"
    z = 1.959963984540054
    assert c.ci_low == pytest.approx(c.estimate - z * c.se) and c.ci_high == pytest.approx(c.estimate + z * c.se)
    narrow = concordance(t, e, r, ci=0.5)
    assert narrow.estimate == c.estimate and narrow.ci_high - narrow.ci_low < c.ci_high - c.ci_low
    assert "Harrell's C" in c.summary() and c.to_frame()["estimate"].iloc[0] == c.estimate
    with pytest.warns(DeprecationWarning, match=r"\.estimate"):
        assert c["concordance"] == c.estimate
    with pytest.warns(DeprecationWarning, match=r"\.se"):
        assert c["std"] == c.se
    with pytest.raises(KeyError):
        c["nonsense"]


def test_concordance_refuses_what_it_cannot_count():
    from veplab.outcomes import concordance
    from veplab.validity import uno_c

    rng = np.random.default_rng(1)
    t = rng.exponential(size=60)
    st = (rng.random(60) < 0.7).astype(int)
    r = -t + rng.normal(size=60)
    for kw, msg in [({"risk": np.r_[np.nan, r[1:]]}, r"risk has 1 missing value.*row 0"),
                    ({"status": st * 2}, r"status must be 0 \(censored\) or 1"),
                    ({"risk": r[:-1]}, r"differ in length"),
                    ({"weights": -np.ones(60)}, r"not negative")]:
        args = {"time": t, "status": st, "risk": r, **kw}
        with pytest.raises(InputError, match=msg):
            concordance(**args)
    with pytest.raises(InputError, match="positive time"):
        uno_c(t, st, r, -1)
    c = concordance(t, st, r)
    assert "concordance" in c and "nonsense" not in c
    with pytest.warns(DeprecationWarning):
        assert c.get("std") == c.se
    assert c.get("nonsense", 7) == 7
