"""Names shared by the CFA modules: lavaan group.equal names, invariance levels, limits."""

from __future__ import annotations

from typing import Any

import pandas as pd


def _split_groups(X: pd.DataFrame, groups: pd.Series | None) -> tuple[list[Any], list[pd.DataFrame]]:
    """The group labels in order of appearance (``[None]`` without groups) and each group's rows."""
    if groups is None:
        return [None], [X]
    labels = list(pd.unique(groups))
    return labels, [X[groups == lab] for lab in labels]


#: lavaan ``group.equal`` names understood by ``equal=``.
EQUAL_NAMES = (
    "loadings",
    "intercepts",
    "means",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
    "thresholds",
)

#: The cumulative equality constraints of each ordinal invariance level (Wu & Estabrook
#: 2016): thresholds, then loadings, then intercepts (the last is lavaan's
#: ``group.equal = c("thresholds", "loadings")`` with its default identification).
ORDINAL_INVARIANCE_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "thresholds": ("thresholds",),
    "metric": ("thresholds", "loadings"),
    "scalar": ("thresholds", "loadings", "intercepts"),
}

#: The cumulative equality constraints of each invariance level.
INVARIANCE_LEVELS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}

_MAX_ITER = 500
_WHAT = "cfa"
