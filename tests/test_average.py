"""The momentum-averaged rate against SciPy adaptive quadrature, and its limits."""

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnbfluor import dispersion
from cnbfluor import rates
from tests.conftest import OMEGA_NO31, scenario_model
from tests.reference import ReferenceRate

T_FD = rates.constants.temperature_from_K(1.945)
DISTRIBUTIONS = {
    "rest": rates.Rest(),
    "fermi-dirac": rates.FermiDirac(T_FD),
    "maxwellian": rates.Maxwellian(1e-4),
    "monochromatic": rates.Monochromatic(3e-4),
}


def band(velocity):
    """A linear band through the vacuum intersection point (paper Fig. 2)."""
    w = OMEGA_NO31
    return dispersion.LinearBand(w, w, velocity, k_min=w - 0.01, k_max=w + 0.01)


MEDIA = {
    "vacuum": dispersion.Vacuum(k_max=0.1),
    "index-1.5": dispersion.ConstantIndex(1.5, k_max=0.2),
    **{f"band-vg{v:g}": band(v) for v in (1.0, 1e-2, 1e-4, 1e-6)},
}


def with_parts(model, dispersion_model=None, distribution=None, **medium):
    """The model with its dispersion, distribution or medium fields replaced."""
    if dispersion_model is not None:
        model = eqx.tree_at(lambda m: m.dispersion, model, dispersion_model)
    if distribution is not None:
        model = eqx.tree_at(lambda m: m.momentum, model, distribution)
    for name, value in medium.items():
        model = eqx.tree_at(lambda m: getattr(m.medium, name), model, jnp.asarray(value, dtype=float))
    return model


averaged = jax.jit(rates.averaged_rate)


