"""Re-identification risk of a microdata file: k-anonymity, l-diversity, individual risk.

Quasi-identifiers (codebook role ``quasi_identifier``: country, prison, gender,
age band, nationality, offence, sentence ...) do not name anyone, but together
they can single a person out: the only foreign woman aged 55+ held for a
terrorism offence in one prison is known to everybody in that prison.  These
measures say how exposed a file is *before* it is shared (a data-sharing
request, a replication package) and which combinations to coarsen.  They
follow R's **sdcMicro** (Templ, Kowarik & Meindl 2015, *J. Stat. Softw.* 67(4)):

* **Equivalence class** of a record: the records sharing its combination of
  quasi-identifier values; ``f_k`` its size (sdcMicro ``freqCalc``).  Missing
  values: ``missing="wildcard"`` (default, as sdcMicro) lets a missing value
  match any value, so a record with a missing age band counts towards every
  age band of its other key values (sizes are then not a partition);
  ``missing="category"`` treats missing as one more value.
* **k-anonymity** (Sweeney 2002): the file is k-anonymous when every
  ``f_k >= k``.  Reported for k = 2, 3, 5, 10 and the study's ``k``: records
  and classes with ``f_k < k``.
* **Distinct l-diversity** (Machanavajjhala et al. 2007) of each sensitive
  item: number of distinct non-missing values of the item within each
  equivalence class (exact combinations; missing as its own category); a
  class with l = 1 discloses the sensitive value of all its members even if
  it is large.
* **Individual risk** without sampling weights: ``r_k = 1 / f_k`` (sdcMicro
  ``indivRisk(..., survey=FALSE)``), the chance that an intruder who knows a
  person's key values and that the person is in the file picks the right
  record.  With sampling weights ``w`` (a sample of a prison population):
  the Benedetti-Franconi negative-binomial approximation used by sdcMicro
  ``indivRisk(freqCalc(x, keyVars, w), method="approx")``, with
  ``F_k = sum of weights in the class`` and ``p_k = f_k / F_k``::

      f_k = 1:  r = p/(1-p) * log(1/p)
      f_k = 2:  r = p/(1-p) - (p/(1-p))^2 * log(1/p)
      f_k > 2:  r = p / (f_k - (1 - p))
      f_k = F_k (a census of the class):  r = 1/f_k

  (sdcMicro's ``measure_risk`` uses the same formulas with ``p_k - 0.0001``;
  we follow ``indivRisk`` without the offset.)
* **Global risk**: expected number of re-identifications ``ER = sum r_k``
  and the re-identification rate ``ER / n`` (sdcMicro ``measure_risk``
  ``global$risk_ER`` and ``global$risk``).

The report prints summary tables only.  Row-level results
(:attr:`RiskReport.individual_risk`, :attr:`RiskReport.class_size`) exist for
local suppression or recoding inside the secure environment and must never be
published.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"gender": [1, 1, 2, 2, 2], "age_band": [1, 1, 3, 3, 4]})
>>> r = risk_report(df, quasi_identifiers=["gender", "age_band"], k=2)
>>> r.records_below_k, r.expected_reidentifications
(1, 3.0)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import InputError, check_choice
from ..codebook import Codebook

__all__ = ["RiskReport", "risk_report", "equivalence_class_sizes", "individual_risk"]

_K_LEVELS = (2, 3, 5, 10)


def _codes(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Integer codes per column (-1 for missing), shape (n, m)."""
    out = np.empty((len(df), len(columns)), dtype=np.int64)
    for j, c in enumerate(columns):
        codes, _ = pd.factorize(df[c], use_na_sentinel=True)
        out[:, j] = codes
    return out


