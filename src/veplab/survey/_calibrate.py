"""Weight construction: calibration (GREG, raking, logit), raking by margins, post-stratification.

As R's ``survey::calibrate`` (``regcalibrate`` for unbounded linear calibration,
``grake`` otherwise), ``survey::rake`` and ``survey::postStratify``, including the way
each one changes the linearisation variance (residuals of the calibration model,
raking's iterated margin centring, post-stratum centring) and R's stopping rules, so
that weights and standard errors agree with R's.

Population figures usually come from national statistics and live in the study as a
YAML file (``population: research/<study>/population.yml``), read by
:func:`read_population`::

    source: National prison statistics 2025 (fictional)
    total: 12000                     # population size, optional
    margins:                         # one mapping per variable: level -> count
      gender: {Man: 11000, Woman: 1000}
      prison_type: {closed: 8000, open: 4000}
    totals:                          # numeric variables: population totals, optional
      age: 420000
    cells:                           # cross-classified counts, optional (post-stratification)
      - {gender: Man, prison_type: closed, count: 7400}

References
----------
Deville JC, Sarndal CE (1992). Calibration estimators in survey sampling. *JASA*
87:376-382.
Deville JC, Sarndal CE, Sautory O (1993). Generalized raking procedures in survey
sampling. *JASA* 88:1013-1020.
Lumley T, Shaw PA, Dai JY (2011). Connections between survey calibration estimators and
semiparametric models for incomplete data. *Int Stat Rev* 79:200-220.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError, check_choice, read_yaml_mapping
from ._design import SurveyDesign

__all__ = ["Population", "read_population", "calibrate", "rake", "poststratify"]


@dataclass(frozen=True)
class Population:
    """Population figures for weighting: size, margins, numeric totals, cells."""

    total: float | None = None
    margins: dict[str, dict[Any, float]] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    cells: pd.DataFrame | None = None
    source: str | None = None

    def calibration_totals(self) -> dict[str, Any]:
        """The totals :func:`calibrate` takes: margins, numeric totals and ``(Intercept)``."""
        out: dict[str, Any] = dict(self.margins)
        out.update(self.totals)
        if self.total is not None:
            out["(Intercept)"] = self.total
        return out


def read_population(path: str | Path) -> Population:
    """Read population figures from a study's YAML file (see the module docstring).

    Keys: ``source`` (text), ``total`` (population size), ``margins`` (variable ->
    level -> count), ``totals`` (numeric variable -> population total) and
    ``cells`` (cross-classified counts for post-stratification, each with a
    ``count``).  Counts must be non-negative numbers and every margin must sum to
    ``total`` when both are given.

    Returns
    -------
    :class:`Population`, whose :meth:`~Population.calibration_totals` are what
    :func:`calibrate` takes.

    Raises
    ------
    InputError
        Unknown keys, negative or non-numeric counts, a margin that does not sum to
        the total, or a cell without a count (the message names the file and key).

    References
    ----------
    The population figures R ``survey::rake`` (``population.margins``),
    ``survey::calibrate`` (``population``) and ``survey::postStratify`` take
    (Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, chapter 7),
    written as YAML 1.2 (https://yaml.org/spec/1.2.2/); the file of a study's
    ``design: population:`` (docs/DESIGN.md, "A study is declared, not coded").

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "population.yml")
    ...     _ = open(p, "w").write("total: 100\\nmargins:\\n  sex: {F: 40, M: 60}\\n")
    ...     pop = read_population(p)
    ...     _ = open(p, "w").write("total: 100\\nmargins:\\n  sex: {F: 40, M: 50}\\n")
    ...     read_population(p)
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: read_population: population.yml: margins.sex sum to 90, not the total 100
    >>> pop.margins, pop.calibration_totals()["(Intercept)"]
    ({'sex': {'F': 40.0, 'M': 60.0}}, 100.0)
    """
    p = Path(path)
    doc = read_yaml_mapping(p, "read_population", expect="margins:, totals:, cells:")
    unknown = set(doc) - {"total", "margins", "totals", "cells", "source"}
    if unknown:
        raise InputError(f"read_population: {p.name} has unknown keys {sorted(unknown)}; "
                         f"allowed: source, total, margins, totals, cells")

    def number(v: Any, where: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
            raise InputError(f"read_population: {p.name}: {where} must be a non-negative number, got {v!r}")
        return float(v)

    margins: dict[str, dict[Any, float]] = {}
    for var, levels in (doc.get("margins") or {}).items():
        if not isinstance(levels, dict) or not levels:
            raise InputError(f"read_population: {p.name}: margins.{var} must map levels to counts")
        margins[str(var)] = {k: number(v, f"margins.{var}.{k}") for k, v in levels.items()}
    totals = {str(k): number(v, f"totals.{k}") for k, v in (doc.get("totals") or {}).items()}
    cells = None
    if doc.get("cells"):
        cells = pd.DataFrame(doc["cells"])
        if "count" not in cells.columns:
            raise InputError(f"read_population: {p.name}: every cell needs a count:")
        cells["count"] = [number(v, "cells.count") for v in cells["count"]]
    total = number(doc["total"], "total") if doc.get("total") is not None else None
    for var, levels in margins.items():
        if total is not None and abs(sum(levels.values()) - total) > 1e-9 * max(total, 1):
            raise InputError(f"read_population: {p.name}: margins.{var} sum to {sum(levels.values()):g}, "
                             f"not the total {total:g}")
    return Population(total=total, margins=margins, totals=totals, cells=cells,
                      source=doc.get("source"))


def _level_key(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _indicators(design: SurveyDesign, var: str, levels: Mapping[Any, float], what: str
                ) -> tuple[np.ndarray, list[str], np.ndarray]:
    """0/1 columns of a categorical variable for each level in the population, and the counts."""
    if var not in design.data.columns:
        raise InputError(f"{what}: no column {var!r} in the design's data")
    col = design.data[var]
    if col.isna().any():
        raise InputError(f"{what}: column {var!r} has missing values; weighting needs every row's level")
    keys = col.map(_level_key)
    pop = {_level_key(k): float(v) for k, v in levels.items()}
    absent = sorted(set(keys) - set(pop))
    if absent:
        raise InputError(f"{what}: levels {absent} of {var!r} occur in the sample but not in the "
                         f"population figures")
    names = [k for k in pop]
    X = np.column_stack([(keys == k).to_numpy(dtype=float) for k in names])
    return X, [f"{var}{k}" for k in names], np.array([pop[k] for k in names])


def _model(design: SurveyDesign, totals: Mapping[str, Any] | Population, what: str
           ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Model matrix and population totals as R's model.matrix(~ a + b + x) with an intercept."""
    if isinstance(totals, Population):
        totals = totals.calibration_totals()
    if not isinstance(totals, Mapping) or not totals:
        raise InputError(f"{what}: totals must be a mapping: variable -> {{level: count}} or a number, "
                         f"and optionally '(Intercept)' -> population size")
    cols, pops, names = [], [], []
    intercept = totals.get("(Intercept)")
    cat_sums = []
    cat_blocks = []
    for var, spec in totals.items():
        if var == "(Intercept)":
            continue
        if isinstance(spec, Mapping):
            X, nm, pv = _indicators(design, var, spec, what)
            cat_sums.append(pv.sum())
            cat_blocks.append((X, nm, pv))
        else:
            if var not in design.data.columns:
                raise InputError(f"{what}: no column {var!r} in the design's data")
            x = pd.to_numeric(design.data[var], errors="coerce").to_numpy(dtype=float)
            if np.isnan(x).any():
                raise InputError(f"{what}: column {var!r} must be numeric with no missing values")
            cols.append(x)
            pops.append(float(spec))
            names.append(var)
    if cat_sums:
        size = cat_sums[0] if intercept is None else float(intercept)
        for s in cat_sums:
            if abs(s - size) > 1e-9 * max(size, 1):
                raise InputError(f"{what}: the margins do not sum to the same population size "
                                 f"({', '.join(f'{v:g}' for v in cat_sums)})")
        intercept = size
    blocks_x = []
    blocks_p = []
    blocks_n = []
    if intercept is not None:
        blocks_x.append(np.ones(len(design.data)))
        blocks_p.append(float(intercept))
        blocks_n.append("(Intercept)")
    for X, nm, pv in cat_blocks:  # treatment coding: drop the first level, as R
        for j in range(1, X.shape[1]):
            blocks_x.append(X[:, j])
            blocks_p.append(pv[j])
            blocks_n.append(nm[j])
    mm = np.column_stack(blocks_x + cols)
    pop = np.array(blocks_p + pops)
    return mm, pop, blocks_n + names


