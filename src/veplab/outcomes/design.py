"""Intervention outcomes of a declared study: the building blocks of the ``outcomes`` notebook.

The notebook reads ``analyses.outcomes`` (:func:`veplab.analyses.resolve`) and
calls these functions; they take the study's data and codebooks and return
tables labelled from the codebooks (scale, item and option labels in the
page's language), never the demo's names.  What they compute is the statistics
of :mod:`veplab.outcomes` unchanged:

* **before and after** (``prepost``): :func:`pre_post_scales` compares every
  declared scale answered in both waves (:func:`~veplab.outcomes.pre_post_long`:
  paired t and Wilcoxon tests, Hedges' g_av; Lakens 2013) and lists the scales
  answered in one wave only; :func:`reliable_change_of` classifies people with
  the Jacobson-Truax index, using Cronbach's alpha of the scale's items and the
  SD of its scores in the first wave;
* **follow-up** (``followup``): :func:`followup_frame` checks the time and
  event columns (and the treatment's 0/1 coding), :func:`survival_at_horizon`
  gives Kaplan-Meier numbers at risk on a grid derived from the horizon
  (:func:`horizon_grid`) and the event rate at the horizon (overall and by
  treatment group); :func:`treatment_effects` fits the naive and
  covariate-adjusted Cox models and the propensity-weighted one (ATT) with
  its balance table (R ``survival::coxph``, ``MatchIt``/``cobalt`` balance);
* **power**: :func:`power_table` for what ran (Schoenfeld 1983 for the
  hazard ratio, the paired t test for the change);
* **evaluation indicators** (``framework``): :func:`framework_blocks` checks a
  framework file keyed by source, :func:`indicator_data` labels every column its
  disaggregation uses from the codebook, :func:`indicator_table` formats the
  indicators of all blocks for the page.

A part that cannot run on the data raises :class:`NotRun`, whose ``sentence``
(one sentence without digits, as run-time page text must be) says why.

Optional codebook metadata read here: a scale's ``kirkpatrick:`` level (shown
beside the change) and ``higher_is_better: false`` (a scale on which a fall is
the improvement; reliable change then counts decreases as improvement).

References: Jacobson & Truax (1991) *J Consult Clin Psychol* 59:12-19;
Lakens (2013) *Front Psychol* 4:863; Schoenfeld (1983) *Biometrics* 39:499-503;
Austin & Stuart (2015) *Stat Med* 34:3661-3679 (balance after weighting).

>>> horizon_grid(730)
[0, 180, 365, 545, 730]
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import InputError
from ..descriptives.tables import column_label, option_label, term_label
from .power import minimum_detectable_effect, power
from .prepost import ReliableChange, pre_post_long, reliable_change
from .propensity import PropensityResult, propensity
from .survival import CoxResult, KaplanMeier, cox, kaplan_meier

__all__ = ["NotRun", "plain", "lower_first", "column_label", "option_label", "PrePost",
           "pre_post_scales", "reliable_change_of", "followup_frame", "horizon_grid", "group_labels", "Survival",
           "survival_at_horizon", "Effects", "treatment_effects", "power_table", "framework_blocks",
           "indicator_data", "indicator_table", "indicator_labels"]


class NotRun(Exception):
    """A part of the outcomes analysis that cannot run on these data.

    ``sentence`` says why in one sentence without digits (run-time page text may
    state numbers only through published values)."""

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


# --------------------------------------------------------------------------- labels

_PAREN_DIGITS = re.compile(r"\s*[(\[][^)\]]*\d[^)\]]*[)\]]")


def plain(text: str, fallback: str) -> str:
    """``text`` fit for a run-time sentence: bracketed parts holding digits removed; ``fallback`` if
    digits remain (a sentence with a digit that is not a published value is withheld from the page).

    References
    ----------
    veplab design notes (DESIGN.md), "Privacy": every run-time text on a published page
    passes the disclosure gate, which withholds a text holding a digit that is not a
    published value (:func:`veplab.report.gate.fill_text`).
    Griffiths E, Greci C, Kotrotsios Y, et al. (2019). *Handbook on Statistical
    Disclosure Control for Outputs*. Safe Data Access Professionals Working Group.

    Examples
    --------
    >>> plain("Knowledge (0-8 correct answers)", "a scale"), plain("Wave 2", "a wave")
    ('Knowledge', 'a wave')
    """
    out = _PAREN_DIGITS.sub("", str(text)).strip()
    return fallback if (not out or re.search(r"\d", out)) else out


def _wave_labels(cb: Any, wave: str, pre: Any, post: Any, lang: str = "en") -> tuple[str, str]:
    """The labels of the two waves (``Before training``, ``After training``) from the wave's options."""
    return option_label(cb, wave, pre, lang), option_label(cb, wave, post, lang)


def _level(data: pd.DataFrame, column: str, value: Any) -> Any:
    """``value`` as it occurs in ``data[column]`` (a declared ``pre: "1"`` matches the code 1)."""
    levels = list(pd.unique(data[column].dropna()))
    if value in levels:
        return value
    for lev in levels:
        same_number = _num(value) is not None and _num(lev) == _num(value)
        if str(lev) == str(value) or same_number:
            return lev
    return value


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def lower_first(text: str) -> str:
    """``text`` with its first letter lowercased for use mid-sentence, unless it starts an acronym.

    A label such as "Age group" is written "by age group" inside a sentence; a
    label whose second letter is a capital ("HIV status", "ID type") starts with
    an acronym and is kept as it is.

    References
    ----------
    The Chicago Manual of Style, 17th ed. (2017). University of Chicago Press, ch. 8
    "Names and Terms" (common nouns lowercased in running text) and ch. 10
    "Abbreviations" (initialisms keep their capitals).

    Examples
    --------
    >>> lower_first("Age group"), lower_first("HIV status"), lower_first("Pays")
    ('age group', 'HIV status', 'pays')
    """
    text = str(text)
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _join(labels: Sequence[str]) -> str:
    labels = [f"'{x}'" for x in labels]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


