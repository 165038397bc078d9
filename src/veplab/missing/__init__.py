"""Missing data: patterns of missingness and multiple imputation by chained equations with
Rubin's rules (R ``mice``: ``md.pattern``, ``mice``, ``pool``).

Why an answer is missing (don't know, refused, not applicable ...) travels with the data as
reason columns (:mod:`veplab.data.reasons`); :func:`impute` reads them.
"""

from .imputation import Imputations, Poolable, PooledEstimates, impute, missing_pattern, pool

__all__ = ["impute", "Imputations", "Poolable", "PooledEstimates", "missing_pattern", "pool"]
