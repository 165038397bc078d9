"""Models built from a study's declared design (``analyses: push_pull``), not written by hand.

A study names its outcome scale, its explanatory domains, the breakdowns it reports
by (``design.breakdowns``), the cluster people are nested in (``design.cluster``) and,
optionally, facility-level predictors computed from a facility source.  This module
turns that declaration into a model and fits it, so that no notebook writes a formula:

* :func:`facility_predictors` evaluates the declared arithmetic (``occupancy:
  population / capacity``) on the facility source, safely (column names, numbers,
  ``+ - * /`` and brackets only), one row per facility;
* :func:`attach_facility` merges them onto the respondents (many respondents to one
  facility), naming the facility codes that have no facility row;
* :func:`model_design` builds the model frame and the formula::

      outcome ~ domain_1 + ... + domain_k + C(breakdown_1) + ... + level2_1 + ...

  A breakdown enters as a factor (treatment contrasts, first level as reference) only
  when it has at least two levels among the people the model uses; a breakdown that
  is constant within each cluster (country, type of prison) is a level-2 predictor and
  is fine in a random-intercept model.  A breakdown with a group smaller than the
  disclosure threshold is left out (a model holding it could not be published,
  :func:`veplab.privacy.model_disclosure`), and the page says so;
* :func:`fit_model` fits it: with a cluster, a random-intercept model
  (:func:`~veplab.models.mixed_linear`, ``lme4::lmer``; or
  :func:`~veplab.models.mixed_logit`, ``lme4::glmer``, for the yes/no version
  ``outcome >= cut``); without one, a single-level model with heteroskedasticity-robust
  standard errors (:func:`~veplab.models.linear` with HC1 errors, R ``lm`` with
  ``sandwich::vcovHC(type = "HC1")`` and t tests as ``lmtest::coeftest``; or
  :func:`~veplab.models.logit` with ``robust=True``).  A fit that cannot be made or
  trusted raises :class:`ModelNotRun`, whose ``sentence`` a page shows instead;
* :func:`imputation_sensitivity` refits the same model on multiply imputed data
  (:func:`~veplab.missing.impute`, Rubin's rules by :func:`~veplab.missing.pool`);
* :func:`top_item_agreement`: the share agreeing with the most-endorsed item of a scale.

Terms are labelled for people (:func:`term_labels`): scale labels for domains,
``"Gender: Woman"`` for a factor level, the declared name and arithmetic for a
facility predictor.

References
----------
Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel analysis* (2nd ed.). Sage:
chapter 4 (random-intercept models with level-1 and level-2 predictors).

Long, J. S., & Ervin, L. H. (2000). Using heteroscedasticity consistent standard errors
in the linear regression model. *The American Statistician*, 54, 217-224 (HC1).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> d = pd.DataFrame({"prison": np.repeat([f"P{i}" for i in range(12)], 25),
...                   "sex": rng.choice([1, 2], 300), "push": rng.normal(size=300)})
>>> d["support"] = 0.5 * d["push"] + rng.normal(size=300)
>>> des = model_design(d, outcome="support", domains=["push"], breakdowns=["sex"], cluster="prison",
...                    threshold=10)
>>> des.formula
'support ~ push + C(sex)'
>>> fit = fit_model(des)
>>> fit.kind, fit.n
('mixed', 300)
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError
from ..descriptives.tables import option_label, term_label, without_digits

__all__ = [
    "ModelDesign",
    "ModelFit",
    "ModelNotRun",
    "agree_code",
    "attach_facility",
    "compare_two_groups",
    "disclosure_sentence",
    "endorsement_tables",
    "facility_labels",
    "facility_predictors",
    "fit_model",
    "icc_by_cluster",
    "imputation_sensitivity",
    "model_design",
    "scale_range",
    "term_labels",
    "top_item_agreement",
    "typology",
]

_DIGIT = re.compile(r"\d")


class ModelNotRun(InputError):
    """A model that cannot be fitted, trusted or published.

    ``str(exc)`` is the technical message (for logs); ``exc.sentence`` is one sentence
    without digits that a published page can show in its place.
    """

    def __init__(self, message: str, sentence: str):
        super().__init__(message)
        self.sentence = sentence


# ------------------------------------------------------------------ facility predictors

_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}


def _closest(name: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(list(valid)[:12]) + (", ..." if len(valid) > 12 else "")
    return f"columns are {shown}"


def _evaluate(expr: str, frame: pd.DataFrame, where: str) -> pd.Series:
    """Arithmetic of columns, numbers, + - * / and brackets; anything else is refused."""
    if not isinstance(expr, str) or not expr.strip():
        raise InputError(f"{where}: expected arithmetic of columns such as 'population / capacity', got {expr!r}")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError:
        raise InputError(f"{where}: cannot read {expr!r}; write arithmetic of columns with + - * / and brackets, "
                         "e.g. 'population / capacity'") from None

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            with np.errstate(divide="ignore", invalid="ignore"):
                return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in frame.columns:
                raise InputError(f"{where}: {expr!r} uses {node.id!r}, which is not a column of the facility "
                                 f"source; {_closest(node.id, [str(c) for c in frame.columns])}")
            col = frame[node.id]
            if isinstance(col.dtype, pd.CategoricalDtype):
                col = pd.Series(np.asarray(col, dtype=object), index=col.index)
            num = pd.to_numeric(col, errors="coerce")
            bad = num.isna() & col.notna()
            if bad.any():
                raise InputError(f"{where}: column {node.id!r} used in {expr!r} holds values that are not numbers "
                                 f"(e.g. {col[bad].iloc[0]!r}); only numeric columns can enter arithmetic")
            return num.to_numpy(dtype=float)
        part = ast.get_source_segment(expr.strip(), node) or type(node).__name__
        raise InputError(f"{where}: {expr!r} may use only column names, numbers, + - * / and brackets; "
                         f"{part!r} is not allowed")

    value = ev(tree.body)
    out = np.broadcast_to(np.asarray(value, dtype=float), (len(frame),)).copy()
    out[~np.isfinite(out)] = np.nan  # x / 0: undefined, the facility counts as missing that predictor
    return pd.Series(out, index=frame.index)


def facility_predictors(facility: pd.DataFrame, key: str, predictors: Mapping[str, str], *,
                        where: str = "analyses.push_pull.facility") -> pd.DataFrame:
    """Facility-level predictors: one row per facility, the key and one column per predictor.

    Each predictor is ``name: expression``, the expression an arithmetic of the facility
    source's columns (``population / capacity``) or a single column.  Evaluation is safe:
    the expression is parsed and only column names, numbers, ``+ - * /``, unary minus and
    brackets are evaluated (no function calls, attributes or indexing); anything else is
    an :class:`~veplab._validate.InputError` naming the key ``{where}.predictors.{name}``.
    A division by zero gives a missing value for that facility.

    Raises
    ------
    InputError
        No ``key`` column, a facility listed twice, an unusable name, or an
        expression with anything but columns, numbers, ``+ - * /`` and brackets.

    References
    ----------
    Snijders TAB, Bosker RJ (2012). Multilevel Analysis: An Introduction to Basic and
    Advanced Multilevel Modeling, 2nd ed. Sage, London, chapter 4 (level-two predictors).
    The declared predictors of docs/DESIGN.md, "A study is declared, not coded" (``analyses: push_pull`` and
    ``design:`` name the sources, scales, breakdowns and cluster);
    parsed with Python's ``ast`` module (never ``eval``).

    Examples
    --------
    >>> import pandas as pd
    >>> fac = pd.DataFrame({"prison": ["A", "B"], "population": [120, 80], "capacity": [100, 100]})
    >>> facility_predictors(fac, "prison", {"occupancy": "population / capacity"})
      prison  occupancy
    0      A        1.2
    1      B        0.8
    """
    if key not in facility.columns:
        raise InputError(f"{where}.key: the facility source has no column {key!r}; "
                         f"{_closest(key, [str(c) for c in facility.columns])}")
    codes = facility[key]
    dup = codes[codes.notna() & codes.duplicated(keep=False)]
    if len(dup):
        shown = ", ".join(map(str, pd.unique(dup)[:10]))
        raise InputError(f"{where}: the facility source must hold one row per facility, but {key!r} repeats "
                         f"for {dup.nunique()} facilities ({shown}); keep one row per facility (e.g. the latest "
                         "audit) before building")
    out = pd.DataFrame({key: codes.to_numpy(dtype=object)}, index=facility.index)
    for name, expr in predictors.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"{where}.predictors: {name!r} is not a usable name (letters, digits and _)")
        out[name] = _evaluate(expr, facility, f"{where}.predictors.{name}").to_numpy()
    return out[out[key].notna()].reset_index(drop=True)


def _code_text(v: Any) -> str | None:
    """A facility code as text: ``7``, ``7.0`` (a number column with a gap) and ``"7"`` are the same code."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def attach_facility(df: pd.DataFrame, facility: pd.DataFrame, key: str, *,
                    where: str = "analyses.push_pull.facility") -> pd.DataFrame:
    """Respondents with their facility's predictors (a left merge, many respondents to one facility).

    Every facility code present among the respondents needs a facility row: codes without
    one are an :class:`~veplab._validate.InputError` naming them.  Respondents without a
    facility code keep missing predictors (the model leaves them out).  The respondents'
    columns, reason columns included (why an answer is missing,
    :mod:`veplab.data.reasons`), and :func:`veplab.data.load`'s record are kept.

    Raises
    ------
    InputError
        No ``key`` column, predictors named like respondents' columns, or
        facility codes without a facility row (naming them).

    References
    ----------
    Snijders TAB, Bosker RJ (2012). Multilevel Analysis, 2nd ed. Sage, London, chapter 4
    (individuals nested in facilities; a facility's value is a level-two predictor).
    The merge of R ``merge(respondents, facilities, by = key, all.x = TRUE)``; the keys of
    docs/DESIGN.md, "A study is declared, not coded" (``analyses: push_pull`` and
    ``design:`` name the sources, scales, breakdowns and cluster).

    Examples
    --------
    >>> import pandas as pd
    >>> fac = pd.DataFrame({"prison": ["A", "B"], "occupancy": [1.2, 0.8]})
    >>> attach_facility(pd.DataFrame({"id": [1, 2, 3], "prison": ["A", "B", "A"]}), fac, "prison")
       id prison  occupancy
    0   1      A        1.2
    1   2      B        0.8
    2   3      A        1.2
    >>> attach_facility(pd.DataFrame({"id": [1], "prison": ["C"]}), fac, "prison")
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: analyses.push_pull.facility: facility codes C of column 'prison' have no row in the facility source; add their rows (or correct the codes) so every respondent's facility has its predictors
    """
    if key not in df.columns:
        raise InputError(f"{where}.key: the respondents' source has no column {key!r}")
    clash = [c for c in facility.columns if c != key and c in df.columns]
    if clash:
        raise InputError(f"{where}.predictors: {clash} are already columns of the respondents' source; give the "
                         "facility predictors other names")
    left = df.copy()
    right = facility.copy()
    lk, rk = left[key], right[key]
    if isinstance(lk.dtype, pd.CategoricalDtype):
        lk = pd.Series(np.asarray(lk, dtype=object), index=lk.index)
    # codes read as numbers in one file and as text in the other still match
    lkey, rkey = lk.map(_code_text), rk.map(_code_text)
    missing = sorted(set(lkey.dropna()) - set(rkey.dropna()))
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise InputError(f"{where}: facility codes {shown} of column {key!r} have no row in the facility source; "
                         "add their rows (or correct the codes) so every respondent's facility has its predictors")
    left["__facility_key__"] = lkey.to_numpy()
    right["__facility_key__"] = rkey.to_numpy()
    right = right.drop(columns=[key])
    try:
        merged = left.merge(right, on="__facility_key__", how="left", validate="many_to_one")
    except pd.errors.MergeError as exc:  # pragma: no cover - facility_predictors keeps one row per facility
        raise InputError(f"{where}: the facility source holds several rows for one code of {key!r}: {exc}") from None
    merged.index = df.index
    out = merged.drop(columns=["__facility_key__"])
    # the rows are df's rows in df's order (a left, many-to-one merge): what veplab.data.load recorded about
    # them still holds, but pandas drops df.attrs on merge.  Why answers are missing needs no help: it is in
    # df's reason columns, which the merge carries like any column.
    out.attrs = df.attrs
    return out


