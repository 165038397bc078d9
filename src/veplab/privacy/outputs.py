"""Disclosure checks of model output and figure data (pure functions for the report helpers).

Tables of counts and statistics by group have their rules in
:mod:`.disclosure`.  Two other kinds of output leave a secure environment
and need rules of their own (the practice of output checking in trusted
research environments: **ACRO/SACRO**, the SACRO project's automatic checker
of research outputs; Hundepool et al., *Statistical Disclosure Control*,
Wiley 2012, on the checking of analytical outputs; the ESSnet guidelines for
checking output based on microdata, Brandt et al. 2010):

* **Models** (:func:`model_disclosure`).  A regression describes the people
  it was fitted on.  With few residual degrees of freedom it nearly
  reproduces them (with ``n = k`` parameters, the fitted values *are* the
  data); a coefficient of a category held by a handful of people is their
  mean outcome relative to the reference; a logistic model whose outcome
  level is rare describes the few people who have it.  ACRO refuses a model
  whose residual degrees of freedom are below its ``safe_dof_threshold``
  (default 10); veplab applies that rule with the study's threshold and adds
  the category rule: every category of a categorical predictor, and every
  level of a binary (ordinal, survival) outcome, held by at least
  ``threshold`` people of the estimation sample.  A model veplab cannot read
  is ``ok=False`` with a reason starting ``"cannot check this model"``: it
  waits for a person's review (default deny).

* **Figures** (:func:`figure_data_check`).  A figure is checked through the
  data it is drawn from, and figures must be drawn from aggregated data: a
  scatter plot of people *is* their data (ACRO blocks graph formats it cannot
  read for the same reason).  Data that look like one point per person are
  refused; rows resting on fewer than ``threshold`` people must be hidden
  (the figure redrawn without them).  :func:`binned_counts` is the safe
  replacement for a scatter plot or histogram: a table of binned counts with
  small cells suppressed by :func:`~.disclosure.suppress_counts`.

Survival curves stop where fewer than the threshold remain at risk:
:func:`veplab.outcomes.truncate_at_risk` and ``plot_km(..., min_at_risk=)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError, sorted_levels
from .disclosure import SuppressedTable, check_threshold, count_columns, suppress_counts

__all__ = [
    "ModelCheck",
    "ModelFacts",
    "model_disclosure",
    "FigureCheck",
    "figure_data_check",
    "binned_counts",
    "ROW_FLOOR",
]

#: Figure data with more rows than this (and no count column) look like one point per person.
ROW_FLOOR = 20
#: Rows a figure's data may have without a count column when ``n=`` names the people behind it all.
ROW_FLOOR_WHOLE = 200

_CANNOT = "cannot check this model"


# ====================================================================== models


@dataclasses.dataclass(frozen=True)
class ModelCheck:
    """Outcome of :func:`model_disclosure`.

    Attributes
    ----------
    ok : the model may be published (no rule failed).
    n : unweighted people (rows) in the estimation sample (0 when unknown).
    df_resid : residual degrees of freedom (``n`` minus the parameters), or
        None when the output has none (an AUC).
    smallest_category : the fewest people in any category of a factor (or
        cell of an interaction of factors) or level of the outcome; None when
        the model has none.
    reasons : why it is refused, one plain sentence per failed rule, naming
        the term and category.
    rule : the rule applied, for the release log.
    model : what was checked (``"logistic regression"`` ...).
    n_clusters, smallest_cluster : for mixed models, the number of clusters
        and the people in the smallest (None otherwise).
    notes : things the analyst should know that do not refuse the model
        (e.g. a cluster below the threshold, whose random effect must not be
        published).
    """

    ok: bool
    n: int
    df_resid: float | None
    smallest_category: int | None
    reasons: tuple[str, ...]
    rule: str
    model: str = ""
    n_clusters: int | None = None
    smallest_cluster: int | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (for the release log)."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    def summary(self) -> str:
        head = (f"{self.model or 'model'}: {'passes' if self.ok else 'REFUSED'} "
                f"(n = {self.n}, residual df = {self.df_resid if self.df_resid is not None else '–'}, "
                f"smallest category = {self.smallest_category if self.smallest_category is not None else '–'})")
        lines = [head, *(f"  - {r}" for r in self.reasons), *(f"  note: {x}" for x in self.notes),
                 f"  rule: {self.rule}"]
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.summary()


@dataclasses.dataclass
class ModelFacts:
    """What the rules need, read from one fitted model.

    A result class that :func:`model_disclosure` can check has a method
    ``disclosure_facts()`` returning these (or a string saying why it cannot be
    checked); statsmodels fits are read directly.
    """

    model: str
    n: int
    df_resid: float | None
    factors: Mapping[str, Mapping[Any, float]]
    outcome: tuple[str, Mapping[Any, float]] | None = None
    n_clusters: int | None = None
    cluster_sizes: np.ndarray | None = None
    cluster_name: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


def _rule(threshold: int) -> str:
    return (f"ACRO/SACRO model rule: residual degrees of freedom >= {threshold}; every category of a categorical "
            f"or two-valued predictor (and every cell of an interaction of them) and every level of a binary, "
            f"ordinal or survival outcome held by >= {threshold} people in the estimation sample")


def _fmt_level(level: Any) -> str:
    if isinstance(level, (float, np.floating)) and float(level).is_integer():
        return str(int(level))
    return str(level.item() if isinstance(level, np.generic) else level)


def _people(k: float) -> str:
    k = float(k)
    return f"{int(k)} {'person' if k == 1 else 'people'}" if k.is_integer() else f"{k:g} people"


def model_disclosure(fit: Any, *, threshold: int) -> ModelCheck:
    """Check a fitted model against the output-checking rules for regression output.

    Rule (ACRO/SACRO's regression check, with the category rule of
    output-checking guidance; Hundepool et al. 2012): the model is refused
    when

    1. its residual degrees of freedom (``n`` minus the number of estimated
       parameters) are below ``threshold`` (ACRO: ``dof < safe_dof_threshold``,
       default 10), or
    2. any category of a categorical predictor -- a text, boolean or
       categorical column, ``C()``/``factor()`` in a formula, or a numeric
       column taking exactly two values (an indicator) -- or any cell of an
       interaction of such predictors is held by ``0 < k < threshold`` people
       of the estimation sample, or
    3. either level of the outcome of a logistic model (every level of an
       ordinal outcome; events and censored people of a Cox model; treated
       and comparison people of a propensity model) is held by fewer than
       ``threshold`` people.

    For mixed models the number of clusters and the people in the smallest
    are reported (``n_clusters``, ``smallest_cluster``); a cluster below the
    threshold does not refuse the fixed effects but gets a note: its random
    effect must not be published.  Counts are unweighted rows of the
    estimation sample (after listwise deletion); with frequency weights a row
    counts once (conservative), with ``trials=`` in :func:`mixed_logit` each
    row counts its trials.

    Parameters
    ----------
    fit : a fitted model: any result with a ``disclosure_facts()`` method returning
        :class:`ModelFacts` (veplab's linear, logistic, ordinal and mixed models, Cox,
        propensity and treatment-effect models, ANCOVA, DiD, calibration and AUC results
        have one); a statsmodels results object (OLS, GLM, Logit, Probit, MixedLM ...;
        categories are counted exactly for formula models, from the 0/1 columns of the
        design matrix otherwise); or a list of such fits (the analyses of multiply
        imputed data sets: every fit must pass).
    threshold : the study's disclosure threshold (>= 3).

    Returns
    -------
    :class:`ModelCheck`.  Anything else (a Kaplan-Meier result, a table, an
    unknown model) gives ``ok=False`` with a reason starting ``"cannot check
    this model: ..."`` -- hold it for a person's review.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    Brandt M, Franconi L, Guerke C, Hundepool A, Lucarelli M, Mol J, Ritchie F, Seri G,
    Welpton R (2010). Guidelines for the checking of output based on microdata research.
    ESSnet SDC (Eurostat) (regression output; residual degrees of freedom).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group (section B: assessing types of output).
    ACRO: Automatic Checking of Research Outputs (SACRO project; github.com/AI-SDC/ACRO),
    whose regression check (``safe_dof_threshold``) rule 1 follows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.models import logit
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"x": rng.normal(size=120), "gender": ["1"] * 115 + ["2"] * 5})
    >>> d["y"] = (rng.random(120) < 0.4).astype(int)
    >>> chk = model_disclosure(logit(d, "y ~ x + gender"), threshold=10)
    >>> chk.ok, chk.reasons
    (False, ('category gender=2 of factor gender has 5 people (threshold 10)',))
    """
    threshold = check_threshold(threshold)
    rule = _rule(threshold)
    if isinstance(fit, (list, tuple)):
        if not fit:
            return ModelCheck(False, 0, None, None, (f"{_CANNOT}: an empty list of fits",), rule)
        return _combine([model_disclosure(f, threshold=threshold) for f in fit], rule)
    facts = _facts(fit)
    if isinstance(facts, str):
        n = getattr(fit, "n", 0)
        n = int(n) if isinstance(n, (int, np.integer)) and not isinstance(n, bool) else 0
        return ModelCheck(False, n, None, None, (f"{_CANNOT}: {facts}",), rule, model=type(fit).__name__)
    reasons: list[str] = []
    counts: list[float] = []
    if facts.df_resid is not None and facts.df_resid < threshold:
        reasons.append(
            f"residual degrees of freedom {facts.df_resid:g} are below the threshold {threshold} "
            f"(n = {facts.n}, {facts.n - facts.df_resid:g} parameters): with so few the model nearly reproduces "
            "the data; fit fewer parameters or use more people"
        )
    for name, levels in facts.factors.items():
        for level, k in levels.items():
            if k <= 0:
                continue
            counts.append(float(k))
            if k < threshold:
                if isinstance(level, tuple) and ":" in name:
                    parts = name.split(":")
                    cell = ", ".join(f"{p}={_fmt_level(v)}" for p, v in zip(parts, level))
                    reasons.append(f"cell {cell} of interaction {name} has {_people(k)} (threshold {threshold})")
                else:
                    reasons.append(f"category {name}={_fmt_level(level)} of factor {name} has {_people(k)} "
                                   f"(threshold {threshold})")
    if facts.outcome is not None:
        oname, olevels = facts.outcome
        for level, k in olevels.items():
            if k <= 0:
                continue
            counts.append(float(k))
            if k < threshold:
                reasons.append(f"outcome level {oname}={_fmt_level(level)} has {_people(k)} (threshold {threshold})")
    notes = list(facts.notes)
    smallest_cluster = None
    if facts.cluster_sizes is not None and len(facts.cluster_sizes):
        smallest_cluster = int(np.min(facts.cluster_sizes))
        n_small = int(np.sum(facts.cluster_sizes < threshold))
        if n_small:
            notes.append(
                f"{n_small} of {len(facts.cluster_sizes)} {facts.cluster_name or 'cluster'} clusters have fewer "
                f"than {threshold} people (the smallest {smallest_cluster}): their random effects (rows of "
                f"random_effects() with n below {threshold}) must not be published"
            )
    return ModelCheck(
        ok=not reasons, n=int(facts.n), df_resid=None if facts.df_resid is None else float(facts.df_resid),
        smallest_category=int(min(counts)) if counts else None, reasons=tuple(reasons), rule=rule,
        model=facts.model, n_clusters=facts.n_clusters, smallest_cluster=smallest_cluster, notes=tuple(notes),
    )


def _combine(checks: list[ModelCheck], rule: str) -> ModelCheck:
    def uniq(items: Sequence[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(items))

    dfs = [c.df_resid for c in checks if c.df_resid is not None]
    cats = [c.smallest_category for c in checks if c.smallest_category is not None]
    cls = [c.smallest_cluster for c in checks if c.smallest_cluster is not None]
    return ModelCheck(
        ok=all(c.ok for c in checks), n=min(c.n for c in checks), df_resid=min(dfs) if dfs else None,
        smallest_category=min(cats) if cats else None,
        reasons=uniq([r for c in checks for r in c.reasons]), rule=rule,
        model=f"{len(checks)} fits: " + ", ".join(uniq([c.model for c in checks])),
        n_clusters=checks[0].n_clusters, smallest_cluster=min(cls) if cls else None,
        notes=uniq([x for c in checks for x in c.notes]),
    )


def _facts(fit: Any) -> ModelFacts | str:
    """Read the rules' inputs from a fitted model; a string says why it cannot be read."""
    if type(fit).__module__.startswith("statsmodels"):
        return _statsmodels_facts(fit)
    read = getattr(fit, "disclosure_facts", None)
    if callable(read):
        name = f"{type(fit).__module__}.{type(fit).__name__}"
        try:
            facts = read()
        except Exception as exc:  # noqa: BLE001 - a result that cannot say what it rests on is held
            return f"{name}.disclosure_facts() failed ({type(exc).__name__}: {exc}); hold it for a person's review"
        if isinstance(facts, str):
            return facts
        if not isinstance(facts, ModelFacts):
            return (f"{name}.disclosure_facts() returned a {type(facts).__name__}, not ModelFacts; hold it for a "
                    "person's review")
        if facts.df_resid is not None and not math.isfinite(float(facts.df_resid)):
            return f"{name}: residual degrees of freedom unknown (not a number); hold it for a person's review"
        return facts
    return (f"{type(fit).__module__}.{type(fit).__name__} is not a model veplab knows how to read "
            "(residual degrees of freedom and category counts unknown); hold it for a person's review")


