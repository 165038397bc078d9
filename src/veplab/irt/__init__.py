"""Item response theory: Rasch, partial credit and rating scale models by conditional maximum likelihood.

Checked against R's eRm (Mair & Hatzinger 2007): the same parameterisation,
normalisation and statistics.

:func:`rasch`              Rasch model for dichotomous items (``eRm::RM``)
:func:`partial_credit`     partial credit model for ordinal items (``eRm::PCM``, ``thresholds``)
:func:`rating_scale`       rating scale model: items on one answer scale share its steps (``eRm::RSM``)
:func:`lr_test`            Andersen's likelihood-ratio test by a split or a group (``eRm::LRtest``),
                           with per-parameter Wald tests for two groups (``eRm::Waldtest``)
:func:`item_information`   item and test information (``eRm::item_info``, ``test_info``)
:func:`plot_wright_map`    person-item map
:func:`plot_information`   test and item information curves, with the SE of theta

Each fit carries the person parameters (``eRm::person.parameter``), item and person
infit/outfit (``eRm::itemfit``, ``personfit``); see :class:`RaschResult`.
"""

from .andersen import LRTestResult, lr_test
from .cml import (PartialCreditResult, RaschResult, RatingScaleResult, item_information, partial_credit, rasch,
                  rating_scale, test_information)
from .wright import plot_information, plot_wright_map

__all__ = ["rasch", "partial_credit", "rating_scale", "RaschResult", "PartialCreditResult", "RatingScaleResult",
           "lr_test", "LRTestResult",
           "item_information", "test_information", "plot_wright_map", "plot_information"]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
