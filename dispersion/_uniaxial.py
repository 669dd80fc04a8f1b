"""Uniaxial media: photon modes whose energy depends on the direction of k.

A uniaxial medium (axis z, symmetric about it) is described, mode by mode, by
its iso-frequency contours in the (k_perp, k_z) plane (PHYSICS.md Sec. 9).
The rate integrates, at fixed photon energy omega, over the contour
parametrised by s = k_perp^2 (eV^2): each mode gives

- `perp_interval(omega)`: the interval [s_lo, s_hi] of the contour, and
  whether each end is a band edge (where k_z meets a zone boundary or zero and
  |dk_z/d omega| diverges as 1/sqrt, integrably);
- `axial_wavenumber(omega, s)`: k_z >= 0 on the contour;
- `axial_slope(omega, s)`: |d k_z / d omega| at fixed s (eV/eV);
- `axis_branch()`: the mode along the axis (k_perp = 0) as an isotropic
  `AbstractBranch` (the p = 0 roots, the resonant level spacing, figures);
- `weight`: 1/2 per polarization (the rate's coupling is polarization-summed);
  1 for a mode that stands for both polarizations of an isotropic medium.

`Isotropic` turns any isotropic model into a uniaxial one (every branch a
mode of weight 1: the 3-D rate must then agree with the isotropic one);
`Birefringent` is a uniaxial crystal with ordinary and extraordinary modes;
the photonic-crystal stack is `dispersion._stack.Stack`.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from ._base import AbstractBranch, AbstractDispersion, as_float as _as_float, floored_sqrt as _floored_sqrt
from ._linear import ConstantIndex


#: `perp_interval`'s gap for an end with no band edge nearby (eV^2; the
#: contour map caps it relative to the contour's length).
NO_EDGE = float("inf")


class AbstractMode(eqx.Module):
    """One photon mode of a uniaxial medium (see the module docstring)."""

    weight: eqx.AbstractVar[float]
    #: Whether `perp_interval` is a closed form (static): then the contour's
    #: ends serve as breakpoint branches of the photon-energy integral.
    explicit_ends = False

    @abc.abstractmethod
    def omega_window(self):
        """`(omega_lo, omega_hi)`, eV: where the mode exists in some direction."""

    @abc.abstractmethod
    def perp_interval(self, omega):
        """`(s_lo, s_hi, gap_lo, gap_hi)` at photon energies `omega` (eV, any shape).

        s = k_perp^2 in eV^2; an empty contour has `s_lo == s_hi`. The gaps
        (eV^2) are how far beyond each end the nearest band edge lies (where
        k_z ~ sqrt(s - s_edge) and `axial_slope` ~ 1/sqrt): 0 when the end
        is itself a band edge, `NO_EDGE` when there is none nearby. The
        contour quadrature maps each half with s - s_edge = x^2, which keeps
        the integrand smooth however close the edge is.
        """

    @abc.abstractmethod
    def axial_wavenumber(self, omega, s):
        """k_z >= 0 on the contour at (omega, s = k_perp^2), eV (broadcasts)."""

    @abc.abstractmethod
    def axial_slope(self, omega, s):
        """|d k_z / d omega| at fixed k_perp (dimensionless; broadcasts)."""

    @abc.abstractmethod
    def axis_branch(self) -> AbstractBranch:
        """The mode along the axis (k_perp = 0), as an isotropic branch."""

    def attenuation(self, omega):
        """Im k (eV) of the mode's photons at energy omega: zero for a lossless mode."""
        return jnp.zeros_like(jnp.asarray(omega, dtype=float))

    def features(self):
        """Photon energies (eV) where the contour changes character: breakpoints."""
        return self.axis_branch().features()

    def describe(self) -> str:
        """A short label ("TE band 0", "ordinary", ...)."""
        return type(self).__name__


class AbstractUniaxial(AbstractDispersion):
    """A uniaxial medium: its photon `modes()`. Subclasses are final.

    As an `AbstractDispersion` its `branches()` are the modes along the axis
    (k_perp = 0; polarizations that coincide there counted once): what the
    p = 0 roots, the resonant level spacing and the figures' omega(k) along
    the axis use. The rate itself integrates every mode in every direction
    (`rates.phase_matching`).
    """

    @abc.abstractmethod
    def modes(self) -> tuple:
        """The medium's modes (`AbstractMode`)."""

    def branches(self):
        return tuple(mode.axis_branch() for mode in self.modes())