def _statsmodels_facts(fit: Any) -> ModelFacts | str:
    model = getattr(fit, "model", None)
    if model is None or not hasattr(fit, "nobs"):
        return f"{type(fit).__name__} has no fitted model (nobs, model) to read"
    n = int(round(float(fit.nobs)))
    df = getattr(fit, "df_resid", None)
    if df is None:
        params = getattr(fit, "params", None)
        df = n - len(params) if params is not None else None
    name = type(model).__name__
    facts = ModelFacts(f"statsmodels {name}", n, None if df is None else float(df), {})
    # categories: exactly from the formula and the rows used; else from 0/1 columns of the design matrix
    formula = getattr(model, "formula", None)
    frame = getattr(getattr(model, "data", None), "frame", None)
    counted = False
    if isinstance(formula, str) and isinstance(frame, pd.DataFrame):
        try:
            from ..models._formula import design_matrix, formula_variables, split_formula

            _, rhs = split_formula(formula, what="model_disclosure")
            rows = getattr(model.data, "row_labels", None)
            data = frame.loc[rows] if rows is not None else frame
            cols = formula_variables(rhs, data.columns, what="model_disclosure")
            facts.factors = design_matrix(rhs, data[cols], what="model_disclosure").level_counts()
            counted = True
        except Exception:  # noqa: BLE001 - fall back to the design matrix
            counted = False
    if not counted:
        exog = getattr(model, "exog", None)
        if exog is None:
            return f"statsmodels {name} keeps no design matrix to count categories in"
        X = np.asarray(exog, dtype=float)
        names = list(getattr(model, "exog_names", None) or [f"x{j}" for j in range(X.shape[1])])
        factors: dict[str, dict[Any, float]] = {}
        for j in range(X.shape[1]):
            vals, cnt = np.unique(X[:, j], return_counts=True)
            if len(vals) == 2:
                factors[str(names[j])] = {_fmt_level(v): int(c) for v, c in zip(vals, cnt)}
        facts.factors = factors
        if factors:
            facts.notes.append(
                "no formula: categories were counted from the two-valued columns of the design matrix, so the "
                "reference category of a dummy-coded factor was not checked; fit with a formula to check it"
            )
    # binary outcome
    family = getattr(model, "family", None)
    binary = name in ("Logit", "Probit") or (family is not None and type(family).__name__ == "Binomial") \
        or name == "BinomialBayesMixedGLM"
    if binary:
        y = np.asarray(model.endog, dtype=float)
        oname = str(getattr(model, "endog_names", "outcome"))
        if y.ndim == 2 and y.shape[1] == 2:  # (successes, failures)
            facts.outcome = (oname, {1: float(y[:, 0].sum()), 0: float(y[:, 1].sum())})
        elif y.ndim == 1 and np.isin(y, (0.0, 1.0)).all():
            facts.outcome = (oname, {0: int((y == 0).sum()), 1: int((y == 1).sum())})
        else:
            return (f"statsmodels {name}: the binomial outcome is not 0/1 (proportions with weights?), so the "
                    "people per outcome level are unknown")
    # clusters of a mixed model
    row_indices = getattr(model, "row_indices", None)
    if isinstance(row_indices, Mapping) and row_indices:
        facts.cluster_sizes = np.array([len(v) for v in row_indices.values()], dtype=float)
        facts.n_clusters = int(len(row_indices))
        facts.cluster_name = "group"
    return facts


