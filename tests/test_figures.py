"""Figures render headlessly (Agg), have the right size, and plot the model's numbers."""

import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from scipy import integrate

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from cnbfluor import dispersion  # noqa: E402
from tests.reference import LorentzNumpy  # noqa: E402
from cnbfluor.figures import draw_fig2, energy_transfer, fig2, fig2_data, momentum_quantiles  # noqa: E402
from cnbfluor.figures import plot_file, plot_scan, plot_trace  # noqa: E402
from cnbfluor.scan import Scan, parse_axis, run_scan  # noqa: E402
from cnbfluor.scenario import build_model, default_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OMEGA = 0.025064915718988563


def scenario(**updates):
    return default_scenario().replace(updates)


def slow_band(v=1e-4):
    return scenario(**{"dispersion.model": "linear-band", "dispersion.omega_eV": OMEGA,
                       "dispersion.k_eV": OMEGA, "dispersion.group_velocity": v})


LORENTZ = {"dispersion.model": "lorentz", "dispersion.eps_inf": 1.0,
           "dispersion.poles": [{"delta_eps": 0.02, "omega_T_eV": 0.0252, "gamma_eV": 0.0}]}
EIT = {"dispersion.model": "eit", "dispersion.probe_eV": OMEGA, "dispersion.coupling_strength_eV": 1e-9,
       "dispersion.rabi_eV": 1e-6, "dispersion.excited_decay_eV": 1e-7}


def _distance_to_polyline(x, y):
    """Distance from the origin to the polyline through (x, y)."""
    ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
    dx, dy = bx - ax, by - ay
    t = np.clip(-(ax * dx + ay * dy) / np.maximum(dx * dx + dy * dy, 1e-300), 0.0, 1.0)
    return float(np.min(np.hypot(ax + t * dx, ay + t * dy)))


def _markers(fig):
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "intersections"]
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


@pytest.mark.parametrize("updates", [{}, "slow", LORENTZ, EIT], ids=["vacuum", "slow-band", "lorentz", "eit"])
def test_fig2_intersections_lie_on_both_curves(tmp_path, updates):
    sc = slow_band() if updates == "slow" else scenario(**updates)
    model = build_model(sc)
    data, fig = fig2(model, tmp_path / "fig2.png")
    m_i, m_j = data.masses
    branches = model.dispersion.branches()
    assert len(data.intersections) >= 2
    for x in data.intersections:
        # On the energy-transfer curve of its (p, c) (closed form, numpy) ...
        assert abs(energy_transfer(x.k, m_i, m_j, x.p, x.c) - x.omega) < 1e-9
        # ... and on the medium's dispersion, checked apart from the root finder's own k(omega):
        branch = branches[x.branch]
        if isinstance(branch, dispersion.AbstractBandInK):  # the forward map omega(k)
            assert abs(float(branch.omega(x.k)) - x.omega) < 1e-9
        elif isinstance(model.dispersion, dispersion.Lorentz):  # the numpy Lorentz of tests/reference.py
            assert abs(LorentzNumpy(model.dispersion).k(x.omega) - x.k) < 1e-9
        else:  # the curve drawn in the inset, where the marker is inside it
            kk, ww = data.zoom_branches[x.branch]
            k0, dk, w0, dw = data.zoom
            if abs(x.k - k0) < dk and abs(x.omega - w0) < dw:
                assert _distance_to_polyline((kk - x.k) / dk, (ww - x.omega) / dw) < 1e-3
    # The markers drawn are those points.
    xs, ys = _markers(fig)
    np.testing.assert_allclose(xs, [x.k for x in data.intersections], rtol=0, atol=1e-15)
    np.testing.assert_allclose(ys, [x.omega for x in data.intersections], rtol=0, atol=1e-15)
    # The central curve lies inside the band it sweeps.
    assert np.all(data.band_lo <= data.central + 1e-15) and np.all(data.central <= data.band_hi + 1e-15)
    image = matplotlib.image.imread(tmp_path / "fig2.png")
    assert image.shape[:2] == (1040, 1400)  # 7 x 5.2 in at 200 dpi
    # The inset shows the resonant branch across a good part of its box (EIT's window is ~1e-5 eV wide).
    k0, dk, w0, dw = data.zoom
    kk, ww = data.zoom_branches[data.intersections[0].branch]
    assert np.ptp(kk) > 0.5 * dk or np.ptp(ww) > 0.5 * dw
    plt.close(fig)


def test_fig2_vacuum_intersection_is_the_closed_form():
    """omega = k meets m_i - sqrt(m_j^2 + k^2) at k = (m_i^2 - m_j^2) / (2 m_i)."""
    data = fig2_data(build_model(scenario()))
    m_i, m_j = data.masses
    rest = [x for x in data.intersections if x.p == 0.0]
    assert rest[0].k == pytest.approx((m_i**2 - m_j**2) / (2 * m_i), rel=1e-12)
    assert data.level_spacing == pytest.approx(rest[0].omega, rel=1e-14)