class _IsotropicMode(AbstractMode):
    """A branch of an isotropic model as a uniaxial mode: k_z = sqrt(k(omega)^2 - s)."""

    explicit_ends = True
    branch: AbstractBranch
    weight: float = eqx.field(static=True, default=1.0)
    label: str = eqx.field(static=True, default="isotropic")

    def omega_window(self):
        return self.branch.omega_window()

    def perp_interval(self, omega):
        k = self.branch.wavenumber(omega)
        zero = jnp.zeros_like(k)
        return zero, k**2, jnp.full_like(k, NO_EDGE), zero

    def axial_wavenumber(self, omega, s):
        k = self.branch.wavenumber(omega)
        return _floored_sqrt(k**2 - s)

    def axial_slope(self, omega, s):
        # d k_z/d omega = (k / k_z) dk/d omega.
        k = self.branch.wavenumber(omega)
        v_g = self.branch.group_velocity_at(omega)
        return jnp.abs(k / (v_g * _floored_sqrt(k**2 - s)))

    def axis_branch(self):
        return self.branch

    def attenuation(self, omega):
        # Isotropic: the same Im k in every direction (a lossy Lorentz or EIT branch).
        return self.branch.attenuation(omega)

    def describe(self):
        return self.label


class Isotropic(AbstractUniaxial):
    """An isotropic model seen as uniaxial: every branch is one mode (both polarizations, weight 1).

    **Arguments:** `dispersion`: any `AbstractDispersion`.
    """

    dispersion: AbstractDispersion

    def modes(self):
        return tuple(_IsotropicMode(branch) for branch in self.dispersion.branches())

    def branches(self):
        return self.dispersion.branches()

    def describe(self):
        return self.dispersion.describe()


class _Extraordinary(AbstractMode):
    """k_perp^2 / eps_par + k_z^2 / eps_perp = omega^2 (constant permittivities)."""

    explicit_ends = True

    eps_perp: jax.Array
    eps_par: jax.Array
    window: tuple
    weight: float = eqx.field(static=True, default=0.5)

    def omega_window(self):
        return self.window

    def perp_interval(self, omega):
        omega = jnp.asarray(omega, dtype=float)
        top = self.eps_par * omega**2
        zero = jnp.zeros_like(top)
        return zero, top, jnp.full_like(top, NO_EDGE), zero

    def axial_wavenumber(self, omega, s):
        return _floored_sqrt(self.eps_perp * (omega**2 - s / self.eps_par))

    def axial_slope(self, omega, s):
        return self.eps_perp * omega / self.axial_wavenumber(omega, s)

    def axis_branch(self):
        return ConstantIndex(jnp.sqrt(self.eps_perp), k_min=self.window[0] * jnp.sqrt(self.eps_perp),
                             k_max=self.window[1] * jnp.sqrt(self.eps_perp))

    def describe(self):
        return "extraordinary"


class Birefringent(AbstractUniaxial):
    """A uniaxial crystal with constant permittivities, optic axis z.

    Ordinary mode: |k|^2 = eps_perp omega^2; extraordinary mode:
    k_perp^2 / eps_par + k_z^2 / eps_perp = omega^2 (PHYSICS.md Sec. 9). Each
    has weight 1/2; with eps_perp = eps_par the medium is the index model
    with n = sqrt(eps).

    **Arguments:** `eps_perp`, `eps_par`: relative permittivities across and
    along the axis (> 0); `omega_max`: top of the photon-energy window, eV.
    """

    eps_perp: jax.Array = eqx.field(converter=_as_float)
    eps_par: jax.Array = eqx.field(converter=_as_float)
    omega_max: jax.Array = eqx.field(converter=_as_float, default=1.0)

    def modes(self):
        n_o = jnp.sqrt(self.eps_perp)
        window = (jnp.zeros(()), self.omega_max)
        ordinary = _IsotropicMode(ConstantIndex(n_o, k_min=0.0, k_max=n_o * self.omega_max), weight=0.5, label="ordinary")
        return ordinary, _Extraordinary(self.eps_perp, self.eps_par, window)

    def branches(self):
        # Along the axis both modes see eps_perp.
        return (self.modes()[0].axis_branch(),)

    def describe(self):
        return (
            f"birefringent (eps_perp = {float(self.eps_perp):.6g}, eps_par = {float(self.eps_par):.6g}; "
            f"n_o = {float(jnp.sqrt(self.eps_perp)):.6g})"
        )