# ====================================================================== figures


@dataclasses.dataclass(frozen=True, eq=False)
class FigureCheck:
    """Outcome of :func:`figure_data_check`.

    Attributes
    ----------
    ok : False when the data look like one point per person (``reasons``
        say why): such a figure cannot be published at all.
    hide : boolean Series aligned with the data's rows: rows resting on
        fewer than ``threshold`` people (a count column between 1 and
        ``threshold - 1``).  They must not be shown: draw the figure from
        :attr:`kept`.
    reasons : why the data are refused (empty when ``ok``).
    notes : what else the analyst must do (rows to hide).
    count_columns : the columns read as counts of people.
    rule : the rule applied, for the release log.
    data : the data checked.
    """

    ok: bool
    hide: pd.Series
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    count_columns: tuple[Any, ...]
    rule: str
    data: pd.DataFrame = dataclasses.field(repr=False)

    @property
    def kept(self) -> pd.DataFrame:
        """The rows that may be drawn (only meaningful when ``ok``)."""
        return self.data.loc[~self.hide.to_numpy(dtype=bool)]

    @property
    def n_hidden(self) -> int:
        return int(self.hide.sum())


def figure_data_check(data: pd.DataFrame, *, threshold: int, n_records: int | None,
                      n: int | None = None) -> FigureCheck:
    """Check the data a figure is drawn from: aggregated, and no row resting on few people.

    Rule (output checking of graphs: a figure is checked through the table
    behind it, and must show aggregates, never individual records -- ACRO
    accepts only figures whose data it has checked; Hundepool et al. 2012):

    * **refused** (``ok=False``) when the data look like one point per
      person: more than ``max(20, n_records / 2)`` rows when ``n_records``
      (the records behind the notebook) is known; or, whatever
      ``n_records``, more than 20 rows of numeric columns and no column
      counting the people behind each row (``n``, ``n_*``, ``*_n``,
      ``events``, ``count`` ...: :func:`~.disclosure.count_columns`), which
      could not be checked anyway;
    * **rows to hide** (``hide``): a count column with a value from 1 to
      ``threshold - 1``: the point, bar or line segment rests on too few
      people.  The whole row is hidden (a point cannot be half drawn).  When
      a single row is hidden and the total is known, it can be recovered:
      :func:`~.disclosure.gate_series` also hides a second row in that case.

    Parameters
    ----------
    data : the figure's data, one row per plotted point, bar or segment.
    threshold : the study's disclosure threshold (>= 3).
    n_records : records in the data behind the notebook (None: unknown).
    n : people behind the whole figure, for data whose rows are not groups of
        people (items, eigenvalues, thresholds of a ROC curve).  Data with no
        count column and no ``n`` cannot be checked (a reason starting
        "cannot check"); with ``n``, up to :data:`ROW_FLOOR_WHOLE` rows.

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group (section B: assessing types of output).
    ACRO: Automatic Checking of Research Outputs (SACRO project; github.com/AI-SDC/ACRO).
    docs/DESIGN.md, section "Privacy" (every figure went through the disclosure gate).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> people = pd.DataFrame({"age": rng.integers(18, 70, 1000), "score": rng.normal(size=1000)})
    >>> figure_data_check(people, threshold=10, n_records=1000).ok
    False
    >>> bars = pd.DataFrame({"prison": ["A", "B", "C"], "n": [40, 4, 25], "mean": [2.1, 3.0, 2.5]})
    >>> chk = figure_data_check(bars, threshold=10, n_records=1000)
    >>> chk.ok, list(chk.kept["prison"])
    (True, ['A', 'C'])
    """
    threshold = check_threshold(threshold)
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"figure_data_check: expected a DataFrame of figure data, got {type(data).__name__}")
    if n_records is not None and (isinstance(n_records, bool) or not isinstance(n_records, (int, np.integer))
                                  or n_records < 0):
        raise InputError(f"figure_data_check: n_records must be a whole number of records or None, got {n_records!r}")
    rows = len(data)
    counts = count_columns(list(data.columns))
    numeric = [c for c in data.columns if c not in counts and pd.api.types.is_numeric_dtype(data[c].dtype)
               and not pd.api.types.is_bool_dtype(data[c].dtype)]
    reasons: list[str] = []
    if n_records is not None:
        limit = max(ROW_FLOOR, n_records / 2)
        if rows > limit:
            reasons.append(
                f"the figure data have {rows} rows for {n_records} records (more than {limit:g}): that looks like "
                "one point per person. Draw figures from aggregated data (binned_counts for a scatter plot or "
                "histogram; means by group with their n)"
            )
    if not counts and n is None:
        reasons.append("cannot check: the figure data have no column counting the people behind each row "
                       "(n, n_events, count ...); add one, or give n= (the people behind the whole figure)")
    elif not counts and n is not None and 0 < n < threshold:
        reasons.append(f"the figure rests on {n} people, fewer than the threshold {threshold}")
    if not counts and numeric and rows > (ROW_FLOOR if n is None else ROW_FLOOR_WHOLE):
        shown = ", ".join(repr(c) for c in numeric[:5]) + (" ..." if len(numeric) > 5 else "")
        reasons.append(
            f"the figure data have {rows} rows of numbers ({shown}) and no column counting the people behind "
            "each row (n, n_events, count ...): that looks like one point per person and cannot be checked. "
            "Aggregate it (binned_counts) and keep the number of people per row in an 'n' column"
        )
    hide = np.zeros(rows, dtype=bool)
    small_cols = []
    for c in counts:
        v = pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
        small = (v > 0) & (v < threshold)
        if small.any():
            small_cols.append(c)
            hide |= small
    notes: list[str] = []
    if hide.any():
        cols = ", ".join(repr(c) for c in small_cols)
        notes.append(
            f"{int(hide.sum())} of {rows} rows rest on fewer than {threshold} people ({cols}): they must not be "
            "shown; draw the figure from .kept (gate_series also hides a second row when one alone is hidden)"
        )
    rule = (f"figure data: aggregated (at most max({ROW_FLOOR}, n_records/2) rows; more than {ROW_FLOOR} rows "
            f"need a count column); rows with a count from 1 to {threshold - 1} hidden")
    return FigureCheck(ok=not reasons, hide=pd.Series(hide, index=data.index, name="hide"), reasons=tuple(reasons),
                       notes=tuple(notes), count_columns=tuple(counts), rule=rule, data=data)


