"""``python -m veplab.brief check-fonts``: are the briefs' fonts and WeasyPrint installed?

Exit status 0 when they are; otherwise 1, with the Debian package to install.
"""

from __future__ import annotations

import sys

from . import BriefError, check_fonts


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["check-fonts"]):
        print("usage: python -m veplab.brief check-fonts", file=sys.stderr)
        return 2
    try:
        found = check_fonts()
    except BriefError as exc:
        print(f"veplab.brief: {exc}", file=sys.stderr)
        return 1
    for family, path in found.items():
        print(f"{family}: {path}")
    print("WeasyPrint: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
