"""Connecting to a Dask scheduler: one place for the build and the simulations.

Repetition-heavy work (a study's notebooks, simulation replicates) runs on
Dask's distributed scheduler.  :func:`connect` opens a client to a running
scheduler and turns a refused connection into an error that says how to start one.
"""

from __future__ import annotations

from typing import Any

from ._validate import InputError

__all__ = ["connect", "distributed_module"]


def distributed_module(what: str, error: type[Exception] = InputError, hint: str = "") -> Any:
    """``dask.distributed``, or ``error`` saying how to install it (``what`` names the caller)."""
    try:
        import distributed
    except ImportError:  # pragma: no cover - dask is in the build extra
        raise error(f"{what} needs dask.distributed: pip install 'dask[distributed]'{hint}") from None
    return distributed


def connect(address: str, what: str, error: type[Exception] = InputError) -> Any:
    """A ``distributed.Client`` connected to the scheduler at ``address`` (not set as the default client).

    Waits at most Dask's connect timeout (``distributed.comm.timeouts.connect``);
    a scheduler that cannot be reached raises ``error``, naming the address
    and the commands that start a scheduler and its workers.

    >>> connect("tcp://127.0.0.1:9", "simulate")  # doctest: +SKIP
    Traceback (most recent call last):
    InputError: simulate: cannot reach the Dask scheduler at tcp://127.0.0.1:9 (...); start one with ...
    """
    import dask

    distributed = distributed_module(what, error)
    try:
        return distributed.Client(address, timeout=dask.config.get("distributed.comm.timeouts.connect"),
                                  set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise error(f"{what}: cannot reach the Dask scheduler at {address} ({exc}); start one with "
                    f"`dask scheduler` and workers with `dask worker {address}`") from None
