"""veplab: an open research workbench for studying radicalization to violence in
prisons and the management of violent extremist prisoners.

Modules: :mod:`veplab.codebook` (instrument codebooks), :mod:`veplab.data`
(loading and data quality), :mod:`veplab.scoring`, :mod:`veplab.synth`
(synthetic demo study), :mod:`veplab.study` (study configuration),
:mod:`veplab.cli` (the ``veplab`` command).
"""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("veplab")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
