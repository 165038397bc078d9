"""Regression models: logistic and ordinal (proportional odds) regression, linear and logistic
mixed models (random intercepts and slopes by prison), and the ICC of a clustering.

Submodules
----------
:mod:`veplab.models.regression`  ``logit`` (R ``glm(family = binomial)`` with ``sandwich`` variances),
                                 ``ordinal`` (``MASS::polr``)
:mod:`veplab.models.mixed`       ``mixed_linear`` (``lme4::lmer``), ``mixed_logit`` (``lme4::glmer``),
                                 ``icc_null``

Every model takes an R-style formula, returns a result with ``to_frame()``, ``summary()`` and
``plot()`` (a forest plot, :func:`plot_forest`), and names its terms as R does.
"""

from ..plots import plot_forest
from .mixed import (
    ClusterIccResult,
    ConvergenceWarning,
    MixedLinearResult,
    MixedLogitResult,
    SingularFitWarning,
    icc_null,
    mixed_linear,
    mixed_logit,
)
from .regression import LogitResult, OrdinalResult, logit, ordinal

__all__ = [
    "logit",
    "LogitResult",
    "ordinal",
    "OrdinalResult",
    "mixed_linear",
    "mixed_logit",
    "icc_null",
    "MixedLinearResult",
    "MixedLogitResult",
    "ClusterIccResult",
    "SingularFitWarning",
    "ConvergenceWarning",
    "plot_forest",
]
