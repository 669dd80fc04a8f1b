"""Photon escape from a lossy target and the detector.

The paper assumes that the light reaches the sensor without loss (its
Sec. I); this module is the project's own extension (README, "Scenario
reference", the `[detector]` keys). A photon emitted uniformly in a target
of side l with attenuation alpha = 2 Im k escapes with probability

    P_esc = (1 - exp(-alpha l)) / (alpha l),

evaluated at the photon's own energy; the detected rate counts each photon
with P_esc x efficiency x [omega inside the detector's energy window].
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from ..dispersion import as_float as _as_float



class Detector(eqx.Module):
    """Photon detector: `efficiency` in (0, 1], energy window [`window_lo`, `window_hi`] (eV).

    `declared` (static) says whether the scenario had a `[detector]` table,
    which is when reports include the detected rate.
    """

    efficiency: jax.Array = eqx.field(converter=_as_float, default=1.0)
    window_lo: jax.Array = eqx.field(converter=_as_float, default=0.0)
    window_hi: jax.Array = eqx.field(converter=_as_float, default=jnp.inf)
    declared: bool = eqx.field(static=True, default=False)
    #: `window_is_open` as read off concrete window ends before a compiled boundary, where
    #: every leaf is traced (static; None: read it now). Set by `rates.rate_result`, never by users.
    known_open: bool | None = eqx.field(static=True, default=None)

    def window_is_open(self) -> bool:
        """Whether the window is known to take every photon energy (concrete ends 0 and inf): then
        its ends are no breakpoints of the average. False for traced ends."""
        if self.known_open is not None:
            return self.known_open
        ends = (self.window_lo, self.window_hi)
        if any(isinstance(e, jax.core.Tracer) for e in ends):
            return False
        return float(np.asarray(ends[0])) <= 0.0 and float(np.asarray(ends[1])) == math.inf

    def window_points(self):
        """The window's ends as photon-energy breakpoints (eV; none for an open window)."""
        if self.window_is_open():
            return jnp.zeros(0)
        return jnp.stack([self.window_lo, self.window_hi])

    def acceptance(self, omega):
        """efficiency x [window_lo <= omega <= window_hi]."""
        inside = (omega >= self.window_lo) & (omega <= self.window_hi)
        return jnp.where(inside, self.efficiency, 0.0)


def escape_probability(attenuation, length):
    """(1 - exp(-x)) / x with x = 2 Im k * l; 1 when lossless, smooth at x -> 0.

    **Arguments:** `attenuation`: Im k, eV; `length`: side of the target, 1/eV.
    """
    x = 2.0 * attenuation * length
    small = x < 1e-4
    x_safe = jnp.where(small, 1.0, x)
    series = 1.0 - x / 2.0 + x**2 / 6.0
    return jnp.where(small, series, -jnp.expm1(-x_safe) / x_safe)
