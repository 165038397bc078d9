"""A realistic, seeded synthetic demo study with known ground truth.

:func:`simulate` builds the prison estate of Kazakhstan, Tunisia and Uganda in
proportion to the published figures (prisons, prisoners, women, violent
extremist prisoners, occupancy, remand), samples prisons and people, and
generates every instrument of ``surveys/`` *from its codebook*: each item
column the codebook defines, with its option codes, missing codes, reverse
keys and roles.  Known effects go into ``truth``:

* **sample design** -- per country every women's prison and the prisons holding
  most VEPs are taken, the others drawn with probability proportional to size
  (systematic PPS); VEPs and other prisoners at different rates; women answer
  less often.  The survey carries ``stratum``, ``prisons_in_stratum``,
  ``prisoners_in_prison`` and ``weight``; ``truth["push_pull"]["population"]``
  holds the population values (scale means, shares agreeing, exact shares by
  country, gender, prison type and VEP status) that design-based estimates
  recover and naive ones miss.
* **push_pull** -- latent push/pull/protective domain scores (correlated, with
  prison random effects and facility effects of occupancy and dynamic
  security) drive ordered-probit items with known loadings; violence
  endorsement has known effects of the domains and of occupancy.
* **rna** -- two assessors rate each case (0/1/2) from a latent true level
  plus assessor error, with known expected ICC and weighted kappa; a final
  judgement that depends on latent risk, not on the item sums; a latent VEP
  typology (leaders, facilitators, followers, marginal members).
* **staff** -- pre/post training survey with known effects per scale.
* **climate** -- one audit row per prison (366).
* **followup** -- released persons with selection into a programme on risk
  and a known programme hazard ratio on time to re-arrest.

:func:`generate` writes the files users receive into ``<study>/data/``
(CSV with BOM, SPSS .sav, .xlsx, CSV) with ``truth.json`` and
``typology_truth.csv``.

Everything here is synthetic.  Pseudonyms use a fixed, public demo key
(:data:`DEMO_KEY`) that must never be used for real data.

>>> from veplab.synth import simulate
>>> study = simulate(scale="demo", seed=20261121)                # doctest: +SKIP
>>> study.frames["push_pull"].shape                              # doctest: +SKIP
(1239, 54)
>>> study.truth["followup"]["programme_hr"]                      # doctest: +SKIP
0.65
>>> from veplab.synth import generate
>>> generate("research/demo").paths["push_pull"]                 # doctest: +SKIP
PosixPath('.../research/demo/data/push_pull.csv')
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validate import InputError, check_choice
from ..codebook import Codebook
from ..codebook import from_dict
from ..codebook import load as _load_codebook
from . import _climate, _followup, _push_pull, _rna, _staff
from ._common import DEMO_KEY
from ._people import build_roster
from ._population import COUNTRIES, PRISON_TYPES, build_prisons, population_figures, sample_prisons

if TYPE_CHECKING:
    from ..study import Source

__all__ = [
    "DEMO_KEY",
    "DEFAULT_SEED",
    "INSTRUMENTS",
    "SIZES",
    "SynthStudy",
    "simulate",
    "generate",
    "pseudonym",
    "population_truth",
]

DEFAULT_SEED = 20261121
#: Instrument (codebook file stem) -> source name in the demo study.
INSTRUMENTS = {
    "push_pull": "push_pull",
    "rna_tool": "rna",
    "staff_training": "staff",
    "prison_climate": "climate",
    "release_followup": "followup",
}

#: Default sizes by scale; ``simulate(sizes=...)`` overrides single entries.
SIZES: dict[str, dict[str, Any]] = {
    "demo": {
        "prisons_per_country": 8,        # sampled prisons (None: every prison)
        "vep_per_country": 90,           # VEPs taken per country (None: all in sampled prisons)
        "gen_per_prison": 42,            # general-population respondents per sampled prison
        "gen_women_per_country": 40,     # ... in women's prisons (all taken), per country, shared by size
        "gen_fraction": None,            # or a fraction of every prison's non-VEP prisoners
        "rna_gen_per_country": 15,       # general-population prisoners assessed for comparison
        "assessors_per_country": 10,
        "staff": 500,
        "followup": 1500,
        "followup_vep_share": 0.10,
        "followup_linked": 40,           # released persons who are RNA cases (same pseudonym)
        "vep_response": 0.85,            # share of the VEPs taken who answer the survey
        "women_response": 0.7,           # women answer less often (times vep_response for women VEPs)
    },
    "national": {
        "prisons_per_country": None,
        "vep_per_country": None,
        "gen_per_prison": None,
        "gen_women_per_country": None,
        "gen_fraction": 1.0,             # a census: every prisoner of every prison (128,831)
        "rna_gen_per_country": 150,
        "assessors_per_country": 25,
        "staff": 6500,
        "followup": 16000,
        "followup_vep_share": 0.03,
        "followup_linked": 300,
        "vep_response": 1.0,
        "women_response": 1.0,
    },
}


def pseudonym(value: str, key: bytes = DEMO_KEY) -> str:
    """The veplab pseudonym of ``value`` (:func:`veplab.privacy.pseudonyms.pseudonym`).

    ``"p_"`` + 26 lowercase base32 characters of HMAC-SHA256; a value that
    normalises to nothing (an empty id) has no pseudonym and is refused.

    ``pseudonym = "p_" + base32(HMAC-SHA256(key, normalised id))[:26]``,
    lower-cased; the id is normalised first (trimmed, case-folded), so
    ``" kz-000123 "`` and ``"KZ-000123"`` give the same pseudonym.  The default
    key is the public demo key :data:`DEMO_KEY`: synthetic data only.

    Parameters
    ----------
    value : str
        A (synthetic) person or case id.
    key : bytes
        The pseudonymisation key.

    Returns
    -------
    str

    Raises
    ------
    InputError
        For an id that normalises to nothing.

    References
    ----------
    Krawczyk, H., Bellare, M. & Canetti, R. (1997). RFC 2104, *HMAC:
    Keyed-Hashing for Message Authentication*.
    NIST (2015), FIPS 180-4, *Secure Hash Standard* (SHA-256).
    Josefsson, S. (2006). RFC 4648, *The Base16, Base32, and Base64 Data
    Encodings*.

    Examples
    --------
    >>> pseudonym("KZ-000123")
    'p_hqjskj2e25yz72hrrgdumxtkw4'
    >>> pseudonym(" kz-000123 ") == pseudonym("KZ-000123")
    True
    >>> pseudonym("   ")
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: synth: an empty id ('   ') has no pseudonym
    """
    from ..privacy.pseudonyms import pseudonym as _p

    out = _p(value, key)
    if out is None:
        raise InputError(f"synth: an empty id ({value!r}) has no pseudonym")
    return out


def _pseudonymiser(key: bytes) -> Callable[[Any], np.ndarray]:
    def apply(values: Any) -> np.ndarray:
        cache: dict[str, str] = {}
        values = list(values)
        out = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            s = str(v)
            if s not in cache:
                cache[s] = pseudonym(s, key)
            out[i] = cache[s]
        return out

    return apply


@dataclasses.dataclass
class SynthStudy:
    """A simulated study: the sources as users receive them, and the truth.

    ``frames`` maps source name (push_pull, rna, staff, climate, followup)
    to the export's DataFrame (raw codes, missing codes included, dates as
    ISO text); ``truth`` holds every known parameter and expectation (what
    ``truth.json`` holds); ``prisons`` is the full estate with its facility
    latents; ``latent`` holds per-row latent scores for tests (push_pull),
    ``typology`` the latent class of every assessed case.  ``paths`` is
    filled by :func:`generate`.
    """

    seed: int
    scale: str
    sizes: dict[str, Any]
    frames: dict[str, pd.DataFrame]
    truth: dict[str, Any]
    prisons: pd.DataFrame
    latent: dict[str, pd.DataFrame]
    typology: pd.DataFrame
    codebooks: dict[str, Codebook]
    paths: dict[str, Path] = dataclasses.field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    @property
    def push_pull(self) -> pd.DataFrame:
        return self.frames["push_pull"]

    @property
    def rna(self) -> pd.DataFrame:
        return self.frames["rna"]

    @property
    def staff(self) -> pd.DataFrame:
        return self.frames["staff"]

    @property
    def climate(self) -> pd.DataFrame:
        return self.frames["climate"]

    @property
    def followup(self) -> pd.DataFrame:
        return self.frames["followup"]

    def summary(self) -> str:
        lines = [f"SynthStudy(scale={self.scale!r}, seed={self.seed})"]
        for name, df in self.frames.items():
            lines.append(f"  {name:<10} {len(df):>7} rows x {df.shape[1]} columns")
        return "\n".join(lines)


def _find_surveys(start: Path | None = None) -> Path:
    candidates = []
    if start is not None:
        candidates.append(Path(start).resolve())
    candidates += [Path.cwd().resolve(), Path(__file__).resolve().parent]
    for c in candidates:
        for folder in (c, *c.parents):
            if (folder / "surveys" / "push_pull.yml").is_file():
                return folder / "surveys"
    raise InputError(
        "cannot find the instrument codebooks (a surveys/ folder holding push_pull.yml) above "
        f"{Path.cwd()}; run from the veplab repository or pass codebooks= (a folder or a mapping)"
    )


def load_codebook(path: str | Path) -> Codebook:
    """:func:`veplab.codebook.load`, parsing with libyaml when it is available.

    The pure-Python YAML parser takes most of a demo run's time; the C parser
    gives the same mapping.  Any problem is reported by the regular loader.
    """
    import hashlib

    import yaml

    path = Path(path)
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None or not path.is_file():
        return _load_codebook(path)
    try:
        data = path.read_bytes()
        raw = yaml.load(data.decode("utf-8-sig"), Loader=loader)
        return from_dict(raw, file=str(path), sha256=hashlib.sha256(data).hexdigest())
    except Exception:
        return _load_codebook(path)


def _codebooks(codebooks: Any) -> dict[str, Codebook]:
    if isinstance(codebooks, Mapping):
        out = {}
        for name in INSTRUMENTS:
            if name not in codebooks:
                raise InputError(f"codebooks= has no entry {name!r}; give all of {', '.join(INSTRUMENTS)}")
            cb = codebooks[name]
            out[name] = cb if isinstance(cb, Codebook) else load_codebook(cb)
        return out
    folder = _find_surveys() if codebooks is None else Path(codebooks)
    missing = [n for n in INSTRUMENTS if not (folder / f"{n}.yml").is_file()]
    if missing:
        raise InputError(f"codebooks folder {folder} lacks {', '.join(m + '.yml' for m in missing)}")
    return {name: load_codebook(folder / f"{name}.yml") for name in INSTRUMENTS}


def _sizes(scale: str, sizes: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(SIZES[scale])
    for k, v in (sizes or {}).items():
        if k not in out:
            raise InputError(f"sizes has unknown entry {k!r}; known entries: {', '.join(out)}")
        out[k] = v
    if out["assessors_per_country"] is None or out["assessors_per_country"] < 2:
        raise InputError("sizes['assessors_per_country'] must be at least 2 (two assessors rate each case)")
    for k in ("staff", "followup"):
        if not isinstance(out[k], (int, np.integer)) or out[k] < 10:
            raise InputError(f"sizes[{k!r}] must be a whole number of at least 10, got {out[k]!r}")
    return out


def simulate(
    *,
    scale: str = "demo",
    seed: int = DEFAULT_SEED,
    sizes: Mapping[str, Any] | None = None,
    codebooks: Any = None,
    key: bytes = DEMO_KEY,
    progress: Callable[[str, int, int], None] | None = None,
) -> SynthStudy:
    """Simulate the whole study (pure: nothing is written).

    Parameters
    ----------
    scale : "demo" (about 1,200 survey respondents, seconds) or "national"
        (a census of every prisoner of every prison at the published sizes:
        128,831 survey rows, of them Uganda's 70,119 in 254 prisons).
    seed : the random seed; same seed, same data.  Model parameters (item
        loadings, effects) do not depend on it.
    sizes : override entries of :data:`SIZES` (e.g. ``{"staff": 200}``).
    codebooks : ``None`` (the repository's ``surveys/``), a folder, or a
        mapping instrument name -> :class:`~veplab.codebook.Codebook` or path.
    key : pseudonymisation key (the public demo key by default).
    progress : optional ``callback(step, done, total)``.

    Returns
    -------
    SynthStudy
        ``frames`` (one DataFrame per source: push_pull, rna, staff, climate,
        followup), ``truth`` (every known effect and population value, what
        the analyses should recover), ``typology`` and ``prisons``.

    Raises
    ------
    InputError
        For an unknown scale, a bad seed or a ``sizes`` entry out of range.

    Notes
    -----
    Items are ordered-probit responses to latent domain scores with known
    loadings (``y* = lambda * eta + e``, cut at fixed thresholds); the
    follow-up has a known programme hazard ratio (``h(t) = h0(t) exp(log(HR)
    programme + ...)``); prisons are sampled with probability proportional to
    size (systematic PPS), and the survey carries the design weights
    ``weight = 1 / (P(prison) P(person | prison))`` times the inverse response rate
    within prison and VEP status.

    References
    ----------
    World Prison Brief (2022), Institute for Crime & Justice Policy Research,
    https://www.prisonstudies.org (prison populations, women, occupancy,
    remand, by country).
    Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed. Wiley (systematic
    PPS selection, design weights).
    Burton, A., Altman, D. G., Royston, P. & Holder, R. L. (2006). The design
    of simulation studies in medical statistics. *Statistics in Medicine*
    25(24), 4279-4292 (data with known truth).

    Examples
    --------
    Checked before anything is simulated:

    >>> simulate(sizes={"staff": 5})
    Traceback (most recent call last):
    ...
    veplab._validate.InputError: sizes['staff'] must be a whole number of at least 10, got 5

    The demo study takes a few seconds (the population values in ``truth``
    are computed over the whole simulated estate of about 129,000 prisoners),
    too long for an example run with the tests:

    >>> study = simulate(scale="demo", seed=20261121)          # doctest: +SKIP
    >>> study.frames["push_pull"].shape                        # doctest: +SKIP
    (1239, 54)
    >>> study.truth["followup"]["programme_hr"]                # doctest: +SKIP
    0.65
    """
    check_choice(scale, "scale", tuple(SIZES))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative whole number, got {seed!r}")
    sz = _sizes(scale, sizes)
    cbs = _codebooks(codebooks)
    steps = ["prisons", "push_pull", "rna", "staff", "climate", "followup"]
    total = len(steps)

    def tick(i: int) -> None:
        if progress is not None:
            progress(steps[min(i, total - 1)], i, total)

    streams = np.random.SeedSequence(int(seed)).spawn(8)
    rngs = [np.random.default_rng(s) for s in streams]
    pseudonymise = _pseudonymiser(key)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    tick(0)
    prisons = build_prisons(rngs[0])
    sampled = sample_prisons(prisons, sz["prisons_per_country"], sz["vep_per_country"], rngs[1])
    roster = build_roster(
        sampled, vep_per_country=sz["vep_per_country"], gen_per_prison=sz["gen_per_prison"],
        gen_fraction=sz["gen_fraction"], rna_gen_per_country=sz["rna_gen_per_country"], rng=rngs[1],
        gen_women_per_country=sz["gen_women_per_country"],
    )
    timings["prisons"] = time.perf_counter() - t0

    tick(1)
    t = time.perf_counter()
    pp, pp_latent, pp_truth = _push_pull.generate(cbs["push_pull"], roster, prisons, rngs[2],
                                                  pseudonymise=pseudonymise,
                                                  vep_response=float(sz["vep_response"]),
                                                  women_response=float(sz["women_response"]),
                                                  truth_rng=rngs[7])
    timings["push_pull"] = time.perf_counter() - t

    tick(2)
    t = time.perf_counter()
    rna, typology, rna_truth = _rna.generate(cbs["rna_tool"], roster, rngs[3], pseudonymise=pseudonymise,
                                             raters_per_country=int(sz["assessors_per_country"]))
    extra = rna_truth.pop("_extra")
    timings["rna"] = time.perf_counter() - t

    tick(3)
    t = time.perf_counter()
    staff, staff_truth = _staff.generate(cbs["staff_training"], prisons, sampled, int(sz["staff"]), rngs[4],
                                         pseudonymise=pseudonymise)
    timings["staff"] = time.perf_counter() - t

    tick(4)
    t = time.perf_counter()
    climate, climate_truth = _climate.generate(cbs["prison_climate"], prisons, rngs[5])
    timings["climate"] = time.perf_counter() - t

    tick(5)
    t = time.perf_counter()
    linked = _linked_cases(roster, extra, min(int(sz["followup_linked"]), int(sz["followup"]) // 2), rngs[6])
    followup, fu_truth = _followup.generate(
        cbs["release_followup"], prisons, int(sz["followup"]), float(sz["followup_vep_share"]), rngs[6],
        pseudonymise=pseudonymise, rna_model=_rna.RnaModel(cbs["rna_tool"]), linked=linked,
    )
    timings["followup"] = time.perf_counter() - t
    if progress is not None:
        progress("done", total, total)

    frames = {"push_pull": pp, "rna": rna, "staff": staff, "climate": climate, "followup": followup}
    truth = _truth(seed, scale, sz, prisons, sampled, roster, frames, cbs, pp_truth, rna_truth, staff_truth,
                   climate_truth, fu_truth, key)
    truth["timings_seconds"] = {k: round(v, 3) for k, v in timings.items()}
    return SynthStudy(seed=int(seed), scale=scale, sizes=sz, frames=frames, truth=truth, prisons=prisons,
                      latent={"push_pull": pp_latent}, typology=typology, codebooks=cbs)


def _linked_cases(roster: pd.DataFrame, extra: dict, n: int, rng: np.random.Generator) -> pd.DataFrame | None:
    """Assessed cases released during the follow-up window (same pseudonym in both files)."""
    keys = extra["case_keys"]
    n = min(n, len(keys))
    if n <= 0:
        return None
    pick = np.sort(rng.choice(len(keys), n, replace=False))
    assessed = roster[roster["draw"] != "survey"]      # a census surveys assessed prisoners too
    r = assessed.set_index("person_key").loc[keys[pick]]
    vep = r["vep_status"].to_numpy()
    mean = np.where(vep == 1, _followup.PRIOR_MEAN[1], _followup.PRIOR_MEAN[0])
    prior = np.minimum(rng.poisson(rng.gamma(_followup.PRIOR_DISPERSION, mean / _followup.PRIOR_DISPERSION)), 50)
    return pd.DataFrame({
        "country": r["country"].to_numpy(), "prison_id": r["prison_id"].to_numpy(),
        "gender": r["gender"].to_numpy(), "age_band": r["age_band"].to_numpy(), "vep_status": vep,
        "prior_convictions": prior, "risk": extra["judgement_first"][pick], "person_key": keys[pick],
    })


def _truth(seed, scale, sz, prisons, sampled, roster, frames, cbs, pp, rna, staff, climate, fu, key) -> dict[str, Any]:
    est = {}
    for code, spec in COUNTRIES.items():
        sub = prisons[prisons["country"] == code]
        est[spec.iso] = {
            "prisons": int(len(sub)),
            "prisoners": int(sub["population"].sum()),
            "women": int(sub["women"].sum()),
            "women_share": float(sub["women"].sum() / sub["population"].sum()),
            "veps": int(sub["veps"].sum()),
            "capacity": int(sub["capacity"].sum()),
            "occupancy_national": float(sub["population"].sum() / sub["capacity"].sum()),
            "occupancy_prison_mean": float(sub["occupancy"].mean()),
            "remand_share": float(sub["remand"].sum() / sub["population"].sum()),
            "staff": int(sub["staff_count"].sum()),
            "prisons_by_type": {PRISON_TYPES[t]: int((sub["prison_type"] == t).sum()) for t in PRISON_TYPES},
        }
    cols = ["prison_id", "country", "prison_type", "population", "women", "capacity", "occupancy", "remand_share",
            "staff_count", "veps", "occ_z", "dsi_z", "res_z"]
    return {
        "synthetic": True,
        "note": "Synthetic data with known truth, for demonstrations and tests only. No real person.",
        "seed": int(seed),
        "scale": scale,
        "sizes": {
            "settings": sz,
            "rows": {name: int(len(df)) for name, df in frames.items()},
            "sampled_prisons": {spec.iso: sampled.loc[sampled["country"] == c, "prison_id"].tolist()
                                for c, spec in COUNTRIES.items()},
        },
        "sample_design": {
            "prisons": ("per country: every women's prison and the prisons holding most VEPs taken with certainty "
                        "(stratum country x 10 + 1); the others drawn with probability proportional to their "
                        "population (systematic PPS, stratum country x 10 + 2)"),
            "people": ("VEPs in proportion to the VEPs each sampled prison holds; other prisoners a fixed number "
                       "per prison (in women's prisons a fixed number per country shared by size), so rates differ "
                       "between prisons"),
            "nonresponse": (f"VEPs answer with probability {sz['vep_response']}, others always; women's chance "
                            f"times {sz['women_response']}"),
            "weights": ("push_pull weight = 1 / (p_prison x p_person) x taken / answered in the prison x VEP status x "
                        "gender cell"),
            "study_yml": ("design: weights: weight, strata: stratum, fpc: [prisons_in_stratum, prisoners_in_prison] "
                          "with cluster prison_id; population.yml: prisoners by country and gender (the published "
                          "figures)"),
            "prisons_sampled": {str(int(k)): {"sampled": int(len(g)), "in_stratum": int(g["prisons_in_stratum"].iloc[0])}
                                for k, g in sampled.groupby("stratum")},
        },
        "pseudonyms": {
            "format": "p_ + 26 lowercase base32 characters of HMAC-SHA256 (veplab.privacy.pseudonyms.pseudonym)",
            "key": "the public synthetic demo key veplab.synth.DEMO_KEY -- never use it for real data",
            "linkage": ("rna case_id and release_followup person_id use the same pseudonym for the same person; "
                        "survey respondent ids are not linkable to assessments (participation must not affect "
                        "release decisions)"),
        },
        "codebooks": {name: {"id": cb.id, "version": cb.version, "sha256": cb.sha256} for name, cb in cbs.items()},
        "population": {"published": population_figures(), "synthetic_estate": est},
        "facility": {
            "occ_z": "(log(population / capacity) - mean) / SD over all 366 prisons",
            "occ_log_mean": float(prisons.attrs["occ_log_mean"]),
            "occ_log_sd": float(prisons.attrs["occ_log_sd"]),
            "dsi_z": ("dynamic security index: -0.5 z(log prisoners per staff) + country level + facility "
                      "culture, standardised over all 366 prisons"),
            "res_z": "material resources: country level + 0.3 dsi_z + facility, standardised",
            "prisons": prisons[cols].to_dict(orient="records"),
        },
        "push_pull": pp,
        "rna": rna,
        "staff": staff,
        "climate": climate,
        "followup": fu,
    }


def generate(
    study_dir: str | Path,
    *,
    scale: str = "demo",
    seed: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SynthStudy:
    """Simulate the study and write its files into ``<study_dir>/data/``.

    Reads ``<study_dir>/study.yml`` (via :func:`veplab.study.load_study`): the
    seed defaults to ``synth.seed`` (then ``seed``), and each source whose
    codebook is one of the instruments is written to its ``path`` in the
    format its extension names (.csv, .sav, .xlsx).  The push-pull CSV is
    written as Excel's "CSV UTF-8" (BOM, CRLF).  Also writes
    ``data/truth.json`` and ``data/typology_truth.csv``.
    Returns the :class:`SynthStudy` with ``paths`` filled in.

    Parameters
    ----------
    study_dir : str or Path
        A study folder whose study.yml names the sources.
    scale : {"demo", "national"}
    seed : int, optional
    progress : callable, optional
        ``callback(step, done, total)``.

    Returns
    -------
    SynthStudy

    Raises
    ------
    StudyError
        When study.yml is missing or invalid.
    InputError
        When a source's file type cannot be written.

    References
    ----------
    Shafranovich, Y. (2005). RFC 4180, *Common Format and MIME Type for
    Comma-Separated Values (CSV) Files*.
    IBM SPSS Statistics ``.sav`` written with ReadStat through pyreadstat,
    https://github.com/Roche/pyreadstat.
    ECMA-376 (2021), *Office Open XML File Formats* (XLSX).

    Examples
    --------
    >>> import tempfile
    >>> from veplab.study import StudyError
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         generate(folder)
    ...     except StudyError as error:
    ...         print(str(error).split(": ", 1)[1])
    study configuration not found (expected a study folder holding study.yml)

    Writing the demo study's data (a few seconds) is what ``make demo`` does:

    >>> generate("research/demo").paths["push_pull"]           # doctest: +SKIP
    PosixPath('research/demo/data/push_pull.csv')
    """
    from ..study import load_study
    from . import _write

    cfg = load_study(study_dir)
    if seed is None:
        seed = int(cfg.synth.get("seed", cfg.seed if cfg.seed else DEFAULT_SEED))
    sources: dict[str, tuple[str, Source]] = {}
    for name, src in cfg.sources.items():
        stem = Path(src.codebook_path).stem
        if stem in INSTRUMENTS:
            sources[stem] = (name, src)
    codebooks = {stem: load_codebook(src.codebook_path) for stem, (_, src) in sources.items()}
    if len(codebooks) < len(INSTRUMENTS):
        surveys = _find_surveys(cfg.folder)
        for stem in INSTRUMENTS:
            codebooks.setdefault(stem, load_codebook(surveys / f"{stem}.yml"))
    n_sim = 6                                    # simulate() reports six steps
    total = n_sim + len(INSTRUMENTS) + 1

    def sim_progress(step: str, done: int, _total: int) -> None:
        if progress is not None and step != "done":
            progress(step, done, total)

    study = simulate(scale=scale, seed=seed, codebooks=codebooks, progress=sim_progress)
    data_dir = cfg.folder / "data"
    paths: dict[str, Path] = {}
    for i, (stem, frame_name) in enumerate(INSTRUMENTS.items()):
        if progress is not None:
            progress(f"write {frame_name}", n_sim + i, total)
        name, source = sources.get(stem, (frame_name, None))
        path = Path(source.path) if source is not None and source.path is not None else data_dir / f"{stem}.csv"
        frame = study.frames[frame_name]
        cb = codebooks[stem]
        suffix = path.suffix.lower()
        if suffix in (".csv", ".txt"):
            _write.write_csv(frame, path, excel=(stem == "push_pull"))
        elif suffix in (".sav", ".zsav"):
            _write.write_sav(frame, path, cb)
        elif suffix in (".xlsx", ".xlsm"):
            _write.write_xlsx(frame, path, cb)
        elif suffix in (".parquet", ".pq"):
            path.parent.mkdir(parents=True, exist_ok=True)
            _write.export_frame(frame).to_parquet(path, index=False)
        else:
            raise InputError(f"source {name!r}: cannot write {path.suffix!r} files; use .csv, .sav, .xlsx or .parquet")
        paths[name] = path
    if progress is not None:
        progress("write truth", total - 1, total)
    _write.write_csv(study.typology, data_dir / "typology_truth.csv")
    paths["typology_truth"] = data_dir / "typology_truth.csv"
    truth = dict(study.truth)
    truth.pop("timings_seconds", None)
    truth["files"] = {k: str(Path(v).relative_to(cfg.folder)) if Path(v).is_relative_to(cfg.folder) else str(v)
                      for k, v in paths.items()}
    _write.write_json(truth, data_dir / "truth.json")
    paths["truth"] = data_dir / "truth.json"
    if progress is not None:
        progress("done", total, total)
    study.paths = paths
    return study


def population_truth(study: Any, source: str) -> dict[str, float] | None:
    """The population values of a synthetic study's source (``truth.json``), or None.

    Only a study that declares itself synthetic (``synth:`` in study.yml) and whose
    ``data/truth.json`` gives population values for ``source`` (written by
    :func:`generate`: the mean of every scale score and the share agreeing with every
    outcome item over the whole simulated prison population) has them; any other study
    gets None, so a page shows no truth column.

    Parameters
    ----------
    study : Study
        Anything with ``synth`` and ``folder``.
    source : str
        A source name.

    Returns
    -------
    dict of str to float, or None

    References
    ----------
    Morris, T. P., White, I. R. & Crowther, M. J. (2019). Using simulation
    studies to evaluate statistical methods. *Statistics in Medicine* 38(11),
    2074-2102 (estimates compared with the known truth).

    Examples
    --------
    >>> import json, tempfile, types
    >>> population_truth(type("S", (), {"synth": {}, "folder": Path(".")})(), "push_pull") is None
    True
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     (Path(folder) / "data").mkdir()
    ...     _ = (Path(folder) / "data" / "truth.json").write_text(json.dumps(
    ...         {"push_pull": {"population": {"overall": {"grievance": 2.71, "agree_violence": 0.08}}}}))
    ...     study = types.SimpleNamespace(synth={"scale": "demo"}, folder=Path(folder))
    ...     population_truth(study, "push_pull")
    {'grievance': 2.71, 'agree_violence': 0.08}
    """
    import json

    if not getattr(study, "synth", None):
        return None
    path = Path(study.folder) / "data" / "truth.json"
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    part = doc.get(source) if isinstance(doc, dict) else None
    values = part.get("population") if isinstance(part, dict) else None
    if not isinstance(values, dict) or not isinstance(values.get("overall"), dict):
        return None
    return {str(k): float(v) for k, v in values["overall"].items() if isinstance(v, (int, float))}

from .._doc import with_contents as _with_contents  # noqa: E402

__doc__ = _with_contents(__doc__, __all__, globals())
