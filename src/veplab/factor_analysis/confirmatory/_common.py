"""Names shared by the CFA modules: lavaan group.equal names, invariance levels, limits."""

from __future__ import annotations




#: lavaan ``group.equal`` names understood by ``equal=``.
EQUAL_NAMES = (
    "loadings",
    "intercepts",
    "means",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
)

#: The cumulative equality constraints of each invariance level.
INVARIANCE_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}

_MAX_ITER = 500
_WHAT = "cfa"
