"""What every dispersion model provides: branches parametrised by photon energy."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp


class AbstractBranch(eqx.Module):
    """One photon branch: Re k(omega) single-valued on an energy window.

    The rate integrals are written in the photon energy, so every branch is
    described by its window `omega_window()` (eV) and its wavenumber
    `wavenumber(omega)` (Re k, eV) there; `attenuation(omega)` is Im k (eV,
    zero when lossless) and `group_velocity_at(omega)` = (d Re k / d omega)^-1
    comes from autodiff.
    """

    @abc.abstractmethod
    def omega_window(self):
        """`(omega_lo, omega_hi)`, eV: where the branch exists (Re k real)."""

    @abc.abstractmethod
    def wavenumber(self, omega):
        """Re k(omega), eV -> eV (elementwise)."""

    #: Most photon roots of one (p, c) on this branch (static): two for a
    #: monotone band (the kinematic mismatch can turn once where k < p c).
    max_roots = 2
    #: How many roots of each breakpoint momentum's (p_j, c = +-1) serve as
    #: integration breakpoints (static): the first, on a monotone branch.
    breakpoint_roots = 1

    def bracket_grid(self, n):
        """`n` photon energies (eV, increasing, window ends included) that bracket the roots."""
        lo, hi = self.omega_window()
        return jnp.linspace(lo, hi, n)

    def features(self):
        """Photon energies (eV) where the branch has structure: extra integration breakpoints."""
        return jnp.zeros((0,))

    def attenuation(self, omega):
        """Im k(omega), eV (zero for a lossless branch)."""
        return jnp.zeros_like(jnp.asarray(omega, dtype=float))

    def group_velocity_at(self, omega):
        """Group velocity (d Re k / d omega)^-1 at photon energy omega, units of c."""
        omega = jnp.asarray(omega, dtype=float)
        slope = jnp.vectorize(jax.grad(lambda w: self.wavenumber(w)))(omega)
        return 1.0 / slope


class AbstractDispersion(eqx.Module):
    """An isotropic photon dispersion relation: one or more branches.

    Subclasses implement `branches()` and `describe()`. Models natural in k
    (omega(k)) also give `omega` and `group_velocity(k)`; models natural in
    omega give `wavenumber` on their branches. Subclasses are final.
    """

    @abc.abstractmethod
    def branches(self) -> tuple:
        """The model's branches (`AbstractBranch`), in increasing photon energy."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One line for reports: model name and parameters with units."""


class AbstractBandInK(AbstractDispersion, AbstractBranch):
    """A single monotone band given as omega(k) on the window [k_min, k_max].

    Subclasses implement `omega(k)` and its inverse `wavenumber(omega)`.
    """

    k_min: eqx.AbstractVar[jax.Array]
    k_max: eqx.AbstractVar[jax.Array]

    @abc.abstractmethod
    def omega(self, k):
        """Photon energy omega(k), eV -> eV (elementwise)."""

    def branches(self):
        return (self,)

    def omega_window(self):
        a, b = self.omega(self.k_min), self.omega(self.k_max)
        return jnp.minimum(a, b), jnp.maximum(a, b)

    def group_velocity(self, k):
        """d omega / d k at wavenumber k by autodiff (units of c), elementwise."""
        k = jnp.asarray(k, dtype=float)
        return jnp.vectorize(jax.grad(lambda kk: self.omega(kk)))(k)
