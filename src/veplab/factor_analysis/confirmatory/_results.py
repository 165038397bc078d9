"""Result objects: :class:`CFAResult`, :class:`InvarianceResult`."""

from __future__ import annotations

import dataclasses

import pandas as pd
from veplab._results import Result


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

    FIT_MEASURES = (
        "npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "baseline_pvalue",
        "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high", "rmsea_pvalue", "srmr",
        "srmr_nomean", "loglik", "unrestricted_loglik", "aic", "bic", "sabic", "n",
    )

    def fit_measures(self) -> pd.Series:
        """The fit measures as a Series (lavaan ``fitMeasures`` in snake case)."""
        return pd.Series({k: getattr(self, k) for k in self.FIT_MEASURES}, name="value")

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


@dataclasses.dataclass(frozen=True)
class InvarianceResult(Result):
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

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        cols = ["model", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "delta_chisq",
                "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "verdict"]
        return "\n".join([
            f"Measurement invariance across {self.group!r} ({self.ngroups} groups, N = {self.n})",
            self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            self.guidance,
        ])
