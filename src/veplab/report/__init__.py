"""Publishing helpers for notebooks: every table and figure passes the disclosure gate.

Notebooks never print DataFrames directly.  They call a :class:`Report`::

    rep = Report(study, "overview")
    rep.table(counts, "samples_by_country", caption="Respondents by country and gender")
    rep.figure(fig, "samples_chart", caption="...", data=counts)
    rep.value("n_respondents", 1200, caption="Respondents")

Each call applies the study's disclosure rules (:mod:`veplab.privacy`):
counts below the threshold are suppressed with secondary suppression
(``kind="counts"``); statistics based on fewer people than the threshold are
hidden (``kind="stats"`` with an ``n`` column); ``kind="model"`` is for
estimates that describe no group of people directly (coefficients, fit).  The
call displays the gated table as HTML and attaches a machine-readable copy
(mimetype ``application/vnd.veplab.result+json``) that ``veplab build``
collects into ``results.json``.  Nothing row-level can pass: a table with as
many rows as the data is refused.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Report", "RESULT_MIME", "use_style", "to_jsonable", "DisclosureError"]

RESULT_MIME = "application/vnd.veplab.result+json"
MARK = "‡"


class DisclosureError(ValueError):
    """A table or figure would publish row-level or disclosive data."""


def use_style() -> None:
    """Apply the veplab matplotlib style (greyscale-readable, colour-blind safe)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with resources.as_file(resources.files(__package__) / "veplab.mplstyle") as path:
        plt.style.use(str(path))
    plt.rcParams["svg.hashsalt"] = "veplab"


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
    """Convert numpy/pandas scalars and containers to JSON-ready values (NaN -> null)."""
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
                 n_records: int | None = None, display: bool = True):
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
        self.results: dict[str, Any] = {"tables": {}, "figures": {}, "values": {}}
        use_style()

    # ------------------------------------------------------------------ output

    def _emit(self, html_text: str, payload: Mapping[str, Any]) -> None:
        if not self._display:
            return
        try:
            from IPython.display import display
        except ImportError:  # pragma: no cover
            return
        display({"text/html": html_text, RESULT_MIME: to_jsonable(payload)}, raw=True)

    def markdown(self, text: str) -> None:
        """Show a paragraph of text (Markdown)."""
        if self._display:
            from IPython.display import Markdown, display

            display(Markdown(text))

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
        n: str | Sequence[str] | None = None,
        note: str | None = None,
        digits: int = 2,
        margins: bool = False,
    ) -> pd.DataFrame:
        """Publish a table through the disclosure gate; returns the gated table.

        ``kind="counts"``: a frequency table (people per cell): cells below the
        threshold are suppressed, with secondary suppression against totals.
        ``kind="stats"``: rows are groups and ``n`` names the column(s) giving
        the number of people behind each row; rows with ``n < threshold`` (or
        another count column such as ``n_events`` below it) are hidden whole,
        with secondary suppression (see :func:`veplab.privacy.suppress_stats`).
        ``kind="model"``: estimates not tied to small groups (coefficients,
        fit indices, reliability); published as they are, except that a row
        resting on fewer people or events than the threshold (columns ``n``,
        ``n_obs``, ``events``, ``n_events`` ...) is hidden, and other small
        counts (``n_dropped`` ...) are hidden cell by cell.
        """
        from .. import privacy

        if key in self.results["tables"]:
            raise ValueError(f"table key {key!r} used twice in notebook {self.notebook!r}")
        if not isinstance(df, pd.DataFrame):
            df = pd.DataFrame(df)
        self._check_rows(df, key)
        if kind == "counts":
            gated = privacy.suppress_counts(df, threshold=self.threshold, totals="auto" if margins else "absent")
            published, mask = gated.published, gated.mask
        elif kind == "stats":
            if n is None:
                raise ValueError("kind='stats' needs n= naming the column(s) with the number of people")
            gated = privacy.suppress_stats(df, n_column=n, threshold=self.threshold,
                                           total_row="auto" if margins else None)
            published, mask = gated.published, gated.mask
        elif kind == "model":
            published, mask = df, self._model_mask(df)
        else:
            raise ValueError(f"kind must be 'counts', 'stats' or 'model', got {kind!r}")
        mask = pd.DataFrame(mask.to_numpy(dtype=bool), index=df.index, columns=df.columns)
        values = df.mask(mask) if mask.to_numpy().any() else df
        payload = {
            "kind": "table",
            "notebook": self.notebook,
            "key": key,
            "caption": caption,
            "table_kind": kind,
            "threshold": self.threshold,
            "index_name": _label(df.index.name) if df.index.name is not None else None,
            "columns": [_label(c) for c in df.columns],
            "index": [_label(i) for i in df.index],
            "data": [[_clean(v) if not m else None for v, m in zip(row, mrow)]
                     for row, mrow in zip(df.to_numpy(dtype=object), mask.to_numpy())],
            "suppressed": mask.to_numpy().tolist(),
            "note": note,
        }
        self.results["tables"][key] = payload
        self._emit(self._html_table(df, mask, caption, note, digits, key), payload)
        return values

    #: Columns of a model table giving the people (or events) an estimate rests on: a row with a
    #: small one is hidden whole; other count columns (n_dropped, n_missing ...) only hide the cell.
    _SAMPLE_COLUMNS = ("n", "n_obs", "nobs", "events", "n_events", "cases", "n_cases", "n_pairs")

    def _model_mask(self, df: pd.DataFrame) -> pd.DataFrame:
        """Model tables and figure data: counts below the threshold are not published."""
        from ..privacy.disclosure import count_columns

        mask = np.zeros(df.shape, dtype=bool)
        for c in count_columns(df.columns):
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
        payload = {
            "kind": "table", "notebook": self.notebook, "key": key, "caption": caption,
            "table_kind": "magnitude", "threshold": self.threshold,
            "index_name": _label(totals.index.name), "columns": [_label(c) for c in totals.columns],
            "index": [_label(i) for i in totals.index],
            "data": [[None if m else _clean(v) for v, m in zip(r, mr)]
                     for r, mr in zip(totals.to_numpy(dtype=object), mask.to_numpy())],
            "suppressed": mask.to_numpy().tolist(), "note": note,
        }
        self.results["tables"][key] = payload
        self._emit(self._html_table(totals, mask, caption, note, digits, key), payload)
        return totals.mask(mask)

    def _html_table(self, df: pd.DataFrame, mask: pd.DataFrame, caption: str | None, note: str | None,
                    digits: int, key: str) -> str:
        def fmt(v: Any) -> str:
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                return "–"
            if isinstance(v, (float, np.floating)):
                return f"{v:,.{digits}f}"
            if isinstance(v, (int, np.integer)):
                return f"{v:,}"
            return html.escape(str(v))

        out = [f'<table class="veplab-table" data-key="{html.escape(key)}">']
        if caption:
            out.append(f"<caption>{html.escape(caption)}</caption>")
        idx_name = html.escape(str(_label(df.index.name))) if df.index.name is not None else ""
        out.append("<thead><tr><th>" + idx_name + "</th>"
                   + "".join(f"<th>{html.escape(str(_label(c)))}</th>" for c in df.columns) + "</tr></thead><tbody>")
        any_mask = False
        arr = df.to_numpy(dtype=object)
        m = mask.to_numpy()
        for i, label in enumerate(df.index):
            cells = []
            for j in range(df.shape[1]):
                if m[i, j]:
                    any_mask = True
                    cells.append(f'<td class="suppressed">{MARK}</td>')
                else:
                    cells.append(f"<td>{fmt(arr[i, j])}</td>")
            out.append(f"<tr><th>{html.escape(str(_label(label)))}</th>{''.join(cells)}</tr>")
        out.append("</tbody></table>")
        notes = []
        if any_mask:
            notes.append(f"{MARK} suppressed: fewer than {self.threshold} people, or hidden so that "
                         f"totals cannot reveal another suppressed cell.")
        if note:
            notes.append(html.escape(note))
        if notes:
            out.append('<p class="veplab-note">' + "<br>".join(notes) + "</p>")
        return "\n".join(out)

    # ------------------------------------------------------------------ figures

    def figure(self, fig: Any, key: str, *, caption: str | None = None, data: pd.DataFrame | None = None,
               alt: str | None = None, close: bool = True) -> None:
        """Publish a matplotlib figure (PNG embedded; no metadata, so builds are
        byte-identical).  ``data`` is the (already gated) table the figure
        shows; it is stored in ``results.json`` beside the figure."""
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
        payload: dict[str, Any] = {"kind": "figure", "notebook": self.notebook, "key": key, "caption": caption}
        if data is not None:
            if not isinstance(data, pd.DataFrame):
                data = pd.DataFrame(data)
            self._check_rows(data, key)
            dmask = self._model_mask(data).to_numpy()  # a figure's data: no count below the threshold
            payload["data"] = {
                "columns": [_label(c) for c in data.columns],
                "index": [_label(i) for i in data.index],
                "values": [[None if m else _clean(v) for v, m in zip(row, mrow)]
                           for row, mrow in zip(data.to_numpy(dtype=object), dmask)],
            }
        self.results["figures"][key] = payload
        alt_text = html.escape(alt or caption or key)
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._emit(f'<figure class="veplab-figure" data-key="{html.escape(key)}">'
                   f'<img alt="{alt_text}" src="data:image/png;base64,{b64}"/>{cap}</figure>', payload)

    # ------------------------------------------------------------------ values

    def value(self, key: str, value: Any, *, caption: str | None = None, n: int | None = None,
              ci: tuple[float, float] | None = None, unit: str | None = None, kind: str = "stat",
              ci_level: float = 0.95) -> Any:
        """Publish one headline number (for briefs): suppressed when ``n`` is below the threshold.

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
        suppressed = n is not None and n < self.threshold
        if kind == "count" and value is not None and not suppressed:
            suppressed = 0 < float(value) < self.threshold
        payload = {"kind": "value", "notebook": self.notebook, "key": key, "caption": caption,
                   "value": None if suppressed else _clean(value), "n": None if suppressed else _clean(n),
                   "ci": None if (suppressed or ci is None) else [_clean(ci[0]), _clean(ci[1])],
                   "ci_level": None if ci is None else float(ci_level),
                   "unit": unit, "suppressed": bool(suppressed), "value_kind": kind}
        self.results["values"][key] = payload
        shown = MARK if suppressed else (f"{value:,.3g}" if isinstance(value, float) else f"{value}")
        ci_txt = (f" ({100 * ci_level:g}% CI {ci[0]:.3g}–{ci[1]:.3g})" if ci is not None and not suppressed
                  else "")
        self._emit(f'<p class="veplab-value" data-key="{html.escape(key)}"><b>{html.escape(caption or key)}:</b> '
                   f"{html.escape(shown)}{html.escape(ci_txt)}</p>", payload)
        return None if suppressed else value


def collect_results(nb: Any) -> dict[str, Any]:
    """Gather the veplab result payloads of an executed notebook (nbformat object)."""
    out: dict[str, Any] = {"tables": {}, "figures": {}, "values": {}}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            payload = data.get(RESULT_MIME)
            if payload is None:
                continue
            if isinstance(payload, str):
                payload = json.loads(payload)
            group = {"table": "tables", "figure": "figures", "value": "values"}[payload["kind"]]
            out[group][payload["key"]] = payload
    return out