# ------------------------------------------------------------------ the model's design


@dataclasses.dataclass(frozen=True)
class ModelDesign:
    """What :func:`model_design` decided: the model frame, its formula and what it left out.

    ``data`` holds the people the model uses (every model column answered) and only the
    model's columns; ``dropped`` maps a breakdown (or facility predictor) left out to the
    reason code ``"constant"`` (a single value), ``"small"`` (a group below the disclosure
    threshold) or ``"cluster"`` (the cluster column itself: the random intercept stands
    for it); ``n_incomplete`` counts the people left out for a missing value.
    """

    data: pd.DataFrame
    formula: str
    outcome: str
    domains: tuple[str, ...]
    factors: tuple[str, ...]
    level2: tuple[str, ...]
    cluster: str | None
    dropped: dict[str, str]
    n_incomplete: int
    threshold: int | None = None

    @property
    def n(self) -> int:
        return len(self.data)

    @property
    def rhs(self) -> str:
        return self.formula.split("~", 1)[1].strip()


def _q(name: str) -> str:
    return name if name.isidentifier() else f"Q({name!r})"


def _levels_count(col: pd.Series) -> pd.Series:
    vals = pd.Series(np.asarray(col, dtype=object), index=col.index)
    return vals.value_counts(dropna=True)


def model_design(df: pd.DataFrame, *, outcome: str, domains: Sequence[str], breakdowns: Sequence[str] = (),
                 cluster: str | None = None, level2: Sequence[str] = (), threshold: int | None = None) -> ModelDesign:
    """The model of ``outcome`` the design implies, on the people who answered every part of it.

    ``outcome ~ domains + C(b) for each usable breakdown b + level2``: a breakdown is used
    when it takes at least two values among those people and, with ``threshold``, when
    each of its values is held by at least ``threshold`` people (otherwise the model could
    not be published: :func:`veplab.privacy.model_disclosure`); a facility predictor is used
    when it varies.  Leaving a breakdown out can bring back people who lacked only it, so
    the choice is repeated until it settles.  ``cluster`` (kept in ``data``, not in the
    formula) is the random intercept's grouping.

    Raises
    ------
    InputError
        No domains, absent columns, or the outcome among the domains.

    References
    ----------
    Wilkinson GN, Rogers CE (1973). Symbolic description of factorial models for analysis
    of variance. Applied Statistics 22, 392-399 (the formula notation).
    Snijders TAB, Bosker RJ (2012). Multilevel Analysis, 2nd ed. Sage, London, chapter 4
    (level-one and level-two predictors of a random-intercept model).
    Factors enter with R's treatment contrasts (``contr.treatment``, first level the
    reference); the declaration is that of docs/DESIGN.md, "A study is declared, not coded" (``analyses: push_pull`` and
    ``design:`` name the sources, scales, breakdowns and cluster).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1., 2, 3, 4, 5, 6], "x": [1., 0, 1, 0, 1, 1], "g": [1, 1, 1, 2, 2, 2],
    ...                   "one": [1] * 6})
    >>> des = model_design(d, outcome="y", domains=["x"], breakdowns=["g", "one"])
    >>> des.formula, des.dropped
    ('y ~ x + C(g)', {'one': 'constant'})
    """
    what = "model_design"
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    domains, breakdowns, level2 = list(domains), list(breakdowns), list(level2)
    if not domains:
        raise InputError(f"{what}: no explanatory domains; name them (analyses.push_pull.domains)")
    needed = [outcome, *domains, *breakdowns, *level2] + ([cluster] if cluster else [])
    absent = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if absent:
        raise InputError(f"{what}: columns {absent} are not in the data")
    if outcome in domains:
        raise InputError(f"{what}: the outcome {outcome!r} is also among the domains; drop it from the domains")
    dropped: dict[str, str] = {b: "cluster" for b in breakdowns if cluster is not None and b == cluster}
    factors, l2 = [b for b in breakdowns if b not in dropped], list(level2)
    while True:
        cols = [outcome, *domains, *factors, *l2] + ([cluster] if cluster else [])
        cols = list(dict.fromkeys(cols))
        complete = df[cols].notna().all(axis=1)
        data = df.loc[complete, cols]
        change = False
        for b in list(factors):
            counts = _levels_count(data[b])
            if len(counts) < 2:
                reason = "constant"
            elif threshold is not None and int(counts.min()) < threshold:
                reason = "small"
            else:
                continue
            factors.remove(b)
            dropped[b] = reason
            change = True
        for p in list(l2):
            if pd.to_numeric(data[p], errors="coerce").nunique() < 2:
                l2.remove(p)
                dropped[p] = "constant"
                change = True
        if not change:
            break
    terms = [_q(d) for d in domains] + [f"C({_q(b)})" for b in factors] + [_q(p) for p in l2]
    data = data.copy()
    for b in factors:  # categories only from the people in the model, so no empty level enters
        col = data[b]
        if isinstance(col.dtype, pd.CategoricalDtype):
            data[b] = col.cat.remove_unused_categories()
    for c in [outcome, *domains, *l2]:
        data[c] = pd.to_numeric(pd.Series(np.asarray(data[c], dtype=object), index=data.index), errors="coerce")
    return ModelDesign(data=data, formula=f"{_q(outcome)} ~ " + " + ".join(terms), outcome=outcome,
                       domains=tuple(domains), factors=tuple(factors), level2=tuple(l2), cluster=cluster,
                       dropped=dropped, n_incomplete=int(len(df) - len(data)), threshold=threshold)


