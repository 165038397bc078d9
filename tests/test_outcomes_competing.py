"""Competing risks against R (tests/reference/competing.R: cmprsk 2.2-11, survival 3.5).

Closed forms (Aalen-Johansen estimates, variances, intervals, Gray's test) at
1e-9 relative; Fine-Gray (iterative) coefficients and sandwich standard errors
at 1e-6 against crr run to gtol = 1e-12, and 1e-3 against crr's defaults.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.outcomes import cause_specific_cox, cumulative_incidence, fine_gray, plot_cuminc

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "competing.json").read_text())
D = pd.read_csv(REF / "data" / "competing.csv")
D["gb"] = (D["group"] == "b").astype(int)
D["gc"] = (D["group"] == "c").astype(int)
X = ["x1", "x2", "gb", "gc"]


def close(a, b, rel):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rel, atol=1e-13)


def _curve(res, group, cause):
    t = res.table
    return t[(t["group"] == group) & (t["cause"] == cause)]


@pytest.mark.parametrize("grouped", [False, True])
def test_cuminc_estimates_variances_and_intervals_match_cmprsk(grouped):
    res = cumulative_incidence(D, "time", "status", "group" if grouped else None)
    ref = R["cuminc"]["by_group" if grouped else "overall"]
    assert len(ref) == (6 if grouped else 2)
    for key, r in ref.items():
        g, c = key.split()
        tab = _curve(res, g if grouped else "all", int(c))
        close(tab["time"], r["time"], 0)
        close(tab["estimate"], r["est"], 1e-9)
        close(tab["var"], r["var"], 1e-9)
        close(tab["ci_low"], r["lo"], 1e-9)
        close(tab["ci_high"], r["hi"], 1e-9)
        assert res.end[g if grouped else "all"] == r["end"]


@pytest.mark.parametrize(("key", "kw"), [("tests", {}), ("tests_strata", {"strata": "stratum"}),
                                         ("tests_rho1", {"rho": 1})])
def test_gray_test_matches_cmprsk(key, kw):
    res = cumulative_incidence(D, "time", "status", "group", **kw)
    r = R["cuminc"][key]
    assert res.tests["cause"].tolist() == r["cause"]
    close(res.tests["stat"], r["stat"], 1e-9)
    close(res.tests["p"], r["p"], 1e-9)
    assert res.tests["df"].tolist() == r["df"]


def test_values_at_times_match_timepoints():
    res = cumulative_incidence(D, "time", "status", "group")
    tp = R["cuminc"]["timepoints"]
    at = res.at(tp["times"])
    for i, name in enumerate(tp["names"]):
        g, c = name.split()
        a = at[(at["group"] == g) & (at["cause"] == int(c))]
        est = [np.nan if v == "NA" else v for v in tp["est"][i]]
        var = [np.nan if v == "NA" else v for v in tp["var"][i]]
        close(a["estimate"], est, 1e-9)
        close(a["var"], var, 1e-9)


@pytest.mark.parametrize(("key", "kw", "cov"), [
    ("tight", {}, X), ("cause2", {"cause": 2}, X), ("cengroup", {"cengroup": "cg"}, X), ("one", {}, ["x1"])])
def test_fine_gray_matches_crr(key, kw, cov):
    fit = fine_gray(D, "time", "status", cov, **kw)
    r = R["crr"][key]
    close(fit.table["coef"], r["coef"], 1e-6)
    close(fit.table["se"], r["se"], 1e-6)
    close(fit.vcov.to_numpy().ravel(), np.ravel(r["var"]), 1e-6)
    close(fit.information.to_numpy().ravel(), np.ravel(r["inf"]), 1e-6)
    close(fit.loglik, r["loglik"], 1e-9)
    assert fit.converged


def test_fine_gray_agrees_with_crr_defaults_within_its_tolerance():
    fit = fine_gray(D, "time", "status", X)
    r = R["crr"]["default"]
    close(fit.table["coef"], r["coef"], 1e-3)
    close(fit.table["se"], r["se"], 1e-3)
    assert fit.n_events == int((D["status"] == 1).sum()) and fit.n_competing == int((D["status"] == 2).sum())


def test_fine_gray_categorical_covariate_is_coded_as_r():
    a = fine_gray(D, "time", "status", ["x1", "x2", "group"])
    b = fine_gray(D, "time", "status", X)
    close(a.table["coef"], b.table["coef"], 1e-12)


@pytest.mark.parametrize("cause", [1, 2])
def test_cause_specific_cox_matches_coxph(cause):
    fit = cause_specific_cox(D, "time", "status", ["x1", "x2", "group"], cause=cause)
    r = R["cause_specific"][f"cause{cause}"]
    close(fit.table["coef"], r["coef"], 1e-6)
    close(fit.table["se"], r["se"], 1e-6)
    close([fit.loglik_null, fit.loglik], r["loglik"], 1e-9)
    both = cause_specific_cox(D, "time", "status", ["x1", "x2", "group"])
    assert set(both) == {1, 2}
    close(both[cause].table["coef"], r["coef"], 1e-6)


def test_cuminc_sums_with_survival_to_one():
    """Aalen-Johansen: the causes' incidences and the all-cause Kaplan-Meier add up to 1."""
    from veplab.outcomes import kaplan_meier

    res = cumulative_incidence(D, "time", "status")
    d = D.assign(any=(D["status"] > 0).astype(int))
    km = kaplan_meier(d, "time", "any")
    times = [10, 40, 90]
    total = res.at(times).groupby("time")["estimate"].sum().to_numpy()
    surv = km.survival_at(times)["surv"].to_numpy()
    close(total + surv, np.ones(3), 1e-12)


