"""Benchmark: simulated power on Dask -- replicates per second, overhead per task, bytes and memory per worker.

One grid point of a cluster-randomised design (``--design``: 12 prisons per arm
of 40 people, ICC 0.05, re-arrest rate 0.10, odds ratio 0.6, analysed by
``mixed_logit``; or ``--design linear``: the same with a mean difference of 0.3
and ``mixed_linear``), ``--reps`` replicates, timed

* in this process without Dask (``workers=0``): the cost of the replicates alone;
* on an embedded ``LocalCluster`` with 1 and with 2 single-threaded worker
  processes (cluster start-up timed apart, workers warmed up first);
* through an external ``dask scheduler`` with ``dask worker --nworkers 2``
  processes on 127.0.0.1, as a cluster would be used (``--scheduler``);

and reports replicates/s, the speed-up over one worker, the Dask overhead per
task (empty batches: submit to result, as tasks/s), the bytes pickled per
task (out and back) and the workers' resident memory after the run.  The
results of every run are checked to be identical (one stream per replicate).

Run:  .venv/bin/python benchmarks/bench_simulate.py [--reps 400] [--design logit|linear]
The machine's other load distorts the numbers: ``uptime`` is printed first.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

SPECS = {
    "logit": {"design": "cluster_randomised", "clusters_per_arm": 12, "cluster_size": 40, "icc": 0.05,
              "baseline": 0.10, "effect": {"odds_ratio": 0.6}, "analysis": "mixed_logit"},
    "linear": {"design": "cluster_randomised", "clusters_per_arm": 12, "cluster_size": 40, "icc": 0.05,
               "effect": {"mean_difference": 0.3}, "analysis": "mixed_linear"},
}


def _rss(_: object = None) -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _warm() -> bool:
    import veplab.simulate._replicate  # noqa: F401 - imports veplab's models on the worker
    import veplab.models.mixed  # noqa: F401
    import veplab.models.regression  # noqa: F401

    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed_run(spec, reps: int, client, label: str, base: float | None, ref) -> tuple[float, object]:
    from veplab.simulate import power

    t = time.perf_counter()
    res = power(spec, reps=reps, seed=1, client=client, workers=0 if client is None else None, cache=False)
    dt = time.perf_counter() - t
    if ref is not None:
        assert res.replicates.equals(ref.replicates), f"{label}: results differ"
    speed = f", x{base / dt:.2f} vs 1 worker" if base else ""
    print(f"  {label:<38} {dt:7.2f} s  {reps / dt:7.1f} replicates/s{speed}")
    return dt, res


def overhead(client, label: str, n: int = 400) -> None:
    from veplab.simulate._replicate import run_batch

    spec = {"design": "cluster_randomised", "analysis": "mixed_linear", "clusters_per_arm": 2, "cluster_size": 2,
            "cv": 0.0, "icc": 0.0, "effect": {"mean_difference": 0.1}, "sd": 1.0, "alpha": 0.05}
    client.gather([client.submit(run_batch, spec, 1, (1, 2), [], pure=False) for _ in range(20)])
    t = time.perf_counter()
    client.gather([client.submit(run_batch, spec, 1, (1, 2), [], pure=False) for _ in range(n)])
    dt = time.perf_counter() - t
    print(f"  {label:<38} {1e3 * dt / n:7.2f} ms per empty task ({n / dt:.0f} tasks/s, {n} submitted at once)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--design", choices=sorted(SPECS), default="logit")
    args = ap.parse_args()
    import distributed

    from veplab.simulate import expand
    from veplab.simulate._replicate import run_batch
    from veplab.simulate._spec import point_hash, spawn_key

    spec = SPECS[args.design]
    print(f"uptime: {os.getloadavg()[0]:.2f} load (1 min) on {os.cpu_count()} cores; {args.reps} replicates of "
          f"{spec['analysis']} on {2 * spec['clusters_per_arm']} x {spec['cluster_size']} people")
    pt = expand(spec)[0][0]
    key = spawn_key(point_hash(pt, 1))
    out = pickle.dumps((run_batch, pt, 1, key, list(range(50))))
    back = pickle.dumps(run_batch(pt, 1, key, list(range(50))))
    print(f"  a task of 50 replicates sends {len(out)} bytes and returns {len(back)} bytes (pickled)")

    _warm()
    _, ref = timed_run(spec, args.reps, None, "this process (no Dask)", None, None)

    base = None
    for n in (1, 2):
        t = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None, silence_logs=logging.ERROR)
        client = distributed.Client(cluster)
        start = time.perf_counter() - t
        t = time.perf_counter()
        client.run(_warm)
        print(f"  LocalCluster({n}): start {start:.2f} s, importing veplab on the workers {time.perf_counter() - t:.2f} s")
        dt, _ = timed_run(spec, args.reps, client, f"LocalCluster, {n} worker(s)", base, ref)
        base = base or dt
        overhead(client, f"LocalCluster, {n} worker(s)")
        rss = client.run(_rss)
        print(f"  worker memory after the run: {', '.join(f'{v / 2**20:.0f} MB' for v in rss.values())}")
        client.close()
        cluster.close()

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    bin_dir = Path(sys.executable).parent
    procs = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        procs.append(subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nworkers", "2", "--nthreads",
                                       "1", "--no-dashboard", "--host", "127.0.0.1"], env=env,
                                      stderr=subprocess.DEVNULL, start_new_session=True))
        client = distributed.Client(address, timeout="60s")
        client.wait_for_workers(2, timeout=120)
        client.run(_warm)
        timed_run(spec, args.reps, address, "external scheduler, 2 workers", base, ref)
        overhead(client, "external scheduler, 2 workers")
        client.close()
    finally:
        for p in procs[::-1]:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)


if __name__ == "__main__":
    main()
