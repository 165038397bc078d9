"""Missing data: patterns of missingness and multiple imputation by chained equations with
Rubin's rules (R ``mice``: ``md.pattern``, ``mice``, ``pool``).

Why an answer is missing (don't know, refused, not applicable ...) travels with the data as
reason columns (:mod:`veplab.data.reasons`); :func:`impute` reads them.
"""

from .imputation import Imputations, Poolable, PooledEstimates, impute, missing_pattern, pool

__all__ = ["impute", "Imputations", "Poolable", "PooledEstimates", "missing_pattern", "pool"]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