# ------------------------------------------------------------------ labels

_SM_LEVEL = re.compile(r"^(C\(.+\))\[T\.(.*)\]$")


def _r_style(name: str) -> str:
    """statsmodels' ``C(gender)[T.2]`` / ``Intercept`` as R names them: ``C(gender)2`` / ``(Intercept)``."""
    if name == "Intercept":
        return "(Intercept)"
    m = _SM_LEVEL.match(name)
    return f"{m.group(1)}{m.group(2)}" if m else name


def _code(text: str) -> Any:
    try:
        f = float(text)
    except ValueError:
        return text
    return int(f) if f.is_integer() else f


def term_labels(names: Sequence[str], *, codebook: Any = None, lang: str = "en",
                labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """Readable labels for model terms: ``{term: label}``.

    ``(Intercept)`` -> ``Intercept``; a scale or item of ``codebook`` -> its label in
    ``lang``; a factor level ``C(gender)2`` -> ``"Gender: Woman"`` (the item's label and
    the option's label); ``labels`` gives labels for other columns (facility predictors).
    Terms that cannot be labelled keep their name.

    References
    ----------
    Chambers JM, Hastie TJ (1992). Statistical Models in S. Wadsworth & Brooks/Cole,
    Pacific Grove (R's coefficient names: the factor followed by its level, ``C(sex)2``;
    statsmodels/patsy write ``C(sex)[T.2]``, read here too); labels from the codebook format
    of docs/DESIGN.md, "Codebook (instrument) format".

    Examples
    --------
    >>> term_labels(["(Intercept)", "C(sex)2", "occupancy"], labels={"sex": "Sex", "occupancy": "Occupancy"})
    {'(Intercept)': 'Intercept', 'C(sex)2': 'Sex: 2', 'occupancy': 'Occupancy'}
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}}]})
    >>> term_labels(["C(sex)[T.2]"], codebook=cb)
    {'C(sex)[T.2]': 'Sex: Woman'}
    """
    return {name: term_label(codebook, _r_style(str(name)), lang, labels) for name in names}


# ------------------------------------------------------------------ fitting

_SENTENCES = {
    "collinear": "The model cannot be estimated: some of its predictors are exact combinations of others.",
    "separation": ("The yes/no model cannot be estimated: some predictors separate the two outcomes perfectly, so "
                   "the odds ratios would be infinite."),
    "convergence": "The model did not converge, so its estimates are not shown.",
    "clusters": "There are too few clusters, or too few people in them, for a multilevel model.",
    "constant": "The outcome takes a single value among the people in the model, so there is nothing to model.",
    "one_side": "Everyone in the model is on the same side of the cut, so the yes/no model cannot be fitted.",
    "no_rows": "No one has every part of the model answered, so it cannot be fitted.",
    "other": "The model cannot be estimated from these data.",
}


def _classify(message: str) -> str:
    m = message.lower()
    if "rank deficient" in m or "collinear" in m or "singular system" in m:
        return "collinear"
    if "separation" in m or "extreme" in m:
        return "separation"
    if "single class" in m:
        return "one_side"
    if "constant" in m:
        return "constant"
    if "no complete rows" in m or "no rows" in m:
        return "no_rows"
    if "level(s)" in m or "group has a single" in m or "random effects for" in m or "single cluster" in m:
        return "clusters"
    return "other"


@dataclasses.dataclass(frozen=True, eq=False)
class ModelFit:
    """A fitted model of a :class:`ModelDesign`.

    ``result`` is the underlying fit (a :class:`~veplab.models.MixedLinearResult`,
    :class:`~veplab.models.MixedLogitResult`, :class:`~veplab.models.LogitResult` or
    :class:`~veplab.models.LinearResult`), read by :func:`veplab.privacy.model_disclosure`; ``table``
    holds one row per term, indexed by its readable label (``estimate, se, ci_low,
    ci_high, p``, and ``odds_ratio, or_ci_low, or_ci_high`` for yes/no models);
    ``variance`` the variance components of a multilevel model (else ``None``);
    ``notes`` sentences (without digits) to show with it.
    """

    result: Any
    kind: str          # "mixed" or "single"
    family: str        # "gaussian" or "binomial"
    n: int
    n_groups: int | None
    terms: pd.DataFrame
    table: pd.DataFrame
    variance: pd.DataFrame | None
    notes: tuple[str, ...]
    df_resid: float

    def tidy(self) -> pd.DataFrame:
        """``term, estimate, se`` with R-style term names (for :func:`~veplab.missing.pool`)."""
        return self.terms[["term", "estimate", "se"]].copy()

    def check(self, threshold: int) -> str | None:
        """``None`` when the model may be published, else the sentence saying why not
        (:func:`veplab.privacy.model_disclosure`: residual degrees of freedom, factor
        categories and outcome levels against the threshold)."""
        return disclosure_sentence(self.result, threshold)


def disclosure_sentence(result: Any, threshold: int) -> str | None:
    """``None`` when ``result`` (a fit or a list of fits) passes the model check, else one sentence.

    The check is :func:`veplab.privacy.model_disclosure`: residual degrees of freedom
    ``n - p`` of at least ``threshold``, every category of a factor and every outcome level
    held by at least ``threshold`` people.  The sentence holds no digits, so a page can show
    it in place of the model.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester.
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs. Safe Data Access
    Professionals Working Group (regression output: residual degrees of freedom).
    docs/DESIGN.md, "Privacy" (run-time text in a published artefact).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"prison": np.repeat([f"P{i}" for i in range(10)], 20), "sex": np.tile([1, 2], 100),
    ...                   "push": rng.normal(size=200)})
    >>> d["support"] = 0.5 * d["push"] + np.repeat(rng.normal(scale=0.6, size=10), 20) + rng.normal(size=200)
    >>> fit = fit_model(model_design(d, outcome="support", domains=["push"], breakdowns=["sex"]))
    >>> disclosure_sentence(fit.result, 10) is None
    True
    >>> disclosure_sentence(fit.result, 150)     # each sex holds 100 people
    'The model is not published: a group of one of its factors has fewer people than the disclosure threshold.'
    """
    from ..privacy.outputs import model_disclosure

    chk = model_disclosure(result, threshold=threshold)
    if chk.ok:
        return None
    reasons = " ".join(chk.reasons)
    if "outcome level" in reasons:
        return ("The model is not published: one of the two outcomes is held by fewer people than the disclosure "
                "threshold.")
    if "category" in reasons or "cell" in reasons:
        return ("The model is not published: a group of one of its factors has fewer people than the disclosure "
                "threshold.")
    if "degrees of freedom" in reasons:
        return "The model is not published: it has too few people for the number of its parameters."
    return "The model is not published: the disclosure check cannot read it."


def fit_model(design: ModelDesign, *, cut: float | None = None, ci: float = 0.95, codebook: Any = None,
              lang: str = "en", labels: Mapping[str, str] | None = None) -> ModelFit:
    """Fit the model of ``design``: linear, or yes/no (``outcome >= cut``) when ``cut`` is given.

    With ``design.cluster``: random intercept by cluster, REML for the linear model
    (``lme4::lmer(y ~ ... + (1 | cluster))``), Laplace for the yes/no model
    (``lme4::glmer(..., family = binomial)``).  Without: ordinary least squares with HC1
    standard errors (``lm`` + ``sandwich::vcovHC(type = "HC1")``), or logistic
    regression with HC1 standard errors (:func:`~veplab.models.logit`, ``robust=True``).

    Raises :class:`ModelNotRun` (with a sentence for the page) when the model has no
    rows, a constant outcome, collinear predictors, separation, too few clusters, or when
    the multilevel fit does not converge.  A singular fit (the between-cluster variance
    estimated at zero) is kept, with a note.

    The multilevel models, for person ``i`` in cluster ``j``::

        y_ij = x_ij' beta + u_j + e_ij,  u_j ~ N(0, tau^2),  e_ij ~ N(0, sigma^2)
        logit P(y_ij >= cut) = x_ij' beta + u_j

    and without a cluster ``y_i = x_i' beta + e_i`` (HC1 covariance
    ``n / (n - p) (X'X)^-1 X' diag(e_i^2) X (X'X)^-1``).

    References
    ----------
    Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
    using lme4. Journal of Statistical Software 67(1), 1-48.
    Snijders TAB, Bosker RJ (2012). Multilevel Analysis, 2nd ed. Sage, London, chapters 4
    and 17.
    MacKinnon JG, White H (1985). Some heteroskedasticity-consistent covariance matrix
    estimators with improved finite sample properties. Journal of Econometrics 29, 305-325.
    Long JS, Ervin LH (2000). Using heteroscedasticity consistent standard errors in the
    linear regression model. The American Statistician 54, 217-224.
    Wraps :func:`~veplab.models.mixed_linear` (R ``lme4::lmer``),
    :func:`~veplab.models.mixed_logit` (``lme4::glmer``), :func:`~veplab.models.linear`
    (``lm`` with ``sandwich::vcovHC(type = "HC1")``) and :func:`~veplab.models.logit`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"prison": np.repeat([f"P{i}" for i in range(10)], 20), "sex": np.tile([1, 2], 100),
    ...                   "push": rng.normal(size=200)})
    >>> d["support"] = 0.5 * d["push"] + np.repeat(rng.normal(scale=0.6, size=10), 20) + rng.normal(size=200)
    >>> des = model_design(d, outcome="support", domains=["push"], breakdowns=["sex"], cluster="prison")
    >>> fit = fit_model(des)
    >>> fit.kind, fit.n, fit.n_groups
    ('mixed', 200, 10)
    >>> fit.table["estimate"].round(2).to_dict()
    {'Intercept': -0.08, 'push': 0.52, 'sex: 2': 0.19}
    >>> fit.variance["vcov"].round(3).tolist()       # between clusters, residual
    [0.518, 0.79]
    >>> fit_model(des, cut=0.5).table.columns.tolist()
    ['odds_ratio', 'or_ci_low', 'or_ci_high', 'p']
    """
    from ..models.mixed import ConvergenceWarning, SingularFitWarning, mixed_linear, mixed_logit
    from ..models.regression import linear, logit

    data = design.data
    family = "gaussian" if cut is None else "binomial"
    formula = design.formula
    if design.n == 0:
        raise ModelNotRun("fit_model: no complete rows", _SENTENCES["no_rows"])
    if cut is not None:
        y = f"{design.outcome}_yes"
        data = data.assign(**{y: (data[design.outcome] >= cut).astype(float)})
        formula = f"{_q(y)} ~ {design.rhs}"
        if data[y].nunique() < 2:
            raise ModelNotRun("fit_model: every outcome on one side of the cut", _SENTENCES["one_side"])
    elif data[design.outcome].nunique() < 2:
        raise ModelNotRun("fit_model: constant outcome", _SENTENCES["constant"])
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res: Any  # see ModelFit.result
            if design.cluster:
                fitter = mixed_linear if cut is None else mixed_logit
                res = fitter(data, formula, design.cluster, ci=ci)
                tab = res.fixed_effects.copy()
                df_resid = float(res.n - res.npar)
                n_groups = int(res.n_groups)
                variance = res.variance_components.copy()
                variance["group"] = variance["group"].map(
                    lambda g: "Between clusters" if g == design.cluster else
                    "Residual (within clusters)" if g == "Residual" else g)
            elif cut is None:
                res = linear(data, formula, vcov="HC1", ci=ci)
                tab = res.coefficients.copy()
                df_resid = float(res.df_resid)
                n_groups, variance = None, None
            else:
                res = logit(data, formula, robust=True, ci=ci)
                tab = res.coefficients.copy()
                df_resid = float(res.df_resid)
                n_groups, variance = None, None
        except ModelNotRun:
            raise
        except (InputError, np.linalg.LinAlgError) as exc:
            raise ModelNotRun(f"fit_model: {exc}", _SENTENCES[_classify(str(exc))]) from None
    for w in caught:
        if issubclass(w.category, ConvergenceWarning) or "did not converge" in str(w.message):
            raise ModelNotRun(f"fit_model: {w.message}", _SENTENCES["convergence"])
        if issubclass(w.category, SingularFitWarning):
            notes.append("The variance between clusters is estimated at zero (a singular fit): the clusters differ "
                         "no more than chance would make them.")
        elif "single respondent" in str(w.message):
            notes.append("Many clusters hold a single person, so the variance between clusters rests on the others.")
    tab = tab.reset_index(drop=True)
    lab = term_labels(list(tab["term"]), codebook=codebook, lang=lang, labels=labels)
    cols = ["estimate", "se", "ci_low", "ci_high", "p"]
    if family == "binomial":
        if "odds_ratio" not in tab.columns:
            tab["odds_ratio"] = np.exp(tab["estimate"])
            tab["or_ci_low"] = np.exp(tab["ci_low"])
            tab["or_ci_high"] = np.exp(tab["ci_high"])
        cols = ["odds_ratio", "or_ci_low", "or_ci_high", "p"]
    table = tab[cols].copy()
    table.index = pd.Index([lab[t] for t in tab["term"]], name="Term")
    return ModelFit(result=res, kind="mixed" if design.cluster else "single", family=family, n=int(design.n),
                    n_groups=n_groups, terms=tab, table=table, variance=variance, notes=tuple(dict.fromkeys(notes)),
                    df_resid=df_resid)


def imputation_sensitivity(df: pd.DataFrame, design: ModelDesign, fit: ModelFit, *, codebook: Any, m: int,
                           seed: int | None, items: Sequence[str], lang: str = "en",
                           labels: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, list[ModelFit]]:
    """The model of ``design`` on complete cases (``fit``) and on ``m`` imputed data sets, side by side.

    Don't-know and refused answers are treated as missing at random and imputed by
    chained equations (:func:`~veplab.missing.impute`, predictive mean matching);
    not-applicable answers stay missing (the reasons come from the data's reason
    columns, :mod:`veplab.data.reasons`, which survive the facility merge); the
    scale scores are recomputed from the imputed ``items`` (passive imputation), the
    breakdowns and facility predictors in the imputation model; each completed data set
    is fitted with the same formula and the estimates are pooled by Rubin's rules
    (:func:`~veplab.missing.pool`, as ``mice::pool``).

    Returns the table (one row per term: ``complete_cases, complete_ci_low,
    complete_ci_high, imputed, imputed_ci_low, imputed_ci_high, fmi``) and the fits on
    the completed data (for the disclosure check).  Raises :class:`ModelNotRun` when an
    imputed data set cannot be fitted or pooled (e.g. a category absent from one of them).

    The pooled estimate of each term is Rubin's (``Q_l``, ``U_l`` the estimate and squared
    standard error in completed data set ``l``)::

        Qbar = mean(Q_l),  T = mean(U_l) + (1 + 1/m) var(Q_l)

    with Barnard-Rubin degrees of freedom; ``fmi`` is the fraction of missing information.

    References
    ----------
    Rubin DB (1987). Multiple Imputation for Nonresponse in Surveys. Wiley, New York.
    Barnard J, Rubin DB (1999). Small-sample degrees of freedom with multiple imputation.
    Biometrika 86, 948-955.
    van Buuren S, Groothuis-Oudshoorn K (2011). mice: Multivariate imputation by chained
    equations in R. Journal of Statistical Software 45(3), 1-67.
    Wraps :func:`~veplab.missing.impute` (R ``mice::mice``) and :func:`~veplab.missing.pool`
    (``mice::pool``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {1: "Disagree", 2: "Neutral", 3: "Agree"}
    >>> cb = from_dict({"id": "pp", "title": "t", "id_column": "id", "items": [
    ...     {"id": c, "label": c, "type": "likert", "options": opts} for c in ("p1", "p2", "o1", "o2")],
    ...     "scales": [{"id": "push", "label": "Push", "items": ["p1", "p2"]},
    ...                {"id": "out", "label": "Support", "items": ["o1", "o2"]}]})
    >>> rng = np.random.default_rng(2)
    >>> z = rng.normal(size=80)
    >>> x = pd.DataFrame({c: np.clip(np.round(2 + 0.8 * z + rng.normal(scale=0.7, size=80)), 1, 3)
    ...                   for c in ("p1", "p2", "o1", "o2")})
    >>> x.loc[::9, "p2"] = np.nan                          # 9 people did not answer p2
    >>> x["push"], x["out"] = x[["p1", "p2"]].mean(axis=1, skipna=False), x[["o1", "o2"]].mean(axis=1)
    >>> des = model_design(x, outcome="out", domains=["push"])
    >>> tab, fits = imputation_sensitivity(x, des, fit_model(des), codebook=cb, m=3, seed=1,
    ...                                    items=["p1", "p2", "o1", "o2"])
    >>> des.n, len(fits), tab.columns.tolist()[:4]
    (71, 3, ['complete_cases', 'complete_ci_low', 'complete_ci_high', 'imputed'])
    """
    from ..missing.imputation import impute, pool

    if m < 2:
        raise ModelNotRun("imputation_sensitivity: m < 2", "Rubin's rules need at least two imputations.")
    scales = [design.outcome, *design.domains]
    columns = list(dict.fromkeys([*items, *scales, *design.factors, *design.level2]))
    keep = list(dict.fromkeys(columns + ([design.cluster] if design.cluster else [])))
    from ..data.reasons import with_reasons

    frame = df[with_reasons(df, keep)]  # why answers are missing decides which cells stay missing
    try:
        imp = impute(frame, m=m, seed=seed, columns=columns, dont_know="missing", refused="missing",
                     codebook=codebook)
    except InputError as exc:
        raise ModelNotRun(f"impute: {exc}", "The answers could not be imputed, so the sensitivity analysis is not "
                          "shown.") from None
    fits = []
    for completed in imp:
        cols = list(design.data.columns)
        sub = completed[cols].dropna()
        for b in design.factors:
            if isinstance(sub[b].dtype, pd.CategoricalDtype):
                sub[b] = sub[b].cat.remove_unused_categories()
        d = dataclasses.replace(design, data=sub)
        fits.append(fit_model(d, codebook=codebook, lang=lang, labels=labels))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pooled = pool(fits).table.set_index("term")
    except InputError as exc:
        raise ModelNotRun(f"pool: {exc}", "The imputed data sets do not all hold every group of the model's "
                          "factors, so their estimates cannot be pooled.") from None
    cc = fit.terms.set_index("term")
    terms = list(cc.index)
    lab = term_labels(terms, codebook=codebook, lang=lang, labels=labels)
    out = pd.DataFrame({
        "complete_cases": cc["estimate"], "complete_ci_low": cc["ci_low"], "complete_ci_high": cc["ci_high"],
        "imputed": pooled["estimate"].reindex(terms), "imputed_ci_low": pooled["ci_low"].reindex(terms),
        "imputed_ci_high": pooled["ci_high"].reindex(terms), "fmi": pooled["fmi"].reindex(terms)}, index=terms)
    out.index = pd.Index([lab[t] for t in terms], name="Term")
    return out, fits


# ------------------------------------------------------------------ agreement with one item


def agree_code(codes: Sequence[int]) -> int | None:
    """The lowest code above the middle of an agreement scale (4 on 1..5, 3 on 1..4, 5 on 1..7).

    With the codes ``c_1 < ... < c_K``::

        agree_code = min {c_k : c_k > (c_1 + c_K) / 2}

    (``None`` for fewer than two codes).

    References
    ----------
    Likert R (1932). A technique for the measurement of attitudes. Archives of Psychology
    22(140), 1-55 (agreement scales with a neutral middle).
    The cut ``agree_at`` of :func:`veplab.descriptives.endorsement`.

    Examples
    --------
    >>> agree_code([1, 2, 3, 4, 5]), agree_code([1, 2, 3, 4]), agree_code([1])
    (4, 3, None)
    """
    codes = sorted(codes)
    if len(codes) < 2:
        return None
    mid = (codes[0] + codes[-1]) / 2
    above = [c for c in codes if c > mid]
    return above[0] if above else None


def top_item_agreement(df: pd.DataFrame, codebook: Any, scale: str, *, lang: str = "en",
                       ci: float = 0.95, design: Any = None) -> dict[str, Any] | None:
    """The share agreeing with the most-endorsed item of ``scale``, with its Wilson interval.

    With ``design`` (a :class:`veplab.survey.SurveyDesign` over the rows of ``df``) the share
    is design-based (``svyciprop``, logit interval) and the result has its ``deff``; ``n`` and
    ``n_agree`` stay unweighted (:func:`~veplab.descriptives.endorsement`).

    Agreeing is answering an option above the middle of the item's scale (:func:`agree_code`);
    reverse-keyed items are left out (agreeing with them means the opposite), and so are quiz items
    with a right answer (``key:``; their options are answers, not degrees of agreement).  Returns
    ``{"item", "text", "agree_label", "estimate", "ci_low", "ci_high", "n", "n_agree"}``,
    or ``None`` when no item of the scale has coded options.

    The share agreeing with item ``j`` and its Wilson interval (``z`` the normal quantile)::

        p_j = #{answers >= agree_code} / n_j
        ci = (p + z^2/(2n) -/+ z sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association 22, 209-212.
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, section 2.3.1
    (with ``design``).
    Wraps :func:`~veplab.descriptives.endorsement`: R ``prop.test(x, n, correct = FALSE)``,
    or ``survey::svyciprop(method = "logit")`` with a design.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {1: "Disagree", 2: "Neutral", 3: "Agree"}
    >>> cb = from_dict({"id": "pp", "title": "t", "id_column": "id", "items": [
    ...     {"id": "g1", "label": "Prison is unfair", "type": "likert", "options": opts},
    ...     {"id": "g2", "label": "Guards are unfair", "type": "likert", "options": opts},
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}}],
    ...     "scales": [{"id": "grievance", "label": "Grievance", "items": ["g1", "g2"]}]})
    >>> x = pd.DataFrame({"g1": [3, 3, 2, 1, 3, 3, 2, 3], "g2": [1, 2, 2, 1, 3, 1, 2, 1], "sex": [1, 1, 1, 1, 2, 2, 2, 2]})
    >>> top = top_item_agreement(x, cb, "grievance")
    >>> top["item"], top["agree_label"], top["n_agree"], top["n"], round(top["estimate"], 3)
    ('g1', 'Agree', 5, 8, 0.625)
    >>> round(top["ci_low"], 3), round(top["ci_high"], 3)
    (0.306, 0.863)
    """
    from ..descriptives.shares import endorsement

    best = None
    for item_id in codebook.scale(scale).items:
        item = codebook.item(item_id)
        if item.reverse or item.key is not None or not item.options or item_id not in df.columns:
            continue
        cut = agree_code(item.codes)
        if cut is None:
            continue
        # a coded item's agreement is a share also when its codes are plain numbers (not load's categoricals)
        tab = endorsement(df, item_id, by=[], agree_at=cut, ci=ci, design=design, kind="share").table
        row = tab.iloc[0]
        if int(row["n"]) == 0 or not math.isfinite(float(row["estimate"])):
            continue
        if best is None or float(row["estimate"]) > best["estimate"]:
            best = {"item": item_id, "text": item.text(lang), "agree_label": item.option_text(cut, lang),
                    "estimate": float(row["estimate"]), "ci_low": float(row["ci_low"]),
                    "ci_high": float(row["ci_high"]), "n": int(row["n"]), "n_agree": int(row["n_agree"])}
            if design is not None:
                best["deff"] = float(row["deff"])
    return best


# ------------------------------------------------------------------ the other parts of the analysis


def facility_labels(predictors: Mapping[str, str], codebook: Any = None, lang: str = "en") -> dict[str, str]:
    """Labels of facility predictors: a single column's codebook label, else ``name (expression)``.

    References
    ----------
    The facility predictors declared in docs/DESIGN.md, "A study is declared, not coded" (``analyses: push_pull`` and
    ``design:`` name the sources, scales, breakdowns and cluster);
    labels from the codebook format of DESIGN.md, "Codebook (instrument) format".

    Examples
    --------
    >>> facility_labels({"occupancy": "population / capacity"})
    {'occupancy': 'occupancy (population / capacity)'}
    """
    out = {}
    for name, expr in predictors.items():
        col = str(expr).strip()
        if codebook is not None and any(s.id == col for s in getattr(codebook, "scales", ())):
            out[name] = codebook.scale(col).text(lang)
        elif codebook is not None and col in codebook:
            out[name] = codebook.item(col).text(lang)
        elif col == name:
            out[name] = name
        else:
            out[name] = f"{name} ({col})"
    return out


def endorsement_tables(df: pd.DataFrame, variables: Sequence[str], by: Sequence[str], *, codebook: Any,
                       threshold: int, lang: str = "en", design: Any = None
                       ) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, list[str]]:
    """Mean scores of ``variables`` overall and by each breakdown of ``by``, ready to publish.

    Returns ``(wide, tidy, single)``: ``wide[b]`` has one row per variable (its label) and
    one column per group of breakdown ``b`` (``"overall"``: one column), each mean resting
    on the group's people who answered the variable; a mean resting on fewer than
    ``threshold`` people is blank, with secondary suppression within the breakdown, as
    :func:`~veplab.descriptives.shares` does (group sizes are not in these tables: a
    second table of the same groups with other counts could give a small difference
    away).  ``tidy`` is the endorsement table itself, with the same suppression (group
    labels from the codebook, ``n`` and t intervals); ``single`` lists the breakdowns with
    fewer than two groups in the data (no table is made for them).  With ``design`` (a
    :class:`veplab.survey.SurveyDesign` over the rows of ``df``) every mean is design-based,
    each group a domain of the whole design, with its ``deff`` in ``tidy``; ``n`` and the
    suppression stay unweighted.

    The mean of group ``g`` (``n_g`` people answered) and its t interval::

        mean_g = sum_(i in g) y_i / n_g,  ci = mean_g -/+ t(n_g - 1) s_g / sqrt(n_g)

    shown only when ``n_g >= threshold`` (primary and secondary suppression).

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (threshold rule,
    secondary suppression).
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley (domain means,
    with ``design``).
    Wraps :func:`~veplab.descriptives.endorsement`: R ``t.test(x)$conf.int``, or
    ``survey::svyby(~y, ~g, design, svymean)`` with a design.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {1: "Disagree", 2: "Neutral", 3: "Agree"}
    >>> cb = from_dict({"id": "pp", "title": "t", "id_column": "id", "items": [
    ...     {"id": "g1", "label": "Prison is unfair", "type": "likert", "options": opts},
    ...     {"id": "g2", "label": "Guards are unfair", "type": "likert", "options": opts},
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}}],
    ...     "scales": [{"id": "grievance", "label": "Grievance", "items": ["g1", "g2"]}]})
    >>> x = pd.DataFrame({"g1": [3, 3, 2, 1, 3, 3, 2, 3], "g2": [1, 2, 2, 1, 3, 1, 2, 1], "sex": [1, 1, 1, 1, 2, 2, 2, 2]})
    >>> x["grievance"] = x[["g1", "g2"]].mean(axis=1)
    >>> wide, tidy, single = endorsement_tables(x, ["grievance"], ["sex"], codebook=cb, threshold=3)
    >>> wide["sex"].round(3)
    Sex          Man  Woman
    Grievance  1.875   2.25
    >>> wide, _, _ = endorsement_tables(x, ["grievance"], ["sex"], codebook=cb, threshold=5)
    >>> bool(wide["sex"].isna().all(axis=None))      # 4 people per group: below the threshold
    True
    """
    from ..descriptives.shares import endorsement

    variables = list(variables)
    usable = [b for b in by if _levels_count(df[b]).size >= 2]
    single = [b for b in by if b not in usable]
    gated = endorsement(df, variables, by=usable, labels=codebook, lang=lang, threshold=threshold,
                        design=design).table
    label = {v: term_labels([v], codebook=codebook, lang=lang)[v] for v in variables}
    wide: dict[str, pd.DataFrame] = {}
    for var in ["overall", *usable]:
        part = gated[gated["group_var"] == var]
        groups = list(dict.fromkeys(part["group"]))
        tab = part.pivot_table(index="variable", columns="group", values="estimate", sort=False, dropna=False)
        tab = tab.reindex(index=variables, columns=groups)
        tab.index = pd.Index([label[v] for v in variables], name=None)
        tab.columns = pd.Index([str(g) for g in groups],
                               name=codebook.item(var).text(lang) if var != "overall" and var in codebook else None)
        wide[var] = tab.astype(float)
    return wide, gated, single


