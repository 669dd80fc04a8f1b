"""Coupled-resonator (tight-binding) band: omega(k) = omega_0 - 2 J cos(k Lambda)."""

import jax
import jax.numpy as jnp

from ._base import AbstractBandInK
from ._base import as_float as _as_float, floored_sqrt as _floored_sqrt




class TightBinding(AbstractBandInK):
    """A coupled-resonator optical waveguide band on k in [0, pi/Lambda].

    omega = omega_0 - 2 J cos(k Lambda) rises monotonically over the half
    Brillouin zone; the group velocity 2 J Lambda sin(k Lambda) vanishes at
    both zone edges and is small everywhere when J is small (a flat band).

    **Fields:** `omega0` (band centre, eV), `coupling` J (eV, > 0), `period`
    Lambda (1/eV; 1 um = 5.068 /eV), `k_min`, `k_max` (window inside
    [0, pi/Lambda], eV; default the whole half zone).
    """

    singular_edges = True


    omega0: jax.Array
    coupling: jax.Array
    period: jax.Array
    k_low: jax.Array | None
    k_high: jax.Array | None

    def __init__(self, omega0, coupling, period, k_min=None, k_max=None):
        self.omega0 = _as_float(omega0)
        self.coupling = _as_float(coupling)
        self.period = _as_float(period)
        # A window left open is the half zone: its ends follow the period
        # (and so stay right when the period is a free parameter).
        self.k_low = None if k_min is None else _as_float(k_min)
        self.k_high = None if k_max is None else _as_float(k_max)

    @property
    def k_min(self):
        return jnp.zeros(()) if self.k_low is None else jnp.clip(self.k_low, 0.0, jnp.pi / self.period)

    @property
    def k_max(self):
        return jnp.pi / self.period if self.k_high is None else jnp.clip(self.k_high, 0.0, jnp.pi / self.period)

    def omega_window(self):
        # The zone edges exactly (cos(0) = 1 and cos(pi) = -1 are not rounded).
        lo = self.omega0 - 2.0 * self.coupling if self.k_low is None else self.omega(self.k_min)
        hi = self.omega0 + 2.0 * self.coupling if self.k_high is None else self.omega(self.k_max)
        return lo, hi

    def omega(self, k):
        return self.omega0 - 2.0 * self.coupling * jnp.cos(jnp.asarray(k, dtype=float) * self.period)

    def wavenumber(self, omega):
        # k Lambda / 2 = atan2(sqrt(omega - omega_bottom), sqrt(omega_top - omega)):
        # both distances to the zone edges are formed directly (no 1 - cos
        # cancellation), and the floored square roots keep values and
        # gradients finite on and beyond the edges, where dk/d omega diverges.
        omega = jnp.asarray(omega, dtype=float)
        above = omega - (self.omega0 - 2.0 * self.coupling)
        below = (self.omega0 + 2.0 * self.coupling) - omega
        return 2.0 * jnp.arctan2(_floored_sqrt(above), _floored_sqrt(below)) / self.period

    def describe(self):
        return (
            f"tight-binding (omega_0 = {float(self.omega0):.6g} eV, J = {float(self.coupling):.4g} eV, "
            f"Lambda = {float(self.period):.4g} /eV)"
        )
