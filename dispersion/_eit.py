"""Electromagnetically induced transparency in a three-level Lambda medium.

Levels |1> (ground), |2> (metastable), |3> (excited); the photon probes 1-3
at detuning Delta = omega - omega_31, a control field drives 2-3 on resonance
with Rabi frequency Omega_c. With a weak probe (rho_11 ~ 1) the steady state
of the density-matrix equations

    d rho_31/dt = -(gamma_31 - i Delta) rho_31 + (i/2) Omega_p + (i/2) Omega_c rho_21
    d rho_21/dt = -(gamma_21 - i Delta) rho_21 + (i/2) Omega_c* rho_31

gives rho_21 = (i Omega_c*/2) rho_31 / (gamma_21 - i Delta) and the probe
susceptibility chi ~ rho_31 / Omega_p:

    chi(Delta) = kappa * i (gamma_21 - i Delta) / [(gamma_31 - i Delta)(gamma_21 - i Delta) + |Omega_c|^2 / 4]

(Fleischhauer, Imamoglu & Marangos, Rev. Mod. Phys. 77, 633 (2005), Eqs. 12-13;
kappa = n |d_31|^2 / (epsilon_0 hbar) in SI, an energy here). k = omega sqrt(1 + chi).
At Delta = 0 the medium is transparent (chi'' -> 0 as gamma_21 -> 0) and
steeply dispersive: n_g - 1 ~ 2 omega_31 kappa / Omega_c^2, set by the control.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from ._base import AbstractBranch, AbstractDispersion
from ._base import as_float as _as_float



class EIT(AbstractDispersion, AbstractBranch):
    """A Lambda-system EIT medium, one branch on [probe - half_width, probe + half_width].

    **Fields (all eV):** `probe` omega_31, `coupling` kappa, `rabi` Omega_c,
    `excited_decay` gamma_31, `ground_dephasing` gamma_21, `half_width` of
    the window. Re k(omega) is single-valued but not monotone: in the
    Autler-Townes absorption lines (Delta ~ +-Omega_c/2) the group velocity
    turns negative, where Im k is large.
    """

    probe: jax.Array = eqx.field(converter=_as_float)
    coupling: jax.Array = eqx.field(converter=_as_float)
    rabi: jax.Array = eqx.field(converter=_as_float)
    excited_decay: jax.Array = eqx.field(converter=_as_float)
    ground_dephasing: jax.Array = eqx.field(converter=_as_float)
    half_width: jax.Array = eqx.field(converter=_as_float)

    def susceptibility(self, omega):
        """chi(omega), complex (dimensionless)."""
        delta = jnp.asarray(omega, dtype=float) - self.probe
        g21 = self.ground_dephasing - 1j * delta
        g31 = self.excited_decay - 1j * delta
        return self.coupling * 1j * g21 / (g31 * g21 + 0.25 * self.rabi**2)

    def complex_wavenumber(self, omega):
        omega = jnp.asarray(omega, dtype=float)
        return omega * jnp.sqrt(1.0 + self.susceptibility(omega))

    def wavenumber(self, omega):
        return self.complex_wavenumber(omega).real

    def attenuation(self, omega):
        return self.complex_wavenumber(omega).imag

    #: Re k(omega) turns in the absorption lines: a (p, c) can have several roots.
    max_roots = 6
    breakpoint_roots = 6

    def omega_window(self):
        return self.probe - self.half_width, self.probe + self.half_width

    def _feature_centres(self):
        """The transparency window (omega_31) and the Autler-Townes lines (omega_31 +- Omega_c/2), eV."""
        return self.probe + jnp.array([-0.5, 0.0, 0.5]) * self.rabi

    def _graded_points(self, count):
        """Points graded around each feature, from a tenth of a line width up to Omega_c."""
        return self.graded_points(self._feature_centres(), self._line_width(), self.rabi, count)

    #: Breakpoints per side of each line and of the window, graded geometrically from a
    #: line width out to Omega_c (static).
    FEATURE_LADDER = 7

    def features(self):
        # The window and the lines, graded from a line width out to Omega_c, and the
        # turning points of Re k (kinks of |dk/d omega|). Outside a line |dk/d omega|
        # falls as 1/(omega - omega_line)^2: one panel from 4 widths out to ~Omega_c/2
        # lost 1% of the rate (measured: a line 3.4e-9 eV wide, Omega_c 9.9e-6 eV,
        # 1.3e-2 low against SciPy; the ladder keeps each panel within a factor ~4).
        lo, hi = self.omega_window()
        around = self.graded_points(self._feature_centres(), 10.0 * self._line_width(), self.rabi,
                                    self.FEATURE_LADDER)
        turning = self.turning_points(self._graded_points(24), 6)
        return jnp.clip(jnp.concatenate([around, turning]), lo, hi)

    def _line_width(self):
        """The narrowest scale of chi near its features, eV: the lines' width gamma_31, their
        spacing, or, where gamma_31 >> Omega_c, the transparency window Omega_c^2 / (4 gamma_31)
        (measured: gamma_31 6.1e-7, Omega_c 2.4e-8 eV, a window 2.4e-10 eV wide, 1.3e-4 low
        against SciPy graded from min(gamma_31, Omega_c / 4))."""
        window = 0.25 * self.rabi**2 / jnp.maximum(self.excited_decay, 1e-300)
        return jnp.minimum(jnp.minimum(self.excited_decay, 0.25 * self.rabi), window)

    def bracket_grid(self, n):
        # Uniform, plus the graded points: roots can sit inside a line much
        # narrower than the uniform spacing.
        lo, hi = self.omega_window()
        return jnp.sort(jnp.concatenate([jnp.linspace(lo, hi, n), self._graded_points(12)]))

    def branches(self):
        return (self,)

    def group_index(self, omega):
        """n_g = d Re k / d omega (autodiff)."""
        return 1.0 / self.group_velocity_at(omega)

    def describe(self):
        return (
            f"eit (omega_31 = {float(self.probe):.6g} eV, kappa = {float(self.coupling):.3g} eV, "
            f"Omega_c = {float(self.rabi):.3g} eV, gamma_31 = {float(self.excited_decay):.3g} eV, "
            f"gamma_21 = {float(self.ground_dephasing):.3g} eV)"
        )
