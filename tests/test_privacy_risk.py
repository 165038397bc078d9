"""Risk measures: k-anonymity, l-diversity and individual risk against sdcMicro's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.codebook import from_dict
from veplab.privacy import equivalence_class_sizes, individual_risk, risk_report

# The 8-record example of sdcMicro's own test suite (tests/testthat/test_indivRisk.R,
# sdcTools/sdcMicro on GitHub): key variables A, B, C and sampling weights.  The
# expected individual risks below are the values that file asserts for
# indivRisk(freqCalc(x, keyVars = 1:3, w = 4), method = "approx").
A = [2, 3, 2, 2, 3, 3, 1, 2]
B = [3, 3, 3, 3, 3, 3, 4, 3]
C = [1, 3, 1, 2, 1, 1, 1, 1]
W = [18.0, 45.5, 39.0, 17.0, 92.0, 8.0, 123.5, 51]
SDC_APPROX = [0.01369863, 0.08579129, 0.01369863, 0.17707583, 0.01877883, 0.01877883, 0.03931625, 0.01369863]
A_NA = [2, 3, 2, 2, 3, 3, 1, np.nan]
C_NA = [1, 3, np.nan, 2, 1, 1, np.nan, 1]
SDC_APPROX_NA = [0.013698630, 0.085791288, 0.010554090, 0.032466112, 0.009836066, 0.009836066, 0.039316254,
                 0.005973716]
SDC_UNWEIGHTED_NA = [1 / 3, 1.0, 0.25, 0.5, 1 / 3, 1 / 3, 1.0, 0.2]


def _close_to_printed(got, expected):
    """sdcMicro's test file prints 8-9 decimals: allow half a unit in the last printed place."""
    np.testing.assert_allclose(got, expected, rtol=0, atol=5e-9)


def test_weighted_individual_risk_matches_sdcmicro():
    df = pd.DataFrame({"A": A, "B": B, "C": C, "w": W})
    _close_to_printed(individual_risk(df, ["A", "B", "C"], weights="w").to_numpy(), SDC_APPROX)


def test_weighted_risk_with_missing_matches_sdcmicro():
    df = pd.DataFrame({"A": A_NA, "B": B, "C": C_NA, "w": W})
    _close_to_printed(individual_risk(df, ["A", "B", "C"], weights=W).to_numpy(), SDC_APPROX_NA)
    # unweighted: 1 / fk with missing values matching any value (freqCalc)
    np.testing.assert_allclose(individual_risk(df, ["A", "B", "C"]).to_numpy(), SDC_UNWEIGHTED_NA, rtol=1e-12)
    assert equivalence_class_sizes(df, ["A", "B", "C"]).tolist() == [3, 1, 4, 2, 3, 3, 1, 5]
    # missing as a category instead: the NA rows form their own classes
    assert equivalence_class_sizes(df, ["A", "B", "C"], missing="category").tolist() == [1, 1, 1, 1, 2, 2, 1, 1]


def test_k_anonymity_hand_computed():
    # classes: (1,1) x3, (1,2) x1, (2,1) x2, (2,2) x4 -> sizes 3,1,2,4
    df = pd.DataFrame({
        "gender": [1, 1, 1, 1, 2, 2, 2, 2, 2, 2],
        "age_band": [1, 1, 1, 2, 1, 1, 2, 2, 2, 2],
        "vep": [0, 1, 0, 1, 1, 1, 0, 1, 0, 0],
    })
    r = risk_report(df, quasi_identifiers=["gender", "age_band"], sensitive=["vep"], k=3)
    assert (r.n, r.n_classes, r.min_class_size, r.sample_uniques) == (10, 4, 1, 1)
    kt = r.k_table.set_index("k")
    assert kt.loc[2, "records_below_k"] == 1 and kt.loc[2, "classes_below_k"] == 1
    assert kt.loc[3, "records_below_k"] == 3 and kt.loc[3, "classes_below_k"] == 2
    assert kt.loc[5, "records_below_k"] == 10 and kt.loc[5, "classes_below_k"] == 4
    assert kt.loc[10, "share_below_k"] == 1.0
    assert r.records_below_k == 3 and r.share_below_k == pytest.approx(0.3)
    # expected re-identifications = sum of 1/fk = number of classes (unweighted, no missing)
    assert r.expected_reidentifications == pytest.approx(4.0)
    assert r.reidentification_rate == pytest.approx(0.4)
    assert r.max_individual_risk == 1.0
    # l-diversity of vep: (1,1) {0,1} l=2; (1,2) {1} l=1; (2,1) {1} l=1; (2,2) {0,1} l=2
    lt = r.l_table.set_index("sensitive")
    assert lt.loc["vep", "min_l"] == 1
    assert lt.loc["vep", "classes_l_below_2"] == 2 and lt.loc["vep", "records_l_below_2"] == 3
    # tables sum up; summary prints no row-level data
    assert r.class_size_table["records"].sum() == 10 and r.risk_table["records"].sum() == 10
    text = r.summary()
    assert "k-anonymity" in text and "vep" in text
    assert ", individual_risk=" not in repr(r) and ", class_size=" not in repr(r)
    assert set(r.to_frame().columns) >= {"records_below_k", "expected_reidentifications"}


