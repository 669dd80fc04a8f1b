"""Lorentz-oscillator media (phonon or exciton polaritons).

    epsilon(omega) = eps_inf + sum_j delta_eps_j omega_Tj^2 / (omega_Tj^2 - omega^2 - i gamma_j omega)
    k(omega) = omega sqrt(epsilon(omega))      (Re k: kinematics; Im k: attenuation)

Between a pole omega_Tj and the next zero omega_Lj of the lossless epsilon the
medium reflects (epsilon < 0, a band gap); elsewhere it carries polaritons:
one branch below the first omega_T, one between each omega_Lj and the next
omega_T, and one above the last omega_L. The light is slow near each omega_T,
where the lower polariton flattens. Branch windows come from the lossless
epsilon; with loss (gamma_j > 0), Re k and Im k are taken on the same windows.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from ._base import AbstractBranch, AbstractDispersion
from ._base import as_float as _as_float

#: Windows below a pole stop at least this fraction short of it (k -> infinity).
EDGE_MARGIN = 1e-7
#: Below a pole, a weak oscillator's lower polariton reaches photon wavenumbers
#: only within ~delta_eps/2 (relative) of omega_T; there the window stops where
#: k reaches this multiple of `omega_max` (far above any k = m_i + p a neutrino
#: can give a photon), but never closer than `POLE_FLOOR` (relative) to the pole,
#: where omega_T^2 - omega^2 loses its precision.
K_CAP = 10.0
POLE_FLOOR = 1e-13



class Lorentz(AbstractDispersion):
    """A sum of Lorentz oscillators (polaritons).

    **Fields:**
    - `eps_inf`: high-frequency permittivity (> 0).
    - `delta_eps`: oscillator strengths Delta eps_j (> 0), shape (n,).
    - `omega_T`: transverse resonances, eV, increasing, shape (n,).
    - `gamma`: damping rates, eV (>= 0), shape (n,).
    - `omega_max`: top of the highest branch, eV.
    """

    eps_inf: jax.Array = eqx.field(converter=_as_float)
    delta_eps: jax.Array = eqx.field(converter=_as_float)
    omega_T: jax.Array = eqx.field(converter=_as_float)
    gamma: jax.Array = eqx.field(converter=_as_float)
    omega_max: jax.Array = eqx.field(converter=_as_float, default=1.0)

    def permittivity(self, omega, lossless=False):
        """epsilon(omega) (complex; real part only if `lossless`)."""
        omega = jnp.asarray(omega, dtype=float)
        shape = (1,) * omega.ndim + (-1,)
        d_eps, w_t = self.delta_eps.reshape(shape), self.omega_T.reshape(shape)
        damping = 0.0 if lossless else self.gamma.reshape(shape)
        omega = omega[..., None]
        terms = d_eps * w_t**2 / (w_t**2 - omega**2 - 1j * damping * omega)
        eps = self.eps_inf + jnp.sum(terms, axis=-1)
        return eps.real if lossless else eps

    def complex_wavenumber(self, omega):
        """k(omega) = omega sqrt(epsilon), eV (Im k >= 0 for a passive medium)."""
        omega = jnp.asarray(omega, dtype=float)
        return omega * jnp.sqrt(self.permittivity(omega).astype(complex))

    def longitudinal_frequencies(self):
        """omega_L: the zeros of the lossless epsilon, one above each omega_T, eV.

        Found by bisection (epsilon rises monotonically between poles), with
        the implicit-function derivative restored by one Newton correction.
        """
        frozen = jax.lax.stop_gradient(self)
        n = self.omega_T.shape[0]
        # Above the last pole epsilon vanishes below omega_T sqrt(eps(0) / eps_inf).
        static = jnp.sqrt((self.eps_inf + jnp.sum(self.delta_eps)) / self.eps_inf)
        ceiling = jnp.maximum(self.omega_max * 10.0, 2.0 * self.omega_T[-1] * static)
        upper = jnp.concatenate([self.omega_T[1:], ceiling[None]])
        zeros = []
        for j in range(n):
            a, b = frozen.omega_T[j] * (1 + 1e-12), jax.lax.stop_gradient(upper[j]) * (1 - 1e-12)

            def body(_, ab):
                lo, hi = ab
                mid = 0.5 * (lo + hi)
                neg = frozen.permittivity(mid, lossless=True) < 0
                return jnp.where(neg, mid, lo), jnp.where(neg, hi, mid)

            lo, hi = jax.lax.fori_loop(0, 200, body, (a, b))
            w = jax.lax.stop_gradient(0.5 * (lo + hi))
            slope = jax.grad(lambda x: frozen.permittivity(x, lossless=True))(w)
            zeros.append(w - self.permittivity(w, lossless=True) / slope)
        return jnp.stack(zeros)

    def below_pole(self, j):
        """Top of the branch under pole j, eV: where k ~ `K_CAP` omega_max, within [1e-13, 1e-7] of omega_T.

        Near the pole epsilon ~ delta_eps omega_T / (2 (omega_T - omega)), so k
        reaches K at omega_T - delta_eps omega_T^3 / (2 K^2).
        """
        w = self.omega_T[j]
        gap = self.delta_eps[j] * w**3 / (2.0 * (K_CAP * self.omega_max) ** 2)
        return w - jnp.clip(gap, POLE_FLOOR * w, EDGE_MARGIN * w)

    def branches(self):
        omega_L = self.longitudinal_frequencies()
        n = self.omega_T.shape[0]
        out = [_LorentzBranch(self, 1e-3 * self.omega_T[0], self.below_pole(0), self.omega_T[0])]
        for j in range(n):
            # The last branch runs to omega_max, or beyond omega_L when that is
            # higher (photons above the neutrino energy are not kinematic, so
            # such a branch only contributes nothing; its window never inverts).
            top = self.below_pole(j + 1) if j + 1 < n else jnp.maximum(self.omega_max, 2.0 * omega_L[j])
            # From omega_L itself: there k ~ sqrt(omega - omega_L), an
            # integrable band edge that the rate integral substitutes away.
            out.append(_LorentzBranch(self, omega_L[j], top, omega_L[j] - self.omega_T[j]))
        return tuple(out)

    def describe(self):
        poles = ", ".join(
            f"(delta_eps = {float(d):.4g}, omega_T = {float(w):.6g} eV, gamma = {float(g):.3g} eV)"
            for d, w, g in zip(self.delta_eps, self.omega_T, self.gamma)
        )
        return f"lorentz (eps_inf = {float(self.eps_inf):.4g}; poles {poles})"


class _LorentzBranch(AbstractBranch):
    """One polariton branch of a `Lorentz` medium on [lo, hi] (eV)."""

    singular_edges = True


    medium: Lorentz
    lo: jax.Array
    hi: jax.Array
    gap_below: jax.Array

    def edge_scales(self):
        # Above a weak pole the gap [omega_T, omega_L] is narrow: the 1/sqrt
        # form at omega_L holds only within about its width.
        return jnp.stack([self.gap_below, self.hi - self.lo])

    # With loss, Re k turns back within ~gamma of each pole: a (p, c) can then
    # have several roots on a branch, and |dk/d omega| has kinks there.
    max_roots = 4
    breakpoint_roots = 2

    def _near_poles(self, count):
        medium = self.medium
        width = jnp.maximum(jnp.min(medium.gamma), 1e-12 * medium.omega_T[0])
        reach = jnp.maximum(1e3 * jnp.max(medium.gamma), 1e-9 * medium.omega_T[0])
        return self.graded_points(medium.omega_T, width, reach, count)

    def bracket_grid(self, n):
        # Graded from the lower end too: above omega_L, k ~ sqrt(omega - omega_L) rises
        # steeply and both c = +-1 roots of a momentum can sit in the first uniform
        # cell, unseen (measured: an upper polariton whose support is 1.2e-4 eV of a
        # 0.054 eV window; the package stopped it at 1.5e-5 eV, 9.6e-4 of the rate lost).
        lo, hi = self.omega_window()
        from_lo = lo + (hi - lo) * 4.0 ** -jnp.arange(1.0, 21.0)
        return jnp.sort(jnp.concatenate([jnp.linspace(lo, hi, n), self._near_poles(8), from_lo]))

    def features(self):
        lo, hi = self.omega_window()
        gamma = self.medium.gamma
        around = self.medium.omega_T[:, None] + gamma[:, None] * jnp.array([-4.0, -1.0, 0.0, 1.0, 4.0])[None, :]
        turning = self.turning_points(self._near_poles(16), 4)
        return jnp.clip(jnp.concatenate([around.ravel(), turning]), lo, hi)

    def omega_window(self):
        return self.lo, self.hi

    def wavenumber(self, omega):
        return self.medium.complex_wavenumber(omega).real

    def attenuation(self, omega):
        return self.medium.complex_wavenumber(omega).imag
