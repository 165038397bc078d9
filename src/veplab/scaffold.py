"""``veplab new``: a study folder made from a research centre's own XLSForm (and export).

:func:`new_study` writes, under a new folder ``research/<name>/``:

* ``forms/<FORM>``: a copy of the form (so the codebook can be made again);
* ``survey.yml``: the codebook converted from the form
  (:func:`veplab.ingest.xlsform.from_xlsform`), with the conversion notes at
  its top.  A study's own instruments live in its folder; ``surveys/`` holds
  the instruments shared by several studies;
* ``data/<EXPORT>``: a copy of the export when one is given (``data/`` is never
  committed);
* ``study.yml``: commented, with ``id``, ``title``, ``languages`` (the form's),
  ``disclosure: {threshold: 10}``, ``sources: {survey: ...}``, a ``design:``
  filled from what the codebook shows and ``analyses:`` for what the form
  supports, and ``TODO`` lines for what could not be inferred.

What is inferred, and how:

==================  ==========================================================
``design.cluster``  the one field whose name (``prison``, ``facility_code``,
                    ``site_id``...) or label ("Prison code", "Code de
                    l'établissement"...) says it names the prison; none or
                    several: a TODO line
``breakdowns``      coded fields for country, gender/sex, age band (by name or
                    label, in that order), then the other coded
                    quasi-identifiers, at most four; a country column holding
                    one country in the export is left out (one country, no
                    country breakdown); demographic fields the form did not
                    mark get role ``quasi_identifier`` in the codebook
``analyses``        ``overview`` and ``data_quality`` always; ``reliability``
                    and ``validity`` when the codebook has scales;
                    ``push_pull`` when scales carry ``domain:`` push, pull or
                    protective and one scale has ``domain: outcome``; the rest
                    as commented examples
id column           when the conversion guessed it from a field's name and the
                    export holds a value twice, Kobo's ``_uuid`` is used
                    instead (never a non-unique column)
==================  ==========================================================

The study is checked before :func:`new_study` returns: ``study.yml`` loads
(:func:`veplab.study.load_study`) and every analysis resolves
(:func:`veplab.analyses.resolve_all`).  An existing, non-empty folder is never
overwritten.

>>> s = new_study("research/centre_x", "forms/centre_x.xlsx", data="export.csv")  # doctest: +SKIP
>>> s.study_yml.read_text().splitlines()[0]                                       # doctest: +SKIP
'# Study centre_x, made by `veplab new` from the form centre_x.xlsx.'
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .codebook import LANGUAGES, Codebook
from .study import check_study_id

__all__ = ["Scaffold", "ScaffoldError", "new_study", "infer_design"]

SOURCE = "survey"

_CLUSTER_NAME = re.compile(r"^(id_|code_|no_)?(prison|facility|institution|establishment|etablissement|penitentiary|"
                           r"jail|gaol|colony|site|centre|center|detention_centre|prison_unit)(_?(id|code|no|num|"
                           r"number|name|nr))?$", re.I)
_CLUSTER_LABEL = re.compile(r"\b(prison|facility|institution|penitentiary|jail|établissement|etablissement|"
                            r"centre de détention)\b|السجن|المؤسسة|учреждени|колони|тюрьм|сизо", re.I)
_CODE_LABEL = re.compile(r"\b(code|id|identifier|name|nom|number|numéro|which)\b|رمز|اسم|код|номер|названи", re.I)
_COUNTRY = (re.compile(r"^(country|pays|nation|country_code|country_id)$", re.I),
            re.compile(r"^\s*(country|pays)\b|^البلد|^الدولة|^страна", re.I))
_GENDER = (re.compile(r"^(gender|sex|genre|sexe|resp_gender|resp_sex|respondent_gender|respondent_sex)$", re.I),
           re.compile(r"^\s*(gender|sex|genre|sexe)\b|^الجنس|^пол\b", re.I))
_AGE_BAND = (re.compile(r"^(age_?(band|group|grp|cat|category|class|range)|(band|group)_?age|agegroup|ageband|"
                        r"tranche_age)$", re.I),
             re.compile(r"\bage (band|group|category|range)\b|tranche d.âge|classe d.âge|الفئة العمرية|"
                        r"возрастн", re.I))
_PLAIN_AGE = re.compile(r"^(age|age_years|years_old|resp_age)$", re.I)
_CODED = ("binary", "categorical", "ordinal", "likert")
_MAX_BREAKDOWNS = 4


class ScaffoldError(ValueError):
    """The study folder cannot be made (it exists, the form does not convert...): the message says why."""


@dataclasses.dataclass(frozen=True)
class Scaffold:
    """What :func:`new_study` wrote and found.

    ``inferred`` lists what the design and analyses were filled from, ``todo`` what
    the researcher must still decide (the same lines are TODO comments in
    ``study.yml``), ``notes`` the form conversion's notes.
    """

    folder: Path
    study_yml: Path
    codebook: Path
    form: Path
    data: Path | None
    design: Mapping[str, Any]
    analyses: tuple[str, ...]
    inferred: tuple[str, ...]
    todo: tuple[str, ...]
    notes: tuple[str, ...]

    def next_steps(self) -> list[str]:
        """What to do next, as commands and checks (printed by ``veplab new``)."""
        rel = self.folder
        steps = [f"read the codebook {self.codebook} (the notes at its top say what the conversion guessed or "
                 "left out): check item types, roles and scales"]
        if self.todo:
            steps.append(f"decide the {len(self.todo)} TODO line(s) in {self.study_yml}")
        if self.data is None:
            steps.append(f"export the data from Kobo/ODK (XLSX or CSV, 'XML values and headers') into {rel / 'data'} "
                         f"and name it in {self.study_yml} (sources: {SOURCE}: path:)")
        steps += [f"veplab validate {rel}", f"veplab build {rel}",
                  f"open reports/{self.folder.name}/index.html"]
        return steps


def _texts(item: Any) -> list[str]:
    return [str(v) for v in getattr(item, "label", {}).values()]


def _matches(item: Any, pattern: tuple[re.Pattern[str], re.Pattern[str]]) -> bool:
    name_rx, label_rx = pattern
    return bool(name_rx.match(item.id) or any(label_rx.search(t) for t in _texts(item)))


def infer_design(cb: Codebook, frame: Any = None) -> tuple[dict[str, Any], list[str], list[str], list[str]]:
    """The ``design:`` a codebook suggests: (design, inferred, todo, roles set).

    ``frame`` (the raw export, optional) lets a single-valued country column be left out.
    ``roles set`` lists the demographic fields to be given role ``quasi_identifier``.

    The cluster is the one field whose name or label says it names the
    prison; the breakdowns are the coded country, gender and age-band fields
    (in that order), then the other coded quasi-identifiers, at most four (see
    the module docstring).

    Parameters
    ----------
    cb : Codebook
        The codebook converted from the form.
    frame : DataFrame, optional
        The export as read.

    Returns
    -------
    (dict, list of str, list of str, list of str)
        The design (``cluster``, ``breakdowns``), one line per inference, one
        TODO line per decision left to the researcher, and the fields that
        need role ``quasi_identifier``.

    References
    ----------
    docs/DESIGN.md, "A study is declared, not coded" (the cluster
    column and the breakdowns used everywhere) and "Privacy"
    (quasi-identifiers).
    Hundepool, A. et al. (2012). *Statistical Disclosure Control*. Wiley,
    chapter 3 (demographic key variables as quasi-identifiers).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "Survey", "id_column": "rid", "items": [
    ...     {"id": "prison_code", "label": "Prison code", "type": "text", "role": "admin"},
    ...     {"id": "country", "label": "Country", "type": "categorical",
    ...      "options": {1: "Kazakhstan", 2: "Tunisia"}},
    ...     {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "Man", 2: "Woman"}},
    ...     {"id": "age", "label": "Age", "type": "numeric"}]})
    >>> design, inferred, todo, roles = infer_design(cb, pd.DataFrame({"country": [1, 1]}))
    >>> design, roles
    ({'cluster': 'prison_code', 'breakdowns': ['gender']}, ['gender'])
    >>> inferred[1]
    'design.breakdowns: country left out (the export holds one country)'
    >>> todo
    ["design.breakdowns: 'age' is an age in years; add an age band to the form (e.g. 18-29, 30-44, 45 and over) to break results down by age"]
    """
    inferred: list[str] = []
    todo: list[str] = []
    usable = [i for i in cb.items if i.role not in ("identifier",) and i.id != cb.id_column]
    clusters = [i for i in usable if i.type != "likert" and (
        _CLUSTER_NAME.match(i.id) or any(_CLUSTER_LABEL.search(t) and _CODE_LABEL.search(t) for t in _texts(i)))]
    design: dict[str, Any] = {}
    if len(clusters) == 1:
        design["cluster"] = clusters[0].id
        inferred.append(f"design.cluster: {clusters[0].id} (its name or label says it names the prison)")
    elif clusters:
        todo.append(f"design.cluster: several fields could name the prison ({', '.join(i.id for i in clusters)}); "
                    "name the one that does")
    else:
        todo.append("design.cluster: no field names the prison (facility); if people are nested in prisons, add a "
                    "prison code to the form and name it here (random intercepts, cluster-robust errors)")
    picked: list[str] = []
    roles: list[str] = []
    coded = [i for i in usable if i.type in _CODED and i.id != design.get("cluster")]
    for what, pattern in (("country", _COUNTRY), ("gender", _GENDER), ("age band", _AGE_BAND)):
        hits = [i for i in coded if _matches(i, pattern) and i.id not in picked]
        if not hits:
            if what == "age band" and any(_PLAIN_AGE.match(i.id) for i in usable):
                age = next(i for i in usable if _PLAIN_AGE.match(i.id))
                todo.append(f"design.breakdowns: {age.id!r} is an age in years; add an age band to the form "
                            "(e.g. 18-29, 30-44, 45 and over) to break results down by age")
            continue
        item = hits[0]
        if what == "country" and frame is not None:
            values = _column(frame, item.id)
            if values is not None and values.dropna().astype(str).str.strip().replace("", None).dropna().nunique() <= 1:
                inferred.append(f"design.breakdowns: {item.id} left out (the export holds one country)")
                continue
        picked.append(item.id)
        if item.role != "quasi_identifier":
            roles.append(item.id)
        inferred.append(f"design.breakdowns: {item.id} ({what})")
    for item in coded:
        if item.role == "quasi_identifier" and item.id not in picked and len(picked) < _MAX_BREAKDOWNS:
            picked.append(item.id)
            inferred.append(f"design.breakdowns: {item.id} (a quasi-identifier of the form)")
    if not picked:
        todo.append("design.breakdowns: no coded gender, age band or country field was found; name the columns "
                    "every table should be broken down by")
    design["breakdowns"] = picked[:_MAX_BREAKDOWNS]
    return design, inferred, todo, roles


def _column(frame: Any, name: str) -> Any:
    """The export's column for field ``name`` (``group/name`` headers too), or None."""
    for c in frame.columns:
        if str(c) == name or str(c).split("/")[-1] == name:
            return frame[c]
    return None