# ====================================================================== binned counts


def _as_series(v: Any, default: str, what: str) -> pd.Series:
    if isinstance(v, pd.Series):
        s = v
    elif isinstance(v, pd.Index):
        s = v.to_series(index=range(len(v)))
    else:
        arr = np.asarray(v)
        if arr.ndim != 1:
            raise InputError(f"{what}: expected a one-dimensional column of values, got shape {arr.shape}")
        s = pd.Series(arr)
    return s.rename(s.name if s.name is not None else default)


def _num(x: float) -> str:
    x = float(x)
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return f"{x:.10g}"


def _nice_edges(v: np.ndarray, bins: int) -> np.ndarray:
    """Round edges (1, 2, 2.5, 5 x 10^k apart) covering ``v``: labels give away no observed value."""
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo
    raw = span / bins if span > 0 else max(abs(lo), 1.0) / 10
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw * (1 - 1e-12))
    if np.all(v == np.round(v)):
        step = float(max(1, math.ceil(step)))
    start = math.floor(lo / step) * step
    nb = int(math.floor((hi - start) / step)) + 1
    edges = start + step * np.arange(nb + 1)
    return np.array([float(f"{e:.12g}") for e in edges])


def _binned(s: pd.Series, bins: Any, what: str) -> tuple[np.ndarray, list[str]]:
    """(code per value, labels) of the bins of ``s`` (no missing values)."""
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        levels = sorted_levels(s)
        codes = np.asarray(pd.Categorical(s, categories=levels).codes, dtype=np.intp)
        return codes, [_fmt_level(x) for x in levels]
    v = s.to_numpy(dtype=float)
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins < 1:
            raise InputError(f"{what}: bins must be a positive number of bins or a sequence of edges, got {bins!r}")
        edges, closed_last = _nice_edges(v, int(bins)), False
    else:
        edges = np.asarray(bins, dtype=float)
        if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise InputError(f"{what}: bin edges must be an increasing sequence of at least two numbers, got {bins!r}")
        closed_last = True
        out = (v < edges[0]) | (v > edges[-1])
        if out.any():
            raise InputError(
                f"{what}: {int(out.sum())} values of {s.name!r} lie outside the bin edges "
                f"[{_num(edges[0])}, {_num(edges[-1])}]; widen the edges (use -np.inf / np.inf for open ends)"
            )
    codes = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, len(edges) - 2).astype(np.intp)
    integer_steps = np.all(v == np.round(v)) and np.all(np.diff(edges) == 1) and np.all(edges == np.round(edges))
    labels = []
    for i in range(len(edges) - 1):
        a, b = edges[i], edges[i + 1]
        if integer_steps and not (closed_last and i == len(edges) - 2):
            labels.append(_num(a))
        else:
            labels.append(f"[{_num(a)}, {_num(b)}{']' if closed_last and i == len(edges) - 2 else ')'}")
    return codes, labels