def test_lorentz_fig2_has_one_intersection_per_polariton_branch():
    data = fig2_data(build_model(scenario(**LORENTZ)))
    assert sorted({x.branch for x in data.intersections if x.p == 0.0}) == [0, 1]


def test_flat_band_inset_shows_the_resonance_and_the_band():
    """The inset spans the k range the band sweeps and, for a flat band, a few Gamma_v in omega."""
    data = fig2_data(build_model(slow_band(1e-5)))
    k0, dk, w0, dw = data.zoom
    assert dw < 10 * data.width  # the resonance is visible
    lo, hi = momentum_quantiles(build_model(slow_band()).momentum, (0.05, 0.95))
    assert dk > 0.5 * (hi - lo)
    kk, ww = data.zoom_branches[0]
    assert len(kk) > 100 and np.all(np.abs(ww - w0) <= 1.5 * dw)


def test_momentum_quantiles_against_quad():
    dist = build_model(scenario()).momentum
    T = float(dist.temperature)
    total = integrate.quad(lambda p: p**2 / (np.exp(p / T) + 1), 0, 60 * T)[0]
    for level, p in zip((0.05, 0.5, 0.95), momentum_quantiles(dist)):
        below = integrate.quad(lambda q: q**2 / (np.exp(q / T) + 1), 0, p)[0]
        assert below / total == pytest.approx(level, abs=1e-5)


@pytest.mark.parametrize("suffix, magic", [(".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_fig2_vector_formats(tmp_path, suffix, magic):
    data = fig2_data(build_model(scenario()))
    fig = draw_fig2(data, tmp_path / f"fig2{suffix}")
    plt.close(fig)
    assert (tmp_path / f"fig2{suffix}").read_bytes()[:5].startswith(magic)


def test_fig2_without_a_root_is_a_clear_error():
    far = scenario(**{"dispersion.model": "linear-band", "dispersion.omega_eV": 0.2,
                      "dispersion.k_eV": 0.2, "dispersion.group_velocity": 1e-3})
    with pytest.raises(ValueError, match="no photon root at p = 0"):
        fig2_data(build_model(far))


def test_scan_plots_1d_2d_and_a_user_style(tmp_path):
    base = slow_band()
    one = run_scan(Scan(base, [parse_axis("dispersion.group_velocity=1e-6:1e-1:6:log")], chunk=8),
                   tmp_path / "one.nc", progress=False)
    style = tmp_path / "thick.mplstyle"
    style.write_text("lines.linewidth: 3.3\n")
    fig, summary = plot_scan(one, tmp_path / "one.png", style=str(style))
    rate_line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(rate_line.get_ydata(), one.rate_per_year.values)
    assert rate_line.get_linewidth() == 3.3  # the user's style overrides ours
    assert fig.axes[0].get_yscale() == "log" and fig.axes[-1].get_xscale() == "log"
    assert summary["best_rate_per_year"] == pytest.approx(float(one.rate_per_year.max()))
    plt.close(fig)

    two = run_scan(Scan(base, [parse_axis("dispersion.group_velocity=1e-5:1e-2:4:log"),
                               parse_axis("medium.detuning_eV=-2e-7:2e-7:5")], chunk=8, sensitivities=False),
                   tmp_path / "two.nc", progress=False)
    fig, summary = plot_scan(two, tmp_path / "two.png")
    (star,) = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "*"]
    rate = two.rate_per_year.values
    i, j = np.unravel_index(np.argmax(rate), rate.shape)
    assert star.get_xdata()[0] == two["medium.detuning_eV"].values[j]
    assert star.get_ydata()[0] == two["dispersion.group_velocity"].values[i]
    assert (tmp_path / "two.png").stat().st_size > 10_000
    plt.close(fig)


def test_trace_plot_from_an_optimize_folder(tmp_path):
    history = np.log(np.array([[1.0, 2.0], [3.0, 2.5], [4.0, 2.6]]))
    np.savez(tmp_path / "checkpoint.npz", history=history)
    path, summary = plot_file(tmp_path, tmp_path / "trace.png")
    assert path.exists() and summary == {"steps": 3, "best_rate_per_year": pytest.approx(4.0)}
    path = plot_trace(history, tmp_path / "t2.png")
    assert matplotlib.image.imread(path).shape[:2] == (800, 1200)


def test_plot_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        plot_file(tmp_path / "missing.nc")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(ValueError, match="neither a scan"):
        plot_file(tmp_path / "x.txt")


def test_cli_fig2_and_plot(tmp_path):
    run = [sys.executable, "-m", "cnbfluor"]
    out = subprocess.run([*run, "fig2", str(ROOT / "studies/scenarios/slow_light.toml"), "--out", str(tmp_path / "f.svg")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "intersection     k = 0.02506491572 eV" in out.stdout and (tmp_path / "f.svg").exists()
    bad = subprocess.run([*run, "fig2", "--style", str(tmp_path / "none.mplstyle"), "--out", str(tmp_path / "g.png")],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert bad.returncode == 2 and "no such style file" in bad.stderr
