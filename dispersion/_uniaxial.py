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
    #: Most photon roots of one (p, c) on |q| at a contour end (static; see `explicit_ends`).
    end_roots = 2
    #: Gauss orders added to the quadrature's `contour_order` on this mode's contours (static).
    extra_contour_order = 0

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

    @property
    def end_roots(self):
        return self.branch.max_roots

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
        # The band edge eps_par omega^2 is the very expression `perp_interval` returns:
        # k_z^2 >= 0 on every contour node, however close to the edge (as `_DispersiveExtraordinary`).
        return _floored_sqrt(self.eps_perp / self.eps_par * (self.eps_par * omega**2 - s))

    def axial_slope(self, omega, s):
        return self.eps_perp * omega / self.axial_wavenumber(omega, s)

    def axis_branch(self):
        return ConstantIndex(jnp.sqrt(self.eps_perp), k_min=self.window[0] * jnp.sqrt(self.eps_perp),
                             k_max=self.window[1] * jnp.sqrt(self.eps_perp))

    def describe(self):
        return "extraordinary"


#: A far end of a contour that has none (eV^2): hyperbolic iso-frequency
#: surfaces are open. Far beyond any photon a neutrino can emit (k ~ 1 eV
#: against ~0.1 eV); the rate integral cuts every contour at the kinematic
#: shell anyway (`rates.phase_matching`), where the integrand vanishes.
S_FAR = 1.0
#: Lossless permittivities stay this far (relative, in omega_T^2 - omega^2) from a pole.
_POLE_FLOOR = 1e-13


def _axis_permittivity(eps_inf, delta_eps, omega_T, omega):
    """Lossless eps(omega) = eps_inf + sum_j delta_eps_j omega_Tj^2 / (omega_Tj^2 - omega^2) and d eps / d omega.

    **Arguments:** `delta_eps`, `omega_T`: shape `(n,)`, n >= 0 (n = 0: the constant `eps_inf`);
    `omega`: eV, any shape. **Returns:** `(eps, d eps / d omega)` (1/eV), shaped as `omega`.
    """
    w = jnp.asarray(omega, dtype=float)[..., None]
    lead = (1,) * (w.ndim - 1) + (-1,)
    delta_eps, w_t2 = delta_eps.reshape(lead), (omega_T**2).reshape(lead)
    gap = w_t2 - w**2
    floor = _POLE_FLOOR * w_t2
    gap = jnp.where(jnp.abs(gap) < floor, jnp.where(gap < 0.0, -floor, floor), gap)
    terms = delta_eps * w_t2 / gap
    return eps_inf + jnp.sum(terms, axis=-1), jnp.sum(2.0 * w * terms / gap, axis=-1)


