"""Latent class analysis of categorical items (R ``poLCA``): classes, their profiles and sizes,
model selection by BIC over several class counts, and agreement between classifications.

Charts: :func:`plot_profiles`.
"""

from ._plot import plot_profiles
from .lca import LatentClassResult, LatentClassSolution, adjusted_rand_index, latent_classes, profile_table

__all__ = [
    "latent_classes",
    "LatentClassResult",
    "LatentClassSolution",
    "adjusted_rand_index",
    "profile_table",
    "plot_profiles",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
