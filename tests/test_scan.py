"""Scans: values and sensitivities against direct calls, resume after a kill, shards + merge."""

import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

from cnbfluor import rates
from cnbfluor.scan import Scan, merge, parse_axis, run_scan
from cnbfluor.scenario import ScenarioError, build_model, default_scenario, with_parameters

OMEGA = 0.025064915718988563


def band_scenario():
    return default_scenario().replace({
        "dispersion.model": "linear-band", "dispersion.omega_eV": OMEGA,
        "dispersion.k_eV": OMEGA, "dispersion.group_velocity": 1e-3,
    })


def test_scan_values_and_sensitivities_match_direct_evaluation(tmp_path):
    scenario = band_scenario()
    scan = Scan(
        scenario,
        [parse_axis("dispersion.group_velocity=1e-6:1e-1:5:log"), parse_axis("medium.detuning_eV=-1e-6:1e-6:3")],
        extra=["medium.coherence_time_ns"], chunk=4,
    )
    ds = run_scan(scan, tmp_path / "s.nc", progress=False)
    again = xr.load_dataset(tmp_path / "s.nc", engine="scipy")
    assert again["dispersion.group_velocity"].attrs["units"] == "c"
    assert "linear-band" in again.attrs["scenario_toml"]
    template = build_model(scenario)

    def log_rate(v, det, tau):
        return jnp.log(rates.event_rate(with_parameters(template, {
            "dispersion.group_velocity": v, "medium.detuning_eV": det, "medium.coherence_time_ns": tau})))

    for i, v in enumerate(ds["dispersion.group_velocity"].values):
        for j, det in enumerate(ds["medium.detuning_eV"].values):
            value, grads = jax.value_and_grad(log_rate, argnums=(0, 1, 2))(v, det, 10.0)
            assert float(ds.rate_per_year[i, j]) == pytest.approx(float(jnp.exp(value)), rel=1e-9)
            np.testing.assert_allclose(ds.sensitivity[i, j].values, np.array(grads), rtol=1e-6)
    assert int(ds.evaluated.sum()) == 15


def test_scan_axis_errors():
    for text, message in [
        ("dispersion.group_velocity=1e-6:1e-1", "expected KEY=LO:HI:N"),
        ("medium.detuning_eV=-1:1:5:log", "a log axis needs LO, HI > 0"),
        ("medium.detuning_eV=a:1:5", "LO and HI must be numbers"),
    ]:
        with pytest.raises(ScenarioError, match=message):
            parse_axis(text)
    with pytest.raises(ScenarioError, match="dispersion.n: does not apply"):
        Scan(default_scenario(), [parse_axis("dispersion.n=1:2:3")])
    with pytest.raises(ScenarioError, match=r"medium.coherence_time_ns: -1.0 is out of range"):
        Scan(default_scenario(), [parse_axis("medium.coherence_time_ns=-1:2:3")])


def cli(*args):
    return [sys.executable, "-m", "cnbfluor", *args]


SCAN_ARGS = ["--param", "medium.detuning_eV=-2e-4:2e-4:24", "--param", "medium.coherence_time_ns=1:100:5:log", "--chunk", "2", "--quiet"]


