"""Loading field data and checking its quality.

* :func:`load` reads a CSV / XLSX / SPSS / Stata / Parquet export and applies
  its instrument codebook, reporting every problem at once (:class:`DataError`).
* :func:`quality` summarises missingness, don't-know/refused rates,
  straight-lining, out-of-range values and duplicates.
* :func:`missing_reasons` says why each missing answer is missing; the reasons
  live in reason columns ``<item>__missing`` that travel with their rows
  through merges and concatenation (:mod:`veplab.data.reasons`).
"""

from .load import DataError, LoadInfo, apply_codebook, load, load_info, missing_reasons
from .problems import PROBLEM_COLUMNS
from .quality import QualityReport, quality
from .readers import detect_encoding, read_raw, sha256_file
from .reasons import (
                      REASONS,
                      ReasonsLost,
                      reason_column,
                      reason_columns,
                      set_missing_reasons,
                      with_reasons,
)

__all__ = [
                      "PROBLEM_COLUMNS",
                      "REASONS",
                      "DataError",
                      "LoadInfo",
                      "QualityReport",
                      "ReasonsLost",
                      "apply_codebook",
                      "detect_encoding",
                      "load",
                      "load_info",
                      "missing_reasons",
                      "quality",
                      "read_raw",
                      "reason_column",
                      "reason_columns",
                      "set_missing_reasons",
                      "sha256_file",
                      "with_reasons",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
