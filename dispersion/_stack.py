"""A two-layer photonic crystal (Bragg stack) at every angle: TE and TM modes.

For layers (n1, d1), (n2, d2), period L = d1 + d2, axis z normal to the
layers, and a photon of energy omega with k_perp^2 = s (PHYSICS.md Sec. 9):

    cos(k_z L) = cos(q1 d1) cos(q2 d2) - (1/2)(e1/e2 + e2/e1) sin(q1 d1) sin(q2 d2),

q_i^2 = n_i^2 omega^2 - s, TE: e_i = q_i, TM: e_i = q_i / n_i^2. Written with
x_i = q_i^2 d_i^2 and the entire functions C(x) = cos sqrt(x) and
S(x) = sin sqrt(x) / sqrt(x) (cosh and sinh for x < 0: an evanescent layer),

    TE: f = C1 C2 - (1/2)(q1^2 + q2^2) d1 d2 S1 S2,
    TM: f = C1 C2 - (1/2)(q1^2 n2^2/n1^2 + q2^2 n1^2/n2^2) d1 d2 S1 S2,

which is real and smooth through q_i = 0. At s = 0 both are the
normal-incidence relation of `Bragg`.

At fixed omega, the pass bands in s (|f| <= 1) are counted from above:
for s >= max(n_i)^2 omega^2 both layers are evanescent and f > 1, and going
down in s at fixed omega crosses the bands as going up in omega at fixed s
does, so band m (extended zone m pi/L <= k_z <= (m+1) pi/L, the dominant
Bloch harmonic) is the (m+1)-th pass interval from the top. Its ends are band
edges (k_z on a zone boundary, |dk_z/d omega| ~ 1/sqrt), or s = 0 where the
contour meets the axis. Umklapp terms (the other Bloch harmonics) are
neglected.

A gap narrower than the resolution of 1 - f^2 in double precision (relative
~1e-8 of omega) is not resolved: the bands beside it are then counted as one.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from ._base import as_float as _as_float, floored_sqrt as _floored_sqrt
from ._bragg import Bragg
from ._uniaxial import NO_EDGE, AbstractMode, AbstractUniaxial

POLARIZATIONS = ("TE", "TM")
#: Points of the k_perp grid that brackets the band edges at each photon energy (static).
_EDGE_GRID = 48
#: Bisection steps that refine each band edge before the Newton step (static).
_EDGE_STEPS = 48


def _edge_sqrt(x):
    """sqrt(max(x, 1e-100)) for sin(k_z L) at band edges: quadrature nodes never come
    within 1e-50 of an edge, and the floor keeps the derivative (x^(-3/2)) finite
    where an empty contour puts every node on one."""
    return jnp.sqrt(jnp.maximum(x, 1e-100))


def _cos_sinc(x):
    """`(cos sqrt(x), sin sqrt(x) / sqrt(x))` for real x of either sign; smooth through 0.

    For x < 0 these are cosh and sinh of sqrt(-x). Near 0 the Taylor series
    (error < 3e-17 for |x| < 1e-3) keeps values and gradients exact where the
    closed forms would divide 0 by 0.
    """
    small = jnp.abs(x) < 1e-3
    # Each branch sees only arguments where it is finite (double where):
    # an infinite unused branch would turn the gradient into NaN.
    safe = jnp.where(small, 1.0, x)
    tiny = jnp.where(small, x, 0.0)
    r = _floored_sqrt(jnp.abs(safe))
    positive = safe > 0.0
    r_cos = jnp.where(positive, r, 0.0)
    r_cosh = jnp.where(positive, 1.0, jnp.minimum(r, 700.0))
    c = jnp.where(positive, jnp.cos(r_cos), jnp.cosh(r_cosh))
    sc = jnp.where(positive, jnp.sin(r_cos) / jnp.where(positive, r, 1.0), jnp.sinh(r_cosh) / r_cosh)
    taylor_c = 1.0 - tiny / 2.0 + tiny**2 / 24.0 - tiny**3 / 720.0
    taylor_s = 1.0 - tiny / 6.0 + tiny**2 / 120.0 - tiny**3 / 5040.0
    return jnp.where(small, taylor_c, c), jnp.where(small, taylor_s, sc)


class Stack(AbstractUniaxial):
    """Two-layer stack at every angle: indices `n1`, `n2`, thicknesses `d1`, `d2` (1/eV; 1 um = 5.068 /eV).

    The fields are in the order of `Bragg`'s (n1, n2, d1, d2).

    `n_bands` (static): how many bands (from the lowest) are modes, each in
    TE and TM (weight 1/2 each). Along the axis the bands are those of
    `Bragg` (the isotropic approximation, `axis_model()`).
    """

    n1: jax.Array = eqx.field(converter=_as_float)
    n2: jax.Array = eqx.field(converter=_as_float)
    d1: jax.Array = eqx.field(converter=_as_float)
    d2: jax.Array = eqx.field(converter=_as_float)
    n_bands: int = eqx.field(static=True, default=2)

    @property
    def period(self):
        return self.d1 + self.d2

    def axis_model(self) -> Bragg:
        """The normal-incidence band structure (`Bragg`), the same for TE and TM."""
        return Bragg(n1=self.n1, n2=self.n2, d1=self.d1, d2=self.d2, n_bands=self.n_bands)

    def bloch_cosine(self, omega, perp_squared, polarization):
        """f = cos(k_z L) at photon energy omega (eV) and k_perp^2 (eV^2); broadcasts.

        `polarization`: `"TE"` or `"TM"` (static).
        """
        if polarization not in POLARIZATIONS:
            raise ValueError(f"Stack.bloch_cosine: polarization {polarization!r}; allowed: TE, TM")
        omega = jnp.asarray(omega, dtype=float)
        s = jnp.asarray(perp_squared, dtype=float)
        q1, q2 = (self.n1 * omega) ** 2 - s, (self.n2 * omega) ** 2 - s
        c1, s1 = _cos_sinc(q1 * self.d1**2)
        c2, s2 = _cos_sinc(q2 * self.d2**2)
        if polarization == "TE":
            mix = q1 + q2
        else:
            ratio = (self.n2 / self.n1) ** 2
            mix = q1 * ratio + q2 / ratio
        return c1 * c2 - 0.5 * mix * self.d1 * self.d2 * s1 * s2

    def modes(self):
        return tuple(_StackMode(self, pol, m) for m in range(self.n_bands) for pol in POLARIZATIONS)

    def branches(self):
        # Along the axis TE and TM are one band structure.
        return self.axis_model().branches()

    def describe(self):
        return (
            f"stack (n1 = {float(self.n1):.4g}, d1 = {float(self.d1):.4g} /eV, "
            f"n2 = {float(self.n2):.4g}, d2 = {float(self.d2):.4g} /eV; TE and TM at every angle)"
        )


class _StackMode(AbstractMode):
    """Band `band` of the stack in one polarization (see the module docstring)."""

    stack: Stack
    polarization: str = eqx.field(static=True)
    band: int = eqx.field(static=True)
    weight: float = eqx.field(static=True, default=0.5)

    def _cosine(self, omega, s):
        return self.stack.bloch_cosine(omega, s, self.polarization)

    def _sine_squared(self, omega, s):
        return 1.0 - self._cosine(omega, s) ** 2

    def axis_branch(self):
        return self.stack.axis_model().branches()[self.band]

    def omega_window(self):
        # The band's lowest energy is on the axis (bands rise with k_perp);
        # off the axis it reaches above its axial top without bound: the
        # window stays open and the rate's kinematics cap the photon energy.
        return self.axis_branch().omega_window()[0], jnp.asarray(jnp.inf)

    def features(self):
        return jnp.stack(self.axis_branch().omega_window())

    def perp_interval(self, omega):
        omega = jnp.asarray(omega, dtype=float)
        shape = omega.shape
        w = jax.lax.stop_gradient(omega.reshape(-1, 1))
        frozen = jax.lax.stop_gradient(self)
        # Slightly above max(n_i)^2 omega^2 both layers are evanescent and
        # f > 1 strictly (at the point itself f = 1 when n1 = n2).
        top = 1.05 * jnp.maximum(frozen.stack.n1, frozen.stack.n2) ** 2 * w**2
        s = top * (jnp.linspace(0.0, 1.0, _EDGE_GRID) ** 2)[None, :]
        passing = frozen._sine_squared(w, s) > 0.0
        change = passing[:, 1:] != passing[:, :-1]
        # Rank of each crossing counted from the top (largest s) down.
        rank = jnp.cumsum(change[:, ::-1], axis=1)[:, ::-1]

        def edge(number):
            hit = change & (rank == number)
            found = jnp.any(hit, axis=1)
            cell = jnp.argmax(hit, axis=1)
            lo = jnp.take_along_axis(s, cell[:, None], axis=1)[:, 0]
            hi = jnp.take_along_axis(s, cell[:, None] + 1, axis=1)[:, 0]
            w0 = w[:, 0]
            sign_lo = frozen._sine_squared(w0, lo) > 0.0

            def body(_, ab):
                a, b = ab
                mid = 0.5 * (a + b)
                same = (frozen._sine_squared(w0, mid) > 0.0) == sign_lo
                return jnp.where(same, mid, a), jnp.where(same, b, mid)

            a, b = jax.lax.fori_loop(0, _EDGE_STEPS, body, (lo, hi))
            root = jax.lax.stop_gradient(0.5 * (a + b))
            # One Newton step with the live parameters and photon energy: the
            # value stays, the edge's implicit derivative is restored.
            slope = jax.vmap(jax.grad(lambda x, y: frozen._sine_squared(y, x)))(root, w0)
            usable = found & (slope != 0.0)
            live = jnp.where(usable, self._sine_squared(omega.reshape(-1), root), 0.0)
            return jnp.where(found, root - live / jnp.where(usable, slope, 1.0), 0.0), found

        upper, has_band = edge(2 * self.band + 1)
        lower, has_lower = edge(2 * self.band + 2)
        upper = jnp.where(has_band, upper, 0.0)
        lower = jnp.where(has_band & has_lower, lower, 0.0)
        # On the axis (no lower edge) a band edge may still lie just beyond,
        # at s < 0 (imaginary k_perp: f is entire in s): near the axial band
        # edge k_z varies as sqrt(s + gap) on the scale of that gap.
        gap_lo = jnp.where(has_lower, 0.0, frozen._virtual_gap(w[:, 0]))
        return (
            lower.reshape(shape),
            upper.reshape(shape),
            jnp.where(has_band, gap_lo, NO_EDGE).reshape(shape),
            jnp.where(has_band, 0.0, NO_EDGE).reshape(shape),
        )

    def _virtual_gap(self, omega):
        """Distance (eV^2) below s = 0 to the band edge that continues the axis's, or `NO_EDGE`.

        Newton steps on 1 - f^2 (nearly linear in s near an edge) from s = 0;
        only its scale matters (it shapes the quadrature, not the integral).
        """
        g = jax.vmap(jax.value_and_grad(lambda x, y: self._sine_squared(y, x)))

        def body(_, x):
            value, slope = g(x, omega)
            step = value / jnp.where(slope == 0.0, 1.0, slope)
            return jnp.where(slope > 0.0, x - step, x)

        x = jax.lax.fori_loop(0, 4, body, jnp.zeros_like(omega))
        top = jnp.maximum(self.stack.n1, self.stack.n2) ** 2 * omega**2
        return jnp.where((x < 0.0) & (x > -top), -x, NO_EDGE)

    def axial_wavenumber(self, omega, s):
        f = self._cosine(omega, s)
        theta = jnp.arctan2(_edge_sqrt(1.0 - f**2), f)
        m = self.band
        if m % 2 == 0:
            return (m * jnp.pi + theta) / self.stack.period
        return ((m + 1) * jnp.pi - theta) / self.stack.period

    def axial_slope(self, omega, s):
        # From cos(k_z L) = f: |d k_z/d omega| = |df/d omega| / (L sin(k_z L)).
        omega, s = jnp.broadcast_arrays(jnp.asarray(omega, dtype=float), jnp.asarray(s, dtype=float))
        f, df = jax.jvp(lambda w: self._cosine(w, s), (omega,), (jnp.ones_like(omega),))
        return jnp.abs(df) / (self.stack.period * _edge_sqrt(1.0 - f**2))

    def describe(self):
        return f"{self.polarization} band {self.band}"
