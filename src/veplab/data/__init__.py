"""Loading field data and checking its quality.

* :func:`load` reads a CSV / XLSX / SPSS / Stata / Parquet export and applies
  its instrument codebook, reporting every problem at once (:class:`DataError`).
* :func:`quality` summarises missingness, don't-know/refused rates,
  straight-lining, out-of-range values and duplicates.
"""

from .load import DataError, LoadInfo, apply_codebook, load, load_info, missing_reasons
from .problems import PROBLEM_COLUMNS
from .quality import QualityReport, quality
from .readers import detect_encoding, read_raw, sha256_file

__all__ = [
    "DataError",
    "LoadInfo",
    "PROBLEM_COLUMNS",
    "QualityReport",
    "apply_codebook",
    "detect_encoding",
    "load",
    "load_info",
    "missing_reasons",
    "quality",
    "read_raw",
    "sha256_file",
]
