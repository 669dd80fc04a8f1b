"""The rate over the photon's 3-momentum (PHYSICS.md Sec. 9) against the isotropic average and its limits."""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnbfluor import dispersion, rates
from tests.conftest import scenario_model

BASE = scenario_model()
result = jax.jit(rates.rate_result)


def with_dispersion(model, medium, **fields):
    model = eqx.tree_at(lambda m: m.dispersion, model, medium)
    for name, value in fields.items():
        model = eqx.tree_at(lambda m: getattr(m, name), model, value, is_leaf=lambda x: x is None)
    return model


ISOTROPIC = {
    "vacuum": dispersion.Vacuum(k_max=0.1),
    "index-1.5": dispersion.ConstantIndex(1.5, k_max=0.2),
    "slow-band": dispersion.LinearBand(0.0248, 0.0253, 1e-2, k_min=0.015, k_max=0.035),
}


@pytest.mark.parametrize("name,detuning", [("vacuum", 0.0), ("slow-band", 3e-6),
                                            pytest.param("index-1.5", 3e-6, marks=pytest.mark.audit)])
def test_isotropic_medium_through_the_3d_path_equals_the_isotropic_average(name, detuning):
    """`Isotropic(model)` takes the contour integral; it must give the isotropic rate to 1e-6."""
    flat = eqx.tree_at(lambda m: m.medium.detuning, with_dispersion(BASE, ISOTROPIC[name]), jnp.asarray(detuning))
    three_d = with_dispersion(flat, dispersion.Isotropic(ISOTROPIC[name]))
    a, b = result(flat), result(three_d)
    assert int(a.flags) == 0 and int(b.flags) == 0
    assert float(b.rate) == pytest.approx(float(a.rate), rel=1e-6, abs=0)
    # The error estimate stays an honest bound of the difference.
    assert abs(float(b.rate - a.rate)) <= float(a.error + b.error)


def test_equal_permittivities_and_equal_layers_reproduce_the_index_model():
    index = with_dispersion(BASE, dispersion.ConstantIndex(1.5, k_max=0.2))
    reference = float(result(index).rate)
    crystal = with_dispersion(BASE, dispersion.Birefringent(2.25, 2.25, omega_max=0.2))
    stack = with_dispersion(BASE, dispersion.Stack(n1=1.5, d1=40.0, n2=1.5, d2=60.0, n_bands=2))
    for model in (crystal, stack):
        assert float(result(model).rate) == pytest.approx(reference, rel=1e-6, abs=0)


def test_normal_incidence_te_equals_tm_equals_the_axial_relation():
    stack = dispersion.Stack(n1=1.5, d1=56.6, n2=2.0, d2=42.4)
    omega = jnp.linspace(1e-3, 0.08, 301)
    axial = stack.axis_model().bloch_cosine(omega)
    for pol in dispersion.POLARIZATIONS:
        np.testing.assert_allclose(stack.bloch_cosine(omega, 0.0, pol), axial, rtol=0, atol=1e-14)


def test_stack_contours_against_the_complex_bloch_relation():
    """Every contour point satisfies cos(k_z L) = f with f from complex q_i (evanescent layers included)."""
    stack = dispersion.Stack(n1=1.5, d1=56.6, n2=2.0, d2=42.4, n_bands=2)
    n1, d1, n2, d2 = 1.5, 56.6, 2.0, 42.4
    for mode in stack.modes():
        omega = jnp.linspace(0.005, 0.045, 9)
        s_lo, s_hi, _, _ = mode.perp_interval(omega)
        for w, a, b in zip(np.asarray(omega), np.asarray(s_lo), np.asarray(s_hi)):
            if b <= a:
                continue
            for s in np.linspace(a, b, 7)[1:-1]:
                q1, q2 = np.sqrt(complex(n1**2 * w**2 - s)), np.sqrt(complex(n2**2 * w**2 - s))
                e1, e2 = (q1, q2) if mode.polarization == "TE" else (q1 / n1**2, q2 / n2**2)
                f = (np.cos(q1 * d1) * np.cos(q2 * d2) - 0.5 * (e1 / e2 + e2 / e1) * np.sin(q1 * d1) * np.sin(q2 * d2)).real
                kz = float(mode.axial_wavenumber(w, s))
                assert np.cos(kz * (d1 + d2)) == pytest.approx(f, abs=1e-9)
                # k_z lies in the band's extended zone.
                zone = kz * (d1 + d2) / np.pi
                assert mode.band - 1e-9 <= zone <= mode.band + 1 + 1e-9


def test_three_d_gradients_match_finite_differences_at_a_band_edge():
    """d rate / d d1 of a stack with E_vg just below the axial band edge: finite, and equal to central differences."""

    def rate_of(d1):
        stack = dispersion.Stack(n1=1.5, d1=d1, n2=2.0, d2=40.5, n_bands=1)
        return rates.rate_result(with_dispersion(BASE, stack)).rate

    d1, h = 54.0, 1e-3  # E_vg 4.5e-5 eV below the axial band edge
    # One compiled program for the point and its two neighbours (the suite's time is compiles).
    values, grads = jax.jit(jax.vmap(jax.value_and_grad(rate_of)))(jnp.array([d1 - h, d1, d1 + h]))
    value, grad = float(values[1]), float(grads[1])
    assert np.isfinite(value) and np.isfinite(grad) and value > 0.0
    fd = (float(values[2]) - float(values[0])) / (2 * h)
    assert grad == pytest.approx(fd, rel=2e-3, abs=0)