def _qr_resid_adjust(mm: np.ndarray, whalf: np.ndarray, wcal: np.ndarray):
    q, _ = np.linalg.qr(mm * whalf[:, None])

    def adjust(x: np.ndarray) -> np.ndarray:
        y = x / wcal[:, None]
        return (y - q @ (q.T @ y)) * wcal[:, None]

    return adjust


def calibrate(design: SurveyDesign, totals: Mapping[str, Any] | Population, method: str = "linear",
              bounds: tuple[float, float] | None = None, *, maxit: int = 50,
              epsilon: float = 1e-7) -> SurveyDesign:
    """Calibrate the weights to population totals (R: ``calibrate(design, ~a + b + x, population,
    calfun=, bounds=)``).

    ``totals``: ``{"gender": {"Man": 11000, "Woman": 1000}, "age": 420000,
    "(Intercept)": 12000}`` or a :class:`Population`; categorical margins enter as R's
    treatment-coded dummies with the intercept.  New weights w_i g_i with
    g_i = 1 + F(x_i' lambda) solving sum w g x = totals: ``linear`` (GREG, F(u) = u,
    optionally truncated to ``bounds`` on g), ``raking`` (F(u) = exp(u) - 1),
    ``logit`` (bounded, needs finite ``bounds``); Newton iterations with R's tolerance
    |misfit| / (1 + |total|) < ``epsilon``.  Standard errors use the residuals of the
    calibration model (R's ``greg_calibration``).

    References
    ----------
    Deville JC, Sarndal CE (1992). Calibration estimators in survey sampling. Journal of the
    American Statistical Association 87, 376-382.
    Deville JC, Sarndal CE, Sautory O (1993). Generalized raking procedures in survey sampling.
    Journal of the American Statistical Association 88, 1013-1020.
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ.
    Agrees with ``survey::calibrate`` (linear, bounded linear, raking, logit; R survey 4.1-1)
    (tests/reference/survey.R).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1., 2, 3, 4], "sex": ["F", "M", "M", "F"]})
    >>> d = calibrate(SurveyDesign(df), {"sex": {"F": 30, "M": 70}})
    >>> list(d.weights)
    [15.0, 35.0, 35.0, 15.0]
    """
    check_choice(method, "method", ("linear", "raking", "logit"))
    what = "calibrate"
    if not isinstance(design, SurveyDesign):
        raise InputError(f"{what}: design must be a SurveyDesign")
    if not design._domain.all():
        raise InputError(f"{what}: weight the whole design, then take the domain with .subset()")
    lo, hi = (-np.inf, np.inf) if bounds is None else (float(bounds[0]), float(bounds[1]))
    if not lo < 1 < hi:
        raise InputError(f"{what}: bounds must surround 1 (lower < 1 < upper), got {bounds!r}")
    if method == "logit" and not (np.isfinite(lo) and np.isfinite(hi)):
        raise InputError(f"{what}: logit calibration needs finite bounds, e.g. bounds=(0.5, 3)")
    mm, pop, _ = _model(design, totals, what)
    ww = design._w.copy()
    whalf = np.sqrt(ww)
    sample_total = mm.T @ ww
    zero = sample_total == 0
    if zero.any():
        if (pop[zero] != 0).any():
            raise InputError(f"{what}: a level with a population count has no sampled row")
        mm, pop, sample_total = mm[:, ~zero], pop[~zero], sample_total[~zero]
    if method == "linear" and bounds is None:
        tmat = (mm * ww[:, None]).T @ mm
        lam = np.linalg.solve(tmat, pop - sample_total)
        g = 1 + mm @ lam
    else:
        g = _grake(mm, ww, method, lo, hi, pop, epsilon, maxit)
    out = design._copy()
    out._w = design._w * g
    out._adjust = list(design._adjust) + [_qr_resid_adjust(mm, whalf, g * whalf)]
    return out


