"""Gradients of the averaged rate: autodiff against finite differences, no NaN anywhere."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnbfluor import dispersion
from cnbfluor import rates
from tests.conftest import OMEGA_NO31, scenario_model

T_FD = rates.constants.temperature_from_K(1.945)
DISTRIBUTIONS = {
    "fermi-dirac": rates.FermiDirac(T_FD),
    "maxwellian": rates.Maxwellian(1e-4),
    "monochromatic": rates.Monochromatic(3e-4),
}
PARAMS = ("level_spacing", "velocity", "omega_c", "tau", "lightest_mass")


BASE = scenario_model(**{"medium.level_spacing_eV": OMEGA_NO31})


def make_model(theta, distribution, base=BASE):
    """Linear band + fixed level spacing, from a dict of the five parameters."""
    w = OMEGA_NO31
    band = dispersion.LinearBand(theta["omega_c"], w, theta["velocity"], k_min=w - 0.01, k_max=w + 0.01)
    model = eqx.tree_at(lambda m: m.dispersion, base, band)
    model = eqx.tree_at(lambda m: m.momentum, model, distribution)
    model = eqx.tree_at(lambda m: m.medium.level_spacing, model, theta["level_spacing"])
    model = eqx.tree_at(lambda m: m.medium.width, model, rates.constants.HBAR / theta["tau"])
    return eqx.tree_at(lambda m: m.neutrinos.lightest_mass, model, theta["lightest_mass"])


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
@pytest.mark.parametrize("velocity", [1.0, 1e-3, 1e-6])
def test_gradient_matches_finite_differences(dist, velocity):
    """d ln R / d theta by autodiff vs Richardson-extrapolated central differences.

    Steps are 1% of each parameter's natural scale (the smear v_g T or the width
    for energies; 5% for v_g, since for v_g = 1e-6 rounding of omega ~ 1e-18 eV
    already moves k by 1e-12 eV and puts ~1e-9 relative noise on the rate); agreement is 1e-5 relative, with an absolute floor of 1e-8 on
    the dimensionless sensitivity scale * d ln R / d theta, for parameters the
    rate hardly depends on (tau when the smear dwarfs the width).
    """
    gamma = rates.constants.HBAR / 1e-8
    energy_scale = max(gamma, velocity * 1e-4)
    theta0 = {
        "level_spacing": OMEGA_NO31 + 0.3 * energy_scale,
        "velocity": velocity,
        "omega_c": OMEGA_NO31,
        "tau": 1e-8,
        "lightest_mass": 0.01,
    }
    scales = {
        "level_spacing": energy_scale,
        "velocity": velocity,
        "omega_c": energy_scale,
        "tau": 1e-8,
        "lightest_mass": 0.01,
    }
    distribution = DISTRIBUTIONS[dist]
    log_rate = jax.jit(lambda th: jnp.log(rates.averaged_rate(make_model(th, distribution))))
    theta = {k: jnp.asarray(v) for k, v in theta0.items()}
    grads = jax.grad(log_rate)(theta)
    for name in PARAMS:
        h = (0.05 if name == "velocity" else 0.01) * scales[name]

        def central(step):
            up = dict(theta, **{name: theta[name] + step})
            down = dict(theta, **{name: theta[name] - step})
            return (float(log_rate(up)) - float(log_rate(down))) / (2 * step)

        fd = (4 * central(h / 2) - central(h)) / 3
        ad = float(grads[name])
        assert np.isfinite(ad)
        s = scales[name]
        assert abs(ad - fd) * s <= 1e-5 * abs(fd) * s + 1e-8, (name, ad, fd)


def test_gradients_finite_at_zero_mass_band_edges_and_off_window():
    """m0 = 0 (default), a band window that clips the photon support, far detuning."""
    model = scenario_model(**{
        "dispersion.model": "linear-band",
        "dispersion.omega_eV": OMEGA_NO31,
        "dispersion.k_eV": OMEGA_NO31,
        "dispersion.group_velocity": 0.5,
        "dispersion.k_min_eV": OMEGA_NO31 - 2e-5,
        "dispersion.k_max_eV": OMEGA_NO31 + 1e-5,
    })
    for detuning in (0.0, 1e-5, 5e-3):
        m = eqx.tree_at(lambda m: m.medium.detuning, model, jnp.asarray(detuning))
        grads = jax.grad(rates.event_rate)(m)
        leaves = jax.tree_util.tree_leaves(grads)
        assert all(np.all(np.isfinite(leaf)) for leaf in leaves)
        assert float(rates.event_rate(m)) > 0


def test_gradient_of_rest_rate_wrt_detuning_is_lorentzian_slope():
    """d/dE ln L = -2 Delta / (Delta^2 + gamma^2): a closed form at the rest frame."""
    model = scenario_model(**{"momentum.distribution": "rest"})
    gamma = 0.5 * float(model.medium.width)
    delta = 0.7 * gamma
    grad = jax.grad(
        lambda d: jnp.log(rates.rest_rate(eqx.tree_at(lambda m: m.medium.detuning, model, d)))
    )(jnp.asarray(delta))
    assert float(grad) == pytest.approx(-2 * delta / (delta**2 + gamma**2), rel=1e-9)
