"""Photon roots, D_k, kappa and the allowed-momentum interval against closed forms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cnbfluor import dispersion
from cnbfluor import rates

M3, M1 = math.sqrt(2.513e-3), 0.0


def vacuum_root(m_i, m_j, p, c):
    """omega = k: k* = (m_i^2 - m_j^2) / (2 (E_i - p c)) (energy-momentum conservation)."""
    return (m_i**2 - m_j**2) / (2 * (math.sqrt(m_i**2 + p**2) - p * c))


@pytest.mark.parametrize("p,c", [(0.0, 0.0), (1e-4, -1.0), (3e-4, 0.3), (2e-3, 1.0)])
@pytest.mark.parametrize("m_j", [0.0, 0.02])
def test_vacuum_roots_closed_form(p, c, m_j):
    roots = rates.photon_roots(dispersion.Vacuum(), M3, m_j, p, c)
    assert bool(roots.valid[0]) and not bool(roots.valid[1])
    k = float(roots.k[0])
    assert k == pytest.approx(vacuum_root(M3, m_j, p, c), rel=1e-13)
    e_out = math.sqrt(m_j**2 + p**2 + k**2 - 2 * p * k * c)
    assert float(roots.dk[0]) == pytest.approx(1 / (1 + (k - p * c) / e_out), rel=1e-12)
    beta = math.sqrt(e_out**2 - m_j**2) / e_out
    assert float(roots.kappa[0]) == pytest.approx((1 + beta) / 2, rel=1e-12)


def test_paper_dk_statement():
    """nu3 -> nu1 in vacuum, m1 = 0, at rest: the definition gives D_k = 1/2 (the definition below the paper's Eq. (16))."""
    roots = rates.photon_roots(dispersion.Vacuum(), M3, M1, 0.0, 0.0)
    assert float(roots.dk[0]) == pytest.approx(0.5, rel=1e-14)
    assert float(roots.omega[0]) == pytest.approx(M3 / 2, rel=1e-14)


def test_index_root_closed_form():
    """omega = k/n at p = 0, m_j = 0: k/n + k = m_i, so k = n m_i / (n + 1)."""
    n = 1.5
    roots = rates.photon_roots(dispersion.ConstantIndex(n, k_max=1.0), M3, 0.0, 0.0, 0.0)
    assert float(roots.k[0]) == pytest.approx(n * M3 / (n + 1), rel=1e-13)


def test_root_derivatives_are_implicit_derivatives():
    """dk*/dp and dk*/dm_i through the solver equal the closed form's derivatives."""
    p, c = 2e-4, 0.4
    grads = jax.grad(
        lambda m, pp: rates.photon_roots(dispersion.Vacuum(), m, 0.0, pp, c).k[0], argnums=(0, 1)
    )(M3, p)
    exact = jax.grad(
        lambda m, pp: m**2 / (2 * (jnp.sqrt(m**2 + pp**2) - pp * c)), argnums=(0, 1)
    )(M3, p)
    np.testing.assert_allclose(grads, exact, rtol=1e-10)
    # Through a dispersion parameter: linear band, d k*/d velocity vs finite differences.
    def k_of(v):
        band = dispersion.LinearBand(M3 / 2, M3 / 2, v, k_min=0.01, k_max=0.04)
        return rates.photon_roots(band, M3, 0.0, p, c).k[0]
    h = 1e-6
    fd = (k_of(0.3 + h) - k_of(0.3 - h)) / (2 * h)
    assert float(jax.grad(k_of)(0.3)) == pytest.approx(float(fd), rel=1e-7)


def test_no_root_in_window_is_masked_not_nan():
    band = dispersion.LinearBand(0.025, 0.025, 1e-3, k_min=0.05, k_max=0.06)
    roots = rates.photon_roots(band, M3, 0.0, 0.0, 0.0)
    assert not bool(jnp.any(roots.valid))
    g = jax.grad(lambda v: jnp.sum(rates.photon_roots(
        dispersion.LinearBand(0.025, 0.025, v, k_min=0.05, k_max=0.06), M3, 0.0, 0.0, 0.0).k))(1e-3)
    assert np.isfinite(g)


@pytest.mark.parametrize(
    "model",
    [
        dispersion.Vacuum(),
        dispersion.ConstantIndex(1.5),
        dispersion.LinearBand(M3 / 2, M3 / 2, 1e-3, k_min=0.0, k_max=0.1),
        # Phase velocity omega/k > 1: the allowed momenta are bounded above.
        dispersion.LinearBand(0.024, 0.02, 0.3, k_min=0.0, k_max=0.1),
    ],
    ids=["vacuum", "index", "flat-band", "fast-phase-band"],
)
def test_allowed_momenta_are_where_cosine_reaches_one(model):
    m_i, m_j = M3, 0.0
    omega0 = float(rates.photon_roots(model, m_i, m_j, 0.0, 0.0).omega[0])
    slope = float(model.group_velocity(0.02))
    offsets = slope * np.array([-3e-4, -1e-5, 1e-6, 2e-4])
    omega = jnp.asarray(omega0 + offsets)
    k = model.wavenumber(omega)
    p_lo, p_hi = rates.allowed_momenta(omega, k, m_i, m_j)
    for w, kk, lo, hi in zip(omega, k, p_lo, p_hi):
        c = lambda p: float(rates.cosine_at(w, kk, m_i, m_j, p))
        assert abs(abs(c(float(lo))) - 1) < 1e-6
        assert abs(c(float(lo) * 1.01)) < 1 and abs(c(float(lo) * 0.99)) > 1
        if hi < 1.0:
            assert abs(abs(c(float(hi))) - 1) < 1e-6
            assert abs(c(float(hi) * 1.01)) > 1 and abs(c(float(hi) * 0.99)) < 1
        else:
            assert abs(c(0.5)) < 1


def test_allowed_momenta_vacuum_closed_form():
    """Vacuum: |E_i - A| <= p with A = Delta m^2 / (2 omega) gives p >= |A^2 - m_i^2| / (2 A)."""
    omega = jnp.array([0.0245, 0.02506, 0.0252])
    p_lo, p_hi = rates.allowed_momenta(omega, omega, M3, 0.0)
    a = M3**2 / (2 * np.asarray(omega))
    np.testing.assert_allclose(p_lo, np.abs(a**2 - M3**2) / (2 * a), rtol=1e-9)
    assert np.all(np.asarray(p_hi) >= 1e2)
