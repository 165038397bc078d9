"""A study's ``design:`` as a survey design (the keys a study.yml would declare).

The ``study.yml`` keys (checked by :mod:`veplab.study`; notebooks get the design with
``study.survey_design(source, data)``, which calls :func:`from_study_design`)::

    design:
      cluster: prison_id            # existing key: the first-stage unit (prisons)
      breakdowns: [gender, age_band]
      weights: weight               # sampling weights (or probs: inclusion probabilities)
      strata: stratum               # first-stage strata, e.g. country x prison type
      fpc: prisons_in_stratum       # or [prisons_in_stratum, prisoners_in_prison]: two stages,
                                    # people being the second-stage units
      population: population.yml    # margins/totals to weight to (see read_population)
      weighting: raking             # raking (default with margins) | linear | logit |
                                    # poststratify (needs cells:)
      bounds: [0.3, 3]              # optional bounds on the weight adjustment (linear/logit)
      lonely_psu: fail              # fail | adjust | average | certainty
      sources: [push_pull]          # optional: the sources sampled with this design (default:
                                    # those whose codebook holds its columns)

A study without ``weights``/``probs``/``strata``/``fpc``/``population`` has no survey
design (None): its figures stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .._validate import InputError
from ._calibrate import calibrate, poststratify, rake, read_population
from ._design import SurveyDesign

__all__ = ["SURVEY_KEYS", "from_study_design", "design_note"]

#: The ``design:`` keys that make a study a sampled survey.
SURVEY_KEYS = ("weights", "probs", "strata", "fpc", "population", "weighting", "bounds", "lonely_psu")
_ROW_ID = "__veplab_row__"


def from_study_design(data: pd.DataFrame, design: Mapping[str, Any] | None, *,
                      study_dir: str | Path | None = None) -> SurveyDesign | None:
    """The :class:`SurveyDesign` a study's ``design:`` declares, or None when it declares none.

    ``population:`` is read relative to ``study_dir`` and the weights are adjusted to it
    (``weighting:``, default raking to its margins; ``linear``/``logit`` calibrate to
    margins and numeric totals; ``poststratify`` uses its cells).

    Parameters
    ----------
    data : the rows of the sampled source.
    design : the study's ``design:`` mapping (keys in the module docstring), or None.
    study_dir : the folder ``population:`` is relative to.

    Raises
    ------
    InputError
        ``design`` is not a mapping; two-stage ``fpc`` without ``cluster``; bad
        ``bounds`` or ``weighting``; what :class:`SurveyDesign` and
        :func:`read_population` refuse.

    References
    ----------
    The ``design:`` keys of a study (docs/DESIGN.md, "A study is declared, not
    coded"), mapped to R ``survey::svydesign(ids, strata, weights/probs, fpc)`` followed by
    ``survey::rake``, ``survey::calibrate(calfun = "linear"/"logit", bounds)`` or
    ``survey::postStratify``.
    Lumley T (2004). Analysis of complex survey samples. Journal of Statistical Software
    9(8), 1-19.

    Examples
    --------
    >>> df = pd.DataFrame({"prison_id": [1, 1, 2, 2, 3, 3], "w": [2., 2, 3, 3, 1, 1],
    ...                    "y": [1., 0, 1, 1, 0, 1]})
    >>> from_study_design(df, {"cluster": "prison_id", "weights": "w"}).mean("y")["estimate"].round(4).tolist()
    [0.75]
    >>> from_study_design(df, {"cluster": "prison_id"}) is None
    True
    """
    if design is None:
        return None
    if not isinstance(design, Mapping):
        raise InputError(f"design must be a mapping, got {design!r}")
    if not any(design.get(k) is not None for k in SURVEY_KEYS if k not in ("lonely_psu", "bounds")):
        return None
    fpc = design.get("fpc")
    cluster = design.get("cluster")
    if isinstance(fpc, (list, tuple)) and len(fpc) == 2:
        if cluster is None:
            raise InputError("design: two fpc values (two stages) need design.cluster, the first-stage unit")
        data = data.assign(**{_ROW_ID: range(len(data))})
        cluster = [cluster, _ROW_ID]
    elif isinstance(fpc, (list, tuple)) and len(fpc) != 1:
        raise InputError(f"design.fpc: one column, or two (first and second stage), got {fpc!r}")
    d = SurveyDesign(data, weights=design.get("weights"), probs=design.get("probs"),
                     strata=design.get("strata"), cluster=cluster, fpc=fpc,
                     lonely_psu=design.get("lonely_psu", "fail"))
    pop_file = design.get("population")
    if pop_file is None:
        return d
    path = Path(pop_file)
    if not path.is_absolute() and study_dir is not None:
        path = Path(study_dir) / path
    pop = read_population(path)
    how = design.get("weighting") or ("raking" if pop.margins and not pop.totals else "linear")
    bounds = design.get("bounds")
    if bounds is not None:
        if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2):
            raise InputError(f"design.bounds must be [lower, upper], got {bounds!r}")
        bounds = (float(bounds[0]), float(bounds[1]))
    if how == "poststratify":
        return poststratify(d, pop)
    if how == "raking" and bounds is None and not pop.totals:
        if not pop.margins:
            raise InputError(f"{path.name}: raking needs margins:")
        return rake(d, pop)
    if how not in ("raking", "linear", "logit"):
        raise InputError(f"design.weighting must be raking, linear, logit or poststratify, got {how!r}")
    return calibrate(d, pop, method=how, bounds=bounds)


def design_note(design: SurveyDesign, deff: float | None = None, *, placeholder: str | None = None) -> str:
    """One sentence for a page: how the figures are weighted, with the design effect.

    ``placeholder`` names a value published with ``Report.value`` that holds the design
    effect: the sentence then carries ``{placeholder}`` instead of the number, so that
    run-time text takes its number from a gated result (:meth:`veplab.report.Report.markdown`).

    References
    ----------
    Kish L (1965). Survey Sampling. Wiley, New York (the design effect: the variance under
    the design over that of a simple random sample of the same size, as R
    ``survey::svymean(deff = TRUE)``).
    Run-time text carries numbers only from gated results (docs/DESIGN.md, "Privacy").

    Examples
    --------
    >>> df = pd.DataFrame({"prison_id": [1, 1, 2, 2, 3, 3], "w": [2., 2, 3, 3, 1, 1]})
    >>> design_note(SurveyDesign(df, cluster="prison_id", weights="w"), 2.34)
    'Weighted to the prison population (design-based estimates; design effect 2.3); n is the number of people who answered.'
    >>> design_note(SurveyDesign(df, cluster="prison_id", weights="w"), placeholder="design_effect")
    'Weighted to the prison population (design-based estimates; design effect {design_effect}); n is the number of people who answered.'
    """
    parts = "Weighted to the prison population" if not design.calibrated else \
        "Weighted to the prison population and adjusted to national figures"
    if placeholder is not None:
        eff = f"; design effect {{{placeholder}}}"
    else:
        eff = f"; design effect {deff:.1f}" if deff is not None and deff == deff else ""
    return f"{parts} (design-based estimates{eff}); n is the number of people who answered."
