"""veplab.outcomes.power against R power.t.test / power.prop.test (tests/reference/outcomes.R)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import scipy
from hypothesis import given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.outcomes import minimum_detectable_effect, power

R = json.loads((Path(__file__).parent / "reference" / "outcomes.json").read_text())["power"]


def test_t_tests_match_power_t_test():
    assert power("two_sample", n=20, effect=1).power == pytest.approx(R["t_two_power"], rel=1e-9)
    assert power("two_sample", effect=0.5, power=0.8).n == pytest.approx(R["t_two_n"], rel=1e-8)
    res = power("paired", effect=0.3, sd=1.2, power=0.9)
    assert res.n == pytest.approx(R["t_paired_n"], rel=1e-8)
    assert res.n_ceiling == math.ceil(R["t_paired_n"]) and res.n_meaning == "pairs"
    assert minimum_detectable_effect("paired", n=40).effect == pytest.approx(R["t_paired_delta"], rel=1e-8)
    one = power("one_sample", n=15, effect=0.6, alternative="one.sided")
    assert one.power == pytest.approx(R["t_one_power"], rel=1e-9)
    assert power("two_sample", n=8, effect=0.4, strict=True).power == pytest.approx(R["t_two_strict"], rel=1e-9)


def test_proportions_match_power_prop_test():
    assert power("two_proportions", p1=0.05, effect=0.025, power=0.8).n == pytest.approx(R["prop_n"], rel=1e-8)
    assert power("two_proportions", n=500, p1=0.06, effect=0.03).power == pytest.approx(R["prop_power"], rel=1e-9)
    up = minimum_detectable_effect("two_proportions", n=800, p1=0.05, direction="increase")
    assert up.effect == pytest.approx(R["prop_p2"], rel=1e-8)
    assert power("two_proportions", n=300, p1=0.1, effect=0.05, alternative="one.sided").power == pytest.approx(
        R["prop_one_sided"], rel=1e-9)
    assert power("two_proportions", n=100, p1=0.2, effect=0.3, strict=True).power == pytest.approx(
        R["prop_strict"], rel=1e-9)


def test_arcsine_matches_pwr_formula():
    res = power("two_proportions", n=1000, p1=0.05, effect=0.025, method="arcsine")
    assert res.power == pytest.approx(R["arcsine_power"], rel=1e-9)
    back = power("two_proportions", power=res.power, p1=0.05, effect=0.025, method="arcsine")
    assert back.n == pytest.approx(1000, rel=1e-8)


def test_schoenfeld():
    res = power("survival", effect=0.7, power=0.8, event_prob=0.1)
    assert res.events == pytest.approx(R["schoenfeld_events"], rel=1e-12)
    assert res.n == pytest.approx(R["schoenfeld_events"] / 0.1, rel=1e-12)
    assert power("survival", n=600, effect=0.6, event_prob=0.1).power == pytest.approx(
        R["schoenfeld_power"], rel=1e-12)
    # textbook: HR 0.5, 80% power, alpha .05, 1:1 -> 65.3 events (Schoenfeld 1983)
    assert power("survival", effect=0.5, power=0.8, event_prob=1).events == pytest.approx(65.35, abs=0.01)


def test_low_base_rate_example_reads_well():
    mde = minimum_detectable_effect("two_proportions", n=200, p1=0.04)
    assert mde.effect < 0.04 and "base rate" in mde.note
    assert "n = 200" in mde.summary()


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["paired", "two_sample", "one_sample"]), st.floats(5, 500), st.floats(0.1, 2))
def test_t_round_trip(design, n, d):
    pw = power(design, n=n, effect=d).power
    if 0.06 < pw < 0.999:
        assert power(design, effect=d, power=pw).n == pytest.approx(n, rel=1e-6)
        assert power(design, n=n, power=pw).effect == pytest.approx(d, rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.floats(20, 5000), st.floats(0.3, 0.9), st.floats(0.02, 0.5))
def test_survival_round_trip(n, hr, ep):
    pw = power("survival", n=n, effect=hr, event_prob=ep).power
    if 0.06 < pw < 0.999:
        assert power("survival", effect=hr, power=pw, event_prob=ep).n == pytest.approx(n, rel=1e-9)
        assert power("survival", n=n, power=pw, event_prob=ep).effect == pytest.approx(hr, rel=1e-9)


def test_bad_inputs():
    with pytest.raises(InputError, match="exactly one of n, effect, power"):
        power("paired", n=10, effect=0.5, power=0.8)
    with pytest.raises(InputError, match="exactly one"):
        power("paired", n=10)
    with pytest.raises(InputError, match="design must be one of"):
        power("anova", n=10, effect=1)
    with pytest.raises(InputError, match="p1"):
        power("two_proportions", n=100, effect=0.1)
    with pytest.raises(InputError, match="event_prob"):
        power("survival", n=100, effect=0.7)
    with pytest.raises(InputError, match="p1 must be in"):
        power("two_proportions", n=100, p1=1.5, effect=0.1)


PARITY = json.loads((Path(__file__).parent / "reference" / "r_parity.json").read_text())
_DESIGN = {"two.sample": "two_sample", "one.sample": "one_sample", "paired": "paired"}


def test_t_power_grid_matches_power_t_test_including_strict_far_tail():
    """Issue 17: strict=True returned NaN at large n (scipy's noncentral t is NaN in the far tail)."""
    g = PARITY["power_grid"]
    worst = 0.0
    for i in range(len(g["n"])):
        got = power(_DESIGN[g["type"][i]], n=g["n"][i], effect=g["delta"][i], strict=g["strict"][i],
                    alternative=g["alternative"][i]).power
        assert math.isfinite(got), (i, got)
        worst = max(worst, abs(got - g["power"][i]) / g["power"][i])
    # 3e-12 on current scipy; scipy 1.11/1.12 (the lowest declared, make test-lowest) have an older Boost noncentral t: 5.5e-9
    old_boost = tuple(int(v) for v in scipy.__version__.split(".")[:2]) < (1, 13)
    assert worst < (1e-8 if old_boost else 1e-9)


def test_strict_power_at_large_n_is_one_and_n_solves():
    assert power("two_sample", n=2000, effect=0.35, strict=True).power == pytest.approx(1.0, abs=1e-15)
    s = PARITY["power_solve_n_strict"]
    for i in range(len(s["n"])):
        got = power(_DESIGN[s["type"][i]], effect=s["delta"][i], power=s["power"][i], strict=True).n
        assert got == pytest.approx(s["n"][i], rel=1e-8), i


def test_far_tail_fallback_equals_the_definition():
    from scipy import stats

    from veplab.outcomes.power import _nct_tail, _nct_tail_quadrature

    # where scipy returns NaN (nu = 3998, ncp = 12) the fallback integrates E[Phi(x S - ncp)];
    # the bound P(T < -q) <= Phi(-ncp) holds; the value is the one of an independent
    # integration over the chi density (1.4242464390777827e-44)
    q = float(stats.t.isf(0.025, 3998))
    v = _nct_tail(-q, 3998, 12.0, upper=False)
    assert 0 < v <= stats.norm.cdf(-12.0)
    assert v == pytest.approx(1.4242464390777827e-44, rel=1e-6)
    # where scipy is accurate the quadrature agrees with it, both tails
    for nu, ncp, x in ((30, 2.0, -2.04), (5, 0.5, -2.57), (200, 3.0, 1.97), (1, 1.0, 12.7)):
        assert _nct_tail_quadrature(x, nu, ncp, upper=False) == pytest.approx(
            float(stats.nct.cdf(x, nu, ncp)), rel=1e-8)
        assert _nct_tail_quadrature(x, nu, ncp, upper=True) == pytest.approx(
            float(stats.nct.sf(x, nu, ncp)), rel=1e-8)


# --------------------------------------------------------------------------- cluster designs
RC = json.loads((Path(__file__).parent / "reference" / "power_cluster.json").read_text())


def test_design_effect_donner_klar_and_eldridge():
    from veplab.outcomes.power import design_effect

    assert design_effect(40, 0.05) == pytest.approx(RC["de_40_05"], rel=1e-12)
    assert design_effect(40, 0.05, cv=0.5) == pytest.approx(RC["de_40_05_cv"], rel=1e-12)
    assert design_effect(1, 0.3) == 1.0 and design_effect(25, 0) == 1.0


def test_cluster_two_sample_matches_r_formulas():
    kw = dict(icc=0.05, cluster_size=20)
    res = power("cluster_two_sample", n=10, effect=0.5, **kw)
    assert res.power == pytest.approx(RC["t_power"], rel=1e-9)
    assert res.n_meaning == "clusters per arm" and res.design_effect == pytest.approx(1.95)
    assert res.people_per_arm == 200 and res.n_effective == pytest.approx(200 / 1.95)
    assert power("cluster_two_sample", n=8, effect=0.6, sd=1.3, icc=0.08, cluster_size=25, cv=0.7).power == \
        pytest.approx(RC["t_power_cv"], rel=1e-9)
    k = power("cluster_two_sample", effect=0.5, power=0.8, **kw)
    assert k.n == pytest.approx(RC["t_k"], rel=1e-8) and k.n_ceiling == 8
    assert power("cluster_two_sample", n=10, power=0.8, **kw).effect == pytest.approx(RC["t_delta"], rel=1e-8)
    assert power("cluster_two_sample", n=10, effect=0.5, method="normal", **kw).power == pytest.approx(
        RC["z_power"], rel=1e-12)
    assert power("cluster_two_sample", effect=0.5, power=0.8, method="normal", **kw).n == pytest.approx(
        RC["z_k"], rel=1e-12)


def test_cluster_two_sample_without_clustering_is_power_t_test():
    one = dict(icc=0, cluster_size=1)
    assert power("cluster_two_sample", n=12, effect=0.9, **one).power == pytest.approx(RC["t_icc0"], rel=1e-9)
    assert power("cluster_two_sample", effect=0.9, power=0.8, **one).n == pytest.approx(RC["t_icc0_n"], rel=1e-8)


def test_cluster_two_proportions_matches_r():
    kw = dict(icc=0.05, cluster_size=20, p1=0.1)
    assert power("cluster_two_proportions", n=10, effect=0.05, **kw).power == pytest.approx(RC["p_power"], rel=1e-9)
    assert power("cluster_two_proportions", n=10, effect=0.05, cv=0.6, **kw).power == pytest.approx(
        RC["p_power_cv"], rel=1e-9)
    assert power("cluster_two_proportions", n=10, power=0.8, **kw).effect == pytest.approx(RC["p_p2"], rel=1e-8)
    res = power("cluster_two_proportions", p1=0.10, effect=0.06, power=0.8, icc=0.02, cluster_size=40)
    assert res.n == pytest.approx(RC["p_k"], rel=1e-8) and res.n_ceiling == 33
    # ICC = 0: exactly power.prop.test on k m people per arm
    assert power("cluster_two_proportions", n=15, effect=0.07, p1=0.1, icc=0, cluster_size=40).power == \
        pytest.approx(RC["p_icc0"], rel=1e-9)
    k0 = power("cluster_two_proportions", effect=0.07, power=0.8, p1=0.1, icc=0, cluster_size=40)
    assert k0.n * 40 == pytest.approx(RC["p_icc0_n"], rel=1e-8)


@settings(max_examples=20, deadline=None)
@given(st.floats(3, 200), st.floats(0.1, 1.5), st.floats(0, 0.3), st.floats(2, 80), st.floats(0, 1))
def test_cluster_round_trip(k, d, icc, m, cv):
    kw = dict(icc=icc, cluster_size=m, cv=cv)
    pw = power("cluster_two_sample", n=k, effect=d, **kw).power
    if 0.06 < pw < 0.999:
        assert power("cluster_two_sample", effect=d, power=pw, **kw).n == pytest.approx(k, rel=1e-6)
        assert power("cluster_two_sample", n=k, power=pw, **kw).effect == pytest.approx(d, rel=1e-6)


def test_cluster_bad_inputs():
    with pytest.raises(InputError, match="icc="):
        power("cluster_two_sample", n=10, effect=0.5)
    with pytest.raises(InputError, match=r"icc must be in \[0, 1\)"):
        power("cluster_two_sample", n=10, effect=0.5, icc=1.2, cluster_size=20)
    with pytest.raises(InputError, match="cluster_size"):
        power("cluster_two_sample", n=10, effect=0.5, icc=0.1, cluster_size=0.5)
    with pytest.raises(InputError, match="cv must be"):
        power("cluster_two_sample", n=10, effect=0.5, icc=0.1, cluster_size=20, cv=-1)
    with pytest.raises(InputError, match="more than 1 cluster"):
        power("cluster_two_sample", n=1, effect=0.5, icc=0.1, cluster_size=20)
    with pytest.raises(InputError, match="p1"):
        power("cluster_two_proportions", n=10, effect=0.05, icc=0.1, cluster_size=20)
    with pytest.raises(InputError, match="method must be one of"):
        power("cluster_two_sample", n=10, effect=0.5, icc=0.1, cluster_size=20, method="arcsine")
