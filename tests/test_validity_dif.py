"""Differential item functioning (veplab.validity.dif) against R (tests/reference/dif.R).

Data: tests/reference/data/dif.csv (synthetic, tests/reference/make_dif_data.py) with
planted uniform DIF in r3 and b4, non-uniform DIF in r5 across ``lang``; none across ``site``.
Nested MASS::polr / glm fits with anova LR tests and McFadden R² from logLik; Mantel-Haenszel
by stats::mantelhaen.test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.validity import DIFResult, dif_ordinal, mantel_haenszel

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "dif.json").read_text())
D = pd.read_csv(REF / "data" / "dif.csv")
RITEMS = [f"r{j}" for j in range(1, 7)]
BITEMS = [f"b{j}" for j in range(1, 9)]

ITER = 1e-3  # iterative fits (polr, glm): the project's tolerance; measured agreement is 1e-9 or closer
# p-values are compared with atol 1e-9 too: R's anova.polr computes 1 - pchisq(), which is 0 below ~1e-16


@pytest.fixture(scope="module")
def by_lang() -> DIFResult:
    return dif_ordinal(D, RITEMS, "lang")


@pytest.fixture(scope="module")
def by_site() -> DIFResult:
    return dif_ordinal(D, RITEMS, "site")


@pytest.fixture(scope="module")
def binary_rest() -> DIFResult:
    return dif_ordinal(D, BITEMS, "lang", matching="rest")


def _compare(res: DIFResult, ref: list[dict]) -> None:
    t = res.table.set_index("item")
    for r in ref:
        row = t.loc[r["item"]]
        np.testing.assert_allclose([row.loglik1, row.loglik2, row.loglik3], r["loglik"], rtol=ITER)
        np.testing.assert_allclose(row.loglik0, r["loglik0"], rtol=1e-10)  # closed form
        for k in ("12", "23", "13"):
            assert row[f"df_{k}"] == r[f"df_{k}"]
            np.testing.assert_allclose(row[f"chi2_{k}"], r[f"chi2_{k}"], rtol=ITER, atol=1e-6)
            np.testing.assert_allclose(row[f"p_{k}"], r[f"p_{k}"], rtol=ITER, atol=1e-9)
            np.testing.assert_allclose(row[f"r2_{k}"], r[f"r2_{k}"], rtol=ITER, atol=1e-8)


def test_ordinal_by_language_matches_polr(by_lang: DIFResult) -> None:
    _compare(by_lang, R["ordinal_lang"])
    assert set(by_lang.table["model"]) == {"ordinal"}


def test_ordinal_by_three_level_site_matches_polr(by_site: DIFResult) -> None:
    _compare(by_site, R["ordinal_site"])
    assert set(by_site.table["df_12"]) == {2} and set(by_site.table["df_13"]) == {4}


def test_binary_items_rest_score_match_glm(binary_rest: DIFResult) -> None:
    _compare(binary_rest, R["binary_lang_rest"])
    assert set(binary_rest.table["model"]) == {"binary"}


def test_planted_dif_is_recovered(by_lang: DIFResult, by_site: DIFResult, binary_rest: DIFResult) -> None:
    assert by_lang.flagged == ["r3", "r5"]
    t = by_lang.table.set_index("item")
    assert t.loc["r3", "type"] == "uniform"
    assert t.loc["r5", "type"] == "non-uniform"
    assert not t.loc[["r1", "r2", "r4", "r6"], "flag"].any()
    assert by_site.flagged == []  # no DIF was planted across sites
    assert binary_rest.flagged == ["b4"]
    assert binary_rest.table.set_index("item").loc["b4", "type"] == "uniform"


def test_significance_alone_flags_more(by_lang: DIFResult) -> None:
    # r2 and r4 are significant (p_23 = 1e-5, 0.0016 in R) but their R² changes are below 0.02:
    # the contamination of the total score by r3 and r5, which the effect-size criterion screens out
    res = dif_ordinal(D, RITEMS, "lang", r2_change=None)
    assert res.flagged == ["r2", "r3", "r4", "r5"]
    strict = dif_ordinal(D, RITEMS, "lang", r2_change=0.03)
    assert strict.flagged == ["r5"]  # r3's uniform R² change is 0.0273
    assert by_lang.table.equals(by_lang.to_frame())
    text = by_lang.summary()
    assert "flagged: r3, r5" in text and "reference 'L1'" in text


def test_external_matching_and_reference() -> None:
    d = D.assign(score=D[RITEMS].sum(axis=1))
    a = dif_ordinal(d, RITEMS, "lang", matching="score")
    b = dif_ordinal(d, RITEMS, "lang")
    np.testing.assert_allclose(a.table["chi2_13"], b.table["chi2_13"], rtol=1e-10)
    c = dif_ordinal(d, RITEMS, "lang", reference="L2")
    assert c.reference == "L2"
    np.testing.assert_allclose(c.table["chi2_13"], b.table["chi2_13"], rtol=1e-6)  # reparametrisation


def test_missing_rows_dropped() -> None:
    d = D.copy()
    d.loc[[0, 5, 9], "r2"] = np.nan
    d.loc[[11], "lang"] = None
    res = dif_ordinal(d, RITEMS, "lang")
    assert res.n == len(D) - 4 and res.n_dropped == 4


@pytest.mark.parametrize("i", range(8))
def test_mantel_haenszel_matches_mantelhaen_test(i: int) -> None:
    r = R["mh"][i]
    d = D.assign(btotal=D[BITEMS].sum(axis=1))
    mh = mantel_haenszel(d, r["item"], "lang", "btotal")
    np.testing.assert_allclose(mh.statistic, r["statistic"], rtol=1e-9)
    np.testing.assert_allclose(mh.p, r["p"], rtol=1e-7)
    np.testing.assert_allclose(mh.odds_ratio, r["estimate"], rtol=1e-9)
    np.testing.assert_allclose([mh.ci_low, mh.ci_high], r["conf_int"], rtol=1e-9)
    np.testing.assert_allclose(mh.delta, -2.35 * np.log(r["estimate"]), rtol=1e-9)
    assert mh.reference == "L1" and mh.focal == "L2"


def test_mantel_haenszel_ets_classes() -> None:
    d = D.assign(btotal=D[BITEMS].sum(axis=1))
    ets = {it: mantel_haenszel(d, it, "lang", "btotal").ets for it in BITEMS}
    # b4: alpha_MH 5.60, delta -4.05 -> C; b7: alpha 0.617 (p 0.038), |delta| 1.13 -> B;
    # b1, b5: |delta| < 1 -> A; the rest not significant -> A
    assert ets == {"b1": "A", "b2": "A", "b3": "A", "b4": "C", "b5": "A", "b6": "A", "b7": "B", "b8": "A"}
    mh = mantel_haenszel(d, "b4", "lang", "btotal")
    assert mh.delta < 0 and "category C" in mh.summary()
    uncorrected = mantel_haenszel(d, "b4", "lang", "btotal", correct=False)
    assert uncorrected.statistic > mh.statistic
    flipped = mantel_haenszel(d, "b4", "lang", "btotal", reference="L2")
    np.testing.assert_allclose(flipped.odds_ratio, 1 / mh.odds_ratio, rtol=1e-12)


def test_mantel_haenszel_drops_single_person_strata() -> None:
    d = D.assign(btotal=D[BITEMS].sum(axis=1))
    extra = d.iloc[[0]].assign(btotal=99)  # a stratum of one: no information (R stops on it)
    a = mantel_haenszel(pd.concat([d, extra], ignore_index=True), "b4", "lang", "btotal")
    b = mantel_haenszel(d, "b4", "lang", "btotal")
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12) and a.n_strata == b.n_strata


# ------------------------------------------------------------------------------ bad input
def test_unknown_column() -> None:
    with pytest.raises(InputError, match=r"\['nope'\] are not in the data"):
        dif_ordinal(D, ["r1", "nope"], "lang")
    with pytest.raises(InputError, match="not in the data"):
        dif_ordinal(D, RITEMS, "language")
    with pytest.raises(InputError, match="not in the data"):
        dif_ordinal(D, RITEMS, "lang", matching="theta")
    with pytest.raises(InputError, match="not in the data"):
        mantel_haenszel(D, "b1", "lang", "nope")


def test_group_with_one_level() -> None:
    one = D[D["lang"] == "L1"]
    with pytest.raises(InputError, match=r"'lang' has 1 level\(s\)"):
        dif_ordinal(one, RITEMS, "lang")
    with pytest.raises(InputError, match=r"'lang' has 1 level\(s\)"):
        mantel_haenszel(one.assign(s=1), "b1", "lang", "s")
    with pytest.raises(InputError, match="has 3 levels"):
        mantel_haenszel(D.assign(s=1), "b1", "site", "s")


def test_constant_item() -> None:
    d = D.assign(c=2)
    with pytest.raises(InputError, match=r"item 'c' is constant"):
        dif_ordinal(d, ["r1", "r2", "c"], "lang")
    with pytest.raises(InputError, match="binary item"):
        mantel_haenszel(d.assign(s=1), "c", "lang", "s")
    with pytest.raises(InputError, match="binary item"):
        mantel_haenszel(d.assign(s=1), "r1", "lang", "s")


def test_other_bad_input() -> None:
    with pytest.raises(InputError, match="must be a list"):
        dif_ordinal(D, "r1", "lang")
    with pytest.raises(InputError, match="not numeric"):
        dif_ordinal(D, ["r1", "id"], "lang")
    with pytest.raises(InputError, match="alpha"):
        dif_ordinal(D, RITEMS, "lang", alpha=5)
    with pytest.raises(InputError, match="reference"):
        dif_ordinal(D, RITEMS, "lang", reference="L9")
    with pytest.raises(InputError, match="DataFrame"):
        dif_ordinal(D.to_numpy(), RITEMS, "lang")


def test_purified_matching_stops_a_dif_item_biasing_the_others():
    """With four items, the rest score of a clean item holds the DIF item, so the clean item shows DIF of the
    opposite sign (contamination); lordif-style purification drops flagged items from the others' scores."""
    rng = np.random.default_rng(11)
    n = 900
    sex = rng.choice([1, 2], n, p=[0.55, 0.45])
    theta = rng.normal(size=n) + 0.5 * (sex == 2)
    cuts = np.array([-1.2, -0.4, 0.4, 1.2])
    d = pd.DataFrame({"sex": sex})
    for j in range(1, 5):
        shift = -1.0 * (sex == 2) if j == 3 else 0.0
        d[f"a{j}"] = 1 + ((0.8 * theta + shift + 0.6 * rng.normal(size=n))[:, None] > cuts).sum(axis=1)
    items = [f"a{j}" for j in range(1, 5)]
    rest = dif_ordinal(d, items, "sex", matching="rest")
    assert "a3" in rest.flagged and len(rest.flagged) > 1          # a clean item flagged by contamination
    pure = dif_ordinal(d, items, "sex", matching="purified")
    assert pure.flagged == ["a3"] and "purified in" in pure.matching and "in 1 rounds" not in pure.matching
    # each row is the nested models on the sum of the unflagged others: the same as an external score
    for it in ("a1", "a3"):
        others = [j for j in items if j not in (it, "a3")]
        ext = dif_ordinal(d.assign(m=d[others].sum(axis=1)), [it], "sex", matching="m").table.iloc[0]
        row = pure.table.set_index("item").loc[it]
        assert row["chi2_13"] == pytest.approx(ext["chi2_13"], rel=1e-10)
    # without DIF, purification stops after the first round and equals the rest score
    clean = d.drop(columns="a3")
    a, b = dif_ordinal(clean, ["a1", "a2", "a4"], "sex", matching="rest"), \
        dif_ordinal(clean, ["a1", "a2", "a4"], "sex", matching="purified")
    assert a.flagged == b.flagged == [] and np.allclose(a.table["chi2_13"], b.table["chi2_13"])
    with pytest.raises(InputError, match="max_iter"):
        dif_ordinal(d, items, "sex", matching="purified", max_iter=0)