def _analyses(cb: Codebook) -> tuple[dict[str, Any], list[str]]:
    analyses: dict[str, Any] = {"overview": {}, "data_quality": {}}
    inferred = ["analyses: overview and data_quality (every study)"]
    if cb.scales:
        analyses["reliability"] = {}
        analyses["validity"] = {"source": SOURCE}
        inferred.append(f"analyses: reliability and validity ({len(cb.scales)} scale(s): "
                        f"{', '.join(s.id for s in cb.scales)})")
        domains = [s.id for s in cb.scales if (s.domain or "") in ("push", "pull", "protective")]
        outcomes = [s.id for s in cb.scales if (s.domain or "") == "outcome"]
        if domains and len(outcomes) == 1:
            analyses["push_pull"] = {"source": SOURCE}
            inferred.append(f"analyses: push_pull (domains {', '.join(domains)}; outcome {outcomes[0]})")
    return analyses, inferred


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=4096, sort_keys=False).strip()


def _study_text(name: str, cb: Codebook, form: str, data_name: str | None, design: Mapping[str, Any],
                analyses: Mapping[str, Any], todo: list[str], seed: int, sheet: str | None = None) -> str:
    langs = [cb.default_language] + [lang for lang in LANGUAGES if lang != cb.default_language and any(
        lang in i.label for i in cb.items)]
    title = {lang: cb.title[lang] for lang in langs if cb.title.get(lang)} or {cb.default_language: name}
    lines = [
        f"# Study {name}, made by `veplab new` from the form {form}.",
        "# Every key is documented by `veplab analyses` and in the README (\"Your own study\").",
        "# Lines marked TODO need a decision only you can make.",
        f"id: {name}",
        f"title: {_flow(title)}",
        f"languages: {_flow(langs)}          # pages and briefs; labels a language lacks show {cb.default_language}",
        f"seed: {seed}                # every random step (bootstrap, imputation) starts from it",
        "disclosure: {threshold: 10}     # cells counting fewer people are suppressed (never below 3)",
        "sources:",
        f"  # the form's codebook: {SOURCE}.yml (made from forms/{form}); the export stays in data/, never committed",
    ]
    if data_name:
        spec = {"path": f"data/{data_name}", "codebook": f"{SOURCE}.yml", **({"sheet": sheet} if sheet else {})}
        lines.append(f"  {SOURCE}: {_flow(spec)}")
    else:
        lines += [f"  # TODO: put the export in data/ and correct its file name below",
                  f"  {SOURCE}: {_flow({'path': 'data/export.xlsx', 'codebook': f'{SOURCE}.yml'})}"]
    lines += ["  # more sources (a ratings tool, a follow-up, a facility audit) go here, each with its codebook",
              "design:"]
    if design.get("cluster"):
        lines.append(f"  cluster: {design['cluster']}          # people are nested in prisons")
    lines.append(f"  breakdowns: {_flow(list(design.get('breakdowns') or []))}   # every table, chart and brief is "
                 "broken down by these")
    for t in todo:
        lines.append(f"  # TODO {t}")
    lines.append("analyses:                          # each runs the notebook of the same name")
    for aname, spec in analyses.items():
        lines.append(f"  {aname}: {_flow(dict(spec))}")
    lines += [
        "  # Examples to adapt (remove the # and name your sources and columns):",
    ]
    if "reliability" not in analyses:
        lines.append("  # reliability: {}                # needs scales in the codebook (a veplab_scales sheet)")
    if "validity" not in analyses:
        lines.append(f"  # validity: {{source: {SOURCE}}}")
    lines += [
        "  # TODO rater agreement: add a ratings source (one row per case and assessor) and under reliability:",
        "  #   ratings: {source: ratings, subject: case_code, rater: assessor, judgement: overall_risk}",
        "  # TODO predictive validity: under validity:",
        "  #   prediction: {source: followup, score: overall_risk, outcome: new_offence, join: case_code}",
    ]
    if "push_pull" not in analyses:
        lines += ["  # push_pull needs scales with domain: push, pull or protective and one with domain: outcome",
                  f"  # push_pull: {{source: {SOURCE}}}"]
    else:
        lines += ["  # TODO push_pull options: compare: a two-group column; facility: {source: audit, predictors: "
                  "[...]}"]
    lines += ["  # outcomes: {prepost: {source: staff, id: staff_code, wave: wave},",
              "  #            followup: {source: followup, time: days, event: new_offence, treatment: programme}}"]
    return "\n".join(lines) + "\n"


