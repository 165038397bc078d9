"""Intervention outcome statistics.

Training evaluations (pre/post), comparison-group designs, propensity scores,
survival of time to an event, power, and logframe indicator tables.  Every
statistic is checked against R (``t.test``, ``wilcox.test``, ``lm``,
``survival``, ``power.t.test``, ``power.prop.test``) in
``tests/reference/outcomes.R``.

- :mod:`~veplab.outcomes.prepost`: :func:`pre_post`, :func:`pre_post_long`,
  :func:`reliable_change`
- :mod:`~veplab.outcomes.effects`: :func:`ancova`, :func:`did`,
  :func:`plot_trajectories`
- :mod:`~veplab.outcomes.propensity`: :func:`propensity` (``.effect()``),
  :func:`plot_love`, :func:`plot_overlap`
- :mod:`~veplab.outcomes.survival`: :func:`kaplan_meier`, :func:`logrank`,
  :func:`cox`, :func:`cox_zph`, :func:`plot_km`, :func:`plot_forest`,
  :func:`truncate_at_risk`
- :mod:`~veplab.outcomes.competing`: :func:`cumulative_incidence` (Gray's test),
  :func:`fine_gray`, :func:`cause_specific_cox`, :func:`plot_cuminc`
- :mod:`~veplab.outcomes.power`: :func:`power`,
  :func:`minimum_detectable_effect`
- :mod:`~veplab.outcomes.indicators`: :func:`indicators`
- :mod:`~veplab.outcomes.design`: the ``outcomes`` notebook's building blocks for a
  declared study (``analyses.outcomes``): labels from the codebooks, scales answered
  in both waves, the horizon's grid, sentences for parts that cannot run
"""

from .effects import AncovaResult, DidResult, GroupMeans, ancova, did, group_means, plot_trajectories
from .indicators import CRITERIA, indicators, validate_framework
from .competing import (CumulativeIncidence, FineGrayResult, cause_specific_cox, cumulative_incidence, fine_gray,
                        plot_cuminc)
from .power import PowerResult, minimum_detectable_effect, power
from .prepost import PrePostResult, ReliableChange, paired_tests, pre_post, pre_post_long, reliable_change
from .propensity import EffectEstimate, PropensityResult, plot_love, plot_overlap, propensity
from ..plots import plot_forest
from .survival import (
    CoxResult,
    KaplanMeier,
    Logrank,
    ConcordanceResult,
    concordance,
    cox,
    ZphResult,
    cox_zph,
    kaplan_meier,
    logrank,
    plot_km,
    truncate_at_risk,
)

__all__ = [
    "pre_post", "pre_post_long", "PrePostResult", "paired_tests", "reliable_change", "ReliableChange",
    "ancova", "AncovaResult", "did", "DidResult", "group_means", "GroupMeans", "plot_trajectories",
    "propensity", "PropensityResult", "EffectEstimate", "plot_love", "plot_overlap",
    "kaplan_meier", "KaplanMeier", "logrank", "Logrank", "cox", "CoxResult", "cox_zph", "ZphResult",
    "concordance", "ConcordanceResult", "plot_km", "plot_forest", "truncate_at_risk",
    "cumulative_incidence", "CumulativeIncidence", "fine_gray", "FineGrayResult", "cause_specific_cox",
    "plot_cuminc",
    "power", "minimum_detectable_effect", "PowerResult",
    "indicators", "validate_framework", "CRITERIA",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
