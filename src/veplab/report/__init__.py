"""Publishing helpers for notebooks: every table, figure, value and run-time text passes the disclosure gate.

Notebooks never print DataFrames directly.  They call a :class:`Report`::

    rep = Report(study, "overview")
    rep.table(counts, "samples_by_country", caption="Respondents by country and gender",
              data=df, by=["country", "gender"])
    rep.figure(fig, "samples_chart", caption="...", data=counts)
    rep.value("n_respondents", 1200, caption="Respondents", kind="count")
    rep.markdown("The survey reached {n_respondents} people.")

Publishing is **default deny** (as output checking in trusted research
environments: ACRO/SACRO).  ``veplab build`` renders a page only from the
payloads these helpers attach to their output (mimetype
``application/vnd.veplab.result+json``) and from the notebook's static
Markdown cells; printed output, ``display()`` of plain objects, errors and
images made any other way are withheld, and the page says so.  The build
checks every payload again (:mod:`veplab.release`), protects tables that share
people across the whole report together (linked tables), and records each
output in ``release.json`` with the rule applied and its status:

``ok``
    passed the gate (some cells may be suppressed);
``review``
    the gate cannot check it (a value without ``n=``, a model table without
    the people it rests on, a figure without its data): held until
    ``research/<study>/approvals.yml`` names it with a reason and who approved;
``refused``
    fails a rule (a model with a category below the threshold, per-person
    figure data);
``withheld``
    run-time text holding numbers that do not come from gated results.

Every number knows its people: ``kind="counts"`` cells are people;
``kind="stats"`` rows name their ``n`` column; ``kind="model"`` tables give
``n=`` (a column, or the number of people the whole model rests on) or
``model=`` (a fitted model, checked with ACRO's rules); values give ``n=``
(or ``data=``, counted) unless they are counts themselves.  ``data=`` with
``by=`` also tells the gate which people are behind each cell, so linked
tables can be protected exactly.
"""

from __future__ import annotations

import os

import base64
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

# One DisclosureError for the package: the gate's refusals and the disclosure
# rules' are the same error (an InputError, so the CLI shows its message).
from ..privacy.disclosure import DisclosureError
from ..plots.style import use_style

__all__ = ["Report", "RESULT_MIME", "use_style", "to_jsonable", "DisclosureError"]

RESULT_MIME = "application/vnd.veplab.result+json"