def test_killed_scan_resumes_to_the_same_result(tmp_path):
    full = subprocess.run(cli("scan", *SCAN_ARGS, "--out", str(tmp_path / "full.nc")), capture_output=True, text=True, timeout=600)
    assert full.returncode == 0, full.stderr
    out = tmp_path / "cut.nc"
    parts = tmp_path / "cut.nc.parts"
    proc = subprocess.Popen(cli("scan", *SCAN_ARGS, "--out", str(out)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and len(list(parts.glob("chunk_*.npz"))) < 3:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = len(list(parts.glob("chunk_*.npz")))
    assert 0 < written < 60 and not out.exists(), "the scan was not interrupted mid-run"
    resumed = subprocess.run(cli("scan", *SCAN_ARGS, "--out", str(out)), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    a, b = xr.load_dataset(tmp_path / "full.nc", engine="scipy"), xr.load_dataset(out, engine="scipy")
    np.testing.assert_array_equal(a.rate_per_year.values, b.rate_per_year.values)
    np.testing.assert_array_equal(a.sensitivity.values, b.sensitivity.values)


def test_shards_merge_to_the_full_scan(tmp_path):
    scenario = default_scenario()
    axes = [parse_axis("medium.detuning_eV=-2e-4:2e-4:7"), parse_axis("target.length_m=1:5:3")]
    full = run_scan(Scan(scenario, axes, chunk=2), tmp_path / "full.nc", progress=False)
    shards = []
    for i in range(3):
        path = tmp_path / f"shard{i}.nc"
        ds = run_scan(Scan(scenario, axes, chunk=2), path, shard=(i, 3), progress=False)
        assert 0 < int(ds.evaluated.sum()) < 21
        shards.append(path)
    with pytest.raises(ScenarioError, match="grid points are in none of the files"):
        merge(shards[:2], tmp_path / "partial.nc")
    merged = merge(shards, tmp_path / "merged.nc")
    np.testing.assert_array_equal(merged.rate_per_year.values, full.rate_per_year.values)
    # Volume scales as l^3: d ln R / d l = 3 / l, a closed form.
    sens = merged.sensitivity.sel(parameter="target.length_m").values
    np.testing.assert_allclose(sens, np.broadcast_to(3.0 / merged["target.length_m"].values, sens.shape), rtol=1e-10)
    result = subprocess.run(cli("merge", str(tmp_path / "m2.nc"), *map(str, shards)), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "21 grid points" in result.stdout


def test_rerun_with_other_grid_refuses_foreign_parts(tmp_path):
    scenario = default_scenario()
    run_scan(Scan(scenario, [parse_axis("medium.detuning_eV=-2e-4:2e-4:3")], chunk=2), tmp_path / "s.nc", progress=False)
    with pytest.raises(ScenarioError, match="holds another scan"):
        run_scan(Scan(scenario, [parse_axis("medium.detuning_eV=-2e-4:2e-4:5")], chunk=2), tmp_path / "s.nc", progress=False)


def test_sensitivity_to_an_indexed_key_that_is_not_scanned(tmp_path):
    """Free keys such as dispersion.poles.0.delta_eps get sensitivities too (by autodiff)."""
    scenario = default_scenario().replace({
        "dispersion.model": "lorentz", "dispersion.eps_inf": 1.0,
        "dispersion.poles": [{"delta_eps": 0.5, "omega_T_eV": 0.02, "gamma_eV": 0.0}],
    })
    scan = Scan(scenario, [parse_axis("medium.detuning_eV=0:1e-7:2")], extra=["dispersion.poles.0.delta_eps"], chunk=2)
    ds = run_scan(scan, tmp_path / "p.nc", progress=False)
    template = build_model(scenario)
    expected = jax.grad(lambda d: jnp.log(rates.event_rate(with_parameters(template, {"dispersion.poles.0.delta_eps": d}))))(0.5)
    assert float(ds.sensitivity.sel(parameter="dispersion.poles.0.delta_eps")[0]) == pytest.approx(float(expected), rel=1e-8)


def test_rate_only_scan_with_fast_quadrature(tmp_path):
    """`sensitivities=False` gives the same rates with no parameter axis; `fast` stays within 1e-4."""
    scenario = band_scenario()
    axes = [parse_axis("dispersion.group_velocity=1e-5:1:4:log")]
    full = run_scan(Scan(scenario, axes, chunk=4), tmp_path / "full.nc", progress=False)
    only = run_scan(Scan(scenario, axes, chunk=4, sensitivities=False), tmp_path / "only.nc", progress=False)
    fast = run_scan(Scan(scenario, axes, chunk=4, quadrature="fast", sensitivities=False),
                    tmp_path / "fast.nc", progress=False)
    assert only.sizes["parameter"] == 0
    np.testing.assert_allclose(only.rate_per_year.values, full.rate_per_year.values, rtol=1e-12)
    np.testing.assert_allclose(fast.rate_per_year.values, full.rate_per_year.values, rtol=1e-4)
    assert fast.attrs["quadrature"] == "fast"
    # Every point carries the estimate of its quadrature error and no failure flag.
    assert np.all((full.rate_rel_error.values > 0) & (full.rate_rel_error.values < 1e-3))
    assert np.all(full.flags.values == 0)
    with pytest.raises(ValueError, match="quadrature: unknown name 'coarse'; allowed: fast, default, fine"):
        Scan(scenario, axes, quadrature="coarse")