class _DispersiveExtraordinary(AbstractMode):
    """k_perp^2 / eps_par(omega) + k_z^2 / eps_perp(omega) = omega^2, lossless Lorentz poles per axis.

    At fixed omega, with s = k_perp^2 and k_z^2 = eps_perp omega^2 - (eps_perp / eps_par) s, the
    contour is an ellipse where both permittivities are positive (s in [0, eps_par omega^2], a band
    edge k_z -> 0 at the top), a hyperbola where their signs differ (eps_par < 0: s from 0, open;
    eps_perp < 0: s from eps_par omega^2, a band edge at the bottom, open) and absent where both are
    negative. Open ends are `S_FAR`; the rate cuts them at the kinematic shell.
    """

    explicit_ends = True
    # Open hyperbolic contours cut at the kinematic shell: measured against the SciPy
    # reference, order 3 -> 5 takes the band's rate from 7e-5 to 3e-7 (twice the panels: 8e-6).
    extra_contour_order = 2

    crystal: "Birefringent"
    weight: float = eqx.field(static=True, default=0.5)

    @property
    def end_roots(self):
        # |q| at an end jumps at each pole and turns at each zero of the permittivities.
        return 2 + 2 * (2 * self.crystal.omega_T_perp.shape[0] + 2 * self.crystal.omega_T_par.shape[0])

    def omega_window(self):
        return jnp.zeros(()), self.crystal.omega_max

    def _eps(self, omega):
        return self.crystal.permittivities(omega)

    def perp_interval(self, omega):
        omega = jnp.asarray(omega, dtype=float)
        (e_perp, _), (e_par, _) = self._eps(omega)
        top = e_par * omega**2
        zero = jnp.zeros_like(top)
        far = jnp.full_like(top, S_FAR)
        no_edge = jnp.full_like(top, NO_EDGE)
        plus_perp, plus_par = e_perp > 0.0, e_par > 0.0
        s_lo = jnp.where(plus_par & ~plus_perp, top, zero)
        s_hi = jnp.where(plus_par, jnp.where(plus_perp, top, far), jnp.where(plus_perp, far, zero))
        gap_lo = jnp.where(plus_par & ~plus_perp, zero, no_edge)
        gap_hi = jnp.where(plus_par & plus_perp, zero, no_edge)
        return s_lo, jnp.maximum(s_hi, s_lo), gap_lo, gap_hi

    def _kz2(self, omega, s):
        (e_perp, d_perp), (e_par, d_par) = self._eps(omega)
        e_par = jnp.where(e_par == 0.0, 1e-300, e_par)
        ratio = e_perp / e_par
        # k_z^2 = ratio (eps_par omega^2 - s): the band edge eps_par omega^2 is the very
        # expression `perp_interval` returns, so k_z^2 >= 0 on every contour node however
        # close to the edge (written eps_perp omega^2 - ratio s, it cancels to rounding
        # there, turns negative and blows the 1/k_z of the slope up).
        kz2 = ratio * (e_par * omega**2 - s)
        # d(k_z^2)/d omega at fixed s: both permittivities move with omega.
        d_ratio = d_perp / e_par - e_perp * d_par / e_par**2
        return kz2, d_perp * omega**2 + 2.0 * e_perp * omega - d_ratio * s

    def axial_wavenumber(self, omega, s):
        return _floored_sqrt(self._kz2(omega, s)[0])

    def axial_slope(self, omega, s):
        kz2, dkz2 = self._kz2(omega, s)
        # A contour node within rounding of a band edge has s == eps_par omega^2 exactly, and
        # k_z = 0 would make the slope ~1e150 (its ds/dt ~ x is not zero). Floor k_z at 1e-7 of
        # the axial wavenumber: only nodes that close to the edge change, and their weight is ~0.
        e_perp = self._eps(omega)[0][0]
        return jnp.abs(dkz2) / (2.0 * jnp.sqrt(jnp.maximum(kz2, 1e-14 * jnp.abs(e_perp) * omega**2 + 1e-300)))

    def axis_branch(self):
        # Along the axis both modes see eps_perp: the ordinary polariton.
        return self.crystal.modes()[0].axis_branch()

    def features(self):
        lo, hi = self.omega_window()
        return jnp.clip(self.crystal.critical_frequencies(), lo, hi)

    def describe(self):
        return "extraordinary"