# --------------------------------------------------------------------------- before and after


@dataclasses.dataclass
class PrePost:
    """Change by scale from the first to the second wave.

    ``table``: one row per scale compared (index: the scale's label), columns
    ``kirkpatrick`` (when a scale declares it), ``n_pairs``, ``mean_pre``,
    ``mean_post``, ``mean_change`` with ``change_ci_low``/``change_ci_high``,
    ``g_av`` with its interval, ``p_t``, ``p_wilcoxon``; ``result`` is the full
    :func:`~veplab.outcomes.pre_post_long` frame (scale ids); ``scales`` the ids
    compared; ``one_wave`` the ids of declared scales answered in one wave only
    (or in neither)."""

    table: pd.DataFrame
    result: pd.DataFrame
    scales: list[str]
    one_wave: list[str]
    pre: Any
    post: Any
    pre_label: str
    post_label: str

    def one_wave_sentence(self, cb: Any, lang: str = "en") -> str:
        """One sentence naming the scales answered in one wave only ('' when there are none)."""
        if not self.one_wave:
            return ""
        names = [plain(column_label(cb, s, lang), s) for s in self.one_wave]
        names = [n if not re.search(r"\d", n) else "one of the scales" for n in names]
        verb = "was" if len(names) == 1 else "were"
        return (f"{_join(names)} {verb} not answered in both waves, so no change is reported for "
                f"{'it' if len(names) == 1 else 'them'}.")


_PREPOST_COLUMNS = ["n_pairs", "mean_pre", "mean_post", "mean_change", "change_ci_low", "change_ci_high", "g_av",
                    "g_av_ci_low", "g_av_ci_high", "p_t", "p_wilcoxon"]


def pre_post_scales(data: pd.DataFrame, cb: Any, *, id: str, wave: str, pre: Any, post: Any,
                    scales: Sequence[str], lang: str = "en", ci: float = 0.95) -> PrePost:
    """Paired change of every scale in ``scales`` answered in both waves.

    A scale is compared when at least one person has a score for it in each
    wave; the others are listed in ``one_wave``.  Each scale uses the people
    with a score in both waves (:func:`~veplab.outcomes.pre_post_long`).

    Raises :class:`NotRun` when the waves are not both in the data, a person
    answered a wave twice, no scale was answered in both waves, or fewer than
    two people answered both.

    Statistics (:func:`~veplab.outcomes.pre_post_long`): with ``D = post - pre``, the
    paired t test ``t = mean(D) / (sd(D) / sqrt(n))``, the Wilcoxon signed-rank test,
    and Hedges' ``g_av = J d_av`` with ``d_av = mean(D) / ((s_pre + s_post) / 2)`` and
    ``J = 1 - 3 / (4 (n - 1) - 1)``.

    References
    ----------
    Lakens D (2013). Calculating and reporting effect sizes to facilitate cumulative
    science: a practical primer for t-tests and ANOVAs. *Frontiers in Psychology* 4, 863.
    R ``t.test(post, pre, paired = TRUE)`` and ``wilcox.test(post, pre, paired = TRUE)``
    (tests/reference/outcomes.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "wave", "label": "Wave", "type": "categorical", "options": {1: "Before", 2: "After"}},
    ...     *[{"id": f"k{j}", "label": f"Rule {j}", "type": "likert", "options": {1: "No", 2: "Partly", 3: "Yes"}}
    ...       for j in range(3)]], "scales": [{"id": "skills", "label": "Skills", "items": ["k0", "k1", "k2"]}]})
    >>> r = np.random.default_rng(3); n = 30; base = r.normal(size=n); waves = []
    >>> for w, shift in ((1, 0.0), (2, 0.6)):
    ...     d = pd.DataFrame({"id": range(n), "wave": w})
    ...     for j in range(3):
    ...         d[f"k{j}"] = np.clip(np.round(2 + base + shift + r.normal(scale=0.6, size=n)), 1, 3)
    ...     waves.append(d)
    >>> data = pd.concat(waves, ignore_index=True)
    >>> data["skills"] = data[["k0", "k1", "k2"]].mean(axis=1)
    >>> pp = pre_post_scales(data, cb, id="id", wave="wave", pre=1, post=2, scales=["skills"])
    >>> pp.pre_label, pp.post_label, pp.one_wave
    ('Before', 'After', [])
    >>> pp.table.loc["Skills", ["n_pairs", "mean_change", "change_ci_low", "g_av"]].round(3).tolist()
    [30.0, 0.356, 0.196, 0.553]
    """
    for col in (id, wave):
        if col not in data.columns:
            raise InputError(f"pre_post_scales: column {col!r} is not in the data (columns: {list(data.columns)[:12]})")
    pre, post = _level(data, wave, pre), _level(data, wave, post)
    pre_label, post_label = _wave_labels(cb, wave, pre, post, lang)
    present = set(pd.unique(data[wave].dropna()))
    missing_waves = [lab for lev, lab in ((pre, pre_label), (post, post_label)) if lev not in present]
    if missing_waves:
        raise NotRun(f"No answers from the wave {_join([plain(m, 'declared') for m in missing_waves])} are in "
                     "the data, so nothing can be compared before and after.")
    sub = data[data[wave].isin([pre, post])]
    if sub.duplicated([id, wave]).any():
        raise NotRun("Some people answered the same wave more than once, so answers cannot be paired; keep one "
                     "answer per person and wave.")
    absent = [s for s in scales if s not in data.columns]
    if absent:
        raise InputError(f"pre_post_scales: scales {absent} are not in the data (scored columns: "
                         f"{[s.id for s in cb.scales]})")
    both: list[str] = []
    one: list[str] = []
    for s in scales:
        answered = sub.loc[sub[s].notna(), wave]
        (both if answered.isin([pre]).any() and answered.isin([post]).any() else one).append(s)
    if not both:
        raise NotRun("No declared scale was answered in both waves, so no change can be reported.")
    pairs = {s: _pairs(sub, id, wave, pre, post, s) for s in both}
    few = [s for s in both if pairs[s] < 2]
    if len(few) == len(both):
        raise NotRun("Fewer than two people answered a scale in both waves, so no change can be reported.")
    one += few
    both = [s for s in both if s not in few]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # people with one wave only are left out of each scale (counted in n_pairs)
        res = pre_post_long(data, both, wave=wave, id=id, pre_level=pre, post_level=post, ci=ci)
    table = res.table.set_index("scale")[_PREPOST_COLUMNS].copy()
    levels = [cb.scale(s).extra.get("kirkpatrick") if s in {x.id for x in cb.scales} else None for s in both]
    if any(lv is not None for lv in levels):
        table.insert(0, "kirkpatrick", levels)
    table.index = [column_label(cb, s, lang) for s in table.index]
    table.index.name = "scale"
    return PrePost(table, res.table, both, one, pre, post, pre_label, post_label)


