"""Result objects of the mixed models."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from ..._results import Result
from ._data import _fmt_table
from ...privacy.outputs import ModelFacts


# ---------------------------------------------------------------------------
# result objects
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _MixedBase(Result):
    formula: str
    group: str
    outcome: str
    n: int
    n_groups: int
    n_dropped: int
    ci: float
    intercept_var: float
    intercept_sd: float
    icc: float
    icc_ci_low: float
    icc_ci_high: float
    loglik: float
    deviance: float
    aic: float
    bic: float
    npar: int
    singular: bool
    converged: bool
    fixed_effects: pd.DataFrame = dataclasses.field(repr=False)
    variance_components: pd.DataFrame = dataclasses.field(repr=False)
    vcov: pd.DataFrame = dataclasses.field(repr=False)
    theta: tuple[float, ...] = dataclasses.field(repr=False)
    messages: tuple[str, ...] = dataclasses.field(repr=False)
    ranef_table: pd.DataFrame = dataclasses.field(repr=False)
    #: people per level of each categorical / two-valued predictor (read-only; see LogitResult)
    factor_counts: dict[str, dict[Any, int]] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def tidy(self) -> pd.DataFrame:
        """The fixed-effects table (term, estimate, se, ...), e.g. for
        :func:`veplab.missing.pool` over multiply imputed data."""
        return self.fixed_effects.copy()

    def random_effects(self) -> pd.DataFrame:
        """Conditional modes of the random effects (lme4's ``ranef(fit, condVar = TRUE)``).

        Tidy: one row per group and random-effect term with ``estimate`` (the
        conditional mode / BLUP), ``se`` (the conditional standard deviation,
        ``sqrt`` of lme4's ``postVar``), a normal interval ``ci_low``/``ci_high``
        at the result's ``ci`` level (as in lme4's caterpillar plots) and ``n``,
        the group's number of rows.
        """
        return self.ranef_table.copy()

    def _icc_line(self, label: str) -> str:
        return (f"{label} = {self.icc:.4g} ({self.ci:.0%} profile CI {self.icc_ci_low:.4g} to "
                f"{self.icc_ci_high:.4g})")

    def _with_notes(self, lines: list[str]) -> str:
        return "\n".join(lines + [f"Note: {m}" for m in self.messages])

    def _header(self) -> list[str]:
        return [
            f"Formula: {self.formula}   group: {self.group}",
            f"n = {self.n} rows in {self.n_groups} groups"
            + (f" ({self.n_dropped} rows with missing values dropped)" if self.n_dropped else ""),
        ]

    def _clusters(self) -> tuple[int | None, np.ndarray | None]:
        """(number of clusters, people per cluster) from the random-effects table."""
        tab = getattr(self, "ranef_table", None)
        if not isinstance(tab, pd.DataFrame) or "n" not in tab.columns or len(tab) == 0:
            return getattr(self, "n_groups", None), None
        key = self.group if self.group in tab.columns else tab.columns[0]
        sizes = tab.drop_duplicates(subset=[key])["n"].to_numpy(dtype=float)
        return int(getattr(self, "n_groups", len(sizes))), sizes

    def disclosure_facts(self) -> ModelFacts:
        """What the output checks of :func:`veplab.privacy.model_disclosure` read from this fit."""
        logistic = isinstance(self, MixedLogitResult)
        g, sizes = self._clusters()
        # lme4's df.residual(merMod): nobs - npar
        return ModelFacts("logistic mixed model" if logistic else "linear mixed model", self.n,
                          float(self.n - self.npar), self.factor_counts,
                          (self.outcome, getattr(self, "outcome_counts", {})) if logistic else None,
                          n_clusters=g, cluster_sizes=sizes, cluster_name=repr(self.group))


@dataclasses.dataclass(frozen=True, eq=False)
class MixedLinearResult(_MixedBase):
    """Linear mixed model fit (see :func:`mixed_linear`).

    Scalars: ``n``, ``n_groups``, ``n_dropped``, ``sigma``/``residual_var``
    (residual SD/variance), ``intercept_var``/``intercept_sd`` (group
    intercept), ``icc`` with its profile interval (random-intercept models only;
    NaN with random slopes, where the ICC depends on the slope variable),
    ``loglik`` (the REML log-likelihood for REML fits, as lme4's ``logLik``),
    ``reml_criterion``, ``deviance`` (``-2 loglik``), ``aic``, ``bic``, ``npar``,
    ``singular``, ``converged``.  Tables: ``fixed_effects``,
    ``variance_components`` (lme4's ``as.data.frame(VarCorr(fit))``: group,
    var1, var2, vcov, sdcor), ``vcov``; :meth:`random_effects`.
    """

    re_formula: str | None = None
    reml: bool = True
    sigma: float = math.nan
    residual_var: float = math.nan
    reml_criterion: float = math.nan

    def summary(self) -> str:
        fit = "REML" if self.reml else "maximum likelihood"
        lines = [f"Linear mixed model fit by {fit} (as lme4::lmer)"] + self._header()
        crit = (
            f"REML criterion {self.reml_criterion:.6g}   "
            if self.reml
            else f"deviance {self.deviance:.6g}   "
        )
        lines.append(
            crit + f"logLik {self.loglik:.6g}   AIC {self.aic:.6g}   BIC {self.bic:.6g}"
        )
        lines.append("Random effects:")
        lines.append(_fmt_table(self.variance_components))
        lines.append(f"Fixed effects (Wald t, normal p and {self.ci:.0%} intervals):")
        lines.append(_fmt_table(self.fixed_effects))
        if not math.isnan(self.icc):
            lines.append(self._icc_line("ICC"))
        return self._with_notes(lines)


@dataclasses.dataclass(frozen=True, eq=False)
class MixedLogitResult(_MixedBase):
    """Random-intercept logistic model fit (see :func:`mixed_logit`).

    Scalars: ``n``, ``n_groups``, ``n_dropped``, ``nAGQ``, ``intercept_var`` /
    ``intercept_sd`` (between-group variance/SD on the logit scale), ``icc``
    (latent-scale, ``var / (var + pi^2/3)``) with its profile interval,
    ``loglik``, ``deviance`` (``-2 loglik``), ``aic``, ``bic``, ``npar``,
    ``singular``, ``converged``.  ``fixed_effects`` has log-odds estimates with
    Wald ``z`` tests and intervals and the odds ratios ``odds_ratio``,
    ``or_ci_low``, ``or_ci_high``.  ``factor_counts`` and ``outcome_counts``
    (people with the outcome 0 and 1; with ``trials=``, failures and
    successes) are read by :func:`veplab.privacy.model_disclosure`.
    """

    nAGQ: int = 1
    outcome_counts: dict[Any, int] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def summary(self) -> str:
        how = (
            "Laplace approximation"
            if self.nAGQ == 1
            else f"adaptive Gauss-Hermite, nAGQ = {self.nAGQ}"
        )
        lines = [f"Logistic mixed model fit by maximum likelihood ({how}; as lme4::glmer)"]
        lines += self._header()
        lines.append(
            f"logLik {self.loglik:.6g}   deviance {self.deviance:.6g}   AIC {self.aic:.6g}   "
            f"BIC {self.bic:.6g}"
        )
        lines.append("Random effects (logit scale):")
        lines.append(_fmt_table(self.variance_components))
        lines.append(f"Fixed effects (Wald z, normal p and {self.ci:.0%} intervals; odds ratios):")
        lines.append(_fmt_table(self.fixed_effects))
        lines.append(self._icc_line("Latent-scale ICC"))
        return self._with_notes(lines)


@dataclasses.dataclass(frozen=True, eq=False)
class ClusterIccResult(Result):
    """ICC of a clustering (share of variance between groups, such as prisons) from a null
    random-intercept model (see :func:`icc_null`); agreement ICCs between raters are
    :class:`veplab.reliability.IccResult`."""

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    n_groups: int
    n_dropped: int
    family: str
    between_var: float
    within_var: float
    ci: float = 0.95
    method: str = ""
