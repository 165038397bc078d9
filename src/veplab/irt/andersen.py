"""Andersen's likelihood-ratio test of a Rasch-family model (``eRm::LRtest``, ``eRm::Waldtest``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._results import Result
from .._validate import InputError
from .cml import RaschResult, _build

__all__ = ["LRTestResult", "lr_test"]


@dataclasses.dataclass(frozen=True, eq=False)
class LRTestResult(Result):
    """Andersen's likelihood-ratio test (:func:`lr_test`).

    ``statistic`` (eRm's ``LR``), ``df``, ``p``; ``split`` says how persons were
    grouped; ``excluded`` lists items left out of every fit (a category unused in a
    group).  ``groups``: ``group, n, loglik, npar`` per subgroup.  ``locations``: one
    row per item and group (``item, group, location, se``), item difficulties fitted in
    each group separately, for a goodness-of-fit plot (:meth:`plot`).  ``wald`` (two
    groups only; ``eRm::Waldtest``): per parameter ``beta_1, se_1, beta_2, se_2,
    z = (beta_1 - beta_2) / sqrt(se_1² + se_2²)`` and two-sided ``p``.  A positive ``z``
    means the item (step) is harder in the second group.
    """

    model: str
    statistic: float
    df: int
    p: float
    split: str
    n: int
    loglik_full: float
    excluded: list[str]
    groups: pd.DataFrame = dataclasses.field(repr=False)
    locations: pd.DataFrame = dataclasses.field(repr=False)
    wald: pd.DataFrame = dataclasses.field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row: the test."""
        return pd.DataFrame([{"statistic": self.statistic, "df": self.df, "p": self.p, "split": self.split,
                              "n": self.n}], index=["Andersen LR"])

    def summary(self) -> str:
        lines = [f"Andersen's likelihood-ratio test ({self.model}), split: {self.split}",
                 f"LR = {self.statistic:.4f}, df = {self.df}, p = {self.p:.4g}  (n = {self.n})"]
        if self.excluded:
            lines.append(f"items left out (a category unused in a group): {self.excluded}")
        lines += ["", self.groups.to_string(index=False, float_format=lambda v: f"{v:.4f}")]
        if not self.wald.empty:
            lines += ["", "Wald tests per parameter (z > 0: harder in the second group)",
                      self.wald.to_string(index=False, float_format=lambda v: f"{v:.4f}")]
        return "\n".join(lines)

    def plot(self, ax: Any = None) -> Any:
        """Item locations in the first two groups against each other, with 95% bars and the identity line
        (as ``eRm::plotGOF``).  Returns the Figure."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(5.5, 5.5))
        else:
            fig = ax.figure
        names = list(dict.fromkeys(self.groups["group"]))[:2]
        a = self.locations[self.locations["group"] == names[0]].set_index("item")
        b = self.locations[self.locations["group"] == names[1]].set_index("item").loc[a.index]
        ax.errorbar(a["location"], b["location"], xerr=1.96 * a["se"], yerr=1.96 * b["se"], fmt="o",
                    color="0.15", ecolor="0.6", markersize=4, linewidth=0.8)
        for item in a.index:
            ax.annotate(str(item), (a.loc[item, "location"], b.loc[item, "location"]), xytext=(4, 4),
                        textcoords="offset points", fontsize=8)
        lo = float(min(a["location"].min(), b["location"].min())) - 0.5
        hi = float(max(a["location"].max(), b["location"].max())) + 0.5
        ax.plot([lo, hi], [lo, hi], color="0.5", linestyle="--", linewidth=0.8)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"Item location, {names[0]} (logits)")
        ax.set_ylabel(f"Item location, {names[1]} (logits)")
        ax.set_title(f"Andersen LR = {self.statistic:.2f}, df = {self.df}, p = {self.p:.3g}", fontsize=10)
        return fig


def _unusable(x: np.ndarray, m: np.ndarray, model: str = "PCM") -> np.ndarray:
    """Items unusable in the group ``x`` (eRm's datcheck.LRtest): no answer, or a category 0..m_i
    unused; for the rating scale model (shared steps), lowest answer not 0 or highest not m."""
    bad = np.zeros(x.shape[1], dtype=bool)
    for j in range(x.shape[1]):
        col = x[~np.isnan(x[:, j]), j]
        if col.size == 0:
            bad[j] = True
        elif model == "RSM":
            bad[j] = col.min() != 0 or col.max() != m[j]
        else:
            bad[j] = np.unique(col).size != m[j] + 1
    return bad


def lr_test(result: RaschResult, split: Any = "median") -> LRTestResult:
    """Andersen's likelihood-ratio test: do the item parameters differ between groups of persons?

    The model is refitted by conditional ML in each group ``g`` of persons; under the
    Rasch model the item parameters are the same in every group, and::

        LR = 2 (sum_g log L_c(g) - log L_c),   df = sum_g npar_g - npar

    is asymptotically chi-square (Andersen 1973).  ``split``: ``"median"`` (eRm's
    default: raw score <= median against above; with missing answers the median is
    taken within each missing pattern, as eRm), ``"mean"`` (score > mean against the
    rest; eRm's rule), or a grouping of the persons -- a pandas Series aligned with the
    data's index or a sequence in the data's row order -- such as language, country or
    gender (a test of differential item functioning).  An item with a category no one
    in some group used is left out of every fit, the full model included (eRm does the
    same; its ``datcheck.LRtest``).  With exactly two groups the result also carries
    eRm's Wald test per parameter (``eRm::Waldtest``).

    Parameters
    ----------
    result : a fitted :func:`~veplab.irt.rasch` or :func:`~veplab.irt.partial_credit` model.
    split : ``"median"``, ``"mean"`` or a grouping (Series / sequence), no missing values.

    Returns
    -------
    :class:`LRTestResult`

    Raises
    ------
    InputError
        a grouping of the wrong length, with missing values or a single group; fewer
        than two items left after excluding those unusable in a group.

    References
    ----------
    Andersen, E. B. (1973). A goodness of fit test for the Rasch model. *Psychometrika*,
    38, 123-140.
    Mair, P., & Hatzinger, R. (2007). Extended Rasch modeling: The eRm package for the
    application of IRT models in R. *Journal of Statistical Software*, 20(9), 1-20.
    Checked against ``eRm::LRtest`` and ``eRm::Waldtest`` (tests/reference/irt.R).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from veplab.irt import rasch
    >>> rng = np.random.default_rng(3)
    >>> lang = np.repeat(["en", "fr"], 300)
    >>> theta = rng.normal(size=600)
    >>> delta = np.tile([-1.0, -0.5, 0.0, 0.5, 1.0], (600, 1))
    >>> delta[lang == "fr", 2] += 1.0                      # item q3 harder in French
    >>> x = (rng.random((600, 5)) < 1 / (1 + np.exp(-(theta[:, None] - delta)))).astype(int)
    >>> d = pd.DataFrame(x, columns=["q1", "q2", "q3", "q4", "q5"])
    >>> lr = lr_test(rasch(d), split=pd.Series(lang))
    >>> lr.df, lr.p < 0.001
    (4, True)
    >>> lr.wald.loc[lr.wald["z"].abs().idxmax(), "parameter"]
    'q3'
    """
    what = "lr_test"
    if not isinstance(result, RaschResult):
        raise InputError(f"{what}: expects a fitted rasch() or partial_credit() result, got {type(result).__name__}")
    x, m = result.responses, result.categories
    n = len(x)
    index = result.persons.index
    obs = ~np.isnan(x)
    score = np.where(obs, x, 0).sum(axis=1)
    if isinstance(split, str):
        if split not in ("median", "mean"):
            raise InputError(f"{what}: split must be 'median', 'mean' or a grouping of the persons; got {split!r}")
        if obs.all():
            cut = np.median(score) if split == "median" else np.mean(score)
            high = score > cut
        else:  # eRm: within each missing pattern
            pat = result.persons["pattern"].to_numpy()
            high = np.zeros(n, dtype=bool)
            for g in np.unique(pat):
                sel = pat == g
                cut = np.median(score[sel]) if split == "median" else np.mean(score[sel])
                high[sel] = score[sel] > cut if split == "median" else score[sel] >= cut
        labels = np.where(high, "high", "low")
        order = ["low", "high"]
        described = ("raw score <= median vs > median" if split == "median" else "raw score below vs above mean") \
            + ("" if obs.all() else " (within missing patterns)")
    else:
        if isinstance(split, pd.Series):
            if not split.index.equals(index):
                if not index.isin(split.index).all():
                    raise InputError(f"{what}: the grouping Series does not cover every person's row label; pass one "
                                     "aligned with the data (or a plain sequence in row order)")
                split = split.loc[index]
            g = split.to_numpy()
            described = f"by {split.name}" if split.name is not None else "by group"
        else:
            g = np.asarray(split)
            described = "by group"
        if g.ndim != 1 or len(g) != n:
            raise InputError(f"{what}: the grouping has {np.size(g)} values for {n} persons")
        if pd.isna(pd.Series(g)).any():
            raise InputError(f"{what}: the grouping has missing values ({int(pd.isna(pd.Series(g)).sum())}); eRm "
                             "refuses them too: drop those persons and refit")
        labels = np.asarray(g)
        order = sorted(pd.unique(labels), key=lambda v: (str(type(v)), v))
        if len(order) < 2:
            raise InputError(f"{what}: the grouping has a single group {order}; the test compares two or more")
    bad = np.zeros(len(m), dtype=bool)
    for lv in order:
        bad |= _unusable(x[labels == lv], m, result.model)
    names = result.item_names
    excluded = [names[j] for j in np.flatnonzero(bad)]
    keep = ~bad
    if keep.sum() < 2:
        raise InputError(f"{what}: fewer than two items are usable in every group (left out: {excluded}); "
                         "the test cannot be done with this split")
    model = result.model
    cols = [nm for nm, k in zip(names, keep) if k]

    def refit(rows: np.ndarray, label: str) -> RaschResult:
        xs = x[np.ix_(rows, keep)]
        few = (~np.isnan(xs)).sum(axis=1) < 2  # persons left with < 2 answers carry nothing
        xs = xs[~few]
        frame = pd.DataFrame(xs, columns=cols)
        try:
            return _build(frame, xs, m[keep], result.normalisation == "sum0", result.ci, model, f"{what} ({label})")
        except InputError as e:
            raise InputError(f"{what}: the model cannot be fitted in group {label!r}: {e}") from None

    full = result if not bad.any() else refit(np.ones(n, dtype=bool), "all persons")
    fits = {lv: refit(labels == lv, str(lv)) for lv in order}
    ll_groups = np.array([f.loglik for f in fits.values()])
    stat = float(2 * abs(ll_groups.sum() - full.loglik))
    df = int(sum(f.npar for f in fits.values()) - full.npar)
    groups = pd.DataFrame({"group": [str(lv) for lv in order], "n": [int((labels == lv).sum()) for lv in order],
                           "loglik": ll_groups, "npar": [f.npar for f in fits.values()]})
    locations = pd.concat([f.items[["item", "location", "se"]].assign(group=str(lv)) for lv, f in fits.items()],
                          ignore_index=True)[["item", "group", "location", "se"]]
    wald = pd.DataFrame()
    if len(order) == 2:
        f1, f2 = fits[order[0]], fits[order[1]]
        t1 = f1.thresholds
        param = t1["item"] if model == "RM" else t1["item"] + ".c" + t1["step"].astype(str)
        b1, s1 = f1.beta, np.sqrt(np.diag(f1.vcov_beta))
        b2, s2 = f2.beta, np.sqrt(np.diag(f2.vcov_beta))
        z = (b1 - b2) / np.sqrt(s1 ** 2 + s2 ** 2)
        wald = pd.DataFrame({"parameter": param.to_numpy(), "beta_1": b1, "se_1": s1, "beta_2": b2, "se_2": s2,
                             "z": z, "p": 2 * stats.norm.sf(np.abs(z))})
    return LRTestResult(model=model, statistic=stat, df=df, p=float(stats.chi2.sf(stat, df)), split=described, n=n,
                        loglik_full=float(full.loglik), excluded=excluded, groups=groups, locations=locations,
                        wald=wald)
