"""The GLM core veplab._glm against R glm() + sandwich (tests/reference/glm_core.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._glm import glm, separation
from veplab._validate import InputError

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "glm_core.json").read_text())
D = pd.read_csv(REF / "data" / "glm_core.csv")
S = pd.read_csv(REF / "data" / "glm_separated.csv")


def _X(d: pd.DataFrame) -> np.ndarray:
    return np.column_stack([np.ones(len(d)), d["x1"], d["x2"] == "b", d["x2"] == "c"]).astype(float)


def _fit(name: str):
    X = _X(D)
    if name == "logit":
        return glm(X, D["y"].to_numpy(float), weights=D["w"].to_numpy(float), offset=D["off"].to_numpy())
    if name == "trials":
        m = D["m"].to_numpy(float)
        return glm(X, D["k"] / m, weights=m)
    if name == "poisson":
        return glm(X, D["count"].to_numpy(float), family="poisson", weights=D["w"].to_numpy(float),
                   offset=np.log(D["expo"].to_numpy()))
    return glm(X, D["z"].to_numpy(float), family="gaussian", weights=D["w"].to_numpy(float))


CL = pd.factorize(D["cl"], sort=True)[0]


@pytest.mark.parametrize("name", ["logit", "trials", "poisson", "gaussian"])
def test_fit_matches_r_glm(name):
    r = R[name]
    fit = _fit(name)
    assert fit.converged and not fit.suspect and r["converged"]
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=1e-9, atol=1e-12)
    for attr, key in (("deviance", "deviance"), ("null_deviance", "null_deviance"), ("loglik", "loglik"),
                      ("aic", "aic")):
        assert getattr(fit, attr) == pytest.approx(r[key], rel=1e-10), attr
    assert (fit.df_residual, fit.df_null) == (r["df_residual"], r["df_null"])
    # R's glm.fit returns the working weights of the step before its last update, ~1e-7 off
    # the weights at its own final estimates even at epsilon 1e-14: hence 1e-6 here
    np.testing.assert_allclose(fit.hat(), r["hat"], rtol=1e-6)


@pytest.mark.parametrize("name", ["logit", "trials", "poisson", "gaussian"])
@pytest.mark.parametrize("vtype", ["model", "HC0", "HC1", "HC3", "CR0", "CR1"])
def test_every_vcov_matches_sandwich(name, vtype):
    fit = _fit(name)
    V = fit.vcov(vtype, cluster=CL)
    np.testing.assert_allclose(V, np.array(R[name]["vcov" if vtype == "model" else vtype]), rtol=1e-6, atol=1e-14)


def test_complete_separation_warns_as_r_and_names_the_term():
    assert "glm.fit: fitted probabilities numerically 0 or 1 occurred" in R["separated"]["complete"]
    X = np.column_stack([np.ones(len(S)), S["x"]])
    with pytest.warns(UserWarning, match="fitted probabilities numerically 0 or 1 occurred") as rec:
        fit = glm(X, S["y"].to_numpy(float), names=["(Intercept)", "x"], what="test")
    assert fit.suspect and fit.boundary
    assert any("('x')" in str(w.message) for w in rec)
    assert separation(X, S["y"].to_numpy(), np.ones(len(S)), ["(Intercept)", "x"]) == ["x"]


def test_quasi_separation_warned_where_r_is_silent():
    # R's glm stops at epsilon 1e-8 with p ~ 1 - 1e-9 for the 'rare' rows and gives no warning
    assert R["separated"]["quasi"] == []
    X = np.column_stack([np.ones(len(S)), S["q"] == "rare", S["u"]]).astype(float)
    with pytest.warns(UserWarning, match=r"'qrare' separate\(s\) the outcome"):
        fit = glm(X, S["y"].to_numpy(float), names=["(Intercept)", "qrare", "u"])
    assert fit.suspect and not fit.boundary


def test_clean_fit_runs_no_separation_check(monkeypatch):
    import veplab._glm as core

    def boom(*a, **k):
        raise AssertionError("the LP ran on a clean fit")

    monkeypatch.setattr(core, "separation", boom)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = _fit("logit")
    assert not fit.suspect


def test_bad_input_is_a_clear_error():
    X = _X(D)
    with pytest.raises(InputError, match="0/1 or a proportion"):
        glm(X, D["count"].to_numpy(float))
    with pytest.raises(InputError, match="non-negative count"):
        glm(X, D["z"].to_numpy(float) - 10, family="poisson")
    with pytest.raises(InputError, match="missing or infinite"):
        glm(X, np.r_[np.nan, D["y"].to_numpy(float)[1:]])
    with pytest.raises(ValueError, match="family"):
        glm(X, D["y"].to_numpy(float), family="gamma")
