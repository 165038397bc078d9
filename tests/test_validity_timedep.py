"""Prediction over time against R (tests/reference/timedep.R): riskRegression::Score
(time-dependent AUC and Brier with influence-function SEs, null model, IPA),
survival::concordance(timewt = "n/G2") (Uno's C), calibration at a horizon
(survfit / cmprsk observed risks; IPCW logistic intercept and slope with HC0 SEs)
and net benefit written out in R.  Closed forms at 1e-9 relative; the calibration
glm (iterative, R run to epsilon = 1e-14) at 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.outcomes import concordance
from veplab.validity.decision import decision_curve
from veplab.validity.timedep import brier_score, calibration_at, time_auc, uno_c

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "timedep.json").read_text())
D = pd.read_csv(REF / "data" / "competing.csv")
EV = (D["status"] == 1).astype(int).to_numpy()
TIMES = [13, 26, 52, 78]
P = np.column_stack([1 - (1 - D["risk"].to_numpy()) ** (t / 52) for t in TIMES])


def close(a, b, rel):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rel, atol=1e-14)


@pytest.mark.parametrize("key", ["survival", "competing"])
def test_time_auc_and_se_match_score(key):
    status = EV if key == "survival" else D["status"].to_numpy()
    r = R["score"][key]
    tab = time_auc(D["time"], status, P, TIMES).table
    close(tab["time"], r["times"], 0)
    close(tab["auc"], r["auc"], 1e-9)
    close(tab["se"], r["auc_se"], 1e-9)
    close(tab["ci_low"], r["auc_lower"], 1e-9)
    close(tab["ci_high"], r["auc_upper"], 1e-9)
    assert (tab["n_cases"] + tab["n_controls"] + tab["n_censored"] == len(D)).all()


def test_time_auc_with_tied_levels_matches_score():
    tab = time_auc(D["time"], EV, D["level"].to_numpy(), TIMES).table
    close(tab["auc"], R["score"]["levels"]["auc"], 1e-9)
    close(tab["se"], R["score"]["levels"]["se"], 1e-9)


@pytest.mark.parametrize("key", ["survival", "competing"])
def test_brier_null_and_ipa_match_score(key):
    status = EV if key == "survival" else D["status"].to_numpy()
    r = R["score"][key]
    tab = brier_score(D["time"], status, P, TIMES).table
    close(tab["brier"], r["brier"], 1e-9)
    close(tab["se"], r["brier_se"], 1e-9)
    close(tab["ci_low"], r["brier_lower"], 1e-9)
    close(tab["null_brier"], r["null_brier"], 1e-9)
    close(tab["null_se"], r["null_brier_se"], 1e-9)
    close(tab["ipa"], r["ipa"], 1e-9)


def test_uno_c_and_harrell_match_survival_concordance():
    u = R["uno"]
    for tau, c, se in zip(u["tau"], u["c"], u["se"]):
        out = uno_c(D["time"], EV, D["risk"].to_numpy(), tau)
        close([out.estimate, out.se], [c, se], 1e-9)
    h = concordance(D["time"].to_numpy(), EV, D["risk"].to_numpy())
    close([h.estimate, h.se], [u["harrell"], u["harrell_se"]], 1e-9)


@pytest.mark.parametrize(("key", "obs"), [("survival", "km"), ("competing", "aj")])
def test_calibration_at_horizon_matches_r(key, obs):
    status = EV if key == "survival" else D["status"].to_numpy()
    c = R["calibration"]
    fit = calibration_at(D["time"], status, P[:, 2], c["tau"])
    assert fit.method == obs
    r = c[key]
    close([fit.intercept, fit.slope], [r["intercept"], r["slope"]], 1e-6)
    close([fit.intercept_se, fit.slope_se], [r["intercept_se"], r["slope_se"]], 1e-6)
    g = c[obs]
    close(fit.table["n"], g["n"], 0)
    close(fit.table["predicted"], g["predicted"], 1e-9)
    close(fit.table["observed"], g["observed"], 1e-9)
    close(fit.table["ci_low"], g["lower"], 1e-9)
    close(fit.table["ci_high"], g["upper"], 1e-9)


@pytest.mark.parametrize(("key", "kw"), [
    ("binary", {}), ("survival", {"status": EV}), ("competing", {"status": D["status"].to_numpy()})])
def test_net_benefit_matches_r(key, kw):
    nb = R["net_benefit"]
    p = P[:, 2]
    if key == "binary":
        y = ((D["time"] <= 52) & (D["status"] == 1)).astype(int)
        dc = decision_curve(p, y=y, thresholds=nb["thresholds"])
    else:
        dc = decision_curve(p, time=D["time"], tau=52, thresholds=nb["thresholds"], **kw)
    close(dc.table["net_benefit"], nb[key], 1e-9)
    close(dc.table["treat_all"], nb[f"{key}_all"], 1e-9)
    assert (dc.table["treat_none"] == 0).all()


def test_perfect_and_useless_predictions():
    rng = np.random.default_rng(3)
    n = 300
    t = rng.uniform(1, 20, n)
    s = (rng.random(n) < 0.6).astype(int)
    r = np.where((t <= 10) & (s == 1), 1.0, 0.0)
    assert time_auc(t, s, r, [10]).table["auc"].iloc[0] == pytest.approx(1.0)
    const = np.full(n, 0.3)
    assert time_auc(t, s, const, [10]).table["auc"].iloc[0] == pytest.approx(0.5)
    b = brier_score(t, s, np.full(n, 0.3), [10]).table
    assert b["brier"].iloc[0] > 0 and np.isfinite(b["ipa"].iloc[0])


def test_decision_curve_useful_range_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    dc = decision_curve(P[:, 2], time=D["time"], status=EV, tau=52)
    assert len(dc.table) == 99
    rng_ = dc.useful_range()
    assert rng_ is None or 0 < rng_[0] <= rng_[1] < 1
    dc.plot()
    time_auc(D["time"], EV, P, TIMES).plot()
    calibration_at(D["time"], EV, P[:, 2], 52).plot()
    import matplotlib.pyplot as plt

    plt.close("all")


def test_bad_input_gives_clear_errors():
    with pytest.raises(InputError, match="one value per person"):
        time_auc(D["time"], EV, P[:10], TIMES)
    with pytest.raises(InputError, match="between 0 and 1"):
        brier_score(D["time"], EV, D["level"].to_numpy(), TIMES)
    with pytest.raises(InputError, match="positive horizons"):
        time_auc(D["time"], EV, P[:, 0], [])
    with pytest.raises(InputError, match="0 .censored. or 1"):
        uno_c(D["time"], D["status"], D["risk"], 52)
    with pytest.raises(InputError, match="give a binary outcome"):
        decision_curve(P[:, 2])
    with pytest.raises(InputError, match="strictly between"):
        calibration_at(D["time"], EV, D["level"].to_numpy(), 52)
