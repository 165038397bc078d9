"""Evaluation indicator tables (logframe style) from a study's framework.

An evaluation framework lists indicators the way logframes report them:
baseline, target, actual, progress, means of verification, each under an
OECD-DAC criterion, disaggregated by the study's breakdowns.  The framework is a
YAML block in the study folder; the caller parses it (``yaml.safe_load``) and
passes the dict — this module reads no files.

Framework format
----------------
.. code-block:: yaml

    disaggregate: [gender, country]   # optional; default: indicators(..., disaggregate=) (the notebook
                                      # passes the study's design.breakdowns present in the data)
    indicators:
      - id: staff_confidence          # unique, used as the row key
        label: {en: "Officers' confidence applying the Nelson Mandela Rules (1-5)",
                fr: "...", ar: "...", ru: "..."}   # or a plain string
        criterion: effectiveness      # relevance | coherence | effectiveness | efficiency
                                      # | impact | sustainability  (OECD-DAC 2019)
        baseline: 2.9                 # number
        target: 3.8                   # number
        direction: increase           # increase | decrease (which way is progress)
        unit: "mean score"            # optional
        source: "Pre/post staff survey" # means of verification
        actual:                       # either a number given by the evaluator ...
          stat: mean                  # ... or a computation from the data:
          column: confidence_post     #   mean | median | sum of a column,
          where: {wave: post}         #   share: share of rows where `column` is 1/True
                                      #   (or equals `value:`), count: number of rows
                                      #   (non-missing `column` if given);
                                      #   `where` keeps rows whose column equals the value
                                      #   (or is in the list)
        disaggregate: true            # optional: false, or a list of columns

A given number is reported for "all" only (there is nothing to
disaggregate).  Computed actuals get one row per level of each
disaggregation column (``sex = F``, ``country = Tunisia``, ...); baseline
and target are the overall ones (logframes rarely set them per group).
``progress_pct = 100 * (actual - baseline) / (target - baseline)`` — 100
means the target is reached, negative means movement away from it — for
both directions.  ``n`` is the number of rows behind each computed value;
small cells are suppressed later by the report layer, not here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError

__all__ = ["indicators", "CRITERIA", "validate_framework"]

CRITERIA = ("relevance", "coherence", "effectiveness", "efficiency", "impact", "sustainability")
_STATS = ("mean", "median", "sum", "share", "count")
_REQUIRED = ("id", "label", "criterion", "baseline", "target", "direction", "source", "actual")


def _num(v: Any, what: str) -> float:
    if isinstance(v, bool):
        raise InputError(f"{what} must be a number, got {v!r}")
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number, got {v!r}") from None
    if not math.isfinite(x):
        raise InputError(f"{what} must be a finite number, got {v!r}")
    return x


def validate_framework(framework: Mapping[str, Any], columns: list[Any] | None = None) -> list[dict[str, Any]]:
    """Check a parsed framework; return its indicators as plain dicts.

    Checks the framework format of this module (see the module docstring):
    every indicator has ``id``, ``label``, ``criterion`` (an OECD-DAC criterion),
    numeric ``baseline`` and ``target`` on the right side of each other for its
    ``direction``, ``source`` and ``actual`` (a number, null, or a computation
    ``{stat, column, where}`` whose columns are in ``columns`` when given).

    Parameters
    ----------
    framework : mapping
        The parsed framework (``yaml.safe_load`` of the block).
    columns : list, optional
        The data's columns, to check the columns named in ``actual``.

    Returns
    -------
    list of dict
        The indicators, with ``criterion`` and ``direction`` lowercased and
        ``baseline``/``target`` as floats.

    Raises
    ------
    InputError
        Naming the indicator and the field (unknown criterion, missing key,
        unknown column, ...).

    References
    ----------
    OECD DAC Network on Development Evaluation (2019). Better Criteria for Better
    Evaluation: Revised Evaluation Criteria Definitions and Principles for Use. OECD, Paris.

    Examples
    --------
    >>> fw = {"indicators": [{"id": "trained", "label": "Officers trained", "criterion": "Effectiveness",
    ...        "baseline": 0, "target": 100, "direction": "increase", "source": "training records",
    ...        "actual": {"stat": "count"}}]}
    >>> [(i["id"], i["criterion"], i["target"]) for i in validate_framework(fw)]
    [('trained', 'effectiveness', 100.0)]
    >>> fw["indicators"][0]["criterion"] = "reach"
    >>> validate_framework(fw)
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: indicators: indicator 'trained': criterion 'reach' is not an OECD-DAC criterion; ...
    """
    if not isinstance(framework, Mapping):
        raise InputError(f"indicators: framework must be a dict (parsed YAML), got {type(framework).__name__}")
    inds = framework.get("indicators")
    if not isinstance(inds, list) or not inds:
        raise InputError("indicators: framework needs a non-empty list under 'indicators'")
    out, seen = [], set()
    for k, ind in enumerate(inds):
        if not isinstance(ind, Mapping):
            raise InputError(f"indicators: entry {k + 1} is not a mapping")
        iid = ind.get("id", f"#{k + 1}")
        where = f"indicators: indicator {iid!r}"
        missing = [key for key in _REQUIRED if key not in ind]
        if missing:
            raise InputError(f"{where} lacks {missing}; each indicator needs {list(_REQUIRED)}")
        if iid in seen:
            raise InputError(f"{where}: duplicate id; ids must be unique")
        seen.add(iid)
        crit = str(ind["criterion"]).strip().lower()
        if crit not in CRITERIA:
            raise InputError(f"{where}: criterion {ind['criterion']!r} is not an OECD-DAC criterion; use one "
                             f"of {', '.join(CRITERIA)}")
        direction = str(ind["direction"]).strip().lower()
        if direction not in ("increase", "decrease"):
            raise InputError(f"{where}: direction must be 'increase' or 'decrease', got {ind['direction']!r}")
        base = _num(ind["baseline"], f"{where}: baseline")
        target = _num(ind["target"], f"{where}: target")
        if (direction == "increase" and target < base) or (direction == "decrease" and target > base):
            raise InputError(f"{where}: target {target:g} is on the wrong side of baseline {base:g} for "
                             f"direction {direction!r}; fix the direction or the target")
        label = ind["label"]
        if not isinstance(label, (str, Mapping)) or (isinstance(label, Mapping) and "en" not in label):
            raise InputError(f"{where}: label must be a string or a mapping with at least 'en' "
                             f"(and fr, ar, ru as available)")
        act = ind["actual"]
        if isinstance(act, Mapping):
            stat = act.get("stat")
            if stat not in _STATS:
                raise InputError(f"{where}: actual.stat must be one of {', '.join(_STATS)}, got {stat!r}")
            if stat != "count" and "column" not in act:
                raise InputError(f"{where}: actual.stat {stat!r} needs actual.column")
            wh = act.get("where", {}) or {}
            if not isinstance(wh, Mapping):
                raise InputError(f"{where}: actual.where must be a mapping column -> value(s)")
            if columns is not None:
                need = ([act["column"]] if "column" in act else []) + list(wh)
                absent = [c for c in need if c not in columns]
                if absent:
                    raise InputError(f"{where}: column(s) {absent} named in 'actual' are not in the data "
                                     f"(columns: {list(columns)[:15]})")
        elif act is None or isinstance(act, (int, float)) and not isinstance(act, bool):
            pass
        else:
            raise InputError(f"{where}: actual must be a number, null (not yet measured) or a "
                             f"computation {{stat, column, where}}, got {act!r}")
        out.append({**ind, "criterion": crit, "direction": direction, "baseline": base, "target": target})
    return out


def _filter(df: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    m = pd.Series(True, index=df.index)
    for col, val in where.items():
        vals = list(val) if isinstance(val, (list, tuple, set)) else [val]
        m &= df[col].isin(vals)
    return df[m]


def _compute(df: pd.DataFrame, act: Mapping[str, Any], where_id: str) -> tuple[float, int]:
    stat = act["stat"]
    col = act.get("column")
    if stat == "count":
        if col is None:
            return float(len(df)), len(df)
        n = int(df[col].notna().sum())
        return float(n), n
    x = df[col]
    if stat == "share":
        x = x.dropna()
        if "value" in act:
            vals = act["value"] if isinstance(act["value"], (list, tuple)) else [act["value"]]
            hit = x.isin(vals)
        else:
            num = pd.to_numeric(x, errors="coerce") if not pd.api.types.is_bool_dtype(x) else x.astype(float)
            if num.isna().any() or not num.isin([0, 1]).all():
                raise InputError(f"{where_id}: share needs a 0/1 (or True/False) column, or give "
                                 f"actual.value to say which value counts")
            hit = num == 1
        n = len(x)
        return (float(hit.mean()) if n else float("nan")), n
    num = pd.to_numeric(x, errors="coerce")
    bad = num.isna() & x.notna()
    if bad.any():
        raise InputError(f"{where_id}: column {col!r} has non-numeric values; {stat} needs numbers")
    num = num.dropna()
    n = len(num)
    if n == 0:
        return float("nan"), 0
    return float({"mean": num.mean, "median": num.median, "sum": num.sum}[stat]()), n


def indicators(table: pd.DataFrame | None, framework: Mapping[str, Any], *, lang: str = "en",
               disaggregate: Sequence[str] = ()) -> pd.DataFrame:
    """Indicator table (baseline, target, actual, progress) from a framework.

    ``table`` is the tidy analysis frame the computed actuals are taken from
    (may be None when every actual is given as a number).  ``lang`` picks the
    label language (falling back to English).  ``disaggregate`` lists the
    columns to break computed actuals down by when the framework has no
    ``disaggregate:`` of its own (those absent from ``table`` are skipped);
    by default there is no breakdown.  See the module docstring for the
    framework format.

    Columns: ``indicator``, ``label``, ``criterion``, ``disaggregation``
    ("all", "sex", "country", ...), ``level``, ``baseline``, ``target``,
    ``actual``, ``n``, ``progress_pct``, ``target_met``, ``direction``,
    ``unit``, ``source``.

    Progress towards the target, for either direction::

        progress_pct = 100 * (actual - baseline) / (target - baseline)

    References
    ----------
    OECD DAC Network on Development Evaluation (2019). Better Criteria for Better
    Evaluation: Revised Evaluation Criteria Definitions and Principles for Use. OECD, Paris.

    Examples
    --------
    >>> import pandas as pd
    >>> fw = {"indicators": [{"id": "trained", "label": {"en": "Officers trained"},
    ...        "criterion": "effectiveness", "baseline": 0, "target": 100, "direction": "increase",
    ...        "source": "training records", "actual": {"stat": "count"}}]}
    >>> d = pd.DataFrame({"sex": ["F", "M", "M"], "country": ["UG", "UG", "TN"]})
    >>> out = indicators(d, fw, disaggregate=["sex"])
    >>> out[["level", "actual", "progress_pct"]].values.tolist()[:2]
    [['all', 3.0, 3.0], ['F', 1.0, 1.0]]
    """
    cols = list(table.columns) if isinstance(table, pd.DataFrame) else None
    inds = validate_framework(framework, cols)
    default_dis = framework.get("disaggregate")
    if default_dis is None:
        default_dis = [c for c in disaggregate if cols is not None and c in cols]
    rows = []
    for ind in inds:
        iid = ind["id"]
        label = ind["label"]
        lab = label if isinstance(label, str) else (label.get(lang) or label.get("en"))
        base = {"indicator": iid, "label": lab, "criterion": ind["criterion"], "baseline": ind["baseline"],
                "target": ind["target"], "direction": ind["direction"], "unit": ind.get("unit", ""),
                "source": ind["source"]}
        act = ind["actual"]
        if not isinstance(act, Mapping):
            val = float("nan") if act is None else float(act)
            rows.append({**base, "disaggregation": "all", "level": "all", "actual": val, "n": np.nan})
            continue
        if table is None:
            raise InputError(f"indicators: indicator {iid!r} computes its actual from the data, but no "
                             f"data table was given")
        sub = _filter(table, act.get("where", {}) or {})
        val, n = _compute(sub, act, f"indicators: indicator {iid!r}")
        rows.append({**base, "disaggregation": "all", "level": "all", "actual": val, "n": n})
        dis = ind.get("disaggregate", True)
        dis_cols = default_dis if dis is True else ([] if dis is False else list(dis))
        absent = [c for c in dis_cols if c not in table.columns]
        if absent and dis is not True:
            raise InputError(f"indicators: indicator {iid!r} disaggregates by {absent}, not in the data")
        for dc in [c for c in dis_cols if c in table.columns]:
            col = sub[dc].dropna()
            levels = ([c for c in col.cat.categories if (col == c).any()] if isinstance(col.dtype, pd.CategoricalDtype)
                      else sorted(col.unique(), key=str))  # a categorical keeps its order (codebook options)
            for lev in levels:
                v, nn = _compute(sub[sub[dc] == lev], act, f"indicators: indicator {iid!r}")
                rows.append({**base, "disaggregation": str(dc), "level": lev, "actual": v, "n": nn})
    out = pd.DataFrame(rows)
    span = out["target"] - out["baseline"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["progress_pct"] = np.where(span != 0, 100 * (out["actual"] - out["baseline"]) / span, np.nan)
    met = np.where(out["direction"] == "increase", out["actual"] >= out["target"], out["actual"] <= out["target"])
    out["target_met"] = pd.array(np.where(out["actual"].isna(), None, met), dtype="boolean")
    order = ["indicator", "label", "criterion", "disaggregation", "level", "baseline", "target", "actual",
             "n", "progress_pct", "target_met", "direction", "unit", "source"]
    return out[order]
