"""Push and pull factors: multilevel models (and, later, descriptives, regression,
imputation and latent classes)."""

from .mixed import ClusterIccResult, MixedLinearResult, MixedLogitResult, icc_null, mixed_linear, mixed_logit

__all__ = [
    "mixed_linear",
    "mixed_logit",
    "icc_null",
    "MixedLinearResult",
    "MixedLogitResult",
    "ClusterIccResult",
]

# descriptives, single-level regression, multiple imputation, latent classes, charts
from .descriptives import compare_groups, endorsement, p_adjust, wilson_interval  # noqa: E402
from .imputation import Imputations, Poolable, impute, missing_pattern, pool  # noqa: E402
from .latent_class import (  # noqa: E402
    LatentClassResult,
    LatentClassSolution,
    adjusted_rand_index,
    latent_classes,
)
from .plots import plot_endorsement, plot_forest, plot_profiles  # noqa: E402
from .regression import LogitResult, OrdinalResult, logit, ordinal  # noqa: E402

__all__ += [
    "endorsement",
    "compare_groups",
    "p_adjust",
    "wilson_interval",
    "logit",
    "LogitResult",
    "ordinal",
    "OrdinalResult",
    "impute",
    "Imputations",
    "Poolable",
    "missing_pattern",
    "pool",
    "latent_classes",
    "LatentClassResult",
    "LatentClassSolution",
    "adjusted_rand_index",
    "plot_endorsement",
    "plot_forest",
    "plot_profiles",
]
