"""veplab's chart style and the mark of a suppressed cell.

One place for both, so a notebook, a report page and a brief draw alike and a
suppressed value reads the same everywhere (the mark is the disclosure rules'
:data:`veplab.privacy.disclosure.DEFAULT_MARK`).
"""

from __future__ import annotations

from importlib import resources

from ..privacy.disclosure import DEFAULT_MARK

__all__ = ["MARK", "use_style"]

#: What a table or chart shows in place of a suppressed value.
MARK = DEFAULT_MARK


def use_style() -> None:
    """Apply the veplab matplotlib style (greyscale-readable, colour-blind safe).

    The style file ``veplab.mplstyle`` sets fonts, sizes and a black-and-grey
    cycle; SVG ids are salted so that re-rendering a chart gives the same file.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with resources.as_file(resources.files(__package__) / "veplab.mplstyle") as path:
        plt.style.use(str(path))
    plt.rcParams["svg.hashsalt"] = "veplab"
