"""Facility security audit and climate checklist: one row per prison (all 366).

Each scale of the checklist reflects a facility latent built from the
prison's dynamic security (``dsi_z``), material resources (``res_z``),
overcrowding (``occ_z``) and a country level, plus audit noise::

    L_scale = w_dsi dsi_z + w_res res_z + w_occ occ_z + country + s * N(0, 1)

Items are ordered-probit (binary: one threshold) functions of ``L_scale``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..codebook import Codebook
from ._common import keyword
from ._common import threshold_index
from ._items import apply_missing, categories_to_codes, format_date_column, generic_column, item_parameters, random_dates

#: weights (dsi, res, occ), country levels (KZ, TN, UG), noise SD, item difficulty
CLIMATE_MODEL = {
    "dynamic": dict(w=(0.85, 0.0, 0.0), country=(0.0, 0.0, 0.0), noise=0.4, difficulty=0.0),
    "phys": dict(w=(0.1, 0.5, -0.1), country=(0.5, 0.2, -0.5), noise=0.7, difficulty=-0.6),
    "proc": dict(w=(0.4, 0.3, -0.1), country=(0.4, 0.1, -0.3), noise=0.7, difficulty=-0.4),
    "access": dict(w=(0.2, 0.6, -0.3), country=(0.2, 0.0, -0.3), noise=0.6, difficulty=0.0),
}
DEFAULT = dict(w=(0.5, 0.2, -0.2), country=(0.0, 0.0, 0.0), noise=0.7, difficulty=0.0)
AUDIT_WINDOW = ("2022-02-01", "2022-11-30")


def _spec(scale_id: str) -> dict[str, Any]:
    for k, v in CLIMATE_MODEL.items():
        if keyword(scale_id, k):
            return v
    if keyword(scale_id, "service", "programme", "regime"):
        return CLIMATE_MODEL["access"]
    return DEFAULT


def generate(cb: Codebook, prisons: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, Any]]:
    n = len(prisons)
    fac = prisons[["dsi_z", "res_z", "occ_z"]].to_numpy()
    country = prisons["country"].to_numpy()
    answers: dict[str, np.ndarray] = {}
    truth_scales = {}
    for s in cb.scales:
        spec = _spec(s.id)
        items = [cb.item(i) for i in s.items if cb.item(i).type in ("likert", "ordinal", "binary")]
        if not items:
            continue
        lat = fac @ np.asarray(spec["w"]) + np.asarray(spec["country"])[country - 1] \
            + spec["noise"] * rng.standard_normal(n)
        par = item_parameters(cb, items, difficulty=spec["difficulty"], loading_range=(0.65, 0.9))
        lam = par["loadings"]
        ystar = lat[:, None] * lam + np.sqrt(1 - lam**2) * rng.standard_normal((n, len(items)))
        idx = threshold_index(ystar, par["thresholds"])
        codes = categories_to_codes(idx, items)
        codes, _ = apply_missing(codes, items, rng, dont_know=0.02, refused=0.0, missing=0.0, blank=0.0)
        for j, it in enumerate(items):
            answers[it.id] = codes[:, j]
        truth_scales[s.id] = {
            "weights": dict(zip(("dsi_z", "res_z", "occ_z"), spec["w"])),
            "country_levels": dict(zip(("KZ", "TN", "UG"), spec["country"])),
            "noise_sd": spec["noise"],
            "loadings": {it.id: float(v) for it, v in zip(items, lam)},
        }
    dates = random_dates(rng, n, *AUDIT_WINDOW)
    cols: dict[str, Any] = {}
    for item in cb.items:
        iid = item.id
        if iid == "prison_id":
            cols[iid] = prisons["prison_id"].to_numpy().astype(object)
        elif iid in answers:
            cols[iid] = answers[iid]
        elif iid == "remand_share":
            pct = item.max is not None and item.max > 1
            v = prisons["remand_share"].to_numpy()
            cols[iid] = np.round(v * 100, 1) if pct else np.round(v, 3)
        elif iid in prisons.columns and item.type != "text":
            cols[iid] = prisons[iid].to_numpy().astype(float)
        elif item.type == "date":
            cols[iid] = format_date_column(dates, item)
        else:
            cols[iid] = generic_column(item, n, rng)
    frame = pd.DataFrame(cols)
    truth = {
        "prisons": n,
        "scales": truth_scales,
        "latent_model": "L = w_dsi * dsi_z + w_res * res_z + w_occ * occ_z + country level + noise_sd * N(0,1)",
    }
    return frame, truth