def compare_two_groups(df: pd.DataFrame, variables: Sequence[str], group: str, *, codebook: Any,
                       threshold: int | None = None, lang: str = "en") -> tuple[pd.DataFrame, str, str]:
    """Every variable compared between the two groups of ``group`` (:func:`~veplab.descriptives.compare_groups`).

    Returns the table indexed by the variables' labels and the option labels of the
    reference (first) and focal (second) group.  :class:`ModelNotRun` when ``group`` does
    not hold exactly two groups, or (with ``threshold``) when either group has fewer
    people than the disclosure threshold (every row of the table describes both groups).

    The statistics of :func:`~veplab.descriptives.compare_groups`, focal minus reference::

        diff = mean_focal - mean_ref,  delta = P(focal > ref) - P(focal < ref)

    with the Welch t test, Hedges' g and the Mann-Whitney test.

    References
    ----------
    Welch BL (1947). The generalization of 'Student's' problem when several different
    population variances are involved. Biometrika 34, 28-35.
    Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press,
    Orlando.
    Cliff N (1993). Dominance statistics: ordinal analyses to answer ordinal questions.
    Psychological Bulletin 114, 494-509.
    As R ``t.test``, ``wilcox.test`` and ``effsize::cohen.d``/``cliff.delta``
    (tests/reference/factors_regression.R).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {1: "Disagree", 2: "Neutral", 3: "Agree"}
    >>> cb = from_dict({"id": "pp", "title": "t", "id_column": "id", "items": [
    ...     {"id": "g1", "label": "Prison is unfair", "type": "likert", "options": opts},
    ...     {"id": "g2", "label": "Guards are unfair", "type": "likert", "options": opts},
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}}],
    ...     "scales": [{"id": "grievance", "label": "Grievance", "items": ["g1", "g2"]}]})
    >>> x = pd.DataFrame({"g1": [3, 3, 2, 1, 3, 3, 2, 3], "g2": [1, 2, 2, 1, 3, 1, 2, 1], "sex": [1, 1, 1, 1, 2, 2, 2, 2]})
    >>> x["grievance"] = x[["g1", "g2"]].mean(axis=1)
    >>> cmp, ref, focal = compare_two_groups(x, ["grievance"], "sex", codebook=cb)
    >>> ref, focal, float(cmp.loc["Grievance", "diff"]), float(cmp.loc["Grievance", "cliff_delta"])
    ('Man', 'Woman', 0.375, 0.25)
    """
    from ..descriptives.shares import compare_groups

    counts = _levels_count(df[group])
    if len(counts) != 2:
        raise ModelNotRun(f"compare_two_groups: {group!r} has {len(counts)} groups",
                          f"The comparison needs exactly two groups in "
                          f"{without_digits(_label(codebook, group, lang), 'the comparison column')}, and the data "
                          "hold another number, so it is not shown.")
    if threshold is not None and int(counts.min()) < threshold:
        raise ModelNotRun(f"compare_two_groups: a group of {group!r} has {int(counts.min())} people",
                          "One of the two groups has fewer people than the disclosure threshold, so the "
                          "comparison is not shown.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare_groups(df, list(variables), group)
    cmp, ref, focal = res.to_frame(), res.reference, res.focal
    lab = term_labels(list(variables), codebook=codebook, lang=lang)
    cmp.index = pd.Index([lab[v] for v in cmp["variable"]], name=None)
    return cmp, option_label(codebook, group, ref, lang), option_label(codebook, group, focal, lang)


def _label(codebook: Any, col: str, lang: str) -> str:
    if codebook is not None and col in codebook:
        return codebook.item(col).text(lang)
    return col


def icc_by_cluster(df: pd.DataFrame, outcome: str, cluster: str) -> Any:
    """The share of the outcome's variance between clusters (:func:`~veplab.models.icc_null`);
    :class:`ModelNotRun` when the null model cannot be fitted.

    From the null model ``y_ij = mu + u_j + e_ij`` fitted by REML::

        ICC = tau^2 / (tau^2 + sigma^2)

    References
    ----------
    Snijders TAB, Bosker RJ (2012). Multilevel Analysis, 2nd ed. Sage, London, section 3.3.
    Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
    using lme4. Journal of Statistical Software 67(1), 1-48.
    Wraps :func:`~veplab.models.icc_null`: R ``lme4::lmer(y ~ 1 + (1 | cluster))``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"prison": np.repeat([f"P{i}" for i in range(10)], 20), "sex": np.tile([1, 2], 100),
    ...                   "push": rng.normal(size=200)})
    >>> d["support"] = 0.5 * d["push"] + np.repeat(rng.normal(scale=0.6, size=10), 20) + rng.normal(size=200)
    >>> res = icc_by_cluster(d, "support", "prison")
    >>> round(res.estimate, 3), res.n_groups
    (0.335, 10)
    """
    from ..models.mixed import icc_null

    data = df[[outcome, cluster]].dropna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return icc_null(data, outcome, cluster)
        except (InputError, np.linalg.LinAlgError) as exc:
            raise ModelNotRun(f"icc_null: {exc}", _SENTENCES[_classify(str(exc))]) from None


def typology(df: pd.DataFrame, items: Sequence[str], *, subject: str | None, rater: str | None,
             max_classes: int, seed: int | None, n_starts: int = 20) -> Any:
    """Latent classes of ``items`` (:func:`~veplab.latent_classes.latent_classes`, ``poLCA``), one row per case.

    With several ratings per case (``subject`` repeated), each case's first rating is
    used: the one of the lowest ``rater`` id.  Classes 1 to ``max_classes`` are fitted and
    the number chosen by BIC.  :class:`ModelNotRun` when no model can be fitted.

    The latent class model for the answers ``y_ij`` of case ``i`` to item ``j``::

        P(y_i) = sum_c pi_c prod_j P(y_ij | c),  BIC = -2 log L + npar log n

    References
    ----------
    Goodman LA (1974). Exploratory latent structure analysis using both identifiable and
    unidentifiable models. Biometrika 61, 215-231.
    Linzer DA, Lewis JB (2011). poLCA: an R package for polytomous variable latent class
    analysis. Journal of Statistical Software 42(10), 1-29.
    Schwarz G (1978). Estimating the dimension of a model. Annals of Statistics 6, 461-464.
    Wraps :func:`~veplab.latent_classes.latent_classes` (R ``poLCA::poLCA``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> cls = rng.integers(0, 2, 150)
    >>> x = pd.DataFrame({f"i{j}": (rng.random(150) < np.where(cls == 1, 0.85, 0.15)).astype(int)
    ...                   for j in range(4)})
    >>> lca = typology(x, ["i0", "i1", "i2", "i3"], subject=None, rater=None, max_classes=3, seed=1, n_starts=3)
    >>> lca.k, lca.class_sizes["n_modal"].tolist()
    (2, [79, 71])
    """
    from ..latent_classes.lca import latent_classes

    data = df
    if subject is not None and subject in df.columns:
        order = [subject] + ([rater] if rater is not None and rater in df.columns else [])
        data = df.sort_values(order, kind="stable").drop_duplicates(subject)
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise InputError(f"typology: items {absent} are not columns of the source")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return latent_classes(data, list(items), range(1, max(1, int(max_classes)) + 1), n_starts=n_starts,
                                  seed=seed)
        except InputError as exc:
            raise ModelNotRun(f"latent_classes: {exc}", "No latent class model could be fitted to these "
                              "ratings.") from None


def scale_range(codebook: Any, scales: Sequence[str], lang: str = "en") -> str | None:
    """``"from 1 (Strongly disagree) to 5 (Strongly agree)"`` when every scale's items share
    one set of options (the score of a mean scale lies between them), else ``None``.

    References
    ----------
    Likert R (1932). A technique for the measurement of attitudes. Archives of Psychology
    22(140), 1-55.
    The codebook format of docs/DESIGN.md, "Codebook (instrument) format" (options,
    ``score: mean``).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {1: "Disagree", 2: "Neutral", 3: "Agree"}
    >>> cb = from_dict({"id": "pp", "title": "t", "id_column": "id", "items": [
    ...     {"id": "g1", "label": "Prison is unfair", "type": "likert", "options": opts},
    ...     {"id": "g2", "label": "Guards are unfair", "type": "likert", "options": opts},
    ...     {"id": "sex", "label": "Sex", "type": "categorical", "options": {1: "Man", 2: "Woman"}}],
    ...     "scales": [{"id": "grievance", "label": "Grievance", "items": ["g1", "g2"]}]})
    >>> x = pd.DataFrame({"g1": [3, 3, 2, 1, 3, 3, 2, 3], "g2": [1, 2, 2, 1, 3, 1, 2, 1], "sex": [1, 1, 1, 1, 2, 2, 2, 2]})
    >>> scale_range(cb, ["grievance"])
    'from 1 (Disagree) to 3 (Agree)'
    """
    ends = set()
    for sid in scales:
        scale = codebook.scale(sid)
        if scale.score != "mean":
            return None
        for item_id in scale.items:
            item = codebook.item(item_id)
            if not item.options:
                return None
            lo, hi = item.codes[0], item.codes[-1]
            ends.add((lo, item.option_text(lo, lang), hi, item.option_text(hi, lang)))
    if len(ends) != 1:
        return None
    lo, lo_text, hi, hi_text = ends.pop()
    return f"from {lo} ({lo_text}) to {hi} ({hi_text})"


# ------------------------------------------------------------------ sampled surveys


def design_effect(tidy: pd.DataFrame, variable: str) -> float | None:
    """The design effect of ``variable``'s overall estimate in a design-based endorsement table
    (:func:`endorsement_tables` with ``design=``), or None when it has none.

    >>> t = pd.DataFrame({"variable": ["y"], "group_var": ["overall"], "deff": [2.31]})
    >>> design_effect(t, "y")
    2.31
    """
    if "deff" not in tidy.columns:
        return None
    row = tidy[(tidy["variable"] == variable) & (tidy["group_var"] == "overall")]
    if row.empty or not math.isfinite(float(row["deff"].iloc[0])):
        return None
    return float(row["deff"].iloc[0])


def weighting_comparison(df: pd.DataFrame, variables: Sequence[str], design: Any, *, codebook: Any,
                         lang: str = "en", ci: float = 0.95,
                         truth: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Each variable's overall estimate without and with the survey design, side by side.

    One row per variable (its label): ``n`` (people who answered, unweighted), ``unweighted``
    (the mean or share as if the sample were simple random, :func:`~veplab.descriptives.endorsement`),
    ``weighted`` with its interval ``ci_low``/``ci_high`` and ``deff`` (design-based:
    ``svymean``/``svyciprop`` on ``design``), and, given ``truth`` (``{variable: population
    value}``, e.g. a synthetic study's truth.json), ``truth``.  The difference between the
    two columns is what weighting changes; ``deff`` how much wider the interval is than
    simple random sampling would give.

    References: Kish, L. (1965) *Survey Sampling*, Wiley (design effect); Lumley, T. (2010)
    *Complex Surveys*, Wiley, ch. 2.

    >>> from veplab.survey import SurveyDesign
    >>> d = pd.DataFrame({"y": [1., 2, 3, 4, 5, 6], "w": [1., 1, 1, 3, 3, 3], "psu": [1, 1, 2, 2, 3, 3]})
    >>> t = weighting_comparison(d, ["y"], SurveyDesign(d, weights="w", cluster="psu"), codebook=None)
    >>> t[["n", "unweighted", "weighted"]].round(3).to_numpy().tolist()
    [[6.0, 3.5, 4.25]]
    """
    from ..descriptives.shares import endorsement

    variables = list(variables)
    naive = endorsement(df, variables, by=[], ci=ci).table
    weighted = endorsement(df, variables, by=[], ci=ci, design=design).table
    label = term_labels(variables, codebook=codebook, lang=lang) if codebook is not None else \
        {v: v for v in variables}
    out = pd.DataFrame({
        "n": naive["n"].to_numpy(dtype=float),
        "unweighted": naive["estimate"].to_numpy(dtype=float),
        "weighted": weighted["estimate"].to_numpy(dtype=float),
        "ci_low": weighted["ci_low"].to_numpy(dtype=float),
        "ci_high": weighted["ci_high"].to_numpy(dtype=float),
        "deff": weighted["deff"].to_numpy(dtype=float),
    }, index=pd.Index([label[v] for v in variables], name=None))
    if truth is not None:
        out["truth"] = [float(truth[v]) if truth.get(v) is not None else np.nan for v in variables]
    return out


def group_sizes(df: pd.DataFrame, column: str, groups: Sequence[str], *, codebook: Any = None,
                lang: str = "en") -> list[float]:
    """The number of rows of ``df`` in each group of ``column``, in the order of ``groups`` (their labels as
    :func:`endorsement_tables` writes them); NaN for a label not found.

    >>> group_sizes(pd.DataFrame({"g": [1, 1, 2]}), "g", ["2", "1"])
    [1.0, 2.0]
    """
    from ..descriptives.shares import _levels

    col = df[column]
    sizes = {str(option_label(codebook, column, lev, lang)): float((col == lev).sum()) for lev in _levels(col)}
    return [sizes.get(str(g), np.nan) for g in groups]
