"""Agreement among raters on categorical (and metric) ratings.

Cohen's kappa (psych::cohen.kappa), Fleiss' kappa, Gwet's AC1/AC2 and
percent agreement (the equations of Gwet 2014 that irrCAC implements), and
Krippendorff's alpha (Krippendorff 2011) with a vectorised bootstrap.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result
from .._validate import InputError, check_choice, check_ci, format_rows, rng
from . import _boot
from ._common import encode_categories, ratings_frame

__all__ = [
    "KappaResult",
    "AgreementResult",
    "cohen_kappa",
    "fleiss_kappa",
    "gwet_ac",
    "krippendorff_alpha",
    "percent_agreement",
    "agreement_table",
]


# --------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True)
class KappaResult(Result):
    """Cohen's kappa for two raters.

    ``observed`` and ``expected`` are the (weighted) observed and chance
    agreement; ``n`` the subjects rated by both raters, ``n_excluded`` those
    left out because a rating was missing.  ``table`` is the agreement
    table (counts) over ``levels``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    ci: float
    se: float
    observed: float
    expected: float
    weights: str
    se_method: str
    n_excluded: int
    levels: tuple = dataclasses.field(repr=False)
    table: pd.DataFrame = dataclasses.field(repr=False)
    note: str = ""


@dataclasses.dataclass(frozen=True)
class AgreementResult(Result):
    """A multi-rater agreement coefficient with its standard error and interval.

    ``observed``/``expected`` are the observed and chance agreement (for
    Krippendorff's alpha: the observed and expected *disagreement* D_o, D_e,
    so that alpha = 1 - D_o / D_e).
    ``n`` counts the subjects used.  ``interval`` says how the interval was
    obtained (``"t"``: coefficient +/- t(n-1) SE as irrCAC; ``"bootstrap"``:
    percentile).
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    ci: float
    se: float
    coefficient: str
    observed: float
    expected: float
    n_raters: int
    n_categories: int
    weights: str
    interval: str
    note: str = ""
    se_null: float | None = None
    z: float | None = None
    p: float | None = None
    n_boot: int | None = None
    boot_weights: str | None = None
    n_boot_failed: int | None = None
    levels: tuple = dataclasses.field(default=(), repr=False)

    def summary(self) -> str:
        lines = [
            f"{self.coefficient} = {self.estimate:.4f}  ({self.ci:.0%} CI {self.ci_low:.4f} to {self.ci_high:.4f}, "
            f"SE {self.se:.4f}, {self.interval} interval)",
            f"  n = {self.n} subjects, {self.n_raters} raters, {self.n_categories} categories, weights {self.weights}",
        ]
        if self.z is not None and np.isfinite(self.z):
            lines.append(f"  test of no agreement (null SE {self.se_null:.4g}): z = {self.z:.4g}, p = {self.p:.3g}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- helpers


def _pair_frame(a: Any, b: Any | None, what: str) -> pd.DataFrame:
    if b is None:
        if isinstance(a, pd.DataFrame) and a.shape[1] == 2:
            return a
        raise InputError(f"{what}: pass two raters' ratings (a, b) or one DataFrame with exactly two columns")
    if isinstance(a, pd.DataFrame) or isinstance(b, pd.DataFrame):
        raise InputError(f"{what}: a and b must each be one rater's ratings (a Series or a list)")
    sa = a if isinstance(a, pd.Series) else pd.Series(list(a) if not isinstance(a, np.ndarray) else a)
    sb = b if isinstance(b, pd.Series) else pd.Series(list(b) if not isinstance(b, np.ndarray) else b)
    if len(sa) != len(sb):
        raise InputError(f"{what}: the two raters rate different numbers of subjects ({len(sa)} and {len(sb)})")
    if isinstance(a, pd.Series) and isinstance(b, pd.Series) and not sa.index.equals(sb.index):
        raise InputError(f"{what}: the two Series have different indexes; align them on the subject id first")
    name_a = str(sa.name) if sa.name is not None else "rater_a"
    name_b = str(sb.name) if sb.name is not None else "rater_b"
    if name_a == name_b:
        name_a, name_b = name_a + "_a", name_b + "_b"
    return pd.DataFrame({name_a: sa.to_numpy(), name_b: sb.to_numpy()}, index=sa.index)


def _weight_matrix(weights: Any, levels: tuple, *, by_value: bool, what: str) -> tuple[np.ndarray, str]:
    """Agreement weights (1 on the diagonal).

    ``by_value=False`` (psych): linear/quadratic in the level positions
    ``1 - |i-j|/(q-1)``, ``1 - (i-j)^2/(q-1)^2``.  ``by_value=True`` (irrCAC):
    in the numeric level values ``1 - |x_i - x_j| / (max - min)`` etc.
    """
    q = len(levels)
    if weights is None or (isinstance(weights, str) and weights in ("unweighted", "identity")):
        return np.eye(q), "unweighted"
    if isinstance(weights, str):
        check_choice(weights, "weights", (None, "linear", "quadratic", "ordinal"))
        if q < 2:
            return np.eye(q), weights
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) for v in levels)
        pos = np.asarray(levels, dtype=float) if (by_value and numeric) else np.arange(1.0, q + 1)
        span = pos.max() - pos.min()
        d = np.abs(pos[:, None] - pos[None, :])
        if weights == "linear":
            return 1.0 - d / span, weights
        if weights == "quadratic":
            return 1.0 - d**2 / span**2, weights
        # Gwet's ordinal weights (irrCAC ordinal.weights)
        i = np.arange(1, q + 1)
        nkl = np.abs(i[:, None] - i[None, :]) + 1
        w = nkl * (nkl - 1) / 2.0
        return 1.0 - w / w.max(), weights
    w = np.asarray(weights, dtype=float)
    if w.shape != (q, q):
        raise InputError(f"{what}: a weight matrix must be {q} x {q} for the levels {list(levels)}, got shape {w.shape}")
    if not np.allclose(np.diag(w), 1.0) or (w > 1).any():
        raise InputError(
            f"{what}: weights are agreement weights: 1 on the diagonal and at most 1 elsewhere "
            f"(for disagreement weights v use 1 - v / v.max())"
        )
    return w, "custom"


def _counts_matrix(codes: np.ndarray, q: int) -> np.ndarray:
    """Subjects x categories: how many raters put each subject in each category."""
    n = codes.shape[0]
    out = np.zeros((n, q))
    for j in range(codes.shape[1]):
        c = codes[:, j]
        ok = c >= 0
        np.add.at(out, (np.flatnonzero(ok), c[ok]), 1.0)
    return out


def _prepare_multi(ratings: Any, what: str, levels: Sequence[Any] | None, numeric: bool = False):
    frame = ratings_frame(ratings, what=what)
    codes, lv = encode_categories(frame, what=what, levels=levels, numeric=numeric)
    rated = (codes >= 0).sum(axis=1)
    empty = rated == 0
    if empty.any():
        warnings.warn(
            f"{what}: {int(empty.sum())} subject(s) have no rating and were left out "
            f"({format_rows(list(frame.index[empty]))})",
            stacklevel=3,
        )
        codes = codes[~empty]
        frame = frame.loc[~empty]
    if codes.shape[0] < 2:
        raise InputError(f"{what}: needs at least 2 rated subjects, got {codes.shape[0]}")
    if ((codes >= 0).sum(axis=1) >= 2).sum() == 0:
        raise InputError(f"{what}: no subject was rated by two or more raters, so there is no agreement to measure")
    return frame, codes, lv


def _t_interval(est: float, se: float, n: int, ci: float, upper: float = 1.0) -> tuple[float, float]:
    tq = stats.t.ppf(1 - (1 - ci) / 2, n - 1)
    return est - tq * se, min(upper, est + tq * se)


# --------------------------------------------------------------------------- Cohen


def agreement_table(a: Any, b: Any | None = None, *, levels: Sequence[Any] | None = None) -> pd.DataFrame:
    """Agreement (confusion) table of two raters: counts over all levels of both.

    Rows are rater ``a``'s categories, columns rater ``b``'s; both axes list
    the union of the levels either rater used (or ``levels``), so the table
    is square even when a rater never used a category.  Subjects with a
    missing rating are not counted.  Cell ``(i, j)`` counts the subjects rated
    ``i`` by ``a`` and ``j`` by ``b``; observed agreement is its diagonal::

        n_ij = #{s : a_s = i, b_s = j},  p_o = sum_i n_ii / sum_ij n_ij

    Parameters
    ----------
    a, b : the two raters' ratings (sequences of equal length), or ``a`` a frame
        of two columns and ``b`` None.
    levels : the categories in order (default: those used, sorted).

    References
    ----------
    Cohen J (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement 20, 37-46 (the agreement table of two raters).
    The table R ``table(factor(a, levels), factor(b, levels))`` gives, as
    ``psych::cohen.kappa`` builds it from two columns.

    Examples
    --------
    >>> from veplab.reliability import agreement_table
    >>> agreement_table([0, 1, 2, 2], [0, 1, 1, 2]).to_numpy().tolist()
    [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    >>> agreement_table([1, 1, None], [1, 2, 2], levels=[1, 2, 3]).to_numpy().tolist()
    [[1, 1, 0], [0, 0, 0], [0, 0, 0]]
    """
    frame = _pair_frame(a, b, "agreement_table")
    codes, lv = encode_categories(frame, what="agreement_table", levels=levels)
    both = (codes >= 0).all(axis=1)
    q = len(lv)
    tab = np.zeros((q, q), dtype=np.int64)
    np.add.at(tab, (codes[both, 0], codes[both, 1]), 1)
    return pd.DataFrame(
        tab,
        index=pd.Index(lv, name=str(frame.columns[0])),
        columns=pd.Index(lv, name=str(frame.columns[1])),
    )


def _kappa_from_table(
    counts: np.ndarray, w: np.ndarray, se_method: str
) -> tuple[float, float, float, float]:
    """Kappa, its variance, observed and expected agreement from a count table.

    Variance: Fleiss, Cohen & Everitt (1969)::

        var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa))^2 - (kappa - pe (1 - kappa))^2] / (N (1 - pe)^2)

    with ``wbar_i. = sum_j p_.j w_ij`` and ``wbar_.j = sum_i p_i. w_ij``.
    ``se_method="psych"`` uses psych's code for weighted kappa, which takes
    ``p_j. sum_k w_jk`` in place of ``wbar_.j`` (identical when unweighted).
    """
    big_n = counts.sum()
    p = counts / big_n
    pr = p.sum(axis=1)
    pc = p.sum(axis=0)
    po = float((w * p).sum())
    pe = float((w * np.outer(pr, pc)).sum())
    if np.isclose(pe, 1.0, rtol=0, atol=1e-12):
        return float("nan"), float("nan"), po, pe
    kappa = (po - pe) / (1.0 - pe)
    wi = w @ pc
    if se_method == "psych":
        wj = pr * w.sum(axis=1)
    else:
        wj = w.T @ pr
    var = (
        (p * (w - (wi[:, None] + wj[None, :]) * (1 - kappa)) ** 2).sum() - (kappa - pe * (1 - kappa)) ** 2
    ) / (big_n * (1 - pe) ** 2)
    return float(kappa), float(var), po, pe


def cohen_kappa(
    a: Any,
    b: Any | None = None,
    *,
    weights: str | np.ndarray | None = None,
    ci: float = 0.95,
    levels: Sequence[Any] | None = None,
    se: str = "fce",
) -> KappaResult:
    """Cohen's kappa (weighted or not) of two raters, as ``psych::cohen.kappa``.

    With ``p_ij`` the proportion of subjects rater ``a`` puts in category
    ``i`` and rater ``b`` in ``j`` and agreement weights ``w`` (1 on the
    diagonal)::

        kappa = (po - pe) / (1 - pe),  po = sum w_ij p_ij,  pe = sum w_ij p_i. p_.j

    (Cohen 1960; weighted, Cohen 1968).  ``weights``: ``None`` (unweighted),
    ``"quadratic"`` (psych's default for its weighted kappa:
    ``1 - (i-j)^2/(q-1)^2``), ``"linear"`` (``1 - |i-j|/(q-1)``) - both over
    the *positions* of the ``q`` levels, as psych - or a ``q x q`` matrix of
    agreement weights (disagreement weights ``v`` as in Cohen 1968 become
    ``1 - v / v.max()``; kappa is unchanged).

    ``levels`` lists the categories in order; by default the union of the
    values either rater used (psych's default).  Pass the instrument's full
    scale when a category may be unused: it changes the weights.

    Standard error: Fleiss, Cohen & Everitt (1969) large-sample variance
    (``se="fce"``, default).  For unweighted kappa psych computes exactly
    this; for weighted kappa psych's code differs from the published formula
    (see :func:`_kappa_from_table`), ``se="psych"`` reproduces psych.  The
    interval is ``kappa +/- z SE``, truncated to [-1, 1] as psych does.
    psych's weighted-kappa variance can come out negative (it is not the
    variance of anything); psych then sets it to 0 and reports a zero-width
    interval.  ``se="psych"`` reproduces that, with a RuntimeWarning and a
    ``note`` saying so: use ``se="fce"`` for a valid standard error.

    Subjects with a missing rating are left out (``n_excluded``).  When the
    expected agreement is 1 (both raters used one and the same category)
    kappa is undefined: the estimate is NaN and a warning says why - report
    percent agreement or Gwet's AC1 instead.

    References
    ----------
    Cohen J (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement 20, 37-46.
    Cohen J (1968). Weighted kappa: nominal scale agreement with provision for scaled
    disagreement or partial credit. Psychological Bulletin 70, 213-220.
    Fleiss JL, Cohen J, Everitt BS (1969). Large sample standard errors of kappa and
    weighted kappa. Psychological Bulletin 72, 323-327.
    Revelle W (2022). psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package version 2.2.9. Agrees with
    ``psych::cohen.kappa`` (tests/reference/reliability.R, r_parity.R).

    Examples
    --------
    >>> from veplab.reliability import cohen_kappa
    >>> r = cohen_kappa([0, 1, 2, 2, 1, 0, 2, 1], [0, 1, 2, 1, 1, 0, 2, 2])
    >>> round(r.estimate, 3)
    0.619
    """
    ci = check_ci(ci)
    check_choice(se, "se", ("fce", "psych"))
    note = ""
    frame = _pair_frame(a, b, "cohen_kappa")
    codes, lv = encode_categories(frame, what="cohen_kappa", levels=levels)
    both = (codes >= 0).all(axis=1)
    n = int(both.sum())
    if n < 2:
        raise InputError(f"cohen_kappa: needs at least 2 subjects rated by both raters, got {n}")
    q = len(lv)
    w, wname = _weight_matrix(weights, lv, by_value=False, what="cohen_kappa")
    counts = np.zeros((q, q))
    np.add.at(counts, (codes[both, 0], codes[both, 1]), 1.0)
    kappa, var, po, pe = _kappa_from_table(counts, w, se)
    if np.isnan(kappa):
        used = sorted({lv[c] for c in codes[both].ravel()}, key=str)
        warnings.warn(
            f"cohen_kappa: kappa is undefined because the expected agreement is 1 (both raters used only "
            f"{used}); report percent agreement or Gwet's AC1 instead",
            RuntimeWarning,
            stacklevel=2,
        )
        se_v = lo = hi = float("nan")
    else:
        if var < 0 and se == "psych":
            note = (f"psych's variance formula for weighted kappa gave a negative value ({var:.3g}); "
                    "psych::cohen.kappa then sets the variance to 0 (bad = TRUE), so SE 0 and a zero-width "
                    "interval, as here: that is not a real standard error. Use se='fce' (Fleiss, Cohen & "
                    "Everitt 1969) for a valid one")
            warnings.warn(f"cohen_kappa: {note}", RuntimeWarning, stacklevel=2)
        var = max(var, 0.0)  # fce: a true variance, negative only by rounding
        se_v = float(np.sqrt(var))
        z = stats.norm.ppf(1 - (1 - ci) / 2)
        lo, hi = max(-1.0, kappa - z * se_v), min(1.0, kappa + z * se_v)
    table = pd.DataFrame(
        counts.astype(np.int64),
        index=pd.Index(lv, name=str(frame.columns[0])),
        columns=pd.Index(lv, name=str(frame.columns[1])),
    )
    return KappaResult(
        estimate=kappa,
        ci_low=lo,
        ci_high=hi,
        n=n,
        ci=ci,
        se=se_v,
        observed=po,
        expected=pe,
        weights=wname,
        se_method=se,
        n_excluded=int((~both).sum()),
        levels=lv,
        table=table,
        note=note,
    )


# --------------------------------------------------------------------------- Gwet's family


def _chance_corrected(
    counts: np.ndarray, w: np.ndarray, kind: str
) -> tuple[float, float, float, float]:
    """Gwet (2014) estimators on the subjects x categories count matrix.

    Returns (coefficient, variance, pa, pe).  ``kind`` is ``"fleiss"``
    (``pe = sum w_kl pi_k pi_l``), ``"gwet"`` (``pe = sum(w)/(q(q-1)) sum
    pi_k (1 - pi_k)``) or ``"pa"`` (``pe = 0``, percent agreement).
    """
    n, q = counts.shape
    r = counts.sum(axis=1)
    two = r >= 2
    n2 = int(two.sum())
    cw = counts @ w.T  # r*_ik = sum_l w_kl r_il
    sum_q = (counts * (cw - 1.0)).sum(axis=1)
    den = r * (r - 1.0)
    pa_i = np.where(two, sum_q / np.where(two, den, 1.0), 0.0)
    pa = float(pa_i[two].mean())
    pi = (counts / r[:, None]).mean(axis=0)
    if kind == "fleiss":
        pe = float(pi @ w @ pi)
        piw = (w @ pi + w.T @ pi) / 2.0
        pe_i = (counts @ piw) / r
    elif kind == "gwet":
        scale = w.sum() / (q * (q - 1)) if q >= 2 else float("nan")
        pe = float(scale * (pi * (1 - pi)).sum())
        pe_i = scale * (counts @ (1 - pi)) / r
    else:
        pe = 0.0
        pe_i = np.zeros(n)
    if np.isclose(pe, 1.0, rtol=0, atol=1e-12) or not np.isfinite(pe):
        return float("nan"), float("nan"), pa, pe
    coef = (pa - pe) / (1.0 - pe)
    coef_i = (n / n2) * (pa_i - pe * two) / (1.0 - pe)
    coef_i = coef_i - 2.0 * (1.0 - coef) * (pe_i - pe) / (1.0 - pe)
    var = float(((coef_i - coef) ** 2).sum() / (n * (n - 1.0)))
    return float(coef), var, pa, pe


def fleiss_kappa(
    ratings: Any, *, ci: float = 0.95, levels: Sequence[Any] | None = None
) -> AgreementResult:
    """Fleiss' kappa for any number of raters (Fleiss 1971), unweighted.

    With ``r_ik`` raters putting subject ``i`` in category ``k`` (``r_i``
    raters for subject ``i``), ``pa`` the mean over subjects with two or
    more ratings of ``sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))`` and
    ``pi_k`` the mean over subjects of ``r_ik / r_i``::

        kappa = (pa - pe) / (1 - pe),  pe = sum_k pi_k^2

    which is Fleiss (1971) when every subject has the same number of
    ratings and Gwet's (2014) generalisation when ratings are missing (the
    coefficient irrCAC's ``fleiss.kappa.raw`` computes).  ``se``: Gwet's
    (2014) non-null linearisation variance, interval ``kappa +/- t(n-1) SE``
    (upper end at most 1), as irrCAC.  ``se_null``, ``z`` and ``p``: the test
    of kappa = 0 with the null standard error of Fleiss, Nee & Landis (1979)
    (``irr::kappam.fleiss``), only defined when every subject has the same
    number of ratings (otherwise NaN, and ``note`` says so).

    References
    ----------
    Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin 76, 378-382.
    Fleiss JL, Nee JCM, Landis JR (1979). Large sample variance of kappa in the case of
    different sets of raters. Psychological Bulletin 86, 974-977.
    Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced
    Analytics, Gaithersburg MD.
    Agrees with ``irr::kappam.fleiss`` on Fleiss (1971) Table 1 and with
    ``irrCAC::fleiss.kappa.raw`` on its published examples (values quoted in
    tests/test_reliability.py).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import fleiss_kappa
    >>> r = fleiss_kappa(pd.DataFrame({"a": [1, 2, 3, 1], "b": [1, 2, 3, 2], "c": [1, 2, 1, 2]}))
    >>> round(r.estimate, 4)
    0.4667
    """
    ci = check_ci(ci)
    frame, codes, lv = _prepare_multi(ratings, "fleiss_kappa", levels)
    q = len(lv)
    counts = _counts_matrix(codes, q)
    n = counts.shape[0]
    est, var, pa, pe = _chance_corrected(counts, np.eye(q), "fleiss")
    note = ""
    if np.isnan(est):
        warnings.warn(
            f"fleiss_kappa: kappa is undefined because the expected agreement is 1 (all ratings are {lv[int(np.argmax(counts.sum(0)))]!r}); "
            f"report percent agreement instead",
            RuntimeWarning,
            stacklevel=2,
        )
        se = lo = hi = float("nan")
    else:
        se = float(np.sqrt(var))
        lo, hi = _t_interval(est, se, n, ci)
    r = counts.sum(axis=1)
    se0 = z = p = float("nan")
    if np.all(r == r[0]) and r[0] >= 2 and not np.isnan(est):
        m = r[0]
        pj = counts.sum(axis=0) / (n * m)
        qj = 1 - pj
        spq = (pj * qj).sum()
        se0 = float(np.sqrt(2.0 / (n * m * (m - 1))) * np.sqrt(spq**2 - (pj * qj * (qj - pj)).sum()) / spq)
        z = est / se0
        p = float(2 * stats.norm.sf(abs(z)))
    elif not np.isnan(est):
        note = "subjects have different numbers of ratings: the Fleiss-Nee-Landis null test is not defined"
    return AgreementResult(
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        n=int(n),
        ci=ci,
        se=se,
        coefficient="Fleiss' kappa",
        observed=pa,
        expected=pe,
        n_raters=int(frame.shape[1]),
        n_categories=q,
        weights="unweighted",
        interval="t",
        note=note,
        se_null=se0,
        z=z,
        p=p,
        levels=lv,
    )


def gwet_ac(
    ratings: Any,
    weights: str | np.ndarray | None = None,
    *,
    ci: float = 0.95,
    levels: Sequence[Any] | None = None,
) -> AgreementResult:
    """Gwet's AC1 (unweighted) or AC2 (weighted) for any number of raters.

    ``AC = (pa - pe) / (1 - pe)`` with ``pa`` the (weighted) observed
    agreement of :func:`fleiss_kappa` and Gwet's chance agreement
    ``pe = sum(w) / (q (q - 1)) * sum_k pi_k (1 - pi_k)`` over the ``q``
    categories (Gwet 2008; 2014).  AC1 is stable when one category is rare
    or very common, where kappa collapses (the prevalence paradox).

    ``weights``: ``None`` (AC1), ``"linear"``, ``"quadratic"`` or
    ``"ordinal"`` (AC2; as irrCAC these use the numeric *values* of the
    levels, e.g. ``1 - (x_k - x_l)^2 / (max - min)^2``, and positions for
    text labels), or a ``q x q`` agreement-weight matrix.  ``levels``: the
    categories (default: the values used), which matters because ``q``
    enters ``pe``.

    Standard error: Gwet's (2008) variance, valid without assuming
    independent raters; interval ``AC +/- t(n-1) SE`` with the upper end at
    most 1, as ``irrCAC::gwet.ac1.raw``.

    References
    ----------
    Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of
    high agreement. British Journal of Mathematical and Statistical Psychology 61, 29-48.
    Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced
    Analytics, Gaithersburg MD.
    Agrees with ``irrCAC::gwet.ac1.raw`` on its published examples (values quoted in
    tests/test_reliability.py).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import gwet_ac
    >>> r = gwet_ac(pd.DataFrame({"a": [1, 2, 3, 1], "b": [1, 2, 3, 2], "c": [1, 2, 1, 2]}))
    >>> round(r.estimate, 4)
    0.5152
    """
    ci = check_ci(ci)
    frame, codes, lv = _prepare_multi(ratings, "gwet_ac", levels)
    q = len(lv)
    if q < 2:
        raise InputError(
            f"gwet_ac: every rating is {lv[0]!r}; with a single category chance agreement is undefined - "
            f"pass the instrument's categories with levels= (e.g. levels=[0, 1])"
        )
    w, wname = _weight_matrix(weights, lv, by_value=True, what="gwet_ac")
    counts = _counts_matrix(codes, q)
    n = counts.shape[0]
    est, var, pa, pe = _chance_corrected(counts, w, "gwet")
    se = float(np.sqrt(var))
    lo, hi = _t_interval(est, se, n, ci)
    return AgreementResult(
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        n=int(n),
        ci=ci,
        se=se,
        coefficient="Gwet's AC1" if wname == "unweighted" else "Gwet's AC2",
        observed=pa,
        expected=pe,
        n_raters=int(frame.shape[1]),
        n_categories=q,
        weights=wname,
        interval="t",
        levels=lv,
    )


def percent_agreement(
    ratings: Any,
    *,
    ci: float = 0.95,
    tolerance: float = 0.0,
    levels: Sequence[Any] | None = None,
) -> AgreementResult:
    """Percent agreement: the share of agreeing rater pairs, averaged over subjects.

    For each subject rated at least twice, the proportion of pairs of its
    raters that agree (for two raters: agree or not); averaged over those
    subjects (Gwet 2014, irrCAC's ``pa.coeff.raw``).  ``tolerance`` counts
    numeric ratings within that distance as agreeing (``tolerance=1``:
    agreement within one scale point).  Standard error and interval as
    irrCAC (t with n - 1 df), the interval kept within [0, 1].

    With ``r_ik`` of the ``r_i`` raters of subject ``i`` choosing category
    ``k`` and ``n'`` subjects with ``r_i >= 2``::

        pa = (1 / n') sum_i sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))

    References
    ----------
    Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed. Advanced
    Analytics, Gaithersburg MD.
    Agrees with ``irrCAC::pa.coeff.raw`` on its published examples (values quoted in
    tests/test_reliability.py).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.reliability import percent_agreement
    >>> percent_agreement(pd.DataFrame({"a": [1, 2, 3, 1], "b": [1, 2, 3, 2]})).estimate
    0.75
    """
    ci = check_ci(ci)
    frame, codes, lv = _prepare_multi(ratings, "percent_agreement", levels, numeric=tolerance > 0)
    q = len(lv)
    if tolerance < 0:
        raise InputError(f"percent_agreement: tolerance must be >= 0, got {tolerance}")
    if tolerance > 0:
        v = np.asarray(lv, dtype=float)
        w = (np.abs(v[:, None] - v[None, :]) <= tolerance + 1e-12).astype(float)
        wname = f"within {tolerance:g}"
    else:
        w = np.eye(q)
        wname = "exact"
    counts = _counts_matrix(codes, q)
    n = counts.shape[0]
    est, var, pa, pe = _chance_corrected(counts, w, "pa")
    se = float(np.sqrt(var))
    lo, hi = _t_interval(est, se, n, ci)
    return AgreementResult(
        estimate=est,
        ci_low=max(0.0, lo),
        ci_high=hi,
        n=int(n),
        ci=ci,
        se=se,
        coefficient="percent agreement",
        observed=pa,
        expected=0.0,
        n_raters=int(frame.shape[1]),
        n_categories=q,
        weights=wname,
        interval="t",
        levels=lv,
    )


# --------------------------------------------------------------------------- Krippendorff


def _kripp_features(codes: np.ndarray, values: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Per pairable unit features whose sums give alpha (see :func:`_kripp_alpha_from_sums`)."""
    q = values.size
    counts = _counts_matrix(codes, q)
    m = counts.sum(axis=1)
    pair = m >= 2
    counts = counts[pair]
    m = m[pair]
    if level == "ordinal":
        # per-unit coincidence matrices, flattened (q^2 features)
        co = counts[:, :, None] * counts[:, None, :]
        idx = np.arange(q)
        co[:, idx, idx] -= counts
        feats = (co / (m - 1.0)[:, None, None]).reshape(counts.shape[0], q * q)
    elif level == "interval":
        s1 = counts @ values
        s2 = counts @ values**2
        do = (2.0 * m * s2 - 2.0 * s1**2) / (m - 1.0)
        feats = np.column_stack([do, m, s1, s2])
    else:
        delta = _delta(values, level)
        # observed disagreement of the unit: sum_{c,k} n_uc n_uk delta_ck / (m_u - 1)
        do = np.einsum("uc,ck,uk->u", counts, delta, counts) / (m - 1.0)
        feats = np.column_stack([do, counts])
    return feats, pair


def _delta(values: np.ndarray, level: str) -> np.ndarray:
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "ratio":
        s = values[:, None] + values[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            d = ((values[:, None] - values[None, :]) / s) ** 2
        return np.where(s == 0, 0.0, d)
    raise AssertionError(level)


def _kripp_alpha_from_sums(s: np.ndarray, values: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alpha, observed and expected disagreement from summed unit features (rows: resamples)."""
    q = values.size
    if level == "ordinal":
        o = s.reshape(-1, q, q)
        nc = o.sum(axis=2)
        cum = np.cumsum(nc, axis=1)
        # delta_ck = (sum_{g=c}^{k} n_g - (n_c + n_k)/2)^2 for c <= k
        lo = np.minimum.outer(np.arange(q), np.arange(q))
        hi = np.maximum.outer(np.arange(q), np.arange(q))
        between = cum[:, hi] - np.where(lo > 0, cum[:, np.maximum(lo - 1, 0)], 0.0)
        delta = (between - (nc[:, :, None] + nc[:, None, :]) / 2.0) ** 2
        n = nc.sum(axis=1)
        do_sum = (o * delta).sum(axis=(1, 2))
        de_sum = np.einsum("bc,bck,bk->b", nc, delta, nc)
    elif level == "interval":
        do_sum, n, s1, s2 = s[:, 0], s[:, 1], s[:, 2], s[:, 3]
        de_sum = 2.0 * n * s2 - 2.0 * s1**2
    else:
        do_sum = s[:, 0]
        nc = s[:, 1:]
        n = nc.sum(axis=1)
        de_sum = np.einsum("bc,ck,bk->b", nc, _delta(values, level), nc)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_o = do_sum / n
        d_e = de_sum / (n * (n - 1.0))
        alpha = 1.0 - d_o / d_e
    return alpha, d_o, d_e


def krippendorff_alpha(
    ratings: Any,
    level: str = "nominal",
    *,
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    boot_weights: str = "auto",
    levels: Sequence[Any] | None = None,
) -> AgreementResult:
    """Krippendorff's alpha for any number of raters, missing ratings and four metrics.

    ``alpha = 1 - D_o / D_e``, observed and expected disagreement from the
    coincidence matrix ``o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1)``
    over the units (subjects) ``u`` with ``m_u >= 2`` ratings, with
    marginals ``n_c`` and ``n = sum n_c``::

        alpha = 1 - (n - 1) sum_ck o_ck delta_ck / sum_ck n_c n_k delta_ck

    and the squared differences ``delta_ck``: nominal ``[c != k]``, ordinal
    ``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2``, interval ``(c - k)^2``, ratio
    ``((c - k)/(c + k))^2`` (Krippendorff 2011, "Computing Krippendorff's
    alpha-reliability").  Subjects with fewer than two ratings are not
    pairable and do not count.

    The interval is a percentile bootstrap over subjects (``n_boot``
    resamples, all computed at once from per-subject coincidence sums); ``se``
    is the bootstrap standard deviation.  (Hayes & Krippendorff's 2007
    bootstrap resamples pairs of values instead.)  ``n`` is the number of
    pairable subjects.

    ``level`` ``"ordinal"``/``"interval"``/``"ratio"`` need numeric ratings;
    ``levels`` fixes the ordinal categories.  Raises :class:`InputError` when
    no subject has two ratings or all pairable ratings are identical (alpha
    is then undefined).

    References
    ----------
    Krippendorff K (2011). Computing Krippendorff's alpha-reliability. Departmental
    Papers (ASC) 43, Annenberg School for Communication, University of Pennsylvania.
    Hayes AF, Krippendorff K (2007). Answering the call for a standard reliability measure
    for coding data. Communication Methods and Measures 1, 77-89.
    Agrees with the published values of Krippendorff (2011) and with
    ``irrCAC::krippen.alpha.raw`` (values quoted in tests/test_reliability.py; the
    estimator is also written out in R in tests/reference/reliability.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.reliability import krippendorff_alpha
    >>> x = pd.DataFrame({"a": [1, 2, 3, 3, 2], "b": [1, 2, 3, 3, 2], "c": [np.nan, 3, 3, 3, 2]})
    >>> round(krippendorff_alpha(x, n_boot=0).estimate, 3)
    0.78
    """
    ci = check_ci(ci)
    check_choice(level, "level", ("nominal", "ordinal", "interval", "ratio"))
    frame, codes, lv = _prepare_multi(ratings, "krippendorff_alpha", levels, numeric=level != "nominal")
    q = len(lv)
    values = np.arange(q, dtype=float) if level == "nominal" else np.asarray(lv, dtype=float)
    if level == "ratio" and (values < 0).any():
        raise InputError("krippendorff_alpha: the ratio metric needs non-negative values")
    feats, pair = _kripp_features(codes, values, level)
    n_units = int(pair.sum())
    alpha, d_o, d_e = _kripp_alpha_from_sums(feats.sum(axis=0)[None, :], values, level)
    if not np.isfinite(alpha[0]) or d_e[0] <= 0:
        raise InputError(
            "krippendorff_alpha: all pairable ratings have the same value, so the expected disagreement is 0 "
            "and alpha is undefined"
        )
    est = float(alpha[0])
    nan = float("nan")
    se = lo = hi = nan
    failed = None
    scheme = None
    if n_boot:
        n_boot = _boot.check_n_boot(n_boot)
        scheme = _boot.resolve_scheme(boot_weights, n_units, n_boot)
        sums = _boot.resampled_sums(feats, n_boot, rng(seed), scheme)
        vals, _, _ = _kripp_alpha_from_sums(sums, values, level)
        lo, hi, failed = _boot.percentile_interval(vals, ci)
        finite = vals[np.isfinite(vals)]
        se = float(np.std(finite, ddof=1)) if finite.size > 1 else nan
    return AgreementResult(
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        n=n_units,
        ci=ci,
        se=se,
        coefficient=f"Krippendorff's alpha ({level})",
        observed=float(d_o[0]),
        expected=float(d_e[0]),
        n_raters=int(frame.shape[1]),
        n_categories=q,
        weights=level,
        interval="bootstrap" if n_boot else "none",
        note="" if n_boot else "no bootstrap (n_boot=0): interval not computed",
        n_boot=int(n_boot) if n_boot else None,
        boot_weights=scheme,
        n_boot_failed=failed,
        levels=lv,
    )
