"""A uniaxial crystal with Lorentz poles per axis (PHYSICS.md Sec. 9): its modes, limits and gradients.

The independent SciPy comparison (an elliptic and a hyperbolic band) is in
tests/test_crystal_reference.py.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnbfluor import dispersion, rates
from tests.test_phase_matching import BASE, result, with_dispersion

#: One pole on each axis, the resonant photon (~0.018 eV) below both.
POLE = dict(delta_eps=0.5, omega_T=0.03)


def crystal(perp=POLE, par=POLE, eps_perp=2.25, eps_par=2.25, omega_max=0.1):
    kw = {}
    for name, pole in (("perp", perp), ("par", par)):
        if pole is not None:
            kw[f"delta_eps_{name}"] = [pole["delta_eps"]]
            kw[f"omega_T_{name}"] = [pole["omega_T"]]
    return dispersion.Birefringent(eps_perp, eps_par, omega_max=omega_max, **kw)


def test_equal_poles_on_both_axes_are_the_isotropic_lorentz_medium():
    """eps_perp(omega) = eps_par(omega): ordinary and extraordinary each carry half the Lorentz rate.

    The Lorentz medium takes the isotropic average (its own branches and
    windows); the crystal takes the contour integral with the dispersive
    extraordinary mode, so the two share no integration code.
    """
    lorentz = dispersion.Lorentz(2.25, [POLE["delta_eps"]], [POLE["omega_T"]], [0.0], omega_max=0.1)
    flat = result(with_dispersion(BASE, lorentz))
    model = with_dispersion(BASE, crystal())
    parts = eqx.filter_jit(rates.mode_rate_results)(model)
    labels = [label for label, _ in parts]
    assert labels[-1] == "extraordinary" and all(lab.startswith("ordinary") for lab in labels[:-1])
    ordinary = sum(float(r.rate) for _, r in parts[:-1])
    extraordinary = float(parts[-1][1].rate)
    want = 0.5 * float(flat.rate)
    assert ordinary == pytest.approx(want, rel=1e-6, abs=0)
    assert extraordinary == pytest.approx(want, rel=1e-6, abs=0)
    assert abs(extraordinary - want) <= float(parts[-1][1].error + 0.5 * flat.error)


@pytest.mark.parametrize("regime,omega", [("ellipse", 0.02), ("hyperbola, eps_par < 0", 0.0303),
                                          ("hyperbola, eps_perp < 0", 0.0303)])
def test_axial_slope_is_the_derivative_of_the_contour(regime, omega):
    """|dk_z/d omega| at fixed k_perp (closed form with d eps/d omega of both axes) against autodiff of k_z."""
    if regime == "hyperbola, eps_perp < 0":
        medium = crystal(par=None, eps_par=2.6)
    else:
        medium = crystal(perp=None, eps_perp=2.6) if regime != "ellipse" else crystal(par=dict(delta_eps=0.2, omega_T=0.04))
    mode = medium.modes()[-1]
    (e_perp, _), (e_par, _) = medium.permittivities(jnp.asarray(omega))
    expected = {"ellipse": (e_perp > 0) & (e_par > 0), "hyperbola, eps_par < 0": (e_perp > 0) & (e_par < 0),
                "hyperbola, eps_perp < 0": (e_perp < 0) & (e_par > 0)}[regime]
    assert bool(expected)
    s_lo, s_hi, _, _ = mode.perp_interval(jnp.asarray(omega))
    s_hi = jnp.minimum(s_hi, s_lo + 4.0 * omega**2)  # open contours: a stretch near their start
    s = s_lo + (s_hi - s_lo) * jnp.linspace(0.05, 0.95, 7)
    slope = mode.axial_slope(jnp.asarray(omega), s)
    auto = jax.vmap(jax.grad(lambda w, ss: mode.axial_wavenumber(w, ss)), in_axes=(None, 0))(jnp.asarray(omega), s)
    np.testing.assert_allclose(np.asarray(slope), np.abs(np.asarray(auto)), rtol=1e-9)
    # On the contour: k_perp^2 / eps_par + k_z^2 / eps_perp = omega^2.
    kz = mode.axial_wavenumber(jnp.asarray(omega), s)
    np.testing.assert_allclose(np.asarray(s / e_par + kz**2 / e_perp), omega**2, rtol=1e-10)


def test_without_poles_the_crystal_keeps_its_constant_modes():
    plain = dispersion.Birefringent(2.25, 2.6, omega_max=0.1)
    assert not plain.dispersive and [m.describe() for m in plain.modes()] == ["ordinary", "extraordinary"]
    assert crystal().dispersive
    with pytest.raises(ValueError, match="delta_eps_par"):
        dispersion.Birefringent(2.25, 2.6, delta_eps_par=[0.1, 0.2], omega_T_par=[0.03])


def test_critical_frequencies_are_the_poles_and_zeros_of_both_axes():
    medium = crystal(par=dict(delta_eps=0.2, omega_T=0.04))
    points = np.sort(np.asarray(medium.critical_frequencies()))
    (e_perp, _), (e_par, _) = medium.permittivities(jnp.asarray(points))
    assert points.shape == (4,)
    np.testing.assert_allclose(points[[0, 2]], [0.03, 0.04])
    # The zeros: omega_L of each axis, where its permittivity vanishes.
    assert abs(float(e_perp[1])) < 1e-9 and abs(float(e_par[3])) < 1e-9


def test_gradients_through_the_poles_match_finite_differences_in_the_hyperbolic_band():
    """A pole along the axis just below the resonant photon: E_vg in the band where eps_par < 0."""
    medium = crystal(perp=None, eps_perp=2.25, par=dict(delta_eps=0.2, omega_T=0.0175))
    model = eqx.tree_at(lambda m: m.medium.detuning, with_dispersion(BASE, medium), jnp.asarray(-0.0021))
    (e_perp, _), (e_par, _) = medium.permittivities(rates.level_spacing(model))
    assert float(e_perp) > 0 > float(e_par)

    def rate(x):
        d = eqx.tree_at(lambda m: (m.dispersion.omega_T_par, m.dispersion.delta_eps_par), model,
                        (x[0:1], x[1:2]))
        r = rates.rate_result(d)
        return r.rate, r

    x0 = jnp.asarray([0.0175, 0.2])
    value_and_grad = jax.jit(jax.value_and_grad(rate, has_aux=True))  # one compiled program for all of it
    (value, res), grad = value_and_grad(x0)
    assert int(res.flags) == 0 and float(value) > 0 and np.all(np.isfinite(np.asarray(grad)))
    for i, h in enumerate([2e-8, 2e-5]):
        step = jnp.zeros(2).at[i].set(h)
        fd = (float(value_and_grad(x0 + step)[0][0]) - float(value_and_grad(x0 - step)[0][0])) / (2 * h)
        assert float(grad[i]) == pytest.approx(fd, rel=1e-4)
