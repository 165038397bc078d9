"""Reliability of a whole instrument from its codebook."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._results import Result
from .._validate import InputError, numeric_frame
from ..codebook import ORDERED_TYPES, Codebook, Item
from ._agreement import cohen_kappa, fleiss_kappa, gwet_ac, percent_agreement
from ._alpha import alpha, _reason_shares
from ._icc import icc, long_to_wide
from ._omega import omega

__all__ = ["ReliabilityReport", "paired_ratings", "reliability_report"]

_SCALE_COLUMNS = [
    "scale", "n", "k", "alpha", "alpha_ci_low", "alpha_ci_high", "std_alpha", "average_r",
    "omega_total", "omega_ci_low", "omega_ci_high", "omega_h", "omega_h_ci_low", "omega_h_ci_high", "note",
]
_AGREEMENT_COLUMNS = [
    "item", "type", "role", "n", "levels", "percent_agreement", "pa_ci_low", "pa_ci_high",
    "kappa", "kappa_weights", "kappa_se", "kappa_ci_low", "kappa_ci_high",
    "ac1", "ac1_ci_low", "ac1_ci_high", "icc", "icc_form", "icc_ci_low", "icc_ci_high",
    "prevalence_paradox", "note",
]


@dataclasses.dataclass(frozen=True)
class ReliabilityReport(Result):
    """Reliability of an instrument: scales, items and (two-rater tools) agreement.

    ``scales``: one row per codebook scale (alpha, omega total, omega
    hierarchical with intervals); ``items``: item analysis per scale item;
    ``agreement``: per rated item and the final judgement (percent
    agreement, kappa, AC1, ICC, prevalence-paradox flag).  ``notes`` lists
    what was skipped and why (each table row also has its own ``note``).
    """

    codebook: str
    scales: pd.DataFrame = dataclasses.field(repr=False)
    items: pd.DataFrame = dataclasses.field(repr=False)
    agreement: pd.DataFrame = dataclasses.field(repr=False)
    notes: tuple[str, ...] = ()

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
    try:
        from ..data.load import missing_reasons as recorded
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


def _scale_frame(
    df: pd.DataFrame, cb: Codebook, ids: list[str], reversed_items: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cols = {}
    reasons = {}
    for iid in ids:
        it = cb.item(iid)
        v, r = _recode_missing(df[iid], it)
        if it.reverse and not reversed_items and it.codes:
            v = it.reversed_code(v)
        cols[iid] = v
        reasons[iid] = r
    return pd.DataFrame(cols, index=df.index), pd.DataFrame(reasons, index=df.index)


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
    ci: float = 0.95,
    n_boot: int = 1000,
    seed: int | None = None,
    missing_reasons: pd.DataFrame | None = None,
    reversed_items: bool | None = None,
    paradox_agreement: float = 0.80,
    paradox_kappa: float = 0.40,
) -> ReliabilityReport:
    """Reliability of every scale of an instrument, and rater agreement for two-rater tools.

    **Scales** (``codebook.scales``): items are taken from ``df``, the
    item's missing codes (don't know, refused, ...) become missing,
    reverse-keyed items (``Item.reverse``) are reversed with
    ``Item.reversed_code`` (unless the columns are already reversed:
    ``reversed_items=True``, or by default when ``df`` comes from
    ``veplab.data.load(..., reverse=True)``), then
    :func:`alpha` (pairwise, Feldt interval), :func:`omega` (total with a
    bootstrap interval; hierarchical where identified) and
    :func:`item_analysis` with the share of each missing reason (from
    ``missing_reasons``, else from what ``veplab.data.load`` recorded, else
    from the missing codes found in ``df``).

    **Agreement** when ``codebook.extra["design"] = {subject, rater,
    judgement}`` describes a rating tool (or ``subject``/``rater`` are given):
    ``df`` is long (one row per rating).  For every rated item and the final
    judgement: percent agreement, Cohen's kappa (quadratic weights for
    ordinal/likert items, over the codebook's option codes; unweighted for
    binary/categorical), Gwet's AC1, and for ordinal/likert/numeric items
    the ICC - ICC(A,1) (two-way random, absolute agreement) when the same
    two raters rate every case, ICC(1) (one-way) when raters vary across
    cases (ratings are then paired as each case's first and second rating,
    by rater id).  ``prevalence_paradox`` flags high observed agreement
    (``>= paradox_agreement``) with low kappa (``< paradox_kappa``): kappa
    is depressed by a skewed category distribution (Feinstein & Cicchetti
    1990), AC1 is the better summary there.  With more than two ratings per
    case Fleiss' kappa replaces Cohen's.  In a rating design, internal
    consistency is computed from each case's first rating so that cases
    count once.

    Problems with one scale or item (a constant item, kappa undefined, ...)
    do not stop the report: the row gets NaN and ``note`` / ``notes`` say why.

    Examples
    --------
    >>> rep = reliability_report(data, codebook, seed=1)      # doctest: +SKIP
    >>> rep.to_frames()["scales"]                             # doctest: +SKIP
    """
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"reliability_report: expected a DataFrame, got {type(df).__name__}")
    if not isinstance(codebook, Codebook):
        raise InputError("reliability_report: codebook must be a veplab.codebook.Codebook (use veplab.codebook.load)")
    notes: list[str] = []
    info = _load_info(df)
    if reversed_items is None:
        reversed_items = bool(getattr(info, "reversed", False))
    design = dict(codebook.extra.get("design") or {})
    subject = subject or design.get("subject")
    rater = rater or design.get("rater")
    judgement = design.get("judgement")
    rating_design = subject is not None and rater is not None
    if (subject is None) != (rater is None):
        raise InputError("reliability_report: give both subject and rater (or neither)")
    for col in (subject, rater):
        if col is not None and col not in df.columns:
            raise InputError(f"reliability_report: column {col!r} (design) not in the data; columns are {list(df.columns)}")

    base = df
    if rating_design:
        order = df.sort_values([subject, rater], kind="stable")
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
        frame, reasons = _scale_frame(base, codebook, list(sc.items), reversed_items)
        if missing_reasons is None and info is not None:
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
    if rating_design:
        skip = {codebook.id_column, subject, rater}
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
        for it in rated:
            agree_rows.append(
                _agreement_row(df, it, subject, rater, judgement, ci, paradox_agreement, paradox_kappa, notes)
            )
    agreement = pd.DataFrame(agree_rows, columns=_AGREEMENT_COLUMNS)
    return ReliabilityReport(codebook=codebook.id, scales=scales, items=items, agreement=agreement, notes=tuple(notes))


def paired_ratings(df: pd.DataFrame, column: str, subject: str, rater: str) -> pd.DataFrame:
    """Ratings of ``column`` in the wide form agreement statistics take.

    ``df`` is long (one row per rating).  When the same raters rate every
    case (crossed design) the result is subjects x raters.  When raters vary
    across cases (the usual design of a two-assessor risk tool: any two of a
    pool of assessors per case) each case's ratings are paired as its
    ``first`` and ``second`` rating, ordered by rater id, so that kappa and
    AC1 compare "one assessor" with "another".  More than two ratings per
    case keep one column per rater (Fleiss' kappa applies).

    >>> paired_ratings(ratings, "final_judgement", "case_id", "rater")   # doctest: +SKIP
    """
    long = pd.DataFrame({subject: df[subject], rater: df[rater], "value": df[column]})
    wide = long_to_wide(long, subject, rater, "value")
    per_case = wide.notna().sum(axis=1)
    if wide.shape[1] == 2 or per_case.max() > 2:
        return wide
    slots = long.dropna(subset=["value"]).sort_values([subject, rater], kind="stable")
    slots["slot"] = slots.groupby(subject).cumcount().map({0: "first", 1: "second"})
    out = slots.pivot(index=subject, columns="slot", values="value").reindex(columns=["first", "second"])
    out.columns.name = None
    return out


def _agreement_row(
    df: pd.DataFrame,
    it: Item,
    subject: str,
    rater: str,
    judgement: str | None,
    ci: float,
    paradox_agreement: float,
    paradox_kappa: float,
    notes: list[str],
) -> dict[str, Any]:
    nan = float("nan")
    rnotes: list[str] = []
    values, _ = _recode_missing(df[it.id], it)
    wide = paired_ratings(pd.DataFrame({subject: df[subject], rater: df[rater], "value": values}),
                          "value", subject, rater)
    multi = wide.shape[1] > 2
    crossed = list(wide.columns) != ["first", "second"] and not multi  # the same two raters rate every case
    levels = list(it.codes) if it.codes else None
    ordered = it.type in ORDERED_TYPES and it.type != "binary"
    row: dict[str, Any] = {
        "item": it.id,
        "type": it.type,
        "role": "judgement" if it.id == judgement else it.role,
        "n": int((wide.notna().sum(axis=1) >= 2).sum()),
        "levels": ", ".join(str(v) for v in levels) if levels else "",
    }
    label = f"item {it.id!r}"
    pa = _catch(lambda: percent_agreement(wide, ci=ci, levels=levels), rnotes, label) if it.type != "numeric" else None
    row.update(
        percent_agreement=pa.estimate if pa else nan,
        pa_ci_low=pa.ci_low if pa else nan,
        pa_ci_high=pa.ci_high if pa else nan,
    )
    kappa = None
    if it.type != "numeric":
        weights = "quadratic" if ordered else None
        if multi:
            kappa = _catch(lambda: fleiss_kappa(wide, ci=ci, levels=levels), rnotes, label)
            rnotes.append(f"{label}: more than two ratings per case, Fleiss' kappa (unweighted) reported")
            row["kappa_weights"] = "unweighted (Fleiss)"
        else:
            kappa = _catch(
                lambda: cohen_kappa(wide.iloc[:, 0], wide.iloc[:, 1], weights=weights, ci=ci, levels=levels), rnotes, label
            )
            row["kappa_weights"] = weights or "unweighted"
    else:
        row["kappa_weights"] = ""
        rnotes.append(f"{label}: numeric item, agreement by ICC only")
    row.update(
        kappa=kappa.estimate if kappa else nan,
        kappa_se=kappa.se if kappa else nan,
        kappa_ci_low=kappa.ci_low if kappa else nan,
        kappa_ci_high=kappa.ci_high if kappa else nan,
    )
    ac1 = _catch(lambda: gwet_ac(wide, ci=ci, levels=levels), rnotes, label) if it.type != "numeric" else None
    row.update(ac1=ac1.estimate if ac1 else nan, ac1_ci_low=ac1.ci_low if ac1 else nan, ac1_ci_high=ac1.ci_high if ac1 else nan)
    if it.type in ("likert", "ordinal", "numeric"):
        tab = _catch(lambda: icc(wide, ci=ci), rnotes, label)
        form = "ICC2" if crossed else "ICC1"
        row.update(
            icc=float(tab.loc[form, "icc"]) if tab is not None else nan,
            icc_form=str(tab.loc[form, "mcgraw_wong"]) if tab is not None else "",
            icc_ci_low=float(tab.loc[form, "ci_low"]) if tab is not None else nan,
            icc_ci_high=float(tab.loc[form, "ci_high"]) if tab is not None else nan,
        )
    else:
        row.update(icc=nan, icc_form="", icc_ci_low=nan, icc_ci_high=nan)
    paradox = bool(
        pa is not None and kappa is not None and np.isfinite(kappa.estimate)
        and pa.estimate >= paradox_agreement and kappa.estimate < paradox_kappa
    )
    if paradox:
        rnotes.append(
            f"{label}: kappa prevalence paradox - {pa.estimate:.0%} observed agreement but kappa "
            f"{kappa.estimate:.2f}; one category dominates, read AC1 ({row['ac1']:.2f})"
        )
    row["prevalence_paradox"] = paradox
    row["note"] = "; ".join(rnotes)
    return row
