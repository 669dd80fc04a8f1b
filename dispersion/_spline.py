"""A free-form monotone band for inverse design: group velocity given at knots.

The group velocity v(k) is linear between knots k_0 < ... < k_{n-1}, so that
omega(k) = omega_0 + integral_{k_0}^{k} v is a C^1 monotone quadratic spline
and its inverse k(omega) is closed-form on each segment. Every knot velocity
lies in [v_min, v_max] (checked at load; the optimiser keeps free knot
velocities inside their bounds), so the band stays monotone with its group
velocity inside that range everywhere.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from ._base import AbstractBandInK
from ._base import as_float as _as_float



class SplineBand(AbstractBandInK):
    """Monotone band through knots: `knots` k_i (eV, increasing), `velocities` v_i (units of c, > 0),
    `omega_start` omega(k_0) (eV). The window is [k_0, k_{n-1}]."""

    knots: jax.Array = eqx.field(converter=_as_float)
    velocities: jax.Array = eqx.field(converter=_as_float)
    omega_start: jax.Array = eqx.field(converter=_as_float)

    @property
    def k_min(self):
        return self.knots[0]

    @property
    def k_max(self):
        return self.knots[-1]

    def _knot_omegas(self):
        h = jnp.diff(self.knots)
        steps = 0.5 * (self.velocities[:-1] + self.velocities[1:]) * h
        return self.omega_start + jnp.concatenate([jnp.zeros((1,)), jnp.cumsum(steps)])

    def omega(self, k):
        k = jnp.asarray(k, dtype=float)
        i = jnp.clip(jnp.searchsorted(self.knots, k, side="right") - 1, 0, self.knots.shape[0] - 2)
        h = self.knots[i + 1] - self.knots[i]
        slope = (self.velocities[i + 1] - self.velocities[i]) / h
        t = k - self.knots[i]
        return self._knot_omegas()[i] + self.velocities[i] * t + 0.5 * slope * t**2

    def wavenumber(self, omega):
        omega = jnp.asarray(omega, dtype=float)
        w_knots = self._knot_omegas()
        i = jnp.clip(jnp.searchsorted(w_knots, omega, side="right") - 1, 0, self.knots.shape[0] - 2)
        h = self.knots[i + 1] - self.knots[i]
        slope = (self.velocities[i + 1] - self.velocities[i]) / h
        d = omega - w_knots[i]
        v = self.velocities[i]
        # 0.5 a t^2 + v t = d, in the form that stays exact as a -> 0.
        disc = jnp.maximum(v**2 + 2.0 * slope * d, 0.0)
        return self.knots[i] + 2.0 * d / (v + jnp.sqrt(disc))

    #: Breakpoints per segment end graded towards a slow knot (static).
    SLOW_LADDER = 9

    def features(self):
        # The band's curvature jumps at the knots; next to a slow knot
        # 1/v_g = 1/(v_i + a (k - k_i)) changes over v_i/|a| in k, so each
        # segment also gets breakpoints graded towards its slower ends.
        # The points move with the parameters (the derivative of the rate is
        # only as accurate as its panels follow the structure they resolve).
        # The ladder runs in steps of 4 in k (16 in omega, where omega - omega_i ~ a t^2 / 2
        # and 1/v_g ~ 1/sqrt(omega - omega_i)) out to the segment's middle, in wider steps
        # where `SLOW_LADDER` of them cannot reach it: one panel spanning a factor
        # 4000 of 1/sqrt lost 4% of itself (measured: knots 2e-7 -> 4.8e-3, 0.74 ->
        # 2.2e-6, 6.8e-3 low against SciPy with the four steps this ladder had).
        k, v = self.knots, self.velocities
        h = jnp.diff(k)
        rate = jnp.abs(jnp.diff(v)) / h
        sloped = rate > 0.0
        safe = jnp.where(sloped, rate, 1.0)
        steps = jnp.arange(self.SLOW_LADDER)[None, :]

        def reach(vel):
            start = vel[:, None] / safe[:, None]
            span = jnp.maximum(0.5 * h[:, None] / start, 1.0)
            ratio = jnp.maximum(4.0, span ** (1.0 / (self.SLOW_LADDER - 1)))
            graded = jnp.minimum(start * ratio**steps, 0.5 * h[:, None])
            return jnp.where(sloped[:, None], graded, 0.5 * h[:, None])

        graded = jnp.concatenate([(k[:-1, None] + reach(v[:-1])).ravel(), (k[1:, None] - reach(v[1:])).ravel()])
        return jnp.concatenate([self._knot_omegas(), self.omega(graded)])

    def describe(self):
        return (
            f"spline ({self.knots.shape[0]} knots, k in [{float(self.knots[0]):.6g}, {float(self.knots[-1]):.6g}] eV, "
            f"v_g in [{float(jnp.min(self.velocities)):.3g}, {float(jnp.max(self.velocities)):.3g}])"
        )