def binned_counts(x: Any, y: Any = None, *, bins: Any = 10, threshold: int) -> SuppressedTable:
    """A gated table of binned counts: the safe replacement for a scatter plot or histogram.

    Rule: a scatter plot shows each person's values, and a histogram's
    sparse bins (the tails) single out a few people; publish instead the
    number of people per bin with cells of ``0 < count < threshold``
    suppressed, with secondary suppression so no hidden cell can be worked
    out from the others and the totals (:func:`~.disclosure.suppress_counts`;
    the frequency rule of ACRO/SACRO, tau-ARGUS and Hundepool et al. 2012,
    ch. 5).

    Parameters
    ----------
    x : values (Series, array, list) of the first variable; numeric values are
        binned, text/categorical/boolean values are counted per category.
    y : optional second variable of the same length: a two-way table
        (x bins as rows, y bins as columns) replaces a scatter plot.
    bins : number of bins for numeric variables (default 10): edges are round
        numbers (steps of 1, 2, 2.5 or 5 x 10^k, the smallest giving at most
        ``bins`` steps over the data's range; whole numbers for whole-number
        data) covering the data, so that no label is the smallest or largest
        observed value (there may be one bin fewer or more); or a sequence of edges (bins ``[a, b)``, the last
        ``[a, b]``; every value must fall inside -- use ``-np.inf``/``np.inf``
        for open ends).  With two variables, a pair ``(bins_x, bins_y)`` is
        accepted.  Whole-number data in bins of width 1 are labelled by the
        value itself.
    threshold : the study's disclosure threshold (>= 3).

    Pairs with a missing value are left out.  One variable gives a one-column
    table ``n`` (the total is assumed known, so a lone small bin gets a
    partner suppressed); two give a table with row and column totals added
    (``Total``), which are suppressed themselves when small.

    Returns a :class:`~.disclosure.SuppressedTable` (``published``,
    ``values`` with NaN in hidden cells for plotting, ``mask``).

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 5: frequency
    tables, threshold rule and secondary suppression).
    Griffiths E, Greci C, Kotrotsios Y, Parker S, Scott J, Welpton R, Wolters A, Woods C
    (2019). Handbook on Statistical Disclosure Control for Outputs, version 1.0. Safe Data
    Access Professionals Working Group (section B: assessing types of output).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> age = np.r_[rng.integers(20, 60, 300), [71, 74]]      # two people in their seventies
    >>> t = binned_counts(age, bins=6, threshold=10)
    >>> list(t.published.index)
    ['[20, 30)', '[30, 40)', '[40, 50)', '[50, 60)', '[60, 70)', '[70, 80)']
    >>> t.published.loc["[70, 80)", "n"]
    '‡'
    """
    threshold = check_threshold(threshold)
    what = "binned_counts"
    sx = _as_series(x, "x", what)
    if y is None:
        sx = sx.dropna()
        if len(sx) == 0:
            raise InputError(f"{what}: no non-missing values to count")
        cx, lx = _binned(sx.reset_index(drop=True), bins, what)
        counts = np.bincount(cx, minlength=len(lx))
        table = pd.DataFrame({"n": counts}, index=pd.Index(lx, name=str(sx.name)))
        return suppress_counts(table, threshold=threshold, totals="absent")
    sy = _as_series(y, "y", what)
    if len(sy) != len(sx):
        raise InputError(f"{what}: x has {len(sx)} values and y {len(sy)}; give one value of each per person")
    if sy.name == sx.name:
        sy = sy.rename(f"{sy.name} (y)")
    pair = pd.DataFrame({"x": sx.to_numpy(), "y": sy.to_numpy()}).dropna()
    if len(pair) == 0:
        raise InputError(f"{what}: no pairs without missing values to count")
    bx, by = (bins if isinstance(bins, tuple) and len(bins) == 2 else (bins, bins))
    cx, lx = _binned(pair["x"].infer_objects().rename(sx.name), bx, what)
    cy, ly = _binned(pair["y"].infer_objects().rename(sy.name), by, what)
    counts = np.bincount(cx * len(ly) + cy, minlength=len(lx) * len(ly)).reshape(len(lx), len(ly))
    table = pd.DataFrame(counts, index=pd.Index(lx, name=str(sx.name)), columns=pd.Index(ly, name=str(sy.name)))
    return suppress_counts(table, threshold=threshold, totals="add")