def _clean(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, (pd.Interval,)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_clean(v) for v in value]
    if isinstance(value, (str, int)):
        return value
    return str(value)


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to JSON-ready values (NaN -> null).

    JSON has no NaN or infinity, so both become ``None`` (``null``); numpy
    integers, floats and booleans become Python ones, timestamps ISO 8601
    text, intervals their text, mappings ``{str: value}`` and arrays, lists and
    tuples lists (recursively); anything else is its ``str``.  This is how
    ``results.json`` is written.

    Parameters
    ----------
    value:
        Anything.

    Returns
    -------
    object
        Built from ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``.

    References
    ----------
    Bray T (ed.) (2017). RFC 8259: The JavaScript Object Notation (JSON) Data Interchange
    Format, section 6 (NaN and Infinity are not permitted). IETF.
    ISO 8601-1:2019. Date and time -- Representations for information interchange.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> to_jsonable({"n": np.int64(3), "x": np.float64("nan"), "ok": np.bool_(True),
    ...              "v": np.array([1.5, np.inf]), "when": pd.Timestamp("2026-03-01")})
    {'n': 3, 'x': None, 'ok': True, 'v': [1.5, None], 'when': '2026-03-01T00:00:00'}
    """
    return _clean(value)


def _label(x: Any) -> Any:
    if isinstance(x, tuple):
        return " / ".join(str(v) for v in x)
    return _clean(x)


class Report:
    """The publishing channel of one notebook (see module docstring).

    Parameters
    ----------
    study : path of the study folder (or a :class:`veplab.study.Study`)
    notebook : the notebook's name (keys in ``results.json``)
    threshold : disclosure threshold; default the study's (``disclosure.threshold``)
    n_records : number of records in the data behind the notebook; a published
        table with this many rows (or more) is refused as row-level data
    """

    def __init__(self, study: Any = None, notebook: str = "notebook", *, threshold: int | None = None,
                 n_records: int | None = None, display: bool = True, lang: str | None = None):
        from ..study import MIN_THRESHOLD, DEFAULT_THRESHOLD, Study, load_study

        if study is not None and not isinstance(study, Study):
            study = load_study(study)
        self.study = study
        self.notebook = notebook
        if threshold is None:
            threshold = study.threshold if study is not None else DEFAULT_THRESHOLD
        if threshold < MIN_THRESHOLD:
            raise DisclosureError(f"disclosure threshold {threshold} is below the floor of {MIN_THRESHOLD}")
        self.threshold = int(threshold)
        self.n_records = n_records
        self._display = display
        self._texts = 0
        self.lang = lang or (study.languages[0] if study is not None else "en")
        self._label_map: dict[str, str] | None = None
        self._held: list[dict[str, Any]] | None = None  # outputs whose display waits (model_table)
        self.results: dict[str, Any] = {"tables": {}, "figures": {}, "values": {}, "texts": {}}
        use_style()

    #: Longest label shown for an item (its full text stays in the codebook).
    LABEL_WIDTH = 70

    def labels(self) -> dict[str, str]:
        """Readable names of the study's item and scale ids (their codebook text in the report's
        language), shown on pages in place of the ids; ``results.json`` keeps the ids."""
        if self._label_map is None:
            self._label_map = {}
            for source in (self.study.sources.values() if self.study is not None else ()):
                try:
                    cb = source.codebook()
                except Exception:  # noqa: BLE001 - a codebook that does not load is reported by validate
                    continue
                for thing in (*cb.items, *cb.scales):
                    text = " ".join(str(thing.text(self.lang)).split())
                    if text and text != thing.id:
                        short = text if len(text) <= self.LABEL_WIDTH else text[: self.LABEL_WIDTH - 1].rstrip() + "…"
                        self._label_map.setdefault(thing.id, short)
        return self._label_map

    def _display_labels(self, names: Any, extra: Mapping[str, str] | None = None) -> list[str | None] | None:
        labels = {**self.labels(), **(extra or {})}
        shown = [labels.get(str(x)) for x in names]
        return shown if any(shown) else None

    def _value_labels(self, df: pd.DataFrame, extra: Mapping[str, str] | None = None) -> dict[str, str] | None:
        """Readable text of the item/scale ids (and ``extra`` names) found as cell values of the
        table's text columns; pages show the text, ``results.json`` keeps the ids."""
        labels = {**self.labels(), **(extra or {})}
        found: dict[str, str] = {}
        for col in df.columns:
            s = df[col]
            if s.dtype.kind in "biufcmM":
                continue
            for v in pd.unique(s.dropna().to_numpy(dtype=object)):
                if isinstance(v, str) and v in labels:
                    found[v] = labels[v]
        return found or None

    # ------------------------------------------------------------------ output

    def _emit(self, payload: dict[str, Any]) -> None:
        from .render import render_payload, withheld_note

        if self._held is not None:
            self._held.append(payload)
            return
        if not self._display:
            return
        try:
            from IPython.display import display
        except ImportError:  # pragma: no cover
            return
        if payload.get("status") in ("review", "refused", "withheld"):
            html_text = withheld_note(1, f"{payload['status']}: {'; '.join(payload.get('reasons') or [])}")
        else:
            html_text = render_payload(payload, threshold=self.threshold, text=payload.get("text"))
        display({"text/html": html_text, RESULT_MIME: to_jsonable(payload)}, raw=True)

    def _status(self, payload: dict[str, Any], status: str, rule: str, reasons: Sequence[str] = (),
                min_n: Any = None) -> None:
        payload.update({"status": status, "rule": rule, "reasons": list(reasons),
                        "min_n": _clean(min_n), "threshold": self.threshold, "notebook": self.notebook})
        progress = os.environ.get("VEPLAB_PROGRESS")
        if progress:  # veplab build shows how far a long notebook has come (kind and key only)
            try:
                with open(progress, "a", encoding="utf-8") as fh:
                    fh.write(f"{payload.get('kind')} {payload.get('key')}\n")
            except OSError:
                pass

    def markdown(self, text: str, key: str | None = None) -> str:
        """Show a paragraph of run-time text (Markdown).

        Numbers may enter run-time text only from results this report
        published, by key: ``{key}`` is replaced by the value published as
        ``rep.value(key, ...)`` (``{key.n}`` by its n, ``{key.ci}`` by its
        interval), after the gate.  Text holding any other digit is withheld
        from the published page (the page says so): write numbers in a static
        Markdown cell, or publish them with :meth:`value` first.

        >>> rep.value("n_women", 123, kind="count")       # doctest: +SKIP
        >>> rep.markdown("The survey reached {n_women} women.")  # doctest: +SKIP
        """
        from .gate import fill_text

        if not isinstance(text, str):
            raise TypeError(f"markdown() takes text, got {type(text).__name__}")
        self._texts += 1
        key = key or f"text_{self._texts}"
        if key in self.results["texts"]:
            raise ValueError(f"text key {key!r} used twice in notebook {self.notebook!r}")
        payload: dict[str, Any] = {"kind": "text", "key": key, "template": text}
        filled, status, reasons = fill_text(text, self.results["values"])
        self._status(payload, status, "run-time text: numbers only from gated results", reasons)
        payload["text"] = filled if status == "ok" else None
        self.results["texts"][key] = payload
        self._emit(payload)
        return filled if status == "ok" else ""

    def _check_rows(self, df: pd.DataFrame, key: str) -> None:
        if self.n_records and len(df) >= max(self.n_records, 2) and len(df) > 20:
            raise DisclosureError(
                f"table {key!r} has {len(df)} rows for {self.n_records} records: that is row-level data "
                "and cannot be published; aggregate it first"
            )

    # ------------------------------------------------------------------ tables

    def table(
        self,
        df: pd.DataFrame,
        key: str,
        *,
        caption: str | None = None,
        kind: str = "counts",
        n: str | Sequence[str] | int | None = None,
        note: str | None = None,
        digits: int = 2,
        margins: bool = False,
        data: pd.DataFrame | None = None,
        by: str | Sequence[str] | None = None,
        model: Any = None,
        not_people: Sequence[str] = (),
        labels: Mapping[str, str] | None = None,
        fold: bool = False,
    ) -> pd.DataFrame:
        """Publish a table through the disclosure gate; returns the gated table.

        ``kind="counts"``: a frequency table (people per cell): cells below the
        threshold are suppressed, with secondary suppression against totals.
        ``kind="stats"``: rows are groups and ``n`` names the column(s) giving
        the number of people behind each row; rows with ``n < threshold`` (or
        another count column such as ``n_events`` below it) are hidden whole,
        with secondary suppression (see :func:`veplab.privacy.suppress_stats`).
        ``kind="model"``: estimates of a model or a whole-sample statistic
        (coefficients, fit, reliability).  It must say which people it rests
        on: ``n=`` a column (a row resting on fewer people than the threshold
        is hidden; other small counts such as ``n_dropped`` are hidden cell
        by cell) or a whole number (the people behind the whole table), or
        ``model=`` a fitted model, checked with ACRO's rules (residual degrees
        of freedom and every category of a factor at least the threshold).
        A model table that says neither is held for review.

        ``data`` and ``by`` (counts tables): the records the table counts and
        the column(s) whose values (or codebook labels) are the table's row
        (and column) labels.  The gate then checks the counts against the data
        and knows the people behind every cell, so tables published in the
        same build that share people are protected together (linked tables).
        A stats table takes them too (``by`` one column, its groups the rows):
        the gate checks the ``n`` column against the data and protects the
        rows together with the build's other tables; a row hidden for them is
        hidden whole.

        ``not_people`` (stats and model tables): columns whose names look like
        counts (``n_*``) but that do not count people -- optimiser starts,
        items, factors, prisons of a facility audit.  They are never suppressed
        as small counts, and the build's second check honours them.

        ``labels``: readable text for names in the index, the columns or the
        cells (for example ``{"reach · all": "Officers trained · all"}``), added
        to the codebook's item and scale text that the page shows in place of
        their ids; ``results.json`` keeps the names.

        ``fold=True``: the page shows the table folded (``<details>``, one
        click away), for a long table that a chart above it already shows.
        """
        from .. import privacy
        from .gate import stats_members, table_members  # the records behind each cell: private, never in results.json

        if key in self.results["tables"]:
            raise ValueError(f"table key {key!r} used twice in notebook {self.notebook!r}")
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        self._check_rows(df, key)
        if data is not None and kind not in ("counts", "stats"):
            raise ValueError(f"table {key!r}: data= and by= tell the gate who is behind each cell of a counts "
                             f"or stats table; a kind={kind!r} table gives its people with n=")
        not_people = [not_people] if isinstance(not_people, str) else list(not_people)
        if not_people and kind == "counts":
            raise ValueError(f"table {key!r}: every cell of a counts table counts people; not_people= is for the "
                             "count-like columns of a stats or model table")
        absent = [c for c in not_people if c not in df.columns]
        if absent:
            raise ValueError(f"table {key!r}: not_people= names column(s) {absent} not in the table; columns are "
                             f"{list(df.columns)}")
        if n is not None and isinstance(n, str) and n in not_people:
            raise ValueError(f"table {key!r}: n= column {n!r} counts the people behind each row; it cannot be "
                             "in not_people=")
        status, reasons, min_n = "ok", [], None
        rule = {"counts": f"counts: cells below {self.threshold} suppressed, secondary and linked-table protection",
                "stats": f"statistics by group: groups below {self.threshold} people hidden, secondary protection",
                "model": f"model: rests on at least {self.threshold} people; factor categories and residual df "
                         f"at least {self.threshold}"}.get(kind)
        members = None
        if kind == "counts":
            gated = privacy.suppress_counts(df, threshold=self.threshold, totals="auto" if margins else "absent")
            mask = gated.mask
            if data is not None:
                members = table_members(df, data, by, key=key, study=self.study)
        elif kind == "stats":
            if n is None or not isinstance(n, (str, list, tuple)):
                raise ValueError("kind='stats' needs n= naming the column(s) with the number of people")
            gated = privacy.suppress_stats(df, n_column=n, threshold=self.threshold,
                                           total_row="auto" if margins else None, not_counts=not_people)
            mask = gated.mask
            if data is not None:
                members = stats_members(df, n, data, by, key=key, study=self.study)
        elif kind == "model":
            mask = self._model_mask(df, not_people)
            if n is None:  # a sample-size column says which people each row rests on
                n = next((c for c in df.columns if str(c).strip().lower() in self._SAMPLE_COLUMNS), None)
            cols = [n] if isinstance(n, str) else list(n) if isinstance(n, (list, tuple)) else []
            absent = [c for c in cols if c not in df.columns]
            if absent:
                raise ValueError(f"table {key!r}: n= names column(s) {absent} not in the table; columns are "
                                 f"{list(df.columns)}")
            if cols:
                v = pd.to_numeric(df[cols[0]], errors="coerce")
                min_n = v[v > 0].min() if (v > 0).any() else None
                small = (v > 0) & (v < self.threshold)
                mask.loc[small.to_numpy(), :] = True
            elif isinstance(n, (int, np.integer)) and not isinstance(n, bool):
                min_n = int(n)
                if n < self.threshold:
                    status = "refused"
                    reasons.append(f"the model rests on {int(n)} people, fewer than the threshold {self.threshold}")
            if model is not None:
                check = _model_check(model, self.threshold)
                if check is not None:
                    min_n = check.n if min_n is None else min(min_n, check.n)
                    if not check.ok:
                        status = "refused" if not any(r.startswith("cannot check") for r in check.reasons) \
                            else "review"
                        reasons.extend(check.reasons)
            elif n is None:
                status = "review"
                reasons.append("a model table must say which people it rests on (n= or model=); "
                               "it cannot be checked")
        else:
            raise ValueError(f"kind must be 'counts', 'stats' or 'model', got {kind!r}")
        mask = pd.DataFrame(np.asarray(mask.to_numpy(dtype=bool)), index=df.index, columns=df.columns)
        if kind in ("counts", "stats"):
            min_n = self._min_count(df, mask, kind, n)
        values = df.mask(mask) if mask.to_numpy().any() else df
        payload: dict[str, Any] = {
            "kind": "table",
            "key": key,
            "caption": caption,
            "table_kind": kind,
            "index_name": _label(df.index.name) if df.index.name is not None else None,
            "columns": [_label(c) for c in df.columns],
            "index": [_label(i) for i in df.index],
            "data": [[_clean(v) if not m else None for v, m in zip(row, mrow)]
                     for row, mrow in zip(df.to_numpy(dtype=object), mask.to_numpy())],
            "suppressed": mask.to_numpy().tolist(),
            "note": note,
            "digits": int(digits),
            "margins": bool(margins),
            "n_column": n if isinstance(n, (str, list, tuple)) else None,
            "not_people": [_label(c) for c in not_people],
            "index_labels": self._display_labels(df.index, labels),
            "column_labels": self._display_labels(df.columns, labels),
            "value_labels": self._value_labels(df, labels),
            "fold": bool(fold),
        }
        if members is not None:
            payload["_members"] = members
        self._status(payload, status, rule or "", reasons, min_n)
        self.results["tables"][key] = payload
        self._emit(payload)
        if status != "ok":
            return df.mask(np.ones(df.shape, dtype=bool))
        return values

    def model_table(
        self,
        df: pd.DataFrame,
        key: str,
        *,
        estimate: str = "estimate",
        low: str = "ci_low",
        high: str = "ci_high",
        ratio: bool = False,
        xlabel: str = "",
        figure_caption: str | None = None,
        omit: Sequence[str] = ("Intercept", "(Intercept)"),
        fold: bool = True,
        **table_options: Any,
    ) -> pd.DataFrame:
        """Publish a table of model estimates as a forest plot with the full table folded below it.

        The table goes through the gate exactly as ``table(df, key,
        kind="model", ...)`` (``table_options``: ``n=``, ``model=``,
        ``caption=``, ``digits=``, ``labels=``, ``not_people=``, ``note=``);
        the forest plot (:func:`veplab.plots.charts.forest`, key
        ``<key>_forest``) is then drawn from the **gated** table only: a term
        the gate suppressed is not drawn and its row reads "suppressed", a
        term without an estimate reads "not estimated".  When the gate does
        not pass the table (review, refused) no figure is drawn.  The page
        shows the figure first and the table folded under it (``fold=``).

        ``estimate``, ``low``, ``high`` name the columns drawn; ``ratio=True``
        (odds or hazard ratios) draws a log axis with the reference line at
        1, else the line is at 0.  Rows named in ``omit`` (the intercept, on
        another scale) stay in the table but are not drawn.  Terms are
        labelled as in the table (codebook text, ``labels=``).  Returns the
        gated table.

        >>> rep.model_table(fit.table, "yes_no_model", estimate="odds_ratio", low="or_ci_low",
        ...                 high="or_ci_high", ratio=True, model=fit.result, caption="Odds ratios")  # doctest: +SKIP
        """
        from ..plots.charts import forest

        for col in (estimate, low, high):
            if col not in df.columns:
                raise ValueError(f"model table {key!r}: column {col!r} (estimate=, low=, high=) is not in the table; "
                                 f"columns are {list(df.columns)}")
        table_options.pop("kind", None)

        def draw(gated: pd.DataFrame, suppressed: pd.DataFrame) -> Any:
            payload = self.results["tables"][key]
            shown = payload.get("index_labels") or [None] * len(df)
            names = [lab or _label(i) for lab, i in zip(shown, df.index)]
            keep = np.array([str(i) not in set(omit) for i in df.index], dtype=bool)
            cols = [estimate, low, high] + [c for c in df.columns if str(c).strip().lower() in self._SAMPLE_COLUMNS
                                            and c not in (estimate, low, high)]
            drawn = gated.loc[keep, cols].copy()  # gated values only: a suppressed cell is NaN here
            drawn.index = [str(x) for x, k in zip(names, keep) if k]
            if not len(drawn):
                return None
            fig = forest(drawn, estimate=estimate, low=low, high=high, ratio=ratio, xlabel=xlabel,
                         suppressed=suppressed[estimate].to_numpy(dtype=bool)[keep])
            return fig, drawn

        caption = table_options.get("caption")
        return self.chart_table(df, key, draw, figure_key=f"{key}_forest", kind="model", fold=fold,
                                figure_caption=figure_caption or (caption and f"{caption}: estimates and intervals"),
                                **table_options)

    def chart_table(
        self,
        df: pd.DataFrame,
        key: str,
        draw: Any,
        *,
        figure_key: str | None = None,
        figure_caption: str | None = None,
        figure_n: int | None = None,
        fold: bool = True,
        **table_options: Any,
    ) -> pd.DataFrame:
        """Publish a table and a chart drawn from the table as the gate passed it: the chart first, the
        table folded below it (``fold=``).

        The table goes through :meth:`table` (``table_options``: ``kind=``,
        ``n=``, ``model=``, ``caption=`` ...).  Then ``draw(gated,
        suppressed)`` gets the gated table (suppressed cells are NaN) and the
        gate's mask (True where suppressed) and returns a matplotlib Figure,
        or ``(Figure, data)`` where ``data`` is the part of the gated table it
        draws (default: the whole gated table), or None to draw nothing.  The
        chart is published with :meth:`figure` under ``figure_key`` (default
        ``<key>_chart``) with that data; ``figure_n`` is the people behind the
        whole figure when its data carry no count column (default: the
        table's smallest published n).  When the gate does not pass the
        table, no chart is drawn.  Returns the gated table.

        >>> rep.chart_table(items, "staff_items", lambda g, m: plot_item_stats(g), kind="model", n="n",
        ...                 caption="Item statistics")     # doctest: +SKIP
        """
        if not callable(draw):
            raise TypeError(f"table {key!r}: draw must be a function (gated table, mask) -> Figure, got "
                            f"{type(draw).__name__}")
        self._held = []
        try:
            gated = self.table(df, key, fold=fold, **table_options)
        finally:
            held, self._held = self._held, None
        payload = self.results["tables"][key]
        if payload["status"] == "ok":
            mask = pd.DataFrame(np.asarray(payload["suppressed"], dtype=bool).reshape(df.shape), index=df.index,
                                columns=df.columns)
            out = draw(gated, mask)
            fig, data = out if isinstance(out, tuple) else (out, gated)
            if fig is not None:
                from ..privacy.disclosure import count_columns

                n_whole = figure_n
                if n_whole is None and not count_columns(data.columns):
                    m = payload.get("min_n")
                    n_whole = int(m) if isinstance(m, (int, float)) and not isinstance(m, bool) else None
                self.figure(fig, figure_key or f"{key}_chart", caption=figure_caption, data=data, n=n_whole)
        for p in held:
            self._emit(p)
        return gated

    def _min_count(self, df: pd.DataFrame, mask: pd.DataFrame, kind: str, n: Any) -> Any:
        """Smallest published count behind a counts/stats table (for the release log)."""
        from ..privacy.disclosure import count_columns

        if kind == "counts":
            cols = list(df.columns)
        else:
            cols = [n] if isinstance(n, str) else list(n or [])
            cols += [c for c in count_columns(df.columns) if c not in cols]
        vals = []
        for c in cols:
            v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
            ok = ~mask[c].to_numpy() & (v > 0) & ~np.isnan(v)
            vals.extend(v[ok].tolist())
        return int(min(vals)) if vals else None

    #: Columns of a model table giving the people (or events) an estimate rests on: a row with a
    #: small one is hidden whole; other count columns (n_dropped, n_missing ...) only hide the cell.
    _SAMPLE_COLUMNS = ("n", "n_obs", "nobs", "events", "n_events", "cases", "n_cases", "n_pairs")

    def _model_mask(self, df: pd.DataFrame, not_people: Sequence[str] = ()) -> pd.DataFrame:
        """Model tables and figure data: counts below the threshold are not published."""
        from ..privacy.disclosure import count_columns

        mask = np.zeros(df.shape, dtype=bool)
        for c in count_columns(df.columns):
            if c in not_people:
                continue
            v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
            small = (v > 0) & (v < self.threshold)
            if not small.any():
                continue
            if str(c).strip().lower() in self._SAMPLE_COLUMNS:
                mask[small, :] = True
            else:
                mask[small, df.columns.get_loc(c)] = True
        return pd.DataFrame(mask, index=df.index, columns=df.columns)

    def magnitude_table(self, data: pd.DataFrame, value: str, row: str, col: str, key: str, *,
                        caption: str | None = None, note: str | None = None, digits: int = 1,
                        n: int = 2, k: float = 0.85, p: float | None = 0.10) -> pd.DataFrame:
        """Publish a magnitude table (sums of ``value`` by ``row`` x ``col``) through the
        dominance rules: a cell is sensitive when its ``n`` largest contributors make up
        more than ``k`` of its total, when the p% rule fails, or when it has fewer
        contributors than the threshold (:func:`veplab.privacy.dominance`); secondary
        suppression then protects the sensitive cells against the margins
        (:func:`veplab.privacy.suppress_magnitudes`).  ``data`` holds one row per
        contributor; only the gated totals are published."""
        from .. import privacy

        if key in self.results["tables"]:
            raise ValueError(f"table key {key!r} used twice in notebook {self.notebook!r}")
        cells = privacy.dominance(data, value, [row, col], n=n, k=k, p=p, threshold=self.threshold)
        totals = cells.pivot(index=row, columns=col, values="total").fillna(0.0)
        sensitive = cells.pivot(index=row, columns=col, values="sensitive").reindex_like(totals)
        sensitive = sensitive.fillna(False).astype(bool)
        gated = privacy.suppress_magnitudes(totals, sensitive, threshold=self.threshold, totals="add")
        totals = gated.values.fillna(0.0) if gated.values.shape != totals.shape else totals
        mask = pd.DataFrame(gated.mask.to_numpy(dtype=bool), index=totals.index, columns=totals.columns)
        payload: dict[str, Any] = {
            "kind": "table", "key": key, "caption": caption,
            "table_kind": "magnitude",
            "index_name": _label(totals.index.name), "columns": [_label(c) for c in totals.columns],
            "index": [_label(i) for i in totals.index],
            "data": [[None if m else _clean(v) for v, m in zip(r, mr)]
                     for r, mr in zip(totals.to_numpy(dtype=object), mask.to_numpy())],
            "suppressed": mask.to_numpy().tolist(), "note": note, "digits": int(digits),
        }
        self._status(payload, "ok", f"magnitudes: ({n}, {k}) dominance, p% rule, at least {self.threshold} "
                     "contributors, secondary protection", min_n=None)
        self.results["tables"][key] = payload
        self._emit(payload)
        return totals.mask(mask)

    # ------------------------------------------------------------------ figures

    def figure(self, fig: Any, key: str, *, caption: str | None = None, data: pd.DataFrame | None = None,
               alt: str | None = None, close: bool = True, n: int | None = None) -> None:
        """Publish a matplotlib figure (PNG embedded; no metadata, so builds are
        byte-identical).  ``data`` is the aggregated (already gated) table the
        figure draws; it is checked like a model table (no count below the
        threshold, no row-level data: one point per person is refused) and
        stored in ``results.json`` beside the figure.  Data rows that are
        groups of people carry their count (an ``n`` column); data whose rows
        are not people (items, eigenvalues) give ``n=``, the people behind the
        whole figure (:func:`veplab.privacy.outputs.figure_data_check`).  A
        figure without ``data``, or without counts or ``n``, cannot be checked
        and is held for review."""
        if key in self.results["figures"]:
            raise ValueError(f"figure key {key!r} used twice in notebook {self.notebook!r}")
        if not hasattr(fig, "savefig") and hasattr(fig, "figure"):  # an Axes: publish its figure
            fig = fig.figure
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
        b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        payload: dict[str, Any] = {"kind": "figure", "key": key, "caption": caption, "alt": alt, "png": b64}
        status, reasons, min_n = "ok", [], None
        if data is None:
            status = "review"
            reasons.append("a figure must be published with the aggregated data it draws (data=); "
                           "it cannot be checked")
        else:
            if not isinstance(data, pd.DataFrame):
                data = pd.DataFrame(data)
            from ..privacy.outputs import figure_data_check

            if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))):
                raise ValueError(f"figure {key!r}: n must be a whole number of people, got {n!r}")
            check = figure_data_check(data, threshold=self.threshold, n_records=self.n_records,
                                      n=None if n is None else int(n))
            problems = list(check.reasons)
            if problems:
                status = "review" if all(r.startswith("cannot check") for r in problems) else "refused"
                reasons.extend(problems)
            min_n = None if n is None else int(n)
            dmask = self._model_mask(data).to_numpy()  # a figure's data: no count below the threshold
            payload["data"] = {
                "columns": [_label(c) for c in data.columns],
                "index": [_label(i) for i in data.index],
                "values": [[None if m else _clean(v) for v, m in zip(row, mrow)]
                           for row, mrow in zip(data.to_numpy(dtype=object), dmask)],
            }
        self._status(payload, status, "figure: drawn from aggregated data with no count below the threshold",
                     reasons, min_n)
        self.results["figures"][key] = payload
        self._emit(payload)

    # ------------------------------------------------------------------ values

    def value(self, key: str, value: Any, *, caption: str | None = None, n: int | None = None,
              ci: tuple[float, float] | None = None, unit: str | None = None, kind: str = "stat",
              ci_level: float = 0.95, data: pd.DataFrame | None = None) -> Any:
        """Publish one headline number (for briefs): suppressed when ``n`` is below the threshold.

        Every number knows its people: give ``n=`` (the unweighted number of
        people the value rests on) or ``data=`` (the records it was computed
        from; ``n`` is their number).  ``kind="count"`` values are numbers of
        people themselves.  A statistic without either is held for review.
        ``ci`` is the interval at confidence ``ci_level`` (recorded in the
        payload, shown on the page and used by the briefs' wording).

        >>> rep.value("rearrest_2y", 0.25, n=1500, ci=(0.22, 0.27), ci_level=0.9)  # doctest: +SKIP
        """
        if key in self.results["values"]:
            raise ValueError(f"value key {key!r} used twice in notebook {self.notebook!r}")
        if kind not in ("stat", "count"):
            raise ValueError(f"value {key!r}: kind must be 'stat' or 'count' (a number of people, suppressed "
                             f"below the threshold), got {kind!r}")
        if isinstance(ci_level, bool) or not isinstance(ci_level, (int, float)) or not 0 < ci_level < 1:
            raise ValueError(f"value {key!r}: ci_level must be a number between 0 and 1 (e.g. 0.95), "
                             f"got {ci_level!r}")
        if n is None and data is not None:
            n = len(data)
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0):
            raise ValueError(f"value {key!r}: n must be a whole number of people, got {n!r}")
        suppressed = n is not None and n < self.threshold
        if kind == "count" and value is not None and not suppressed:
            suppressed = 0 < float(value) < self.threshold
        status, reasons = "ok", []
        if n is None and kind != "count":
            status = "review"
            reasons.append("a value must say how many people it rests on (n= or data=); it cannot be checked")
        min_n = n if n is not None else (value if kind == "count" else None)
        payload = {"kind": "value", "key": key, "caption": caption,
                   "value": None if suppressed else _clean(value), "n": None if suppressed else _clean(n),
                   "ci": None if (suppressed or ci is None) else [_clean(ci[0]), _clean(ci[1])],
                   "ci_level": None if ci is None else float(ci_level),
                   "unit": unit, "suppressed": bool(suppressed), "value_kind": kind}
        self._status(payload, status, f"value: rests on at least {self.threshold} people", reasons, min_n)
        self.results["values"][key] = payload
        self._emit(payload)
        return None if (suppressed or status != "ok") else value


def _model_check(model: Any, threshold: int) -> Any:
    """ACRO's checks of a fitted model (:func:`veplab.privacy.outputs.model_disclosure`)."""
    try:
        from ..privacy.outputs import model_disclosure
    except ImportError:  # pragma: no cover - during the rollout
        return None
    return model_disclosure(model, threshold=threshold)


def collect_results(nb: Any) -> dict[str, Any]:
    """Gather the veplab result payloads of an executed notebook (nbformat object)."""
    out: dict[str, Any] = {"tables": {}, "figures": {}, "values": {}, "texts": {}}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            payload = data.get(RESULT_MIME)
            if payload is None:
                continue
            if isinstance(payload, str):
                payload = json.loads(payload)
            group = {"table": "tables", "figure": "figures", "value": "values", "text": "texts"}.get(payload.get("kind"))
            if group is None:
                continue
            out[group][payload["key"]] = payload
    return out

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
