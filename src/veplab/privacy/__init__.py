"""Privacy: identifier gate, keyed pseudonyms, risk measures, disclosure control, leak scan, audit log.

veplab holds data about prisoners, many held for terrorism offences: data on
beliefs, religion and offences are special-category and criminal-offence data
(GDPR arts. 9, 10 and 89; Council of Europe Convention 108+), and a leak can
endanger people.  This subpackage implements the safeguards ethics boards
and data-protection law expect, at each step of the data path:

=====================  ==================================================  ==========================
step                   functions                                           module
=====================  ==================================================  ==========================
loading (minimise)     :func:`identifier_problems`, :func:`check_identifiers`  :mod:`.identifiers`
pseudonymise           :func:`pseudonymise`, :func:`pseudonymise_file`,     :mod:`.pseudonyms`
                       :func:`generate_key`, :func:`read_key`, :func:`key_id`
before sharing data    :func:`risk_report` (k-anonymity, l-diversity,       :mod:`.risk`
                       individual and global risk, as sdcMicro)
publishing tables      :func:`suppress_counts`, :func:`suppress_stats`,      :mod:`.disclosure`
                       :func:`dominance`, :func:`suppress_magnitudes`,
                       :func:`is_protected`, :func:`gate_series`
publishing models,     :func:`model_disclosure`, :func:`figure_data_check`,  :mod:`.outputs`
figures                :func:`binned_counts`
after the build        :func:`scan_artifacts`                               :mod:`.leakscan`
throughout             :class:`AuditLog`, :func:`verify_audit_log`           :mod:`.audit`
=====================  ==================================================  ==========================

Calls the lead's code makes
---------------------------
* ``veplab.data.load``: ``identifier_problems(raw, codebook, file=..., row_numbers=rows)``
  -> list of problem dicts (``file, column, rows, problem, fix, severity, kind``).
* ``veplab pseudonymise INPUT --key KEYFILE --columns a,b --out OUTPUT``:
  ``pseudonymise_file(INPUT, OUTPUT, KEYFILE, ["a", "b"])`` -> summary dict
  (hashes, rows, key id) to print and to write to the audit log.
* report helpers: ``suppress_counts(table, threshold=study.threshold)`` ->
  :class:`SuppressedTable` (``published``, ``mask``, ``to_json_dict()``,
  ``footnote``); ``suppress_stats(table, "n", threshold)``;
  ``gate_series(data, "n", threshold)`` for figures.
* build/release: ``scan_artifacts(report_dir, n_records=..., ids=..., free_text=...)``
  -> findings; stop on any ``severity == "error"``.  ``AuditLog(study_dir /
  "audit.log").append("build", inputs=..., rules=...)``; put
  ``AuditLog(...).head()`` into ``manifest.json``.
"""

from __future__ import annotations

from .audit import EVENTS, GENESIS, AuditError, AuditLog, current_key_id, file_sha256, pseudonym_key_ids, read_anchor
from .audit import verify as verify_audit_log
from .disclosure import (
    DEFAULT_MARK,
    MIN_THRESHOLD,
    DisclosureError,
    GatedSeries,
    SuppressedTable,
    check_threshold,
    dominance,
    footnote,
    gate_series,
    is_protected,
    protection_intervals,
    suppress_counts,
    suppress_magnitudes,
    suppress_stats,
)
from .identifiers import (
    IdentifierError,
    check_identifiers,
    identifier_kinds,
    identifier_problems,
    iin_check_digit,
    is_email,
    is_phone_number,
    is_tunisia_cin,
    is_uganda_nin,
    is_valid_iin,
    looks_like_iin,
    looks_like_name,
)
from .leakscan import Finding, mask_value, scan_artifacts, scan_html
from .outputs import ROW_FLOOR, FigureCheck, ModelCheck, binned_counts, figure_data_check, model_disclosure
from .pseudonyms import (
    KEY_BYTES,
    PSEUDONYM_PATTERN,
    KeyFileError,
    generate_key,
    is_pseudonym,
    key_id,
    looks_like_pseudonym,
    normalise_id,
    pseudonym,
    pseudonymise,
    pseudonymise_file,
    read_key,
)
from .risk import RiskReport, equivalence_class_sizes, individual_risk, risk_report

__all__ = [
    # identifiers
    "IdentifierError", "identifier_problems", "check_identifiers", "identifier_kinds", "iin_check_digit",
    "is_valid_iin", "looks_like_iin", "is_phone_number", "is_email", "is_tunisia_cin", "is_uganda_nin",
    "looks_like_name",
    # pseudonyms
    "KEY_BYTES", "PSEUDONYM_PATTERN", "KeyFileError", "generate_key", "read_key", "key_id", "normalise_id",
    "pseudonym", "pseudonymise", "pseudonymise_file", "looks_like_pseudonym", "is_pseudonym",
    # risk
    "RiskReport", "risk_report", "equivalence_class_sizes", "individual_risk",
    # disclosure
    "DEFAULT_MARK", "MIN_THRESHOLD", "DisclosureError", "SuppressedTable", "GatedSeries", "check_threshold",
    "footnote", "suppress_counts", "suppress_magnitudes", "suppress_stats", "protection_intervals",
    "is_protected", "dominance", "gate_series",
    # model and figure output
    "ModelCheck", "model_disclosure", "FigureCheck", "figure_data_check", "binned_counts", "ROW_FLOOR",
    # leak scan
    "Finding", "scan_artifacts", "scan_html", "mask_value",
    # audit
    "AuditLog", "AuditError", "EVENTS", "GENESIS", "verify_audit_log", "file_sha256", "read_anchor",
    "pseudonym_key_ids", "current_key_id",
]

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
