"""veplab.simulate: simulated power against the analytic formulas and R, determinism across workers,
resuming a killed run, a real Dask scheduler and worker, and the generator's ICC and rates."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from veplab._validate import InputError
from veplab.cli import app
from veplab.outcomes import power as analytic
from veplab.simulate import expand, power, replicate_rng
from veplab.simulate._replicate import run_batch
from veplab.simulate._spec import point_hash, spawn_key
from veplab.synth.clustered import binary_parameters, cluster_data, survival_parameters

ROOT = Path(__file__).resolve().parents[1]
RC = json.loads((ROOT / "tests" / "reference" / "power_cluster.json").read_text())
runner = CliRunner(env={"COLUMNS": "200"})
BIN = Path(sys.executable).parent

CONT = {"design": "cluster_randomised", "clusters_per_arm": 20, "cluster_size": 10, "icc": 0.05,
        "effect": {"mean_difference": 0.3}, "analysis": "mixed_linear"}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", COLUMNS="200")
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    return env


# --------------------------------------------------------------------------- streams and specs
def test_replicate_stream_is_the_spawned_child():
    key = spawn_key(point_hash({"a": 1}, 7))
    children = np.random.SeedSequence(7, spawn_key=key).spawn(5)
    for r in (0, 3, 4):
        assert replicate_rng(7, key, r).random(3).tolist() == np.random.default_rng(children[r]).random(3).tolist()


def test_grid_from_lists_and_point_hashes():
    pts, varying = expand({"design": "cluster_randomised", "clusters_per_arm": [8, 12, 16], "cluster_size": 40,
                           "icc": [0.02, 0.05], "baseline": 0.1, "effect": {"odds_ratio": [0.6, 0.8]}})
    assert len(pts) == 12 and varying == ["clusters_per_arm", "icc", "odds_ratio"]
    assert pts[0]["analysis"] == "mixed_logit" and pts[0]["effect"] == {"odds_ratio": 0.6}
    assert len({point_hash(p, 1) for p in pts}) == 12
    assert point_hash(pts[0], 1) != point_hash(pts[0], 2)


@pytest.mark.parametrize("bad, match", [
    ({"design": "stepped_wedge"}, "design must be one of"),
    ({"effect": {"risk_ratio": 0.5}}, "not one of odds_ratio"),
    ({"analysis": "cox_cluster"}, "does not fit design cluster_randomised"),
    ({"icc": 1.5}, r"icc must be a number in \[0, 1\)"),
    ({"clusters_per_arm": 1}, "clusters_per_arm must be a whole number"),
    ({"clusters_per_arm": 7.5}, "clusters_per_arm must be a whole number"),
    ({"baseline": None}, "needs baseline"),
    ({"colour": "red"}, "unknown spec key"),
    ({"effect": {"odds_ratio": -1}}, "odds_ratio must be positive"),
])
def test_bad_specs_are_clear_errors(bad, match):
    spec = {"design": "cluster_randomised", "clusters_per_arm": 8, "cluster_size": 20, "icc": 0.05,
            "baseline": 0.1, "effect": {"odds_ratio": 0.6}}
    spec.update(bad)
    spec = {k: v for k, v in spec.items() if v is not None}
    with pytest.raises(InputError, match=match):
        power(spec, reps=5, workers=0, cache=False)


def _has(text: str, output: str) -> bool:
    """``text`` in ``output`` whatever the console width did to line breaks."""
    return " ".join(text.split()) in " ".join(output.split())


def test_cli_bad_spec_is_one_line(tmp_path):
    f = tmp_path / "s.yml"
    f.write_text("design: cluster_randomised\nclusters_per_arm: 8\ncluster_size: 20\nicc: 2\nbaseline: 0.1\n"
                 "effect: {odds_ratio: 0.6}\n")
    res = runner.invoke(app, ["simulate", str(f), "--workers", "0", "--no-cache"])
    assert res.exit_code == 1 and _has("icc must be", res.output) and "Traceback" not in res.output
    res = runner.invoke(app, ["simulate", str(tmp_path / "none.yml"), "--workers", "0"])
    assert res.exit_code == 1 and _has("no spec file", res.output)
    res = runner.invoke(app, ["simulate", str(f), "--workers", "1", "--scheduler", "tcp://127.0.0.1:1"])
    assert res.exit_code == 1 and _has("not both", res.output)


# --------------------------------------------------------------------------- generator
def test_binary_generator_hits_rate_and_icc():
    par = binary_parameters(0.10, 0.05, 0.6)
    # the quadrature: control-arm mean and ICC as asked
    x, w = np.polynomial.hermite_e.hermegauss(80)
    p = 1 / (1 + np.exp(-(par["b0"] + par["tau"] * x)))
    w = w / w.sum()
    assert w @ p == pytest.approx(0.10, abs=1e-10)
    assert w @ (p - 0.10) ** 2 / 0.09 == pytest.approx(0.05, abs=1e-9)
    # and the data: 3000 clusters of 30, ANOVA estimate of the ICC in the control arm
    d = cluster_data(np.random.default_rng(5), design="cluster_randomised", clusters_per_arm=3000,
                     cluster_size=30, icc=0.05, baseline=0.10, effect={"odds_ratio": 0.6})
    c = d[d.arm == 0].groupby("cluster")["y"].agg(["mean", "var"])
    msb, msw = 30 * c["mean"].var(), c["var"].mean()
    assert (msb - msw) / (msb + 29 * msw) == pytest.approx(0.05, abs=0.006)
    assert c["mean"].mean() == pytest.approx(0.10, abs=0.003)
    assert d[d.arm == 1]["y"].mean() == pytest.approx(par["p1"], abs=0.003)
    assert binary_parameters(0.1, 0.0, 0.5)["p1"] == pytest.approx(0.05 / 0.95, rel=1e-12)


def test_survival_and_continuous_generators():
    par = survival_parameters(0.2, 0.05)
    d = cluster_data(np.random.default_rng(2), design="survival", clusters_per_arm=2000, cluster_size=20,
                     icc=0.05, baseline=0.2, effect={"hazard_ratio": 0.7})
    assert d[d.arm == 0]["event"].mean() == pytest.approx(0.2, abs=0.005)
    assert par["frailty_sd"] ** 2 / (par["frailty_sd"] ** 2 + np.pi ** 2 / 6) == pytest.approx(0.05)
    d = cluster_data(np.random.default_rng(3), design="cluster_randomised", clusters_per_arm=2000,
                     cluster_size=10, icc=0.1, cv=0.5, effect={"mean_difference": 0.25})
    sizes = d.groupby("cluster").size()
    assert sizes.mean() == pytest.approx(10, abs=0.2) and sizes.std() / sizes.mean() == pytest.approx(0.5, abs=0.03)
    assert d.y[d.arm == 1].mean() - d.y[d.arm == 0].mean() == pytest.approx(0.25, abs=0.03)
    assert d.y.var() == pytest.approx(1.0, abs=0.03)


# --------------------------------------------------------------------------- against the formulas
def test_simulated_power_agrees_with_the_cluster_formula():
    res = power(CONT, reps=300, seed=11, workers=0, cache=False)
    row = res.table.iloc[0]
    ana = analytic("cluster_two_sample", n=20, effect=0.3, icc=0.05, cluster_size=10).power
    assert row["analytic_power"] == pytest.approx(ana, rel=1e-12)
    mcse = np.sqrt(ana * (1 - ana) / 300)
    assert abs(row["power"] - ana) < 3 * mcse, (row["power"], ana)
    assert row["power_ci_low"] < row["power"] < row["power_ci_high"]
    assert abs(row["bias"]) < 3 * row["bias_mcse"] and row["n_failed"] == 0
    assert row["se_ratio"] == pytest.approx(1, abs=0.15)
    assert 0.9 < row["coverage"] <= 1


def test_simulated_power_with_icc_0_agrees_with_power_prop_test():
    spec = {"design": "cluster_randomised", "clusters_per_arm": 30, "cluster_size": 10, "icc": 0,
            "baseline": 0.10, "effect": {"odds_ratio": 0.5}, "analysis": "logit_cluster_robust"}
    res = power(spec, reps=400, seed=3, workers=0, cache=False)
    row = res.table.iloc[0]
    ref = RC["sim_icc0"]
    assert row["analytic_power"] == pytest.approx(ref, rel=1e-9)  # the formula itself is power.prop.test
    assert abs(row["power"] - ref) < 3 * np.sqrt(ref * (1 - ref) / 400), (row["power"], ref)
    assert row["truth"] == pytest.approx(np.log(0.5), rel=1e-9)


# --------------------------------------------------------------------------- Dask
GRID = {"design": "cluster_randomised", "clusters_per_arm": [4, 6], "cluster_size": 8, "icc": 0.05,
        "effect": {"mean_difference": 0.5}, "analysis": "mixed_linear"}


def test_identical_results_with_1_and_2_workers(tmp_path):
    import logging

    import distributed

    serial = power(GRID, reps=12, seed=5, workers=0, cache=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        one = power(GRID, reps=12, seed=5, client=client, cache=False, batch_size=5)
        cluster.scale(2)
        client.wait_for_workers(2, timeout=120)
        two = power(GRID, reps=12, seed=5, client=client, cache=False, batch_size=2)
    for other in (one, two):
        pd.testing.assert_frame_equal(serial.replicates, other.replicates)
        pd.testing.assert_frame_equal(serial.table, other.table)
    assert one.workers.startswith("1 workers") and two.workers.startswith("2 workers")
    # more replicates extend the same streams
    more = power(GRID, reps=15, seed=5, workers=0, cache=False)
    pd.testing.assert_frame_equal(more.replicates[more.replicates.rep < 12].reset_index(drop=True),
                                  serial.replicates)


def _cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("*/batch-*.json"))


def test_killed_run_resumes_without_repeating_replicates(tmp_path):
    spec = tmp_path / "spec.yml"
    spec.write_text("design: cluster_randomised\nclusters_per_arm: 4\ncluster_size: 8\nicc: 0.05\n"
                    "effect: {mean_difference: 0.5}\nanalysis: mixed_linear\n")
    cache = tmp_path / "cache"
    proc = subprocess.Popen([str(BIN / "veplab"), "simulate", str(spec), "--reps", "200", "--seed", "9",
                             "--workers", "0", "--batch-size", "4", "--cache-dir", str(cache)],
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(_cache_files(cache)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = sum(len(json.loads(f.read_text())["reps"]) for f in _cache_files(cache))
    assert 8 <= done < 200
    res = power(spec, reps=200, seed=9, workers=0, cache_dir=cache, batch_size=500)
    assert res.reps_cached == done and res.reps_run == 200 - done
    # the resumed replicates are those a fresh run computes
    pt = expand({"design": "cluster_randomised", "clusters_per_arm": 4, "cluster_size": 8, "icc": 0.05,
                 "effect": {"mean_difference": 0.5}, "analysis": "mixed_linear"})[0][0]
    key = spawn_key(point_hash(pt, 9))
    fresh = run_batch(pt, 9, key, [0, 1, done - 1, done, 199])
    got = res.replicates.set_index("rep")
    for rep, rec in zip(fresh["reps"], fresh["records"]):
        assert got.loc[rep, "estimate"] == rec[0] and got.loc[rep, "se"] == rec[1]
    again = power(spec, reps=200, seed=9, workers=0, cache_dir=cache)
    assert again.reps_run == 0 and again.reps_cached == 200
    pd.testing.assert_frame_equal(again.table, res.table)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_external_dask_scheduler_and_worker(tmp_path):
    """A real `dask scheduler` and `dask worker` on 127.0.0.1, used through `veplab simulate --scheduler`."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = _env()
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)]
    try:
        procs.append(subprocess.Popen([str(BIN / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1",
                                       "--no-dashboard", "--host", "127.0.0.1"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        spec = tmp_path / "spec.yml"
        spec.write_text("design: cluster_randomised\nclusters_per_arm: [4, 6]\ncluster_size: 8\nicc: 0.05\n"
                        "effect: {mean_difference: 0.5}\nanalysis: mixed_linear\n")
        out = tmp_path / "out.json"
        cli = subprocess.run([str(BIN / "veplab"), "simulate", str(spec), "--reps", "12", "--seed", "5",
                              "--scheduler", address, "--out", str(out), "--no-cache", "--batch-size", "3"],
                             env=env, capture_output=True, text=True, timeout=180)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        assert f"at {address}" in cli.stdout.replace("\n", "")
        doc = json.loads(out.read_text())
        serial = power(GRID, reps=12, seed=5, workers=0, cache=False)
        assert [p["power"] for p in doc["points"]] == serial.table["power"].tolist()
        assert [p["mean_estimate"] for p in doc["points"]] == pytest.approx(
            serial.table["mean_estimate"].tolist(), rel=1e-14)
        # DASK_SCHEDULER_ADDRESS is honoured when no --scheduler/--workers is given
        env2 = dict(env, DASK_SCHEDULER_ADDRESS=address)
        cli = subprocess.run([str(BIN / "veplab"), "simulate", str(spec), "--reps", "4", "--no-cache"], env=env2,
                             capture_output=True, text=True, timeout=180)
        assert cli.returncode == 0 and f"at {address}" in cli.stdout.replace("\n", ""), cli.stdout + cli.stderr
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def test_unreachable_scheduler_is_a_clear_error():
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), \
            pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        power(GRID, reps=4, client=f"tcp://127.0.0.1:{_free_port()}", cache=False)


# --------------------------------------------------------------------------- the study's simulation analysis
def test_simulation_analysis_in_a_study_build(tmp_path):
    """A study lists `simulation` with a spec file: the build publishes the power curve and table."""
    import shutil

    import yaml

    from veplab.analyses import resolve
    from veplab.build import build
    from veplab.study import load_study

    root = tmp_path / "proj"
    (root / "surveys").mkdir(parents=True)
    (root / "notebooks").mkdir()
    study = root / "research" / "plan"
    (study / "data").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "simulation.ipynb", root / "notebooks")
    (root / "surveys" / "tiny.yml").write_text(yaml.safe_dump({
        "id": "tiny_v1", "title": {"en": "Tiny"}, "id_column": "rid",
        "items": [{"id": "rid", "label": "id", "type": "text", "role": "admin", "pseudonymised": True},
                  {"id": "x", "label": "X", "type": "numeric"}]}))
    (study / "data" / "d.csv").write_text("rid,x\n" + "".join(f"r{i:03d},{i}\n" for i in range(20)))
    (study / "power.yml").write_text("design: cluster_randomised\nclusters_per_arm: [3, 5]\ncluster_size: 6\n"
                                     "icc: [0.02, 0.1]\neffect: {mean_difference: 0.8}\nanalysis: mixed_linear\n")
    (study / "study.yml").write_text(yaml.safe_dump({
        "id": "plan", "title": {"en": "A planned evaluation"}, "seed": 4,
        "sources": {"d": {"path": "data/d.csv", "codebook": "tiny"}},
        "analyses": {"simulation": {"spec": "power.yml", "reps": 8, "workers": 0}}}))
    a = resolve(load_study(study), "simulation")
    assert a["spec"]["icc"] == [0.02, 0.1] and a["reps"] == 8 and a["seed"] == 4
    res = build(study, pdf=False)
    assert res.ok and res.published, [r.error for r in res.runs]
    doc = json.loads((root / "reports" / "plan" / "results.json").read_text())["notebooks"]["simulation"]
    table = doc["tables"]["power_table"]
    assert table["status"] == "published" if "status" in table else True
    assert len(table["data"]) == 4 and "power_curve" in doc["figures"]
    direct = power(str(study / "power.yml"), reps=8, seed=4, workers=0, cache=False)
    col = table["columns"].index("power")
    assert [row[col] for row in table["data"]] == pytest.approx(direct.table["power"].tolist())
    release = json.loads((root / "reports" / "plan" / "release.json").read_text())
    assert {e["output"]: e["status"] for e in release["outputs"]}["simulation/figures/power_curve"] == "published"
    # a missing spec file is a clear problem of the study's analyses:
    cfg = yaml.safe_load((study / "study.yml").read_text())
    cfg["analyses"]["simulation"]["spec"] = "nope.yml"
    (study / "study.yml").write_text(yaml.safe_dump(cfg))
    from veplab.analyses import check_analyses

    assert any("nope.yml" in p and "not found" in p for p in check_analyses(load_study(study)))


def test_power_curve_plot_draws_each_icc_at_the_design_points():
    import matplotlib.pyplot as plt

    spec = dict(CONT, clusters_per_arm=[3, 5], icc=[0.02, 0.1])
    res = power(spec, reps=6, seed=3, workers=0, cache=False)
    ax = res.plot()
    lines = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert len(lines) == 2  # one line per ICC
    for ln, (_, g) in zip(lines, res.table.sort_values("clusters_per_arm").groupby("icc", sort=True)):
        np.testing.assert_allclose(np.asarray(ln.get_ydata(), dtype=float), g["power"].to_numpy(dtype=float))
    assert list(ax.get_xticks()) == [3, 5] and [t.get_text() for t in ax.get_xticklabels()] == ["3", "5"]
    plt.close("all")
