"""Result objects show themselves as tables in a notebook (``_repr_html_``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from veplab._results import Estimate, Result
from veplab.reliability import alpha
from veplab.models.regression import logit


@dataclasses.dataclass(frozen=True)
class _Fit(Result):
    estimate: float
    n: int
    coefficients: pd.DataFrame


def test_repr_html_shows_scalars_and_folds_tables() -> None:
    table = pd.DataFrame({"term": ["(Intercept)", "sexM"], "estimate": [0.25, -1.5]})
    out = _Fit(estimate=0.123456789, n=40, coefficients=table)._repr_html_()
    assert out.startswith("<div class='veplab-result'><p><strong>_Fit</strong>")
    assert "0.123457" in out and ">40<" in out
    assert "<details><summary>coefficients</summary>" in out
    assert "sexM" in out and "-1.5" in out


def test_repr_html_of_a_tidy_to_frame_adds_the_scalars() -> None:
    out = Estimate(estimate=0.5, ci_low=0.25, ci_high=0.75, n=12)._repr_html_()
    assert "0.25" in out and "0.75" in out and out.count("<table") == 1


def test_repr_html_escapes_and_shortens_long_tables() -> None:
    long = pd.DataFrame({"x": np.arange(500), "label": ["<b>"] * 500})
    out = _Fit(estimate=1.0, n=500, coefficients=long)._repr_html_()
    assert "&lt;b&gt;" in out and "<b>" not in out.split("<details>")[1]
    assert "499" in out and "250" not in out  # first and last rows only


def test_real_results_render() -> None:
    rng = np.random.default_rng(1)
    latent = rng.normal(size=300)
    items = pd.DataFrame({f"q{i}": np.clip(np.round(3 + latent + rng.normal(size=300)), 1, 5) for i in range(4)})
    res = alpha(items)
    a = res._repr_html_()
    assert "AlphaResult" in a and f"{res.estimate:.6g}" in a
    assert "<summary>items</summary>" in a
    data = items.assign(y=(latent + rng.normal(size=300) > 0).astype(int))
    fit = logit(data, "y ~ q0 + q1")
    h = fit._repr_html_()
    assert "LogitResult" in h and "q1" in h


def test_results_with_a_chart_draw_it_with_plot() -> None:
    """Where veplab has a chart for a result, the result draws it with .plot() (the module's
    plot_* function stays for a result built elsewhere)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from veplab.factor_analysis import EFAResult, ParallelAnalysisResult
    from veplab.latent_classes import LatentClassResult
    from veplab.outcomes import KaplanMeier, PropensityResult, kaplan_meier, propensity
    from veplab.validity import CalibrationResult

    for cls in (EFAResult, ParallelAnalysisResult, LatentClassResult, KaplanMeier, PropensityResult,
                CalibrationResult):
        assert callable(getattr(cls, "plot", None)), cls.__name__
    rng = np.random.default_rng(2)
    n = 200
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    df = pd.DataFrame({"x": x, "z": rng.normal(size=n), "t": t, "time": rng.exponential(size=n) * 10,
                       "event": rng.integers(0, 2, n)})
    km = kaplan_meier(df, "time", "event", group="t")
    fig = km.plot(risk_table=False)
    assert fig is not None
    ps = propensity(df, "t", ["x", "z"], seed=1)
    love = ps.plot()
    over = ps.plot("overlap")
    assert love is not None and over is not None
    plt.close("all")
