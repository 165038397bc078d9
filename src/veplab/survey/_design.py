"""Survey designs (Taylor linearisation and replicate weights) and their estimates.

The arithmetic follows R's ``survey`` package (Lumley) line by line where it matters
for the numbers: ``svydesign`` (strata, clusters, fpc as population sizes or sampling
fractions, ``nest``), ``svyrecvar``/``multistage``/``onestage``/``onestrat`` for the
linearisation variance (including ``options(survey.lonely.psu=)``),
``subset.survey.design`` (a domain keeps the whole design), ``svymean``/``svytotal``
with ``deff=TRUE``, ``svyciprop``, ``svyquantile`` (``qrule="math"``, Woodruff
intervals), ``svyglm`` and ``as.svrepdesign``/``svrVar`` for replicate weights.

References
----------
Lumley T (2004). Analysis of complex survey samples. *J Stat Softw* 9(8).
Lumley T (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
Binder DA (1983). On the variances of asymptotically normal estimators from complex
surveys. *Int Stat Rev* 51:279-292.
Woodruff RS (1952). Confidence intervals for medians and other position measures.
*JASA* 47:635-646.
Korn EL, Graubard BI (1998). Confidence intervals for proportions with small expected
number of positive counts estimated from survey data. *Survey Methodology* 24:193-201.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .._validate import InputError, check_choice, check_ci, format_rows, rng
from .._glm import glm

__all__ = ["SurveyDesign", "ReplicateDesign"]

LONELY = ("fail", "adjust", "average", "certainty", "remove")
PROPORTION_METHODS = ("logit", "likelihood", "beta", "mean")
COLUMNS = ["estimate", "se", "ci_low", "ci_high", "deff", "n"]


def _codes(values: Any) -> np.ndarray:
    """Integer codes of a key (a Series or a tuple of Series: their interaction)."""
    if isinstance(values, (list, tuple)):
        frame = pd.concat([pd.Series(np.asarray(v)) for v in values], axis=1)
        return frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    return pd.factorize(pd.Series(np.asarray(values)), sort=False)[0]


def _as_list(x: Any) -> list[Any]:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


class _Stage:
    """One sampling stage: strata, clusters, sample and population counts per row."""

    def __init__(self, strata: np.ndarray, cluster: np.ndarray, popsize: np.ndarray | None):
        self.strata = strata
        self.cluster = cluster
        # number of distinct clusters per stratum (as.fpc's sampsize), per row
        pairs = pd.DataFrame({"s": strata, "c": cluster}).drop_duplicates()
        counts = pairs.groupby("s")["c"].size()
        self.npsu = counts.reindex(strata).to_numpy()
        self.popsize = popsize

    def f(self, rows: np.ndarray) -> np.ndarray:
        """(N - n) / N per row, 1 without fpc (R's onestrat)."""
        if self.popsize is None:
            return np.ones(len(rows))
        pop = self.popsize[rows]
        return np.where(np.isinf(pop), 1.0, (pop - self.npsu[rows]) / pop)


# --------------------------------------------------------------------------------------
# Shared estimation code
# --------------------------------------------------------------------------------------


class _BaseDesign:
    """What Taylor and replicate designs share: data, weights, domain, estimates."""

    data: pd.DataFrame
    _w: np.ndarray  # sampling weights of the full design
    _domain: np.ndarray  # rows in the domain (subset); weights count only there

    # -- to be provided by subclasses ---------------------------------------------------
    def _variance(self, influence: np.ndarray | None, theta: Callable[[np.ndarray], np.ndarray]
                  ) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def degf(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _copy(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _rows(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- common helpers ---------------------------------------------------------------
    @property
    def weights(self) -> pd.Series:
        """Analysis weights (zero outside the domain), as R's ``weights(design)``."""
        return pd.Series(np.where(self._domain, self._w, 0.0), index=self.data.index, name="weight")

    def _dw(self) -> np.ndarray:
        return np.where(self._domain, self._w, 0.0)

    def __len__(self) -> int:
        return int(self._domain.sum())

    def subset(self, mask: Any) -> Any:
        """The design restricted to a domain, keeping the whole design (R's ``subset(design, ...)``).

        Rows outside the domain keep their strata and clusters (their weight becomes 0),
        so standard errors reflect the sampling of the full design, as
        ``subset.survey.design`` does; a missing value in the mask counts as outside
        (R: ``r & !is.na(r)``).

        A domain ``D`` is estimated with the domain indicator in the influence
        values (``z_i = 0`` outside ``D``), e.g. the domain mean::

            ybar_D = sum_(i in D) w_i y_i / sum_(i in D) w_i

        References
        ----------
        Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ,
        section 2.3.1.
        Agrees with ``subset(design, ...)`` followed by ``svymean``/``svytotal``/``svyglm``
        (tests/reference/survey.R, R survey 4.1-1).

        Examples
        --------
        >>> import pandas as pd
        >>> from veplab.survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [2., 4, 3, 5, 6, 8], "g": list("abaabb"),
        ...                    "psu": [1, 1, 2, 2, 3, 3]})
        >>> d = SurveyDesign(df, cluster="psu").subset(df["g"] == "a")
        >>> d.mean("y")[["estimate", "n"]]
           estimate  n
        0  3.333333  3
        """
        m = self._mask(mask, "subset")
        out = self._copy()
        out._domain = self._domain & m
        if not out._domain.any():
            raise InputError("subset: no row of the design is in this domain")
        return out

    def update(self, **columns: Any) -> Any:
        """The same design with columns added or replaced (R: ``update(design, name = expr)``).

        Each value is a Series aligned with the design's data or an array of one value per
        row; weights, strata, clusters and the domain are kept.

        >>> d = SurveyDesign(pd.DataFrame({"y": [1., 2, 3, 4], "psu": [1, 1, 2, 2]}), cluster="psu")
        >>> float(d.update(big=lambda x: x["y"] > 2).mean("big").loc[0, "estimate"])
        0.5
        """
        data = self.data.copy()
        for name, value in columns.items():
            if callable(value):
                value = value(self.data)
            if isinstance(value, pd.Series):
                if not value.index.equals(self.data.index):
                    raise InputError(f"update: column {name!r} is not indexed as the design's data")
            else:
                value = np.asarray(value)
                if value.shape != (len(self.data),):
                    raise InputError(f"update: column {name!r} has {value.size} values for {len(self.data)} rows")
            data[name] = value
        out = self._copy()
        out.data = data
        return out

    def _mask(self, mask: Any, what: str) -> np.ndarray:
        if isinstance(mask, pd.Series):
            if not mask.index.equals(self.data.index):
                raise InputError(f"{what}: the mask's index does not match the design's data")
            values = mask.to_numpy()
        else:
            values = np.asarray(mask)
        if values.shape != (len(self.data),):
            raise InputError(f"{what}: the mask has {values.size} values for {len(self.data)} rows")
        out = pd.Series(values).astype("boolean").fillna(False).to_numpy(dtype=bool)
        return out

    def _column(self, var: str, what: str) -> pd.Series:
        if not isinstance(var, str) or var not in self.data.columns:
            raise InputError(f"{what}: no column {var!r} in the design's data "
                             f"(columns: {', '.join(map(str, self.data.columns[:12]))})")
        return self.data[var]

    def _numeric(self, var: str, what: str, na_rm: bool) -> tuple[np.ndarray, np.ndarray]:
        """Column as float with the rows it can use (domain, not missing)."""
        col = self._column(var, what)
        if isinstance(col.dtype, pd.CategoricalDtype) or not (
                pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype)):
            conv = pd.to_numeric(col, errors="coerce")
            bad = conv.isna() & col.notna() & pd.Series(self._domain, index=col.index)
            if bad.any():
                raise InputError(f"{what}: column {var!r} is not numeric "
                                 f"({format_rows(col.index[bad.to_numpy()])}); use .proportion() "
                                 f"for a categorical variable")
            col = conv
        x = col.astype("float64").to_numpy()
        miss = np.isnan(x) & self._domain
        if miss.any() and not na_rm:
            raise InputError(f"{what}: column {var!r} is missing in {format_rows(col.index[miss])} "
                             f"of the domain; pass na_rm=True to estimate over the answered rows "
                             f"(as R's na.rm=TRUE: the design is kept, those rows weigh 0)")
        use = self._domain & ~np.isnan(x)
        return np.where(use, x, 0.0), use

    def _by_groups(self, by: Any, what: str) -> list[tuple[dict[str, Any], np.ndarray]]:
        if by is None:
            return [({}, np.ones(len(self.data), dtype=bool))]
        cols = _as_list(by)
        for c in cols:
            self._column(c, what)
        keys = self.data[cols]
        miss = keys.isna().any(axis=1).to_numpy() & self._domain
        if miss.any():
            raise InputError(f"{what}: by= column(s) {cols} missing in {format_rows(self.data.index[miss])}; "
                             f"recode the missing values or subset them out first")
        dom = keys[self._domain].drop_duplicates()
        try:
            dom = dom.sort_values(cols)
        except TypeError:
            pass
        out = []
        for _, row in dom.iterrows():
            m = np.ones(len(self.data), dtype=bool)
            for c in cols:
                m &= (keys[c] == row[c]).to_numpy()
            out.append(({c: row[c] for c in cols}, m))
        return out

    def _over_by(self, by: Any, what: str, fn: Callable[[Any], list[dict[str, Any]]]) -> pd.DataFrame:
        rows = []
        for labels, m in self._by_groups(by, what):
            d = self if not labels else self.subset(m)
            for r in fn(d):
                rows.append({**labels, **r})
        return pd.DataFrame(rows)

    # -- basic statistics ---------------------------------------------------------
    def _svyvar(self, x: np.ndarray, use: np.ndarray) -> float:
        """svyvar(x, design): weighted variance with the n/(n-1) factor."""
        w = np.where(use, self._w, 0.0)
        n = int((w != 0).sum())
        xbar = np.sum(w * x) / np.sum(w)
        return float(np.sum(w * (x - xbar) ** 2) / np.sum(w) * n / (n - 1))

    def _mean_core(self, x: np.ndarray, use: np.ndarray) -> tuple[float, float, float]:
        w = np.where(use, self._w, 0.0)
        psum = w.sum()
        est = float(np.sum(w * x) / psum)
        infl = (w * (x - est) / psum)[:, None]

        def theta(wr: np.ndarray) -> np.ndarray:
            ww = np.where(use, wr, 0.0)
            return np.array([np.sum(ww * x) / np.sum(ww)])

        var = float(self._variance(infl, theta)[0, 0])
        nobs = int((w != 0).sum())
        vsrs = self._svyvar(x, use) * (psum - nobs) / (psum * nobs) if psum >= nobs else np.nan
        return est, var, var / vsrs if vsrs else np.nan

    def _total_core(self, x: np.ndarray, use: np.ndarray) -> tuple[float, float, float]:
        w = np.where(use, self._w, 0.0)
        est = float(np.sum(w * x))
        infl = (w * x)[:, None]

        def theta(wr: np.ndarray) -> np.ndarray:
            return np.array([np.sum(np.where(use, wr, 0.0) * x)])

        var = float(self._variance(infl, theta)[0, 0])
        nobs = int((w != 0).sum())
        big_n = w.sum()
        vsrs = self._svyvar(x, use) * big_n**2 * (big_n - nobs) / (big_n * nobs)
        return est, var, var / vsrs if vsrs else np.nan

    # -- public estimates ---------------------------------------------------------
    def mean(self, var: str, by: str | Sequence[str] | None = None, ci: float = 0.95, *,
             na_rm: bool = False) -> pd.DataFrame:
        """Design-based mean of a numeric column (R: ``svymean(~var, design, deff=TRUE)``,
        by groups ``svyby(~var, ~by, design, svymean, deff=TRUE)``).

        estimate = sum(w x) / sum(w); Taylor variance of the influence
        w (x - estimate) / sum(w) over the design's strata and clusters (or the spread of
        the replicate estimates); interval estimate +/- z se, as R's ``confint`` on a
        ``svystat``; ``deff`` against simple random sampling without replacement of the
        same size, as ``deff=TRUE``; ``n`` the unweighted number of rows.

        References
        ----------
        Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ.
        Kish L (1965). Survey Sampling. Wiley, New York.
        Agrees with ``svymean(deff = TRUE)`` and ``svyby(..., svymean)``
        (tests/reference/survey.R, R survey 4.1-1).

        Examples
        --------
        >>> d = SurveyDesign(pd.DataFrame({"y": [1., 2, 3, 4], "w": [1., 1, 2, 2]}), weights="w")
        >>> round(float(d.mean("y").loc[0, "estimate"]), 4)
        2.8333
        """
        return self._wald(var, by, ci, na_rm, "mean")

    def total(self, var: str, by: str | Sequence[str] | None = None, ci: float = 0.95, *,
              na_rm: bool = False) -> pd.DataFrame:
        """Design-based population total (R: ``svytotal(~var, design, deff=TRUE)``; ``svyby``).

        estimate = sum(w x); variance of the influence w x; interval estimate +/- z se.

        References
        ----------
        Horvitz DG, Thompson DJ (1952). A generalization of sampling without replacement from a
        finite universe. Journal of the American Statistical Association 47, 663-685.
        Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ.
        Agrees with ``svytotal(deff = TRUE)`` and ``svyby(..., svytotal)``
        (tests/reference/survey.R, R survey 4.1-1).

        Examples
        --------
        >>> d = SurveyDesign(pd.DataFrame({"y": [1., 0, 1, 1], "w": [10., 10, 20, 20]}), weights="w")
        >>> float(d.total("y").loc[0, "estimate"])
        50.0
        """
        return self._wald(var, by, ci, na_rm, "total")

    def _wald(self, var: str, by: str | Sequence[str] | None, ci: float, na_rm: bool, what: str) -> pd.DataFrame:
        """A linear estimate (mean or total) with its Wald interval, overall or per ``by`` group."""
        z = stats.norm.ppf(1 - (1 - check_ci(ci)) / 2)

        def one(d: _BaseDesign) -> list[dict[str, Any]]:
            x, use = d._numeric(var, what, na_rm)
            est, v, deff = getattr(d, f"_{what}_core")(x, use)
            se = np.sqrt(v)
            return [{"variable": var, "estimate": est, "se": se, "ci_low": est - z * se,
                     "ci_high": est + z * se, "deff": deff, "n": int(use.sum())}]

        return self._over_by(by, what, one)

    def _indicator(self, var: str, level: Any, na_rm: bool, what: str) -> list[tuple[Any, np.ndarray, np.ndarray]]:
        col = self._column(var, what)
        miss = col.isna().to_numpy() & self._domain
        if miss.any() and not na_rm:
            raise InputError(f"{what}: column {var!r} is missing in {format_rows(col.index[miss])} "
                             f"of the domain; pass na_rm=True to estimate over the answered rows")
        use = self._domain & ~col.isna().to_numpy()
        if level is not None:
            levels = _as_list(level)
        else:
            vals = col[use]
            uniq = pd.unique(vals)
            if pd.api.types.is_bool_dtype(col.dtype) or set(pd.Series(uniq).tolist()) <= {0, 1}:
                levels = [True if pd.api.types.is_bool_dtype(col.dtype) else 1]
            else:
                try:
                    levels = sorted(uniq.tolist())
                except TypeError:
                    levels = list(uniq)
        out = []
        for lev in levels:
            x = np.where(use, (col == lev).fillna(False).to_numpy(dtype=float), 0.0)
            out.append((lev, x, use))
        return out

    def proportion(self, var: str, level: Any = None, by: str | Sequence[str] | None = None,
                   method: str = "logit", ci: float = 0.95, *, na_rm: bool = False) -> pd.DataFrame:
        """Proportion with a survey confidence interval (R: ``svyciprop(~I(var == level), design,
        method=)``; by groups through ``svyby(..., svyciprop, vartype="ci")``).

        ``level`` None: a 0/1 or boolean column gives the share of 1/True; any other
        column gives one row per observed level.  ``se`` and ``deff`` are those of
        ``svymean`` of the indicator.  Intervals use ``df = degf(design)`` (PSUs minus
        strata of the domain), as ``svyciprop``:

        - ``logit``: expit(logit(p) +/- t se / (p(1-p))) (svyglm quasibinomial, Wald);
        - ``likelihood``: the profile of the quasibinomial deviance (Rao-Scott scaled
          likelihood ratio), solved exactly where R interpolates a spline;
        - ``beta``: Korn-Graubard, Clopper-Pearson on the effective sample size
          p(1-p)/var times (t(n-1)/t(df))^2;
        - ``mean``: p +/- t se.

        A share of exactly 0 or 1 has design variance 0 and no interval from these
        methods: ``ci_low``/``ci_high`` are NaN there except for ``mean``, where R gives
        the degenerate (p, p) (R's logit returns a near-zero-width interval and its
        likelihood method stops).

        The ``logit`` interval, with ``p`` the weighted mean of the indicator::

            ci = expit(logit(p) -/+ t_df se / (p (1 - p)))

        References
        ----------
        Korn EL, Graubard BI (1998). Confidence intervals for proportions with small expected
        number of positive counts estimated from survey data. Survey Methodology 24, 193-201.
        Rao JNK, Scott AJ (1984). On chi-squared tests for multiway contingency tables with cell
        proportions estimated from survey data. Annals of Statistics 12, 46-60.
        Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ,
        section 2.3.1.
        Agrees with ``svyciprop(method = "logit"/"likelihood"/"beta"/"mean")``
        (tests/reference/survey.R, R survey 4.1-1).

        Examples
        --------
        >>> df = pd.DataFrame({"y": [1, 0, 1, 1, 0, 1], "psu": [1, 1, 2, 2, 3, 3]})
        >>> round(float(SurveyDesign(df, cluster="psu").proportion("y").loc[0, "estimate"]), 4)
        0.6667
        """
        check_choice(method, "method", PROPORTION_METHODS)
        if method == "likelihood" and isinstance(self, ReplicateDesign):
            raise InputError("proportion: method='likelihood' is not available on a replicate design "
                             "(R's svyciprop returns NA there); use 'logit' or 'beta'")
        lv = check_ci(ci)

        def one(d: _BaseDesign) -> list[dict[str, Any]]:
            out = []
            for lev, x, use in d._indicator(var, level, na_rm, "proportion"):
                p, v, deff = d._mean_core(x, use)
                lo, hi = d._prop_ci(x, use, p, v, method, lv)
                out.append({"variable": var, "level": lev, "estimate": p, "se": np.sqrt(v),
                            "ci_low": lo, "ci_high": hi, "deff": deff, "n": int(use.sum())})
            return out

        return self._over_by(by, "proportion", one)

    def _prop_ci(self, x: np.ndarray, use: np.ndarray, p: float, v: float, method: str,
                 level: float) -> tuple[float, float]:
        df = self.degf()
        alpha = 1 - level
        if df <= 0:
            return np.nan, np.nan
        tq = stats.t.ppf(1 - alpha / 2, df)
        if method == "mean":
            se = np.sqrt(v)
            return p - tq * se, p + tq * se
        if p <= 0 or p >= 1:
            # variance 0: no design-based interval (R returns a degenerate one or stops)
            return np.nan, np.nan
        if method == "beta":
            n_rows = int(self._rows().sum())
            n_eff = p * (1 - p) / v if v > 0 else np.inf
            n_eff *= (stats.t.ppf(alpha / 2, n_rows - 1) / stats.t.ppf(alpha / 2, df)) ** 2
            lo = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
            hi = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
            return float(lo), float(hi)
        vb = self._logit_var(x, use, p, v)
        beta = np.log(p / (1 - p))
        if method == "logit":
            se = np.sqrt(vb)
            return float(special.expit(beta - tq * se)), float(special.expit(beta + tq * se))
        # likelihood: (D(b) - D(bhat)) / phi = t^2 * lambda (confint.svyglm, method="likelihood")
        rows = self._rows()
        w = np.where(use, self._w, 0.0)
        wt = w / w[rows].mean()
        naive = 1.0 / np.sum(wt * p * (1 - p))
        lam = vb / naive
        pr = np.where(use, (x - p) / np.sqrt(p * (1 - p)), 0.0)
        phi = self._svyvar_pearson(pr, use)
        target = tq**2 * lam

        def dev(b: float) -> float:
            mu = special.expit(b)
            return 2 * np.sum(wt * (-x * np.log(mu) - (1 - x) * np.log(1 - mu))
                              + wt * (x * np.log(p) + (1 - x) * np.log(1 - p)))

        def g(b: float) -> float:
            return dev(b) / phi - target

        step = np.sqrt(vb) * max(1.0, tq) * 2
        lo_b, hi_b = beta - step, beta + step
        while g(lo_b) < 0:
            lo_b -= step
        while g(hi_b) < 0:
            hi_b += step
        lo = optimize.brentq(g, lo_b, beta, xtol=1e-14, rtol=1e-14)
        hi = optimize.brentq(g, beta, hi_b, xtol=1e-14, rtol=1e-14)
        return float(special.expit(lo)), float(special.expit(hi))

    def _svyvar_pearson(self, pr: np.ndarray, use: np.ndarray) -> float:
        return self._svyvar(pr, use)

    def _logit_var(self, x: np.ndarray, use: np.ndarray, p: float, v: float) -> float:
        """Variance of logit(p) as svyglm(y ~ 1, family=quasibinomial) reports it."""
        return v / (p * (1 - p)) ** 2

    @staticmethod
    def _qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
        keep = w != 0
        x, w = x[keep], w[keep]
        order = np.argsort(x, kind="stable")
        x, w = x[order], w[order]
        cumw = np.cumsum(w)
        total = cumw[-1]
        below = np.nonzero(cumw <= p * total)[0]
        pos = int(below[-1]) if below.size else 0
        wlow = p - cumw[pos] / total
        if wlow == 0:
            return float(x[pos])
        return float(x[min(pos + 1, len(x) - 1)])

    def quantile(self, var: str, q: float | Sequence[float] = 0.5, by: str | Sequence[str] | None = None,
                 ci: float = 0.95, *, na_rm: bool = False) -> pd.DataFrame:
        """Quantiles with Woodruff intervals (R: ``svyquantile(~var, design, q)``, survey >= 4:
        ``qrule="math"``, ``interval.type="mean"``, ``df=degf(design)``).

        The estimate is the smallest x whose weighted distribution function reaches q.
        The interval inverts the interval of the estimated distribution function at the
        estimate, F(q_hat) +/- t se (t on the design's degrees of freedom), through the
        same quantile rule; ``se`` = interval width / (2 t), as R reports it.  ``deff``
        is not defined (NaN).

        With ``F`` the weighted distribution function::

            q_hat = min{ x : F(x) >= q },   [F^-1(q -/+ t se(F(q_hat)))]

        References
        ----------
        Woodruff RS (1952). Confidence intervals for medians and other position measures. Journal
        of the American Statistical Association 47, 635-646.
        Dorfman A, Valliant R (1993). Quantile variance estimators in complex surveys. Proceedings
        of the Survey Research Methods Section, American Statistical Association, 866-871.
        Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ,
        section 2.4.
        Agrees with ``svyquantile(qrule = "math", ci = TRUE)``
        (tests/reference/survey.R, R survey 4.1-1).

        Examples
        --------
        >>> df = pd.DataFrame({"y": [3., 1, 4, 1, 5, 9, 2, 6], "psu": [1, 1, 2, 2, 3, 3, 4, 4]})
        >>> float(SurveyDesign(df, cluster="psu").quantile("y", 0.5).loc[0, "estimate"])  # R: 3
        3.0
        """
        level = check_ci(ci)
        qs = [float(v) for v in _as_list(q)]
        for v in qs:
            if not 0 <= v <= 1:
                raise InputError(f"quantile: q must be between 0 and 1, got {v}")

        def one(d: _BaseDesign) -> list[dict[str, Any]]:
            x, use = d._numeric(var, "quantile", na_rm)
            w = np.where(use, d._w, 0.0)
            df = d.degf()
            alpha = 1 - level
            tq = stats.t.ppf(1 - alpha / 2, df) if df > 0 else np.nan
            out = []
            for p in qs:
                qhat = d._qrule_math(x, w, p)
                ind = np.where(use, (x <= qhat).astype(float), 0.0)
                m, v, _ = d._mean_core(ind, use)
                se_m = np.sqrt(v)
                plo, phi = m - tq * se_m, m + tq * se_m
                lo = np.nan if (np.isnan(plo) or plo < 0) else d._qrule_math(x, w, plo)
                hi = np.nan if (np.isnan(phi) or phi > 1) else d._qrule_math(x, w, phi)
                out.append({"variable": var, "q": p, "estimate": qhat, "se": (hi - lo) / (2 * tq),
                            "ci_low": lo, "ci_high": hi, "deff": np.nan, "n": int(use.sum())})
            return out

        return self._over_by(by, "quantile", one)

    # -- GLM ----------------------------------------------------------------------
    def glm(self, formula: str, family: str = "gaussian", ci: float = 0.95, *,
            na_rm: bool = False) -> pd.DataFrame:
        """Design-based generalised linear model (R: ``svyglm(formula, design, family=)``).

        ``family="gaussian"`` (identity link) or ``"binomial"`` (logit link, fitted as
        ``quasibinomial``: the outcome may be 0/1 or a proportion).  Coefficients solve
        the weighted score equations (IRLS with weights w / mean(w)); their variance is
        the sandwich A^-1 B A^-1 with B the design variance of the score contributions
        x_i w_i (y_i - mu_i) (Binder 1983), or the spread of the replicate fits.
        Intervals use t on ``degf(design) + 1 - p`` degrees of freedom, as
        ``confint.svyglm``; ``deff`` as ``svyglm(deff=TRUE)``.  Categorical predictors
        are treatment-coded, terms in R's order and named as R names them (``sexM``,
        ``countryTunisia``; :func:`veplab.models._formula.design_matrix`).  Fitted by
        veplab's one GLM core (:mod:`veplab._glm`).

        Estimating equations (``mu_i = g^-1(x_i' b)``)::

            U(b) = sum_i w_i x_i (y_i - mu_i) / V(mu_i) * dmu_i/deta_i = 0

        References
        ----------
        Binder DA (1983). On the variances of asymptotically normal estimators from complex
        surveys. International Statistical Review 51, 279-292.
        Lumley T, Scott AJ (2017). Fitting regression models to survey data. Statistical Science
        32, 265-278.
        Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ.
        Agrees with ``svyglm`` (gaussian, quasibinomial; Taylor and replicate designs, domains)
        (tests/reference/survey.R, R survey 4.1-1).

        Examples
        --------
        >>> df = pd.DataFrame({"y": [1., 3, 2, 5, 4, 6], "x": [0., 1, 1, 2, 2, 3],
        ...                    "psu": [1, 1, 2, 2, 3, 3]})
        >>> fit = SurveyDesign(df, cluster="psu").glm("y ~ x")
        >>> [round(float(v), 4) for v in fit["estimate"]]   # R: 0.9090909 1.7272727
        [0.9091, 1.7273]
        """
        check_choice(family, "family", ("gaussian", "binomial"))
        level = check_ci(ci)
        if not isinstance(formula, str) or "~" not in formula:
            raise InputError(f"glm: formula must look like 'y ~ x1 + x2', got {formula!r}")
        from ..models._formula import design_matrix, formula_variables, split_formula

        lhs, rhs = split_formula(formula, what="glm")
        y_all = self._column(lhs, "glm").astype("float64").to_numpy()
        used = formula_variables(rhs, self.data.columns, what="glm")
        complete = ~self.data[used].isna().any(axis=1).to_numpy() if used else np.ones(len(self.data), bool)
        if not complete.any():
            raise InputError(f"glm: no row has every variable of {rhs!r}")
        dm = design_matrix(rhs, self.data.loc[complete, used] if used else self.data.loc[complete, []],
                           what="glm")
        names = list(dm.names)  # R's names and order: (Intercept), age, genderWoman, regionnorth
        X = np.full((len(self.data), len(names)), np.nan)
        X[complete] = dm.matrix
        bad = (np.isnan(y_all) | np.isnan(X).any(axis=1)) & self._domain
        if bad.any() and not na_rm:
            raise InputError(f"glm: missing values in the model's variables in "
                             f"{format_rows(self.data.index[bad])}; pass na_rm=True to fit on "
                             f"complete rows (as R's na.action=na.omit)")
        use = self._domain & ~bad
        if family == "binomial":
            yu = y_all[use]
            if (yu < 0).any() or (yu > 1).any():
                raise InputError(f"glm: family='binomial' needs {lhs!r} between 0 and 1")
        y = np.where(use, y_all, 0.0)
        X = np.where(use[:, None], X, 0.0)
        rank = np.linalg.matrix_rank(X[use])
        if rank < X.shape[1]:
            raise InputError(f"glm: the model matrix is rank deficient ({rank} < {X.shape[1]} "
                             f"columns {names}); drop a redundant term")
        w = np.where(use, self._w, 0.0)
        rows = self._rows() & ~bad
        wt = w / w[rows].mean()
        fit = _fit_glm(X, y, wt, family)
        beta, mu, ww = fit.coef, fit.mu, fit.working_weights
        ainv = np.linalg.inv((X * ww[:, None]).T @ X)
        infl = (X * (wt * (y - mu))[:, None]) @ ainv

        def theta(wr: np.ndarray) -> np.ndarray:
            wr = np.where(use, wr, 0.0)
            wi = wr * wt / self._w.clip(min=1e-300)
            return _fit_glm(X, y, wi / wi.sum(), family, start=beta).coef

        vcov = self._variance(infl, theta)
        se = np.sqrt(np.diag(vcov))
        p = X.shape[1]
        dfres = self.degf() + 1 - p
        tq = stats.t.ppf(1 - (1 - level) / 2, dfres) if dfres > 0 else np.nan
        # deff as svyglm(deff=TRUE): design variance / (naive glm's cov.scaled * mean(weights))
        n_fit = int((rows & (wt > 0)).sum())  # glm's df.residual counts rows with weight
        if family == "gaussian":
            disp = np.sum(wt * (y - mu) ** 2) / (n_fit - p)
        else:
            disp = np.sum(wt * (y - mu) ** 2 / (mu * (1 - mu))) / (n_fit - p)
        vsrs = disp * ainv * wt[rows].mean()
        tval = beta / se
        return pd.DataFrame({
            "term": names,
            "estimate": beta, "se": se,
            "ci_low": beta - tq * se, "ci_high": beta + tq * se,
            "t": tval, "p": 2 * stats.t.sf(np.abs(tval), dfres) if dfres > 0 else np.nan,
            "deff": np.diag(vcov) / np.diag(vsrs), "n": int(use.sum()),
        })


def _fit_glm(X: np.ndarray, y: np.ndarray, wt: np.ndarray, family: str, start: np.ndarray | None = None) -> Any:
    """The weighted fit svyglm makes: veplab's one GLM core (gaussian/identity, binomial/logit as
    quasibinomial: the binomial score with the sampling weights as prior weights)."""
    return glm(X, y, family=family, weights=wt, start=start, on_boundary="ignore", what="survey glm")


# --------------------------------------------------------------------------------------
# Taylor-linearisation design
# --------------------------------------------------------------------------------------


class SurveyDesign(_BaseDesign):
    """A complex sample design (R: ``survey::svydesign``).

    Parameters
    ----------
    data : DataFrame, one row per respondent.
    weights : column of sampling weights (``weights=~w``), positive; or
    probs : column of inclusion probabilities in (0, 1] (``probs=~p``).  With neither,
        the weights follow from ``fpc`` (n/N per stage) or are all 1.
    strata : column of first-stage strata (``strata=~s``).
    cluster : column of PSUs, or a list of columns, one per stage
        (``ids=~prison_id + respondent_id``).  None: every row is its own PSU
        (``ids=~1``).
    fpc : column (or list, one per stage) of population sizes or sampling fractions,
        read as R reads them (all >= 1: sizes; all <= 1: fractions).  Later stages count
        only when every stage has its fpc (R's ``multistage``); a stage with an fpc equal
        to its sample size contributes no variance (certainty units).
    nest : clusters numbered within strata (``nest=TRUE``).
    lonely_psu : a stratum with a single PSU, as ``options(survey.lonely.psu=)``:
        ``"fail"`` (default: an :class:`InputError` naming the strata), ``"adjust"``
        (centred at the grand mean), ``"average"`` (the average variance of the other
        strata), ``"certainty"`` (no contribution), ``"remove"`` (no contribution).

    Variance (Taylor linearisation, R's ``svyrecvar``): for an estimator with influence
    values z_i, V = sum_h (1 - f_h) n_h / (n_h - 1) sum_i (z_hi - zbar_h)^2 over the PSU
    totals z_hi of stratum h, plus, in a multistage design with every fpc given, the
    second-stage variance within each PSU times the first-stage sampling fraction.

    References
    ----------
    Lumley T (2004). Analysis of complex survey samples. Journal of Statistical Software 9(8),
    1-19.
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ.
    Sarndal CE, Swensson B, Wretman J (1992). Model Assisted Survey Sampling. Springer, New York.
    Agrees with ``survey::svydesign`` and ``svyrecvar`` (one- and two-stage, fpc,
    ``nest``, lonely PSUs) (tests/reference/survey.R, R survey 4.1-1).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [2., 4, 3, 5, 6, 8], "s": [1, 1, 1, 2, 2, 2],
    ...                    "w": [10., 10, 10, 20, 20, 20]})
    >>> d = SurveyDesign(df, weights="w", strata="s")
    >>> r = d.mean("y")
    >>> round(float(r.loc[0, "estimate"]), 4), round(float(r.loc[0, "se"]), 4)  # R: 5.2222 0.6186
    (5.2222, 0.6186)
    """

    def __init__(self, data: pd.DataFrame, *, weights: str | None = None, probs: str | None = None,
                 strata: str | None = None, cluster: str | Sequence[str] | None = None,
                 fpc: str | Sequence[str] | None = None, nest: bool = False,
                 lonely_psu: str = "fail"):
        what = "SurveyDesign"
        if not isinstance(data, pd.DataFrame):
            raise InputError(f"{what}: data must be a pandas DataFrame, got {type(data).__name__}")
        if len(data) < 2:
            raise InputError(f"{what}: data has {len(data)} row(s); a design needs at least 2")
        check_choice(lonely_psu, "lonely_psu", LONELY)
        self.data = data
        self.lonely_psu = lonely_psu
        self.spec = {"weights": weights, "probs": probs, "strata": strata, "cluster": cluster,
                     "fpc": fpc, "nest": nest, "lonely_psu": lonely_psu}
        n = len(data)

        def col(name: str, role: str) -> pd.Series:
            if not isinstance(name, str) or name not in data.columns:
                raise InputError(f"{what}: {role} column {name!r} is not in the data")
            c = data[name]
            if c.isna().any():
                raise InputError(f"{what}: {role} column {name!r} is missing in "
                                 f"{format_rows(data.index[c.isna().to_numpy()])}; a design cannot "
                                 f"have unknown {role}")
            return c

        def positive(name: str, role: str) -> np.ndarray:
            c = col(name, role)
            v = pd.to_numeric(c, errors="coerce")
            if v.isna().any():
                raise InputError(f"{what}: {role} column {name!r} is not numeric in "
                                 f"{format_rows(data.index[v.isna().to_numpy()])}")
            arr = v.astype("float64").to_numpy()
            if not np.isfinite(arr).all() or (arr <= 0).any():
                raise InputError(f"{what}: {role} must be positive and finite; column {name!r} is not in "
                                 f"{format_rows(data.index[~np.isfinite(arr) | (arr <= 0)])}")
            return arr

        if weights is not None and probs is not None:
            raise InputError(f"{what}: give weights= or probs=, not both (R: 'Can't specify both "
                             f"sampling weights and probabilities')")
        clusters = _as_list(cluster)
        fpcs = _as_list(fpc)
        if len(fpcs) > max(1, len(clusters)):
            raise InputError(f"{what}: {len(fpcs)} fpc columns for {max(1, len(clusters))} stage(s)")
        if fpcs and len(clusters) > 1 and len(fpcs) not in (1, len(clusters)):
            raise InputError(f"{what}: give one fpc per stage ({len(clusters)}) or only the first")
        has_strata = strata is not None
        s1 = _codes(col(strata, "strata")) if strata is not None else np.zeros(n, dtype=int)
        ids = [col(c, "cluster") for c in clusters] or [pd.Series(np.arange(n), index=data.index)]
        if ids[0].nunique() == 1 and not (nest and has_strata):
            raise InputError(f"{what}: the design has only one primary sampling unit "
                             f"({clusters[0]!r} takes one value)")
        # stage-k ids are the interaction of ids 1..k (and of the strata when nest=True)
        keys: list[list[Any]] = []
        for k in range(len(ids)):
            key = [ids[j].to_numpy() for j in range(k + 1)]
            if nest and has_strata:
                key = [s1] + key
            keys.append(key)
        c_codes = [_codes(k) if len(k) > 1 else _codes(k[0]) for k in keys]
        if has_strata and not nest:
            per = pd.DataFrame({"c": c_codes[0], "s": s1}).drop_duplicates().groupby("c").size()
            if (per > 1).any():
                raise InputError(f"{what}: clusters are not nested in strata at the first stage "
                                 f"(the same {clusters[0] if clusters else 'id'} value occurs in "
                                 f"several strata); pass nest=True if ids are numbered within strata")
        st_codes = [s1] + [_codes([s1, c_codes[k - 1]]) for k in range(1, len(ids))]
        pops: list[np.ndarray | None] = []
        fpc_arrays = [positive(f, "fpc") for f in fpcs]
        stages = []
        if fpc_arrays:
            allv = np.concatenate(fpc_arrays)
            is_size = (allv > 1).any()
            if is_size and not (allv >= 1).all():
                raise InputError(f"{what}: fpc must be all >= 1 (population sizes) or all <= 1 "
                                 f"(sampling fractions), as R reads it")
        for k in range(len(ids)):
            stage = _Stage(st_codes[k], c_codes[k], None)
            if k < len(fpc_arrays):
                fa = fpc_arrays[k]
                pop = fa if is_size else stage.npsu / fa
                if (pop < stage.npsu - 1e-9).any():
                    bad = pop < stage.npsu - 1e-9
                    raise InputError(f"{what}: fpc {fpcs[k]!r} implies more than 100% sampling in "
                                     f"{format_rows(data.index[bad])} (population {pop[bad][0]:g} < "
                                     f"{stage.npsu[bad][0]} sampled units)")
                varies = pd.Series(pop).groupby(st_codes[k]).nunique()
                if (varies > 1).any():
                    raise InputError(f"{what}: fpc {fpcs[k]!r} varies within a stratum at stage {k + 1}; "
                                     f"it must be one value per stratum")
                stage.popsize = pop
            stages.append(stage)
            pops.append(stage.popsize)
        self._stages = stages
        self._multistage = len(stages) > 1 and len(fpc_arrays) == len(stages)
        if weights is not None:
            w = positive(weights, "weights")
        elif probs is not None:
            p = positive(probs, "probs")
            if (p > 1).any():
                raise InputError(f"{what}: probs must be at most 1; column {probs!r} is not in "
                                 f"{format_rows(data.index[p > 1])}")
            w = 1 / p
        elif fpc_arrays:
            w = np.ones(n)
            for st in stages:
                if st.popsize is not None:
                    w = w * st.popsize / st.npsu
        else:
            w = np.ones(n)
        self._w = w.astype(float)
        self._domain = np.ones(n, dtype=bool)
        self._adjust: list[Callable[[np.ndarray], np.ndarray]] = []
        self._check_lonely()

    def __repr__(self) -> str:
        sp = self.spec
        kind = "Stratified " if sp["strata"] is not None else ""
        n_st = len(self._stages)
        clus = sp["cluster"] is not None
        body = (f"{n_st}-stage cluster sampling design" if clus else "independent sampling design")
        psus = len(np.unique(self._stages[0].cluster))
        extra = []
        if sp["fpc"] is not None:
            extra.append("with fpc")
        if self.calibrated:
            extra.append("calibrated")
        if not self._domain.all():
            extra.append(f"domain of {int(self._domain.sum())} rows")
        tail = f" ({', '.join(extra)})" if extra else ""
        return (f"<SurveyDesign: {kind}{body}{tail}; {len(self.data)} rows, {psus} PSUs, "
                f"degf {self.degf()}, lonely_psu={self.lonely_psu!r}>")

    # -- internals -------------------------------------------------------------
    def _copy(self) -> SurveyDesign:
        out = object.__new__(SurveyDesign)
        out.__dict__.update(self.__dict__)
        out._adjust = list(self._adjust)
        return out

    @property
    def calibrated(self) -> bool:
        """Whether weights were calibrated, raked or post-stratified (R's ``is.calibrated``)."""
        return bool(self._adjust)

    def _rows(self) -> np.ndarray:
        # R drops the rows outside a subset unless the design is calibrated
        return np.ones(len(self.data), dtype=bool) if self.calibrated else self._domain.copy()

    def _check_lonely(self) -> None:
        if self.lonely_psu != "fail":
            return
        n_stages = len(self._stages) if self._multistage else 1
        for k in range(n_stages):
            st = self._stages[k]
            rows = np.arange(len(self.data))
            lonely = (st.npsu == 1) & (st.f(rows) >= 1e-7)
            if lonely.any():
                if k == 0 and self.spec["strata"] is not None:
                    names = pd.unique(self.data.loc[lonely, self.spec["strata"]])
                    where = f"strata {', '.join(map(str, names[:10]))}"
                else:
                    where = format_rows(self.data.index[lonely])
                raise InputError(
                    f"SurveyDesign: {where} have only one PSU at stage {k + 1}, so their variance "
                    f"cannot be estimated; choose lonely_psu='adjust', 'average' or 'certainty' "
                    f"(R: options(survey.lonely.psu=)), or merge strata")

    def degf(self) -> int:
        """Design degrees of freedom: PSUs minus strata among rows with weight (R's ``degf``)."""
        inset = self._dw() != 0
        st = self._stages[0]
        return int(len(np.unique(st.cluster[inset])) - len(np.unique(st.strata[inset])))

    def _variance(self, influence: np.ndarray | None, theta: Callable[[np.ndarray], np.ndarray]
                  ) -> np.ndarray:
        assert influence is not None
        x = np.asarray(influence, dtype=float)
        for adj in self._adjust:
            x = adj(x)
        rows = self._rows()
        return self._multistage_var(x, rows, 0)

    def _multistage_var(self, x: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
        st = self._stages[k]
        v = self._onestage(x, rows, st, k + 1)
        pop = st.popsize  # set at every stage of a multistage design
        if self._multistage and pop is not None and k + 1 < len(self._stages):
            idx = np.nonzero(rows)[0]
            for c in pd.unique(st.cluster[idx]):
                sub = rows & (st.cluster == c)
                first = np.nonzero(sub)[0][0]
                v = v + self._multistage_var(x, sub, k + 1) * st.npsu[first] / pop[first]
        return v

    def _onestage(self, x: np.ndarray, rows: np.ndarray, st: _Stage, stage: int) -> np.ndarray:
        p = x.shape[1]
        idx = np.nonzero(rows)[0]
        if idx.size == 0:
            return np.zeros((p, p))
        total = np.zeros((p, p))
        nstrat = 0
        nok = 0
        strata = st.strata[idx]
        order = np.argsort(strata, kind="stable")
        bounds = np.flatnonzero(np.diff(strata[order])) + 1
        for group in np.split(idx[order], bounds):
            nstrat += 1
            n_h = int(st.npsu[group[0]])
            f = float(st.f(group[:1])[0])
            if f < 1e-7:
                nok += 1
                continue
            codes, inv = np.unique(st.cluster[group], return_inverse=True)
            sums = np.zeros((len(codes), p))
            np.add.at(sums, inv, x[group])
            nsub = len(codes)
            if nsub < n_h:
                sums = np.vstack([sums, np.zeros((n_h - nsub, p))])
            if self.lonely_psu != "adjust" or nsub > 1 or n_h > 1:
                sums = sums - sums.mean(axis=0)
            if n_h > 1:
                total += f * n_h / (n_h - 1) * sums.T @ sums
                nok += 1
            elif self.lonely_psu in ("certainty", "remove", "adjust"):
                total += f * sums.T @ sums
                nok += 1
            elif self.lonely_psu == "average":
                continue
            else:  # pragma: no cover - caught at construction
                raise InputError(f"SurveyDesign: a stratum has only one PSU at stage {stage}")
        return total * nstrat / (nok if nok else 1)

    def replicate(self, method: str = "JK1", n: int | None = None, seed: int | None = None) -> ReplicateDesign:
        """Replicate-weight version of this design (R: ``as.svrepdesign(design, type=)``).

        ``"JK1"`` (unstratified: drop one PSU at a time, others times n/(n-1), scale
        (n-1)/n), ``"JKn"`` (stratified: drop one PSU within its stratum, others of the
        stratum times n_h/(n_h-1), rscale (n_h-1)/n_h), ``"bootstrap"`` (Canty-Davison
        rescaled bootstrap of PSUs within strata, ``n`` replicates, default 50, scale
        nbar/((nbar-1)(R-1)) with nbar the harmonic mean of PSUs per stratum).  The
        first-stage fpc is kept as R does (later stages dropped).

        References: Rust & Rao (1996) *Stat Methods Med Res* 5:283-310; Canty & Davison
        (1999) *Survey Methodology* 25:13-22; Lumley (2010), ch. 2.8.

        The replicate variance of an estimate ``theta`` from replicates ``theta_r``::

            v = scale * sum_r rscale_r (theta_r - theta_bar)^2

        References
        ----------
        Rust KF, Rao JNK (1996). Variance estimation for complex surveys using replication
        techniques. Statistical Methods in Medical Research 5, 283-310.
        Canty AJ, Davison AC (1999). Resampling-based variance estimation for labour force
        surveys. The Statistician 48, 379-391.
        Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ,
        section 2.8.
        Agrees with ``as.svrepdesign(type = "JK1"/"JKn"/"bootstrap")``
        (tests/reference/survey.R, R survey 4.1-1).

        Examples
        --------
        >>> import pandas as pd
        >>> from veplab.survey import SurveyDesign
        >>> df = pd.DataFrame({"y": [1., 2, 3, 4], "psu": [1, 2, 3, 4]})
        >>> rep = SurveyDesign(df, cluster="psu").replicate("JK1")
        >>> round(float(rep.mean("y").loc[0, "se"]), 6)   # R: SE(svymean(~y, as.svrepdesign(d)))
        0.645497
        """
        check_choice(method, "method", ("JK1", "JKn", "bootstrap"))
        if self.calibrated:
            raise InputError("replicate: build the replicate design before calibrating "
                             "(calibration of replicate designs is not implemented)")
        st = self._stages[0]
        has_strata = self.spec["strata"] is not None
        psu = st.cluster
        first = ~pd.Series(psu).duplicated().to_numpy()
        upsu = psu[first]
        ustrata = st.strata[first]
        index = pd.Series(np.arange(len(upsu)), index=upsu).reindex(psu).to_numpy()
        popsize = st.popsize
        selfrep = None if popsize is None else popsize == st.npsu
        if method == "JK1":
            if has_strata:
                raise InputError("replicate: JK1 is for an unstratified design; use 'JKn' (R: "
                                 "\"Can't use JK1 for a stratified design\")")
            m = len(upsu)
            f = 1.0
            if popsize is not None:
                vals = np.unique(popsize)
                f = float((vals[0] - m) / vals[0])
            if f == 0:
                rep = np.zeros((m, 0))
            else:
                rep = np.full((m, m), m / (m - 1))
                np.fill_diagonal(rep, 0.0)
            scale = f * (m - 1) / m
            rscales = np.ones(rep.shape[1])
        elif method == "JKn":
            if not has_strata:
                raise InputError("replicate: JKn needs strata; use 'JK1' or 'bootstrap' for an "
                                 "unstratified design")
            cols, rscales_l = [], []
            sunq = pd.unique(ustrata)
            nstrat = len(sunq)
            counter = 0
            for s in sunq:
                ins = ustrata == s
                members = np.flatnonzero(ins)
                m = len(members)
                f = 1.0
                if popsize is not None:
                    pop = float(popsize[np.flatnonzero(st.strata == s)[0]])
                    f = (pop - m) / pop
                if f == 0:
                    continue
                if m == 1:
                    lp = self.lonely_psu
                    if lp == "fail":  # pragma: no cover - caught at construction
                        raise InputError(f"replicate: stratum {s} has only one PSU")
                    if lp == "adjust":
                        col = np.where(ins, 0.0, nstrat / (nstrat - 1))
                        cols.append(col)
                        rscales_l.append((nstrat - 1) / nstrat)
                        counter += 1
                    continue
                for j in members:
                    col = np.ones(len(upsu))
                    col[members] = m / (m - 1)
                    col[j] = 0.0
                    cols.append(col)
                    rscales_l.append(f * (m - 1) / m)
                    counter += 1
            if counter == 0:
                raise InputError("replicate: all strata were sampled exhaustively")
            rep = np.column_stack(cols)
            rscales = np.asarray(rscales_l)
            scale = 1.0
            if counter < len(upsu) and self.lonely_psu == "average":
                scale = len(upsu) / counter
        else:
            reps = 50 if n is None else int(n)
            if reps < 2:
                raise InputError("replicate: bootstrap needs at least 2 replicates")
            g = rng(seed)
            rep = np.zeros((len(upsu), reps))
            for s in pd.unique(ustrata):
                members = np.flatnonzero(ustrata == s)
                m = len(members)
                if popsize is None:
                    for r in range(reps):
                        draw = g.choice(members, size=m, replace=True)
                        rep[:, r] += np.bincount(draw, minlength=len(upsu))
                else:
                    pop = int(round(float(popsize[np.flatnonzero(st.strata == s)[0]])))
                    pool = np.resize(g.permutation(members), pop)
                    for r in range(reps):
                        draw = g.choice(pool, size=m, replace=False)
                        rep[:, r] += np.bincount(draw, minlength=len(upsu))
            counts = pd.Series(ustrata).value_counts().to_numpy()
            nbar = 1 / np.mean(1 / counts)
            scale = nbar / ((nbar - 1) * (reps - 1))
            rscales = np.ones(reps)
        out = ReplicateDesign(self.data, weights=self._w, replicate_weights=rep[index],
                              scale=scale, rscales=rscales, type=method)
        out._domain = self._domain.copy()
        if selfrep is not None and selfrep.all():
            out._selfrep = True
        return out


# --------------------------------------------------------------------------------------
# Replicate-weight design
# --------------------------------------------------------------------------------------


class ReplicateDesign(_BaseDesign):
    """A design carried by replicate weights (R: ``svrepdesign`` / ``as.svrepdesign``).

    Parameters
    ----------
    data : DataFrame.
    weights : column name or array of sampling weights (``weights=``).
    replicate_weights : list of column names or an (n x R) array of replicate factors
        (``repweights=``, ``combined.weights=FALSE``: each replicate's weights are
        weights times these).
    scale, rscales : variance = scale * sum_r rscales_r (theta_r - mean theta)^2
        (R's ``svrVar`` with ``mse=FALSE``).
    type : label ("JK1", "JKn", "bootstrap", "other").

    Usually made by :meth:`SurveyDesign.replicate`.

    References
    ----------
    Wolter KM (2007). Introduction to Variance Estimation, 2nd ed. Springer, New York.
    Lumley T (2010). Complex Surveys: A Guide to Analysis Using R. Wiley, Hoboken NJ.
    Agrees with ``survey::svrepdesign``/``svrVar`` (tests/reference/survey.R, R survey 4.1-1).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1., 2, 3, 4]})
    >>> rep = SurveyDesign(df).replicate("JK1")
    >>> round(float(rep.mean("y").loc[0, "se"]), 6)  # R: 0.6454972
    0.645497
    """

    def __init__(self, data: pd.DataFrame, *, weights: Any, replicate_weights: Any, scale: float,
                 rscales: Sequence[float] | np.ndarray | None = None, type: str = "other"):
        what = "ReplicateDesign"
        if not isinstance(data, pd.DataFrame):
            raise InputError(f"{what}: data must be a pandas DataFrame")
        self.data = data
        if isinstance(weights, str):
            if weights not in data.columns:
                raise InputError(f"{what}: weights column {weights!r} is not in the data")
            w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
        else:
            w = np.asarray(weights, dtype=float)
        if w.shape != (len(data),) or not np.isfinite(w).all() or (w <= 0).any():
            raise InputError(f"{what}: weights must be positive and finite, one per row")
        if isinstance(replicate_weights, (list, tuple)) and replicate_weights and \
                all(isinstance(c, str) for c in replicate_weights):
            missing = [c for c in replicate_weights if c not in data.columns]
            if missing:
                raise InputError(f"{what}: replicate weight columns {missing} are not in the data")
            rep = data[list(replicate_weights)].to_numpy(dtype=float)
        else:
            rep = np.asarray(replicate_weights, dtype=float)
        if rep.ndim != 2 or rep.shape[0] != len(data):
            raise InputError(f"{what}: replicate_weights must be n x R ({len(data)} rows)")
        if not np.isfinite(rep).all() or (rep < 0).any():
            raise InputError(f"{what}: replicate weights must be finite and non-negative")
        self._w = w
        self._rep = rep
        self.scale = float(scale)
        self.rscales = np.ones(rep.shape[1]) if rscales is None else np.asarray(rscales, dtype=float)
        if self.rscales.shape != (rep.shape[1],):
            raise InputError(f"{what}: rscales must have one value per replicate ({rep.shape[1]})")
        self.type = type
        self._domain = np.ones(len(data), dtype=bool)
        self._selfrep = False

    def _copy(self) -> ReplicateDesign:
        out = object.__new__(ReplicateDesign)
        out.__dict__.update(self.__dict__)
        return out

    def _rows(self) -> np.ndarray:
        return self._domain.copy()

    @property
    def replicate_weights(self) -> pd.DataFrame:
        """Replicate analysis weights (weights x factors), as R's ``weights(design, "analysis")``."""
        return pd.DataFrame(self._rep * self._w[:, None], index=self.data.index)

    def degf(self) -> int:
        """Rank of the replicate analysis weights of the domain minus 1 (R's ``degf``)."""
        a = (self._rep * self._w[:, None])[self._domain]
        return int(np.linalg.matrix_rank(a) - 1)

    def _variance(self, influence: np.ndarray | None, theta: Callable[[np.ndarray], np.ndarray]
                  ) -> np.ndarray:
        full = np.atleast_1d(theta(self._w))
        p = full.size
        if self._selfrep or self._rep.shape[1] == 0:
            return np.zeros((p, p))
        thetas = np.vstack([np.atleast_1d(theta(self._w * self._rep[:, r])) for r in range(self._rep.shape[1])])
        mean = thetas[self.rscales > 0].mean(axis=0)
        dev = (thetas - mean) * np.sqrt(self.rscales)[:, None]
        return dev.T @ dev * self.scale

    def _logit_var(self, x: np.ndarray, use: np.ndarray, p: float, v: float) -> float:
        def theta(w: np.ndarray) -> np.ndarray:
            ww = np.where(use, w, 0.0)
            m = np.sum(ww * x) / np.sum(ww)
            return np.array([np.log(m / (1 - m))])

        return float(self._variance(None, theta)[0, 0])

    def _svyvar(self, x: np.ndarray, use: np.ndarray) -> float:
        w = np.where(use, self._w, 0.0)
        n = int(use.sum())
        xbar = np.sum(w * x) / np.sum(w)
        return float(np.sum(w * (x - xbar) ** 2) / np.sum(w) * n / (n - 1))