def _pairs(sub: pd.DataFrame, id: str, wave: str, pre: Any, post: Any, scale: str) -> int:
    ok = sub[sub[scale].notna()]
    a = set(ok.loc[ok[wave] == pre, id])
    b = set(ok.loc[ok[wave] == post, id])
    return len(a & b)


def reliable_change_of(data: pd.DataFrame, cb: Any, scale: str, *, id: str, wave: str, pre: Any, post: Any,
                       ci: float = 0.95) -> tuple[ReliableChange, float]:
    """Jacobson-Truax reliable change in ``scale`` between the two waves, and the reliability used.

    The reliability is Cronbach's alpha of the scale's items in the first wave
    (all who answered it; items scored as in the scale: reverse-keyed items
    reversed, keyed items 0/1), the SD that of the scale scores in the first
    wave; people with a score in both waves are classified
    (:func:`~veplab.outcomes.reliable_change`).  A scale whose codebook says
    ``higher_is_better: false`` counts a fall as improvement.

    Raises :class:`NotRun` when the scale's reliability is not between 0 and 1
    or nobody answered it in both waves.

    ``RCI = (post - pre) / S_diff``, ``S_diff = sqrt(2) sd sqrt(1 - alpha)``; a change is
    reliable when ``|RCI| > z_{1-a/2}`` (1.96 at ``ci=0.95``).

    References
    ----------
    Jacobson NS, Truax P (1991). Clinical significance: a statistical approach to
    defining meaningful change in psychotherapy research. *Journal of Consulting and
    Clinical Psychology* 59, 12-19.
    Cronbach LJ (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika* 16, 297-334 (the reliability used; ``psych::alpha``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "wave", "label": "Wave", "type": "categorical", "options": {1: "Before", 2: "After"}},
    ...     *[{"id": f"k{j}", "label": f"Rule {j}", "type": "likert", "options": {1: "No", 2: "Partly", 3: "Yes"}}
    ...       for j in range(3)]], "scales": [{"id": "skills", "label": "Skills", "items": ["k0", "k1", "k2"]}]})
    >>> r = np.random.default_rng(3); n = 30; base = r.normal(size=n); waves = []
    >>> for w, shift in ((1, 0.0), (2, 0.6)):
    ...     d = pd.DataFrame({"id": range(n), "wave": w})
    ...     for j in range(3):
    ...         d[f"k{j}"] = np.clip(np.round(2 + base + shift + r.normal(scale=0.6, size=n)), 1, 3)
    ...     waves.append(d)
    >>> data = pd.concat(waves, ignore_index=True)
    >>> data["skills"] = data[["k0", "k1", "k2"]].mean(axis=1)
    >>> rc, rel = reliable_change_of(data, cb, "skills", id="id", wave="wave", pre=1, post=2)
    >>> round(rel, 3), round(rc.s_diff, 3), (rc.n_improved, rc.n_unchanged, rc.n_deteriorated)
    (0.779, 0.436, (3, 27, 0))
    """
    from ..reliability import alpha
    from ..data.scoring import scored_items

    pre, post = _level(data, wave, pre), _level(data, wave, post)
    first = data[data[wave] == pre].set_index(id)
    second = data[data[wave] == post].set_index(id)
    both = first.index[first[scale].notna()].intersection(second.index[second[scale].notna()])
    if len(both) == 0:
        raise NotRun("Nobody answered the reliable change scale in both waves, so reliable change is not "
                     "reported.")
    sc = cb.scale(scale)
    try:
        rel = float(alpha(scored_items(first, cb, list(sc.items))).estimate)
    except (InputError, ValueError, ZeroDivisionError):
        rel = float("nan")
    if not (0 <= rel < 1):
        raise NotRun("The reliability of the reliable change scale in the first wave is not between zero and "
                     "one, so reliable change cannot be computed.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = reliable_change(first.loc[both, scale], second.loc[both, scale], reliability=rel,
                             sd=float(first[scale].std()), ci=ci,
                             higher_is_better=bool(sc.extra.get("higher_is_better", True)))
    return rc, rel


