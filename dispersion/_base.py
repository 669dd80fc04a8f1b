"""What every dispersion model provides: branches parametrised by photon energy."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp


def as_float(x):
    """A field converter: the value as a float64 JAX array (double precision everywhere)."""
    return jnp.asarray(x, dtype=float)


def floored_sqrt(x):
    """sqrt(max(x, 1e-300)): finite value and gradient (zero below the floor) everywhere."""
    return jnp.sqrt(jnp.maximum(x, 1e-300))


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
    #: Whether the window ends can be band edges, where dk/d omega ~ 1/sqrt (static).
    singular_edges = False

    def bracket_grid(self, n):
        """`n` photon energies (eV, increasing, window ends included) that bracket the roots."""
        lo, hi = self.omega_window()
        return jnp.linspace(lo, hi, n)

    def edge_scales(self):
        """`(lower, upper)`, eV: how far from each window end its 1/sqrt form holds
        (a narrow neighbouring gap makes it short), or None where that is the window."""
        return None

    def features(self):
        """Photon energies (eV) where the branch has structure: extra integration breakpoints."""
        return jnp.zeros((0,))

    def graded_points(self, centres, width, reach, count):
        """Photon energies graded geometrically around each of `centres` (eV), from
        `width`/10 up to `reach` on either side, `count` per side; clipped to the window."""
        lo, hi = self.omega_window()
        ladder = jnp.exp(jnp.linspace(jnp.log(0.1 * width), jnp.log(reach), count))
        offsets = jnp.concatenate([-ladder[::-1], jnp.zeros(1), ladder])
        return jnp.sort(jnp.clip((centres[:, None] + offsets[None, :]).ravel(), lo, hi))

    def turning_points(self, grid, size):
        """Photon energies (eV) where d Re k / d omega changes sign, up to `size` (static).

        Inside a strong absorption line Re k(omega) turns back; |dk/d omega|
        has a kink at each turning point, so each is a breakpoint of the rate
        integral. Bracketed on `grid`, bisected, then one Newton step with
        the live parameters restores the implicit derivative. Entries not
        found repeat the first grid point.
        """
        frozen = jax.lax.stop_gradient(self)
        slope = jax.vmap(jax.grad(lambda w: frozen.wavenumber(w)))
        grid = jax.lax.stop_gradient(grid)
        values = slope(grid)
        change = (jnp.sign(values[:-1]) * jnp.sign(values[1:]) < 0.0) & (grid[1:] > grid[:-1])
        (idx,) = jnp.nonzero(change, size=size, fill_value=0)
        found = jnp.arange(size) < jnp.sum(change)

        def bisect(a, b):
            def body(_, ab):
                lo, hi = ab
                mid = 0.5 * (lo + hi)
                same = jnp.sign(slope(mid[None])[0]) == jnp.sign(slope(lo[None])[0])
                return jnp.where(same, mid, lo), jnp.where(same, hi, mid)

            lo, hi = jax.lax.fori_loop(0, 60, body, (a, b))
            return 0.5 * (lo + hi)

        lo, hi = frozen.omega_window()
        # Entries not found are evaluated at the window's middle (no infinities
        # in the derivative there), and then discarded.
        points = jax.lax.stop_gradient(jnp.where(found, jax.vmap(bisect)(grid[idx], grid[idx + 1]), 0.5 * (lo + hi)))
        live = jax.vmap(jax.grad(lambda w: self.wavenumber(w)))(points)
        curvature = jax.lax.stop_gradient(jax.vmap(jax.grad(jax.grad(lambda w: frozen.wavenumber(w))))(points))
        usable = found & (curvature != 0.0)
        points = points - jnp.where(usable, live / jnp.where(usable, curvature, 1.0), 0.0)
        return jnp.where(found, points, grid[0])

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
