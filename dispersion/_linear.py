"""Dispersions linear in k: vacuum, constant refractive index, a linear band.

All three are omega = a + b k with b > 0, so both directions are closed forms.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from ._base import AbstractBandInK
from ._base import as_float as _as_float



class _Straight(AbstractBandInK):
    """A band linear in k: S(omega) has no structure of its own, so the rate's
    panels need only the support's edges (no breakpoint roots)."""

    breakpoint_roots = 0


class Vacuum(_Straight):
    """omega = k: the photon in vacuum.

    **Arguments:** `k_min`, `k_max`: window of wavenumbers, eV.
    """

    k_min: jax.Array = eqx.field(converter=_as_float, default=0.0)
    k_max: jax.Array = eqx.field(converter=_as_float, default=1.0)

    def omega(self, k):
        return jnp.asarray(k, dtype=float)

    def wavenumber(self, omega):
        return jnp.asarray(omega, dtype=float)

    def describe(self):
        return "vacuum (omega = k)"


class ConstantIndex(_Straight):
    """omega = k / n: a non-dispersive medium with refractive index n.

    **Arguments:** `n`: refractive index (> 0, dimensionless; group and phase
    velocity are both 1/n); `k_min`, `k_max`: window, eV.
    """

    n: jax.Array = eqx.field(converter=_as_float)
    k_min: jax.Array = eqx.field(converter=_as_float, default=0.0)
    k_max: jax.Array = eqx.field(converter=_as_float, default=1.0)

    def omega(self, k):
        return jnp.asarray(k, dtype=float) / self.n

    def wavenumber(self, omega):
        return jnp.asarray(omega, dtype=float) * self.n

    def describe(self):
        return f"index (omega = k / n, n = {float(self.n):.6g})"


class LinearBand(_Straight):
    """omega = omega_c + velocity * (k - k_c): a locally flat band (paper Fig. 2).

    **Arguments:**
    - `omega_c`: band energy at the anchor wavenumber, eV.
    - `k_c`: anchor wavenumber, eV.
    - `velocity`: the band's group velocity d omega / d k, units of c (> 0).
    - `k_min`, `k_max`: window on which the band exists, eV.
    """

    omega_c: jax.Array = eqx.field(converter=_as_float)
    k_c: jax.Array = eqx.field(converter=_as_float)
    velocity: jax.Array = eqx.field(converter=_as_float)
    k_min: jax.Array = eqx.field(converter=_as_float, default=0.0)
    k_max: jax.Array = eqx.field(converter=_as_float, default=1.0)

    def omega(self, k):
        return self.omega_c + self.velocity * (jnp.asarray(k, dtype=float) - self.k_c)

    def wavenumber(self, omega):
        return self.k_c + (jnp.asarray(omega, dtype=float) - self.omega_c) / self.velocity

    def describe(self):
        return (
            f"linear-band (omega_c = {float(self.omega_c):.6g} eV, "
            f"k_c = {float(self.k_c):.6g} eV, v_g = {float(self.velocity):.3g})"
        )
