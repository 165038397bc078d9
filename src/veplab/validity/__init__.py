"""Validity of instruments: factor structure and predictive validity.

Factor structure is :mod:`veplab.factor_analysis` (EFA, CFA and invariance, rotations, polychoric
correlations); its functions are also importable from here, since a validation study uses both.

Submodules
----------
:mod:`veplab.validity.prediction`  ROC/AUC with DeLong or bootstrap intervals, paired comparison,
                                   calibration, subgroup performance
:mod:`veplab.validity.timedep`     prediction over time: time-dependent AUC, Brier score and IPA,
                                   Uno's C, calibration at a horizon (IPCW, Kaplan-Meier, Aalen-Johansen)
:mod:`veplab.validity.decision`    decision curves: net benefit across threshold probabilities
:mod:`veplab.validity.design`      what a study's validity analysis computes, from its design
:mod:`veplab.validity.dif`         differential item functioning: logistic-regression DIF (lordif), Mantel-Haenszel
"""

from ..factor_analysis.exploratory import (
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
from ..factor_analysis.correlations import PolychoricResult, bivariate_normal_cdf, cor_smooth, polychoric
from .prediction import (
    FEW_EVENTS,
    AUCComparison,
    AUCResult,
    CalibrationResult,
    SubgroupPerformance,
    calibration,
    compare_auc,
    plot_calibration,
    plot_roc,
    roc_auc,
    roc_curve,
    subgroup_performance,
)
from ..factor_analysis.rotation import RotationResult, oblimin, promax, rotate, varimax

__all__ = [
    "FEW_EVENTS",
    "AUCComparison",
    "AUCResult",
    "BartlettResult",
    "CalibrationResult",
    "EFAResult",
    "KMOResult",
    "ParallelAnalysisResult",
    "PolychoricResult",
    "RotationResult",
    "align_loadings",
    "bartlett_sphericity",
    "bivariate_normal_cdf",
    "calibration",
    "compare_auc",
    "cor_smooth",
    "efa",
    "kmo",
    "oblimin",
    "parallel_analysis",
    "plot_calibration",
    "plot_roc",
    "plot_scree",
    "polychoric",
    "promax",
    "roc_auc",
    "roc_curve",
    "rotate",
    "smc",
    "subgroup_performance",
    "SubgroupPerformance",
    "varimax",
]

# Confirmatory factor analysis and invariance (lavaan-compatible).
from ..factor_analysis.confirmatory import CFAResult, InvarianceResult, cfa, invariance  # noqa: E402

__all__ += ["cfa", "invariance", "CFAResult", "InvarianceResult"]

from .report import ValidityReport, cfa_model, validity_report  # noqa: E402

__all__ += ["validity_report", "ValidityReport", "cfa_model"]

# Prediction over time and decision curves.
from .decision import DecisionCurve, decision_curve, plot_decision_curve  # noqa: E402
from .timedep import (  # noqa: E402
    BrierResult,
    CalibrationAt,
    TimeAUC,
    brier_score,
    calibration_at,
    plot_calibration_at,
    plot_time_auc,
    time_auc,
    uno_c,
)

__all__ += ["time_auc", "TimeAUC", "brier_score", "BrierResult", "uno_c", "calibration_at", "CalibrationAt",
            "plot_time_auc", "plot_calibration_at", "decision_curve", "DecisionCurve", "plot_decision_curve"]

# The factor-analysis modules lived here before veplab.factor_analysis; old module paths keep working.
import sys as _sys  # noqa: E402

from ..factor_analysis import confirmatory as _cfa_module  # noqa: E402
from ..factor_analysis import correlations as _correlations  # noqa: E402
from ..factor_analysis import exploratory as _efa_module  # noqa: E402
from ..factor_analysis import lavaan_syntax as _lavaan_syntax  # noqa: E402
from ..factor_analysis import rotation as _rotation  # noqa: E402

for _old, _module in {"efa": _efa_module, "cfa": _cfa_module, "rotation": _rotation, "polychoric": _correlations,
                      "lavaan_syntax": _lavaan_syntax}.items():
    _sys.modules.setdefault(f"{__name__}.{_old}", _module)

# Differential item functioning.
from .dif import DIFResult, MantelHaenszelResult, dif_ordinal, mantel_haenszel, plot_dif  # noqa: E402

__all__ += ["dif_ordinal", "DIFResult", "mantel_haenszel", "MantelHaenszelResult", "plot_dif"]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
