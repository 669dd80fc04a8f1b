"""Scans into a Zarr store: equal to the netCDF scan, resumable, shardable, and on a real Dask cluster.

The cluster tests start a real `distributed.LocalCluster` of 2 worker processes.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnbfluor.errors import ArgumentError, ScenarioError
from cnbfluor.scan import Scan, parse_axis, run_scan
from cnbfluor.scenario import default_scenario
from cnbfluor.store import Blocks, block_shape, connect, open_store, run_store_scan

ROOT = Path(__file__).resolve().parents[1]
AXES = ("medium.detuning_eV=-1e-7:1e-7:5", "target.length_m=1:3:3")


def _scan(axes=AXES, **kw):
    return Scan(default_scenario(), [parse_axis(a) for a in axes], chunk=4, quadrature="fast", **kw)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The reference: the same scan through the netCDF path."""
    return run_scan(_scan(), tmp_path_factory.mktemp("ref") / "ref.nc", progress=False)


def _assert_equal(ds, ref):
    assert int(ds["evaluated"].sum()) == ref["evaluated"].size
    np.testing.assert_allclose(ds["rate_per_year"].values, ref["rate_per_year"].values, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ds["sensitivity"].values, ref["sensitivity"].values, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(ds["flags"].values, ref["flags"].values)


def test_blocks_tile_the_grid():
    assert block_shape((5, 3), 4) == (1, 3) and block_shape((7,), 4) == (4,) and block_shape((2, 2, 50), 8) == (1, 1, 8)
    blocks = Blocks((5, 3, 4), (2, 3, 3))
    seen = np.zeros((5, 3, 4), dtype=int)
    for b in range(blocks.n_blocks):
        idx, sub = blocks.points(b)
        seen[idx] += 1
        assert idx[0].size == int(np.prod(sub)) <= blocks.capacity
    assert np.all(seen == 1)
    mask = np.ones((5, 3, 4), dtype=bool)
    mask[4, 2, 3] = False
    finished = blocks.finished(mask)
    assert finished.sum() == blocks.n_blocks - 1 and not finished[blocks.n_blocks - 1]


def test_store_scan_equals_the_netcdf_scan_and_resumes(tmp_path, serial):
    scan = _scan()
    store = tmp_path / "s.zarr"

    class Stop(Exception):
        pass

    def stop_after_two(block, seen=[]):
        seen.append(block)
        if len(seen) == 2:
            raise Stop

    with pytest.raises(Stop):
        run_store_scan(scan, store, progress=False, on_block=stop_after_two)
    computed = []
    ds = run_store_scan(scan, store, progress=False, on_block=computed.append)
    n_blocks = Blocks(scan.shape, block_shape(scan.shape, scan.chunk)).n_blocks
    assert len(computed) == n_blocks - 2  # only the missing blocks
    _assert_equal(ds, serial)
    again = []
    run_store_scan(scan, store, progress=False, on_block=again.append)
    assert again == []


def test_shards_fill_one_store(tmp_path, serial):
    scan, store = _scan(), tmp_path / "s.zarr"
    first = run_store_scan(scan, store, shard=(0, 2), progress=False)
    assert 0 < int(first["evaluated"].sum()) < serial["evaluated"].size
    _assert_equal(run_store_scan(scan, store, shard=(1, 2), progress=False), serial)


def test_a_store_of_another_scan_is_refused_naming_the_difference(tmp_path):
    store = tmp_path / "s.zarr"
    run_store_scan(_scan(axes=("medium.detuning_eV=-1e-7:1e-7:3",)), store, progress=False)
    with pytest.raises(ScenarioError, match="holds another scan .its axes differs"):
        open_store(_scan(axes=("medium.detuning_eV=-1e-7:1e-7:4",)), store)
    with pytest.raises(ScenarioError, match="its quadrature differs"):
        open_store(Scan(default_scenario(), [parse_axis("medium.detuning_eV=-1e-7:1e-7:3")], chunk=4), store)


def test_unreachable_scheduler_and_bad_values_are_argument_errors():
    with pytest.raises(ArgumentError, match="--dask 'local:0'"):
        connect("local:0")
    with pytest.raises(ArgumentError, match="cannot reach the Dask scheduler"):
        connect("tcp://127.0.0.1:9", timeout="2s")


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as lc:
        with Client(lc) as client:
            yield client


def test_dask_scan_equals_the_serial_scan(tmp_path, serial, cluster):
    ds = run_store_scan(_scan(), tmp_path / "d.zarr", progress=False, client=cluster)
    _assert_equal(ds, serial)


def test_a_killed_worker_loses_nothing(tmp_path, serial, cluster):
    pids = cluster.run(os.getpid)
    killed = []

    def kill_one(block):
        if not killed:
            victim = sorted(pids.values())[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    ds = run_store_scan(_scan(), tmp_path / "k.zarr", progress=False, client=cluster, on_block=kill_one)
    assert killed
    _assert_equal(ds, serial)


def test_cli_store_scan_and_export(tmp_path, serial):
    run = [sys.executable, "-m", "cnbfluor"]
    bad = subprocess.run([*run, "scan", "--param", AXES[0], "--out", str(tmp_path / "x.nc"), "--dask", "local:2"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert bad.returncode == 2 and "--dask" in bad.stderr and ".zarr" in bad.stderr
    out = subprocess.run([*run, "scan", "--param", AXES[0], "--param", AXES[1], "--chunk", "4", "--quadrature", "fast",
                          "--out", str(tmp_path / "c.zarr"), "--quiet"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    exported = subprocess.run([*run, "export", str(tmp_path / "c.zarr"), str(tmp_path / "c.nc")],
                              capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert exported.returncode == 0 and "15 of 15 grid points" in exported.stdout, exported.stderr
    import xarray as xr

    _assert_equal(xr.load_dataset(tmp_path / "c.nc", engine="scipy"), serial)


def test_optimizer_starts_as_dask_tasks(tmp_path, cluster):
    """Each start an independent task: the same optimum as the vmapped run, and plot reads it."""
    from cnbfluor.figures import plot_file
    from cnbfluor.optimization import optimize
    from cnbfluor.optimize import Settings
    from cnbfluor.problem import FreeParameter, Problem

    problem = Problem(default_scenario(), (FreeParameter("medium.detuning_eV", -1e-6, 1e-6),
                                           FreeParameter("target.length_m", 1.0, 3.0)))
    settings = Settings(steps=40, starts=3, chunk=20)
    local = optimize(problem, settings, progress=False)
    remote = optimize(problem, settings, out_dir=tmp_path, progress=False, client=cluster)
    assert remote["best_rate_per_year"] == pytest.approx(local["best_rate_per_year"], rel=1e-9)
    for a, b in zip(remote["starts"], local["starts"]):
        assert a["rate_per_year"] == pytest.approx(b["rate_per_year"], rel=1e-9) and a["stopped"] == b["stopped"]
    _, summary = plot_file(tmp_path, tmp_path / "t.png")
    assert summary["best_rate_per_year"] == pytest.approx(remote["best_rate_per_year"], rel=1e-12)
    assert sorted(p.name for p in tmp_path.glob("start_*.pkl")) == ["start_000.pkl", "start_001.pkl", "start_002.pkl"]


def test_a_full_disk_is_a_clear_error_and_finished_blocks_stay(tmp_path, serial, monkeypatch):
    import errno

    import xarray as xr

    from cnbfluor.errors import PathError

    scan, store = _scan(), tmp_path / "s.zarr"
    real = xr.Dataset.to_zarr
    writes = []

    def full_after_two_blocks(self, *args, **kwargs):
        if kwargs.get("region") is not None and "evaluated" not in self:
            writes.append(1)
            if len(writes) > 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_zarr", full_after_two_blocks)
    with pytest.raises(PathError, match="disk is full.*blocks already written stay valid"):
        run_store_scan(scan, store, progress=False)
    monkeypatch.setattr(xr.Dataset, "to_zarr", real)
    computed = []
    ds = run_store_scan(scan, store, progress=False, on_block=computed.append)
    n_blocks = Blocks(scan.shape, block_shape(scan.shape, scan.chunk)).n_blocks
    assert len(computed) == n_blocks - 2
    _assert_equal(ds, serial)
