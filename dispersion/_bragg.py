"""A two-layer 1D photonic crystal (Bragg stack) at normal incidence.

Bloch's theorem for layers (n1, d1), (n2, d2), period Lambda = d1 + d2:

    cos(K Lambda) = f(omega) = cos(n1 omega d1) cos(n2 omega d2)
                    - (1/2)(n1/n2 + n2/n1) sin(n1 omega d1) sin(n2 omega d2)

Where |f| <= 1 the stack passes light (a pass band); where |f| > 1 it has a
stop band (band gap). Unfolded through the pass bands, K rises monotonically:
in band m (m = 0, 1, ...) K = (m pi + arccos f) / Lambda for even m and
((m + 1) pi - arccos f) / Lambda for odd m. The light is slow near every band
edge, where v_g -> 0.

Used here as an *isotropic* effective medium: the rate integrals take K(omega)
for every photon direction. A real stack is anisotropic (K depends on the
angle to the stack axis); the anisotropic treatment is future work.

Each pass band is a branch that reaches its band edges exactly: there
dK/d omega ~ 1/sqrt(omega_edge - omega), an integrable singularity that the
rate integral removes by a substitution. A closed gap (f touches +-1, e.g.
the even gaps of a quarter-wave stack) is no gap: the two branches meet at
the touching point, where K is continuous.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._base import AbstractBranch, AbstractDispersion
from ._base import as_float as _as_float, floored_sqrt as _floored_sqrt



class Bragg(AbstractDispersion):
    """Two-layer stack: indices `n1`, `n2`, thicknesses `d1`, `d2` (1/eV; 1 um = 5.068 /eV).

    `n_bands` (static) is how many pass bands from omega = 0 up are branches.
    """

    n1: jax.Array = eqx.field(converter=_as_float)
    n2: jax.Array = eqx.field(converter=_as_float)
    d1: jax.Array = eqx.field(converter=_as_float)
    d2: jax.Array = eqx.field(converter=_as_float)
    n_bands: int = eqx.field(static=True, default=3)

    @property
    def period(self):
        return self.d1 + self.d2

    def bloch_cosine(self, omega):
        """f(omega) = cos(K Lambda)."""
        omega = jnp.asarray(omega, dtype=float)
        a, b = self.n1 * omega * self.d1, self.n2 * omega * self.d2
        mix = 0.5 * (self.n1 / self.n2 + self.n2 / self.n1)
        return jnp.cos(a) * jnp.cos(b) - mix * jnp.sin(a) * jnp.sin(b)

    def bloch_sine_squared(self, omega):
        """1 - f(omega)^2 = sin^2(K Lambda), without the cancellation of 1 - f^2 near a band edge.

        With f = cos(a + b) - delta sin a sin b, delta = (n1 - n2)^2 / (2 n1 n2):
        1 - f^2 = sin^2(a + b) + delta sin a sin b (2 cos(a + b) - delta sin a sin b).
        """
        omega = jnp.asarray(omega, dtype=float)
        a, b = self.n1 * omega * self.d1, self.n2 * omega * self.d2
        delta = (self.n1 - self.n2) ** 2 / (2.0 * self.n1 * self.n2)
        product = jnp.sin(a) * jnp.sin(b)
        return jnp.sin(a + b) ** 2 + delta * product * (2.0 * jnp.cos(a + b) - delta * product)

    def gaps(self):
        """Stop-band edges (lower, upper) above bands 0 .. n_bands - 1, eV (equal for a closed gap).

        Gap m (between bands m and m + 1) sits near the Bragg condition
        (n1 d1 + n2 d2) omega = (m + 1) pi, where f reaches (-1)^(m+1). On a
        grid around it, the extremum of (-1)^(m+1) f locates the gap; if it
        exceeds 1 the edges are the crossings of |f| = 1 on either side
        (bisection, then a Newton step that restores the implicit derivative);
        if not, the gap is closed (e.g. the even gaps of a quarter-wave stack)
        and both edges sit at the extremum.
        """
        frozen = jax.lax.stop_gradient(self)
        scale = jnp.pi / (frozen.n1 * frozen.d1 + frozen.n2 * frozen.d2)
        gaps = []
        for m in range(self.n_bands):
            target = (-1.0) ** (m + 1)
            grid = jnp.linspace((m + 0.5) * scale, (m + 1.5) * scale, 2048)
            g = target * frozen.bloch_cosine(grid) - 1.0
            j = jnp.argmax(g)
            # The extremum of (-1)^(m+1) f, refined by bisection on f'.
            dfdw = jax.grad(lambda w, t=target: t * frozen.bloch_cosine(w))

            def touch_body(_, ab):
                a, b = ab
                mid = 0.5 * (a + b)
                rising = dfdw(mid) > 0
                return jnp.where(rising, mid, a), jnp.where(rising, b, mid)

            jl, jr = jnp.maximum(j - 1, 0), jnp.minimum(j + 1, grid.shape[0] - 1)
            a, b = jax.lax.fori_loop(0, 80, touch_body, (grid[jl], grid[jr]))
            touch = jax.lax.stop_gradient(0.5 * (a + b))
            # One Newton step on f' = 0 with the live parameters restores the
            # implicit derivative of the touching point (where a closed gap's
            # branches meet), exact at the extremum.
            curvature = jax.lax.stop_gradient(jax.grad(dfdw)(touch))
            live_slope = jax.grad(lambda w, t=target: t * self.bloch_cosine(w))(touch)
            touch = touch - live_slope / jnp.where(curvature == 0.0, 1.0, curvature)
            # Open when the extremum passes |f| = 1, however narrow the gap:
            # decided on sin^2(K Lambda) = 1 - f^2 (`bloch_sine_squared`),
            # which resolves gaps far narrower than 1 - |f| can in floating
            # point (nearly quarter-wave stacks open gaps ~1e-11 eV wide).
            open_gap = frozen.bloch_sine_squared(touch) < 0.0

            def crossing(lo, hi, open_gap=open_gap):
                def body(_, ab):
                    a, b = ab
                    mid = 0.5 * (a + b)
                    ga = frozen.bloch_sine_squared(a)
                    gm = frozen.bloch_sine_squared(mid)
                    same = jnp.sign(ga) == jnp.sign(gm)
                    return jnp.where(same, mid, a), jnp.where(same, b, mid)

                a, b = jax.lax.fori_loop(0, 100, body, (lo, hi))
                w = jax.lax.stop_gradient(0.5 * (a + b))
                # A Newton step on sin^2 with the live parameters: the value
                # stays, the implicit derivative of the edge is restored.
                slope = jax.grad(frozen.bloch_sine_squared)(w)
                # Double where: for a closed gap this result is discarded, and
                # its (near-zero) slope must not put inf into the gradient.
                usable = open_gap & (slope != 0.0)
                slope = jnp.where(usable, slope, 1.0)
                residual = jnp.where(usable, self.bloch_sine_squared(w), 0.0)
                return w - residual / slope

            lower = jnp.where(open_gap, crossing(grid[0], touch), touch)
            upper = jnp.where(open_gap, crossing(touch, grid[-1]), touch)
            gaps.append((lower, upper))
        return gaps

    def band_edges(self):
        """Pass-band edges (omega_lo, omega_hi) for bands 0 .. n_bands - 1, eV (see `gaps`)."""
        gaps = self.gaps()
        starts = [jnp.zeros(())] + [gap[1] for gap in gaps[:-1]]
        return [(starts[m], gaps[m][0]) for m in range(self.n_bands)]

    def branches(self):
        gaps = self.gaps()
        out = []
        for m in range(self.n_bands):
            lo = jnp.zeros(()) if m == 0 else gaps[m - 1][1]
            hi = gaps[m][0]
            below = hi - lo if m == 0 else gaps[m - 1][1] - gaps[m - 1][0]
            out.append(_BraggBand(self, m, lo, hi, jnp.stack([below, gaps[m][1] - gaps[m][0]])))
        return tuple(out)

    def unfolded_wavenumber(self, omega, band):
        """K(omega) unfolded into band `band` (static int), eV.

        theta = K Lambda (mod pi) = atan2(sin, f), with sin^2 from
        `bloch_sine_squared`: accurate up to a band edge or a touching point,
        and finite (value and gradient) on and beyond them.
        """
        theta = jnp.arctan2(_floored_sqrt(self.bloch_sine_squared(omega)), self.bloch_cosine(omega))
        if band % 2 == 0:
            return (band * jnp.pi + theta) / self.period
        return ((band + 1) * jnp.pi - theta) / self.period

    def describe(self):
        return (
            f"bragg (n1 = {float(self.n1):.4g}, d1 = {float(self.d1):.4g} /eV, "
            f"n2 = {float(self.n2):.4g}, d2 = {float(self.d2):.4g} /eV; isotropic effective medium)"
        )


class _BraggBand(AbstractBranch):

    singular_edges = True

    stack: Bragg
    band: int = eqx.field(static=True)
    lo: jax.Array
    hi: jax.Array
    gap_widths: jax.Array

    def edge_scales(self):
        # Next to a narrow gap of width g, 1/v_g ~ sqrt(g / x) only for x << g.
        return self.gap_widths

    def omega_window(self):
        return self.lo, self.hi

    def wavenumber(self, omega):
        return self.stack.unfolded_wavenumber(omega, self.band)

    def group_velocity_at(self, omega):
        # v_g = Lambda sin(theta) / |df/d omega| (from cos theta = f): it goes to
        # zero towards a band edge. Where |f| >= 1 in floating point (beyond an
        # edge, or inside a gap too narrow to resolve next to a closed one)
        # there is no propagating mode: v_g is set huge, so that the photon
        # density 1/v_g vanishes there, with zero derivative (double where).
        omega = jnp.asarray(omega, dtype=float)
        slope = jnp.abs(jnp.vectorize(jax.grad(self.stack.bloch_cosine))(omega))
        squared = self.stack.bloch_sine_squared(omega)
        passing = (squared > 0.0) & (slope > 0.0)
        v_g = self.stack.period * jnp.sqrt(jnp.where(passing, squared, 1.0)) / jnp.where(passing, slope, 1.0)
        return jnp.where(passing, v_g, 1e300)


def transfer_matrix_transmission(n1, d1, n2, d2, periods, omega, n_out=1.0):
    """Intensity transmission of `periods` bilayers in a medium of index n_out (numpy).

    Characteristic (Abeles) matrices of each layer, M = [[cos p, -i sin p / n],
    [-i n sin p, cos p]] with p = n omega d; independent of the Bloch formula.
    """
    omega = np.atleast_1d(np.asarray(omega, dtype=float))
    out = []
    for w in omega:
        layer = []
        for n, d in ((n1, d1), (n2, d2)):
            p = n * w * d
            layer.append(np.array([[np.cos(p), -1j * np.sin(p) / n], [-1j * n * np.sin(p), np.cos(p)]]))
        cell = layer[0] @ layer[1]
        total = np.linalg.matrix_power(cell, periods)
        (m11, m12), (m21, m22) = total
        t = 2 * n_out / (n_out * m11 + n_out * n_out * m12 + m21 + n_out * m22)
        out.append(abs(t) ** 2)
    return np.array(out)
