"""XLSForm (KoboToolbox / ODK) forms to veplab codebooks and back.

:func:`from_xlsform` reads a form's ``survey``, ``choices`` and ``settings``
sheets and writes the veplab codebook the data will be loaded with;
:func:`to_xlsform` writes a veplab codebook as a form a team can field in
KoboToolbox or ODK (labels in English, French, Arabic and Russian, missing
codes as choices).  The two are inverse: ``from_xlsform(to_xlsform(cb))``
gives ``cb`` back, and from-xlsform -> to-xlsform -> from-xlsform is stable.

How a form becomes a codebook
-----------------------------

==========================  ===============================================
XLSForm                     veplab codebook
==========================  ===============================================
``select_one LIST``         a coded item; choice names that are whole
                            numbers are the codes (otherwise codes 1..k in
                            choice order, or the ``veplab_code`` column;
                            names are kept under ``xlsform.choices`` so that
                            exports in XML values still load).  Type
                            ``likert`` for agree/disagree wording, ``binary``
                            for two options (yes/no, 0/1), ``ordinal`` for
                            frequency / intensity / band wording, else
                            ``categorical`` -- or as ``veplab::type`` says.
``select_multiple LIST``    one ``binary`` item per choice, ``FIELD__CHOICE``
                            (0 = not selected, 1 = selected), kept together
                            by ``xlsform.select_multiple``.
``integer`` / ``decimal``   ``numeric`` (``integer: true`` for integer);
/ ``range``                 ``min``/``max`` from simple constraints such as
                            ``. >= 18 and . <= 90`` (range: its parameters).
``date``                    ``date``; ``datetime``, ``start``, ``end``:
                            ``date`` with ``format: ISO8601``; ``start``,
                            ``end``, ``today``: role ``admin``.
``text`` and the rest       ``text``: ``calculate``, ``hidden``: role
                            ``admin``; locations (``geopoint``...),
                            ``barcode``, ``phonenumber``, ``email``: role
                            ``identifier`` (the load refuses them); media and
                            ``audit``: role ``sensitive``; ``time``, ``rank``,
                            ``acknowledge``, external / from-file selects:
                            text, with a note.
``deviceid``, ``username``  left out (they identify the interviewer's device
``subscriberid``,           or account; Kobo exports' columns are dropped at
``simserial``               load), kept under ``xlsform.metadata``.
``note``, ``*-external``    left out (exports do not hold them).
``begin_group``             groups vanish from item ids (exports'
                            ``group/field`` headers are matched by field);
                            kept under ``xlsform.group`` for the way back.
                            ``veplab::scale`` on the row scores the group's
                            questions as a scale, ``veplab::domain`` gives
                            its domain, ``veplab::role`` its questions' role.
``begin_repeat``            a separate table: ``from_xlsform(form,
                            repeat=NAME)`` gives its codebook (id column
                            ``index``, with ``parent_index`` and the parent's
                            id column, for the export's repeat sheet).
``begin loop``              left out, with a note.
``label::French (fr)``...   labels in ``en``, ``fr``, ``ar``, ``ru``; the
                            form's default language (settings
                            ``default_language``, else a bare ``label``
                            column, else the first label column) is the
                            codebook's ``default_language``; a form with no
                            column in those four keeps its default language
                            under ``en``; ``hint::...`` becomes the item's
                            ``description``.
``required``, ``relevant``  kept under ``xlsform`` (veplab does not enforce
complex ``constraint``      form logic; each one is listed as a note, as is
                            an expression that does not parse).
==========================  ===============================================

Every type pyxform knows is read under each of its names (pyxform's
``question_type_dictionary`` and aliases: ``select one from LIST``, ``gps``,
``photo``, ``imei``, ``begin lgroup``...), as are ``.xls`` workbooks (xlrd) and
old headers (``label:English``, ``list name``, ``bind:relevant``).  The id
column is the settings' ``veplab::id_column``; else a field whose name says it
is a record id (never a prison or interviewer code), recorded as
``xlsform.id_column_guessed``; else Kobo's ``_uuid`` (``uuid``).

veplab-specific columns (all optional, written by :func:`to_xlsform`):

* survey: ``veplab::type`` (likert, ordinal, binary, categorical, numeric,
  date, text), ``veplab::role`` (item, quasi_identifier, sensitive,
  identifier, admin, outcome), ``veplab::reverse`` (yes), ``veplab::missing``
  (``999=refused 998=dont_know``: missing codes of numeric items),
  ``veplab::domain``, ``veplab::key`` (correct option of a knowledge item),
  ``veplab::required`` (``no``: the column may be absent from an export),
  ``veplab::pseudonymised`` (yes), ``veplab::format`` (date format),
  ``veplab::scale`` (scale ids the item is scored in), ``veplab::extra`` (a
  YAML mapping of further metadata);
* choices: ``veplab_missing`` (the reason a choice is a missing code:
  dont_know, refused, not_applicable, not_asked, missing) and ``veplab_code``;
  without that column, choices labelled "Don't know", "Refused", "Ne sait
  pas", "Отказ", "لا أعرف"... are taken as missing codes (with a warning);
* settings: ``veplab::unit``, ``veplab::id_column``,
  ``veplab::title::French (fr)`` (and ``ar``, ``ru``; ``form_title`` is the
  English title), ``veplab::description::<language>``, ``veplab::extra``;
* a ``veplab_scales`` sheet: ``id``, ``label::<language>``, ``items``
  (space-separated; empty: the questions marked ``veplab::scale``), ``score``
  (mean, sum), ``min_items``, ``domain``, ``extra``.

See ``surveys/README.md`` ("From a Kobo / ODK form") and the example form
``surveys/examples/example_form.xlsx``.

A malformed form raises :class:`XLSFormError` listing every problem with its
sheet, row and column (duplicate names, a choice list that does not exist, an
expression that does not parse or names an unknown ``${field}``, a missing
label column, an unmatched ``begin_group``...).

>>> conv = from_xlsform("tests/fixtures/ingest/prison_wellbeing.xlsx")  # doctest: +SKIP
>>> conv.codebook.item("q_safe").type, conv.warnings[:1]                 # doctest: +SKIP
"""

from __future__ import annotations

from ._build import from_xlsform, validate_form
from ._vocab import Conversion, FormProblem, XLSFormError
from ._write import to_xlsform, write_sheets

__all__ = ["FormProblem", "XLSFormError", "Conversion", "from_xlsform", "to_xlsform", "validate_form", "write_sheets"]
