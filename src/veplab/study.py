"""Study configuration: ``research/<study>/study.yml``.

A study names its data sources (a data file and the codebook that describes
it), its parameters, the disclosure threshold, its languages and the
notebooks it runs::

    id: demo
    title: {en: "...", fr: "...", ar: "...", ru: "..."}
    languages: [en, fr, ar, ru]
    seed: 20261121
    disclosure: {threshold: 10}
    synth: {scale: demo, seed: 20261121}     # only for synthetic studies
    sources:
      push_pull: {path: data/push_pull.csv, codebook: push_pull}
      rna:                                       # a read-only PostgreSQL query
        sql: "SELECT * FROM assessments ORDER BY rating_id"
        url_env: VEPLAB_DB_URL                   # env variable holding the URL
        codebook: rna_tool
    design: {cluster: prison_id, breakdowns: [gender, age_band]}   # optional
    # a sampled survey adds (see veplab.survey.from_study_design):
    #   weights: weight, strata: stratum, fpc: prisons_in_stratum,
    #   population: population.yml, weighting: raking, sources: [push_pull]
    analyses:                                  # each runs the notebook of its name
      overview: {sources: [push_pull, rna]}
      push_pull: {source: push_pull}
    notebooks:                                 # further notebooks of one's own, optional
      - name: my_tables
        parameters: {source: push_pull}

A ``codebook`` given as a bare name resolves to ``<repo>/surveys/<name>.yml``
(the nearest ``surveys/`` folder above the study); a path ending in ``.yml``
is taken relative to the study folder.  Data paths are relative to the study
folder.  A SQL source names one SELECT query and the environment variable
that holds the database URL (never the URL or a password in study.yml); see
:mod:`veplab.ingest.sql`.  ``design: cluster:`` names the column holding each
record's facility (prison) code: loading passes it to the identifier gate as a
facility column (codes such as ``KZ-P07`` are not person ids).  ``weights:``/``probs:``,
``strata:``, ``fpc:`` (one column, or two: prisons then people) and ``population:`` (a
YAML file of population margins, :func:`veplab.survey.read_population`) declare a
sampled survey: its sources (``design.sources``, by default those whose codebook holds
the columns) are then estimated design-based (:meth:`Study.survey_design`).  ``analyses:``
is documented in :mod:`veplab.analyses` (``veplab analyses`` lists every key).

>>> from veplab.study import load_study                     # doctest: +SKIP
>>> study = load_study("research/demo")                      # doctest: +SKIP
>>> df = study.load_source("push_pull")                      # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import codebook as _cb
from ._validate import StudyError
from .codebook import LANGUAGES, Codebook

__all__ = ["Source", "Study", "StudyError", "load_study", "find_root", "check_study_id", "STUDY_KEYS", "MIN_THRESHOLD"]

#: The disclosure threshold can never be set below this.
MIN_THRESHOLD = 3
DEFAULT_THRESHOLD = 10
#: The top-level keys a study.yml may hold (anything else is a typo or a mistake).
STUDY_KEYS: tuple[str, ...] = (
    "id", "title", "description", "languages", "seed", "disclosure", "synth", "sources", "parameters",
    "inputs", "notebooks", "brief", "design", "analyses", "timeout",
)
#: The keys of ``disclosure:``.
DISCLOSURE_KEYS: tuple[str, ...] = ("threshold",)
#: A study id names folders (``reports/<id>/``) and files: a plain name, at most 64 characters.
STUDY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")


@dataclasses.dataclass(frozen=True)
class Source:
    """One data source of a study."""

    name: str
    path: Path | None  # None for a SQL source
    codebook_path: Path
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sql: str | None = None
    url_env: str | None = None
    #: Columns holding facility codes (the study's ``design: cluster:``), passed to
    #: :func:`veplab.data.load` so the identifier gate does not take them for person ids.
    facility_columns: tuple[str, ...] = ()

    def codebook(self) -> Codebook:
        return _cb.load(self.codebook_path)

    @property
    def is_sql(self) -> bool:
        return self.sql is not None

    def query(self) -> Any:
        """The :class:`veplab.ingest.sql.SQLQuery` of a SQL source."""
        from .ingest.sql import DEFAULT_TIMEOUT, SQLQuery

        if self.sql is None:
            raise StudyError(f"source {self.name!r} is a file, not a SQL query")
        return SQLQuery(self.sql, url_env=self.url_env or "VEPLAB_DB_URL", name=self.name,
                        timeout=self.options.get("timeout", DEFAULT_TIMEOUT))

    def load(self, **kwargs: Any) -> pd.DataFrame:
        """Load through :func:`veplab.data.load` with the source's options."""
        from .data import load

        opts = {**self.options, **kwargs}
        opts.setdefault("facility_columns", self.facility_columns)
        if self.sql is not None:
            opts.pop("timeout", None)
            return load(self.query(), self.codebook(), **opts)
        if self.path is None:
            raise StudyError(f"source {self.name!r} has neither a file nor a SQL query")
        return load(self.path, self.codebook(), **opts)


