"""veplab.outcomes.effects (ANCOVA, difference-in-differences) against R lm."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.outcomes import ancova, did, plot_trajectories

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "outcomes.json").read_text())
GR = pd.read_csv(REF / "data" / "outcomes_groups.csv")
DL = pd.read_csv(REF / "data" / "outcomes_did.csv")


def _check_table(tab, ref, cols=("estimate", "se", "t", "p", "ci_low", "ci_high"), rel=1e-6):
    for c in cols:
        assert tab[c].to_numpy() == pytest.approx(ref[c], rel=rel), c


def test_ancova_two_groups_matches_lm():
    with pytest.warns(UserWarning, match="2 of 300 rows"):
        res = ancova(GR, "post", "pre", "treated", ["age", "sex"])
    ref = R["ancova"]["two"]
    _check_table(res.table, ref)
    # R's names (the fixture's factor column is treated_f): issue 17
    assert list(res.table["term"]) == [t.replace("treated_f", "treated") for t in ref["term"]]
    assert list(res.table["term"]) == ["(Intercept)", "pre", "treated1", "age", "sexM"]
    assert res.group_F == pytest.approx(ref["F"], rel=1e-9)
    assert res.group_p == pytest.approx(ref["p_F"], rel=1e-9)
    assert res.r_squared == pytest.approx(ref["r2"], rel=1e-9)
    assert res.sigma == pytest.approx(ref["sigma"], rel=1e-9)
    assert res.n == ref["n"] and res.n_dropped == 2
    assert res.adjusted_means["adjusted_mean"].to_numpy() == pytest.approx(ref["adjusted"], rel=1e-9)
    # the effect is the adjusted difference of means
    am = res.adjusted_means["adjusted_mean"]
    assert res.effects["estimate"][0] == pytest.approx(am[1] - am[0], rel=1e-9)


def test_ancova_three_arms_and_ci_level():
    with pytest.warns(UserWarning):
        res = ancova(GR, "post", "pre", "arm", ["age"], ci=0.9)
    ref = R["ancova"]["three"]
    _check_table(res.table, ref)
    assert res.group_df1 == ref["df1"] == 2
    assert res.group_F == pytest.approx(ref["F"], rel=1e-9)
    assert res.adjusted_means["adjusted_mean"].to_numpy() == pytest.approx(ref["adjusted"], rel=1e-9)
    assert list(res.effects["term"]) == ["armmentoring", "armtraining"]
    assert list(res.table["term"]) == ref["term"]


def test_did_classical_and_cr1():
    res = did(DL, "score", "group", "period")
    _check_table(res.table, R["did"]["classical"])
    assert res.estimate == pytest.approx(R["did"]["classical"]["estimate"][3], rel=1e-9)
    rc = did(DL, "score", "group", "period", cluster="prison")
    ref = R["did"]["cr1"]
    _check_table(rc.table, ref)
    assert rc.n_clusters == ref["G"] and rc.df == ref["G"] - 1
    # four cell means
    cells = R["did"]["cells"]
    ours = rc.cell_means.set_index(["group", "period"])["mean"]
    for cell in cells:
        assert ours[(cell["group"], cell["period"])] == pytest.approx(cell["score"], rel=1e-12)
    # DiD = difference of differences of the cell means
    dd = (ours[(1, 1)] - ours[(1, 0)]) - (ours[(0, 1)] - ours[(0, 0)])
    assert rc.estimate == pytest.approx(dd, rel=1e-9)


def test_did_cluster_se_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.formula.api")
    fit = sm.ols("score ~ group * period", data=DL).fit(cov_type="cluster", cov_kwds={"groups": DL["prison"]},
                                                      use_t=True)
    rc = did(DL, "score", "group", "period", cluster="prison")
    assert rc.table["se"].to_numpy() == pytest.approx(fit.bse.to_numpy(), rel=1e-9)
    lo = fit.conf_int().to_numpy()[:, 0]
    assert rc.table["ci_low"].to_numpy() == pytest.approx(lo, rel=1e-9)


def test_did_text_levels_and_chosen_reference():
    d = DL.assign(group=np.where(DL["group"] == 1, "programme", "comparison"),
                  period=np.where(DL["period"] == 1, "after", "before"))
    res = did(d, "score", "group", "period", treated="programme", post="after")
    assert res.estimate == pytest.approx(R["did"]["classical"]["estimate"][3], rel=1e-9)


def test_plot_trajectories():
    import matplotlib.pyplot as plt

    ax = plot_trajectories(DL, "score", "group", "period")
    assert len(ax.get_legend().get_texts()) == 2
    plt.close("all")


def test_bad_inputs():
    with pytest.raises(InputError, match="only one level"):
        did(DL.assign(group=1), "score", "group", "period")
    with pytest.raises(InputError, match="exactly two"):
        did(DL.assign(period=DL.index % 3), "score", "group", "period")
    with pytest.raises(InputError, match="all four"):
        did(DL[~((DL.group == 1) & (DL.period == 1))], "score", "group", "period")
    with pytest.raises(InputError, match="single cluster"):
        did(DL.assign(prison=1), "score", "group", "period", cluster="prison")
    with pytest.raises(InputError, match=r"\['postt'\] are not in the data"):
        ancova(GR, "postt", "pre", "treated")
    with pytest.raises(InputError, match="only one level"), pytest.warns(UserWarning):
        ancova(GR.assign(treated=1), "post", "pre", "treated")
