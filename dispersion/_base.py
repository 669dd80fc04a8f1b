"""What every dispersion model provides."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp


class AbstractDispersion(eqx.Module):
    """An isotropic photon dispersion relation on one monotone branch.

    A model maps the photon wavenumber k (eV) to its energy omega (eV) on the
    window `[k_min, k_max]`, and back. The branch is monotone on that window
    (strictly increasing omega(k)), which is what lets the rate integrals be
    written in the photon energy.

    Subclasses implement `omega` and `wavenumber`; `group_velocity` comes from
    autodiff. Subclasses are final: extend the abstract class, not a model.
    """

    k_min: eqx.AbstractVar[jax.Array]
    k_max: eqx.AbstractVar[jax.Array]

    @abc.abstractmethod
    def omega(self, k):
        """Photon energy omega(k).

        **Arguments:** `k`: wavenumber, eV (array).

        **Returns:** omega, eV, same shape.
        """

    @abc.abstractmethod
    def wavenumber(self, omega):
        """Inverse of `omega` on the branch: k(omega), eV -> eV."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One line for reports: model name and parameters with units."""

    def group_velocity(self, k):
        """Group velocity d omega / d k (units of c) by autodiff, elementwise."""
        k = jnp.asarray(k, dtype=float)
        return jnp.vectorize(jax.grad(lambda kk: self.omega(kk)))(k)

    def omega_window(self):
        """Photon energies `(omega(k_min), omega(k_max))` of the window, eV."""
        return self.omega(self.k_min), self.omega(self.k_max)
