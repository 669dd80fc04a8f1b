"""The 3-D models through the front layer: scenario keys, bad input, the figure, scans and the optimiser."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnbfluor import rates
from cnbfluor.cli import main
from cnbfluor.figures import fig2_data
from cnbfluor.scenario import build_model, default_scenario, with_parameters
from tests.test_cli import run_cli

STACK = {"dispersion.model": "bragg", "dispersion.n1": 1.5, "dispersion.n2": 2.0,
         "dispersion.d1_um": 10.655, "dispersion.d2_um": 7.991, "dispersion.bands": 1}


def model_of(**updates):
    return build_model(default_scenario().replace(updates))


BAD = {
    "depth above 1": ("[grating]\nperiod_um = 20.0\ndepth = 1.5\n", "grating.depth", "in [0, 1]"),
    "zero period": ("[grating]\nperiod_um = 0.0\n", "grating.period_um", "> 0"),
    "depth without period": ("[grating]\ndepth = 0.5\n", "grating.depth", "grating.period_um"),
    "paper dk with a grating": ('[grating]\nperiod_um = 20.0\n[conventions]\ndk = "paper"\n', "conventions.dk", '"exact"'),
    "paper dk with a crystal": ('[dispersion]\nmodel = "birefringent"\neps_perp = 2.25\neps_par = 2.4\n'
                                '[conventions]\ndk = "paper"\n', "conventions.dk", '"exact"'),
    "rest with a stack": ('[dispersion]\nmodel = "bragg"\nn1 = 1.5\nn2 = 2.0\nd1_um = 10.655\nd2_um = 7.991\n'
                          '[momentum]\ndistribution = "rest"\n', "momentum.distribution", "fermi-dirac"),
    "angle out of range": ("[grating]\nperiod_um = 20.0\nangle_deg = 200.0\n", "grating.angle_deg", "in [0, 180]"),
    "angle without period": ("[grating]\nangle_deg = 30.0\n", "grating.angle_deg", "grating.period_um"),
    "lossy crystal pole": ('[dispersion]\nmodel = "birefringent"\neps_perp = 2.25\neps_par = 2.4\n'
                           "poles_par = [{delta_eps = 0.5, omega_T_eV = 0.02, gamma_eV = 1e-6}]\n",
                           "dispersion.poles_par.0.gamma_eV", "allowed: 0"),
    "crystal pole above 2 m_i": ('[dispersion]\nmodel = "birefringent"\neps_perp = 2.25\neps_par = 2.4\n'
                                 "poles_perp = [{delta_eps = 0.5, omega_T_eV = 0.5}]\n",
                                 "dispersion.poles_perp.0.omega_T_eV", "below 2 m_i"),
    "stack without an axial root": ('[dispersion]\nmodel = "bragg"\nn1 = 1.5\nn2 = 2.0\nd1_um = 11.2\nd2_um = 8.4\n'
                                    "bands = 1\n", "dispersion", "no photon root at p = 0"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_three_d_input_is_one_line_naming_the_key_exit_2_nothing_written(tmp_path, case, capsys):
    text, key, allowed = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "fig.png"
    assert main(["fig2", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert key in captured.err and allowed in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert not out.exists() and captured.out == ""


def test_bad_three_d_input_exits_2_from_the_shell(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD["depth above 1"][0])
    result = run_cli("rate", str(path))
    assert result.returncode == 2 and "grating.depth" in result.stderr and result.stdout == ""


def test_rate_json_reports_the_grating_and_the_3d_average(capsys, tmp_path):
    path = tmp_path / "g.toml"
    path.write_text('[dispersion]\nmodel = "index"\nn = 1.5\n[grating]\nperiod_um = 20.0\ndepth = 0.5\n')
    assert main(["rate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["three_d"] is True and out["grating"]["depth"] == 0.5
    assert out["grating"]["angle_deg"] == 0.0  # the key is public: present, 0 for a grating along the axis
    assert out["grating"]["wavenumber_eV"] == pytest.approx(2 * np.pi / rates.constants.length_from_um(20.0))
    assert 0 < out["rate_rel_error"] < 1e-3 and out["flags"] == 0


def test_fig2_3d_contours_lie_on_the_modes_and_the_shell_is_kinematic():
    model = model_of(**STACK)
    data = fig2_data(model)
    three_d = data.three_d
    assert [c[0] for c in three_d.contours] == ["TE band 0", "TM band 0"]
    stack = model.dispersion
    for (label, kp, kz), pol in zip(three_d.contours, ("TE", "TM")):
        # On the contour: cos(k_z L) = f(E_vg, k_perp^2).
        f = np.asarray(stack.bloch_cosine(data.level_spacing, jnp.asarray(kp**2), pol))
        np.testing.assert_allclose(np.cos(kz * float(stack.period)), f, atol=1e-9)
        # It starts on the axis at the p = 0 root.
        assert kp[0] == 0.0 and kz[0] == pytest.approx(data.intersections[0].k, rel=1e-9)
    (g, g_perp, r_lo, r_rest, r_hi), = three_d.shells
    nu = model.neutrinos
    m_i, m_j, w = float(nu.m_initial), float(nu.m_final), data.level_spacing
    assert g == 0.0 and g_perp == 0.0 and r_rest == pytest.approx(np.sqrt((m_i - w) ** 2 - m_j**2))
    p_lo, _, p_hi = data.momenta
    assert r_lo < r_rest < r_hi and r_hi == pytest.approx(np.sqrt((np.hypot(m_i, p_hi) - w) ** 2 - m_j**2) + p_hi)


def test_fig2_of_a_grating_has_three_shells(tmp_path):
    model = model_of(**{"grating.period_um": 20.0})
    data = fig2_data(model)
    d = float(model.grating.wavenumber)
    assert [s[0] for s in data.three_d.shells] == pytest.approx([0.0, d, -d])
    assert main(["fig2", "--out", str(tmp_path / "f.png")]) == 0


@pytest.mark.audit  # ~35 s of compilation; the stack's layer gradient is in the default run (test_phase_matching)
def test_gradients_through_the_grating_keys_match_finite_differences():
    """d rate / d (grating period, depth, medium index): autodiff vs central differences.

    (The stack's layer keys: tests/test_phase_matching.py, at a band edge.)"""
    model = model_of(**{"dispersion.model": "index", "dispersion.n": 1.5, "grating.period_um": 19.0,
                        "grating.depth": 0.7})
    keys = {"dispersion.n": 1.5, "grating.period_um": 19.0, "grating.depth": 0.7}

    def rate(values):
        return rates.rate_result(with_parameters(model, values)).rate

    grad = jax.jit(jax.grad(rate))(keys)
    f = jax.jit(rate)
    for key, value in keys.items():
        h = 1e-5 * value
        fd = (float(f({**keys, key: value + h})) - float(f({**keys, key: value - h}))) / (2 * h)
        assert np.isfinite(float(grad[key]))
        assert float(grad[key]) == pytest.approx(fd, rel=1e-3, abs=1e-6 * abs(float(f(keys))) / value)


def test_fig2_of_a_tilted_grating_centres_the_shells_on_g(tmp_path):
    """The contour panel of a tilted grating: shells about +-G in the plane of the axis and G; JSON and title."""
    model = model_of(**{"dispersion.model": "birefringent", "dispersion.eps_perp": 2.25, "dispersion.eps_par": 2.4,
                        "dispersion.poles_par": [{"delta_eps": 0.25, "omega_T_eV": 0.0175}],
                        "grating.period_um": 80.0, "grating.angle_deg": 40.0})
    assert model.grating.tilted() and float(model.grating.angle) == pytest.approx(np.radians(40.0))
    data = fig2_data(model)
    d = float(model.grating.wavenumber)
    shells = data.three_d.shells
    c, s_ = d * np.cos(np.radians(40.0)), d * np.sin(np.radians(40.0))
    assert [tuple(s[:2]) for s in shells] == [(0.0, 0.0), pytest.approx((c, s_)), pytest.approx((-c, -s_))]
    assert "40° to the axis" in data.title and "1 lossless pole" in data.title
    # The open (hyperbolic) contour is drawn out to beyond the farthest shell, not to S_FAR.
    reach = max(np.hypot(s[0], s[1]) + s[4] for s in shells)
    for _, kp, _ in data.three_d.contours:
        assert np.max(kp) <= 1.5 * reach + 1e-12