def test_codebook_roles_choose_columns():
    cb = from_dict({"id": "s", "title": "t", "id_column": "rid", "items": [
        {"id": "gender", "label": "g", "type": "categorical", "role": "quasi_identifier", "options": {1: "m", 2: "w"}},
        {"id": "age_band", "label": "a", "type": "ordinal", "role": "quasi_identifier",
         "options": {1: "18-24", 2: "25-34"}},
        {"id": "vep_status", "label": "v", "type": "binary", "role": "sensitive", "options": {0: "no", 1: "yes"}},
        {"id": "q1", "label": "q", "type": "likert", "options": {1: "a", 2: "b"}},
    ]})
    df = pd.DataFrame({"gender": [1, 1, 2, 2], "age_band": [1, 1, 2, 2], "vep_status": [0, 1, 1, 1], "q1": [1, 2, 1, 2]})
    r = risk_report(df, cb, k=2)
    assert r.quasi_identifiers == ("gender", "age_band")
    assert r.l_table["sensitive"].tolist() == ["vep_status"]
    assert r.is_k_anonymous


def test_cross_check_with_pycanon():
    anonymity = pytest.importorskip("pycanon.anonymity")
    rng = np.random.default_rng(4)
    df = pd.DataFrame({
        "country": rng.integers(1, 4, 300),
        "gender": rng.integers(1, 3, 300),
        "age_band": rng.integers(1, 6, 300),
        "offence": rng.integers(1, 6, 300),
        "vep": rng.integers(0, 2, 300),
    })
    qi = ["country", "gender", "age_band"]
    r = risk_report(df, quasi_identifiers=qi, sensitive=["offence", "vep"])
    assert r.min_class_size == anonymity.k_anonymity(df, qi)
    assert int(r.l_table["min_l"].min()) == anonymity.l_diversity(df, qi, ["offence", "vep"])
    r2 = risk_report(df, quasi_identifiers=qi + ["offence"], sensitive=["vep"])
    assert r2.min_class_size == anonymity.k_anonymity(df, qi + ["offence"])
    assert int(r2.l_table["min_l"].min()) == anonymity.l_diversity(df, qi + ["offence"], ["vep"])


def test_bad_inputs():
    df = pd.DataFrame({"A": A, "B": B, "w": W})
    with pytest.raises(InputError, match="quasi-identifier"):
        risk_report(df, quasi_identifiers=[])
    with pytest.raises(InputError, match="not in the data"):
        risk_report(df, quasi_identifiers=["Z"])
    with pytest.raises(InputError, match="codebook or quasi_identifiers"):
        risk_report(df)
    with pytest.raises(InputError, match="at least 2"):
        risk_report(df, quasi_identifiers=["A"], k=1)
    with pytest.raises(InputError, match="below-1"):
        risk_report(df, quasi_identifiers=["A"], weights=[0.5] * 8)
    with pytest.raises(InputError, match="both"):
        risk_report(df, quasi_identifiers=["A"], sensitive=["A"])
    with pytest.raises(InputError, match="missing"):
        risk_report(df, quasi_identifiers=["A"], missing="drop")


def test_against_r_reference():
    """Class sizes, k table, ER and l-diversity agree with base R (tests/reference/privacy.R)."""
    import json
    from pathlib import Path

    ref_dir = Path(__file__).parent / "reference"
    ref = json.loads((ref_dir / "privacy.json").read_text())["risk"]
    micro = pd.read_csv(ref_dir / "data" / "privacy_micro.csv")
    keys = ["country", "gender", "age_band", "offence"]
    assert equivalence_class_sizes(micro, keys).tolist() == ref["fk_wildcard"]
    assert equivalence_class_sizes(micro, keys, missing="category").tolist() == ref["fk_category"]
    r = risk_report(micro, quasi_identifiers=keys)
    kt = r.k_table.set_index("k")
    for row in ref["k_table"]:
        assert kt.loc[row["k"], "records_below_k"] == row["records_below_k"]
        assert kt.loc[row["k"], "classes_below_k"] == row["classes_below_k"]
    assert r.expected_reidentifications == pytest.approx(ref["expected_reidentifications"], rel=1e-12)
    r3 = risk_report(micro, quasi_identifiers=["country", "gender", "age_band"], sensitive=["vep"])
    lt = r3.l_table.iloc[0]
    assert (lt["min_l"], lt["classes_l_below_2"], lt["records_l_below_2"]) == (
        ref["l_min"], ref["l_classes_below_2"], ref["l_records_below_2"])