def _class_frequencies(codes: np.ndarray, weights: np.ndarray | None, missing: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(f_k per record, F_k per record or None, pattern index per record)."""
    n, m = codes.shape
    if m == 0:
        raise InputError("risk: give at least one quasi-identifier")
    patterns, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    counts = counts.astype(np.float64)
    wsum = None
    if weights is not None:
        wsum = np.bincount(inverse, weights=weights, minlength=len(patterns)).astype(np.float64)
    has_na = (patterns == -1).any(axis=1)
    if missing == "category" or not has_na.any():
        fk = counts
        Fk = wsum
    else:
        fk = np.where(has_na, 0.0, counts)
        Fk = None if wsum is None else np.where(has_na, 0.0, wsum)
        complete = ~has_na
        for a in np.flatnonzero(has_na):
            pa = patterns[a]
            compat = ((patterns == pa) | (patterns == -1) | (pa == -1)).all(axis=1)
            fk[a] += compat @ counts
            fk[complete] += compat[complete] * counts[a]
            if Fk is not None and wsum is not None:
                Fk[a] += compat @ wsum
                Fk[complete] += compat[complete] * wsum[a]
    return fk[inverse], (None if Fk is None else Fk[inverse]), inverse


def _bf_risk(fk: np.ndarray, Fk: np.ndarray) -> np.ndarray:
    """Benedetti-Franconi approximate individual risk (sdcMicro indivRisk, method='approx')."""
    fk = np.asarray(fk, dtype=np.float64)
    Fk = np.asarray(Fk, dtype=np.float64)
    pk = fk / Fk
    r = np.zeros_like(pk)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = pk / (1.0 - pk)
        logp = np.log(1.0 / pk)
        r = np.where(fk > 2, pk / (fk - (1.0 - pk)), r)
        r = np.where(fk == 2, odds - odds**2 * logp, r)
        r = np.where(fk == 1, odds * logp, r)
    census = fk == Fk
    r = np.where(census, 1.0 / fk, r)
    return r


def equivalence_class_sizes(
    df: pd.DataFrame, quasi_identifiers: Sequence[str], *, missing: str = "wildcard"
) -> pd.Series:
    """Size ``f_k`` of each record's equivalence class (row-level: never publish).

    sdcMicro ``freqCalc(x, keyVars)$fk``; see the module docstring for ``missing``.

    For record ``i`` with quasi-identifier values ``q_i``::

        f_k(i) = #{ j : q_j matches q_i }

    (a missing value matches any value with ``missing="wildcard"``).

    References
    ----------
    Sweeney L (2002). k-anonymity: a model for protecting privacy. International Journal of
    Uncertainty, Fuzziness and Knowledge-Based Systems 10, 557-570.
    Templ M, Kowarik A, Meindl B (2015). Statistical disclosure control for micro-data using
    the R package sdcMicro. Journal of Statistical Software 67(4), 1-36.
    The class sizes and ``sum 1/f_k`` agree with ``sdcMicro::freqCalc`` semantics written out
    in base R (tests/reference/privacy.R); the weighted risks with the values sdcMicro's own
    tests assert for ``indivRisk(method = "approx")`` (tests/test_privacy_risk.py).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": [1, 1, 2, 2, 2], "age_band": [1, 1, 3, 3, 4]})
    >>> from veplab.privacy import equivalence_class_sizes
    >>> equivalence_class_sizes(df, ["gender", "age_band"]).tolist()
    [2, 2, 2, 2, 1]
    """
    qi = _check_qi(df, quasi_identifiers)
    check_choice(missing, "missing", ("wildcard", "category"))
    fk, _, _ = _class_frequencies(_codes(df, qi), None, missing)
    return pd.Series(fk.astype(np.int64), index=df.index, name="class_size")


def individual_risk(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    weights: str | Sequence[float] | pd.Series | None = None,
    missing: str = "wildcard",
) -> pd.Series:
    """Per-record re-identification risk (row-level: never publish).

    ``1/f_k`` without weights; with ``weights`` the Benedetti-Franconi
    approximation of sdcMicro ``indivRisk(freqCalc(x, keyVars, w), method="approx")``.

    Without weights ``r = 1 / f_k``; with weights, ``F_k`` the summed weights
    of the class and ``p = f_k / F_k``::

        f_k = 1:  r = p/(1-p) * log(1/p)
        f_k = 2:  r = p/(1-p) - (p/(1-p))^2 * log(1/p)
        f_k > 2:  r = p / (f_k - (1 - p))

    References
    ----------
    Franconi L, Polettini S (2004). Individual risk estimation in mu-Argus: a review. In
    Privacy in Statistical Databases, Lecture Notes in Computer Science 3050, Springer, 262-272.
    Templ M, Kowarik A, Meindl B (2015). Statistical disclosure control for micro-data using
    the R package sdcMicro. Journal of Statistical Software 67(4), 1-36.
    The class sizes and ``sum 1/f_k`` agree with ``sdcMicro::freqCalc`` semantics written out
    in base R (tests/reference/privacy.R); the weighted risks with the values sdcMicro's own
    tests assert for ``indivRisk(method = "approx")`` (tests/test_privacy_risk.py).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": [1, 1, 2, 2, 2], "age_band": [1, 1, 3, 3, 4]})
    >>> from veplab.privacy import individual_risk
    >>> individual_risk(df, ["gender", "age_band"]).tolist()
    [0.5, 0.5, 0.5, 0.5, 1.0]
    """
    qi = _check_qi(df, quasi_identifiers)
    check_choice(missing, "missing", ("wildcard", "category"))
    w = _check_weights(df, weights)
    fk, Fk, _ = _class_frequencies(_codes(df, qi), w, missing)
    risk = 1.0 / fk if Fk is None else _bf_risk(fk, Fk)
    return pd.Series(risk, index=df.index, name="individual_risk")


def _check_qi(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> list[str]:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"risk: expected a pandas DataFrame, got {type(df).__name__}")
    qi = [quasi_identifiers] if isinstance(quasi_identifiers, str) else list(quasi_identifiers)
    if not qi:
        raise InputError(
            "risk: no quasi-identifiers; mark them with role quasi_identifier in the codebook or pass "
            "quasi_identifiers=[...]"
        )
    missing = [c for c in qi if c not in df.columns]
    if missing:
        raise InputError(f"risk: quasi-identifier column(s) {missing} not in the data")
    if len(df) == 0:
        raise InputError("risk: the data have no rows")
    return qi


def _check_weights(df: pd.DataFrame, weights: Any) -> np.ndarray | None:
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in df.columns:
            raise InputError(f"risk: weights column {weights!r} not in the data")
        w = pd.to_numeric(df[weights], errors="coerce").to_numpy(dtype=np.float64)
        name = weights
    else:
        w = np.asarray(weights, dtype=np.float64)
        name = "weights"
    if w.shape != (len(df),):
        raise InputError(f"risk: {name} must have one value per row ({len(df)}), got shape {w.shape}")
    bad = ~np.isfinite(w) | (w < 1.0)
    if bad.any():
        raise InputError(
            f"risk: {name} has {int(bad.sum())} missing, non-finite or below-1 values (sampling weights are "
            "inverse inclusion probabilities, at least 1); fix or drop those rows"
        )
    return w


@dataclasses.dataclass(frozen=True, eq=False)
class RiskReport(Result):
    """Disclosure-risk summary of a microdata file (see :func:`risk_report`).

    Scalar fields summarise; ``k_table``, ``l_table``, ``class_size_table``
    and ``risk_table`` are aggregate tables.  ``individual_risk`` and
    ``class_size`` are row-level (for use inside the secure environment only)
    and are not printed.
    """

    n: int
    n_quasi_identifiers: int
    k: int
    n_classes: int
    min_class_size: int
    records_below_k: int
    share_below_k: float
    sample_uniques: int
    expected_reidentifications: float
    reidentification_rate: float
    max_individual_risk: float
    records_risk_above_0_1: int
    weighted: bool
    missing: str
    quasi_identifiers: tuple[str, ...] = dataclasses.field(default=(), repr=False)
    k_table: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame, repr=False)
    l_table: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame, repr=False)
    class_size_table: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame, repr=False)
    risk_table: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame, repr=False)
    individual_risk: pd.Series = dataclasses.field(default_factory=pd.Series, repr=False)
    class_size: pd.Series = dataclasses.field(default_factory=pd.Series, repr=False)

    @property
    def is_k_anonymous(self) -> bool:
        """Whether every record's class has at least ``k`` members."""
        return self.records_below_k == 0

    def summary(self) -> str:
        """Readable text: headline numbers, the k table and the l-diversity table (no row-level data)."""
        lines = [
            f"Re-identification risk ({self.n} records; quasi-identifiers: {', '.join(self.quasi_identifiers)};"
            f" missing={self.missing}{'; weighted' if self.weighted else ''})",
            f"  equivalence classes      {self.n_classes}  (smallest {self.min_class_size}; sample uniques "
            f"{self.sample_uniques})",
            f"  records in classes < {self.k:<3} {self.records_below_k} ({self.share_below_k:.1%})",
            f"  expected re-identifications {self.expected_reidentifications:.6g} "
            f"(rate {self.reidentification_rate:.4%}); max individual risk {self.max_individual_risk:.6g}",
            "",
            "k-anonymity:",
            self.k_table.to_string(index=False),
        ]
        if len(self.l_table):
            lines += ["", "distinct l-diversity of sensitive items:", self.l_table.to_string(index=False)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def risk_report(
    df: pd.DataFrame,
    codebook: Codebook | None = None,
    *,
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    k: int = 3,
    weights: str | Sequence[float] | pd.Series | None = None,
    missing: str = "wildcard",
) -> RiskReport:
    """k-anonymity, l-diversity and re-identification risk of ``df`` (sdcMicro ``measure_risk``).

    Parameters
    ----------
    df : microdata, one row per person.
    codebook : quasi-identifiers are its items with role ``quasi_identifier``
        and sensitive items those with role ``sensitive`` (present in ``df``).
    quasi_identifiers, sensitive : explicit column lists (override the codebook).
    k : the study's k for the headline numbers (the table always shows 2, 3, 5, 10).
    weights : sampling weights (column name or values, each >= 1) for the
        Benedetti-Franconi individual risk; ``None`` when the file is the
        whole population of interest (risk ``1/f_k``).
    missing : ``"wildcard"`` (sdcMicro) or ``"category"``.

    Returns a :class:`RiskReport`.  Matches sdcMicro: ``fk`` as
    ``freqCalc(x, keyVars)$fk``; individual risk as ``indivRisk`` (method
    ``approx``); ``expected_reidentifications`` as ``measure_risk()$global$risk_ER``
    (without its ``-0.0001`` offset when weighted).

    Expected re-identifications and rate, from the individual risks ``r_i``::

        ER = sum_i r_i,   rate = ER / n

    References
    ----------
    Sweeney L (2002). k-anonymity: a model for protecting privacy. International Journal of
    Uncertainty, Fuzziness and Knowledge-Based Systems 10, 557-570.
    Machanavajjhala A, Kifer D, Gehrke J, Venkitasubramaniam M (2007). l-diversity:
    privacy beyond k-anonymity. ACM Transactions on Knowledge Discovery from Data 1(1), 3.
    Franconi L, Polettini S (2004). Individual risk estimation in mu-Argus: a review. In
    Privacy in Statistical Databases, Lecture Notes in Computer Science 3050, Springer, 262-272.
    Templ M, Kowarik A, Meindl B (2015). Statistical disclosure control for micro-data using
    the R package sdcMicro. Journal of Statistical Software 67(4), 1-36.
    The class sizes and ``sum 1/f_k`` agree with ``sdcMicro::freqCalc`` semantics written out
    in base R (tests/reference/privacy.R); the weighted risks with the values sdcMicro's own
    tests assert for ``indivRisk(method = "approx")`` (tests/test_privacy_risk.py).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": [1, 1, 2, 2, 2], "age_band": [1, 1, 3, 3, 4]})
    >>> from veplab.privacy import risk_report
    >>> r = risk_report(df, quasi_identifiers=["gender", "age_band"], k=2)
    >>> r.records_below_k, r.expected_reidentifications
    (1, 3.0)
    """
    check_choice(missing, "missing", ("wildcard", "category"))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise InputError(f"k must be an integer of at least 2, got {k!r}")
    if quasi_identifiers is None:
        if codebook is None:
            raise InputError("risk_report: give a codebook or quasi_identifiers=[...]")
        quasi_identifiers = [c for c in codebook.quasi_identifiers if c in df.columns]
    qi = _check_qi(df, quasi_identifiers)
    if sensitive is None:
        sensitive = [] if codebook is None else [i.id for i in codebook.by_role("sensitive") if i.id in df.columns]
    sens = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    bad = [c for c in sens if c not in df.columns]
    if bad:
        raise InputError(f"risk_report: sensitive column(s) {bad} not in the data")
    overlap = sorted(set(sens) & set(qi))
    if overlap:
        raise InputError(f"risk_report: {overlap} are listed both as quasi-identifiers and as sensitive; choose one")
    w = _check_weights(df, weights)
    codes = _codes(df, qi)
    fk, Fk, pattern = _class_frequencies(codes, w, missing)
    risk = 1.0 / fk if Fk is None else _bf_risk(fk, Fk)
    n = len(df)

    levels = sorted(set(_K_LEVELS) | {int(k)})
    pattern_fk = pd.Series(fk).groupby(pattern).first()
    k_rows = []
    for kk in levels:
        below = fk < kk
        k_rows.append({
            "k": kk,
            "records_below_k": int(below.sum()),
            "share_below_k": float(below.mean()),
            "classes_below_k": int((pattern_fk < kk).sum()),
            "k_anonymous": bool(not below.any()),
        })
    k_table = pd.DataFrame(k_rows)

    sizes = pattern_fk.astype(np.int64)
    bins = [1, 2, 3, 5, 10, 20, np.inf]
    labels = ["1", "2", "3-4", "5-9", "10-19", "20+"]
    binned = pd.cut(sizes, bins=bins, right=False, labels=labels)
    rec_binned = pd.cut(pd.Series(fk), bins=bins, right=False, labels=labels)
    class_size_table = pd.DataFrame({
        "class_size": labels,
        "classes": binned.value_counts().reindex(labels, fill_value=0).to_numpy(),
        "records": rec_binned.value_counts().reindex(labels, fill_value=0).to_numpy(),
    })

    rbins = [0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0 + 1e-12]
    rlabels = ["<0.01", "0.01-0.05", "0.05-0.1", "0.1-0.2", "0.2-0.5", "0.5-1"]
    rb = pd.cut(pd.Series(risk), bins=rbins, right=False, labels=rlabels)
    risk_table = pd.DataFrame({"risk": rlabels, "records": rb.value_counts().reindex(rlabels, fill_value=0).to_numpy()})

    # l-diversity over exact combinations (missing as its own category)
    l_rows = []
    if sens:
        exact = pd.Series(pd.factorize(pd.MultiIndex.from_arrays([codes[:, j] for j in range(codes.shape[1])]))[0])
        for s in sens:
            vals = df[s].reset_index(drop=True)
            l_per_class = vals.groupby(exact).nunique(dropna=True)
            size_per_class = exact.value_counts().reindex(l_per_class.index)
            low = l_per_class < 2
            l_rows.append({
                "sensitive": s,
                "min_l": int(l_per_class.min()),
                "classes_l_below_2": int(low.sum()),
                "records_l_below_2": int(size_per_class[low].sum()),
                "share_l_below_2": float(size_per_class[low].sum() / n),
            })
    l_table = pd.DataFrame(l_rows, columns=["sensitive", "min_l", "classes_l_below_2", "records_l_below_2",
                                            "share_l_below_2"])
    er = float(risk.sum())
    below_k = fk < k
    return RiskReport(
        n=n,
        n_quasi_identifiers=len(qi),
        k=int(k),
        n_classes=int(len(pattern_fk)),
        min_class_size=int(fk.min()),
        records_below_k=int(below_k.sum()),
        share_below_k=float(below_k.mean()),
        sample_uniques=int((fk == 1).sum()),
        expected_reidentifications=er,
        reidentification_rate=er / n,
        max_individual_risk=float(risk.max()),
        records_risk_above_0_1=int((risk > 0.1).sum()),
        weighted=w is not None,
        missing=missing,
        quasi_identifiers=tuple(qi),
        k_table=k_table,
        l_table=l_table,
        class_size_table=class_size_table,
        risk_table=risk_table,
        individual_risk=pd.Series(risk, index=df.index, name="individual_risk"),
        class_size=pd.Series(fk.astype(np.int64), index=df.index, name="class_size"),
    )


