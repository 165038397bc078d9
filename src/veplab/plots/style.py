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

    The style file ``veplab.mplstyle`` sets fonts, sizes and a colour cycle
    starting with the Okabe-Ito colours (told apart by colour-blind readers,
    and by hatch or marker in greyscale); SVG ids are salted
    (``svg.hashsalt``) so that re-rendering a chart gives the same file.  The
    Agg backend is selected when no backend is set (nothing opens a window).
    Every chart of :mod:`veplab.plots` calls it, so a chart looks the same in a
    notebook, on a report page and in a brief.

    Returns
    -------
    None

    References
    ----------
    Hunter JD (2007). Matplotlib: a 2D graphics environment. Computing in Science & Engineering
    9(3), 90-95.
    Matplotlib documentation: Customizing Matplotlib with style sheets and rcParams
    (matplotlib.org).
    Okabe M, Ito K (2008). Color Universal Design (CUD): how to make figures and presentations
    that are friendly to colorblind people. J*Fly (jfly.uni-koeln.de/color).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> use_style()
    >>> plt.rcParams["svg.hashsalt"], plt.rcParams["axes.prop_cycle"].by_key()["color"][:3]
    ('veplab', ['#0072B2', '#E69F00', '#009E73'])
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with resources.as_file(resources.files(__package__) / "veplab.mplstyle") as path:
        plt.style.use(str(path))
    plt.rcParams["svg.hashsalt"] = "veplab"
