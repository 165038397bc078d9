"""Field data ingest: KoboToolbox / ODK forms and exports, SPSS dictionaries,
read-only PostgreSQL sources.

* :mod:`veplab.ingest.xlsform` -- XLSForm to codebook (:func:`from_xlsform`)
  and codebook to XLSForm (:func:`to_xlsform`), with every problem of a
  malformed form reported at once;
* :mod:`veplab.ingest.spss` -- a codebook draft from a ``.sav`` dictionary
  (:func:`from_sav`);
* :mod:`veplab.ingest.sql` -- read-only SQL sources (:class:`SQLQuery`,
  :func:`source_digest` for the build manifest).

Kobo / ODK *exports* (data, not forms) are read by :func:`veplab.data.load`
itself (:mod:`veplab.data.kobo`).  The dependency runs one way: ingest
builds on :mod:`veplab.data` (its readers and problem lists), never back.

The command line offers ``veplab codebook from-xlsform``, ``to-xlsform`` and
``from-sav``.
"""

from .spss import SavDraft, from_sav
from .xlsform import Conversion, FormProblem, XLSFormError, from_xlsform, to_xlsform, validate_form

__all__ = [
    "Conversion",
    "FormProblem",
    "SavDraft",
    "XLSFormError",
    "from_sav",
    "from_xlsform",
    "to_xlsform",
    "validate_form",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
