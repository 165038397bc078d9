"""Factor analysis: the structure of an instrument's items.

Submodules
----------
:mod:`veplab.factor_analysis.exploratory`            KMO, Bartlett's test, exploratory factor analysis (minres, ML,
                                             PA; psych::fa), parallel analysis, scree plot
:mod:`veplab.factor_analysis.rotation`       varimax, oblimin (GPA), promax
:mod:`veplab.factor_analysis.correlations`   polychoric correlations of ordinal items, cor.smooth
:mod:`veplab.factor_analysis.confirmatory`            confirmatory factor analysis (ML, FIML) in lavaan syntax and
                                             measurement invariance across groups (lavaan)
:mod:`veplab.factor_analysis.lavaan_syntax`  the lavaan model syntax veplab reads

One core fits every factor model (:mod:`veplab.factor_analysis._core`: minres, ML and batched fits for
bootstraps, rotations); omega (:func:`veplab.reliability.omega`) uses it too.
"""

from .confirmatory import CFAResult, DifferenceTest, InvarianceResult, cfa, invariance, scaled_difference_test
from .correlations import PolychoricResult, bivariate_normal_cdf, cor_smooth, polychoric
from .exploratory import (
    BartlettResult,
    EFAResult,
    KMOResult,
    ParallelAnalysisResult,
    align_loadings,
    bartlett_sphericity,
    efa,
    kmo,
    parallel_analysis,
    plot_scree,
    smc,
)
from .lavaan_syntax import LavaanSyntaxError, ParsedModel, parse_model
from .rotation import RotationResult, oblimin, promax, rotate, varimax

__all__ = [
    "efa", "EFAResult", "kmo", "KMOResult", "bartlett_sphericity", "BartlettResult", "parallel_analysis",
    "ParallelAnalysisResult", "plot_scree", "smc", "align_loadings",
    "cfa", "CFAResult", "invariance", "InvarianceResult", "scaled_difference_test", "DifferenceTest",
    "polychoric", "PolychoricResult", "bivariate_normal_cdf", "cor_smooth",
    "rotate", "RotationResult", "varimax", "oblimin", "promax",
    "parse_model", "ParsedModel", "LavaanSyntaxError",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