class Birefringent(AbstractUniaxial):
    """A uniaxial crystal, optic axis z: constant permittivities or lossless Lorentz poles per axis.

    eps_perp(omega) = eps_perp + sum_j delta_eps_perp_j omega_T_perp_j^2 / (omega_T_perp_j^2 - omega^2)
    across the axis, eps_par(omega) likewise along it (no poles: constants).
    Ordinary mode: |k|^2 = eps_perp omega^2 (with poles: the polariton branches
    of the `Lorentz` medium eps_perp); extraordinary mode:
    k_perp^2 / eps_par + k_z^2 / eps_perp = omega^2 (PHYSICS.md Sec. 9), an
    ellipse or, where one permittivity is negative, a hyperbola. Each mode has
    weight 1/2; with eps_perp = eps_par the medium is isotropic (the index
    model, or the `Lorentz` medium with those poles).

    **Arguments:** `eps_perp`, `eps_par`: relative permittivities across and
    along the axis (> 0; the high-frequency values when there are poles);
    `omega_max`: top of the photon-energy window, eV; `delta_eps_perp`,
    `omega_T_perp` (eV), `delta_eps_par`, `omega_T_par` (eV): the poles of
    each axis, shape `(n,)` with omega_T increasing (default: none).
    """

    eps_perp: jax.Array = eqx.field(converter=_as_float)
    eps_par: jax.Array = eqx.field(converter=_as_float)
    omega_max: jax.Array = eqx.field(converter=_as_float, default=1.0)
    delta_eps_perp: jax.Array = eqx.field(converter=_as_float, default=())
    omega_T_perp: jax.Array = eqx.field(converter=_as_float, default=())
    delta_eps_par: jax.Array = eqx.field(converter=_as_float, default=())
    omega_T_par: jax.Array = eqx.field(converter=_as_float, default=())

    def __check_init__(self):
        for name in ("perp", "par"):
            d, w = getattr(self, f"delta_eps_{name}"), getattr(self, f"omega_T_{name}")
            if d.ndim != 1 or d.shape != w.shape:
                raise ValueError(
                    f"Birefringent.delta_eps_{name}, omega_T_{name}: need two 1-D arrays of one length, "
                    f"got shapes {d.shape} and {w.shape}"
                )

    @property
    def dispersive(self) -> bool:
        """Whether either axis has poles (static: from the array shapes)."""
        return self.omega_T_perp.shape[0] + self.omega_T_par.shape[0] > 0

    def permittivities(self, omega):
        """`((eps_perp, d eps_perp / d omega), (eps_par, d eps_par / d omega))` at `omega` (eV), lossless."""
        return (
            _axis_permittivity(self.eps_perp, self.delta_eps_perp, self.omega_T_perp, omega),
            _axis_permittivity(self.eps_par, self.delta_eps_par, self.omega_T_par, omega),
        )

    def _axis_medium(self, name):
        from ._lorentz import Lorentz

        omega_T = getattr(self, f"omega_T_{name}")
        return Lorentz(getattr(self, f"eps_{name}"), getattr(self, f"delta_eps_{name}"), omega_T,
                       jnp.zeros_like(omega_T), omega_max=self.omega_max)

    def critical_frequencies(self):
        """The poles omega_T and zeros omega_L of both permittivities, eV: where the modes change form."""
        out = []
        for name in ("perp", "par"):
            if getattr(self, f"omega_T_{name}").shape[0]:
                out += [getattr(self, f"omega_T_{name}"), self._axis_medium(name).longitudinal_frequencies()]
        return jnp.concatenate(out) if out else jnp.zeros((0,))

    def modes(self):
        window = (jnp.zeros(()), self.omega_max)
        if not self.dispersive:
            n_o = jnp.sqrt(self.eps_perp)
            ordinary = _IsotropicMode(ConstantIndex(n_o, k_min=0.0, k_max=n_o * self.omega_max), weight=0.5,
                                      label="ordinary")
            return ordinary, _Extraordinary(self.eps_perp, self.eps_par, window)
        if self.omega_T_perp.shape[0]:
            branches = self._axis_medium("perp").branches()
        else:
            n_o = jnp.sqrt(self.eps_perp)
            branches = (ConstantIndex(n_o, k_min=0.0, k_max=n_o * self.omega_max),)
        ordinary = tuple(
            _IsotropicMode(b, weight=0.5, label="ordinary" if len(branches) == 1 else f"ordinary, branch {j}")
            for j, b in enumerate(branches)
        )
        return ordinary + (_DispersiveExtraordinary(self),)

    def branches(self):
        # Along the axis both modes see eps_perp: the ordinary branches.
        return tuple(mode.axis_branch() for mode in self.modes() if isinstance(mode, _IsotropicMode))

    def describe(self):
        def poles(name):
            d, w = getattr(self, f"delta_eps_{name}"), getattr(self, f"omega_T_{name}")
            return "".join(f" + pole (delta_eps = {float(a):.4g}, omega_T = {float(b):.6g} eV)" for a, b in zip(d, w))

        n_o = f"n_o = {float(jnp.sqrt(self.eps_perp)):.6g}" + (" at high frequency" if self.dispersive else "")
        return (
            f"birefringent (eps_perp = {float(self.eps_perp):.6g}{poles('perp')}, "
            f"eps_par = {float(self.eps_par):.6g}{poles('par')}; {n_o})"
        )
