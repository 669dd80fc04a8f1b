"""Photon escape from a lossy medium and the detector window."""

import json
import math

import jax
import numpy as np
import pytest

from cnbfluor import rates
from tests.conftest import scenario_model
from cnbfluor.cli import main

LOSSY = {
    "dispersion.model": "lorentz",
    "dispersion.eps_inf": 1.0,
    "dispersion.poles": [{"delta_eps": 0.5, "omega_T_eV": 0.02, "gamma_eV": 1e-9}],
}


def test_escape_probability_closed_form_and_limits():
    length = 1.0e7
    for im_k in [0.0, 1e-12, 1e-9, 1e-7]:
        x = 2 * im_k * length
        expected = 1.0 if x == 0 else (1 - math.exp(-x)) / x
        assert float(rates.escape_probability(im_k, length)) == pytest.approx(expected, rel=1e-12)
    g = jax.grad(lambda a: rates.escape_probability(a, length))(0.0)
    assert float(g) == pytest.approx(-length, rel=1e-12)  # d/da (1 - a l + ...) at 0


def test_detected_rate_lossless_full_window_is_efficiency_times_rate():
    model = scenario_model(**{"detector.efficiency": 0.25})
    total, detected = (float(x) for x in rates.averaged_rates(model))
    assert detected == pytest.approx(0.25 * total, rel=1e-12)


def test_detected_rate_with_loss_and_window():
    model = scenario_model(**LOSSY, **{"detector.efficiency": 0.5, "detector.energy_window_eV": [0.015, 0.02]})
    total, detected = (float(x) for x in rates.averaged_rates(model))
    roots = rates.rest_roots(model)
    lower = model.dispersion.branches()[0]
    p_esc = float(rates.escape_probability(lower.attenuation(roots.omega[0]), model.length))
    # Only lower-polariton photons (omega ~ 0.0177 eV) are in the window; the upper
    # branch (0.0289 eV, far off resonance) contributes ~1e-6 of the total.
    assert detected == pytest.approx(0.5 * p_esc * total, rel=1e-4)
    assert 0.9 < p_esc < 0.99
    closed = scenario_model(**LOSSY, **{"detector.energy_window_eV": [0.03, 0.04]})
    assert float(rates.averaged_rates(closed)[1]) < 1e-4 * total


def test_rate_json_reports_detection_only_with_a_detector(tmp_path, capsys):
    path = tmp_path / "lossy.toml"
    path.write_text(
        '[dispersion]\nmodel = "lorentz"\neps_inf = 1.0\n'
        'poles = [{delta_eps = 0.5, omega_T_eV = 0.02, gamma_eV = 1e-9}]\n'
        '[detector]\nefficiency = 0.5\nenergy_window_eV = [0.015, 0.02]\n'
    )
    assert main(["rate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert 0 < out["detected_rate_per_year"] < 0.5 * out["rate_per_year"]
    assert 0.9 < out["escape_probability"] < 1.0
    assert [r["branch"] for r in out["roots"]] == [0, 1]
    assert all("escape_probability" in r for r in out["roots"])
    assert main(["rate", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert "detected_rate_per_year" not in plain and "escape_probability" not in plain


def test_detector_errors():
    from cnbfluor.scenario import ScenarioError, parse_scenario

    with pytest.raises(ScenarioError, match=r"detector.efficiency: 1.5 is out of range; allowed: in \(0, 1\]"):
        parse_scenario({"detector": {"efficiency": 1.5}})
    with pytest.raises(ScenarioError, match=r"detector.energy_window_eV: expected window"):
        parse_scenario({"detector": {"energy_window_eV": [0.03, 0.01]}})


def test_lossy_gradients_are_finite():
    model = scenario_model(**LOSSY, **{"detector.efficiency": 0.5})
    grads = jax.grad(lambda m: rates.averaged_rates(m)[1])(model)
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(grads))


def test_an_open_window_adds_no_breakpoints_and_changes_nothing():
    """A window known to be open (concrete ends 0 and inf) gives no photon-energy breakpoints; a
    wide finite window's ends clip onto the support's and add only empty panels: same rates."""
    import dataclasses

    import equinox as eqx

    assert rates.Detector().window_is_open()
    assert not rates.Detector(window_lo=0.02).window_is_open()
    assert not rates.Detector(window_hi=1.0).window_is_open()
    seen = []
    jax.jit(lambda d: seen.append(d.window_is_open()) or 0.0)(rates.Detector())
    assert seen == [False]  # traced ends: not known
    model = scenario_model()
    wide = dataclasses.replace(model, detector=rates.Detector(window_lo=1e-6, window_hi=10.0))
    assert rates.Detector().window_points().shape == (0,) and wide.detector.window_points().shape == (2,)
    for m in (model, eqx.tree_at(lambda x: x.medium.detuning, model, 3e-5)):
        open_, closed = rates.rate_result(m), rates.rate_result(dataclasses.replace(m, detector=wide.detector))
        assert float(open_.rate) == pytest.approx(float(closed.rate), rel=1e-13, abs=0)
        assert float(open_.detected) == pytest.approx(float(closed.detected), rel=1e-13, abs=0)
