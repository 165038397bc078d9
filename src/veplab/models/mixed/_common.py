"""Constants and warnings shared by the mixed models (lme4 defaults)."""

from __future__ import annotations

import math


LOG_2PI = math.log(2.0 * math.pi)
LOGISTIC_VAR = math.pi**2 / 3.0
SINGULAR_TOL = 1e-4  # lme4::isSingular default
GRAD_TOL = 0.002  # lme4 check.conv.grad default


class SingularFitWarning(UserWarning):
    """A variance component is estimated at (or next to) zero (lme4's isSingular)."""


class ConvergenceWarning(UserWarning):
    """The optimiser did not reach a clear optimum."""
