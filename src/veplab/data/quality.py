"""Data-quality summary of a loaded instrument.

:func:`quality` reports, from a frame made by :func:`veplab.data.load`:

* ``by_item``: per item, answered, blank, don't know, refused, not applicable,
  not asked and invalid counts and shares (the reasons come from the frame's
  reason columns, :func:`veplab.data.missing_reasons`, so a frame merged with
  other data gives the same counts);
* ``by_respondent``: how many respondents miss what share of the items;
* ``straightlining``: respondents giving the same answer to every likert item
  (at least ``min_straightline`` answered), overall and per scale;
* ``duplicates``: duplicate ids and duplicate answer patterns;
* ``problems``: the warnings (and, with ``on_error="flag"``, the errors) met
  while loading.

Tables hold counts and shares only, never row-level values; ``flags`` (per
respondent, for cleaning) is for the analyst's eyes and is not published.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..codebook import Codebook
from .load import load_info, missing_reasons

__all__ = ["QualityReport", "quality"]

_REASONS = ("dont_know", "refused", "not_applicable", "not_asked", "invalid")


@dataclasses.dataclass(frozen=True)
class QualityReport:
    """Result of :func:`quality`."""

    codebook_id: str
    n: int
    n_items: int
    by_item: pd.DataFrame
    by_respondent: pd.DataFrame
    straightlining: pd.DataFrame
    duplicates: pd.DataFrame
    problems: pd.DataFrame
    flags: pd.DataFrame

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """The publishable tables (no row-level data)."""
        return {
            "by_item": self.by_item,
            "by_respondent": self.by_respondent,
            "straightlining": self.straightlining,
            "duplicates": self.duplicates,
            "problems": self.problems,
        }

    def summary(self) -> str:
        bi = self.by_item
        worst = bi.sort_values("missing_share", ascending=False).head(5)
        lines = [
            f"Data quality: {self.codebook_id}, {self.n} records, {self.n_items} items",
            f"  cells missing: {bi['missing'].sum() / max(1, bi['n'].sum()):.1%} "
            f"(don't know {bi['dont_know'].sum()}, refused {bi['refused'].sum()}, "
            f"invalid {bi['invalid'].sum()})",
            "  items with most missing: "
            + ", ".join(f"{i} {s:.1%}" for i, s in zip(worst.index, worst["missing_share"])),
        ]
        sl = self.straightlining
        if not sl.empty:
            row = sl.iloc[0]
            lines.append(f"  straight-lining ({row['scope']}): {int(row['n_straightliners'])} of "
                         f"{int(row['n_eligible'])} ({row['share']:.1%})")
        for row in self.duplicates.itertuples(index=False):
            lines.append(f"  {row.check}: {int(row.count)}")
        if not self.problems.empty:
            lines.append(f"  load problems: {len(self.problems)}")
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.summary()


def quality(df: pd.DataFrame, codebook: Codebook, *, min_straightline: int = 8) -> QualityReport:
    """Summarise the quality of a loaded instrument (see module docstring).

    For each item (roles item, outcome, sensitive, quasi-identifier; not
    text): answered, blank, don't know, refused, not applicable, not asked and
    invalid counts, each with its share of all ``n`` records
    (``missing_share = missing / n``).  Per respondent: how many miss none, up
    to 10 %, 10-25 %, 25-50 %, over 50 % or all of the answer items.
    Straight-lining: among respondents who answered at least
    ``min_straightline`` likert items, those who gave the same answer to every
    one (overall and per scale), ``share = n_straightliners / n_eligible``.
    Duplicates: records sharing an id, and records with an identical answer
    pattern to another record.

    Parameters
    ----------
    df : DataFrame
        A frame made by :func:`veplab.data.load` (or any frame with the
        codebook's columns and reason columns).
    codebook : Codebook
        Its instrument.
    min_straightline : int
        Likert items a respondent must have answered to be checked for
        straight-lining.

    Returns
    -------
    QualityReport
        ``by_item``, ``by_respondent``, ``straightlining``, ``duplicates``,
        ``problems`` (publishable counts and shares), ``flags`` (per
        respondent, for cleaning; not published) and ``summary()``.

    References
    ----------
    de Leeuw, E. D., Hox, J. J. & Huisman, M. (2003). Prevention and
    treatment of item nonresponse. *Journal of Official Statistics* 19(2),
    153-176.
    Kim, Y., Dykema, J., Stevenson, J., Black, P. & Moberg, D. P. (2019).
    Straightlining: overview of measurement, comparison of indicators, and
    effects in mail-web mixed-mode surveys. *Social Science Computer Review*
    37(2), 214-233.

    Examples
    --------
    >>> from veplab.codebook import from_dict
    >>> from veplab.data import set_missing_reasons
    >>> opts = {1: "No", 2: "Sometimes", 3: "Yes"}
    >>> cb = from_dict({"id": "s", "title": "Survey", "id_column": "rid", "items": [
    ...     {"id": "q1", "label": "q1", "type": "likert", "options": opts, "missing": {8: "dont_know"}},
    ...     {"id": "q2", "label": "q2", "type": "likert", "options": opts},
    ...     {"id": "q3", "label": "q3", "type": "likert", "options": opts}]})
    >>> df = pd.DataFrame({"rid": ["a", "b", "c", "d"], "q1": [3, None, 2, 1],
    ...                    "q2": [3, 1, 2, 2], "q3": [3, 2, None, 1]})
    >>> df = set_missing_reasons(df, {"q1": [None, "dont_know", None, None]})
    >>> q = quality(df, cb, min_straightline=3)
    >>> q.by_item[["answered", "dont_know", "blank", "missing_share"]]
          answered  dont_know  blank  missing_share
    item
    q1           3          1      0           0.25
    q2           4          0      0           0.00
    q3           3          0      1           0.25
    >>> print(q.summary())
    Data quality: s, 4 records, 3 items
      cells missing: 16.7% (don't know 1, refused 0, invalid 0)
      items with most missing: q1 25.0%, q3 25.0%, q2 0.0%
      straight-lining (all 3 agreement items): 1 of 2 (50.0%)
      records sharing an id: 0
      records with an identical answer pattern to another record: 0
    """
    items = [i for i in codebook.items if i.id in df.columns and i.id != codebook.id_column
             and i.role in ("item", "outcome", "sensitive", "quasi_identifier") and i.type != "text"]
    item_ids = [i.id for i in items]
    n = len(df)
    reasons = missing_reasons(df, item_ids)
    rows = []
    for item in items:
        isna = df[item.id].isna().to_numpy()
        r = reasons[item.id]
        counts = {k: int((r == k).sum()) for k in _REASONS}
        blank = int(isna.sum()) - sum(counts.values())
        rows.append({"item": item.id, "type": item.type, "role": item.role, "n": n,
                     "answered": int((~isna).sum()), "missing": int(isna.sum()), "blank": max(blank, 0),
                     **counts})
    by_item = pd.DataFrame(rows).set_index("item") if rows else pd.DataFrame(
        columns=["type", "role", "n", "answered", "missing", "blank", *_REASONS])
    for c in ("missing", "blank", *_REASONS):
        by_item[f"{c}_share"] = by_item[c] / n if n else np.nan

    # respondents
    answer_items = [i.id for i in items if i.role in ("item", "outcome")]
    if answer_items and n:
        miss_share = df[answer_items].isna().to_numpy().mean(axis=1)
    else:
        miss_share = np.zeros(n)
    bins = [-0.001, 0.0, 0.10, 0.25, 0.50, 0.999999, 1.0]
    labels = ["none", "up to 10%", "10-25%", "25-50%", "over 50%", "all"]
    cut = pd.Series(pd.cut(miss_share, bins=bins, labels=labels))
    by_resp = cut.value_counts(sort=False).rename_axis("items_missing").to_frame("respondents")
    by_resp["share"] = by_resp["respondents"] / n if n else np.nan

    # straight-lining
    likert = [i.id for i in items if i.type == "likert" and i.role in ("item", "outcome")]
    flags = pd.DataFrame(index=df.index)
    flags["missing_share"] = miss_share
    sl_rows = []
    if likert:
        x = df[likert].apply(lambda s: pd.to_numeric(pd.Series(np.asarray(s, dtype=object)), errors="coerce").to_numpy())
        arr = x.to_numpy(dtype="float64")
        answered = (~np.isnan(arr)).sum(axis=1)
        lo = np.where(np.isnan(arr), np.inf, arr).min(axis=1)
        hi = np.where(np.isnan(arr), -np.inf, arr).max(axis=1)
        eligible = answered >= min(min_straightline, len(likert))
        straight = eligible & (lo == hi)
        flags["straightlining"] = straight
        sl_rows.append({"scope": f"all {len(likert)} agreement items", "n_eligible": int(eligible.sum()),
                        "n_straightliners": int(straight.sum()),
                        "share": straight.sum() / eligible.sum() if eligible.sum() else np.nan})
        for scale in codebook.scales:
            members = [i for i in scale.items if i in likert]
            has_rev = any(codebook.item(i).reverse for i in members)
            if len(members) < 3 or not has_rev:
                continue
            sub = df[members].apply(lambda s: pd.to_numeric(pd.Series(np.asarray(s, dtype=object)), errors="coerce").to_numpy()).to_numpy(dtype="float64")
            full = ~np.isnan(sub).any(axis=1)
            same = full & (np.where(np.isnan(sub), np.inf, sub).min(axis=1)
                           == np.where(np.isnan(sub), -np.inf, sub).max(axis=1))
            # identical raw answers across a scale with reverse-keyed items contradict each other
            mid = (codebook.item(members[0]).codes[0] + codebook.item(members[0]).codes[-1]) / 2
            same &= sub[:, 0] != mid
            # scope: the scale's id (a scale with reverse-keyed items); pages show its label
            sl_rows.append({"scope": scale.id, "n_eligible": int(full.sum()),
                            "n_straightliners": int(same.sum()),
                            "share": same.sum() / full.sum() if full.sum() else np.nan})
    straightlining = pd.DataFrame(sl_rows, columns=["scope", "n_eligible", "n_straightliners", "share"])

    # duplicates
    id_col = codebook.id_column
    dup_ids = int(df[id_col].duplicated(keep=False).sum()) if id_col in df.columns else 0
    if len(answer_items) >= 8 and n:
        pattern = df[answer_items].astype(object).where(df[answer_items].notna(), "NA").astype(str)
        enough = df[answer_items].notna().sum(axis=1) >= max(3, len(answer_items) // 2)
        dup_pat = pattern.duplicated(keep=False) & enough
    else:
        dup_pat = pd.Series(False, index=df.index)
    flags["duplicate_pattern"] = dup_pat.to_numpy()
    duplicates = pd.DataFrame([
        {"check": "records sharing an id", "count": dup_ids},
        {"check": "records with an identical answer pattern to another record", "count": int(dup_pat.sum())},
    ])

    info = load_info(df)
    if info is not None and not info.problems.empty:
        p = info.problems.copy()
        p["n_rows"] = p["rows"].map(len)
        problems = p[["column", "severity", "n_rows", "problem", "fix"]].reset_index(drop=True)
    else:
        problems = pd.DataFrame(columns=["column", "severity", "n_rows", "problem", "fix"])
    return QualityReport(codebook_id=codebook.id, n=n, n_items=len(items), by_item=by_item,
                         by_respondent=by_resp, straightlining=straightlining, duplicates=duplicates,
                         problems=problems, flags=flags)
