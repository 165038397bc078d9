"""Reliability of a whole instrument from its codebook."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import InputError, numeric_frame
from ..codebook import ORDERED_TYPES, Codebook, Item
from ..data.scoring import dichotomous, scored_items
from ._agreement import cohen_kappa, fleiss_kappa, gwet_ac, krippendorff_alpha, percent_agreement
from ._alpha import alpha, _reason_shares
from ._icc import icc, icc_oneway, long_to_wide
from ._omega import omega

__all__ = ["ReliabilityReport", "case_agreement", "paired_ratings", "rating_design", "reliability_report"]

_SCALE_COLUMNS = [
    "scale", "n", "k", "coefficient", "kr20", "alpha", "alpha_ci_low", "alpha_ci_high", "std_alpha", "average_r",
    "omega_total", "omega_ci_low", "omega_ci_high", "omega_h", "omega_h_ci_low", "omega_h_ci_high", "note",
]
_AGREEMENT_COLUMNS = [
    "item", "type", "role", "n", "ratings_per_case", "levels", "percent_agreement", "pa_ci_low", "pa_ci_high",
    "kappa", "kappa_weights", "kappa_se", "kappa_ci_low", "kappa_ci_high",
    "ac1", "ac1_ci_low", "ac1_ci_high", "kripp_alpha", "kripp_level", "kripp_ci_low", "kripp_ci_high",
    "icc", "icc_form", "icc_ci_low", "icc_ci_high", "icc_c", "icc_c_ci_low", "icc_c_ci_high",
    "prevalence_paradox", "note",
]
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


@dataclasses.dataclass(frozen=True)
class ReliabilityReport(Result):
    """Reliability of an instrument: scales, items and (rating tools) agreement.

    ``scales``: one row per codebook scale (alpha, omega total, omega
    hierarchical with intervals; ``coefficient`` names the alpha --
    ``"KR-20"`` when every item of the scale is right/wrong (``kr20`` True:
    alpha on 0/1 items is Kuder-Richardson formula 20), else
    ``"Cronbach's alpha"``); ``items``: item analysis per scale item (on
    scored items: the ``mean`` of a keyed item is the share answering it
    correctly);
    ``agreement``: per rated item and the final judgement (percent
    agreement, kappa, AC1, Krippendorff's alpha, ICC, prevalence-paradox
    flag).  ``design``: the rating design (:func:`rating_design`; empty
    without one).  ``notes`` lists what was skipped and why (each table row
    also has its own ``note``).
    """

    codebook: str
    scales: pd.DataFrame = dataclasses.field(repr=False)
    items: pd.DataFrame = dataclasses.field(repr=False)
    agreement: pd.DataFrame = dataclasses.field(repr=False)
    notes: tuple[str, ...] = ()
    design: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """The three tables by name (``scales``, ``items``, ``agreement``) plus ``notes``."""
        return {
            "scales": self.scales,
            "items": self.items,
            "agreement": self.agreement,
            "notes": pd.DataFrame({"note": list(self.notes)}),
        }

    def summary(self) -> str:
        lines = [f"Reliability of {self.codebook}"]
        if len(self.scales):
            lines.append(self.scales[["scale", "n", "k", "alpha", "omega_total", "omega_h"]].to_string(index=False))
        if len(self.agreement):
            lines.append(
                self.agreement[["item", "n", "percent_agreement", "kappa", "ac1", "icc", "prevalence_paradox"]].to_string(
                    index=False
                )
            )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _load_info(df: pd.DataFrame) -> Any:
    """What veplab.data.load recorded about ``df`` (None when not loaded by it)."""
    try:
        from ..data.load import load_info
    except ImportError:  # pragma: no cover - data layer not installed
        return None
    try:
        return load_info(df)
    except Exception:  # pragma: no cover - defensive: never fail the report on metadata
        return None


def _recorded_reasons(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame | None:
    """Why answers are missing, as veplab.data.load recorded it in the reason columns (they survive merges).

    Raises :class:`veplab.data.ReasonsLost` when ``df`` is a load's frame whose reason columns were dropped.
    """
    try:
        from ..data.reasons import missing_reasons as recorded
    except ImportError:  # pragma: no cover
        return None
    out = recorded(df, columns)
    return out.astype(object).where(out.notna(), None)


def _recode_missing(col: pd.Series, item: Item) -> tuple[pd.Series, pd.Series]:
    """Numeric values with the item's missing codes set to NaN, and the reasons."""
    values = numeric_frame(col.to_frame(), what="reliability_report").iloc[:, 0]
    reasons = pd.Series(pd.NA, index=col.index, dtype=object)
    for code, reason in item.missing.items():
        hit = values == code
        if hit.any():
            reasons[hit] = reason
            values = values.mask(hit)
    return values, reasons


