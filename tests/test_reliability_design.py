"""veplab.reliability.design: what the reliability page shows, chosen and named from the statistics."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from veplab._validate import InputError
from veplab.codebook import from_dict
from veplab.reliability import design as rd
from veplab.reliability import reliability_report

CB = from_dict({"id": "t", "title": "t", "id_column": "id", "items": [
    *({"id": f"k{j}", "label": f"Quiz {j}", "type": "categorical", "options": {1: "a", 2: "b", 8: "I don't know"},
       "key": 1} for j in range(4)),
    *({"id": f"l{j}", "label": f"Opinion {j}", "type": "likert", "options": {1: "no", 2: "so-so", 3: "yes"}}
      for j in range(3))],
    "scales": [{"id": "quiz", "label": {"en": "Knowledge"}, "items": [f"k{j}" for j in range(4)]},
               {"id": "op", "label": {"en": "Opinion"}, "items": [f"l{j}" for j in range(3)]}]})


def _data(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    ability, view = rng.normal(size=n), rng.normal(size=n)
    d = {f"k{j}": np.where(ability + rng.normal(size=n) > 0, 1, rng.choice([2, 8], n)) for j in range(4)}
    d |= {f"l{j}": np.clip(np.round(2 + view + rng.normal(scale=0.8, size=n)), 1, 3).astype(int) for j in range(3)}
    return pd.DataFrame(d)


def test_scales_table_names_kr20_and_shows_scale_names():
    df = _data()
    rr = reliability_report(df, CB, n_boot=20, seed=1)
    t = rd.scales_table(rr.scales, CB)
    assert t.index.tolist() == ["Knowledge", "Opinion"]
    assert t["coefficient"].tolist() == ["KR-20", "Cronbach's alpha"]
    # KR-20 on the scored quiz: k/(k-1) (1 - sum p q / var(total)), scored 1 right, 0 otherwise ("I don't know")
    x = (df[[f"k{j}" for j in range(4)]] == 1).astype(float)
    p = x.mean()
    kr20 = 4 / 3 * (1 - (p * (1 - p)).sum() / x.sum(axis=1).var(ddof=0))
    assert t.loc["Knowledge", "alpha"] == pytest.approx(kr20, rel=1e-9)
    only_alpha = rd.scales_table(rr.scales[rr.scales["scale"] == "op"], CB)
    assert "coefficient" not in only_alpha.columns
    items = rd.items_table(rr.items)
    assert items.index.tolist()[:4] == ["k0", "k1", "k2", "k3"] and "mean" in items.columns
    assert items.loc["k0", "mean"] == pytest.approx(x["k0"].mean())  # the share answering right, not a code


def test_agreement_columns_follow_the_design():
    agr = pd.DataFrame({c: [1.0] for c in [
        "n", "ratings_per_case", "percent_agreement", "kappa", "kappa_weights", "kappa_ci_low", "kappa_ci_high",
        "kripp_alpha", "kripp_level", "kripp_ci_low", "kripp_ci_high", "ac1", "ac1_ci_low", "ac1_ci_high", "icc",
        "icc_form", "icc_ci_low", "icc_ci_high", "icc_c", "icc_c_ci_low", "icc_c_ci_high", "prevalence_paradox"]},
        index=pd.Index(["risk"], name="item"))
    two = rd.agreement_columns(agr, {"max_per_case": 2, "crossed": True})
    assert "kripp_alpha" not in two and "kappa" in two and "icc_c" in two
    pool = rd.agreement_columns(agr, {"max_per_case": 3, "crossed": False})
    assert {"fleiss_kappa", "fleiss_ci_low", "kripp_alpha"} <= set(pool) and "kappa" not in pool and "icc_c" not in pool
    with pytest.raises(InputError, match="lacks"):
        rd.agreement_columns(agr.drop(columns="ac1"), {"max_per_case": 2, "crossed": True})


def test_judgement_spread_counts_every_case_once():
    w = pd.DataFrame({"r1": ["low", "high", "low", "mid", "low"], "r2": ["low", "high", "high", "low", "low"],
                      "r3": ["low", "low", "mid", "high", None]}, index=pd.Index(range(5), name="case"))
    table, spread = rd.judgement_spread(w, ["low", "mid", "high"])
    assert table.index.tolist() == ["low", "mid", "high", rd.NO_MAJORITY, "Total"]
    assert table.loc["low"].tolist() == [2, 0, 2]        # case 0 (3 x low) and case 4 (2 x low, one missing)
    assert table.loc["high"].tolist() == [0, 1, 1]       # case 1
    assert table.loc[rd.NO_MAJORITY].tolist() == [0, 2, 2]  # cases 2 and 3
    assert table.loc["Total", "Total"] == len(spread) == 5
