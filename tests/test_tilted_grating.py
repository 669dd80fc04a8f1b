"""A grating tilted from the medium's axis: the azimuthal integral of the rate over the photon's 3-momentum.

The independent SciPy comparison of an anisotropic crystal with a tilted
grating is in tests/test_crystal_reference.py.
"""

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnbfluor import dispersion, rates
from tests.test_phase_matching import BASE, result, with_dispersion

INDEX = dispersion.ConstantIndex(1.5, k_max=0.2)


def index_with_grating(angle=None):
    plain = with_dispersion(BASE, INDEX)
    d = 0.5 * 1.5 * float(rates.level_spacing(plain))
    return with_dispersion(plain, INDEX, grating=rates.Grating(d, 1.0, angle))


def test_tilt_is_traced_or_concrete():
    assert not rates.Grating(0.01, 1.0).tilted() and not rates.Grating(0.01, 1.0, math.pi).tilted()
    assert rates.Grating(0.01, 1.0, 0.3).tilted()
    assert jax.jit(lambda a: jnp.asarray(rates.Grating(0.01, 1.0, a).tilted()))(0.0)
    # No angle: the axial path even when every leaf is traced (a model passed to jax.jit).
    assert not jax.jit(lambda g: jnp.asarray(g.tilted()))(rates.Grating(0.01, 1.0))


def test_scenario_angle_zero_has_no_angle_leaf_and_a_scanned_angle_tilts():
    from cnbfluor.scenario import build_model, check_parameter, default_scenario, with_parameters

    scenario = default_scenario().replace({"grating.period_um": 80.0, "grating.angle_deg": 0.0})
    model = build_model(scenario)
    assert model.grating.angle is None
    check_parameter(scenario, "grating.angle_deg")
    tilted = with_parameters(model, {"grating.angle_deg": 30.0})
    assert tilted.grating.tilted() and float(tilted.grating.angle) == pytest.approx(math.radians(30.0))
    assert build_model(scenario.replace({"grating.angle_deg": 30.0})).grating.tilted()


#: The azimuthal path costs ~56 nodes per contour node: minutes per compiled rate on 2 cores.
@pytest.mark.audit
def test_an_isotropic_medium_does_not_see_the_grating_direction():
    """For an index the rate cannot depend on the angle between D and the (arbitrary) axis.

    A concrete angle 0 takes the axial path (no azimuthal integral; checked
    against SciPy in tests/test_phase_matching.py); a traced angle the
    azimuthal one, here at 90 degrees, where |k - D| depends most on the
    azimuth. The `fast` quadrature keeps the suite quick (the tilted path
    costs ~56 azimuthal nodes per contour node); both sides use it.
    """
    model = dataclasses.replace(index_with_grating(), quadrature=rates.QUADRATURES["fast"])
    axial = result(model)
    assert not model.grating.tilted()
    tilted = jax.jit(lambda a: rates.rate_result(eqx.tree_at(lambda m: m.grating.angle, model, a, is_leaf=lambda x: x is None)))(0.5 * math.pi)
    assert int(tilted.flags) == 0 and int(axial.flags) == 0
    assert float(tilted.rate) == pytest.approx(float(axial.rate), rel=1e-5, abs=0)
    assert abs(float(tilted.rate - axial.rate)) <= float(tilted.error + axial.error)


def test_a_tilted_grating_with_monochromatic_neutrinos_keeps_the_index_rate():
    """The same check, cheap enough for the default suite: one momentum (no momentum integral)."""
    model = dataclasses.replace(index_with_grating(), quadrature=rates.QUADRATURES["fast"])
    model = eqx.tree_at(lambda m: m.momentum, model, rates.Monochromatic(3e-4))
    axial = result(model)
    tilted = jax.jit(lambda a: rates.rate_result(eqx.tree_at(lambda m: m.grating.angle, model, a, is_leaf=lambda x: x is None)))(0.5 * math.pi)
    assert int(tilted.flags) == 0 and float(axial.rate) > 0
    assert float(tilted.rate) == pytest.approx(float(axial.rate), rel=1e-5, abs=0)


def _extremes(mode, shift, perp):
    from cnbfluor.rates.phase_matching import _ExtremeBranch

    return [_ExtremeBranch(mode, jnp.asarray(shift), jnp.asarray(perp), largest) for largest in (False, True)]