# --------------------------------------------------------------------------- follow-up


def _binary(series: pd.Series) -> pd.Series | None:
    """A 0/1 coded column as floats (None when it holds other values)."""
    x = pd.to_numeric(pd.Series(np.asarray(series, dtype=object), index=series.index), errors="coerce")
    vals = set(x.dropna().unique())
    return x.astype(float) if vals <= {0.0, 1.0} else None


def followup_frame(data: pd.DataFrame, cb: Any, *, time: str, event: str, treatment: str | None = None,
                   lang: str = "en") -> pd.DataFrame:
    """The follow-up with ``event`` (and ``treatment``) as 0/1 floats, checked.

    Raises :class:`NotRun` naming the column's label when the event is not
    coded 0 (no event) / 1 (event), no event happened, time or event is
    missing, or the treatment is not coded 0/1 with both groups present.

    The coding is that of right-censored survival data, R ``survival::Surv(time,
    event)``: ``time`` the days followed (non-negative), ``event`` 1 when the
    event ended the follow-up and 0 when it was censored.

    References
    ----------
    Therneau TM, Grambsch PM (2000). *Modeling Survival Data: Extending the Cox Model*.
    Springer (``Surv`` objects: time and 0/1 status).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "rearrest", "label": "Re-arrested", "type": "binary", "options": {0: "No", 1: "Yes"}},
    ...     {"id": "programme", "label": "Took part", "type": "binary", "options": {0: "No", 1: "Yes"}}]})
    >>> d = pd.DataFrame({"days": [30, 200, 365, 90], "rearrest": [1, 0, 0, 1], "programme": [1, 1, 0, 0]})
    >>> followup_frame(d, cb, time="days", event="rearrest", treatment="programme").dtypes.tolist()
    [dtype('float64'), dtype('float64'), dtype('float64')]
    >>> try:
    ...     followup_frame(d.assign(rearrest=d["rearrest"] + 1), cb, time="days", event="rearrest")
    ... except NotRun as e:
    ...     print(e.sentence)
    The event column ('Re-arrested') is not coded zero (no event) and one (event) for everyone, ...
    """
    ev_label = plain(column_label(cb, event, lang), "the event column")
    t = pd.to_numeric(data[time], errors="coerce")
    if t.isna().any() or (t < 0).any():
        raise NotRun(f"The follow-up time ('{plain(column_label(cb, time, lang), 'time')}') is missing or "
                     "negative for some people, so the follow-up is not analysed; complete or drop those records.")
    e = _binary(data[event])
    if e is None or e.isna().any():
        raise NotRun(f"The event column ('{ev_label}') is not coded zero (no event) and one (event) for everyone, "
                     "so the follow-up is not analysed.")
    if e.sum() == 0:
        raise NotRun(f"Nobody had the event ('{ev_label}') during follow-up, so there is nothing to estimate.")
    out = data.copy()
    out[time] = t.astype(float)
    out[event] = e
    if treatment is not None:
        tr = _binary(data[treatment])
        tr_label = plain(column_label(cb, treatment, lang), "the treatment column")
        if tr is None or tr.isna().any():
            raise NotRun(f"The treatment column ('{tr_label}') is not coded zero (no) and one (yes) for everyone, "
                         "so no treatment effect is estimated.")
        if tr.nunique() < 2:
            raise NotRun(f"Everyone has the same value of the treatment ('{tr_label}'), so there is no comparison "
                         "group and no treatment effect is estimated.")
        out[treatment] = tr
    return out