@pytest.mark.slow
@pytest.mark.parametrize("dist", DISTRIBUTIONS)
@pytest.mark.parametrize("medium", MEDIA)
@pytest.mark.parametrize("detune", [0.0, 0.4])
def test_averaged_rate_matches_adaptive_quadrature(default_model, medium, dist, detune):
    """Agreement to 1e-4 (measured: ~1e-11 .. 5e-9) in every regime, on and off resonance.

    `detune` is in units of the smear v_g * T, so it stays inside the smear.
    """
    disp = MEDIA[medium]
    slope = float(disp.group_velocity(0.02))
    model = with_parts(
        default_model, disp, DISTRIBUTIONS[dist], detuning=detune * slope * 1e-4
    )
    ours = float(averaged(model))
    ref = ReferenceRate(model).averaged()
    assert ours == pytest.approx(ref, rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize(
    "updates",
    [
        {"medium.channel": "E1"},
        {"medium.channel": "E1M1", "medium.mixing": 0.3},
        {"neutrino.ordering": "IO", "neutrino.initial": 2, "neutrino.final": 1},
        {"conventions.dk": "paper"},
        {"medium.detuning_eV": 3e-4},  # far outside the smear: Lorentzian tail
        {"neutrino.lightest_mass_eV": 0.03, "momentum.distribution": "maxwellian"},
    ],
    ids=["E1", "E1M1", "IO-21", "dk-paper", "far-detuned", "heavy-m0"],
)
def test_other_channels_orderings_conventions_match_reference(updates):
    model = scenario_model(**updates)
    assert float(averaged(model)) == pytest.approx(ReferenceRate(model).averaged(), rel=1e-6, abs=0)


def test_flat_band_recovers_rest_frame_peak(default_model):
    """v_g -> 0: the photon energy no longer follows p, every neutrino is on resonance."""
    for v in (1e-7, 1e-9):
        model = with_parts(default_model, band(v))
        rest = float(rates.rest_rate(model))
        assert float(averaged(model)) == pytest.approx(rest, rel=2e-4)
    # ... and it is far above the vacuum average.
    assert float(averaged(default_model)) < 1e-3 * float(rates.rest_rate(default_model))


@pytest.mark.parametrize("dist", ["fermi-dirac", "maxwellian", "monochromatic"])
def test_vacuum_broad_smear_limit(default_model, dist):
    """Vacuum, nu3 -> nu1, m1 = 0, E_vg = omega_0: each p sweeps omega over a band of
    width p, and the Lorentzian integrates to pi/gamma over it, so
    <L> -> pi gamma <1/p> / gamma^2 relative to the peak 1/gamma^2."""
    distribution = DISTRIBUTIONS[dist]
    model = with_parts(default_model, distribution=distribution)
    gamma = 0.5 * float(model.medium.width)
    if dist == "monochromatic":
        mean_inverse = 1.0 / float(distribution.momentum)
    else:
        mean_inverse = float(distribution.mean_inverse_momentum())
    expected = float(rates.rest_rate(model)) * math.pi * gamma * mean_inverse
    assert float(averaged(model)) == pytest.approx(expected, rel=1e-3)


def test_majorana_doubles_and_scalings_are_linear():
    base = float(rates.event_rate(scenario_model()))
    assert float(rates.event_rate(scenario_model(**{"neutrino.nature": "majorana"}))) == pytest.approx(2 * base, rel=1e-14)
    assert float(rates.event_rate(scenario_model(**{"neutrino.clustering": 7.5}))) == pytest.approx(7.5 * base, rel=1e-13)
    assert float(rates.event_rate(scenario_model(**{"target.length_m": 6.0}))) == pytest.approx(8 * base, rel=1e-13)
    assert float(rates.event_rate(scenario_model(**{"neutrino.density_cm3": 56.0}))) == pytest.approx(base / 2, rel=1e-13)


def test_monochromatic_tends_to_rest_as_p_vanishes(default_model):
    """A slow monochromatic neutrino (v_g p << Gamma_v) sees the rest-frame rate."""
    model = with_parts(default_model, distribution=rates.Monochromatic(1e-10))
    assert float(averaged(model)) == pytest.approx(float(rates.rest_rate(model)), rel=1e-5, abs=0)


def test_vmap_over_designs_matches_loop(default_model):
    velocities = jnp.array([1.0, 1e-3, 1e-6])

    def rate_for(v):
        return rates.averaged_rate(with_parts(default_model, band(v)))

    batched = jax.jit(jax.vmap(rate_for))(velocities)
    # The same function one design at a time (the model closed over in both:
    # a model passed as a jit argument takes the general momentum rule, equal
    # to quadrature accuracy only; tests/test_momentum_integral.py).
    single = jax.jit(rate_for)
    looped = [float(single(v)) for v in velocities]
    np.testing.assert_allclose(batched, looped, rtol=1e-12)


def test_spectrum_integrates_to_rate_without_lorentzian(default_model):
    """Z^-1 integral S(omega) d omega is the rate with L = 1: check by a plain dense sum."""
    model = default_model
    omega = jnp.linspace(OMEGA_NO31 - 3e-3, OMEGA_NO31 + 3e-3, 200001)
    spectrum = rates.photon_spectrum(model, omega)
    integral = float(jnp.trapezoid(spectrum, omega)) / float(model.momentum.normalization())
    # With L -> 1 the averaged rate is <G D_k kappa> = G(omega_0) D_k (1 + O(p/m)).
    roots = rates.rest_roots(model)
    peak = float(rates.channel_strength(model.medium, model.neutrinos.mixing_squared(), roots.omega[0], roots.k[0]) * roots.dk[0])
    assert integral == pytest.approx(peak, rel=2e-2)
    assert np.all(np.asarray(spectrum) >= 0)


@pytest.mark.parametrize(
    "medium, dist", [("vacuum", "fermi-dirac"), ("band-vg0.0001", "maxwellian"), ("band-vg1e-06", "fermi-dirac"),
                     ("index-1.5", "monochromatic")],
)
def test_named_quadratures_against_adaptive_quadrature(default_model, medium, dist):
    """`fast` (used by quick scans) within 1e-4 of SciPy, `fine` within 1e-7."""
    model = with_parts(default_model, MEDIA[medium], DISTRIBUTIONS[dist], detuning=0.2e-4 * float(MEDIA[medium].group_velocity(0.02)))
    ref = ReferenceRate(model).averaged()
    for name, tol in (("fast", 1e-4), ("fine", 1e-7)):
        quad = dataclasses.replace(model, quadrature=rates.quadrature_named(name))
        assert float(jax.jit(rates.averaged_rate)(quad)) == pytest.approx(ref, rel=tol, abs=0), name
