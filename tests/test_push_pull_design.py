"""veplab.push_pull.design: the push/pull model built from a study's design, not written by hand."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.codebook import from_dict
from veplab.push_pull import design as dz
from veplab.models import mixed_linear

AGREE = {1: "Disagree strongly", 2: "Disagree", 3: "Unsure", 4: "Agree", 5: "Agree strongly"}
CB = from_dict({
    "id": "t", "title": "T", "id_column": "pid",
    "items": [
        {"id": "pid", "label": "Person", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Male", 2: "Female"}},
        {"id": "age", "label": "Age bracket", "type": "ordinal", "options": {1: "Younger", 2: "Older"}},
        *[{"id": f"o{j}", "label": f"Outcome statement {j}", "type": "likert", "options": AGREE,
           "missing": {8: "dont_know"}, "reverse": j == 3} for j in (1, 2, 3)],
    ],
    "scales": [{"id": "push", "label": "Push scale", "items": ["o1", "o2"], "domain": "push"},
               {"id": "out", "label": "Outcome scale", "items": ["o1", "o2", "o3"], "domain": "outcome"}],
})


def _data(n: int = 240, seed: int = 1, clusters: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"unit": np.repeat([f"U{i:02d}" for i in range(clusters)], n // clusters),
                      "sex": pd.Categorical(rng.choice([1, 2], n, p=[0.7, 0.3]), categories=[1, 2]),
                      "age": pd.Categorical(rng.choice([1, 2], n), categories=[1, 2]),
                      "push": rng.normal(size=n), "pull": rng.normal(size=n)})
    shift = rng.normal(scale=0.5, size=clusters)
    d["out"] = (2 + 0.6 * d["push"] - 0.3 * d["pull"] + 0.4 * (d["sex"] == 2)
                + shift[d["unit"].str[1:].astype(int)] + rng.normal(size=n))
    return d


# ------------------------------------------------------------------ facility predictors


def test_facility_arithmetic_is_evaluated():
    fac = pd.DataFrame({"unit": ["A", "B", "C"], "pop": [120, 80, 50], "cap": [100, 100, 0], "staff": [10, 5, 4]})
    got = dz.facility_predictors(fac, "unit", {"occ": "pop / cap", "ratio": "-(pop + 20) * 2 / staff",
                                               "staff": "staff"})
    assert got["unit"].tolist() == ["A", "B", "C"]
    assert got["occ"].tolist()[:2] == [1.2, 0.8] and np.isnan(got["occ"].iloc[2])  # x / 0: missing
    assert got["ratio"].tolist() == [-28.0, -40.0, -35.0] and got["staff"].tolist() == [10.0, 5.0, 4.0]


@pytest.mark.parametrize("expr, part", [
    ("__import__('os').getcwd()", "__import__"), ("pop ** 2", "pop ** 2"), ("pop.real", "pop.real"),
    ("abs(pop)", "abs(pop)"), ("pop if cap else staff", "pop if cap else staff"), ("pop < cap", "pop < cap"),
    ("pop // cap", "pop // cap"), ("pop[0]", "pop[0]"), ("'text'", "'text'"), ("True", "True"),
])
def test_facility_arithmetic_refuses_anything_else(expr, part):
    fac = pd.DataFrame({"unit": ["A"], "pop": [1], "cap": [2], "staff": [3]})
    with pytest.raises(InputError, match=r"analyses\.push_pull\.facility\.predictors\.x: .* may use only column "
                                         r"names, numbers, \+ - \* / and brackets") as err:
        dz.facility_predictors(fac, "unit", {"x": expr})
    assert repr(part) in str(err.value) or part in str(err.value)


def test_facility_errors_name_the_key_and_the_rows():
    fac = pd.DataFrame({"unit": ["A", "B", "B"], "population": [1, 2, 3], "kind": ["x", "y", "z"]})
    with pytest.raises(InputError, match=r"predictors\.occ: 'populaton / 2' uses 'populaton'.*did you mean "
                                         r"'population'"):
        dz.facility_predictors(fac.iloc[:2], "unit", {"occ": "populaton / 2"})
    with pytest.raises(InputError, match=r"predictors\.k: column 'kind' .* not numbers"):
        dz.facility_predictors(fac.iloc[:2], "unit", {"k": "kind + 1"})
    with pytest.raises(InputError, match=r"one row per facility, but 'unit' repeats for 1 facilities \(B\)"):
        dz.facility_predictors(fac, "unit", {"p": "population"})
    with pytest.raises(InputError, match=r"facility\.key: the facility source has no column 'prison'"):
        dz.facility_predictors(fac, "prison", {"p": "population"})


def test_attach_facility_merges_many_to_one_and_names_missing_codes():
    people = pd.DataFrame({"unit": [1, 1, 2, None, 3], "x": range(5)})
    fac = pd.DataFrame({"unit": ["1", "2", "3", "9"], "occ": [1.5, 0.5, 1.0, 2.0]})
    got = dz.attach_facility(people, fac, "unit")
    assert got["occ"].tolist()[:3] == [1.5, 1.5, 0.5] and np.isnan(got["occ"].iloc[3]) and got["occ"].iloc[4] == 1.0
    assert list(got.index) == list(people.index) and got["x"].tolist() == list(range(5))
    with pytest.raises(InputError, match=r"facility codes 2, 3 of column 'unit' have no row in the facility source"):
        dz.attach_facility(people, fac.iloc[:1], "unit")
    with pytest.raises(InputError, match=r"\['x'\] are already columns"):
        dz.attach_facility(people, fac.assign(x=1), "unit")


# ------------------------------------------------------------------ the model's design


def test_model_design_uses_what_varies_and_can_be_published():
    d = _data()
    d["site"] = 1                                  # constant: left out
    d["rare"] = np.where(np.arange(len(d)) >= 234, 2, 1)  # a group of 6 people: left out at threshold 10
    d["gap"] = np.where(np.arange(len(d)) < 30, np.nan, d["sex"].astype(float))  # missing for 30 people
    des = dz.model_design(d, outcome="out", domains=["push", "pull"], breakdowns=["sex", "site", "rare"],
                          cluster="unit", threshold=10)
    assert des.formula == "out ~ push + pull + C(sex)"
    assert des.dropped == {"site": "constant", "rare": "small"}
    assert des.n == len(d) and des.n_incomplete == 0
    # without a threshold the small group stays; a breakdown with missing values costs its people
    des2 = dz.model_design(d, outcome="out", domains=["push"], breakdowns=["gap", "rare"], level2=["site"])
    assert des2.formula == "out ~ push + C(gap) + C(rare)" and des2.dropped == {"site": "constant"}
    assert des2.n == len(d) - 30 and des2.n_incomplete == 30
    des3 = dz.model_design(d, outcome="out", domains=["push"], breakdowns=["unit", "sex"], cluster="unit")
    assert des3.formula == "out ~ push + C(sex)" and des3.dropped == {"unit": "cluster"}
    with pytest.raises(InputError, match=r"columns \['nope'\] are not in the data"):
        dz.model_design(d, outcome="out", domains=["nope"])


def test_mixed_fit_is_lmer_on_the_designed_formula_with_labels():
    d = _data()
    des = dz.model_design(d, outcome="out", domains=["push", "pull"], breakdowns=["sex", "age"], cluster="unit",
                          threshold=10)
    fit = dz.fit_model(des, codebook=CB, labels={"pull": "Pull (declared)"})
    ref = mixed_linear(d, "out ~ push + pull + C(sex) + C(age)", "unit")
    assert fit.kind == "mixed" and fit.n == 240 and fit.n_groups == 12
    assert np.allclose(fit.terms["estimate"], ref.fixed_effects["estimate"], atol=1e-10)
    assert list(fit.table.index) == ["Intercept", "Push scale", "Pull (declared)", "Sex: Female", "Age bracket: Older"]
    assert fit.variance["group"].tolist() == ["Between clusters", "Residual (within clusters)"]
    assert fit.check(10) is None
    assert fit.df_resid == 240 - ref.npar


def test_single_level_fit_is_ols_with_hc1_errors():
    d = _data()
    des = dz.model_design(d, outcome="out", domains=["push", "pull"], breakdowns=["sex"], threshold=10)
    fit = dz.fit_model(des, codebook=CB)
    X = np.column_stack([np.ones(len(d)), d["push"], d["pull"], (d["sex"] == 2).astype(float)])
    y = d["out"].to_numpy()
    xtx = np.linalg.inv(X.T @ X)
    beta = xtx @ X.T @ y
    e = y - X @ beta
    n, k = X.shape
    hc1 = n / (n - k) * xtx @ (X.T * e**2) @ X @ xtx  # White (1980) with the n/(n-k) correction
    assert fit.kind == "single" and fit.terms["term"].tolist() == ["(Intercept)", "push", "pull", "C(sex)2"]
    assert np.allclose(fit.terms["estimate"], beta, atol=1e-10)
    assert np.allclose(fit.terms["se"], np.sqrt(np.diag(hc1)), atol=1e-10)
    assert fit.df_resid == n - k and fit.check(10) is None


def test_yes_no_fit_and_its_disclosure_check():
    d = _data()
    des = dz.model_design(d, outcome="out", domains=["push"], breakdowns=["sex"], cluster="unit", threshold=10)
    fit = dz.fit_model(des, cut=2.0, codebook=CB)
    assert fit.family == "binomial" and list(fit.table.columns) == ["odds_ratio", "or_ci_low", "or_ci_high", "p"]
    assert np.allclose(fit.table["odds_ratio"], np.exp(fit.terms["estimate"]))
    assert fit.result.outcome_counts == {0: int((d["out"] < 2).sum()), 1: int((d["out"] >= 2).sum())}
    cut = float(np.sort(d["out"])[-6])  # five people at or above: the outcome level is below the threshold
    few = dz.fit_model(dz.dataclasses.replace(des, cluster=None), cut=cut)
    assert few.check(10) == ("The model is not published: one of the two outcomes is held by fewer people than the "
                             "disclosure threshold.")


def test_models_that_cannot_run_say_why_without_digits():
    d = _data()
    d["push2"] = 2 * d["push"]
    collinear = dz.model_design(d, outcome="out", domains=["push", "push2"], cluster="unit")
    with pytest.raises(dz.ModelNotRun) as err:
        dz.fit_model(collinear)
    assert err.value.sentence == dz._SENTENCES["collinear"]
    sep = d.assign(out=(d["push"] > 0).astype(float) * 4 + 1)
    with pytest.raises(dz.ModelNotRun) as err:
        dz.fit_model(dz.model_design(sep, outcome="out", domains=["push"]), cut=3)
    assert err.value.sentence == dz._SENTENCES["separation"]
    with pytest.raises(dz.ModelNotRun) as err:
        dz.fit_model(dz.model_design(d, outcome="out", domains=["push"]), cut=99)
    assert err.value.sentence == dz._SENTENCES["one_side"]
    one = d.assign(unit="U00")
    with pytest.raises(dz.ModelNotRun) as err:
        dz.fit_model(dz.model_design(one, outcome="out", domains=["push"], cluster="unit"))
    assert err.value.sentence == dz._SENTENCES["clusters"]
    with pytest.raises(dz.ModelNotRun) as err:
        dz.icc_by_cluster(one, "out", "unit")
    assert err.value.sentence == dz._SENTENCES["clusters"]
    for text in dz._SENTENCES.values():
        assert not re.search(r"\d", text)


def test_term_labels_and_agreement():
    assert dz.term_labels(["(Intercept)", "Intercept", "C(sex)2", "C(sex)[T.2]", "push", "C(age)1", "other"],
                          codebook=CB) == {
        "(Intercept)": "Intercept", "Intercept": "Intercept", "C(sex)2": "Sex: Female", "C(sex)[T.2]": "Sex: Female",
        "push": "Push scale", "C(age)1": "Age bracket: Younger", "other": "other"}
    assert dz.agree_code([1, 2, 3, 4, 5]) == 4 and dz.agree_code([1, 2, 3, 4]) == 3 and dz.agree_code(range(1, 8)) == 5
    cat = pd.CategoricalDtype([1, 2, 3, 4, 5])
    df = pd.DataFrame({"o1": pd.Series([4, 5, 1, 2, None, 4], dtype=cat),   # 3 of 5 agree
                       "o2": pd.Series([1, 2, 4, 1, 2, 1], dtype=cat),      # 1 of 6
                       "o3": pd.Series([5, 5, 5, 5, 5, 5], dtype=cat)})     # reverse-keyed: left out
    top = dz.top_item_agreement(df, CB, "out")
    assert top["item"] == "o1" and top["estimate"] == pytest.approx(0.6) and top["n"] == 5 and top["n_agree"] == 3
    assert top["agree_label"] == "Agree" and top["ci_low"] == pytest.approx(0.2307, abs=1e-4)  # Wilson
    assert dz.scale_range(CB, ["push", "out"]) == "from 1 (Disagree strongly) to 5 (Agree strongly)"


def test_comparison_icc_and_typology():
    d = _data()
    with pytest.raises(dz.ModelNotRun, match="3 groups"):
        dz.compare_two_groups(d.assign(g=np.arange(len(d)) % 3), ["push"], "g", codebook=CB)
    small = d.assign(sex=np.where(np.arange(len(d)) < 5, 2, 1))
    with pytest.raises(dz.ModelNotRun) as err:
        dz.compare_two_groups(small, ["push"], "sex", codebook=CB, threshold=10)
    assert "fewer people than the disclosure threshold" in err.value.sentence
    cmp, ref, focal = dz.compare_two_groups(d, ["push", "out"], "sex", codebook=CB, threshold=10)
    assert (ref, focal) == ("Male", "Female") and list(cmp.index) == ["Push scale", "Outcome scale"]
    m = d["sex"] == 2
    assert cmp["diff"].iloc[0] == pytest.approx(d.loc[m, "push"].mean() - d.loc[~m, "push"].mean())
    icc = dz.icc_by_cluster(d, "out", "unit")
    assert 0 < icc.estimate < 1 and icc.n_groups == 12
    rng = np.random.default_rng(3)
    cases = np.repeat(np.arange(60), 2)
    ratings = pd.DataFrame({"case": cases, "rater": np.tile([2, 1], 60),
                            **{f"i{j}": rng.integers(0, 2, 120) for j in range(4)}})
    ratings.loc[ratings["rater"] == 1, "i0"] = 1  # the first rating (rater 1) always says 1
    lca = dz.typology(ratings, [f"i{j}" for j in range(4)], subject="case", rater="rater", max_classes=2, seed=1)
    assert lca.n == 60
    assert lca.profiles.query("item == 'i0' and category == 1")["probability"].min() == pytest.approx(1.0)


def test_imputation_sensitivity_refits_the_same_model():
    cb = from_dict({"id": "s", "title": "S", "id_column": "pid", "items": [
        {"id": "pid", "label": "Person", "type": "text", "role": "admin", "pseudonymised": True},
        {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Male", 2: "Female"}},
        *[{"id": i, "label": i, "type": "likert", "options": AGREE} for i in ("p1", "p2", "q1", "q2")]],
        "scales": [{"id": "sp", "label": "Push", "items": ["p1", "p2"], "domain": "push"},
                   {"id": "so", "label": "Outcome", "items": ["q1", "q2"], "domain": "outcome"}]})
    rng = np.random.default_rng(5)
    n = 200
    lat = rng.normal(size=n)
    cat = pd.CategoricalDtype([1, 2, 3, 4, 5])
    d = pd.DataFrame({"sex": pd.Categorical(rng.choice([1, 2], n), categories=[1, 2])})
    for i, f in (("p1", lat), ("p2", lat), ("q1", 0.6 * lat), ("q2", 0.6 * lat)):
        v = np.clip(np.round(3 + f + rng.normal(size=n)), 1, 5)
        v[rng.random(n) < 0.1] = np.nan
        d[i] = pd.Series(v).astype(cat)
    d["sp"] = d[["p1", "p2"]].astype(float).mean(axis=1)
    d["so"] = d[["q1", "q2"]].astype(float).mean(axis=1)
    des = dz.model_design(d, outcome="so", domains=["sp"], breakdowns=["sex"], threshold=10)
    fit = dz.fit_model(des, codebook=cb)
    sens, fits = dz.imputation_sensitivity(d, des, fit, codebook=cb, m=2, seed=1, items=["p1", "p2", "q1", "q2"])
    assert list(sens.index) == ["Intercept", "Push", "Sex: Female"] and len(fits) == 2
    assert np.allclose(sens["complete_cases"], fit.terms["estimate"])
    assert all(f.n > des.n for f in fits) and np.isfinite(sens[["imputed", "fmi"]].to_numpy()).all()
    assert abs(sens.loc["Push", "imputed"] - sens.loc["Push", "complete_cases"]) < 0.2
    with pytest.raises(dz.ModelNotRun):
        dz.imputation_sensitivity(d, des, fit, codebook=cb, m=1, seed=1, items=["p1"])


def test_top_item_agreement_leaves_out_quiz_items():
    """A keyed (right/wrong) item's options are answers, not agreement: never the 'most agreed' item."""
    cb = from_dict({"id": "q", "title": "t", "id_column": "id", "items": [
        {"id": "k1", "label": "Quiz item", "type": "likert", "options": {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"},
         "key": 5},
        {"id": "o1", "label": "Opinion", "type": "likert",
         "options": {1: "Disagree strongly", 2: "Disagree", 3: "Neither", 4: "Agree", 5: "Agree strongly"}}],
        "scales": [{"id": "mix", "label": "Mix", "items": ["k1", "o1"]}]})
    cat = pd.CategoricalDtype([1, 2, 3, 4, 5])  # as veplab.data.load gives coded answers
    df = pd.DataFrame({"k1": [5] * 19 + [4], "o1": [4, 5] * 4 + [1, 2, 3] * 4}).astype(cat)
    top = dz.top_item_agreement(df, cb, "mix")
    assert top["item"] == "o1" and top["n_agree"] == 8 and top["estimate"] == pytest.approx(0.4)


def test_top_item_agreement_on_numeric_codes():
    """Codes as plain numbers (not load's categoricals) give the same share, not a TypeError (a mean's NA n_agree)."""
    cat = pd.CategoricalDtype([1, 2, 3, 4, 5])
    codes = {"o1": [4, 5, 1, 2, None, 4], "o2": [1, 2, 4, 1, 2, 1], "o3": [5, 5, 5, 5, 5, 5]}
    as_cat = dz.top_item_agreement(pd.DataFrame({k: pd.Series(v, dtype=cat) for k, v in codes.items()}), CB, "out")
    as_num = dz.top_item_agreement(pd.DataFrame(codes, dtype=float), CB, "out")
    assert as_num == as_cat and as_num["n_agree"] == 3 and as_num["estimate"] == pytest.approx(0.6)
