"""Regression models: linear, logistic and ordinal (proportional odds) regression, linear and logistic
mixed models (random intercepts and slopes by prison), and the ICC of a clustering.

Submodules
----------
:mod:`veplab.models.regression`  ``linear`` (R ``lm``), ``logit`` (``glm(family = binomial)``), both with
                                 ``sandwich`` variances,
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
from .regression import LinearResult, LogitResult, OrdinalResult, linear, logit, ordinal

__all__ = [
    "linear",
    "LinearResult",
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

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
