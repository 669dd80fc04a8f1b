"""Physical dispersion models against independent results: LST, tight-binding, polariton rates."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import dispersion
import rates
from conftest import scenario_model
from reference import ReferenceRate

LORENTZ_SCENARIO = {
    "dispersion.model": "lorentz",
    "dispersion.eps_inf": 1.0,
    "dispersion.poles": [{"delta_eps": 0.5, "omega_T_eV": 0.02, "gamma_eV": 0.0}],
}


@pytest.mark.parametrize("eps_inf,delta_eps", [(1.0, 0.5), (2.5, 7.0), (10.0, 0.01)])
def test_lyddane_sachs_teller(eps_inf, delta_eps):
    """omega_L / omega_T = sqrt(eps(0) / eps_inf) for one oscillator."""
    medium = dispersion.Lorentz(eps_inf, [delta_eps], [0.03], [0.0], omega_max=0.2)
    omega_l = float(medium.longitudinal_frequencies()[0])
    assert omega_l / 0.03 == pytest.approx(math.sqrt((eps_inf + delta_eps) / eps_inf), rel=1e-12)


def test_generalised_lst_for_several_poles():
    """prod_j (omega_Lj / omega_Tj)^2 = eps(0) / eps_inf (Cochran-Cowley)."""
    medium = dispersion.Lorentz(2.0, [1.0, 0.3, 2.0], [0.01, 0.02, 0.05], [0.0, 0.0, 0.0], omega_max=0.3)
    omega_l = np.asarray(medium.longitudinal_frequencies())
    ratio = np.prod((omega_l / np.asarray(medium.omega_T)) ** 2)
    assert ratio == pytest.approx((2.0 + 1.0 + 0.3 + 2.0) / 2.0, rel=1e-10)
    windows = [tuple(map(float, b.omega_window())) for b in medium.branches()]
    assert len(windows) == 4 and all(lo < hi for lo, hi in windows)
    # No branch inside a band gap [omega_T, omega_L].
    for (lo, _), w_t, w_l in zip(windows[1:], medium.omega_T, omega_l):
        assert lo > w_l > w_t


def test_lorentz_wavenumber_and_group_velocity():
    medium = dispersion.Lorentz(1.0, [0.5], [0.02], [0.0], omega_max=0.2)
    lower, upper = medium.branches()
    for branch, w in [(lower, 0.015), (upper, 0.03)]:
        eps = 1.0 + 0.5 * 0.02**2 / (0.02**2 - w**2)
        assert float(branch.wavenumber(w)) == pytest.approx(w * math.sqrt(eps), rel=1e-13)
        h = 1e-7
        fd = 2 * h / (float(branch.wavenumber(w + h)) - float(branch.wavenumber(w - h)))
        assert float(branch.group_velocity_at(w)) == pytest.approx(fd, rel=1e-6)
        assert float(branch.attenuation(w)) == 0.0
    # Slow light near omega_T on the lower polariton.
    assert float(lower.group_velocity_at(0.0199)) < 0.05 * float(lower.group_velocity_at(0.01))


def test_lossy_lorentz_attenuation_is_im_k():
    medium = dispersion.Lorentz(1.0, [0.5], [0.02], [1e-4], omega_max=0.2)
    w = 0.03
    eps = 1.0 + 0.5 * 0.02**2 / (0.02**2 - w**2 - 1j * 1e-4 * w)
    k = w * np.sqrt(eps)
    branch = medium.branches()[1]
    assert float(branch.wavenumber(w)) == pytest.approx(k.real, rel=1e-12)
    assert float(branch.attenuation(w)) == pytest.approx(k.imag, rel=1e-10)
    assert k.imag > 0


def test_tight_binding_group_velocity_closed_form():
    band = dispersion.TightBinding(0.025, 2e-5, 101.4)
    k = jnp.linspace(0.001, math.pi / 101.4 - 0.001, 9)
    expected = 2 * 2e-5 * 101.4 * np.sin(np.asarray(k) * 101.4)
    np.testing.assert_allclose(band.group_velocity(k), expected, rtol=1e-12)
    np.testing.assert_allclose(band.group_velocity_at(band.omega(k)), expected, rtol=1e-8)
    np.testing.assert_allclose(band.wavenumber(band.omega(k)), k, rtol=1e-10)
    # Finite values and gradients at both zone edges (v_g = 0 there).
    for w in (0.025 - 4e-5, 0.025 + 4e-5):
        assert np.isfinite(float(band.wavenumber(w)))
        assert np.isfinite(float(jax.grad(lambda c: dispersion.TightBinding(0.025, c, 101.4).wavenumber(w))(2e-5)))


def test_both_polariton_roots_are_listed():
    model = scenario_model(**LORENTZ_SCENARIO)
    roots = rates.rest_roots(model)
    valid = np.asarray(roots.valid)
    assert valid.sum() == 2
    assert list(np.asarray(roots.branch)[valid]) == [0, 1]
    omegas = np.asarray(roots.omega)[valid]
    assert omegas[0] < 0.02 < 0.02 * math.sqrt(1.5) < omegas[1]
    m3 = math.sqrt(2.513e-3)
    for w in omegas:
        eps = 1.0 + 0.5 * 0.02**2 / (0.02**2 - w**2)
        assert w + w * math.sqrt(eps) == pytest.approx(m3, rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("distribution", ["fermi-dirac", "monochromatic"])
def test_lorentz_average_matches_reference_with_both_roots(distribution):
    """Measured: 4e-8 (Fermi-Dirac), 2e-10 (monochromatic); the issue asks for 1e-4."""
    model = scenario_model(**LORENTZ_SCENARIO, **{"momentum.distribution": distribution})
    ours = float(jax.jit(rates.averaged_rate)(model))
    reference = ReferenceRate(model)
    assert len(reference.roots(3e-4, 0.2)) == 2
    assert ours == pytest.approx(reference.averaged(epsrel=1e-6), rel=1e-5)


def test_lorentz_gradients_finite_and_match_finite_differences():
    from rates.scenario import with_parameters

    model = scenario_model(**LORENTZ_SCENARIO)
    log_rate = jax.jit(lambda d: jnp.log(rates.event_rate(with_parameters(model, {"dispersion.poles.0.delta_eps": d}))))
    g = float(jax.grad(log_rate)(0.5))
    h = 1e-4
    fd = (float(log_rate(0.5 + h)) - float(log_rate(0.5 - h))) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-5)
