"""The parameter table (lavaan's partable, for the measurement-model subset)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from veplab._validate import InputError

from ..lavaan_syntax import ParsedModel


# ---------------------------------------------------------------------------
# parameter table (lavaan's partable, for the measurement-model subset)
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Row:
    id: int  # 1-based, as lavaan's partable id
    lhs: str
    op: str
    rhs: str
    group: int  # 0-based
    user: bool
    free: bool = True
    value: float = math.nan  # fixed value (lavaan ustart) when not free
    start: float = math.nan  # user start value
    label: str = ""  # user label, or lavaan's plabel for equality sets
    eqlabel: str = ""  # lavaan's internal LABEL (who is equal to whom)
    mat: str = ""
    i: int = 0
    j: int = 0
    x: int = -1  # index into the free-parameter vector
    line: int = 0


def _per_group(values: tuple | None, g: int, ngroups: int, where: str) -> Any:
    if values is None:
        return None
    if len(values) == 1:
        return values[0]
    if len(values) != ngroups:
        raise InputError(
            f"{where}: a modifier vector has {len(values)} values but the model has "
            f"{ngroups} group(s); give one value, or one per group"
        )
    return values[g]


def _build_partable(
    parsed: ParsedModel,
    ov: Sequence[str],
    lv: Sequence[str],
    ngroups: int,
    std_lv: bool,
    meanstructure: bool,
    equal: Sequence[str],
    partial: Iterable[str],
    ordinal: dict[str, int] | None = None,
    id_cat: str = "default",
    parameterization: str = "delta",
) -> list[_Row]:
    """lavaan's parameter table.  ``ordinal`` maps each ordered indicator to its number of
    thresholds (delta parameterization: thresholds ``|``, scaling factors ``~*~`` fixed to 1
    in group 1, intercepts fixed to 0, residual variances computed, not free); ``id_cat``
    ``"default"`` (lavaan's rules for groups 2, 3, ...) or ``"Wu.Estabrook.2016"``.  With
    ``parameterization="theta"`` the residual variances are fixed to 1 (freed in groups 2,
    3, ... with equal thresholds) and the scaling factors are computed instead."""
    lv_set = set(lv)
    ordinal = ordinal or {}
    ov_index = {v: k for k, v in enumerate(ov)}
    lv_index = {v: k for k, v in enumerate(lv)}

    # USER rows in text order (duplicates ignored, as lavaan does, with a warning)
    user_rows = []
    seen: set[tuple[str, str, str]] = set()
    for r in parsed.rows:
        key = (r.lhs, r.op, r.rhs)
        if key in seen or (r.op == "~~" and (r.rhs, r.op, r.lhs) in seen):
            warnings.warn(
                f"cfa: model line {r.line}: '{r.lhs} {r.op} {r.rhs}' is duplicated; "
                f"the repeat is ignored (as lavaan does)",
                stacklevel=4,
            )
            continue
        seen.add(key)
        user_rows.append(r)
    defaults: list[tuple[str, str, str]] = [(v, "|", f"t{k + 1}") for v in ov for k in range(ordinal.get(v, 0))]
    defaults += [(v, "~~", v) for v in ov]
    defaults += [(f, "~~", f) for f in lv]
    defaults += [(lv[a], "~~", lv[b]) for a in range(len(lv)) for b in range(a + 1, len(lv))]
    defaults += [(v, "~*~", v) for v in ov if v in ordinal]
    if meanstructure:
        defaults += [(v, "~1", "") for v in ov] + [(f, "~1", "") for f in lv]
    defaults = [d for d in defaults if d not in seen and (d[2], d[1], d[0]) not in seen]

    template = [(r.lhs, r.op, r.rhs, True, r) for r in user_rows] + [(*d, False, None) for d in defaults]
    rows: list[_Row] = []
    rid = 0
    for g in range(ngroups):
        first_done: set[str] = set()
        for lhs, op, rhs, is_user, src in template:
            rid += 1
            row = _Row(id=rid, lhs=lhs, op=op, rhs=rhs, group=g, user=is_user)
            if src is not None:
                row.line = src.line
            # matrix position
            if op == "=~":
                row.mat, row.i, row.j = "lambda", ov_index[rhs], lv_index[lhs]
            elif op == "~~":
                if lhs in lv_set and rhs in lv_set:
                    row.mat, row.i, row.j = "psi", lv_index[lhs], lv_index[rhs]
                else:
                    row.mat, row.i, row.j = "theta", ov_index[lhs], ov_index[rhs]
            elif op == "~1":
                if lhs in lv_set:
                    row.mat, row.i = "alpha", lv_index[lhs]
                else:
                    row.mat, row.i = "nu", ov_index[lhs]
            elif op == "|":
                row.mat, row.i, row.j = "tau", ov_index[lhs], int(rhs[1:]) - 1
            elif op == "~*~":
                row.mat, row.i = "delta", ov_index[lhs]
            if lhs in ordinal and not is_user:
                # delta parameterization: intercepts 0, scaling factors 1, residual
                # variances computed (1/delta^2 - diag(Lambda Psi Lambda')), not free
                theta_par = parameterization == "theta"
                if op == "~1":
                    row.free, row.value = False, 0.0
                elif op == "~*~":
                    row.free, row.value = False, (math.nan if theta_par else 1.0)
                elif op == "~~" and lhs == rhs:
                    row.free, row.value = False, (1.0 if theta_par else math.nan)
            thr_equal = bool(ordinal) and "thresholds" in equal
            # lavaan's automatic fixing (lav_partable_flat)
            if std_lv and op == "~~" and lhs in lv_set and lhs == rhs:
                row.free, row.value = False, 1.0
            if not std_lv and op == "=~" and lhs not in first_done:
                first_done.add(lhs)
                row.free, row.value = False, 1.0
            if op == "~1" and lhs in lv_set and not is_user:
                row.free, row.value = False, 0.0
            if g > 0:
                we = id_cat == "Wu.Estabrook.2016"
                frees_means = "intercepts" in equal or (thr_equal and not we)
                if (
                    meanstructure
                    and op == "~1"
                    and lhs in lv_set
                    and not is_user
                    and frees_means
                    and "means" not in equal
                ):
                    row.free, row.value = True, math.nan
                if thr_equal and lhs in ordinal and not is_user:
                    scale_op = "~~" if parameterization == "theta" else "~*~"
                    if op == scale_op and lhs == rhs:
                        row.free, row.value = True, math.nan
                    if we and op == "~1" and "intercepts" not in equal:
                        row.free, row.value = True, math.nan
                if (
                    std_lv
                    and op == "~~"
                    and lhs in lv_set
                    and lhs == rhs
                    and not is_user
                    and "loadings" in equal
                    and "lv.variances" not in equal
                ):
                    row.free, row.value = True, math.nan
            # modifiers from the model text
            if src is not None:
                where = f"cfa: model line {src.line} ({src.text!r})"
                fixed = _per_group(src.fixed, g, ngroups, where)
                if src.fixed is not None:
                    if fixed is None:
                        row.free, row.value = True, math.nan
                    else:
                        row.free, row.value = False, float(fixed)
                start = _per_group(src.start, g, ngroups, where)
                if start is not None:
                    row.start = float(start)
                label = _per_group(src.label, g, ngroups, where)
                if label is not None:
                    row.label = label
            rows.append(row)

    if ngroups > 1:
        single = sorted(
            f"{r.lhs} ~ 1" if r.op == "~1" else f"{r.lhs} {r.op} {r.rhs}"
            for r in user_rows
            if r.label is not None and len(r.label) == 1
        )
        if single:
            warnings.warn(
                "cfa: a single label in a multi-group model applies to every group, so these "
                f"parameters are constrained equal across groups: {', '.join(single)}. Use "
                "c(a1, a2, ...) for one label per group if that is not intended (lavaan warns too).",
                stacklevel=4,
            )

    # lavaan's LABEL (lav_partable_labels): who is constrained equal to whom
    partial_set = {p.replace(" ", "") for p in partial}
    group1 = {}
    for pr in rows:
        pr.eqlabel = f"{pr.lhs}{pr.op}{pr.rhs}" + (f".g{pr.group + 1}" if pr.group > 0 else "")
        if pr.group == 0:
            group1[(pr.lhs, pr.op, pr.rhs)] = pr
    if ngroups > 1 and equal:
        for pr in rows:
            if pr.group == 0:
                continue
            ref = group1.get((pr.lhs, pr.op, pr.rhs))
            if ref is None or f"{ref.lhs}{ref.op}{ref.rhs}" in partial_set:
                continue
            if _equal_category(ref, lv_set) in equal:
                pr.eqlabel = ref.eqlabel
    for pr in rows:
        if pr.label:
            pr.eqlabel = pr.label
    # equality sets
    sets: dict[str, list[_Row]] = {}
    for pr in rows:
        sets.setdefault(pr.eqlabel, []).append(pr)
    for members in sets.values():
        if len(members) < 2:
            continue
        fixed_members = [m for m in members if not m.free]
        if fixed_members:
            value = fixed_members[0].value
            if any(m.value != value for m in fixed_members):
                warnings.warn(
                    f"cfa: equality constraint on {members[0].eqlabel!r} involves fixed "
                    f"parameters with different values; only the first ({value}) is used "
                    f"(as lavaan does)",
                    stacklevel=4,
                )
            for m in members:
                m.free, m.value = False, value
        else:
            plabel = f".p{members[0].id}."
            for m in members:
                if not m.label:
                    m.label = plabel
    # free-parameter indices (one per equality set)
    xmap: dict[str, int] = {}
    for pr in rows:
        if pr.free:
            if pr.eqlabel not in xmap:
                xmap[pr.eqlabel] = len(xmap)
            pr.x = xmap[pr.eqlabel]
    return rows


def _equal_category(r: _Row, lv_set: set[str]) -> str:
    if r.op == "|":
        return "thresholds"
    if r.op == "~*~":
        return ""
    if r.op == "=~":
        return "loadings"
    if r.op == "~1":
        return "means" if r.lhs in lv_set else "intercepts"
    if r.lhs in lv_set:
        return "lv.variances" if r.lhs == r.rhs else "lv.covariances"
    return "residuals" if r.lhs == r.rhs else "residual.covariances"
