"""veplab.report: the publishing gate used by notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from veplab.report import DisclosureError, Report


def rep(threshold: int = 10) -> Report:
    return Report(None, "t", threshold=threshold, display=False)


def test_counts_are_suppressed_with_secondary_cells():
    r = rep()
    t = pd.DataFrame({"men": [40, 3, 25], "women": [12, 15, 30]}, index=["KZ", "TN", "UG"])
    gated = r.table(t, "counts")
    payload = r.results["tables"]["counts"]
    assert payload["data"][1][0] is None and payload["suppressed"][1][0]
    assert sum(map(sum, payload["suppressed"])) >= 4  # a lone hidden cell would be recoverable from totals
    assert np.isnan(gated.loc["TN", "men"])
    for row, sup in zip(payload["data"], payload["suppressed"]):
        assert all(s or v is None or v == 0 or v >= 10 for v, s in zip(row, sup))


def test_stats_hidden_below_threshold():
    r = rep()
    t = pd.DataFrame({"n": [120, 7, 60], "mean": [3.1, 4.2, 2.9]}, index=["a", "b", "c"])
    r.table(t, "means", kind="stats", n="n")
    sup = r.results["tables"]["means"]["suppressed"]
    assert sup[1] == [True, True]


def test_threshold_floor_and_row_level_refusal():
    with pytest.raises(DisclosureError):
        rep(threshold=2)
    r = Report(None, "t", threshold=10, n_records=50, display=False)
    with pytest.raises(DisclosureError, match="row-level"):
        r.table(pd.DataFrame({"x": range(60)}), "rows", kind="model")


def test_magnitude_table_dominance():
    rng = np.random.default_rng(1)
    rows = []
    for prison in ("P1", "P2", "P3"):
        for workshop in ("furniture", "tailoring"):
            for _ in range(15):
                rows.append({"prison": prison, "workshop": workshop, "earned": rng.uniform(10, 20)})
    rows.append({"prison": "P1", "workshop": "furniture", "earned": 5000.0})  # one dominant earner
    r = rep()
    gated = r.magnitude_table(pd.DataFrame(rows), "earned", "prison", "workshop", "earnings")
    assert np.isnan(gated.loc["P1", "furniture"])
    assert int(np.isnan(gated.to_numpy()).sum()) >= 2  # secondary suppression against the margins
    assert r.results["tables"]["earnings"]["table_kind"] == "magnitude"


def test_value_records_its_confidence_level():
    r = Report(None, "t", threshold=10, display=True)
    shown: list[str] = []
    r._emit = lambda html, payload: shown.append(html)  # what the page would show
    r.value("rate", 0.25, n=1500, ci=(0.22, 0.28), ci_level=0.9)
    r.value("plain", 0.5, n=40, ci=(0.4, 0.6))
    r.value("no_ci", 3.2, n=40)
    vals = r.results["values"]
    assert vals["rate"]["ci_level"] == 0.9 and vals["plain"]["ci_level"] == 0.95 and vals["no_ci"]["ci_level"] is None
    assert "(90% CI 0.22–0.28)" in shown[0] and "(95% CI 0.4–0.6)" in shown[1]
    with pytest.raises(ValueError, match="ci_level must be a number between 0 and 1"):
        r.value("bad", 0.5, n=40, ci=(0.4, 0.6), ci_level=95)


def test_suppressed_value_does_not_publish_its_small_n():
    r = rep()
    assert r.value("tiny", 0.5, n=4, ci=(0.1, 0.9)) is None
    payload = r.results["values"]["tiny"]
    assert payload["suppressed"] and payload["value"] is None and payload["n"] is None and payload["ci"] is None
