"""Deprecated: the standard charts are :mod:`veplab.plots.charts`; this name keeps old
imports (``from veplab.report.charts import grouped_bars``) working with a DeprecationWarning."""

import sys
import warnings

from ..plots import charts as _charts

warnings.warn("veplab.report.charts moved to veplab.plots.charts: import from there", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _charts
