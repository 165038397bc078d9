"""The contents list at the end of each subpackage's docstring (what ``help()`` shows first).

A hand-written overview goes stale as functions are added; this one is made
from ``__all__`` and each function's first docstring line when the package is
imported, so ``help(veplab.reliability)`` always lists everything it exports.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["with_contents"]


def _first_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ").strip()


def with_contents(doc: str | None, names: Sequence[str], namespace: Mapping[str, Any]) -> str:
    """``doc`` followed by a "Contents" section: one line per exported function and class.

    >>> def alpha():
    ...     '''Cronbach's alpha.'''
    >>> print(with_contents("Reliability.", ["alpha"], {"alpha": alpha}))
    Reliability.
    <BLANKLINE>
    Contents
    --------
    * ``alpha`` -- Cronbach's alpha.
    """
    funcs = [n for n in names if inspect.isfunction(namespace.get(n))]
    classes = [n for n in names if inspect.isclass(namespace.get(n))]
    lines = [(doc or "").rstrip(), "", "Contents", "--------"]
    lines += [f"* ``{n}`` -- {_first_line(namespace[n])}" for n in funcs]
    if classes:
        lines += ["", "Results and other classes: " + ", ".join(f"``{n}``" for n in classes) + "."]
    return "\n".join(lines)
