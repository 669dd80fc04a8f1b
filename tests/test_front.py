"""The front layer as a new user meets it: one-line errors, files that read back, agreeing summaries.

Each test is a regression test for something a user hit (see the package issue).
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from cnbfluor import cli
from cnbfluor.figures import plot_file
from cnbfluor.figures.plots import cell_edges
from cnbfluor.optimization import optimize
from cnbfluor.optimize import Settings
from cnbfluor.problem import FreeParameter, Problem
from cnbfluor.scan import Scan, parse_axis, run_scan
from cnbfluor.scenario import ScenarioError, default_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
RUN = [sys.executable, "-m", "cnbfluor"]


def _run(*args, cwd=None):
    return subprocess.run([*RUN, *map(str, args)], capture_output=True, text=True, cwd=cwd or ROOT, timeout=600)


def _one_line_error(result, *needles):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnbfluor: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("axes", [["medium.detuning_eV=-1e-7:1e-7:3"],
                                  ["medium.detuning_eV=-1e-7:1e-7:3", "target.length_m=1:3:2"]])
def test_scan_without_sensitivities_reads_back_and_plots(tmp_path, axes):
    scan = Scan(default_scenario(), [parse_axis(a) for a in axes], chunk=8, quadrature="fast", sensitivities=False)
    out = tmp_path / "scan.nc"
    ds = run_scan(scan, out, progress=False)
    again = xr.open_dataset(out, engine="scipy")
    np.testing.assert_array_equal(again["rate_per_year"].values, ds["rate_per_year"].values)
    assert "sensitivity" not in again and int(again["evaluated"].sum()) == scan.size
    again.close()
    path, summary = plot_file(out, tmp_path / "scan.png")
    assert path.exists() and summary["best_rate_per_year"] == pytest.approx(float(ds["rate_per_year"].max()))
    # A finished scan leaves no chunk folder, and running it again computes nothing.
    assert not (tmp_path / "scan.nc.parts").exists()
    stamp = out.stat().st_mtime_ns
    run_scan(scan, out, progress=False)
    assert out.stat().st_mtime_ns == stamp and not (tmp_path / "scan.nc.parts").exists()


def test_bad_paths_are_one_line_errors_naming_the_argument(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    _one_line_error(_run("scan", "--param", "medium.detuning_eV=0:1e-7:2", "--out", afile / "x.nc"), "--out", "is a file")
    _one_line_error(_run("merge", tmp_path / "m.nc", tmp_path / "missing.nc"), "merge", "missing.nc")
    _one_line_error(_run("fig2", "--out", afile / "fig.png"), "--out", "is a file")
    bad = _run("fig2", "--out", tmp_path / "fig.jpgx")
    _one_line_error(bad, "--out", "PNG", "PDF", "SVG")
    _one_line_error(_run("optimize", ROOT / "studies/scenarios/optimize_band.toml", "--out", afile), "--out", "is a file")
    assert list(tmp_path.iterdir()) == [afile]  # nothing written


def test_rate_checks_an_optimize_table_and_suggests_keys(tmp_path):
    reversed_bounds = tmp_path / "reversed.toml"
    reversed_bounds.write_text('[optimize]\nfree = { "medium.detuning_eV" = [1e-6, -1e-6] }\n')
    _one_line_error(_run("rate", reversed_bounds), "optimize.free.medium.detuning_eV", "lower < upper")
    with pytest.raises(ScenarioError, match=r"dispersion\.modle: unknown key.*did you mean 'model'"):
        parse_scenario({"dispersion": {"modle": "vacuum"}})
    with pytest.raises(ScenarioError, match=r"dispersoin: unknown table.*did you mean 'dispersion'"):
        parse_scenario({"dispersoin": {}})


def test_big_scans_are_refused_before_any_work(tmp_path):
    result = _run("scan", "--param", "medium.detuning_eV=-1e-7:1e-7:100000", "--param", "target.length_m=1:3:1000",
                  "--out", tmp_path / "big.nc")
    _one_line_error(result, "--max-points", "100,000,000 points", "--shard")
    assert list(tmp_path.iterdir()) == []


def test_help_version_and_module_entry():
    assert "5-95% momentum" in _run("fig2", "--help").stdout
    version = _run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"cnbfluor {cli.__version__}"


def test_internal_errors_are_short_and_the_traceback_is_behind_debug(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_cmd_rate", broken)
    assert cli.main(["rate"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err and "report it" in err and "Traceback" not in err
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["rate", "--debug"])


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(cli.CACHE_ENV, str(tmp_path / "c"))
    assert cli.cache_dir() == tmp_path / "c"
    monkeypatch.setenv(cli.CACHE_ENV, "off")
    assert cli.cache_dir() is None
    monkeypatch.delenv(cli.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert cli.cache_dir().parent == tmp_path / "xdg" / "cnbfluor"


def test_log_axis_cells_are_centred_geometrically():
    edges = cell_edges(np.array([1.0, 10.0, 100.0]), log=True)
    np.testing.assert_allclose(edges, [10**-0.5, 10**0.5, 10**1.5, 10**2.5])
    np.testing.assert_allclose(cell_edges(np.array([0.0, 1.0, 2.0])), [-0.5, 0.5, 1.5, 2.5])


def test_optimize_and_plot_agree_and_starts_say_why_they_stopped(tmp_path):
    scenario = default_scenario().replace({"medium.coherence_time_ns": 10.0})
    problem = Problem(scenario, (FreeParameter("medium.detuning_eV", -1e-6, 1e-6),
                                 FreeParameter("target.length_m", 1.0, 3.0)))
    result = optimize(problem, Settings(steps=40, starts=3, chunk=20), out_dir=tmp_path, progress=False)
    _, summary = plot_file(tmp_path, tmp_path / "t.png")
    assert summary["best_rate_per_year"] == pytest.approx(result["best_rate_per_year"], rel=1e-12)
    on_disk = json.loads((tmp_path / "result.json").read_text())
    assert on_disk["best_rate_per_year"] == result["best_rate_per_year"]
    # The length's optimum is its upper bound: reached exactly, and that start converged.
    assert result["params"]["target.length_m"] == 3.0 and result["active_bounds"] == {"target.length_m": "upper"}
    assert all(s["stopped"] in ("converged", "step limit") for s in result["starts"])
    assert result["converged"] and result["starts"][result["best_start"]]["stopped"] == "converged"


def test_plot_labels_a_detected_rate_trace_as_detected(tmp_path, monkeypatch):
    import cnbfluor.figures.plots as plots

    np.savez(tmp_path / "checkpoint.npz", history=np.log([[1.0, 2.0]]), value=np.log([3.0, 2.5]))
    (tmp_path / "result.json").write_text(json.dumps({"objective": "detected_rate_per_year"}))
    seen = {}

    def record(history, path, style=None, objective="rate_per_year"):
        seen["objective"], seen["last"] = objective, np.exp(np.asarray(history)[-1]).tolist()
        return Path(path)

    monkeypatch.setattr(plots, "plot_trace", record)
    _, summary = plot_file(tmp_path, tmp_path / "t.png")
    assert seen["objective"] == "detected_rate_per_year"
    # The trace ends at the values of the final positions, as optimize reports them.
    assert seen["last"] == pytest.approx([3.0, 2.5]) and summary["best_rate_per_year"] == pytest.approx(3.0)


def test_scan_sensitivities_follow_the_optimize_objective(tmp_path):
    """One objective for optimiser and scan: with the detected rate, d ln R_det / d efficiency = 1 / efficiency."""
    scenario = default_scenario().replace({"detector.efficiency": 0.5})
    axes = [parse_axis("medium.detuning_eV=0:1e-8:2")]
    detected = run_scan(Scan(scenario, axes, extra=["detector.efficiency"], chunk=2, quadrature="fast",
                             objective="detected_rate_per_year"), tmp_path / "d.nc", progress=False)
    plain = run_scan(Scan(scenario, axes, extra=["detector.efficiency"], chunk=2, quadrature="fast"),
                     tmp_path / "r.nc", progress=False)
    eff = list(detected["parameter"].values).index("detector.efficiency")
    np.testing.assert_allclose(detected["sensitivity"].values[:, eff], 2.0, rtol=1e-12)
    np.testing.assert_allclose(plain["sensitivity"].values[:, eff], 0.0, atol=1e-12)
    # rate_per_year is the rate either way; the detuning sensitivity is the same (a constant factor).
    np.testing.assert_allclose(detected["rate_per_year"].values, plain["rate_per_year"].values, rtol=1e-12)
    np.testing.assert_allclose(detected["sensitivity"].values[:, 0], plain["sensitivity"].values[:, 0], rtol=1e-9)
    assert detected.attrs["objective"] == "detected_rate_per_year"