def test_three_d_rejects_what_has_no_meaning():
    crystal = with_dispersion(BASE, dispersion.Birefringent(2.25, 2.4))
    with pytest.raises(ValueError, match="dk"):
        rates.rate_result(dataclasses.replace(crystal, dk="paper"))
    with pytest.raises(ValueError, match="rest"):
        rates.rate_result(eqx.tree_at(lambda m: m.momentum, crystal, rates.Rest()))


# --- Against the independent SciPy reference (tests/reference3d.py) -----------------------

from tests import reference3d as r3  # noqa: E402


def _reference(model, modes, g=0.0, h=None, epsrel=1e-7):
    """sum_s w_s C R_s from the reference, C the M1 prefactor (a = C |k|^2 / omega)."""
    nu = model.neutrinos
    e_vg = float(rates.level_spacing(model))
    prefactor = float(rates.channel_strength(model.medium, nu.mixing_squared(), 1.0, 1.0))
    args = dict(m_i=float(nu.m_initial), m_j=float(nu.m_final), T=float(model.momentum.temperature),
                e_vg=e_vg, width=float(model.medium.width), epsrel=epsrel)
    total = 0.0
    for weight, mode in modes:
        if h is None:
            total += weight * r3.mode_rate(mode, g=g, **args)
        else:
            total += weight * r3.grating_rate(mode, g=g, h=h, **args)
    return prefactor * total


STACK = dict(n1=1.5, d1=55.7, n2=2.0, d2=41.78)


@pytest.mark.slow
@pytest.mark.parametrize("d1", [pytest.param(54.0, marks=pytest.mark.audit), 54.6])
def test_stack_band_edge_rate_against_scipy(d1):
    """TE + TM band 0 with E_vg 1e-4 and 2e-5 eV below the axial band edge vs nested adaptive quadrature."""
    layers = dict(STACK, d1=d1, d2=d1 * 0.75)
    stack = dispersion.Stack(**layers, n_bands=1)
    model = with_dispersion(BASE, stack)
    got = result(model)
    assert int(got.flags) == 0
    modes = [(0.5, r3.StackMode(*layers.values(), pol, 0)) for pol in ("TE", "TM")]
    want = _reference(model, modes)
    assert float(got.rate) == pytest.approx(want, rel=1e-5, abs=0)
    assert abs(float(got.rate) - want) <= float(got.error)


@pytest.mark.slow
def test_birefringent_crystal_against_scipy():
    crystal = dispersion.Birefringent(2.25, 2.6, omega_max=0.2)
    model = with_dispersion(BASE, crystal)
    got = result(model)
    want = _reference(model, [(0.5, r3.Ordinary(2.25)), (0.5, r3.Extraordinary(2.25, 2.6))])
    assert float(got.rate) == pytest.approx(want, rel=1e-5, abs=0)


@pytest.mark.slow
def test_grating_against_scipy():
    """Index 1.5 with a grating of half the resonant wavenumber, h = 1: G = 0 and +-D terms."""
    medium = dispersion.ConstantIndex(1.5, k_max=0.2)
    plain = with_dispersion(BASE, medium)
    d = 0.5 * 1.5 * float(rates.level_spacing(plain))
    model = with_dispersion(plain, medium, grating=rates.Grating(d, 1.0))
    got = result(model)
    want = _reference(with_dispersion(model, dispersion.Isotropic(medium)), [(1.0, r3.Index(1.5))], g=d, h=1.0)
    assert float(got.rate) == pytest.approx(want, rel=1e-5, abs=0)
    # h = 0 is the medium without a grating (through the 3-D path: to its 1e-6), and the sidebands add.
    flat = float(result(plain).rate)
    zero = float(result(with_dispersion(plain, medium, grating=rates.Grating(d, 0.0))).rate)
    assert zero == pytest.approx(flat, rel=1e-6, abs=0) and float(got.rate) > flat


def test_lossy_medium_through_the_3d_path_detects_what_the_isotropic_average_detects():
    """A lossy Lorentz medium with a detector: the 3-D path weighs photons with the same escape probability."""
    model = scenario_model(**{"dispersion.model": "lorentz", "dispersion.eps_inf": 1.0,
                              "dispersion.poles": [{"delta_eps": 1e-3, "omega_T_eV": 0.0245, "gamma_eV": 1e-6}],
                              "detector.efficiency": 0.5})
    flat = result(model)
    three_d = result(with_dispersion(model, dispersion.Isotropic(model.dispersion)))
    assert float(flat.detected) < 0.01 * float(flat.rate)  # the photons mostly do not escape
    assert float(three_d.rate) == pytest.approx(float(flat.rate), rel=1e-6, abs=0)
    assert float(three_d.detected) == pytest.approx(float(flat.detected), rel=1e-6, abs=0)
