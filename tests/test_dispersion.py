"""Dispersion models: closed forms, autodiff group velocity, pytree behaviour."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnbfluor import dispersion

MODELS = [
    dispersion.Vacuum(k_max=0.1),
    dispersion.ConstantIndex(1.7, k_max=0.2),
    dispersion.LinearBand(0.025, 0.03, 1e-4, k_min=0.02, k_max=0.04),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_inverse_and_group_velocity(model):
    k = jnp.linspace(model.k_min, model.k_max, 11)
    np.testing.assert_allclose(model.wavenumber(model.omega(k)), k, rtol=1e-12, atol=1e-15)
    # Closed-form slope of each linear model, and a central finite difference.
    expected = {"Vacuum": 1.0, "ConstantIndex": 1 / 1.7, "LinearBand": 1e-4}[type(model).__name__]
    np.testing.assert_allclose(model.group_velocity(k), expected, rtol=1e-13)
    h = 1e-4
    fd = (model.omega(k + h) - model.omega(k - h)) / (2 * h)
    np.testing.assert_allclose(model.group_velocity(k), fd, rtol=1e-6)


def test_models_are_pytrees_under_jit_vmap_grad():
    velocities = jnp.array([1e-6, 1e-3, 1.0])

    def omega_at(v):
        return dispersion.LinearBand(0.025, 0.025, v).omega(0.026)

    np.testing.assert_allclose(jax.vmap(jax.jit(omega_at))(velocities), 0.025 + velocities * 1e-3)
    np.testing.assert_allclose(jax.grad(omega_at)(0.5), 1e-3, rtol=1e-12)
    band = dispersion.LinearBand(0.025, 0.025, 1e-3)
    leaves = jax.tree_util.tree_leaves(band)
    assert len(leaves) == 5 and all(leaf.dtype == jnp.float64 for leaf in leaves)


def test_registry_and_unknown_model():
    assert set(dispersion.MODELS) == {"vacuum", "index", "linear-band", "lorentz", "tight-binding", "eit", "bragg", "bragg-isotropic", "birefringent", "spline"}
    assert isinstance(dispersion.make_dispersion("index", n=2.0), dispersion.ConstantIndex)
    with pytest.raises(ValueError, match="make_dispersion: unknown model 'slab'.*vacuum, index, linear-band, lorentz"):
        dispersion.make_dispersion("slab")


def test_describe_names_parameters():
    assert "n = 1.7" in MODELS[1].describe()
    assert "v_g = 0.0001" in MODELS[2].describe()
