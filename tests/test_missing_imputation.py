"""veplab.missing imputation: md.pattern, chained equations, Rubin's rules (tests/reference/factors_regression.R)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.codebook import from_dict
from veplab.data import load
from veplab.missing import Imputations, impute, missing_pattern, pool
from veplab.models import logit

REF = Path(__file__).parent / "reference"
R = json.loads((REF / "factors_regression.json").read_text())
POOL = pd.read_csv(REF / "data" / "factors_reg_pool.csv")
IMP = pd.read_csv(REF / "data" / "factors_reg_impute.csv")


def _fits() -> list[pd.DataFrame]:
    return [g.drop(columns="imputation").reset_index(drop=True) for _, g in POOL.groupby("imputation")]


# ------------------------------------------------------------------ Rubin's rules
@pytest.mark.parametrize("key, kwargs", [
    ("dfcom_120", {"dfcom": 120}),
    ("dfcom_inf", {"dfcom": math.inf}),
    ("dfcom_120_ci90", {"dfcom": 120, "ci": 0.90}),
])
def test_pool_matches_rubin_barnard_rubin_formulas(key, kwargs):
    out = pool(_fits(), **kwargs).table.set_index("term")
    for term, r in R["pool"][key].items():
        row = out.loc[term]
        for ours, theirs in [("estimate", "estimate"), ("ubar", "ubar"), ("b", "b"), ("total_var", "t"),
                             ("se", "se"), ("riv", "riv"), ("lambda", "lambda"), ("df", "df"), ("fmi", "fmi"),
                             ("statistic", "statistic"), ("p", "p")]:
            assert row[ours] == pytest.approx(r[theirs], rel=1e-10), (term, ours)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(r["ci"]), rel=1e-10)
        assert row["m"] == 5


def test_pool_by_hand_on_fixed_inputs():
    # Q = 1, 2, 3 ; U = 0.5 each; m = 3 (van Buuren 2018, sec. 2.3 formulas)
    fits = [pd.DataFrame({"term": ["b"], "estimate": [q], "se": [math.sqrt(0.5)]}) for q in (1.0, 2.0, 3.0)]
    row = pool(fits, dfcom=10).table.iloc[0]
    B, Ubar, m = 1.0, 0.5, 3
    T = Ubar + (1 + 1 / m) * B
    lam = (1 + 1 / m) * B / T
    dfold = (m - 1) / lam ** 2
    dfobs = (10 + 1) / (10 + 3) * 10 * (1 - lam)
    df = dfold * dfobs / (dfold + dfobs)
    assert row["estimate"] == 2.0 and row["total_var"] == pytest.approx(T) and row["lambda"] == pytest.approx(lam)
    assert row["df"] == pytest.approx(df)
    riv = (1 + 1 / m) * B / Ubar
    assert row["fmi"] == pytest.approx((riv + 2 / (df + 3)) / (riv + 1))
    # no between-imputation variance: lambda floored at 1e-4 for the df, as mice
    same = [pd.DataFrame({"term": ["b"], "estimate": [1.0], "se": [0.2]})] * 4
    z = pool(same, dfcom=50).table.iloc[0]
    assert z["b"] == 0 and z["lambda"] == 0
    dfold0 = 3 / 1e-8
    dfobs0 = 51 / 53 * 50 * (1 - 1e-4)
    assert z["df"] == pytest.approx(dfold0 * dfobs0 / (dfold0 + dfobs0))


def test_pool_protocol_results_and_errors():
    fits = [logit(IMP.dropna(subset=["x", "bin"]).sample(frac=0.9, random_state=s), "bin ~ x") for s in range(3)]
    out = pool(fits).table
    assert "odds_ratio" in out.columns and out["dfcom"].iloc[0] == min(f.df_resid for f in fits)

    class Mixed:  # the shape of veplab.models.mixed results
        def __init__(self, q):
            self.fixed_effects = pd.DataFrame({"term": ["(Intercept)", "x"], "estimate": [0.1, q], "se": [0.1, 0.2]})
            self.n, self.npar = 200, 3

    out = pool([Mixed(0.5), Mixed(0.7)]).table
    assert out["dfcom"].iloc[0] == 197
    with pytest.warns(UserWarning, match="large sample"):
        pool(_fits())
    with pytest.raises(InputError, match="at least 2"):
        pool(_fits()[:1], dfcom=10)
    other = _fits()
    other[2] = other[2][other[2]["term"] != "woman"]
    with pytest.raises(InputError, match=r"analysis 3 has different terms.*missing \['woman'\]"):
        pool(other, dfcom=10)
    with pytest.raises(InputError, match="tidy"):
        pool([1, 2], dfcom=10)
    with pytest.raises(InputError, match=r"lacks column\(s\) \['se'\]"):
        pool([f.drop(columns="se") for f in _fits()], dfcom=10)


# ------------------------------------------------------------------ md.pattern
def test_missing_pattern_like_md_pattern():
    d = pd.DataFrame({"a": [1, np.nan, 3, 4, 5], "b": [np.nan, np.nan, 1, 2, 3], "c": [1, 2, 3, 4, 5.0]})
    out = missing_pattern(d)
    assert list(out.columns) == ["c", "a", "b", "n", "n_missing"]  # by increasing missingness
    body = out.iloc[:-1]
    assert body[["c", "a", "b"]].to_numpy().tolist() == [[1, 1, 1], [1, 1, 0], [1, 0, 0]]
    assert body["n"].tolist() == [3, 1, 1] and body["n_missing"].tolist() == [0, 1, 2]
    total = out.loc["total"]
    assert [total["c"], total["a"], total["b"], total["n_missing"]] == [0, 1, 2, 3]
    p = missing_pattern(IMP)
    assert int(p["n"].iloc[:-1].sum()) == len(IMP)
    assert p.loc["total", "n_missing"] == int(IMP.isna().sum().sum())
    with pytest.raises(InputError):
        missing_pattern(IMP, ["zzz"])


# ------------------------------------------------------------------ impute
def test_impute_reproducible_complete_and_pmm_uses_observed_values():
    imp = impute(IMP, m=4, seed=11, columns=["x", "ord", "bin", "nom"])
    again = impute(IMP, m=4, seed=11, columns=["x", "ord", "bin", "nom"])
    assert isinstance(imp, Imputations) and len(imp) == 4
    for a, b in zip(imp, again):
        pd.testing.assert_frame_equal(a, b)
        assert a.isna().sum().sum() == 0
        assert set(a["ord"].unique()) <= set(IMP["ord"].dropna().unique())
        assert set(a["x"][IMP["x"].isna()]) <= set(IMP["x"].dropna())  # PMM donors
        assert set(a["nom"].unique()) <= {"north", "south", "west"}
        assert set(a["bin"].unique()) <= {0.0, 1.0}
        observed = IMP.notna()
        pd.testing.assert_frame_equal(a[observed], IMP[observed])  # observed cells untouched
    assert imp.methods == {"x": "pmm", "ord": "pmm", "bin": "logreg", "nom": "polyreg"}
    assert not imp.complete(0).equals(imp.complete(1))
    other = impute(IMP, m=1, seed=12, columns=["x", "ord", "bin", "nom"])
    assert not other.complete(0).equals(imp.complete(0))
    assert set(imp.chain_means["column"]) == {"x", "ord", "bin", "nom"}
    assert "pmm" in imp.summary()


def test_impute_keeps_dtypes_of_coded_columns():
    d = pd.DataFrame({
        "item": pd.Categorical([1, 2, None, 4, 5, 3, 2, None, 4, 1] * 5, categories=[1, 2, 3, 4, 5], ordered=True),
        "sex": pd.Categorical([1, 2, 1, None, 2, 1, 2, 1, 2, 1] * 5, categories=[1, 2]),
        "region": pd.Categorical(["a", "b", "c", "a", None, "b", "c", "a", "b", "c"] * 5),
        "score": np.r_[np.linspace(1, 5, 49), np.nan],
    })
    imp = impute(d, m=2, seed=1)
    c = imp.complete(1)
    for col in d.columns:
        assert c[col].dtype == d[col].dtype, col
    assert c.isna().sum().sum() == 0
    assert imp.methods["item"] == "pmm" and imp.methods["sex"] == "logreg" and imp.methods["region"] == "polyreg"


def test_mi_recovers_mean_under_mar_where_complete_cases_are_biased():
    rng = np.random.default_rng(5)
    n = 1500
    z = rng.normal(size=n)
    x = 0.8 * z + rng.normal(0, 0.6, n)
    d = pd.DataFrame({"z": z, "x": x})
    miss = rng.random(n) < 1 / (1 + np.exp(-(2.0 * z - 0.5)))  # MAR: depends on observed z
    d.loc[miss, "x"] = np.nan
    truth = float(x.mean())
    cc = float(d["x"].mean())
    imp = impute(d, m=10, seed=3)
    fits = [pd.DataFrame({"term": ["mean"], "estimate": [c["x"].mean()], "se": [c["x"].std() / math.sqrt(n)]})
            for c in imp]
    res = pool(fits, dfcom=n - 1).table.iloc[0]
    assert abs(cc - truth) > 5 * res["se"]            # complete cases are biased
    assert abs(res["estimate"] - truth) < 3 * res["se"]  # MI is not
    assert 0.05 < res["fmi"] < 0.9


def test_analyse_and_pool_logistic_regression():
    imp = impute(IMP, m=5, seed=2, columns=["x", "ord", "bin", "nom"])
    fits = imp.analyse(logit, "bin ~ x + ord + nom")
    out = pool(fits).table
    assert list(out["term"]) == ["(Intercept)", "x", "ord", "nomsouth", "nomwest"]
    assert (out["df"] > 0).all() and (out["fmi"] > 0).all() and (out["fmi"] < 1).all()
    assert out.loc[1, "estimate"] > 0  # x predicts bin in the generating model


def _loaded(tmp_path: Path, **load_options) -> tuple[pd.DataFrame, object]:
    agree = {1: "no", 2: "rather no", 3: "neither", 4: "rather yes", 5: "yes"}
    cb = from_dict({
        "id": "mini", "title": "mini", "id_column": "rid",
        "items": [
            {"id": "rid", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
            {"id": "q1", "label": "q1", "type": "likert", "options": agree, "missing": {8: "dont_know", 9: "refused"}},
            {"id": "q2", "label": "q2", "type": "likert", "options": agree, "missing": {8: "dont_know", 9: "refused"},
             "reverse": bool(load_options.get("reverse"))},
            {"id": "q3", "label": "q3", "type": "likert", "options": agree,
             "missing": {7: "not_applicable", 8: "dont_know", 9: "refused"}},
            {"id": "age", "label": "age", "type": "numeric", "min": 18, "max": 90},
        ],
        "scales": [{"id": "s", "items": ["q1", "q2", "q3"], "min_items": 2}],
    })
    rng = np.random.default_rng(4)
    n = 120
    base = rng.integers(1, 6, n)
    q = {f"q{j}": np.clip(base + rng.integers(-1, 2, n), 1, 5).astype(object) for j in (1, 2, 3)}
    q["q1"][:6] = 8
    q["q1"][6:9] = 9
    q["q2"][10:14] = ""
    q["q3"][20:30] = 7
    q["q3"][30:33] = 8
    age = rng.integers(18, 70, n).astype(object)
    age[40:45] = ""
    raw = pd.DataFrame({"rid": [f"r{i:03d}" for i in range(n)], **q, "age": age})
    path = tmp_path / "mini.csv"
    raw.to_csv(path, index=False)
    return load(path, cb, **load_options), cb


def test_dont_know_and_refused_need_an_explicit_choice(tmp_path):
    df, cb = _loaded(tmp_path)
    with pytest.raises(InputError, match=r"dont_know \(9 cells; 'q1': 6, 'q3': 3\) and refused \(3 cells"):
        impute(df, m=2, seed=1, columns=["q1", "q2", "q3", "age"])
    imp = impute(df, m=3, seed=1, columns=["q1", "q2", "q3", "age"], dont_know="exclude", refused="exclude")
    t = imp.summary_table
    assert t.loc["q1", "n_excluded"] == 9 and t.loc["q1", "n_imputed"] == 0
    assert t.loc["q2", "n_imputed"] == 4 and t.loc["q3", "n_excluded"] == 13  # 10 not applicable + 3 don't know
    assert t.loc["age", "n_imputed"] == 5
    for c in imp:
        assert c["q1"].isna().sum() == 9 and c["q3"].isna().sum() == 13
        assert c["q2"].isna().sum() == 0 and c["age"].isna().sum() == 0
    imp2 = impute(df, m=2, seed=1, columns=["q1", "q2", "q3", "age"], dont_know="missing", refused="exclude",
                  not_applicable="exclude")
    assert imp2.summary_table.loc["q1", "n_imputed"] == 6 and imp2.complete(0)["q1"].isna().sum() == 3


def test_passive_scale_scores_recomputed_from_imputed_items(tmp_path):
    from veplab.scoring import score_scales

    df, cb = _loaded(tmp_path)
    imp = impute(df, m=2, seed=3, columns=["q1", "q2", "q3", "s", "age"], dont_know="missing", refused="missing",
                 not_applicable="missing", codebook=cb)
    assert "s" not in imp.columns
    for c in imp:
        assert np.allclose(c["s"], score_scales(c, cb)["s"], equal_nan=True)
        assert c["s"].isna().sum() == 0


def _with_facility(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    units = df.assign(unit=np.where(np.arange(len(df)) % 3 == 0, "A", "B"))
    return units, pd.DataFrame({"unit": ["A", "B"], "occupancy": [1.2, 0.8]})


@pytest.mark.parametrize("how", ["attach_facility", "pandas merge"])
def test_a_facility_merge_does_not_change_the_imputations(tmp_path, how):
    from veplab.push_pull.design import attach_facility

    df, cb = _loaded(tmp_path)
    units, fac = _with_facility(df)
    merged = attach_facility(units, fac, "unit") if how == "attach_facility" else units.merge(fac, on="unit")
    assert merged.attrs == ({} if how == "pandas merge" else units.attrs)  # pandas drops attrs on merge
    cols = ["q1", "q2", "q3", "s", "age"]
    opts = {"m": 3, "seed": 7, "columns": cols, "dont_know": "missing", "refused": "missing", "codebook": cb}
    plain, after = impute(units, **opts), impute(merged, **opts)
    assert after.summary_table.equals(plain.summary_table)
    assert plain.summary_table.loc["q3", "n_excluded"] == 10  # the not-applicable cells
    for i in range(3):
        a, b = plain.complete(i), after.complete(i)
        pd.testing.assert_frame_equal(a[cols].reset_index(drop=True), b[cols].reset_index(drop=True))
        assert b["q3"].iloc[20:30].isna().all() and b["q3"].notna().sum() == len(b) - 10
    means = [np.mean([c["s"].mean() for c in imp]) for imp in (plain, after)]
    assert means[0] == means[1]


def test_impute_refuses_when_the_reasons_were_left_behind(tmp_path):
    from veplab.data import ReasonsLost, with_reasons

    df, cb = _loaded(tmp_path)
    cols = ["q1", "q2", "q3", "age"]
    # a column selection drops the reason columns but keeps load's record: impute knows they were there
    with pytest.raises(ReasonsLost, match=r"loaded by veplab.data.load.*'q1'.*with_reasons"):
        impute(df[cols], m=2, seed=1, dont_know="missing", refused="missing")
    ok = impute(df[with_reasons(df, cols)], m=2, seed=1, dont_know="missing", refused="missing")
    assert ok.summary_table.loc["q3", "n_excluded"] == 10
    # after a merge nothing records them; the codebook still says q3 can be not applicable
    units, fac = _with_facility(df)
    bare = units.merge(fac, on="unit")[cols]
    with pytest.raises(ReasonsLost, match=r"'q3' \(not_applicable\).*'q3__missing'"):
        impute(bare, m=2, seed=1, dont_know="missing", refused="missing", codebook=cb)
    with pytest.raises(ReasonsLost, match=r"'q1' \(dont_know, refused\)"):  # the choice cannot be skipped
        impute(bare, m=2, seed=1, codebook=cb)
    # every reason imputed alike: the reasons do not matter
    every = impute(bare, m=2, seed=1, dont_know="missing", refused="missing", not_applicable="missing", codebook=cb)
    assert every.n_excluded == 0
    with pytest.raises(InputError, match="q1__missing.*not answers"):
        impute(df, m=2, seed=1, columns=["q1", "q1__missing"], dont_know="missing", refused="missing")


def test_impute_asks_whether_items_are_reversed_when_loads_record_is_lost(tmp_path):
    df, cb = _loaded(tmp_path, reverse=True)
    units, fac = _with_facility(df)
    merged = units.merge(fac, on="unit")
    opts = {"m": 2, "seed": 3, "columns": ["q1", "q2", "q3", "s"], "dont_know": "missing", "refused": "missing",
            "codebook": cb}
    with pytest.raises(InputError, match=r"reverse-keyed items \['q2'\].*reversed_items=True"):
        impute(merged, **opts)
    a, b = impute(units, **opts), impute(merged, reversed_items=True, **opts)
    assert np.allclose(a.complete(0)["s"], b.complete(0)["s"], equal_nan=True)


def test_impute_bad_input():
    with pytest.raises(InputError, match=r"\['blank'\] have no observed values"):
        impute(IMP.assign(blank=np.nan), m=2, seed=1)
    with pytest.raises(InputError, match="m must be"):
        impute(IMP, m=0)
    with pytest.raises(InputError, match="not in the data"):
        impute(IMP, columns=["x", "nope"])
    with pytest.raises(InputError, match="method"):
        impute(IMP, method="norm")
    with pytest.raises(InputError, match="pmm needs numbers"):
        impute(IMP, columns=["x", "nom"], method={"nom": "pmm"})
    imp = impute(IMP, m=2, seed=1)
    with pytest.raises(InputError, match="from 0 to 1"):
        imp.complete(2)
    with pytest.raises(InputError, match="pass the analyses"):
        pool(imp)


def test_no_warnings_on_clean_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        impute(IMP, m=2, seed=1, columns=["x", "ord", "bin", "nom"])


def test_docstring_examples_run():
    import doctest

    import veplab.missing.imputation as mod

    assert doctest.testmod(mod).failed == 0


def test_pmm_sort_is_the_stable_sort():
    """PMM's donor order: the fast sort gives exactly numpy's stable argsort, ties (in position order),
    signed zeros and NaN included."""
    from veplab.factors.imputation import _argsort_stable

    rng = np.random.default_rng(17)
    cases = [np.array([]), np.array([2.0]), rng.normal(size=5000), np.round(rng.normal(size=5000), 1),
             rng.integers(0, 3, 5000).astype(float), np.array([0.0, -0.0, 1.0, 0.0, -0.0, -1.0]),
             np.array([1.0, np.nan, 0.0, np.nan, 1.0])]
    for x in cases:
        assert np.array_equal(_argsort_stable(x), np.argsort(x, kind="stable"))
