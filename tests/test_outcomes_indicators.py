"""veplab.outcomes.indicators: logframe indicator tables from a framework dict."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.outcomes import CRITERIA, indicators

DATA = pd.DataFrame({
    "sex": ["F", "M", "M", "F", "M", "M"],
    "country": ["Tunisia", "Tunisia", "Uganda", "Uganda", "Uganda", "Kazakhstan"],
    "wave": ["post"] * 5 + ["pre"],
    "confidence": [4.0, 3.5, 3.0, 4.5, np.nan, 2.0],
    "completed": [1, 0, 1, 1, 1, 0],
})

FRAMEWORK = {
    "indicators": [
        {"id": "conf", "label": {"en": "Staff confidence", "fr": "Confiance du personnel", "ar": "ثقة الموظفين",
                                 "ru": "Уверенность персонала"},
         "criterion": "effectiveness", "baseline": 3.0, "target": 4.0, "direction": "increase",
         "unit": "mean (1-5)", "source": "Pre/post staff survey",
         "actual": {"stat": "mean", "column": "confidence", "where": {"wave": "post"}}},
        {"id": "completion", "label": "Programme completion", "criterion": "efficiency",
         "baseline": 0.5, "target": 0.9, "direction": "increase", "source": "Programme registers",
         "actual": {"stat": "share", "column": "completed"}},
        {"id": "incidents", "label": {"en": "Violent incidents per month"}, "criterion": "impact",
         "baseline": 12, "target": 6, "direction": "decrease", "source": "Incident logs", "actual": 9},
        {"id": "trained", "label": {"en": "Officers trained"}, "criterion": "sustainability",
         "baseline": 0, "target": 10, "direction": "increase", "source": "Training records",
         "actual": {"stat": "count", "where": {"wave": ["post"]}}, "disaggregate": ["sex"]},
    ]
}


def test_indicator_table_values_and_disaggregation():
    out = indicators(DATA, FRAMEWORK, disaggregate=["sex", "country", "not_in_data"])
    conf = out[out["indicator"] == "conf"].set_index(["disaggregation", "level"])
    assert conf.loc[("all", "all"), "actual"] == pytest.approx(3.75)  # (4 + 3.5 + 3 + 4.5) / 4
    assert conf.loc[("all", "all"), "n"] == 4
    assert conf.loc[("all", "all"), "progress_pct"] == pytest.approx(75.0)
    assert conf.loc[("sex", "F"), "actual"] == pytest.approx(4.25)
    assert conf.loc[("country", "Uganda"), "actual"] == pytest.approx(3.75)
    assert conf.loc[("country", "Uganda"), "n"] == 2
    assert ("country", "Kazakhstan") not in conf.index  # no post rows there
    comp = out[(out["indicator"] == "completion") & (out["level"] == "all")].iloc[0]
    assert comp["actual"] == pytest.approx(4 / 6) and comp["criterion"] == "efficiency"
    assert comp["progress_pct"] == pytest.approx(100 * (4 / 6 - 0.5) / 0.4)
    inc = out[out["indicator"] == "incidents"]
    assert len(inc) == 1 and inc["progress_pct"].iloc[0] == pytest.approx(50.0)
    assert not inc["target_met"].iloc[0]
    tr = out[out["indicator"] == "trained"]
    assert set(tr["disaggregation"]) == {"all", "sex"} and tr["actual"].iloc[0] == 5
    assert tr["target_met"].iloc[0] is np.False_ or tr["target_met"].iloc[0] == False  # noqa: E712
    assert list(out.columns[:5]) == ["indicator", "label", "criterion", "disaggregation", "level"]


def test_no_breakdown_is_assumed():
    """Without disaggregate= (or the framework's own), nothing is broken down: no column name is special."""
    out = indicators(DATA, FRAMEWORK)
    conf = out[out["indicator"] == "conf"]
    assert conf["disaggregation"].tolist() == ["all"]
    tr = out[out["indicator"] == "trained"]  # its own list still applies
    assert set(tr["disaggregation"]) == {"all", "sex"}
    fw = dict(FRAMEWORK, disaggregate=["country"])
    assert set(indicators(DATA, fw, disaggregate=["sex"]).query("indicator == 'conf'")["disaggregation"]) == {
        "all", "country"}


def test_labels_by_language_with_english_fallback():
    out = indicators(DATA, FRAMEWORK, lang="fr")
    assert out.loc[out["indicator"] == "conf", "label"].iloc[0] == "Confiance du personnel"
    assert out.loc[out["indicator"] == "incidents", "label"].iloc[0] == "Violent incidents per month"


def test_given_actuals_without_data():
    fw = {"indicators": [FRAMEWORK["indicators"][2]]}
    out = indicators(None, fw)
    assert out["actual"].tolist() == [9.0]


@pytest.mark.parametrize("field, value, message", [
    ("criterion", "efficacy", "not an OECD-DAC criterion"),
    ("direction", "up", "direction must be"),
    ("target", 2.0, "wrong side of baseline"),
    ("actual", {"stat": "mode", "column": "confidence"}, "actual.stat must be one of"),
    ("actual", {"stat": "mean", "column": "conf_score"}, r"\['conf_score'\] named in 'actual'"),
    ("baseline", "three", "baseline must be a number"),
])
def test_framework_validation_errors(field, value, message):
    fw = copy.deepcopy(FRAMEWORK)
    fw["indicators"][0][field] = value
    with pytest.raises(InputError, match=message):
        indicators(DATA, fw)


def test_missing_keys_and_duplicates():
    fw = copy.deepcopy(FRAMEWORK)
    del fw["indicators"][0]["source"]
    with pytest.raises(InputError, match=r"lacks \['source'\]"):
        indicators(DATA, fw)
    fw = copy.deepcopy(FRAMEWORK)
    fw["indicators"][1]["id"] = "conf"
    with pytest.raises(InputError, match="duplicate id"):
        indicators(DATA, fw)
    with pytest.raises(InputError, match="non-empty list"):
        indicators(DATA, {"indicators": []})


def test_all_six_criteria_accepted():
    assert CRITERIA == ("relevance", "coherence", "effectiveness", "efficiency", "impact", "sustainability")
    fw = {"indicators": [dict(FRAMEWORK["indicators"][2], id=c, criterion=c.upper()) for c in CRITERIA]}
    assert indicators(None, fw)["criterion"].tolist() == list(CRITERIA)
