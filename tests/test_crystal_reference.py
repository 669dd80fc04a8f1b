"""Crystals with Lorentz poles per axis and tilted gratings against the independent SciPy reference.

The reference (`tests/reference3d.py`: `DispersiveExtraordinary`,
`tilted_mode_rate`) shares no code with the package: it integrates both signs
of k_z, writes the extraordinary wave with 1/eps (no pole is ever evaluated)
and averages the azimuth exactly (an incomplete elliptic integral inside the
momentum integral), where the package uses Gauss-Kronrod panels in phi.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

from cnbfluor import dispersion, rates
from tests import reference3d as r3
from tests.test_phase_matching import BASE, with_dispersion

#: A pole at 0.0175 eV (delta_eps 0.25 on eps_inf 2.25): eps < 0 up to omega_L = 0.018447 eV.
POLE = dict(delta_eps=0.25, omega_T=0.0175)
EPS_POLE = r3.LorentzEps(2.25, [(POLE["delta_eps"], POLE["omega_T"])])
#: The level spacing inside that band, where both hyperbolic surfaces hold kinematic photons.
E_VG = 0.018

extraordinary_result = eqx.filter_jit(lambda model: rates.mode_rate_results(model)[-1][1])


def crystal_model(axis, e_vg=E_VG, grating=None):
    """The default scenario with a crystal whose `axis` ("perp" or "par") has the pole; E_vg fixed."""
    kw = {f"delta_eps_{axis}": [POLE["delta_eps"]], f"omega_T_{axis}": [POLE["omega_T"]]}
    model = with_dispersion(BASE, dispersion.Birefringent(2.25, 2.25, omega_max=0.1, **kw), grating=grating)
    detuning = e_vg - float(rates.level_spacing(eqx.tree_at(lambda m: m.medium.detuning, model, jnp.asarray(0.0))))
    return eqx.tree_at(lambda m: m.medium.detuning, model, jnp.asarray(detuning))


def reference(model, mode, g=0.0, theta=None, epsrel=1e-7):
    """The package's normalisation of one polarization (weight 1/2) of the reference's per-mode rate."""
    nu = model.neutrinos
    prefactor = float(rates.channel_strength(model.medium, nu.mixing_squared(), 1.0, 1.0))
    args = dict(m_i=float(nu.m_initial), m_j=float(nu.m_final), T=float(model.momentum.temperature),
                e_vg=float(rates.level_spacing(model)), width=float(model.medium.width), epsrel=epsrel, g=g)
    value = r3.mode_rate(mode, **args) if theta is None else r3.tilted_mode_rate(mode, theta=theta, **args)
    return 0.5 * prefactor * value


def bound(model, g=0.0):
    nu = model.neutrinos
    return r3.k_perp_bound(float(nu.m_initial), float(nu.m_final), float(model.momentum.temperature), g)


@pytest.mark.slow
@pytest.mark.parametrize("axis", ["par", "perp"])
def test_hyperbolic_band_against_scipy(axis):
    """E_vg where one permittivity is negative: the extraordinary iso-frequency surface is an open hyperbola.

    axis = "par": eps_par < 0 < eps_perp (the surface runs through the axis);
    axis = "perp": eps_perp < 0 < eps_par (it starts at a band edge off the axis).
    """
    model = crystal_model(axis)
    (e_perp, _), (e_par, _) = model.dispersion.permittivities(jnp.asarray(E_VG))
    assert (float(e_par) if axis == "par" else float(e_perp)) < 0.0
    got = extraordinary_result(model)
    assert int(got.flags) == 0 and float(got.rate) > 0.0
    eps = {"perp": 2.25, "par": 2.25}
    eps[axis] = EPS_POLE
    want = reference(model, r3.DispersiveExtraordinary(eps["perp"], eps["par"], k_max=bound(model)))
    assert float(got.rate) == pytest.approx(want, rel=1e-5, abs=0)
    assert abs(float(got.rate) - want) <= float(got.error)


#: Tilted gratings take the azimuthal integral (tens of seconds per rate on 2 cores): outside the default suite.
@pytest.mark.audit
@pytest.mark.parametrize("case", ["index", "birefringent", "hyperbolic"])
def test_tilted_grating_term_against_scipy(case):
    """One sideband G = D (sin theta, 0, cos theta), theta = 0.7, against the reference's exact azimuth."""
    theta = 0.7
    if case == "hyperbolic":
        model = crystal_model("par")
        d = 0.015
        mode = r3.DispersiveExtraordinary(2.25, EPS_POLE, k_max=bound(model, d))
    else:
        medium = dispersion.ConstantIndex(1.5, k_max=0.2) if case == "index" else dispersion.Birefringent(2.25, 2.6,
                                                                                                           omega_max=0.1)
        model = with_dispersion(BASE, medium)
        d = 0.75 * float(rates.level_spacing(model))
        mode = r3.Index(1.5) if case == "index" else r3.Extraordinary(2.25, 2.6)
    # The sidebands alone: (h = 1) - (h = 0) of the same compiled program is (1/4)[(+D) + (-D)].
    tilted = with_dispersion(model, model.dispersion, grating=rates.Grating(d, 1.0, theta))
    flat = with_dispersion(model, model.dispersion, grating=rates.Grating(d, 0.0, theta))
    part = (lambda m: rates.mode_rate_results(m)[-1][1]) if case != "index" else rates.rate_result
    assert tilted.grating.tilted()
    both = jax.jit(jax.vmap(part))(jax.tree.map(lambda a, b: jnp.stack([a, b]), tilted, flat))
    side = 4.0 * float(both.rate[0] - both.rate[1])
    weight = 1.0 if case == "index" else 0.5
    want = reference(model, mode, g=d, theta=theta) + reference(model, mode, g=-d, theta=theta)
    want = want * weight / 0.5
    assert side == pytest.approx(want, rel=1e-5, abs=0)
    assert math.isfinite(float(both.error[0]))
