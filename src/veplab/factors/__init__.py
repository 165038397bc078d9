"""Deprecated: ``veplab.factors`` was split into subpackages named by what they hold.

==============================  =====================================================
was                             now
==============================  =====================================================
``veplab.factors`` (endorsement, ``veplab.descriptives``
compare_groups, p_adjust ...)
``veplab.factors.regression``   ``veplab.models.regression`` (``veplab.models``)
``veplab.factors.mixed``        ``veplab.models.mixed``
``veplab.factors.imputation``   ``veplab.missing.imputation`` (``veplab.missing``)
``veplab.factors.latent_class`` ``veplab.latent_classes.lca`` (``veplab.latent_classes``)
``veplab.factors.plots``        ``veplab.plots``
``veplab.factors.design``       ``veplab.push_pull.design``
``veplab.describe``             ``veplab.descriptives.tables``
==============================  =====================================================

Old imports keep working (the old module names are the new modules) with a
:class:`DeprecationWarning`; they will be removed in a later release.
"""

from __future__ import annotations

import importlib
import sys
import warnings

from ..descriptives import *  # noqa: F401,F403
from ..descriptives import __all__ as _descriptives
from ..latent_classes import *  # noqa: F401,F403
from ..latent_classes import __all__ as _latent
from ..missing import *  # noqa: F401,F403
from ..missing import __all__ as _missing
from ..models import *  # noqa: F401,F403
from ..models import __all__ as _models

warnings.warn(
    "veplab.factors is deprecated: import from veplab.descriptives, veplab.models, veplab.missing, "
    "veplab.latent_classes, veplab.plots or veplab.push_pull",
    DeprecationWarning,
    stacklevel=2,
)

MOVED = {
    "descriptives": "veplab.descriptives.shares",
    "regression": "veplab.models.regression",
    "mixed": "veplab.models.mixed",
    "_formula": "veplab.models._formula",
    "imputation": "veplab.missing.imputation",
    "latent_class": "veplab.latent_classes.lca",
    "plots": "veplab.plots",
    "design": "veplab.push_pull.design",
}
for _old, _new in MOVED.items():
    _module = importlib.import_module(_new)
    sys.modules[f"{__name__}.{_old}"] = _module
    globals()[_old] = _module

__all__ = sorted(set(_descriptives) | set(_latent) | set(_missing) | set(_models))
