"""Deprecated: the labelled tables are :mod:`veplab.descriptives.tables` (also in
:mod:`veplab.descriptives`); this name keeps old imports working with a DeprecationWarning."""

import sys
import warnings

from .descriptives import tables as _tables

warnings.warn("veplab.describe is deprecated: import from veplab.descriptives", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _tables
