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
