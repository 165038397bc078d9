"""Statistics that used to return bare DataFrames return a TableResult (issue 18).

Each carries its table and the settings that produced it, gives the table back
with ``to_frame()``, prints a ``summary()``, shows itself once as an HTML table
in a notebook, and draws itself with ``.plot()`` where a plot exists.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from veplab._results import Result, TableResult  # noqa: E402

RNG = np.random.default_rng(18)
N = 120
PEOPLE = pd.DataFrame({
    "item": pd.Categorical(RNG.integers(1, 6, N), categories=[1, 2, 3, 4, 5], ordered=True),
    "score": RNG.normal(3, 1, N),
    "g": np.repeat([0, 1], N // 2),
    "t": np.tile([0, 1], N // 2),
})


def _endorsement():
    from veplab.descriptives import endorsement

    return endorsement(PEOPLE, ["item", "score"], by=["g"], ci=0.9)


def _compare_groups():
    from veplab.descriptives import compare_groups

    return compare_groups(PEOPLE, ["score", "item"], "g")


def _population_shares():
    from veplab.descriptives import population_shares
    from veplab.survey import SurveyDesign

    d = pd.DataFrame({"g": [1, 1, 1, 2, 2, 2], "w": [1., 1, 1, 3, 3, 3], "psu": [1, 2, 3, 1, 2, 3]})
    return population_shares(d, "g", SurveyDesign(d, weights="w", cluster="psu"))


def _pool():
    from veplab.missing import pool

    fits = [pd.DataFrame({"term": ["a", "b"], "estimate": [q, -q], "se": [0.1, 0.2],
                          "odds_ratio": np.exp([q, -q])}) for q in (0.5, 0.6, 0.7)]
    return pool(fits, dfcom=100)


def _item_analysis():
    from veplab.reliability import item_analysis

    latent = RNG.normal(size=80)
    items = pd.DataFrame({f"q{i}": np.round(3 + latent + RNG.normal(size=80)) for i in range(4)})
    return item_analysis(items)


def _subgroup_performance():
    from veplab.validity import subgroup_performance

    y = RNG.integers(0, 2, N)
    s = y + RNG.normal(size=N)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return subgroup_performance(y, s, pd.Series(np.tile(["a", "b"], N // 2), name="grp"), n_boot=200, seed=1)


def _cox_zph():
    from veplab.outcomes import cox, cox_zph

    d = pd.DataFrame({"t": [5, 8, 3, 9, 12, 4, 7, 10, 6, 11], "e": [1, 1, 1, 0, 0, 1, 1, 0, 1, 1],
                      "x": [1, 0, 1, 0, 0, 1, 0, 1, 1, 0]})
    return cox_zph(cox(d, "t", "e", ["x"]))


def _group_means():
    from veplab.outcomes import group_means

    return group_means(PEOPLE, "score", "g", "t")


def _pre_post():
    from veplab.outcomes import pre_post

    d = pd.DataFrame({"conf_pre": [2, 3, 3, 4, 2, 3, np.nan], "conf_post": [3, 4, 3, 5, 4, 4, 5]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pre_post(d, "conf_pre", "conf_post")


CASES = {
    "endorsement": (_endorsement, "Endorsement", True),
    "compare_groups": (_compare_groups, "GroupComparison", True),
    "population_shares": (_population_shares, "PopulationShares", True),
    "pool": (_pool, "PooledEstimates", True),
    "item_analysis": (_item_analysis, "ItemAnalysis", True),
    "subgroup_performance": (_subgroup_performance, "SubgroupPerformance", True),
    "cox_zph": (_cox_zph, "ZphResult", False),
    "group_means": (_group_means, "GroupMeans", True),
    "pre_post": (_pre_post, "PrePostResult", True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_result_carries_table_and_settings(name: str) -> None:
    make, cls, has_plot = CASES[name]
    res = make()
    assert isinstance(res, TableResult) and isinstance(res, Result) and type(res).__name__ == cls
    assert not isinstance(res, pd.DataFrame)
    frame = res.to_frame()
    assert frame.equals(res.table) and frame is not res.table  # a copy: the result stays frozen
    settings = res.to_dict()
    assert settings, "the settings that produced the table are fields of the result"
    text = res.summary()
    head, _, table_text = text.partition("\n\n")
    assert head.splitlines()[0] and len(table_text.splitlines()) == len(res.table) + 1 + (res.table.index.name is not None)
    html = res._repr_html_()
    assert html.count("<table") == 2  # the table once, then the settings; not the table again
    assert "<summary>table</summary>" not in html
    assert hasattr(res, "plot") is has_plot
    if has_plot:
        out = res.plot()
        assert out is not None
        plt.close("all")


def test_settings_are_the_ones_asked_for() -> None:
    assert _endorsement().ci == 0.9 and _endorsement().by == ("g",)
    cmp = _compare_groups()
    assert (cmp.reference, cmp.focal, cmp.p_adjust) == (0, 1, "fdr_bh")
    pooled = _pool()
    assert (pooled.m, pooled.dfcom, pooled.exponentiate) == (3, 100.0, True)
    pp = _pre_post()
    assert pp.dropped == {"conf": [6]} and pp.table["n_pairs"].iloc[0] == 6
    assert _item_analysis().k == 4
    assert _cox_zph().transform == "km"
    assert _subgroup_performance().direction in ("<", ">")


def test_plot_functions_take_the_result() -> None:
    from veplab.descriptives import plot_endorsement
    from veplab.reliability import plot_item_stats

    ax = plot_endorsement(_endorsement(), variable="score")
    assert len(ax.get_yticklabels()) == 3
    ax2 = plot_item_stats(_item_analysis())
    assert len(ax2.patches) == 4
    plt.close("all")
