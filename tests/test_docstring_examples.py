"""Every example in veplab's docstrings runs and prints what it says.

Examples that need files a reader does not have are marked
``# doctest: +SKIP``; everything else is executed here, module by module.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import veplab


def _modules() -> list[str]:
    names = [veplab.__name__]
    for info in pkgutil.walk_packages(veplab.__path__, prefix="veplab."):
        if info.name.endswith("__main__") or info.name in ("veplab.describe", "veplab.factors", "veplab.report.charts", "veplab.scoring"):
            continue  # deprecated aliases of modules tested under their own names
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, report=True)
    assert result.failed == 0, f"{result.failed} docstring example(s) in {name} failed (see the output above)"