def _code_reasons(col: pd.Series, item: Item) -> pd.Series:
    """Why an answer is missing, where ``col`` still holds the item's missing codes (else NA)."""
    values = pd.to_numeric(pd.Series(np.asarray(col, dtype=object), index=col.index), errors="coerce")
    reasons = pd.Series(pd.NA, index=col.index, dtype=object)
    for code, reason in item.missing.items():
        reasons[values == code] = reason
    return reasons


def _scale_frame(
    df: pd.DataFrame, cb: Codebook, ids: list[str], reversed_items: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scale's items scored as every item statistic takes them, and the reasons of missing codes.

    Scoring is :func:`veplab.scoring.scored_items` (missing codes missing, keyed
    items 1 correct / 0 otherwise, reverse-keyed items reversed), the one
    scoring function of the package.
    """
    frame = scored_items(df, cb, ids, already_reversed=reversed_items)
    reasons = pd.DataFrame({iid: _code_reasons(df[iid], cb.item(iid)) for iid in ids}, index=df.index)
    return frame, reasons


def _catch(fn, notes: list[str], label: str):
    """Run ``fn``; turn InputError and warnings into notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn()
        except InputError as exc:
            notes.append(f"{label}: {exc}")
            out = None
    for w in caught:
        notes.append(f"{label}: {w.message}")
    return out


def reliability_report(
    df: pd.DataFrame,
    codebook: Codebook,
    *,
    subject: str | None = None,
    rater: str | None = None,
    judgement: str | None = None,
    rated_items: Sequence[str] | None = None,
    ci: float = 0.95,
    n_boot: int = 1000,
    seed: int | None = None,
    missing_reasons: pd.DataFrame | None = None,
    reversed_items: bool | None = None,
    paradox_agreement: float = 0.80,
    paradox_kappa: float = 0.40,
) -> ReliabilityReport:
    """Reliability of every scale of an instrument, and agreement between the raters of a rating tool.

    **Scales** (``codebook.scales``): items are taken from ``df`` and scored
    by :func:`veplab.scoring.scored_items` before any statistic: the item's
    missing codes (don't know, refused, ...) become missing, keyed knowledge
    items (``Item.key``) score 1 for the correct option and 0 for any other
    option (an "I don't know" *option* included), reverse-keyed items
    (``Item.reverse``) are reversed with ``Item.reversed_code`` (unless the
    columns are already reversed: ``reversed_items=True``, or by default when
    ``df`` comes from ``veplab.data.load(..., reverse=True)``).  On a scale
    whose items are all right/wrong, alpha is KR-20,
    ``k / (k - 1) * (1 - sum p_j q_j / var(total))`` (``coefficient`` says
    so), and item means are shares correct.  Then
    :func:`alpha` (pairwise, Feldt interval), :func:`omega` (total with a
    bootstrap interval; hierarchical where identified) and
    :func:`item_analysis` with the share of each missing reason (from
    ``missing_reasons``, else from what ``veplab.data.load`` recorded, else
    from the missing codes found in ``df``).

    **Agreement** when ``subject`` and ``rater`` are given (the codebook's
    ``design: {subject, rater, judgement}`` is only their default): ``df`` is
    long, one row per rating.  The design (:func:`rating_design`) is
    *crossed* when the same raters rate every case (as many raters in all as
    the most ratings a case has; a missing rating here and there is allowed)
    and a *pool* design when each case is rated by some raters drawn from a
    larger pool.  For every rated item (``rated_items``, default every
    coded item of the codebook) and the final judgement (``judgement``,
    default the codebook's ``design.judgement``):

    * percent agreement and Gwet's AC1 (any number of raters; irrCAC);
    * two ratings per case: Cohen's kappa, quadratic weights for ordered
      items (likert, ordinal) over the codebook's option codes, unweighted
      for binary and categorical items (``psych::cohen.kappa``); in a pool
      design the ratings are paired as each case's first and second rating,
      by rater id;
    * three or more ratings per case: Fleiss' kappa (unweighted; Gwet's
      generalisation when cases have different numbers of ratings, irrCAC's
      ``fleiss.kappa.raw``);
    * Krippendorff's alpha for every design (``kripp_level``: ordinal for
      ordered items, nominal for binary/categorical ones, interval for
      numeric ones; missing ratings and pools allowed; percentile bootstrap
      interval over cases with ``n_boot`` resamples);
    * for likert, ordinal and numeric items the ICC that fits the design:
      crossed, ICC(A,1) (two-way random, absolute agreement; ``icc``) and
      ICC(C,1) (consistency; ``icc_c``) from :func:`icc` (REML when a rating
      is missing, as ``psych::ICC(lmer = TRUE)``); pool, the one-way ICC(1)
      of :func:`icc_oneway` (rater and error cannot be told apart).

    ``ratings_per_case`` gives the number of ratings of the cases (``"3"``,
    ``"2-3"``); ``n`` the cases with at least two ratings of the item.
    ``prevalence_paradox`` flags high observed agreement (``>=
    paradox_agreement``) with low kappa (``< paradox_kappa``): kappa is
    depressed by a skewed category distribution (Feinstein & Cicchetti
    1990), AC1 is the better summary there.  In a rating design, internal
    consistency is computed from each case's first rating (lowest rater id)
    so that cases count once.

    References
    ----------
    Kuder & Richardson (1937); Cohen (1968); Fleiss (1971); Shrout & Fleiss (1979); Krippendorff (2011)
    "Computing Krippendorff's alpha-reliability"; Gwet (2014) Handbook of
    Inter-Rater Reliability, 4th ed.

    Problems with one scale or item (a constant item, kappa undefined, ...)
    do not stop the report: the row gets NaN and ``note`` / ``notes`` say why.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> opts = {1: "Never", 2: "Sometimes", 3: "Often", 4: "Always"}
    >>> cb = from_dict({"id": "climate", "title": "Prison climate", "id_column": "rid",
    ...     "items": [{"id": f"s{j}", "label": f"Safety {j}", "type": "likert", "options": opts} for j in range(1, 5)],
    ...     "scales": [{"id": "safety", "label": "Feeling safe", "items": ["s1", "s2", "s3", "s4"]}]})
    >>> rng = np.random.default_rng(5)
    >>> f = rng.normal(size=200)
    >>> data = pd.DataFrame({f"s{j}": np.clip(np.round(2.5 + f + rng.normal(scale=0.8, size=200)), 1, 4)
    ...                      for j in range(1, 5)})
    >>> rep = reliability_report(data, cb, n_boot=200, seed=1)
    >>> rep.to_frames()["scales"][["scale", "n", "alpha", "alpha_ci_low", "alpha_ci_high", "omega_total"]].round(3)
        scale    n  alpha  alpha_ci_low  alpha_ci_high  omega_total
    0  safety  200  0.808         0.761          0.848        0.809
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"reliability_report: expected a DataFrame, got {type(df).__name__}")
    if not isinstance(codebook, Codebook):
        raise InputError("reliability_report: codebook must be a veplab.codebook.Codebook (use veplab.codebook.load)")
    notes: list[str] = []
    info = _load_info(df)
    if reversed_items is None:
        reversed_items = bool(getattr(info, "reversed", False))
    declared = dict(codebook.extra.get("design") or {})
    subject = subject or declared.get("subject")
    rater = rater or declared.get("rater")
    judgement = judgement or declared.get("judgement")
    is_rating = subject is not None and rater is not None
    if (subject is None) != (rater is None):
        raise InputError("reliability_report: give both subject and rater (or neither)")
    for col in (subject, rater):
        if col is not None and col not in df.columns:
            raise InputError(f"reliability_report: column {col!r} (design) not in the data; columns are {list(df.columns)}")
    design: dict[str, Any] = {}

    base = df
    if is_rating:
        scale_items = [i for sc in codebook.scales for i in sc.items if i in df.columns]
        rated_rows = df.loc[df[scale_items].notna().any(axis=1)] if scale_items else df
        order = rated_rows.sort_values([subject, rater], kind="stable")
        base = order.loc[~order[subject].duplicated(keep="first")]
        notes.append("internal consistency uses each case's first rating (by rater id) so that cases count once")

    scale_rows, item_rows = [], []
    for sc in codebook.scales:
        absent = [i for i in sc.items if i not in base.columns]
        if absent:
            notes.append(f"scale {sc.id!r}: items {absent} are not in the data; skipped")
            continue
        unanswered = [i for i in sc.items if base[i].isna().all()]
        if unanswered:
            # e.g. reaction items asked only after training, in a pre-training sample
            notes.append(f"scale {sc.id!r}: items {unanswered} have no answers in these data; skipped")
            continue
        try:
            frame, reasons = _scale_frame(base, codebook, list(sc.items), reversed_items)
        except InputError as exc:
            notes.append(f"scale {sc.id!r}: {exc}; skipped")
            continue
        kr20 = dichotomous(frame)
        if missing_reasons is None:  # reason columns: also after a merge, which drops load's record
            recorded = _recorded_reasons(base, list(sc.items))
            if recorded is not None:
                reasons = reasons.where(reasons.notna(), recorded)
        snotes: list[str] = []
        a = _catch(lambda: alpha(frame, ci=ci), snotes, f"scale {sc.id!r} alpha")
        o = None
        if frame.shape[1] >= 3 and a is not None:
            o = _catch(lambda: omega(frame, ci=ci, n_boot=n_boot, seed=seed), snotes, f"scale {sc.id!r} omega")
            if o is not None and o.note:
                snotes.append(f"scale {sc.id!r} omega: {o.note}")
        elif a is not None:
            snotes.append(f"scale {sc.id!r}: omega needs at least 3 items")
        nan = float("nan")
        scale_rows.append(
            {
                "scale": sc.id,
                "n": a.n if a else int(frame.notna().any(axis=1).sum()),
                "k": frame.shape[1],
                "coefficient": "KR-20" if kr20 else "Cronbach's alpha",
                "kr20": kr20,
                "alpha": a.estimate if a else nan,
                "alpha_ci_low": a.ci_low if a else nan,
                "alpha_ci_high": a.ci_high if a else nan,
                "std_alpha": a.std_alpha if a else nan,
                "average_r": a.average_r if a else nan,
                "omega_total": o.estimate if o else nan,
                "omega_ci_low": o.ci_low if o else nan,
                "omega_ci_high": o.ci_high if o else nan,
                "omega_h": o.omega_h if o else nan,
                "omega_h_ci_low": o.omega_h_ci_low if o else nan,
                "omega_h_ci_high": o.omega_h_ci_high if o else nan,
                "note": "; ".join(snotes),
            }
        )
        if a is not None:
            table = a.items.copy()
            rs = reasons
            if missing_reasons is not None:
                if set(sc.items) <= set(missing_reasons.columns):
                    rs = missing_reasons[list(sc.items)].reindex(frame.index)
                else:
                    notes.append(f"scale {sc.id!r}: missing_reasons lacks some of its items; reasons taken from the codes")
            table = table.join(_catch(lambda: _reason_shares(frame, rs), notes, f"scale {sc.id!r} missing reasons"))
            table.insert(0, "scale", sc.id)
            item_rows.append(table.reset_index())
    scales = pd.DataFrame(scale_rows, columns=_SCALE_COLUMNS)
    items = pd.concat(item_rows, ignore_index=True) if item_rows else pd.DataFrame(columns=["scale", "item"])
    share = [c for c in items.columns if str(c).startswith("share_")]
    items[share] = items[share].fillna(0.0)  # a reason that never occurs in a scale has share 0

    agree_rows: list[dict[str, Any]] = []
    if subject is not None and rater is not None:  # is_rating
        skip = {codebook.id_column, subject, rater}
        if rated_items is not None:
            unknown = [i for i in rated_items if i not in codebook or i not in df.columns]
            if unknown:
                raise InputError(f"reliability_report: rated_items {unknown} are not items of codebook "
                                 f"{codebook.id!r} present in the data")
            rated = [codebook.item(i) for i in rated_items if i not in skip]
        else:
            rated = [
                it for it in codebook.items
                if it.id in df.columns and it.id not in skip and it.role in ("item", "outcome")
                and it.type in ("likert", "ordinal", "binary", "categorical", "numeric")
            ]
        if judgement is not None and judgement not in [it.id for it in rated]:
            if judgement in codebook and judgement in df.columns:
                rated.append(codebook.item(judgement))
            else:
                notes.append(f"final judgement item {judgement!r} not found in the codebook and data")
        design = rating_design(df, subject, rater, values=[it.id for it in rated])
        if design["max_per_case"] < 2:
            notes.append("no case was rated more than once, so there is no agreement to measure")
            rated = []
        for it in rated:
            agree_rows.append(
                _agreement_row(df, it, subject, rater, judgement, design, ci, n_boot, seed, paradox_agreement,
                               paradox_kappa)
            )
    agreement = pd.DataFrame(agree_rows, columns=_AGREEMENT_COLUMNS)
    return ReliabilityReport(codebook=codebook.id, scales=scales, items=items, agreement=agreement, notes=tuple(notes),
                             design=design)


def rating_design(df: pd.DataFrame, subject: str, rater: str, values: Sequence[str] | None = None) -> dict[str, Any]:
    """The rating design of long ratings (one row per case and rater).

    A row counts as a rating when it names its case and rater and, if
    ``values`` names the rated columns, holds at least one of them (an export
    with a row for every case and every assessor of the pool, empty where the
    assessor did not rate the case, is a pool design).

    Returns ``n_cases``, ``n_raters`` (raters in all), ``min_per_case`` and
    ``max_per_case`` (raters per case), ``crossed`` (the same raters rate every
    case: there are no more raters in all than the most a case has, so a
    two-way model with rater effects applies; a rating missing here and there
    is allowed) and ``kind`` (``"crossed"`` or ``"pool"``: each case rated by
    some raters drawn from a larger pool, the one-way design).  Raises
    :class:`InputError` naming the pairs when a rater rated a case twice.

    References
    ----------
    Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater
    reliability. Psychological Bulletin 86, 420-428 (one-way design: each case rated by
    different raters; two-way: the same raters rate every case).
    McGraw KO, Wong SP (1996). Forming inferences about some intraclass correlation
    coefficients. Psychological Methods 1, 30-46.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"case": [1, 1, 2, 2, 3, 3, 3], "rater": ["A", "B", "A", "C", "B", "C", "D"],
    ...                   "risk": [1, 1, 2, 3, 3, 3, 2]})
    >>> rating_design(r, "case", "rater")
    {'n_cases': 3, 'n_raters': 4, 'min_per_case': 2, 'max_per_case': 3, 'crossed': False, 'kind': 'pool'}
    """
    for col in (subject, rater):
        if col not in df.columns:
            raise InputError(f"rating_design: column {col!r} not in the data; columns are {list(df.columns)}")
    rows = df
    if values:
        absent = [v for v in values if v not in df.columns]
        if absent:
            raise InputError(f"rating_design: rated column(s) {absent} not in the data")
        rows = df.loc[df[list(values)].notna().any(axis=1)]
    pairs = rows[[subject, rater]].dropna()
    if pairs.empty:
        raise InputError(f"rating_design: no row has both {subject!r} and {rater!r}")
    dup = pairs.duplicated(keep=False)
    if dup.any():
        shown = ", ".join(f"({s!r}, {r!r})" for s, r in pairs[dup].drop_duplicates().head(5).itertuples(index=False))
        raise InputError(f"rating_design: a rater rated a case more than once: {shown}; keep one rating per "
                         f"({subject}, {rater}) pair")
    per_case = pairs.groupby(subject, observed=True)[rater].nunique()
    n_raters = int(pairs[rater].nunique())
    crossed = bool(n_raters == int(per_case.max()))
    return {"n_cases": len(per_case), "n_raters": n_raters, "min_per_case": int(per_case.min()),
            "max_per_case": int(per_case.max()), "crossed": crossed, "kind": "crossed" if crossed else "pool"}


def case_agreement(wide: pd.DataFrame) -> pd.DataFrame:
    """How the ratings of each case agree: one row per case rated at least twice.

    ``wide`` is one row per case and one column per rater or rating
    (:func:`paired_ratings`).  Columns: ``n_ratings``; ``majority``, the rating
    given by more than half of the case's raters (missing when there is none);
    ``unanimous``, whether every rating of the case is the same.  A table of
    ``majority`` by ``unanimous`` shows how judgements spread when three or
    more raters rate each case, where an agreement table of two raters does
    not apply.  With ``n_c`` the number of the case's ``n`` ratings equal to ``c``::

        majority = c if n_c > n / 2 (else missing),  unanimous = (n_c = n for some c)

    References
    ----------
    Fleiss JL (1971). Measuring nominal scale agreement among many raters. Psychological
    Bulletin 76, 378-382 (the counts ``n_c`` of each case's ratings by category, from
    which Fleiss' kappa is computed).

    Examples
    --------
    >>> import pandas as pd
    >>> w = pd.DataFrame({"first": ["low", "high", "low"], "second": ["low", "high", "high"],
    ...                   "third": ["low", "low", "medium"]})
    >>> case_agreement(w)["majority"].tolist()
    ['low', 'high', nan]
    """
    rows = []
    for case, values in wide.iterrows():
        v = values.dropna()
        if len(v) < 2:
            continue
        freq = v.value_counts()
        top = freq.index[0] if freq.iloc[0] * 2 > len(v) else np.nan
        rows.append({"case": case, "n_ratings": len(v), "majority": top, "unanimous": bool(len(freq) == 1)})
    out = pd.DataFrame(rows, columns=["case", "n_ratings", "majority", "unanimous"]).set_index("case")
    out.index.name = wide.index.name
    return out


def paired_ratings(df: pd.DataFrame, column: str, subject: str, rater: str, *,
                   crossed: bool | None = None) -> pd.DataFrame:
    """Ratings of ``column`` in the wide form agreement statistics take.

    ``df`` is long (one row per rating).  When the same raters rate every
    case (crossed design, :func:`rating_design`) the result is subjects x
    raters.  When raters vary across cases (a pool: any two or three of a
    pool of assessors per case) each case's ratings are put in order of
    rater id as its ``first``, ``second``, ``third``, ... rating, so that
    two-rater statistics compare "one assessor" with "another" and the
    multi-rater ones (Fleiss, Krippendorff, AC1, one-way ICC), which do not
    depend on the order, see each case's ratings.  ``crossed`` defaults to
    what :func:`rating_design` finds.

    Raises
    ------
    InputError
        A rater rated a case twice (naming the pairs).

    References
    ----------
    The wide layout of docs/DESIGN.md, "API conventions" (one row per case, as R
    ``psych::ICC`` and ``irr``/``irrCAC`` take ratings); for a pool, the one-way design of
    Shrout PE, Fleiss JL (1979). Intraclass correlations: uses in assessing rater
    reliability. Psychological Bulletin 86, 420-428.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"case": [1, 1, 2, 2, 3, 3, 3], "rater": ["A", "B", "A", "C", "B", "C", "D"],
    ...                   "risk": [1, 1, 2, 3, 3, 3, 2]})
    >>> paired_ratings(r, "risk", "case", "rater")      # a pool: ratings in order of rater id
          first  second  third
    case
    1       1.0     1.0    NaN
    2       2.0     3.0    NaN
    3       3.0     3.0    2.0
    >>> paired_ratings(r, "risk", "case", "rater", crossed=True).columns.tolist()
    ['A', 'B', 'C', 'D']
    """
    long = pd.DataFrame({subject: df[subject], rater: df[rater], "value": df[column]})
    if crossed is None:
        crossed = rating_design(long, subject, rater, values=["value"])["crossed"]
    if crossed:
        return long_to_wide(long, subject, rater, "value")
    long_to_wide(long, subject, rater, "value")  # refuses a case rated twice by one rater, naming it
    slots = long.dropna(subset=["value"]).sort_values([subject, rater], kind="stable")
    pos = slots.groupby(subject, observed=True).cumcount()
    slots["slot"] = [_ORDINALS[i] if i < len(_ORDINALS) else f"rating_{i + 1}" for i in pos]
    order = [_ORDINALS[i] if i < len(_ORDINALS) else f"rating_{i + 1}" for i in range(max(2, int(pos.max()) + 1
                                                                                       if len(pos) else 2))]
    out = slots.pivot(index=subject, columns="slot", values="value").reindex(columns=order)
    out.columns.name = None
    return out


def _agreement_row(
    df: pd.DataFrame,
    it: Item,
    subject: str,
    rater: str,
    judgement: str | None,
    design: dict[str, Any],
    ci: float,
    n_boot: int,
    seed: int | None,
    paradox_agreement: float,
    paradox_kappa: float,
) -> dict[str, Any]:
    nan = float("nan")
    rnotes: list[str] = []
    values, _ = _recode_missing(df[it.id], it)
    crossed = bool(design["crossed"])
    wide = paired_ratings(pd.DataFrame({subject: df[subject], rater: df[rater], "value": values}),
                          "value", subject, rater, crossed=crossed)
    wide = wide.loc[wide.notna().any(axis=1)]  # cases whose ratings of this item are all missing
    per_case = wide.notna().sum(axis=1)
    rated = per_case[per_case >= 2]
    multi = bool(len(rated)) and int(rated.max()) > 2
    levels = list(it.codes) if it.codes else None
    ordered = it.type in ORDERED_TYPES and it.type != "binary"
    numeric = it.type == "numeric"
    lo_k, hi_k = (int(rated.min()), int(rated.max())) if len(rated) else (0, 0)
    row: dict[str, Any] = {
        "item": it.id,
        "type": it.type,
        "role": "judgement" if it.id == judgement else it.role,
        "n": len(rated),
        "ratings_per_case": str(hi_k) if lo_k == hi_k else f"{lo_k}-{hi_k}",
        "levels": ", ".join(str(v) for v in levels) if levels else "",
    }
    label = f"item {it.id!r}"
    pa = _catch(lambda: percent_agreement(wide, ci=ci, levels=levels), rnotes, label) if not numeric else None
    row.update(
        percent_agreement=pa.estimate if pa else nan,
        pa_ci_low=pa.ci_low if pa else nan,
        pa_ci_high=pa.ci_high if pa else nan,
    )
    kappa = None
    if numeric:
        row["kappa_weights"] = ""
        rnotes.append(f"{label}: numeric item, agreement by Krippendorff's alpha (interval) and the ICC")
    elif multi:
        kappa = _catch(lambda: fleiss_kappa(wide, ci=ci, levels=levels), rnotes, label)
        row["kappa_weights"] = "unweighted (Fleiss)"
    else:
        weights = "quadratic" if ordered else None
        kappa = _catch(
            lambda: cohen_kappa(wide.iloc[:, 0], wide.iloc[:, 1], weights=weights, ci=ci, levels=levels), rnotes, label
        )
        row["kappa_weights"] = weights or "unweighted"
    row.update(
        kappa=kappa.estimate if kappa else nan,
        kappa_se=kappa.se if kappa else nan,
        kappa_ci_low=kappa.ci_low if kappa else nan,
        kappa_ci_high=kappa.ci_high if kappa else nan,
    )
    ac1 = _catch(lambda: gwet_ac(wide, ci=ci, levels=levels), rnotes, label) if not numeric else None
    row.update(ac1=ac1.estimate if ac1 else nan, ac1_ci_low=ac1.ci_low if ac1 else nan, ac1_ci_high=ac1.ci_high if ac1 else nan)
    level = "interval" if numeric else "ordinal" if ordered else "nominal"
    kripp = _catch(lambda: krippendorff_alpha(wide, level, ci=ci, n_boot=n_boot, seed=seed,
                                              levels=None if numeric else levels), rnotes, label)
    row.update(kripp_alpha=kripp.estimate if kripp else nan, kripp_level=level,
               kripp_ci_low=kripp.ci_low if kripp else nan, kripp_ci_high=kripp.ci_high if kripp else nan)
    row.update(icc=nan, icc_form="", icc_ci_low=nan, icc_ci_high=nan, icc_c=nan, icc_c_ci_low=nan, icc_c_ci_high=nan)
    if it.type in ("likert", "ordinal", "numeric"):
        if crossed:
            res = _catch(lambda: icc(wide, ci=ci), rnotes, label)
            if res is not None:
                tab = res.table
                row.update(icc=float(tab.loc["ICC2", "icc"]), icc_form=str(tab.loc["ICC2", "mcgraw_wong"]),
                           icc_ci_low=float(tab.loc["ICC2", "ci_low"]), icc_ci_high=float(tab.loc["ICC2", "ci_high"]),
                           icc_c=float(tab.loc["ICC3", "icc"]), icc_c_ci_low=float(tab.loc["ICC3", "ci_low"]),
                           icc_c_ci_high=float(tab.loc["ICC3", "ci_high"]))
        else:
            res = _catch(lambda: icc_oneway(wide, ci=ci), rnotes, label)
            if res is not None:
                tab = res.table
                row.update(icc=float(tab.loc["ICC1", "icc"]), icc_form=str(tab.loc["ICC1", "mcgraw_wong"]),
                           icc_ci_low=float(tab.loc["ICC1", "ci_low"]), icc_ci_high=float(tab.loc["ICC1", "ci_high"]))
    paradox = bool(
        pa is not None and kappa is not None and np.isfinite(kappa.estimate)
        and pa.estimate >= paradox_agreement and kappa.estimate < paradox_kappa
    )
    if paradox and pa is not None and kappa is not None:
        rnotes.append(
            f"{label}: kappa prevalence paradox - {pa.estimate:.0%} observed agreement but kappa "
            f"{kappa.estimate:.2f}; one category dominates, read AC1 ({row['ac1']:.2f})"
        )
    row["prevalence_paradox"] = paradox
    row["note"] = "; ".join(rnotes)
    return row
