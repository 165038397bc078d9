"""Scale scoring: the same module as :mod:`veplab.data.scoring` (where it lives, beside the
load that calls it); this name keeps ``from veplab.scoring import score_scales`` working."""

import sys

from .data import scoring as _scoring

sys.modules[__name__] = _scoring