@dataclasses.dataclass(frozen=True)
class Study:
    """A parsed, validated ``study.yml``."""

    id: str
    folder: Path
    config_path: Path
    title: Mapping[str, str]
    description: Mapping[str, str]
    languages: tuple[str, ...]
    seed: int
    threshold: int
    sources: Mapping[str, Source]
    parameters: Mapping[str, Any]
    notebooks: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any]
    timeout: int | None = None  # seconds a notebook may run (study.yml timeout:), None: the build's default
    #: ``design: cluster:``: the column naming each record's facility (prison), or None.
    cluster: str | None = None
    #: ``design: breakdowns:``: columns results are broken down by.
    breakdowns: tuple[str, ...] = ()
    #: The sampled survey's design (``design:`` weights/probs, strata, fpc, population, weighting,
    #: bounds, lonely_psu with the cluster) as :func:`veplab.survey.from_study_design` reads it;
    #: None when the study declares none (its figures are then unweighted, as before).
    survey: Mapping[str, Any] | None = None
    #: The sources sampled with that design (``design.sources``, or those whose codebook holds its columns).
    survey_sources: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        """The project root (folder holding ``surveys/``)."""
        return find_root(self.folder)

    def source(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            raise StudyError(
                f"{self.config_path}: no source {name!r}; sources are {', '.join(self.sources)}"
            ) from None

    def load_source(self, name: str, **kwargs: Any) -> pd.DataFrame:
        return self.source(name).load(**kwargs)

    def codebook(self, name: str) -> Codebook:
        return self.source(name).codebook()

    def survey_design(self, name: str, data: pd.DataFrame) -> Any:
        """The :class:`veplab.survey.SurveyDesign` of source ``name`` loaded as ``data``, or None.

        None when the study declares no survey design or ``name`` is not one of its sampled
        sources (``survey_sources``): its figures are then unweighted.  Weights are adjusted
        to ``design.population`` when given.  A problem with the data (a missing weight,
        an fpc below the number of sampled prisons, a lonely prison) is a :class:`StudyError`
        naming study.yml, the source and the key.
        """
        if self.survey is None or name not in self.survey_sources:
            return None
        from ._validate import InputError
        from .survey import from_study_design

        src = self.source(name)
        where = src.path.name if src.path is not None else f"the query of source {name!r}"
        for key in ("weights", "probs", "strata", "cluster"):
            col = self.survey.get(key)
            if col is not None and col not in data.columns:
                raise StudyError(f"{self.config_path}: design.{key} names column {col!r}, which the data of source "
                                 f"{name!r} ({where}) do not hold; add it to the data or correct design.{key}")
        try:
            return from_study_design(data, self.survey, study_dir=self.folder)
        except InputError as exc:
            raise StudyError(f"{self.config_path}: the survey design (design:) on source {name!r} ({where}): "
                             f"{exc}") from None

    def text(self, lang: str | None = None) -> str:
        """The title in ``lang`` (default: the study's first language), else in English, else in any
        language the study gives it in; the id when there is no title."""
        return _in_language(self.title, lang or self.languages[0], self.languages) or self.id

    def description_text(self, lang: str | None = None) -> str:
        """The description in ``lang`` with the same fallbacks as :meth:`text` ("" when there is none)."""
        return _in_language(self.description, lang or self.languages[0], self.languages)

    def analysis(self, name: str) -> Any:
        """The declared analysis ``name`` with its defaults filled in (:func:`veplab.analyses.resolve`)."""
        from .analyses import resolve

        return resolve(self, name)

    @property
    def analyses(self) -> tuple[str, ...]:
        """The analyses ``study.yml`` declares, in order."""
        raw = self.raw.get("analyses")
        return tuple(str(k) for k in raw) if isinstance(raw, Mapping) else ()

    @property
    def synth(self) -> Mapping[str, Any]:
        return self.raw.get("synth") or {}

    @property
    def brief(self) -> Mapping[str, Any]:
        return self.raw.get("brief") or {}


def _in_language(texts: Mapping[str, str], lang: str, languages: tuple[str, ...]) -> str:
    for code in (lang, "en", *languages, *texts):
        if texts.get(code):
            return texts[code]
    return ""


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``surveys/``.

    The project root: where a study's codebooks given by bare name
    (``codebook: wellbeing``) are looked up, as ``<root>/surveys/<name>.yml``.
    When no folder above holds ``surveys/``, ``start`` itself (resolved).

    Parameters
    ----------
    start : Path
        A folder (a study folder, or one inside it).

    Returns
    -------
    Path
        An absolute path.

    References
    ----------
    docs/DESIGN.md, "Folders" (``surveys/`` and ``research/`` at the
    top level of the project).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     root = Path(folder).resolve()
    ...     (root / "surveys").mkdir()
    ...     (root / "research" / "pilot" / "data").mkdir(parents=True)
    ...     find_root(root / "research" / "pilot" / "data") == root
    True
    """
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / "surveys").is_dir():
            return folder
    return start


def check_study_id(value: Any) -> str | None:
    """Why ``value`` is not a valid study id (``None`` when it is).

    A study id is a plain name: ASCII letters, digits, ``-``, ``_`` and ``.``
    (not first), no path separators, no ``..``, 1 to 64 characters.  It names
    the report folder (``reports/<id>/``), so anything that could leave that
    folder or hide in it is refused.

    Parameters
    ----------
    value : any
        The ``id:`` of a study.yml, or a folder name.

    Returns
    -------
    str or None
        The end of a sentence saying what is wrong ("contains '..'"), or None.

    References
    ----------
    IEEE Std 1003.1-2017 (POSIX.1-2017), Base Definitions, "Portable Filename
    Character Set" (letters, digits, period, underscore, hyphen).

    Examples
    --------
    >>> check_study_id("kz_prisons-2026") is None
    True
    >>> check_study_id("../etc"), check_study_id(".hidden"), check_study_id("pilot study")
    ('contains a path separator', "starts with '.'", "contains characters other than letters a-z, A-Z, digits, '-', '_' and '.'")
    """
    if value is None:
        return "is empty"
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return f"must be a name, got {type(value).__name__}"
    text = str(value)
    if not text:
        return "is empty"
    if len(text) > 64:
        return f"is {len(text)} characters long; at most 64 are allowed"
    if "/" in text or "\\" in text:
        return "contains a path separator"
    if ".." in text:
        return "contains '..'"
    if text.startswith("."):
        return "starts with '.'"
    if not STUDY_ID_PATTERN.fullmatch(text):
        return "contains characters other than letters a-z, A-Z, digits, '-', '_' and '.'"
    return None


def _unknown_keys(keys: Any, valid: tuple[str, ...], config: Path, where: str) -> None:
    for key in keys:
        if str(key) in valid:
            continue
        close = difflib.get_close_matches(str(key), valid, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"valid keys are {', '.join(valid)}"
        raise StudyError(f"{config}: unknown key {str(key)!r} in {where}; {hint}")


def _labels(value: Any, file: Path, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value}
    if not isinstance(value, Mapping):
        raise StudyError(f"{file}: {key} must be text or a mapping of language to text")
    return {str(k): str(v) for k, v in value.items()}


def _codebook_path(config: Path, folder: Path, root: Path, name: str, cb: str) -> Path:
    cb_path = (folder / cb).resolve() if cb.endswith((".yml", ".yaml")) else root / "surveys" / f"{cb}.yml"
    if not cb_path.is_file():
        raise StudyError(f"{config}: source {name!r}: codebook {cb!r} not found (looked for {cb_path})")
    return cb_path


def _sql_source(config: Path, folder: Path, root: Path, name: str, spec: Mapping[str, Any]) -> Source:
    from .ingest.sql import SQLSourceError, check_query

    url_env = spec.get("url_env")
    if not isinstance(url_env, str) or not url_env.strip():
        raise StudyError(f"{config}: source {name!r}: a sql: source needs url_env: naming the environment "
                         "variable that holds the database URL (e.g. url_env: VEPLAB_DB_URL)")
    try:
        sql = check_query(spec["sql"])
    except SQLSourceError as exc:
        raise StudyError(f"{config}: source {name!r}: {exc}") from None
    options = {k: v for k, v in spec.items() if k not in ("sql", "url_env", "codebook")}
    allowed = {"unknown", "reverse", "score", "on_error", "timeout"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise StudyError(f"{config}: source {name!r}: unknown option(s) {unknown} for a sql: source; "
                         f"allowed: {sorted(allowed)}")
    return Source(name=name, path=None, codebook_path=_codebook_path(config, folder, root, name, str(spec["codebook"])),
                  options=options, sql=sql, url_env=url_env.strip())


#: The keys of ``design:``: the cluster and breakdowns of every study, and the survey design
#: of a sampled survey (see :func:`_survey`).
DESIGN_KEYS: tuple[str, ...] = ("cluster", "breakdowns", "weights", "probs", "strata", "fpc", "population",
                                "weighting", "bounds", "lonely_psu", "sources")
#: The ``design:`` keys that make a study a sampled survey (veplab.survey.SURVEY_KEYS).
_SURVEY_COLUMNS = ("weights", "probs", "strata")
_WEIGHTING = ("raking", "linear", "logit", "poststratify")
_LONELY = ("fail", "adjust", "average", "certainty", "remove")


def _design(raw: Mapping[str, Any], config: Path) -> tuple[str | None, tuple[str, ...]]:
    """``design: {cluster: prison_id, breakdowns: [gender, age_band]}`` -> (cluster, breakdowns).

    Both are optional; ``cluster`` is one column name, ``breakdowns`` a list of column names.
    The survey keys (weights, strata, fpc, population ...) are checked by :func:`_survey`.
    """
    design = raw.get("design")
    if design is None:
        return None, ()
    if not isinstance(design, Mapping):
        raise StudyError(f"{config}: design must be a mapping such as {{cluster: prison_id, breakdowns: "
                         f"[gender, age_band]}}, got {design!r}")
    for key in design:
        if str(key) not in DESIGN_KEYS:
            close = difflib.get_close_matches(str(key), DESIGN_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(DESIGN_KEYS)}"
            raise StudyError(f"{config}: design: unknown key {str(key)!r}; {hint}")
    cluster = design.get("cluster")
    if cluster is not None and (not isinstance(cluster, str) or not cluster.strip()):
        raise StudyError(f"{config}: design.cluster must be one column name (e.g. prison_id), got {cluster!r}")
    breakdowns = design.get("breakdowns")
    if breakdowns is None:
        breakdowns = []
    if isinstance(breakdowns, str) or not isinstance(breakdowns, list) or \
            not all(isinstance(b, str) and b.strip() for b in breakdowns):
        raise StudyError(f"{config}: design.breakdowns must be a list of column names (e.g. [gender, age_band]), "
                         f"got {breakdowns!r}")
    dup = sorted({b for b in breakdowns if breakdowns.count(b) > 1})
    if dup:
        raise StudyError(f"{config}: design.breakdowns names {dup} more than once")
    return (cluster.strip() if cluster is not None else None), tuple(b.strip() for b in breakdowns)


def _one_column(value: Any, config: Path, key: str, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StudyError(f"{config}: design.{key} must be one column name (e.g. {example}), got {value!r}")
    return value.strip()


def _survey(raw: Mapping[str, Any], config: Path, folder: Path, sources: Mapping[str, Source],
            cluster: str | None) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    """The survey design of ``design:`` (weights/probs, strata, fpc, population ...), checked.

    Returns ``(survey, sources)``: the design keys as :func:`veplab.survey.from_study_design`
    reads them (None when the study declares no sampled survey) and the sources sampled with
    it: ``design.sources`` or, by default, every source whose codebook holds the design's
    columns.  Every column must be an item of each such source's codebook and the population
    file must exist and parse; errors name study.yml, the key, the column or file and the fix.
    """
    design = raw.get("design")
    if not isinstance(design, Mapping):
        return None, ()
    if not any(design.get(k) is not None for k in ("weights", "probs", "strata", "fpc", "population")):
        extra = [k for k in ("weighting", "bounds", "lonely_psu", "sources") if design.get(k) is not None]
        if extra:
            raise StudyError(f"{config}: design.{extra[0]} belongs to a sampled survey, but design: declares no "
                             "weights:, probs:, strata:, fpc: or population:; add them or remove "
                             f"design.{extra[0]}")
        return None, ()
    out: dict[str, Any] = {"cluster": cluster}
    columns: dict[str, str] = {}   # column -> the key naming it
    if cluster is not None:
        columns[cluster] = "cluster"
    if design.get("weights") is not None and design.get("probs") is not None:
        raise StudyError(f"{config}: design: give weights: (sampling weights) or probs: (inclusion "
                         "probabilities), not both")
    for key, example in (("weights", "weight"), ("probs", "p_selection"), ("strata", "stratum")):
        if design.get(key) is not None:
            out[key] = _one_column(design[key], config, key, example)
            columns.setdefault(out[key], key)
    fpc = design.get("fpc")
    if fpc is not None:
        fpcs = fpc if isinstance(fpc, list) else [fpc]
        if not 1 <= len(fpcs) <= 2 or not all(isinstance(f, str) and f.strip() for f in fpcs):
            raise StudyError(f"{config}: design.fpc must be one column (prisons in the stratum, or the sampling "
                             "fraction) or two ([prisons_in_stratum, prisoners_in_prison]: prisons, then people), "
                             f"got {fpc!r}")
        fpcs = [f.strip() for f in fpcs]
        if len(fpcs) == 2 and cluster is None:
            raise StudyError(f"{config}: design.fpc gives two stages, which needs design.cluster (the "
                             "first-stage unit, e.g. prison_id)")
        out["fpc"] = fpcs if len(fpcs) == 2 else fpcs[0]
        for f in fpcs:
            columns.setdefault(f, "fpc")
    pop = design.get("population")
    margins: list[str] = []
    if pop is not None:
        if not isinstance(pop, str) or not pop.strip():
            raise StudyError(f"{config}: design.population must be the path of a YAML file of population "
                             f"figures, relative to the study folder (e.g. population.yml), got {pop!r}")
        path = (folder / pop.strip()).resolve()
        if not path.is_file():
            raise StudyError(f"{config}: design.population: file {pop!r} not found (looked for {path}); write "
                             "the population figures there (total:, margins: {gender: {1: ..., 2: ...}}) or "
                             "remove design.population")
        from ._validate import InputError
        from .survey import read_population

        try:
            population = read_population(path)
        except InputError as exc:
            raise StudyError(f"{config}: design.population ({path.name}): {exc}") from None
        out["population"] = str(path)
        margins = [*population.margins, *population.totals]
        if population.cells is not None:
            margins += [c for c in population.cells.columns if c != "count"]
        weighting = design.get("weighting")
        if weighting is not None and weighting not in _WEIGHTING:
            raise StudyError(f"{config}: design.weighting must be one of {', '.join(_WEIGHTING)}, got {weighting!r}")
        if weighting == "poststratify" and population.cells is None:
            raise StudyError(f"{config}: design.weighting: poststratify needs cells: in {path.name} (one count per "
                             "cell of the post-strata)")
        if weighting in ("raking", "linear", "logit", None) and not (population.margins or population.totals):
            raise StudyError(f"{config}: design.population ({path.name}) gives no margins: or totals: to weight to; "
                             "add them, or set design.weighting: poststratify with cells:")
        if weighting is not None:
            out["weighting"] = weighting
        for m in margins:
            columns.setdefault(m, f"population ({path.name})")
    else:
        for key in ("weighting", "bounds"):
            if design.get(key) is not None:
                raise StudyError(f"{config}: design.{key} adjusts the weights to population figures, which needs "
                                 "design.population (a YAML file of margins); add it or remove design." + key)
    bounds = design.get("bounds")
    if bounds is not None:
        ok = isinstance(bounds, list) and len(bounds) == 2 and all(
            isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
        if not ok or not (0 <= bounds[0] <= 1 <= bounds[1]):
            raise StudyError(f"{config}: design.bounds must be [lower, upper] around 1 (e.g. [0.3, 3]), the "
                             f"limits of the weight adjustment; got {bounds!r}")
        out["bounds"] = [float(bounds[0]), float(bounds[1])]
    lonely = design.get("lonely_psu")
    if lonely is not None:
        if lonely not in _LONELY:
            raise StudyError(f"{config}: design.lonely_psu must be one of {', '.join(_LONELY)} (R's "
                             f"options(survey.lonely.psu=)), got {lonely!r}")
        out["lonely_psu"] = lonely
    needed = [c for c, k in columns.items() if k != "cluster" and not k.startswith("population")] or \
        [c for c, k in columns.items() if k != "cluster"]
    declared = design.get("sources")
    if declared is not None:
        if isinstance(declared, str):
            declared = [declared]
        if not isinstance(declared, list) or not declared or not all(isinstance(d, str) for d in declared):
            raise StudyError(f"{config}: design.sources must list the sources sampled with this design (e.g. "
                             f"[push_pull]), got {declared!r}")
        unknown = [d for d in declared if d not in sources]
        if unknown:
            raise StudyError(f"{config}: design.sources names {unknown[0]!r}, which is not a source; sources are "
                             f"{', '.join(sources)}")
        chosen = list(declared)
    else:
        chosen, held = [], {}
        for name, src in sources.items():
            try:
                cb = src.codebook()
            except Exception:  # noqa: BLE001 - a broken codebook is reported where it is loaded
                continue
            held[name] = sum(c in cb for c in needed)
            if needed and held[name] == len(needed):
                chosen.append(name)
        if not chosen and held and max(held.values()) > 0:
            # the source holding most of the columns is the sampled one: name what it lacks (a typo?)
            chosen = [max(held, key=lambda k: held[k])]
            declared = None
        if not chosen:
            shown = ", ".join(f"{columns[c]}: {c}" for c in needed) or "population margins"
            raise StudyError(f"{config}: design: no source's codebook holds the survey design's columns ({shown}); "
                             "add them to the codebook of the sampled source (admin items of type numeric), "
                             "correct the names, or list the sampled sources under design.sources")
    for name in chosen:
        src = sources[name]
        cb = src.codebook()
        for col, key in columns.items():
            if col not in cb:
                where = f"design.{key}" if not key.startswith("population") else f"design.{key}"
                raise StudyError(
                    f"{config}: {where} names column {col!r}, which source {name!r} does not have (codebook "
                    f"{src.codebook_path.name}); add {col!r} to that codebook (an admin item) and to the data, "
                    "correct the name"
                    + (", or leave the source out of design.sources" if declared is not None else ""))
    return out, tuple(chosen)


def load_study(path: str | Path) -> Study:
    r"""Read and validate ``study.yml`` (``path`` is the study folder or the file).

    Checks every key (unknown keys are errors, with the closest valid name),
    the id (:func:`check_study_id`; the folder name when there is no ``id:``),
    the languages, the disclosure threshold (at least :data:`MIN_THRESHOLD`,
    default 10), every source (a file and its codebook, or a read-only SQL
    query), the ``design:`` and the ``notebooks:``.  Codebooks named bare
    resolve to ``<root>/surveys/<name>.yml`` (:func:`find_root`); data paths
    are relative to the study folder.

    Parameters
    ----------
    path : str or Path
        The study folder, or its ``study.yml``.

    Returns
    -------
    Study
        With ``sources`` (:class:`Source`), ``threshold``, ``languages``,
        ``cluster``, ``breakdowns``, ``survey`` and ``load_source(name)``.

    Raises
    ------
    StudyError
        Naming study.yml, the key and what to write instead.

    References
    ----------
    docs/DESIGN.md, "A study is declared, not coded".
    YAML Ain't Markup Language, version 1.2.2 (2021), https://yaml.org/spec/1.2.2/.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> root = Path(folder.name)
    >>> (root / "surveys").mkdir()
    >>> _ = (root / "surveys" / "wellbeing.yml").write_text(
    ...     "id: wellbeing\ntitle: Wellbeing\nid_column: rid\nitems:\n"
    ...     "  - {id: prison_id, label: Prison, type: text, role: admin}\n"
    ...     "  - {id: q1, label: I feel safe, type: binary, options: {0: 'No', 1: 'Yes'}}\n")
    >>> study_dir = root / "research" / "pilot"
    >>> (study_dir / "data").mkdir(parents=True)
    >>> _ = (study_dir / "data" / "wellbeing.csv").write_text("rid,prison_id,q1\nr1,P1,1\nr2,P2,0\n")
    >>> _ = (study_dir / "study.yml").write_text(
    ...     "id: pilot\ntitle: {en: Pilot study}\n"
    ...     "sources:\n  wellbeing: {path: data/wellbeing.csv, codebook: wellbeing}\n"
    ...     "design: {cluster: prison_id}\n")
    >>> study = load_study(study_dir)
    >>> study.id, study.threshold, list(study.sources), study.cluster
    ('pilot', 10, ['wellbeing'], 'prison_id')
    >>> study.load_source("wellbeing")
      rid prison_id q1
    0  r1        P1  1
    1  r2        P2  0
    >>> _ = (study_dir / "study.yml").write_text("id: pilot\nsource: {}\n")
    >>> try:
    ...     load_study(study_dir)
    ... except StudyError as error:
    ...     print(error)
    /.../research/pilot/study.yml: unknown key 'source' in study.yml; did you mean 'sources'?
    >>> folder.cleanup()
    """
    path = Path(path)
    config = path / "study.yml" if path.is_dir() else path
    if not config.is_file():
        raise StudyError(f"{config}: study configuration not found (expected a study folder holding study.yml)")
    folder = config.parent.resolve()
    try:
        raw = yaml.safe_load(config.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise StudyError(f"{config}:{where}: YAML syntax error: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise StudyError(f"{config}: not UTF-8 text; save it as UTF-8") from None
    empty_help = ("a study needs at least sources: (name: {path: data/FILE.csv, codebook: CODEBOOK}); "
                  "see research/demo/study.yml")
    if raw is None or (isinstance(raw, Mapping) and not raw):
        raise StudyError(f"{config} is empty: {empty_help}")
    if not isinstance(raw, Mapping):
        raise StudyError(f"{config} is not a mapping of keys (id:, sources:, ...) but a {type(raw).__name__}: "
                         f"{empty_help}")
    _unknown_keys(raw, STUDY_KEYS, config, config.name)
    if "id" in raw:
        study_id = raw["id"]
        why = check_study_id(study_id)
        if why:
            raise StudyError(f"{config}: id {str(study_id)!r} {why}; the id names the report folder "
                             "(reports/<id>/), so use a plain name such as kz_prisons-2026 (letters, digits, "
                             "'-', '_', '.' not first, at most 64 characters)")
    else:
        study_id = folder.name
        why = check_study_id(study_id)
        if why:
            raise StudyError(f"{config}: there is no id: and the folder name {study_id!r} {why}; add a line "
                             "id: NAME with a plain name (letters, digits, '-', '_', '.' not first, at most 64 "
                             "characters)")
    timeout = raw.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0):
        raise StudyError(f"{config}: timeout must be a positive whole number of seconds (e.g. timeout: 1800), "
                         f"got {timeout!r}")
    languages = tuple(raw.get("languages") or ("en",))
    bad = [lang for lang in languages if lang not in LANGUAGES]
    if bad:
        raise StudyError(f"{config}: languages {bad} are not supported; use {', '.join(LANGUAGES)}")
    disclosure = raw.get("disclosure") or {}
    if not isinstance(disclosure, Mapping):
        raise StudyError(f"{config}: disclosure must be a mapping such as {{threshold: 10}}, got {disclosure!r}")
    _unknown_keys(disclosure, DISCLOSURE_KEYS, config, f"disclosure: of {config.name}")
    threshold = disclosure.get("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise StudyError(f"{config}: disclosure.threshold must be a whole number, got {threshold!r}")
    if threshold < MIN_THRESHOLD:
        raise StudyError(
            f"{config}: disclosure.threshold {threshold} is below the floor of {MIN_THRESHOLD}; "
            f"cells this small identify people. Use {MIN_THRESHOLD} or more (10 is the default)"
        )
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise StudyError(f"{config}: seed must be a whole number, got {seed!r}")
    root = find_root(folder)
    sources: dict[str, Source] = {}
    raw_sources = raw.get("sources") or {}
    if not isinstance(raw_sources, Mapping):
        raise StudyError(f"{config}: sources must be a mapping name -> {{path, codebook}}")
    for name, spec in raw_sources.items():
        if isinstance(spec, Mapping) and ({"url", "password", "dsn"} & set(spec)):
            raise StudyError(f"{config}: source {name!r}: never put a database URL or password in study.yml; "
                             "set it in an environment variable and name it with url_env: (e.g. VEPLAB_DB_URL)")
        if isinstance(spec, Mapping) and "sql" in spec and "codebook" in spec and "path" not in spec:
            sources[str(name)] = _sql_source(config, folder, root, str(name), spec)
            continue
        if not isinstance(spec, Mapping) or "path" not in spec or "codebook" not in spec:
            raise StudyError(f"{config}: source {name!r} needs path: (or sql: and url_env:) and codebook:")
        cb = str(spec["codebook"])
        if cb.endswith((".yml", ".yaml")):
            cb_path = (folder / cb).resolve()
        else:
            cb_path = root / "surveys" / f"{cb}.yml"
        if not cb_path.is_file():
            raise StudyError(f"{config}: source {name!r}: codebook {cb!r} not found (looked for {cb_path})")
        options = {k: v for k, v in spec.items() if k not in ("path", "codebook")}
        allowed = {"sheet", "encoding", "delimiter", "unknown", "reverse", "score", "on_error", "source"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise StudyError(f"{config}: source {name!r}: unknown option(s) {unknown}; allowed: {sorted(allowed)}")
        choices = {"unknown": ("error", "drop", "keep"), "on_error": ("raise", "flag"),
                   "source": (None, "kobo", "odk", "file"), "reverse": (True, False), "score": (True, False)}
        for key, values in choices.items():
            if key in options and not any(options[key] is v or (isinstance(v, str) and options[key] == v)
                                          for v in values):
                raise StudyError(f"{config}: source {name!r}: {key}: must be one of "
                                 f"{', '.join(map(str, values))}; got {options[key]!r}")
        for key in ("encoding", "delimiter"):
            if key in options and not isinstance(options[key], str):
                raise StudyError(f"{config}: source {name!r}: {key}: must be text (e.g. utf-8, ';'); "
                                 f"got {options[key]!r}")
        if "delimiter" in options and len(options["delimiter"]) != 1:
            raise StudyError(f"{config}: source {name!r}: delimiter: must be one character, got "
                             f"{options['delimiter']!r}")
        if "encoding" in options:
            import codecs

            try:
                codecs.lookup(options["encoding"])
            except LookupError:
                raise StudyError(f"{config}: source {name!r}: encoding {options['encoding']!r} is not known; "
                                 "use e.g. utf-8, cp1256 (Arabic Windows) or cp1251 (Cyrillic Windows)") from None
        sources[str(name)] = Source(name=str(name), path=(folder / str(spec["path"])).resolve(),
                                    codebook_path=cb_path, options=options)
    notebooks = []
    raw_analyses = raw.get("analyses")
    if isinstance(raw_analyses, Mapping):  # each analysis is the notebook of the same name
        notebooks = [{"name": str(name), "parameters": {}} for name in raw_analyses]
    raw_notebooks = raw.get("notebooks") or []
    if not isinstance(raw_notebooks, list):
        raise StudyError(f"{config}: notebooks must be a list of notebook names (or {{name:, parameters:}}), "
                         f"got {raw_notebooks!r}")
    for i, nb in enumerate(raw_notebooks):
        if isinstance(nb, str):
            nb = {"name": nb}
        if not isinstance(nb, Mapping) or "name" not in nb:
            raise StudyError(f"{config}: notebooks[{i}] needs a name")
        unknown_nb = sorted(str(k) for k in nb if k not in ("name", "parameters"))
        if unknown_nb:
            raise StudyError(f"{config}: notebooks[{i}]: unknown key(s) {unknown_nb}; a notebook entry has name: "
                             "and parameters:")
        if any(n["name"] == str(nb["name"]) for n in notebooks):
            raise StudyError(f"{config}: notebook {str(nb['name'])!r} is listed twice (under analyses: and "
                             "notebooks:, or twice under notebooks:); an analysis takes its keys under analyses:")
        notebooks.append({"name": str(nb["name"]), "parameters": dict(nb.get("parameters") or {})})
    cluster, breakdowns = _design(raw, config)
    if cluster is not None:
        sources = {k: dataclasses.replace(v, facility_columns=(cluster,)) for k, v in sources.items()}
    survey, survey_sources = _survey(raw, config, folder, sources, cluster)
    study = Study(
        id=str(study_id),
        folder=folder,
        config_path=config.resolve(),
        title=_labels(raw.get("title"), config, "title") or {"en": str(study_id)},
        description=_labels(raw.get("description"), config, "description"),
        languages=languages,
        seed=seed,
        threshold=threshold,
        sources=sources,
        parameters=dict(raw.get("parameters") or {}),
        notebooks=tuple(notebooks),
        raw=raw,
        timeout=timeout,
        cluster=cluster,
        breakdowns=breakdowns,
        survey=survey,
        survey_sources=survey_sources,
    )
    from .analyses import check_structure

    problems = check_structure(study, raw_analyses, config)
    if problems:
        raise StudyError("\n".join(problems))
    return study
