"""veplab.models.linear against R lm() + sandwich (tests/reference/linear.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veplab._validate import InputError
from veplab.models import LinearResult, linear

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "linear.json").read_text())
D = pd.read_csv(REF / "data" / "glm_core.csv")

CASES = {"plain": ("z ~ x1 + C(x2)", None), "weighted": ("z ~ x1 + C(x2)", "w"), "inter": ("z ~ x1 * C(x2)", None)}


def _r_names(names: list[str]) -> list[str]:
    return [n.replace("C(x2)", "x2") for n in names]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("vcov", ["model", "HC0", "HC1", "HC3", "CR0", "CR1"])
def test_agrees_with_lm_and_sandwich(case: str, vcov: str) -> None:
    formula, w = CASES[case]
    ref = R[case]
    fit = linear(D, formula, weights=w, vcov=vcov, cluster="cl" if vcov.startswith("CR") else None, ci=0.90)
    tab = fit.coefficients
    assert _r_names(list(tab["term"])) == ref["names"]
    np.testing.assert_allclose(tab["estimate"], ref["coef"], rtol=1e-9)
    for col in ("se", "t", "p", "ci_low", "ci_high"):
        np.testing.assert_allclose(tab[col], ref[vcov][col], rtol=1e-8, atol=1e-14, err_msg=f"{case} {vcov} {col}")
    assert fit.df_resid == ref["df_residual"]


@pytest.mark.parametrize("case", list(CASES))
def test_fit_statistics_agree_with_summary_lm(case: str) -> None:
    formula, w = CASES[case]
    ref = R[case]
    fit = linear(D, formula, weights=w)
    assert fit.r2 == pytest.approx(ref["r2"], rel=1e-10)
    assert fit.adj_r2 == pytest.approx(ref["adj_r2"], rel=1e-10)
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-10)
    assert fit.f_statistic == pytest.approx(ref["fstat"][0], rel=1e-9) and list(fit.f_df) == ref["fstat"][1:]
    assert fit.loglik == pytest.approx(ref["loglik"], rel=1e-10)
    assert fit.aic == pytest.approx(ref["aic"], rel=1e-10) and fit.bic == pytest.approx(ref["bic"], rel=1e-10)
    assert isinstance(fit, LinearResult) and "R²" in fit.summary()
    assert "<table" in fit._repr_html_()


def test_frequency_weights_equal_the_expanded_data() -> None:
    small = D.iloc[:80].copy()
    small["f"] = (np.arange(80) % 3) + 1
    fw = linear(small, "z ~ x1 + C(x2)", weights="f", weight_type="frequency")
    big = linear(small.loc[small.index.repeat(small["f"])], "z ~ x1 + C(x2)")
    np.testing.assert_allclose(fw.coefficients[["estimate", "se", "p"]], big.coefficients[["estimate", "se", "p"]],
                               rtol=1e-9)
    assert fw.df_resid == big.df_resid and fw.loglik == pytest.approx(big.loglik, rel=1e-10)


def test_probability_weights_default_to_hc1_and_refuse_model_se() -> None:
    fit = linear(D, "z ~ x1", weights="w", weight_type="probability")
    assert fit.vcov_type == "HC1" and np.isnan(fit.aic)
    with pytest.raises(InputError, match="probability"):
        linear(D, "z ~ x1", weights="w", weight_type="probability", vcov="model")


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="not numeric"):
        linear(D, "x2 ~ x1")
    with pytest.raises(InputError, match="nope"):
        linear(D, "z ~ nope")
    with pytest.raises(InputError, match="collinear|rank"):
        linear(D.assign(x3=2 * D["x1"]), "z ~ x1 + x3")
    with pytest.raises(InputError, match="cluster"):
        linear(D, "z ~ x1", vcov="CR1")


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(-3, 3), st.floats(0.1, 10))
def test_invariant_to_shifting_and_scaling_the_outcome(seed: int, shift: float, scale: float) -> None:
    """y -> a + c y scales the slopes by c and leaves t, p and R² unchanged (the OLS equivariance)."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"x": rng.normal(size=40), "u": rng.normal(size=40)})
    d["y"] = d["x"] + rng.normal(size=40)
    a = linear(d, "y ~ x + u")
    b = linear(d.assign(y=shift + scale * d["y"]), "y ~ x + u", vcov="model")
    np.testing.assert_allclose(b.coefficients["estimate"].iloc[1:], scale * a.coefficients["estimate"].iloc[1:],
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b.coefficients["t"].iloc[1:], a.coefficients["t"].iloc[1:], rtol=1e-7, atol=1e-9)
    assert b.r2 == pytest.approx(a.r2, rel=1e-8, abs=1e-12)


def test_disclosure_check_reads_a_linear_fit() -> None:
    from veplab.privacy import model_disclosure

    d = D.assign(rare=np.where(np.arange(len(D)) < 4, "r", "c"))
    ok = model_disclosure(linear(D, "z ~ x1 + C(x2)"), threshold=10)
    assert ok.ok
    small = model_disclosure(linear(d, "z ~ x1 + C(rare)"), threshold=10)
    assert not small.ok and any("rare" in r for r in small.reasons)


def test_few_or_one_cluster() -> None:
    few = D.assign(cl=D["cl"].str[:2])          # C0, C1, C2, C3: four clusters
    with pytest.warns(UserWarning, match=r"only 4 clusters.*mixed_linear"):
        fit = linear(few, "z ~ x1", cluster="cl")
    assert fit.n_clusters == 4 and fit.vcov_type == "CR1"
    with pytest.raises(InputError, match="single cluster"):
        linear(D.assign(cl="one"), "z ~ x1", cluster="cl")
