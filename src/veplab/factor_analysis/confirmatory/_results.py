"""Result objects: :class:`CFAResult`, :class:`InvarianceResult`."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd
from veplab._results import Result, TableResult


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CFAResult(Result):
    """A fitted confirmatory factor model (see :func:`cfa`).

    Scalar fields are lavaan's ``fitMeasures`` (names in snake case:
    ``rmsea_pvalue`` is the test of close fit, lavaan's ``rmsea.pvalue``;
    ``srmr`` is lavaan's ``srmr`` = ``srmr_bentler``); ``parameters`` is
    lavaan's ``parameterEstimates(fit, standardized = TRUE)`` with the
    ``std.all`` column as ``std_all``.  ``missing`` is ``"listwise"`` or
    ``"ml"`` (FIML); ``n_patterns`` the number of missing-data patterns per
    group (1 per group for listwise fits).
    """

    chisq: float
    df: int
    pvalue: float
    baseline_chisq: float
    baseline_df: int
    baseline_pvalue: float
    cfi: float
    tli: float
    rmsea: float
    rmsea_ci_low: float
    rmsea_ci_high: float
    rmsea_pvalue: float
    srmr: float
    srmr_nomean: float
    loglik: float
    unrestricted_loglik: float
    aic: float
    bic: float
    sabic: float
    npar: int
    n: int
    ngroups: int
    n_dropped: int
    converged: bool
    iterations: int
    estimator: str
    std_lv: bool
    meanstructure: bool
    ci: float
    rmsea_ci_level: float
    parameters: pd.DataFrame = dataclasses.field(repr=False)
    group_sizes: pd.Series = dataclasses.field(repr=False)
    implied_cov: dict = dataclasses.field(repr=False)
    implied_mean: dict = dataclasses.field(repr=False)
    sample_cov: dict = dataclasses.field(repr=False)
    sample_mean: dict = dataclasses.field(repr=False)
    model: str = dataclasses.field(repr=False, default="")
    equal: tuple[str, ...] = ()
    partial: tuple[str, ...] = ()
    group: str | None = None
    notes: tuple[str, ...] = ()
    missing: str = "listwise"
    n_patterns: tuple[int, ...] = ()
    # ordinal (WLSMV) fits: lavaan's robust ("scaled") test and fit measures
    ordered: tuple[str, ...] = ()
    parameterization: str = ""
    id_cat: str = ""
    test: str = "standard"
    se_type: str = "standard"
    chisq_scaled: float = math.nan
    df_scaled: float = math.nan
    pvalue_scaled: float = math.nan
    chisq_scaling_factor: float = math.nan
    chisq_shift: float = math.nan
    baseline_chisq_scaled: float = math.nan
    baseline_df_scaled: float = math.nan
    cfi_scaled: float = math.nan
    tli_scaled: float = math.nan
    rmsea_scaled: float = math.nan
    sample_thresholds: dict = dataclasses.field(repr=False, default_factory=dict)
    _wls: Any = dataclasses.field(repr=False, default=None, compare=False)

    FIT_MEASURES = (
        "npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "baseline_pvalue",
        "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high", "rmsea_pvalue", "srmr",
        "srmr_nomean", "loglik", "unrestricted_loglik", "aic", "bic", "sabic", "n",
    )

    ROBUST_FIT_MEASURES = (
        "npar", "chisq", "df", "chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor",
        "chisq_shift", "baseline_chisq", "baseline_df", "baseline_chisq_scaled", "baseline_df_scaled",
        "cfi", "tli", "rmsea", "cfi_scaled", "tli_scaled", "rmsea_scaled", "srmr", "n",
    )

    def fit_measures(self) -> pd.Series:
        """The fit measures as a Series (lavaan ``fitMeasures`` in snake case; for ordinal
        WLSMV fits the robust set, ``chisq_scaled`` ... ``rmsea_scaled``)."""
        names = self.ROBUST_FIT_MEASURES if self.ordered else self.FIT_MEASURES
        return pd.Series({k: getattr(self, k) for k in names}, name="value")

    @property
    def loadings(self) -> pd.DataFrame:
        """The ``=~`` rows of :attr:`parameters`."""
        return self.parameters[self.parameters["op"] == "=~"].reset_index(drop=True)

    def summary(self) -> str:
        lines = [
            f"Confirmatory factor analysis ({self.estimator}, lavaan-compatible)",
            f"  N = {self.n}" + (f" in {self.ngroups} groups ({self.group}): "
                                  + ", ".join(f"{k} {v}" for k, v in self.group_sizes.items())
                                  if self.ngroups > 1 else "")
            + (f"; {self.n_dropped} rows dropped (listwise)" if self.n_dropped and self.missing != "ml" else ""),
        ]
        if self.missing == "ml":
            lines.append(
                f"  missing data: FIML (missing = 'ml'), {sum(self.n_patterns)} missing-data patterns"
                + (f"; {self.n_dropped} rows dropped (no indicator observed, or no group)" if self.n_dropped else "")
                + "; standard errors from the observed information")
        if self.equal:
            lines.append(f"  equal across groups: {', '.join(self.equal)}")
        if self.ordered:
            return self._summary_ordinal(lines)
        if not self.converged:
            lines.append("  WARNING: the optimiser did not converge; do not interpret these numbers")
        lines += [
            f"  chi-square({self.df}) = {self.chisq:.3f}, p = {self.pvalue:.4g}; "
            f"{self.npar} free parameters",
            f"  CFI = {self.cfi:.3f}, TLI = {self.tli:.3f}",
            f"  RMSEA = {self.rmsea:.3f} ({self.rmsea_ci_level:.0%} CI {self.rmsea_ci_low:.3f} to "
            f"{self.rmsea_ci_high:.3f}), p(RMSEA <= .05) = {self.rmsea_pvalue:.3f}",
            f"  SRMR = {self.srmr:.3f}",
            f"  logLik = {self.loglik:.3f}, AIC = {self.aic:.3f}, BIC = {self.bic:.3f}",
            "",
            "Parameter estimates",
        ]
        cols = ["lhs", "op", "rhs"] + (["group_label"] if self.ngroups > 1 else []) + [
            "label", "est", "se", "z", "pvalue", "ci_low", "ci_high", "std_all"]
        table = self.parameters[cols].rename(columns={"group_label": "group"})
        lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        lines.append(f"({self.ci:.0%} Wald intervals; fixed parameters have se = 0, as in lavaan)")
        for note in self.notes:
            lines.append(f"Note: {note}")
        return "\n".join(lines)


    def _summary_ordinal(self, lines: list[str]) -> str:
        lines[0] = ("Confirmatory factor analysis of ordinal items (WLSMV: DWLS, robust standard "
                    "errors, scaled-shifted test; lavaan-compatible)")
        lines.append(f"  ordered: {', '.join(self.ordered)}; {self.parameterization} parameterization"
                     + (f"; identification {self.id_cat}" if self.ngroups > 1 else ""))
        if not self.converged:
            lines.append("  WARNING: the optimiser did not converge; do not interpret these numbers")
        lines += [
            f"  scaled-shifted chi-square({self.df}) = {self.chisq_scaled:.3f}, p = {self.pvalue_scaled:.4g} "
            f"(unscaled DWLS chi-square {self.chisq:.3f}); {self.npar} free parameters",
            f"  CFI (scaled) = {self.cfi_scaled:.3f}, TLI (scaled) = {self.tli_scaled:.3f}, "
            f"RMSEA (scaled) = {self.rmsea_scaled:.3f}, SRMR = {self.srmr:.3f}",
            "",
            "Parameter estimates (thresholds: 'y | t1'; scaling factors: '~*~')",
        ]
        cols = ["lhs", "op", "rhs"] + (["group_label"] if self.ngroups > 1 else []) + [
            "est", "se", "z", "pvalue", "std_all"]
        table = self.parameters[cols].rename(columns={"group_label": "group"})
        lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        lines.append("(robust standard errors; fixed or computed parameters have se = 0, as in lavaan)")
        for note in self.notes:
            lines.append(f"Note: {note}")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class InvarianceResult(TableResult):
    """Measurement invariance sequence (see :func:`invariance`).

    ``table`` has one row per model; ``fits`` maps each level to its
    :class:`CFAResult`.  ``to_frame()`` returns the table.
    """

    group: str
    n: int
    ngroups: int
    table: pd.DataFrame = dataclasses.field(repr=False)
    fits: dict = dataclasses.field(repr=False)
    guidance: str = ""


    def summary(self) -> str:
        cols = ["model", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "delta_chisq",
                "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "verdict"]
        return "\n".join([
            f"Measurement invariance across {self.group!r} ({self.ngroups} groups, N = {self.n})",
            self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            self.guidance,
        ])


@dataclasses.dataclass(frozen=True)
class DifferenceTest(Result):
    """A chi-square difference test of two nested fits (``lavTestLRT``'s last row).

    ``statistic`` (the scaled-shifted difference for WLSMV), ``df`` (the difference in
    degrees of freedom), ``p`` and the ``method``.  It unpacks as ``(statistic, df, p)``,
    as the tuple it replaces did: ``t, m, p = scaled_difference_test(m1, m0)``.
    """

    statistic: float
    df: int
    p: float
    method: str = "satorra.2000 (scaled.shifted)"

    def __iter__(self) -> Any:
        return iter((self.statistic, self.df, self.p))

    def __getitem__(self, i: int) -> Any:
        return (self.statistic, self.df, self.p)[i]

    def __len__(self) -> int:
        return 3

    def summary(self) -> str:
        return (f"Chi-square difference test ({self.method}): {self.statistic:.4f} on {self.df} df, "
                f"p = {self.p:.4g}")
