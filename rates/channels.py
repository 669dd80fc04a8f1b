"""The medium and its transition channels E1, M1 and E1M1.

The rate per neutrino at a root is

    Gamma = strength(omega*, k*) * D_k * kappa * L,   L = 1/(Delta^2 + Gamma_v^2/4),

with Delta = E_vg - omega*. `channel_strength` is the prefactor (eV^3):

    M1   (paper Eq. 22): G_F^2 C^2 / (2 pi)      f^2 n_d^2 d^2        k^4 / omega
    E1   (paper Eq. 17): G_F^2 C^2 / (2 pi e^2)  f   n_d^2 d^4        omega k^4
    E1M1 (see below):    G_F^2 C^2 / (2 pi)      f^2 n_d^2 (eps d)^2  omega k^2

kappa = (1 + beta'_j)/2 interpolates the paper's factor 1/2 for a
non-relativistic outgoing neutrino (after its Eq. (17)). E1M1 is the project's
own model of the paper's "configuration mixing" remark (Sec. III), which gives
no formula: the neutrino couples at the M1 vertex, the photon at an E1 vertex
reached through a parity-mixing amplitude eps. With eps = 1 and an atomic E1
dipole it gives, in vacuum, the ~1/alpha^2 gain over Eq. (23) that the paper
quotes.
"""

import math

import equinox as eqx
import jax
import numpy as np

from .constants import ELEMENTARY_CHARGE, FERMI_CONSTANT
from ..dispersion import as_float as _as_float

CHANNELS = ("M1", "E1", "E1M1")



class Medium(eqx.Module):
    """The dipole medium.

    **Fields:**
    - `channel`: `"M1"`, `"E1"` or `"E1M1"` (static).
    - `dipole`: transition dipole d, natural units (1/eV; e/m_e = 5.9e-7 /eV).
    - `density`: dipole number density n_d, eV^3.
    - `width`: Gamma_v = 1/tau_v, eV.
    - `form_factor`: f (dimensionless).
    - `mixing`: parity-mixing amplitude eps (E1M1 only).
    - `level_spacing`: E_vg, eV, used when `resonant` is False.
    - `detuning`: eV, added to the lowest-energy p = 0 photon root when
      `resonant` is True (static), so E_vg tracks the dispersion.
    """

    channel: str = eqx.field(static=True)
    dipole: jax.Array = eqx.field(converter=_as_float)
    density: jax.Array = eqx.field(converter=_as_float)
    width: jax.Array = eqx.field(converter=_as_float)
    form_factor: jax.Array = eqx.field(converter=_as_float, default=1.0)
    mixing: jax.Array = eqx.field(converter=_as_float, default=1.0)
    level_spacing: jax.Array = eqx.field(converter=_as_float, default=0.0)
    detuning: jax.Array = eqx.field(converter=_as_float, default=0.0)
    resonant: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        if self.channel not in CHANNELS:
            raise ValueError(
                f"Medium.channel: unknown channel {self.channel!r}; allowed: {', '.join(CHANNELS)}"
            )


class Grating(eqx.Module):
    """A periodic dipole density n_d(x) = n_d0 [1 + h cos(D . x)].

    Its Fourier components are n_d0 at G = 0 and h n_d0 / 2 at G = +-D; the
    coherent rate is quadratic in n_d, so the G = +-D terms weigh h^2/4 each
    (PHYSICS.md Sec. 9; the paper's grating after its Eq. 14).

    **Fields:** `wavenumber` |D| = 2 pi / period (eV); `depth` h in [0, 1];
    `angle`: between D and the medium's axis z (radians), or None (the
    default) for D along the axis. A tilted D makes |k - D| depend on the
    azimuth of k about the axis, and the rate gains an azimuthal integral
    (`rates.phase_matching`), tens of times dearer: None keeps the axial path
    whatever the tracing (a model passed to `jax.jit` has every leaf traced).
    """

    wavenumber: jax.Array = eqx.field(converter=_as_float)
    depth: jax.Array = eqx.field(converter=_as_float)
    angle: jax.Array | None = eqx.field(converter=lambda a: None if a is None else _as_float(a), default=None)
    #: `tilted` as read off a concrete angle before a compiled boundary, where every
    #: leaf is traced (static; None: read it now). Set by `rates.rate_result`, never by users.
    known_tilt: bool | None = eqx.field(static=True, default=None)

    def tilted(self) -> bool:
        """Whether the rate needs the azimuthal integral: False for no angle and for a concrete
        angle with |sin(angle)| <= 1e-12 (along the axis), True for any other and a traced one."""
        if self.known_tilt is not None:
            return self.known_tilt
        if self.angle is None:
            return False
        if isinstance(self.angle, jax.core.Tracer):
            return True
        # numpy: a jnp comparison inside jit is traced; sin(pi) is 1.2e-16, not 0.
        return abs(math.sin(float(np.asarray(self.angle)))) > 1e-12


def channel_strength(medium: Medium, mixing_squared, omega, k):
    """Channel prefactor of the rate at photon energy omega and wavenumber k.

    **Arguments:** `medium`; `mixing_squared` C^2; `omega`, `k` in eV.

    **Returns:** eV^3 (times D_k * kappa * L in eV^-2 gives a rate in eV).
    """
    base = FERMI_CONSTANT**2 * mixing_squared / (2.0 * math.pi) * medium.density**2
    f, d = medium.form_factor, medium.dipole
    if medium.channel == "M1":
        return base * f**2 * d**2 * k**4 / omega
    if medium.channel == "E1":
        return base / ELEMENTARY_CHARGE**2 * f * d**4 * omega * k**4
    return base * f**2 * (medium.mixing * d) ** 2 * omega * k**2


def lorentzian(detuning, width):
    """L = 1 / (Delta^2 + Gamma_v^2 / 4), eV^-2."""
    return 1.0 / (detuning**2 + 0.25 * width**2)
