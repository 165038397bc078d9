"""Complex survey designs: weights, strata, clusters (prisons), replicate weights, calibration.

A prisoners' survey is never a simple random sample: prisons are drawn first, people
within them at different rates, and non-response differs by prison and gender.
:class:`SurveyDesign` declares the design as R's ``survey::svydesign`` does, and its
estimates (``.mean``, ``.proportion``, ``.total``, ``.quantile``, ``.glm``, each with
``by=``, and ``.subset`` for domains) are design-based, with Taylor-linearisation
standard errors, design effects and unweighted n.  ``.replicate()`` gives jackknife or
bootstrap replicate weights (``as.svrepdesign``); :func:`calibrate`, :func:`rake` and
:func:`poststratify` weight the sample to population figures read from the study's
``population.yml`` (:func:`read_population`).

Every number is checked against R's ``survey`` package in
``tests/reference/survey.R``.

- :mod:`~veplab.survey._design`: :class:`SurveyDesign`, :class:`ReplicateDesign`
- :mod:`~veplab.survey._calibrate`: :func:`calibrate`, :func:`rake`,
  :func:`poststratify`, :func:`read_population`, :class:`Population`
- :mod:`~veplab.survey._study`: :func:`from_study_design` (a study's ``design:``
  with weights/strata/fpc/population as a design), :func:`design_note`

Why not a library: ``samplics`` is archived; its successor ``svy`` (0.35) is built on
Polars with a Rust extension and does not take pandas frames; the arithmetic here is
short and follows R's source, so it is written with numpy.
"""

from ._calibrate import Population, calibrate, poststratify, rake, read_population
from ._design import ReplicateDesign, SurveyDesign
from ._study import SURVEY_KEYS, design_note, from_study_design

__all__ = ["SurveyDesign", "ReplicateDesign", "calibrate", "rake", "poststratify",
           "read_population", "Population", "from_study_design", "design_note", "SURVEY_KEYS"]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