def horizon_grid(horizon: float, points: int = 5) -> list[int]:
    """``points`` times from 0 to ``horizon`` (days) for numbers at risk: equal steps rounded down to
    a round number of days (multiples of 5 for horizons of 100 days or more, 50 from 1,000).

    ``t_k = floor(h k / (points - 1) / step) step`` for ``k < points - 1``, and ``h``
    itself last, with ``step = max(1, 10^floor(log10 h) // 20)``.

    References
    ----------
    Morris TP, Jarvis CI, Cragg W, Phillips PPJ, Choodari-Oskooei B, Sydes MR (2019).
    Proposals on Kaplan-Meier plots in medical research and a survey of stakeholder
    views: KMunicate. *BMJ Open* 9, e030215 (numbers at risk at periodic times).

    Examples
    --------
    >>> horizon_grid(730), horizon_grid(365), horizon_grid(90)
    ([0, 180, 365, 545, 730], [0, 90, 180, 270, 365], [0, 22, 45, 67, 90])
    """
    h = float(horizon)
    if not (math.isfinite(h) and h > 0):
        raise InputError(f"horizon_grid: the horizon must be a positive number of days, got {horizon!r}")
    step = max(1, 10 ** int(math.floor(math.log10(h))) // 20)
    grid = [int(math.floor(h * k / (points - 1) / step) * step) for k in range(points - 1)] + [int(round(h))]
    return sorted(set(grid))


@dataclasses.dataclass
class Survival:
    """Kaplan-Meier summaries at the grid of times and at the horizon.

    ``risk``: numbers at risk (rows: groups, columns ``day <t>``); ``rates``:
    the share with the event by the horizon per group (``n``, ``event_rate``,
    ``ci_low``, ``ci_high``); ``overall``: the whole follow-up's rate at the
    horizon (``rate``, ``ci_low``, ``ci_high``, ``n``); ``at``: S(t), its
    interval and numbers at risk per group and time (figure data)."""

    km: KaplanMeier
    grid: list[int]
    at: pd.DataFrame
    risk: pd.DataFrame
    rates: pd.DataFrame
    overall: dict[str, float]


def survival_at_horizon(fu: pd.DataFrame, *, time: str, event: str, horizon: float,
                        group: pd.Series | None = None) -> Survival:
    """Kaplan-Meier (R ``survfit``) at :func:`horizon_grid` times, by ``group`` (labels aligned with
    ``fu``) when given; the event rate ``1 - S(horizon)`` with its interval, overall and per group.

    Raises :class:`NotRun` when nobody is still followed at the horizon (the
    rate there would be an extrapolation).

    The Kaplan-Meier estimate ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)`` of
    :func:`~veplab.outcomes.kaplan_meier` (R ``survfit``, log intervals); the event
    rate by the horizon ``h`` is ``1 - S(h)``, its interval ``[1 - upper, 1 - lower]``.

    References
    ----------
    Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
    *Journal of the American Statistical Association* 53, 457-481.
    R ``survival::survfit`` and ``summary(fit, times = )`` (tests/reference/outcomes.R).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "rearrest", "label": "Re-arrested", "type": "binary", "options": {0: "No", 1: "Yes"}},
    ...     {"id": "programme", "label": "Took part", "type": "binary", "options": {0: "No", 1: "Yes"}}]})
    >>> d = pd.DataFrame({"days": [30, 200, 365, 90, 400, 380, 60, 365],
    ...                   "rearrest": [1, 0, 0, 1, 0, 1, 1, 0], "programme": [1, 1, 1, 1, 0, 0, 0, 0]})
    >>> fu = followup_frame(d, cb, time="days", event="rearrest", treatment="programme")
    >>> s = survival_at_horizon(fu, time="days", event="rearrest", horizon=365,
    ...                         group=group_labels(fu, cb, "programme"))
    >>> s.risk
        day 0  day 90  day 180  day 270  day 365
    No      4       3        3        3        3
    Yes     4       3        2        1        1
    >>> s.rates["event_rate"].round(3).tolist(), round(s.overall["rate"], 3)
    ([0.25, 0.5], 0.375)
    """
    t = fu[time].astype(float)
    if not (t >= horizon).any():
        raise NotRun("Nobody was followed up to the horizon, so the rate at the horizon is not reported; "
                     "shorten the horizon (analyses.outcomes.followup.horizon).")
    grid = horizon_grid(horizon)
    if group is None:
        km = kaplan_meier(fu, time, event)
    else:
        frame = fu.copy()
        frame["_group"] = group.values  # a categorical keeps the codebook's order of the options
        km = dataclasses.replace(kaplan_meier(frame, time, event, group="_group"), group_name=group.name)
    at = km.survival_at(grid)
    risk = km.risk_table(grid).astype(int)
    risk.columns = [f"day {c}" for c in risk.columns]
    risk.index = ["All" if group is None else str(g) for g in risk.index]
    risk.index.name = None
    end = at[at["time"] == grid[-1]].set_index("group")
    rates = pd.DataFrame({"n": risk.iloc[:, 0].to_numpy(), "event_rate": (1 - end["surv"]).to_numpy(),
                          "ci_low": (1 - end["upper"]).to_numpy(), "ci_high": (1 - end["lower"]).to_numpy()},
                         index=risk.index)
    one = kaplan_meier(fu, time, event).survival_at([grid[-1]]).iloc[0]
    overall = {"rate": 1 - float(one["surv"]), "ci_low": 1 - float(one["upper"]), "ci_high": 1 - float(one["lower"]),
               "n": int(len(fu))}
    return Survival(km, grid, at, risk, rates, overall)


def group_labels(fu: pd.DataFrame, cb: Any, column: str, lang: str = "en") -> pd.Series:
    """``column`` as its option labels (a categorical in the codebook's order), named by the item's label.

    A column without options in the codebook keeps its values (as text).

    References
    ----------
    veplab design notes (DESIGN.md), "Codebook (instrument) format": item and scale
    ``label`` in each language, ``options`` code -> label.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "Man", 2: "Woman"}}]})
    >>> g = group_labels(pd.DataFrame({"gender": [2, 1, 2]}), cb, "gender")
    >>> g.name, g.tolist(), list(g.cat.categories)
    ('Gender', ['Woman', 'Man', 'Woman'], ['Man', 'Woman'])
    """
    from ..descriptives.tables import labelled

    if column in cb.item_ids and cb.item(column).options:
        return labelled(fu, cb, column, lang=lang)
    return pd.Series([option_label(cb, column, v, lang) for v in fu[column]], index=fu.index,
                     name=column_label(cb, column, lang))


@dataclasses.dataclass
class Effects:
    """The treatment's hazard ratio three ways.

    ``table``: rows ``naive (unadjusted Cox)``, ``covariate-adjusted Cox``,
    ``propensity-weighted Cox (ATT)`` (those that could be fitted), columns
    ``hazard_ratio``, ``ci_low``, ``ci_high``, ``n``, ``events``; ``balance``:
    standardised mean differences and variance ratios before and after
    weighting, rows labelled from the codebook (None without weighting);
    ``notes``: sentences (no digits) for the models that could not be fitted."""

    table: pd.DataFrame
    naive: CoxResult
    adjusted: CoxResult | None
    weighted: Any
    ps: PropensityResult | None
    balance: pd.DataFrame | None
    notes: list[str]


def _treatment_row(fit: CoxResult, treatment: str) -> pd.Series:
    tab = fit.table.set_index("term")
    rows = [t for t in tab.index if t == treatment or str(t).startswith(str(treatment))]
    return tab.loc[rows[0]]


def treatment_effects(fu: pd.DataFrame, cb: Any, *, time: str, event: str, treatment: str,
                      covariates: Sequence[str], seed: int | None = None, lang: str = "en") -> Effects:
    """Hazard ratio of ``treatment`` (0/1): naive Cox, Cox adjusted for ``covariates``, and Cox weighted by
    the propensity score (ATT weights, logistic model on ``covariates``; robust variance, as ``coxph``
    with ``weights``).  Covariates that take one value are left out (a sentence in ``notes`` says so).

    ``fu`` is :func:`followup_frame`'s output.  A model that cannot be fitted
    (separation, collinearity) is left out with a sentence in ``notes``.

    Models: the Cox partial likelihood ``h(t | x) = h0(t) exp(b' x)`` with ``x`` the
    treatment alone, then the treatment and ``covariates``; the weighted model uses
    the ATT weights of :func:`~veplab.outcomes.propensity`, ``w = T + (1 - T) ps / (1 - ps)``,
    and the robust (sandwich) variance.  ``hazard_ratio = exp(b_treatment)``.

    References
    ----------
    Cox DR (1972). Regression models and life-tables. *Journal of the Royal Statistical
    Society B* 34, 187-220.
    Austin PC, Stuart EA (2015). Moving towards best practice when using inverse
    probability of treatment weighting (IPTW) using the propensity score. *Statistics
    in Medicine* 34, 3661-3679.
    Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model.
    *Journal of the American Statistical Association* 84, 1074-1078.
    R ``survival::coxph`` (with ``weights =`` and ``robust = TRUE`` for the weighted model).

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "rearrest", "label": "Re-arrested", "type": "binary", "options": {0: "No", 1: "Yes"}},
    ...     {"id": "programme", "label": "Took part", "type": "binary", "options": {0: "No", 1: "Yes"}}]})
    >>> import numpy as np
    >>> r = np.random.default_rng(7); n = 120
    >>> d = pd.DataFrame({"days": r.integers(30, 730, n), "rearrest": r.binomial(1, 0.3, n),
    ...                   "programme": np.repeat([0, 1], n // 2), "gender": np.repeat([1, 2, 1, 2], [40, 20, 25, 35])})
    >>> fu = followup_frame(d, cb, time="days", event="rearrest", treatment="programme")
    >>> eff = treatment_effects(fu, cb, time="days", event="rearrest", treatment="programme",
    ...                         covariates=["gender"], seed=1)
    >>> eff.table.round(2)
                                   hazard_ratio  ci_low  ci_high    n  events
    model
    naive (unadjusted Cox)                 1.31    0.68     2.52  120      36
    covariate-adjusted Cox                 1.15    0.59     2.28  120      36
    propensity-weighted Cox (ATT)          1.06    0.55     2.02  120      36
    """
    covs = [c for c in covariates if c != treatment]
    single = [c for c in covs if fu[c].dropna().nunique() < 2]
    covs = [c for c in covs if c not in single]
    notes: list[str] = []
    if single:
        notes.append(f"{_join([plain(column_label(cb, c, lang), c) for c in single])} "
                     f"{'takes' if len(single) == 1 else 'take'} a single value in the follow-up, so "
                     f"{'it is' if len(single) == 1 else 'they are'} not among the covariates.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            naive = cox(fu, time, event, [treatment])
        except InputError:
            raise NotRun("The treatment's hazard ratio could not be estimated (the Cox model could not be "
                         "fitted), so no treatment effect is reported.") from None
        rows = [_hr_row("naive (unadjusted Cox)", _treatment_row(naive, treatment)["hr"],
                        _treatment_row(naive, treatment)["hr_ci_low"], _treatment_row(naive, treatment)["hr_ci_high"])]
        adjusted = ps = weighted = balance = None
        if not covs:
            notes.append("No covariates are declared (analyses.outcomes.followup.covariates), so only the naive "
                         "comparison is shown.")
        else:
            try:
                adjusted = cox(fu, time, event, [treatment] + covs)
                r = _treatment_row(adjusted, treatment)
                rows.append(_hr_row("covariate-adjusted Cox", r["hr"], r["hr_ci_low"], r["hr_ci_high"]))
            except InputError:
                notes.append("The covariate-adjusted Cox model could not be fitted (covariates that are "
                             "collinear or predict the event perfectly), so it is not shown.")
            try:
                ps = propensity(fu, treatment, covs, estimand="ATT", seed=seed)
                weighted = ps.effect(kind="survival", duration=time, event=event)
                rows.append(_hr_row("propensity-weighted Cox (ATT)", weighted.ratio, weighted.ratio_ci_low,
                                    weighted.ratio_ci_high))
                bal = ps.balance.copy()
                bal["covariate"] = [c if c == "propensity score" else term_label(cb, c, lang)
                                    for c in bal["covariate"]]
                balance = bal
            except InputError:
                ps = weighted = None
                notes.append("The propensity model could not be fitted (a covariate predicts the treatment "
                             "perfectly, or one group is empty after leaving out missing values), so no "
                             "weighted estimate is shown.")
    table = pd.DataFrame(rows).set_index("model")
    table["n"], table["events"] = naive.n, naive.n_events
    return Effects(table, naive, adjusted, weighted, ps, balance, notes)


def _hr_row(model: str, hr: float, lo: float, hi: float) -> dict[str, Any]:
    return {"model": model, "hazard_ratio": float(hr), "ci_low": float(lo), "ci_high": float(hi)}


# --------------------------------------------------------------------------- power


def power_table(*, followup: pd.DataFrame | None = None, event: str | None = None, target_hr: float = 0.7,
                followup_label: str = "time to event (Cox)", n_pairs: int | None = None,
                prepost_label: str = "before and after (paired t)", power_level: float = 0.8) -> pd.DataFrame:
    """Minimum detectable effects at ``power_level`` (5% two-sided) for what ran.

    The follow-up row: the smallest hazard ratio a two-group comparison detects
    with the people and base rate of the follow-up (Schoenfeld 1983) and the
    people needed for ``target_hr``; the before-and-after row: the smallest
    standardised change detectable with ``n_pairs`` paired answers.  Returns an
    empty frame when neither is given.

    Follow-up (:func:`~veplab.outcomes.minimum_detectable_effect`, ``"survival"``,
    equal allocation, ``p`` the observed event rate)::

        HR = exp(-(z_{0.975} + z_{power}) / sqrt(n p / 4))
        n_needed = (z_{0.975} + z_{power})^2 / (p log(HR_target)^2 / 4)

    Before and after: the ``delta`` (in SD units of the change) of R
    ``power.t.test(n = n_pairs, power = power_level, type = "paired")``.

    References
    ----------
    Schoenfeld DA (1983). Sample-size formula for the proportional-hazards regression
    model. *Biometrics* 39, 499-503.
    R ``stats::power.t.test`` (tests/reference/outcomes.R).

    Examples
    --------
    >>> power_table(n_pairs=120)["detectable_effect"].round(3).tolist()
    [0.258]
    """
    rows = []
    if followup is not None and event is not None:
        p = float(followup[event].astype(float).mean())
        mde = minimum_detectable_effect("survival", n=len(followup), event_prob=p, power=power_level)
        need = power("survival", n=None, effect=target_hr, event_prob=p, power=power_level)
        rows.append({"design": followup_label, "n": len(followup), "base_rate": p, "detectable_effect": mde.effect,
                     "effect_scale": "hazard ratio", "n_needed_for_target": math.ceil(need.n)})
    if n_pairs is not None and n_pairs >= 2:
        mde = minimum_detectable_effect("paired", n=n_pairs, power=power_level)
        rows.append({"design": prepost_label, "n": n_pairs, "base_rate": None, "detectable_effect": mde.effect,
                     "effect_scale": "standardised change (d)", "n_needed_for_target": None})
    if not rows:
        return pd.DataFrame(columns=["n", "base_rate", "detectable_effect", "effect_scale", "n_needed_for_target"])
    return pd.DataFrame(rows).set_index("design")


# --------------------------------------------------------------------------- evaluation indicators


def framework_blocks(framework: Any, sources: Iterable[str], *, file: str = "the framework") -> dict[str, dict]:
    """The blocks of an evaluation framework keyed by source name, checked.

    A framework file holds one block per data source (the format of
    :mod:`veplab.outcomes.indicators`)::

        staff:                          # a source of the study
          disaggregate: [gender]        # optional; default: the design's breakdowns in the source
          indicators: [...]

    Raises :class:`~veplab._validate.InputError` naming the file and the block.

    References
    ----------
    OECD DAC Network on Development Evaluation (2019). Better Criteria for Better
    Evaluation: Revised Evaluation Criteria Definitions and Principles for Use. OECD, Paris.
    veplab design notes (DESIGN.md), "A study is declared, not coded" (a block per
    source named in ``study.yml``).

    Examples
    --------
    >>> framework_blocks({"staff": {"indicators": []}}, ["staff", "prisoners"])
    {'staff': {'indicators': []}}
    >>> framework_blocks({"staf": {"indicators": []}}, ["staff", "prisoners"], file="framework.yml")
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: framework.yml: block 'staf' names no source of the study; did you mean 'staff'?
    """
    sources = list(sources)
    if not isinstance(framework, Mapping) or not framework:
        raise InputError(f"{file}: an evaluation framework maps each data source to its indicators, e.g. "
                         f"{{{sources[0] if sources else 'survey'}: {{indicators: [...]}}}}; got {framework!r}")
    out = {}
    for name, block in framework.items():
        if name not in sources:
            import difflib

            close = difflib.get_close_matches(str(name), sources, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the study's sources are {', '.join(sources)}"
            raise InputError(f"{file}: block {name!r} names no source of the study; {hint}")
        if not isinstance(block, Mapping) or "indicators" not in block:
            raise InputError(f"{file}: block {name!r} must be a mapping with indicators: (and optionally "
                             "disaggregate:), see veplab.outcomes.indicators")
        out[str(name)] = dict(block)
    return out


def _columns_used(block: Mapping[str, Any], default: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """(disaggregation columns, columns of computed actuals, columns of where: filters) of a block."""
    dis = list(block.get("disaggregate") or []) if block.get("disaggregate") is not None else list(default)
    actual_cols, where_cols = [], []
    for ind in block.get("indicators") or []:
        if not isinstance(ind, Mapping):
            continue
        d = ind.get("disaggregate", True)
        if isinstance(d, list):
            dis += [c for c in d if c not in dis]
        act = ind.get("actual")
        if isinstance(act, Mapping):
            if act.get("column"):
                actual_cols.append(act["column"])
            where_cols += list(act.get("where") or {})
    return dis, actual_cols, where_cols


def indicator_data(data: pd.DataFrame, cb: Any, block: Mapping[str, Any], *, breakdowns: Sequence[str] = (),
                   lang: str = "en") -> tuple[pd.DataFrame, list[str]]:
    """The source's data ready for :func:`~veplab.outcomes.indicators`, and every column it is
    disaggregated by (to name them on the page).

    Every column the block disaggregates by (its ``disaggregate:``, else the
    design's ``breakdowns`` present in the data, and any indicator's own list)
    is replaced by its option labels in ``lang``; coded columns an actual is
    computed from become numbers (a 0/1 item's share).  A column also used in
    a ``where:`` filter keeps its codes.

    References
    ----------
    OECD DAC Network on Development Evaluation (2019). Better Criteria for Better
    Evaluation: Revised Evaluation Criteria Definitions and Principles for Use. OECD, Paris.
    veplab design notes (DESIGN.md), "Codebook (instrument) format": item and scale
    ``label`` in each language, ``options`` code -> label.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> from veplab.outcomes import indicators
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "Man", 2: "Woman"}}]})
    >>> staff = pd.DataFrame({"gender": [1, 1, 2, 2, 2], "trained": [1, 0, 1, 1, 0]})
    >>> block = {"disaggregate": ["gender"], "indicators": [{"id": "trained", "label": "Officers trained",
    ...     "criterion": "effectiveness", "baseline": 0.2, "target": 0.8, "direction": "increase",
    ...     "source": "staff survey", "actual": {"stat": "share", "column": "trained"}}]}
    >>> d, by = indicator_data(staff, cb, block)
    >>> d["gender"].tolist(), by
    (['Man', 'Man', 'Woman', 'Woman', 'Woman'], ['gender'])
    >>> indicators(d, block, disaggregate=by)[["level", "actual", "n"]].round(3)
       level  actual  n
    0    all   0.600  5
    1    Man   0.500  2
    2  Woman   0.667  3
    """
    present = [b for b in breakdowns if b in data.columns]
    dis, actual_cols, where_cols = _columns_used(block, present)
    d = data.copy()
    for col in dis:
        if col in d.columns and col not in where_cols and col in cb.item_ids and cb.item(col).options:
            item = cb.item(col)
            codes = pd.to_numeric(pd.Series(np.asarray(d[col], dtype=object), index=d.index), errors="coerce")
            labels = [item.option_text(c, lang) for c in item.codes]
            d[col] = pd.Categorical([item.option_text(int(v), lang) if pd.notna(v) and int(v) in item.options
                                     else None for v in codes], categories=list(dict.fromkeys(labels)))
    for col in actual_cols:
        if col in d.columns and isinstance(d[col].dtype, pd.CategoricalDtype):
            num = pd.to_numeric(pd.Series(np.asarray(d[col], dtype=object), index=d.index), errors="coerce")
            if num.notna().sum() == d[col].notna().sum():
                d[col] = num.astype(float)
    return d, [c for c in dis if c in d.columns]


def indicator_labels(parts: Sequence[pd.DataFrame]) -> dict[str, str]:
    """What the page shows for each row of :func:`indicator_table`: the indicator's label in the
    report's language (as :func:`veplab.outcomes.indicators` chose it) and the level, for
    ``Report.table(..., labels=)``; ``results.json`` keeps ``<indicator> · <level>``.

    References
    ----------
    veplab design notes (DESIGN.md), "Privacy": published tables go through
    ``veplab.report`` (:meth:`veplab.report.Report.table`, whose ``labels=`` this feeds).

    Examples
    --------
    >>> import pandas as pd
    >>> part = pd.DataFrame({"indicator": ["reach"], "label": ["Officers trained"], "level": ["all"]})
    >>> indicator_labels([part])
    {'reach · all': 'Officers trained · all'}
    """
    out: dict[str, str] = {}
    for part in parts:
        for i, lab, lvl in zip(part["indicator"], part["label"], part["level"]):
            text = " ".join(str(lab).split()) if isinstance(lab, str) and lab.strip() else str(i)
            out[f"{i} · {lvl}"] = f"{text} · {lvl}"
    return out


def indicator_table(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The indicators of all blocks for the page: index ``<indicator> · <level>``, columns ``criterion``,
    ``n`` (0 for a figure supplied by the evaluator), ``baseline``, ``target``, ``actual``,
    ``progress_pct``, ``source``.

    ``progress_pct = 100 (actual - baseline) / (target - baseline)`` as
    :func:`~veplab.outcomes.indicators` computes it (100: target reached).

    References
    ----------
    OECD DAC Network on Development Evaluation (2019). Better Criteria for Better
    Evaluation: Revised Evaluation Criteria Definitions and Principles for Use. OECD, Paris.

    Examples
    --------
    >>> import pandas as pd
    >>> from veplab.codebook import from_dict
    >>> from veplab.outcomes import indicators
    >>> cb = from_dict({"id": "s", "title": "t", "id_column": "id", "items": [
    ...     {"id": "gender", "label": "Gender", "type": "categorical", "options": {1: "Man", 2: "Woman"}}]})
    >>> staff = pd.DataFrame({"gender": [1, 1, 2, 2, 2], "trained": [1, 0, 1, 1, 0]})
    >>> block = {"disaggregate": ["gender"], "indicators": [{"id": "trained", "label": "Officers trained",
    ...     "criterion": "effectiveness", "baseline": 0.2, "target": 0.8, "direction": "increase",
    ...     "source": "staff survey", "actual": {"stat": "share", "column": "trained"}}]}
    >>> d, by = indicator_data(staff, cb, block)
    >>> indicator_table([indicators(d, block, disaggregate=by)])[["n", "actual", "progress_pct"]].round(1)
                     n  actual  progress_pct
    trained · all    5     0.6          66.7
    trained · Man    2     0.5          50.0
    trained · Woman  3     0.7          77.8
    """
    ind = pd.concat(list(parts), ignore_index=True)
    ind.index = [f"{i} · {lvl}" for i, lvl in zip(ind["indicator"], ind["level"])]
    ind["n"] = ind["n"].fillna(0).astype(int)
    return ind[["criterion", "n", "baseline", "target", "actual", "progress_pct", "source"]]