def test_least_and_greatest_q_over_a_hemisphere_are_the_closed_forms():
    """Index n, |k| = K = n omega. Each term of the +-D pair integrates the half k_z >= 0 (the
    other half is the mirror term's), so its extremes of |k - G| are over that hemisphere:
    for G at polar angle theta, |K - D| and sqrt(K^2 + D^2 + 2 K D sin theta) (the equator
    opposite G); for the mirror term (polar angle pi - theta),
    sqrt(K^2 + D^2 - 2 K D sin theta) (the equator below G) and K + D. The pair's union
    holds the whole sphere's |K - D| and K + D; the derivatives in omega go through the
    golden section by the envelope theorem."""
    n, d, theta = 1.5, 0.03, 0.7
    mode = dispersion.Isotropic(dispersion.ConstantIndex(n, k_max=0.2)).modes()[0]
    along, across = d * math.cos(theta), d * math.sin(theta)
    (least, greatest), (m_least, m_greatest) = _extremes(mode, along, across), _extremes(mode, -along, across)
    for omega in (0.01, 0.0199, 0.05):  # K below, near and above D
        k = n * omega
        far, near = (math.sqrt(k * k + d * d + sign * 2 * k * d * math.sin(theta)) for sign in (1, -1))
        expected = [  # (branch, |q|, d|q|/d omega)
            (least, abs(k - d), math.copysign(n, k - d)),
            (greatest, far, n * (k + d * math.sin(theta)) / far),
            (m_least, near, n * (k - d * math.sin(theta)) / near),
            (m_greatest, k + d, n),
        ]
        for branch, value, slope in expected:
            assert float(branch.wavenumber(omega)) == pytest.approx(value, rel=1e-12, abs=1e-10 * k)
            assert float(jax.grad(branch.wavenumber)(omega)) == pytest.approx(slope, rel=1e-8)
    # The gradient in the grating vector: d|K - D|/d G = -sign(K - D) times G's direction.
    g = jax.grad(lambda s, p: _extremes(mode, s, p)[0].wavenumber(0.01), argnums=(0, 1))(along, across)
    assert np.allclose([float(x) for x in g], [math.cos(theta), math.sin(theta)], rtol=1e-8)


def test_least_and_greatest_q_over_a_half_spheroid_against_a_dense_scan():
    """Extraordinary mode k_perp^2/eps_par + k_z^2/eps_perp = omega^2, half k_z >= 0: the extremes
    of |k - G| (at the nearest and farthest azimuth) against a dense NumPy scan of the meridian,
    for both terms of the pair; the omega-derivative against a central difference."""
    eps_perp, eps_par = 2.25, 4.0
    medium = dispersion.Birefringent(eps_perp, eps_par, omega_max=0.1)
    mode = [m for m in medium.modes() if m.describe() == "extraordinary"][0]
    omega, d, theta = 0.02, 0.03, 0.9
    u = np.linspace(0.0, 0.5 * math.pi, 2_000_001)  # meridian angle from +z
    kz, kp = math.sqrt(eps_perp) * omega * np.cos(u), math.sqrt(eps_par) * omega * np.sin(u)
    for shift in (d * math.cos(theta), -d * math.cos(theta)):
        perp = d * math.sin(theta)
        least, greatest = _extremes(mode, shift, perp)
        assert float(least.wavenumber(omega)) == pytest.approx(np.hypot(kp - perp, kz - shift).min(), rel=1e-9)
        assert float(greatest.wavenumber(omega)) == pytest.approx(np.hypot(kp + perp, kz - shift).max(), rel=1e-9)
        h = 1e-7
        for branch in (least, greatest):
            fd = (float(branch.wavenumber(omega + h)) - float(branch.wavenumber(omega - h))) / (2 * h)
            assert float(jax.grad(branch.wavenumber)(omega)) == pytest.approx(fd, rel=1e-6)


def test_breakpoints_within_rounding_of_each_other_collapse_to_the_filler():
    """Two branches giving one kink to rounding must not leave a ~1e-16-wide panel (its nodes
    would sit on the kink): the later one becomes the filler; distinct points are kept."""
    from cnbfluor.rates.phase_matching import _without_near_duplicates

    a = 0.001
    points = jnp.array([0.03, 0.02, 0.02 * (1 + 3e-16), 0.02 * (1 + 1e-9), 0.01, 0.03])
    kept = np.asarray(_without_near_duplicates(points, a))
    assert kept.shape == points.shape
    assert sorted(kept.tolist()) == sorted([0.01, 0.02, a, 0.02 * (1 + 1e-9), 0.03, a])
    assert np.all(np.asarray(_without_near_duplicates(jnp.array([0.01, 0.02, 0.03]), a)) == [0.01, 0.02, 0.03])


