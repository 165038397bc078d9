"""One parameter vocabulary across veplab's public functions.

``ci`` is always the level of an interval (0.95, never 95 or 0.05), ``seed``
seeds the random numbers, ``n_boot`` counts bootstrap resamples, ``weights``
and ``cluster`` name columns or arrays the same way everywhere.  Other names
for these ideas (R's ``conf.level`` spelled ``conf_level``, scikit-learn's
``random_state`` ...) are refused, except as deprecated aliases that default
to ``None`` and warn.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from test_docstrings import public_functions

#: Names that mean one of the vocabulary's ideas under another spelling.
OTHER_SPELLINGS = {
    "conf_level": "ci", "conf": "ci", "confidence": "ci", "conf_int": "ci", "ci_level": "ci",
    "random_state": "seed", "random_seed": "seed",
    "n_bootstrap": "n_boot", "nboot": "n_boot", "B": "n_boot", "n_resamples": "n_boot",
    "weight": "weights", "clusters": "cluster", "cluster_col": "cluster",
}

_PUBLIC = public_functions()
_PARAMS = [(name, p) for name, f in _PUBLIC.items() for p in inspect.signature(f).parameters.values()]


def test_no_other_spelling_except_deprecated_aliases() -> None:
    bad = [f"{name}({p.name}=): use {OTHER_SPELLINGS[p.name]}=" for name, p in _PARAMS
           if p.name in OTHER_SPELLINGS and p.default is not None]
    assert bad == []


def test_ci_is_a_level() -> None:
    bad = [f"{name}(ci={p.default!r})" for name, p in _PARAMS if p.name == "ci" and p.default is not None
           and p.default is not inspect.Parameter.empty
           and (isinstance(p.default, bool) or not isinstance(p.default, float) or not 0.5 <= p.default < 1)]
    assert bad == []
    assert sum(p.name == "ci" for _, p in _PARAMS) > 30


def test_seed_and_n_boot_defaults() -> None:
    bad = [f"{name}({p.name}={p.default!r})" for name, p in _PARAMS
           if (p.name == "seed" and p.default not in (None, inspect.Parameter.empty) and not isinstance(p.default, int))
           or (p.name == "n_boot" and p.default is not inspect.Parameter.empty
               and (isinstance(p.default, bool) or not isinstance(p.default, int) or p.default < 0))]
    assert bad == []


def test_mantel_haenszel_takes_ci_and_still_reads_conf_level() -> None:
    from veplab.validity import mantel_haenszel

    rng = np.random.default_rng(4)
    n = 600
    g = rng.integers(0, 2, n)
    s = rng.integers(0, 5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(s - 2 + 0.6 * g)))).astype(int)
    df = pd.DataFrame({"y": y, "g": g, "s": s})
    wide, narrow = mantel_haenszel(df, "y", "g", "s"), mantel_haenszel(df, "y", "g", "s", ci=0.80)
    assert narrow.ci == 0.80 and wide.ci == 0.95
    assert wide.ci_low < narrow.ci_low < narrow.odds_ratio < narrow.ci_high < wide.ci_high
    with pytest.warns(DeprecationWarning, match="ci="):
        old = mantel_haenszel(df, "y", "g", "s", conf_level=0.80)
    assert old.ci_low == pytest.approx(narrow.ci_low, rel=1e-12)
    with pytest.warns(DeprecationWarning):
        assert old.conf_level == 0.80
    with pytest.raises(Exception, match="ci must be between 0 and 1"):
        mantel_haenszel(df, "y", "g", "s", ci=95)