def new_study(folder: str | Path, form: str | Path, data: str | Path | None = None, *,
              sheet: str | None = None) -> Scaffold:
    """Make a study folder from an XLSForm and, optionally, its export (see the module docstring).

    Raises :class:`ScaffoldError` (naming the folder or file and what to do) when the folder
    exists and is not empty, the name is not a valid study id, the form or export is missing,
    or the form does not convert.

    The study written is checked before returning: ``study.yml`` loads and
    every analysis resolves.

    Parameters
    ----------
    folder : str or Path
        The new study folder (``research/<name>``; the name is the study id).
    form : str or Path
        The XLSForm (``.xlsx``/``.xls``).
    data : str or Path, optional
        The export, copied to ``data/``.
    sheet : str, optional
        The export's sheet, for an XLSX with several.

    Returns
    -------
    Scaffold
        The paths written, the ``design``, the ``analyses``, and what was
        ``inferred``, what is ``todo`` and the conversion's ``notes``;
        ``next_steps()`` lists the commands to run next.

    Raises
    ------
    ScaffoldError

    References
    ----------
    XLSForm specification, https://xlsform.org.
    docs/DESIGN.md, "A study is declared, not coded" and "Folders".

    Examples
    --------
    >>> import tempfile
    >>> from veplab.ingest.xlsform import write_sheets
    >>> folder = tempfile.TemporaryDirectory()
    >>> root = Path(folder.name)
    >>> (root / "surveys").mkdir()
    >>> form = write_sheets(root / "centre_x.xlsx", {
    ...     "survey": [
    ...         {"type": "text", "name": "rid", "label": "Respondent id"},
    ...         {"type": "text", "name": "prison_code", "label": "Prison code"},
    ...         {"type": "select_one gender", "name": "gender", "label": "Gender"},
    ...         {"type": "select_one safe", "name": "q1", "label": "I feel safe"}],
    ...     "choices": [
    ...         {"list_name": "gender", "name": 1, "label": "Man"},
    ...         {"list_name": "gender", "name": 2, "label": "Woman"},
    ...         {"list_name": "safe", "name": 0, "label": "No"},
    ...         {"list_name": "safe", "name": 1, "label": "Yes"}],
    ...     "settings": [{"form_id": "centre_x", "form_title": "Centre X survey",
    ...                   "veplab::id_column": "rid"}]})
    >>> s = new_study(root / "research" / "centre_x", form)
    >>> s.design, s.analyses
    ({'cluster': 'prison_code', 'breakdowns': ['gender']}, ('overview', 'data_quality'))
    >>> sorted(p.name for p in s.folder.iterdir())
    ['forms', 'study.yml', 'survey.yml']
    >>> s.study_yml.read_text().splitlines()[0]
    '# Study centre_x, made by `veplab new` from the form centre_x.xlsx.'
    >>> try:
    ...     new_study(root / "research" / "centre_x", form)
    ... except ScaffoldError as error:
    ...     print(str(error).split(" ", 1)[1][:53])
    already exists and is not empty; nothing was written.
    >>> folder.cleanup()
    """
    from .analyses import resolve_all
    from .ingest.xlsform import XLSFormError, from_xlsform
    from .study import StudyError, load_study

    folder = Path(folder)
    form = Path(form)
    name = folder.name
    why = check_study_id(name)
    if why:
        raise ScaffoldError(f"{folder}: the folder name {name!r} {why}; it becomes the study id (and reports/<id>/): "
                            "use letters, digits, '-' and '_'")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScaffoldError(f"{folder} already exists and is not empty; nothing was written. Choose a new folder "
                            "name (veplab new never overwrites a study)")
    if not form.is_file():
        raise ScaffoldError(f"form {form} not found; give the path of the XLSForm (.xlsx or .xls)")
    if data is not None and not Path(data).is_file():
        raise ScaffoldError(f"export {data} not found; give the path of the data exported from Kobo/ODK, or leave "
                            "--data out and add it later")
    try:
        conv = from_xlsform(form, check_with_pyxform=False)
    except XLSFormError as exc:
        raise ScaffoldError(str(exc)) from None
    data_cb = dict(conv.data)
    notes = [str(w) for w in conv.warnings]
    cb = conv.codebook
    frame = None
    if data is not None:
        from .data.problems import DataError
        from .data.readers import read_raw

        try:
            frame = read_raw(Path(data), sheet=sheet).frame
        except DataError as exc:
            raise ScaffoldError(f"the export {data} cannot be read: {exc}") from None
    inferred: list[str] = []
    todo: list[str] = []
    guessed = (cb.extra.get("xlsform") or {}).get("id_column_guessed")
    if guessed and frame is not None:
        ids = _column(frame, guessed)
        if ids is not None and ids.dropna().astype(str).duplicated().any():
            if "_uuid" in frame.columns or "meta/instanceID" in frame.columns:
                data_cb["id_column"] = "uuid"
                data_cb["xlsform"] = {k: v for k, v in data_cb["xlsform"].items() if k != "id_column_guessed"}
                if not data_cb["xlsform"]:
                    del data_cb["xlsform"]
                inferred.append(f"id column: uuid (Kobo's _uuid): {guessed!r}, guessed from its name, holds a value "
                                "more than once in the export, so it is not a record id")
            else:
                todo.append(f"id column: {guessed!r} (guessed from its name) holds a value more than once in the "
                            "export and the export has no _uuid: set id_column: in the codebook to a unique id")
    design, found, todo_design, roles = infer_design(cb, frame)
    inferred += found
    todo += todo_design
    if roles:
        data_cb["items"] = [dict(i, role="quasi_identifier") if i["id"] in roles else i for i in data_cb["items"]]
        inferred.append(f"role quasi_identifier given to {', '.join(roles)} (demographics identify people in "
                        "small groups)")
    analyses, found = _analyses(cb)
    inferred += found

    folder.mkdir(parents=True, exist_ok=True)
    try:
        (folder / "forms").mkdir()
        form_copy = folder / "forms" / form.name
        shutil.copy2(form, form_copy)
        from .codebook import CodebookError, from_dict
        from .ingest._common import dump_yaml

        header = (f"veplab codebook converted from the XLSForm {form.name} by `veplab new`"
                  + (f"\n{len(notes)} note(s) from the conversion:\n" + "\n".join(f"- {n}" for n in notes)
                     if notes else ""))
        try:
            from_dict(data_cb, file=f"{SOURCE}.yml")  # still a valid codebook after the changes above
        except CodebookError as exc:  # pragma: no cover - a veplab bug
            raise StudyError(str(exc)) from None
        cb_path = folder / f"{SOURCE}.yml"
        cb_path.write_text(dump_yaml(data_cb, header=header), encoding="utf-8")
        data_copy = None
        if data is not None:
            (folder / "data").mkdir()
            data_copy = folder / "data" / Path(data).name
            shutil.copy2(data, data_copy)
        seed = int(hashlib.sha256(name.encode()).hexdigest()[:6], 16)
        text = _study_text(name, cb, form.name, data_copy.name if data_copy else None, design, analyses, todo, seed,
                           sheet)
        study_yml = folder / "study.yml"
        study_yml.write_text(text, encoding="utf-8")
        study = load_study(folder)
        _, problems = resolve_all(study)
    except StudyError as exc:  # pragma: no cover - a scaffold that does not load is a veplab bug
        shutil.rmtree(folder, ignore_errors=True)
        raise ScaffoldError(f"the scaffolded study does not load ({exc}); nothing was kept") from None
    if problems:  # pragma: no cover - as above
        shutil.rmtree(folder, ignore_errors=True)
        raise ScaffoldError("the scaffolded analyses do not resolve; nothing was kept:\n" + "\n".join(problems))
    return Scaffold(folder=folder, study_yml=study_yml, codebook=cb_path, form=form_copy, data=data_copy,
                    design=design, analyses=tuple(analyses), inferred=tuple(inferred), todo=tuple(todo),
                    notes=tuple(notes))