def _calfun(method: str, lo: float, hi: float):
    if method == "linear":
        def fm1(u):
            return np.clip(u + 1, lo, hi) - 1

        def df(u):
            return ((u < hi - 1) & (u > lo - 1)).astype(float)
    elif method == "raking":
        def fm1(u):
            return np.clip(np.exp(u), lo, hi) - 1

        def df(u):
            return np.where((u < hi - 1) & (u > lo - 1), np.exp(u), 0.0)
    else:
        a = (hi - lo) / ((hi - 1) * (1 - lo))

        def fm1(u):
            e = np.exp(a * u)
            return (lo * (hi - 1) + hi * (1 - lo) * e) / (hi - 1 + (1 - lo) * e) - 1

        def df(u):
            e = np.exp(a * u)
            return (hi * (1 - lo) * e * a / (hi - 1 + (1 - lo) * e)
                    - (lo * (hi - 1) + hi * (1 - lo) * e) * ((1 - lo) * e * a) / (hi - 1 + (1 - lo) * e) ** 2)
    return fm1, df


def _grake(mm, ww, method, lo, hi, pop, epsilon, maxit) -> np.ndarray:
    """R's survey:::grake (Newton steps on the calibration equations, step halving)."""
    fm1, dF = _calfun(method, lo, hi)
    sample_total = mm.T @ ww
    eta = np.zeros(mm.shape[1])
    xeta = mm @ eta
    g = 1 + fm1(xeta)
    deriv = dF(xeta)
    it = 1
    scales = pop / sample_total
    scale = None
    if scales.min() > 20:
        scale = scales.mean()
        ww = ww * scale
        sample_total = sample_total * scale
    while True:
        tmat = (mm * (ww * deriv)[:, None]).T @ mm
        misfit = pop - sample_total - mm.T @ (ww * fm1(xeta))
        deta = np.linalg.pinv(tmat, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + deta
        xeta = mm @ eta
        g = 1 + fm1(xeta)
        deriv = dF(xeta)
        while it < maxit and not (np.isfinite(g).all() and np.isfinite(deriv).all()):
            it += 1
            deta = deta / 2
            eta = eta - deta
            xeta = mm @ eta
            g = 1 + fm1(xeta)
            deriv = dF(xeta)
        misfit = pop - sample_total - mm.T @ (ww * fm1(xeta))
        if (np.abs(misfit) / (1 + np.abs(pop)) < epsilon).all():
            break
        it += 1
        if it > maxit:
            achieved = float((np.abs(misfit) / (1 + np.abs(pop))).max())
            raise InputError(f"calibrate: did not converge (relative misfit {achieved:.3g} after "
                             f"{maxit} iterations); the totals may be out of reach within the bounds")
    if scale is not None:
        g = g * scale
    return g


def _row_keys(frame: pd.DataFrame) -> pd.Series:
    """One text key per row: the :func:`_level_key` of each column, joined (a cell of a cross-classification).

    Maps each column's distinct values once (not each row through pandas), so 128k rows take
    milliseconds."""
    cols = []
    for c in frame.columns:
        values = frame[c].to_numpy(dtype=object)
        codes, uniq = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
        keys = np.array([_level_key(u) for u in uniq], dtype=object)
        cols.append(keys[codes])
    joined = ["\x1f".join(t) for t in zip(*cols)] if cols else [""] * len(frame)
    return pd.Series(joined, index=frame.index, dtype=object)


def _poststrat_index(design: SurveyDesign, cells: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Row -> cell code and the population count per cell, checked as R's postStratify."""
    vars_ = [c for c in cells.columns if c != "count"]
    for v in vars_:
        if v not in design.data.columns:
            raise InputError(f"{what}: no column {v!r} in the design's data")
        if design.data[v].isna().any():
            raise InputError(f"{what}: column {v!r} has missing values; every row needs its stratum")
    key_data = _row_keys(design.data[vars_])
    key_pop = _row_keys(cells[vars_])
    if key_pop.duplicated().any():
        raise InputError(f"{what}: population cells repeat: {sorted(set(key_pop[key_pop.duplicated()]))[:3]}")
    pop = dict(zip(key_pop, cells["count"].astype(float)))
    absent = sorted(set(key_data) - set(pop))
    if absent:
        raise InputError(f"{what}: sample strata absent from the population figures: "
                         f"{[a.replace(chr(31), ' x ') for a in absent[:5]]}")
    empty = sorted(k for k, v in pop.items() if v > 0 and k not in set(key_data))
    if empty:
        raise InputError(f"{what}: population strata with no sampled row: "
                         f"{[a.replace(chr(31), ' x ') for a in empty[:5]]}; merge them with a neighbour")
    codes, uniq = pd.factorize(key_data)
    return codes, np.array([pop[k] for k in uniq])


def _cells(spec: Any, what: str) -> pd.DataFrame:
    if isinstance(spec, Population):
        if spec.cells is None:
            raise InputError(f"{what}: the population has no cells:")
        return spec.cells
    if isinstance(spec, pd.DataFrame):
        if spec.shape[1] < 2:
            raise InputError(f"{what}: strata_totals needs the stratum columns and a count column")
        out = spec.copy()
        out.columns = list(out.columns[:-1]) + ["count"]
        return out
    if isinstance(spec, Mapping) and len(spec) == 1:
        (var, levels), = spec.items()
        if isinstance(levels, Mapping):
            return pd.DataFrame({var: list(levels.keys()), "count": [float(v) for v in levels.values()]})
    raise InputError(f"{what}: strata_totals must be {{variable: {{level: count}}}} or a DataFrame "
                     f"(stratum columns, then the count)")


def _poststratify_step(design: SurveyDesign, codes: np.ndarray, pop: np.ndarray
                       ) -> tuple[SurveyDesign, np.ndarray, np.ndarray]:
    oldw = design._w.copy()
    sample = np.bincount(codes, weights=oldw, minlength=len(pop))
    reweight = pop / sample
    out = design._copy()
    out._w = oldw * reweight[codes]
    return out, oldw, out._w.copy()


def poststratify(design: SurveyDesign, strata_totals: Any) -> SurveyDesign:
    """Post-stratify to known population counts (R: ``postStratify(design, ~a + b, pop)``).

    Each cell's weights are multiplied by N_cell / (its weighted sample count);
    variances use the residuals from the cell means (R's post-stratification branch of
    ``svyrecvar``).  ``strata_totals``: ``{"gender": {"Man": 11000, "Woman": 1000}}``,
    a DataFrame of cells (stratum columns, then the count), or a :class:`Population`
    with ``cells:``.

    With ``N_c`` the population count of cell ``c``::

        w_i* = w_i N_c / sum_(j in c) w_j   for i in c

    References
    ----------
    Holt D, Smith TMF (1979). Post stratification. Journal of the Royal Statistical Society A
    142, 33-46.
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ.
    Agrees with ``survey::postStratify`` (R survey 4.1-1) (tests/reference/survey.R).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1., 2, 3, 4], "sex": ["F", "M", "M", "F"]})
    >>> list(poststratify(SurveyDesign(df), {"sex": {"F": 30, "M": 70}}).weights)
    [15.0, 35.0, 35.0, 15.0]
    """
    what = "poststratify"
    if not isinstance(design, SurveyDesign):
        raise InputError(f"{what}: design must be a SurveyDesign")
    if not design._domain.all():
        raise InputError(f"{what}: weight the whole design, then take the domain with .subset()")
    codes, pop = _poststrat_index(design, _cells(strata_totals, what), what)
    out, oldw, psw = _poststratify_step(design, codes, pop)
    out._adjust = list(design._adjust) + [_poststrat_adjust(codes, oldw, psw, len(pop))]
    return out


def _poststrat_adjust(codes: np.ndarray, oldw: np.ndarray, psw: np.ndarray, k: int):
    def adjust(x: np.ndarray) -> np.ndarray:
        num = np.zeros((k, x.shape[1]))
        np.add.at(num, codes, x * (oldw / psw)[:, None])
        den = np.bincount(codes, weights=oldw, minlength=k)
        return x - (num / den[:, None])[codes] * psw[:, None]

    return adjust


def rake(design: SurveyDesign, margins: Mapping[str, Mapping[Any, float]] | Population, *,
         maxit: int = 10, epsilon: float = 1.0) -> SurveyDesign:
    """Rake the weights to population margins (R: ``rake(design, list(~a, ~b), list(pa, pb))``).

    Iterative proportional fitting: post-stratify to each margin in turn, until the
    weighted cross-table of the margin variables moves by less than ``epsilon`` (R's
    ``control$epsilon``; below 1 it is a fraction of the total weight) or ``maxit``
    passes; standard errors as R's ``raking`` branch of ``svyrecvar``.

    Each pass post-stratifies to margin ``m`` in turn::

        w_i* = w_i N_(m, c) / sum_(j in c) w_j   for each category c of margin m

    References
    ----------
    Deming WE, Stephan FF (1940). On a least squares adjustment of a sampled frequency table
    when the expected marginal totals are known. Annals of Mathematical Statistics 11,
    427-444.
    Deville JC, Sarndal CE, Sautory O (1993). Generalized raking procedures in survey sampling.
    Journal of the American Statistical Association 88, 1013-1020.
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ.
    Agrees with ``survey::rake`` (R survey 4.1-1) (tests/reference/survey.R).

    Examples
    --------
    >>> df = pd.DataFrame({"sex": ["F", "M", "M", "F", "M"], "age": ["y", "y", "o", "o", "o"]})
    >>> d = rake(SurveyDesign(df), {"sex": {"F": 40, "M": 60}, "age": {"y": 50, "o": 50}})
    >>> round(float(d.weights.sum()), 6)
    100.0
    """
    what = "rake"
    if not isinstance(design, SurveyDesign):
        raise InputError(f"{what}: design must be a SurveyDesign")
    if not design._domain.all():
        raise InputError(f"{what}: weight the whole design, then take the domain with .subset()")
    if isinstance(margins, Population):
        margins = margins.margins
    if not isinstance(margins, Mapping) or not margins:
        raise InputError(f"{what}: margins must map each variable to {{level: count}}")
    steps = []
    for var, levels in margins.items():
        if not isinstance(levels, Mapping):
            raise InputError(f"{what}: margins[{var!r}] must map levels to counts")
        cells = pd.DataFrame({var: list(levels.keys()), "count": [float(v) for v in levels.values()]})
        steps.append(_poststrat_index(design, cells, what))
    allvars = list(margins)
    cross = pd.factorize(_row_keys(design.data[allvars]))[0]
    eps = epsilon * design._w.sum() if epsilon < 1 else epsilon

    def table(w: np.ndarray) -> np.ndarray:
        return np.bincount(cross, weights=w)

    old = table(design._w)
    current = design
    converged = False
    last: list[tuple[np.ndarray, np.ndarray]] = []
    for _ in range(maxit):
        last = []
        for codes, pop in steps:
            current, _, psw = _poststratify_step(current, codes, pop)
            last.append((codes, psw))
        new = table(current._w)
        if np.abs(old - new).max() < eps:
            converged = True
            break
        old = new
    if not converged:
        raise InputError(f"{what}: raking did not converge in {maxit} passes (R warns and returns the "
                         f"last weights); check the margins agree on the population size")

    def adjust(x: np.ndarray) -> np.ndarray:
        for _ in range(10):
            for codes, psw in last:
                k = codes.max() + 1
                y = x / psw[:, None]
                sums = np.zeros((k, x.shape[1]))
                np.add.at(sums, codes, y)
                means = sums / np.bincount(codes, minlength=k)[:, None]
                x = x - psw[:, None] * means[codes]
        return x

    out = current._copy()
    out._adjust = list(design._adjust) + [adjust]
    return out