def test_bad_input_gives_clear_errors():
    with pytest.raises(InputError, match="censored"):
        cumulative_incidence(D.assign(status=0), "time", "status")
    with pytest.raises(InputError, match="missing"):
        cumulative_incidence(D.assign(time=np.where(D.index == 3, np.nan, D["time"])), "time", "status")
    with pytest.raises(InputError, match="cause 7"):
        fine_gray(D, "time", "status", ["x1"], cause=7)
    with pytest.raises(InputError, match="not in the data"):
        fine_gray(D, "time", "status", ["nope"])
    with pytest.raises(InputError, match="single value"):
        fine_gray(D.assign(k=1), "time", "status", ["k"])
    with pytest.raises(InputError, match="negative"):
        cumulative_incidence(D.assign(time=-D["time"]), "time", "status")


def test_plot_draws_one_line_per_group_and_cause():
    import matplotlib

    matplotlib.use("Agg")
    res = cumulative_incidence(D, "time", "status", "group")
    fig = plot_cuminc(res, labels={1: "Re-arrest", 2: "Death"})
    titles = [a.get_title() or a.get_title(loc="left") for a in fig.axes]  # veplab's style puts titles left
    assert len(fig.axes) == 2 and titles == ["Re-arrest", "Death"]  # a panel per cause
    assert all(len(a.get_lines()) == 3 for a in fig.axes)  # a line per group
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b", "c"]
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    one = plot_cuminc(res, ax=ax)  # into given axes: every curve in it
    assert len([ln for ln in one.axes[0].get_lines() if not ln.get_label().startswith("_")]) == 6
    fig2 = res.plot(cause=1, min_at_risk=50)
    tops = [ln.get_xdata().max() for ln in fig2.axes[0].get_lines()]
    assert max(tops) < D["time"].max()
    import matplotlib.pyplot as plt

    plt.close("all")


def test_fine_gray_plot_and_summary():
    import matplotlib

    matplotlib.use("Agg")
    fit = fine_gray(D, "time", "status", X)
    assert "SHR" in fit.summary() and fit.to_frame().shape[0] == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit.plot()
    import matplotlib.pyplot as plt

    plt.close("all")
