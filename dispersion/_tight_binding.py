"""Coupled-resonator (tight-binding) band: omega(k) = omega_0 - 2 J cos(k Lambda)."""

import jax
import jax.numpy as jnp

from ._base import AbstractBandInK


def _as_float(x):
    return jnp.asarray(x, dtype=float)


class TightBinding(AbstractBandInK):
    """A coupled-resonator optical waveguide band on k in [0, pi/Lambda].

    omega = omega_0 - 2 J cos(k Lambda) rises monotonically over the half
    Brillouin zone; the group velocity 2 J Lambda sin(k Lambda) vanishes at
    both zone edges and is small everywhere when J is small (a flat band).

    **Fields:** `omega0` (band centre, eV), `coupling` J (eV, > 0), `period`
    Lambda (1/eV; 1 um = 5.068 /eV), `k_min`, `k_max` (window inside
    [0, pi/Lambda], eV; default the whole half zone).
    """

    omega0: jax.Array
    coupling: jax.Array
    period: jax.Array
    k_min: jax.Array
    k_max: jax.Array

    def __init__(self, omega0, coupling, period, k_min=None, k_max=None):
        self.omega0 = _as_float(omega0)
        self.coupling = _as_float(coupling)
        self.period = _as_float(period)
        self.k_min = _as_float(0.0 if k_min is None else k_min)
        self.k_max = jnp.pi / self.period if k_max is None else _as_float(k_max)

    def omega(self, k):
        return self.omega0 - 2.0 * self.coupling * jnp.cos(jnp.asarray(k, dtype=float) * self.period)

    def wavenumber(self, omega):
        # Clip inside [-1, 1] so that values and gradients stay finite at the
        # zone edges, where d k / d omega diverges (v_g = 0).
        x = (self.omega0 - jnp.asarray(omega, dtype=float)) / (2.0 * self.coupling)
        x = jnp.clip(x, -1.0 + 1e-15, 1.0 - 1e-15)
        return jnp.arccos(x) / self.period

    def describe(self):
        return (
            f"tight-binding (omega_0 = {float(self.omega0):.6g} eV, J = {float(self.coupling):.4g} eV, "
            f"Lambda = {float(self.period):.4g} /eV)"
        )
