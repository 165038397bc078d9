"""Rule 3, magnitude tables: the (n, k)-dominance and p% rules (:func:`dominance`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..._validate import InputError
from ._common import check_threshold


# ------------------------------------------------------------------ magnitudes


def dominance(
    data: pd.DataFrame,
    value: str,
    by: Sequence[str] | str,
    *,
    n: int = 2,
    k: float = 0.85,
    p: float | None = 0.10,
    threshold: int | None = 10,
) -> pd.DataFrame:
    """Sensitive cells of a magnitude table: (n,k)-dominance, p% rule, few contributors.

    ``data`` holds one row per contributor (a person, a prison), ``value``
    their non-negative magnitude (days in segregation, money earned in a
    workshop ...) and ``by`` the table's cell variables.  A cell is
    sensitive when

    * **(n,k)-dominance**: its ``n`` largest contributions exceed ``k`` (a
      fraction, default 0.85) of the cell total -- a dominant contributor's
      value is nearly the published total (Hundepool et al. 2012, 4.2.2);
    * **p% rule** (``p`` a fraction, default 0.10; ``None`` to skip): the
      second-largest contributor can estimate the largest within ``p`` of its
      value, i.e. ``total - x1 - x2 < p * x1``;
    * **threshold**: fewer than ``threshold`` contributors (``None`` to skip).

    Returns one row per cell: the ``by`` columns, ``total``, ``contributors``,
    ``top_n_share``, ``sensitive`` and ``reason``.  Pivot ``sensitive`` and
    pass it with the pivoted totals to :func:`suppress_magnitudes` for
    secondary suppression.  (ACRO applies the same three checks; sdcTable's
    ``primarySuppression(type="nk")`` and ``type="p"``.)

    With the cell's contributions sorted ``x_(1) >= x_(2) >= ...`` and total
    ``X = sum x_i``, the cell is sensitive when::

        (n,k)-dominance:  x_(1) + ... + x_(n) > k X
        p% rule:          X - x_(1) - x_(2) < p x_(1)

    References
    ----------
    Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E, Spicer K,
    de Wolf PP (2012). Statistical Disclosure Control. Wiley, Chichester (ch. 4-5).
    Meindl B. sdcTable: Methods for Statistical Disclosure Control in Tabular Data. R package
    (CRAN); and tau-ARGUS (Statistics Netherlands): sdcTable's
    ``primarySuppression(type = "nk")`` and ``type = "p"`` apply the same rules.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.privacy import dominance
    >>> d = pd.DataFrame({"prison": list("AAABBB"), "days": [90, 3, 2, 20, 25, 30]})
    >>> dominance(d, "days", "prison", threshold=None)[["prison", "top_n_share", "sensitive"]].round(3)
      prison  top_n_share  sensitive
    0      A        0.979       True
    1      B        0.733      False
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"dominance: expected a DataFrame, got {type(data).__name__}")
    keys = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [value, *keys] if c not in data.columns]
    if missing:
        raise InputError(f"dominance: columns {missing} not in the data")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"dominance: n must be a positive integer, got {n!r}")
    if not 0.0 < float(k) < 1.0:
        raise InputError(f"dominance: k must be a fraction between 0 and 1 (e.g. 0.85 for 85%), got {k!r}")
    if p is not None and not 0.0 < float(p) < 1.0:
        raise InputError(f"dominance: p must be a fraction between 0 and 1 (e.g. 0.10 for 10%), got {p!r}")
    if threshold is not None:
        threshold = check_threshold(threshold)
    vals = pd.to_numeric(data[value], errors="coerce")
    bad = vals.isna() & data[value].notna()
    if bad.any() or (vals < 0).any():
        raise InputError(f"dominance: {value!r} must hold non-negative numbers (missing values are left out)")
    frame = data[keys].copy()
    frame["_v"] = vals
    frame = frame.dropna(subset=["_v"])
    rows = []
    for key, grp in frame.groupby(keys, sort=True, dropna=False):
        x = np.sort(grp["_v"].to_numpy())[::-1]
        total = float(x.sum())
        top = float(x[:n].sum())
        share = top / total if total > 0 else 0.0
        reasons = []
        if threshold is not None and len(x) < threshold:
            reasons.append(f"fewer than {threshold} contributors")
        if total > 0 and top > k * total:
            reasons.append(f"({n},{k:g})-dominance")
        if p is not None and total > 0:
            x2 = x[1] if len(x) > 1 else 0.0
            if total - x[0] - x2 < p * x[0]:
                reasons.append(f"p%-rule (p={p:g})")
        key_t = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key_t)), "total": total, "contributors": int(len(x)), "top_n_share": share,
                     "sensitive": bool(reasons), "reason": "; ".join(reasons)})
    return pd.DataFrame(rows, columns=[*keys, "total", "contributors", "top_n_share", "sensitive", "reason"])
