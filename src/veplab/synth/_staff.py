"""Pre/post survey of prison staff trained on managing violent extremist prisoners.

Each staff member has a latent level ``T_s`` per scale (levels correlated 0.4
across scales, standard normal before training).  After training::

    L_post = rho * T + sqrt(1 - rho^2) * N(0, 1) + delta_s        rho = 0.7

so ``delta_s`` is the training effect in pre-training SD units.  Likert and
ordinal items are ordered-probit functions of ``L``; knowledge items (keyed)
follow a two-parameter logistic model ``P(correct) = expit(a_j (theta - b_j))``
with the shift of ``theta`` solved so that the expected number of correct
answers rises by the stated number of items.  Reaction items (Kirkpatrick
level 1) are asked only after training (code ``not_asked`` before).  About 10%
are lost to follow-up (more among those less confident before training).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..codebook import Codebook, Scale
from ._common import codes_of, draw_categorical, keyword, missing_code, stable_rng
from ._common import threshold_index
from ._items import apply_missing, categories_to_codes, format_date_column, generic_column, item_parameters
from ._push_pull import scale_scores

#: Training effects: latent shift in pre-training SD units; knowledge in items.
EFFECTS = {"confidence": 0.5, "human_rights": 0.3, "practice": 0.2, "dynamic_security": 0.35}
KNOWLEDGE_GAIN_ITEMS = 1.2
DEFAULT_EFFECT = 0.3
DIFFICULTY = {"confidence": 0.1, "human_rights": -0.5, "dynamic_security": -0.4, "practice": 0.2, "reaction": -0.9}
REACTION_MEAN = 0.3
RHO = 0.7
TRAIT_CORR = 0.4
LOSS_RATE = 0.10
LOSS_SLOPE = -0.3           # log-odds of loss per SD of pre-training confidence
DK_OPTION_SHARE = 0.35      # wrong answers that are the "I don't know" option
STAFF_BY_COUNTRY = {1: 0.4, 2: 0.3, 3: 0.3}
WOMEN_SHARE = {1: 0.25, 2: 0.20, 3: 0.35}
AGE_P = np.array([0.10, 0.35, 0.30, 0.18, 0.07])
ROLE_P = np.array([0.62, 0.15, 0.13, 0.10])
SERVICE_P = np.array([0.20, 0.30, 0.25, 0.25])
TRAINING_START = ("2021-03-01", "2022-06-30")
FOLLOW_UP_DAYS = 90


def _kind(scale: Scale, cb: Codebook) -> str:
    items = [cb.item(i) for i in scale.items]
    if all(it.key is not None for it in items):
        return "knowledge"
    if scale.extra.get("kirkpatrick") == 1 or keyword(scale.id, "reaction"):
        return "reaction"
    return "latent"


def _effect(scale_id: str) -> float:
    for k, v in EFFECTS.items():
        if keyword(scale_id, k):
            return v
    return DEFAULT_EFFECT


def _difficulty(scale_id: str) -> float:
    for k, v in DIFFICULTY.items():
        if keyword(scale_id, k):
            return v
    return 0.0


def _irt(cb: Codebook, scale: Scale) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([stable_rng("irt-a", cb.id, i).uniform(0.8, 1.6) for i in scale.items])
    b = np.array([stable_rng("irt-b", cb.id, i).uniform(-1.2, 0.8) for i in scale.items])
    return a, b


def _knowledge_shift(a: np.ndarray, b: np.ndarray, gain: float) -> float:
    """Shift of theta (~N(0,1)) that raises the expected number correct by ``gain``."""
    x, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()

    def expected(shift: float) -> float:
        return float((special.expit(a[None, :] * (x[:, None] + shift - b[None, :])).sum(axis=1) * w).sum())

    base = expected(0.0)
    target = min(base + gain, len(a) - 1e-6)
    return float(optimize.brentq(lambda s: expected(s) - target, 0.0, 20.0))


class StaffModel:
    def __init__(self, cb: Codebook):
        self.cb = cb
        self.scales = list(cb.scales)
        self.kinds = {s.id: _kind(s, cb) for s in self.scales}
        self.latent_ids = [s.id for s in self.scales if self.kinds[s.id] != "reaction"]
        k = len(self.latent_ids)
        self.chol = np.linalg.cholesky(TRAIT_CORR * np.ones((k, k)) + (1 - TRAIT_CORR) * np.eye(k))
        self.delta = {}
        self.irt = {}
        for s in self.scales:
            if self.kinds[s.id] == "knowledge":
                a, b = _irt(cb, s)
                self.irt[s.id] = (a, b)
                self.delta[s.id] = _knowledge_shift(a, b, KNOWLEDGE_GAIN_ITEMS)
            elif self.kinds[s.id] == "latent":
                self.delta[s.id] = _effect(s.id)
        self.params = {}
        for s in self.scales:
            if self.kinds[s.id] != "knowledge":
                items = [cb.item(i) for i in s.items]
                self.params[s.id] = (items, item_parameters(cb, items, difficulty=_difficulty(s.id)))

    def latent(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.latent_ids)
        pre = rng.standard_normal((n, k)) @ self.chol.T
        post = RHO * pre + np.sqrt(1 - RHO**2) * rng.standard_normal((n, k))
        post = post + np.array([self.delta[s] for s in self.latent_ids])
        return pre, post

    def answers(self, lat: np.ndarray, wave: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n = len(lat)
        out: dict[str, np.ndarray] = {}
        for s in self.scales:
            kind = self.kinds[s.id]
            if kind == "knowledge":
                a, b = self.irt[s.id]
                theta = lat[:, self.latent_ids.index(s.id)]
                correct = rng.random((n, len(a))) < special.expit(a * (theta[:, None] - b))
                for j, iid in enumerate(s.items):
                    it = self.cb.item(iid)
                    key = np.nan if it.key is None else it.key  # an item without a key: no right answer
                    codes = np.asarray(codes_of(it))
                    dk = [c for c, lab in it.options.items() if keyword(lab.get("en", ""), "don't know", "do not know")]
                    wrong = [c for c in codes if c != key and c not in dk]
                    pick_dk = (rng.random(n) < DK_OPTION_SHARE) & bool(dk)
                    w = np.asarray(wrong)[rng.integers(0, len(wrong), n)] if wrong else np.full(n, key)
                    ans = np.where(correct[:, j], key, np.where(pick_dk, dk[0] if dk else 0, w)).astype(float)
                    out[iid] = ans
                continue
            items, par = self.params[s.id]
            if kind == "reaction":
                eta = REACTION_MEAN + rng.standard_normal(n)
            else:
                eta = lat[:, self.latent_ids.index(s.id)]
            lam = par["loadings"]
            ystar = eta[:, None] * lam + np.sqrt(1 - lam**2) * rng.standard_normal((n, len(items)))
            idx = threshold_index(ystar, par["thresholds"])
            codes = categories_to_codes(idx, items)
            codes, _ = apply_missing(codes, items, rng, dont_know=0.02, refused=0.005, missing=0.0, blank=0.001)
            if kind == "reaction":
                pre = wave == 1
                for j, it in enumerate(items):
                    na = missing_code(it, "not_asked")
                    codes[pre, j] = np.nan if na is None else float(na)
            for j, it in enumerate(items):
                out[it.id] = codes[:, j]
        return out


def generate(cb: Codebook, prisons: pd.DataFrame, sampled: pd.DataFrame, n_staff: int,
             rng: np.random.Generator, *, pseudonymise, truth_staff: int = 20_000
             ) -> tuple[pd.DataFrame, dict[str, Any]]:
    model = StaffModel(cb)
    countries = draw_categorical(rng, n_staff, (1, 2, 3), list(STAFF_BY_COUNTRY.values()))
    countries.sort(kind="stable")
    n = n_staff
    women = rng.random(n) < np.vectorize(WOMEN_SHARE.get)(countries)
    staff = pd.DataFrame({
        "country": countries,
        "gender": np.where(women, 2, 1),
        "age_band": draw_categorical(rng, n, range(1, 6), AGE_P),
        "staff_role": draw_categorical(rng, n, range(1, 5), ROLE_P),
        "service_band": draw_categorical(rng, n, range(1, 5), SERVICE_P),
    })
    # Staff come from the sampled prisons (trained in cohorts of about 25).
    pid = np.empty(n, dtype=object)
    for c in (1, 2, 3):
        m = countries == c
        sub = sampled[sampled["country"] == c]
        w = sub["staff_count"].to_numpy(dtype=float)
        pid[m] = sub["prison_id"].to_numpy()[draw_categorical(rng, int(m.sum()), range(len(sub)), w)]
    staff["prison_id"] = pid
    cohort = np.arange(n) // 25
    starts = _cohort_starts(rng, cohort.max() + 1)
    staff["start"] = starts[cohort] + rng.integers(0, 2, n).astype("timedelta64[D]")
    pre, post = model.latent(n, rng)
    conf = model.latent_ids.index("confidence") if "confidence" in model.latent_ids else 0
    lost = rng.random(n) < special.expit(special.logit(LOSS_RATE) + LOSS_SLOPE * pre[:, conf])
    keys = np.array([f"STAFF-{c}-{i:05d}" for i, c in enumerate(countries, start=1)], dtype=object)

    rows_pre = np.arange(n)
    rows_post = np.flatnonzero(~lost)
    row_staff = np.concatenate([rows_pre, rows_post])
    wave = np.concatenate([np.ones(n, dtype=np.int64), np.full(len(rows_post), 2)])
    lat = np.concatenate([pre, post[rows_post]])
    ans = model.answers(lat, wave, rng)
    dates = staff["start"].to_numpy()[row_staff] + np.where(
        wave == 2, FOLLOW_UP_DAYS + rng.integers(-10, 11, len(wave)), 0).astype("timedelta64[D]")
    order = np.lexsort((wave, row_staff, dates))
    staff_ids = pseudonymise(keys)
    resp_ids = pseudonymise([f"ST-{keys[s]}-W{w}" for s, w in zip(row_staff, wave)])
    cols: dict[str, Any] = {}
    for item in cb.items:
        iid = item.id
        if iid == cb.id_column:
            cols[iid] = resp_ids
        elif iid == "staff_id":
            cols[iid] = staff_ids[row_staff]
        elif iid == "wave":
            cols[iid] = wave.astype(float)
        elif iid in ans:
            cols[iid] = ans[iid]
        elif iid in staff.columns and iid != "start":
            v = staff[iid].to_numpy()[row_staff]
            cols[iid] = v if item.type == "text" else v.astype(float)
        elif item.type == "date":
            cols[iid] = format_date_column(dates, item)
        else:
            cols[iid] = generic_column(item, len(wave), rng)
    frame = pd.DataFrame(cols).iloc[order].reset_index(drop=True)
    truth = _truth(model, rng, truth_staff, n, int(lost.sum()))
    return frame, truth


def _cohort_starts(rng: np.random.Generator, k: int) -> np.ndarray:
    a, b = (np.datetime64(d, "D") for d in TRAINING_START)
    days = np.sort(rng.integers(0, int((b - a).astype(int)) + 1, k))
    return a + days.astype("timedelta64[D]")


def _truth(model: StaffModel, rng: np.random.Generator, rows: int, n: int, lost: int) -> dict[str, Any]:
    """Training effects, and their expected size on observed scale scores (large simulation)."""
    pre, post = model.latent(rows, rng)
    conf = model.latent_ids.index("confidence") if "confidence" in model.latent_ids else 0
    kept = rng.random(rows) >= special.expit(special.logit(LOSS_RATE) + LOSS_SLOPE * pre[:, conf])
    a_pre = scale_scores(pd.DataFrame(model.answers(pre, np.ones(rows, dtype=np.int64), rng)), model.cb)
    a_post = scale_scores(pd.DataFrame(model.answers(post, np.full(rows, 2), rng)), model.cb)
    a_pre, a_post = a_pre[kept], a_post[kept]
    effects = {}
    for s in model.scales:
        kind = model.kinds[s.id]
        entry: dict[str, Any] = {"kind": kind, "kirkpatrick": s.extra.get("kirkpatrick")}
        if kind == "reaction":
            entry["note"] = "asked only after training; items coded not_asked before"
            entry["expected_post_mean"] = float(np.nanmean(a_post[s.id]))
            effects[s.id] = entry
            continue
        d = a_post[s.id].to_numpy() - a_pre[s.id].to_numpy()
        d = d[~np.isnan(d)]
        entry["latent_shift_sd"] = float(model.delta[s.id])
        if kind == "knowledge":
            entry["gain_items"] = KNOWLEDGE_GAIN_ITEMS
            a, b = model.irt[s.id]
            entry["irt_discrimination"] = a.tolist()
            entry["irt_difficulty"] = b.tolist()
        entry["expected_mean_difference"] = float(d.mean())
        entry["expected_sd_difference"] = float(d.std(ddof=1))
        entry["expected_cohens_dz"] = float(d.mean() / d.std(ddof=1))
        entry["expected_pre_mean"] = float(np.nanmean(a_pre[s.id]))
        entry["expected_post_mean"] = float(np.nanmean(a_post[s.id]))
        effects[s.id] = entry
    return {
        "staff": n,
        "lost_to_follow_up": lost,
        "loss_model": f"expit(logit({LOSS_RATE}) + {LOSS_SLOPE} * pre-training confidence latent)",
        "model": (f"L_post = {RHO} * L_pre + sqrt(1 - {RHO}^2) * N(0,1) + shift; traits correlated "
                  f"{TRAIT_CORR}; items ordered-probit of L; knowledge 2PL"),
        "effects": effects,
        "staff_simulated": rows,
        "expected_notes": ("expected_mean_difference: post minus pre scale score (prorated mean, or sum for "
                           "sum scales) among staff with both waves scored, under the same loss to follow-up; "
                           "pre/post means are among those followed up"),
    }