def _birefringent_sideband():
    """The audit's birefringent case: eps 2.25 / 2.6, D = 0.75 E_vg at 0.7 rad; its extraordinary mode and +D term."""
    from cnbfluor.rates import phase_matching as pm

    crystal = dispersion.Birefringent(2.25, 2.6, omega_max=0.1)
    plain = with_dispersion(BASE, crystal)
    d = 0.75 * float(rates.level_spacing(plain))
    model = pm.with_concrete_facts(with_dispersion(plain, crystal, grating=rates.Grating(d, 1.0, 0.7)))
    shift, perp, _ = pm.grating_terms(model)[1]
    return model, crystal.modes()[-1], shift, perp


def test_a_shell_crossing_next_to_the_contour_end_leaves_the_sideband_smooth():
    """Regression: at 0.014350147 eV the kinematic shell crosses the extraordinary contour
    3e-9 (in t) from its equator end; the panel that crossing made had nodes where s rounded
    onto the end, k_z was floored to 1e-150 and T_s came out 1e75 (3e-59 around it).

    T_s is continuous in omega: the point must agree with its neighbours +-1e-9 eV
    to their own spread (the audit against SciPy: tests/test_crystal_reference.py).
    """
    from cnbfluor.rates import phase_matching as pm

    model, mode, shift, perp = _birefringent_sideband()
    omega = jnp.array([0.014350146, 0.014350147, 0.014350148])
    values, errors = jax.jit(lambda w: pm._contour_integral(model, mode, w, shift, perp))(omega)
    lo, mid, hi = (float(v) for v in values)
    assert all(math.isfinite(float(v)) and float(v) > 0.0 for v in values)
    assert mid == pytest.approx(0.5 * (lo + hi), rel=1e-6)
    assert 0.0 < float(errors[1]) < mid


def test_shell_crossings_next_to_an_end_snap_onto_it():
    from cnbfluor.rates.phase_matching import END_SNAP, _snapped_to_ends

    x = jnp.array([0.0, 0.5 * END_SNAP, 2.0 * END_SNAP, 0.5, 1.0 - 2.0 * END_SNAP, 1.0 - 0.5 * END_SNAP, 1.0])
    assert np.array_equal(np.asarray(_snapped_to_ends(x)), np.asarray(x).round(3) * [0, 0, 0, 1, 0, 1, 1]
                          + np.asarray(x) * [0, 0, 1, 0, 1, 0, 0])
    assert float(_snapped_to_ends(jnp.asarray(math.pi * (1 - 0.5 * END_SNAP)), math.pi)) == math.pi


def test_azimuth_nodes_give_the_distance_to_a_tilted_g_without_cancellation():
    """The azimuthal mean of |q|^2 is k_perp^2 + G_perp^2 + (k_z - G_z)^2 (the cross term
    averages out), and the least |q| is the distance of the ring from G, also where the
    surface passes 1e-11 eV from G (there A - B cos(phi) kept no digit of |q|, and a shell
    radius just beyond made a panel of nodes at phi ~ 1e-10)."""
    from cnbfluor.rates.phase_matching import _azimuth_nodes

    g_z, g_perp = 0.01, 0.02
    for k_perp, k_z in ((0.015, 0.004), (g_perp, g_z + 1e-11)):
        s, kz = jnp.asarray(k_perp**2), jnp.asarray(k_z)
        radii = jnp.array([1.5e-11, 0.011, 0.03])
        q, w_k, w_g = _azimuth_nodes(s, kz, jnp.asarray(g_z), jnp.asarray(g_perp), radii, 7)
        assert float(jnp.sum(w_k)) == pytest.approx(1.0, rel=1e-14)
        mean = k_perp**2 + g_perp**2 + (k_z - g_z) ** 2
        assert float(jnp.sum(w_k * q**2)) == pytest.approx(mean, rel=1e-13)
        least = math.hypot(k_perp - g_perp, k_z - g_z)
        assert float(jnp.min(q)) >= least * (1 - 1e-9)
