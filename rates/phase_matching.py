"""The rate over the photon's 3-momentum: anisotropic media and gratings (PHYSICS.md Sec. 9).

For a uniaxial medium (axis z) and a dipole grating along the axis,

    <Gamma> = (1/Z) sum_modes w_s integral d omega L(E_vg - omega) T_s(omega),
    T_s(omega) = integral ds (1/4) |dk_z/d omega|_s a(|k|, omega) sum_G c_G I(|q_G|, omega) / |q_G|,

with s = k_perp^2 along the mode's iso-frequency contour (k_z >= 0),
a = A/|k|^2 (`channel_strength` / k^2), q_G = (k_perp, k_z - G) and
I(q, omega) = integral dp p f(p) kappa E'_j over the momenta allowed for a
transfer |q| (`allowed_momenta` with |q| in place of k), Z = integral p^2 f.
The grating's terms are G = 0 (c = 1) and G = +-D (c = h^2/4 each); with
k_z >= 0 only, the mirror k_z -> -k_z turns the -D term into |k_z + D|, so
the two sidebands are `|k_z - D|` and `|k_z + D|` over the half contour
(derivation in docs/architecture.md). For an isotropic medium and G = 0 this
is the isotropic average exactly: the contour integral of |dk_z/d omega| is
k^2 dk/d omega.

How it is integrated
--------------------
- Photon energy (outermost): panels uniform in u = arcsinh((omega - E_vg)/gamma),
  as the isotropic average, with breakpoints at the photon roots of the
  breakpoint momenta (c = +-1) and of p = 0 along the contour's ends (the
  extremal directions, where T_s has its kinks), graded towards the p = 0
  root, at the mode's features (axial band edges, mapped for a sqrt), and at
  the window's ends.
- Contour (middle): each half of [s_lo, s_hi] is mapped from its end with
  s - s_edge = x^2, x linear in t, where s_edge is the nearest band edge
  (`_contour_map`): the 1/sqrt of |dk_z/d omega| at an edge, and the steep
  sqrt(s - s_edge) of k_z next to one, become smooth in t; panels uniform in t plus the crossings of
  the kinematic shell (|q| at the p = 0 photon and at the largest momentum,
  c = +-1), where I(|q|) has its edges and its kink.
- Momentum (innermost): `rates.momentum_integral`, as the isotropic average.

Every level is Gauss-Kronrod, so the rate carries an error estimate.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp

from ..dispersion import NO_EDGE, AbstractBranch, AbstractUniaxial, Isotropic
from .kinematics import _safe_sqrt as _floored_sqrt
from .average import (
    NO_REST_ROOT,
    ROOTS_TRUNCATED,
    RateResult,
    _graded_fractions,
    photon_energy_nodes,
    with_concrete_facts,
)
from .momentum_integral import momentum_integral
from .channels import channel_strength
from .detection import escape_probability
from .kinematics import dispersion_roots, neutrino_energy, outgoing_kappa_energy, photon_roots, allowed_momenta
from .quadrature import panel_error, panel_nodes, stored

#: Breakpoints graded towards the axial p = 0 photon beyond the isotropic
#: average's `grading` (static): T_s(omega) has its sharpest kink there, the
#: direction of slowest light, often right next to the axial band edge
#: (measured: 3.7e-5 -> 1e-6 against the SciPy reference 2e-5 eV below an edge).
EXTRA_GRADING = 4
#: Grid of t that brackets the kinematic shell's crossings, and bisection steps (static).
_SHELL_GRID = 33
_SHELL_STEPS = 20
#: Crossings of each shell radius kept per contour (static).
_SHELL_CROSSINGS = 2
#: Photon energies evaluated together on the tilted-grating path (static; memory ~ this x contour x azimuth nodes).
AZIMUTH_BATCH = 64


def as_uniaxial(dispersion) -> AbstractUniaxial:
    """`dispersion` itself if uniaxial, else `Isotropic(dispersion)`."""
    return dispersion if isinstance(dispersion, AbstractUniaxial) else Isotropic(dispersion)


def needs_three_d(model) -> bool:
    """Whether the model's rate needs the 3-D average (an anisotropic medium or a grating)."""
    return isinstance(model.dispersion, AbstractUniaxial) or model.grating is not None


def grating_terms(model):
    """`((G_z, G_perp, c_G), ...)`: the momenta the medium takes up and their weights; G = 0 first.

    G_z (eV) is along the axis; G_perp (eV, >= 0) across it, or None for a
    grating along the axis (static: then no azimuthal integral is needed).
    Over the half contour k_z >= 0 the -D term is the mirror of +D with G_z
    -> -G_z and the same G_perp (docs/architecture.md).
    """
    g = model.grating
    if g is None:
        return ((0.0, None, 1.0),)
    side = 0.25 * g.depth**2
    if not g.tilted():
        return ((0.0, None, 1.0), (g.wavenumber, None, side), (-g.wavenumber, None, side))
    along, across = g.wavenumber * jnp.cos(g.angle), g.wavenumber * jnp.abs(jnp.sin(g.angle))
    return ((0.0, None, 1.0), (along, across, side), (-along, across, side))


def _offset_q2(s, kz, shift, perp):
    """|q|^2 = (k_perp - perp)^2 + (k_z - shift)^2 (eV^2): |k - G|^2 in the plane of G (perp None: G on the axis)."""
    if perp is None:
        return s + (kz - shift) ** 2
    return (_floored_sqrt(s) - perp) ** 2 + (kz - shift) ** 2


def _offset_q(s, kz, shift, perp):
    """|q| of `_offset_q2`, eV (floored: finite gradients at q = 0)."""
    return jnp.sqrt(jnp.maximum(_offset_q2(s, kz, shift, perp), 1e-300))


class _EndBranch(AbstractBranch):
    """|q_G| at one end of a mode's contour, as a function of photon energy: an
    isotropic-like branch whose photon roots are the kinks of T_s(omega)."""

    mode: object
    end: int = eqx.field(static=True)
    shift: jax.Array
    #: Signed transverse offset of G in its plane (eV; None: G on the axis).
    perp: jax.Array | None = None

    @property
    def max_roots(self):
        return self.mode.end_roots

    def omega_window(self):
        return self.mode.omega_window()

    def _s(self, omega):
        return self.mode.perp_interval(omega)[self.end]

    def wavenumber(self, omega):
        omega = jnp.asarray(omega, dtype=float)
        s = self._s(omega)
        kz = self.mode.axial_wavenumber(omega, s)
        return _offset_q(s, kz, self.shift, self.perp)


class _AxialBranch(AbstractBranch):
    """|K(omega) - G| along the axis (k_perp = 0) of a mode whose contour ends are costly."""

    branch: AbstractBranch
    shift: jax.Array
    perp: jax.Array | None = None

    def omega_window(self):
        return self.branch.omega_window()

    def bracket_grid(self, n):
        return self.branch.bracket_grid(n)

    def wavenumber(self, omega):
        if self.perp is None:
            return jnp.abs(self.branch.wavenumber(omega) - self.shift)
        return jnp.sqrt((self.branch.wavenumber(omega) - self.shift) ** 2 + self.perp**2)


#: Grid of t on which the extremes of |q| along a contour are bracketed, and golden-section steps (static).
_EXTREME_GRID = 33
_EXTREME_STEPS = 40


class _ExtremeBranch(AbstractBranch):
    """The least (`largest` False) or greatest |q_G| over a mode's contour and the azimuth, as a
    function of photon energy: with a tilted G the shell first touches (or last leaves) the
    iso-frequency surface at an interior point of the contour, not at its ends.

    The contour is the half k_z >= 0 of the surface, as each grating term
    integrates it (the mirror term, -G_z, holds the other half): for an
    index and G at polar angle theta the least |q| is |K - D|, the greatest
    sqrt(K^2 + D^2 + 2 K D sin theta), at the equator; the pair together
    holds K + D (tests/test_tilted_grating.py).

    The least |q| lies at the nearest azimuth, the greatest at the farthest. The
    extreme is bracketed on a grid of the contour parameter t, refined by
    golden section with frozen values, and |q| is evaluated there with the
    live ones: the derivative of an extreme is the partial derivative at its
    location (the envelope theorem).
    """

    mode: object
    shift: jax.Array
    perp: jax.Array
    largest: bool = eqx.field(static=True)

    @property
    def max_roots(self):
        return self.mode.end_roots

    def omega_window(self):
        return self.mode.omega_window()

    def _q2(self, omega, t):
        ends = self.mode.perp_interval(omega)
        s, _ = _contour_map(t, *(e[..., None] for e in ends))
        kz = self.mode.axial_wavenumber(omega[..., None], s)
        return _offset_q2(s, kz, self.shift, -self.perp if self.largest else self.perp)

    def wavenumber(self, omega):
        omega = jnp.asarray(omega, dtype=float)
        frozen, w = jax.lax.stop_gradient((self, omega))
        sign = -1.0 if self.largest else 1.0

        def cost(t):
            return sign * frozen._q2(w, t)

        grid = jnp.linspace(0.0, 1.0, _EXTREME_GRID)
        best = jnp.argmin(cost(jnp.broadcast_to(grid, w.shape + grid.shape)), axis=-1)
        step = 1.0 / (_EXTREME_GRID - 1)
        lo, hi = (jnp.clip(grid[best] + d * step, 0.0, 1.0) for d in (-1.0, 1.0))
        ratio = 0.5 * (jnp.sqrt(5.0) - 1.0)

        def body(_, ab):
            a, b = ab
            c, d = b - ratio * (b - a), a + ratio * (b - a)
            left = cost(jnp.stack([c, d], axis=-1))
            keep_left = left[..., 0] < left[..., 1]
            return jnp.where(keep_left, a, c), jnp.where(keep_left, d, b)

        lo, hi = jax.lax.fori_loop(0, _EXTREME_STEPS, body, (lo, hi))
        t_star = 0.5 * (lo + hi)
        return jnp.sqrt(jnp.maximum(self._q2(omega, t_star[..., None])[..., 0], 1e-300))


def _end_branches(mode, shift, perp=None):
    """Branches whose photon roots are the kinks of T_s(omega): |q| at the contour's ends
    (with a tilted G, at the nearest and farthest azimuth of each end, and the least
    and greatest |q| over the whole surface)."""
    if not mode.explicit_ends:
        return (_AxialBranch(mode.axis_branch(), shift, perp),)
    if perp is None:
        return tuple(_EndBranch(mode, end, shift) for end in (0, 1))
    ends = tuple(_EndBranch(mode, end, shift, o) for o in (perp, -perp) for end in (0, 1))
    return ends + tuple(_ExtremeBranch(mode, shift, perp, largest) for largest in (False, True))


#: A gap longer than this many contour lengths is treated as none (the map is then linear).
_GAP_CAP = 1e6


def _contour_map(t, s_lo, s_hi, gap_lo, gap_hi):
    """s(t) and ds/dt on t in [0, 1]: each half of [s_lo, s_hi] mapped from its end.

    On the half next to an end whose band edge lies a gap g beyond it,
    s - s_edge = x^2 with x linear in t: the sqrt(s - s_edge) of k_z and the
    1/sqrt of |dk_z/d omega| become smooth in t however small g is (g = 0:
    the edge itself; large g: a linear map). Written as s = s_end +- x'(2 sqrt(g) + x')
    so that nothing cancels. The halves meet at the midpoint (t = 1/2).
    """
    half = 0.5 * (s_hi - s_lo)

    def side(tau, gap):
        # The gap only shapes the map (the integral does not depend on it).
        g = jax.lax.stop_gradient(jnp.minimum(gap, _GAP_CAP * half))
        r = _floored_sqrt(g)
        delta = half / (_floored_sqrt(g + half) + r)
        x = tau * delta
        return x * (2.0 * r + x), 2.0 * delta * (r + x)

    left = t < 0.5
    offset_l, slope_l = side(2.0 * t, gap_lo)
    offset_r, slope_r = side(2.0 * (1.0 - t), gap_hi)
    s = jnp.where(left, s_lo + offset_l, s_hi - offset_r)
    return s, 2.0 * jnp.where(left, slope_l, slope_r)


#: Momenta (units of the distribution's scale) whose c = +-1 shell radii
#: split the contour, besides p = 0 and the largest momentum: I(|q|) falls
#: by e^(-p/T) across the shell, and these keep each panel to a few e-folds.
SHELL_MOMENTA = (2.0, 6.0)
#: Further momenta that split only the azimuthal panels of a tilted grating: there
#: I(|q|)/|q| is integrated as it is (not yet averaged), and a panel from 6 to the
#: largest momentum spans ~30 e-folds (measured at theta = 0.7: the sideband pair
#: 4.2e-5 from the exact azimuth with `SHELL_MOMENTA` alone).
AZIMUTH_MOMENTA = (12.0, 20.0)


def _shell_radii(model, omega, shell_momenta=SHELL_MOMENTA):
    """|q| of the p = 0 photon and of the c = +-1 edges of `shell_momenta` and the largest momentum.

    **Returns:** shape `omega.shape + (1 + 2 (len(shell_momenta) + 1),)`, eV.
    """
    nu = model.neutrinos
    m_i, m_j = nu.m_initial, nu.m_final
    dist = model.momentum
    if dist.support == "point":
        momenta = [dist.momentum]
    else:
        momenta = [dist.scale * x for x in shell_momenta] + [dist.breakpoint_momenta()[-1]]

    def radius(p):
        e_out = neutrino_energy(m_i, p) - omega
        return jnp.sqrt(jnp.maximum(e_out**2 - m_j**2, 0.0))

    radii = [radius(0.0)]
    for p in momenta:
        k = radius(p)
        radii += [jnp.abs(k - p), k + p]
    return jnp.stack(radii, axis=-1)


def _shell_crossings(mode, omega, ends, shift, radii, perp=None):
    """Contour parameters t where |q_G| crosses each shell radius (up to `_SHELL_CROSSINGS` each).

    With a tilted G (`perp`: its signed transverse offset) |q_G| is taken at
    one azimuth: the nearest (perp > 0) or the farthest (perp < 0).
    Not differentiated: the integrand is continuous across them (the shell's
    edges, and the kink of the p = 0 photon), so their motion changes the
    integral only by the quadrature error.
    """
    sg = jax.lax.stop_gradient
    omega, ends, radii, mode, shift, perp = sg((omega, ends, radii, mode, shift, perp))

    def q2(t):
        s, _ = _contour_map(t, *(e[..., None] for e in ends))
        kz = mode.axial_wavenumber(omega[..., None], s)
        return _offset_q2(s, kz, shift, perp)

    t_grid = jnp.linspace(0.0, 1.0, _SHELL_GRID)
    values = q2(jnp.broadcast_to(t_grid, omega.shape + (_SHELL_GRID,)))
    out = []
    for j in range(radii.shape[-1]):
        h = values - radii[..., j : j + 1] ** 2
        change = jnp.sign(h[..., 1:]) * jnp.sign(h[..., :-1]) < 0.0
        for r in range(_SHELL_CROSSINGS):
            rank = jnp.cumsum(change, axis=-1)
            hit = change & (rank == r + 1)
            found = jnp.any(hit, axis=-1)
            cell = jnp.argmax(hit, axis=-1)
            a = t_grid[cell]
            b = t_grid[jnp.minimum(cell + 1, _SHELL_GRID - 1)]
            target = radii[..., j] ** 2
            rising = q2(a[..., None])[..., 0] < target

            def body(_, ab, target=target, rising=rising):
                lo, hi = ab
                mid = 0.5 * (lo + hi)
                below = q2(mid[..., None])[..., 0] < target
                move_lo = below == rising
                return jnp.where(move_lo, mid, lo), jnp.where(move_lo, hi, mid)

            lo, hi = jax.lax.fori_loop(0, _SHELL_STEPS, body, (a, b))
            out.append(jnp.where(found, 0.5 * (lo + hi), 1.0))
    return jnp.stack(out, axis=-1)


def _azimuth_nodes(s, kz, shift, perp, radii, order):
    """Gauss-Kronrod nodes in the azimuth phi in [0, pi] of k_perp about a tilted G, and |q| there.

    |q|^2 = A + B sin^2(phi/2) with A = (k_perp - perp)^2 + (k_z - shift)^2, the least |q|^2
    (at phi = 0), and B = 4 perp k_perp: written so, nothing cancels where the
    surface passes next to G (A - B cos(phi) lost all digits of a tiny |q| there).
    The panels split where |q| crosses a shell radius (closed form, not
    differentiated: the integrand is continuous there).

    **Returns:** `(q, w_kronrod, w_gauss)`, shape `s.shape + (P, 2 order + 1)`, weights summing to 1.
    """
    sg = jax.lax.stop_gradient
    least = _offset_q2(s, kz, shift, perp)
    spread = 4.0 * perp * _floored_sqrt(s)
    r2 = sg(radii**2)
    a_, b_ = sg(least)[..., None], sg(spread)[..., None]
    sin2_r = jnp.clip((r2 - a_) / jnp.maximum(b_, 1e-300), 0.0, 1.0)
    phi_r = _snapped_to_ends(2.0 * jnp.arcsin(jnp.sqrt(sin2_r)), jnp.pi)
    edges = jnp.sort(jnp.concatenate([jnp.zeros_like(phi_r[..., :1]), phi_r, jnp.full_like(phi_r[..., :1], jnp.pi)],
                                     axis=-1), axis=-1)
    phi, w_k, w_g = panel_nodes(edges, order)
    q2 = least[..., None, None] + spread[..., None, None] * jnp.sin(0.5 * phi) ** 2
    return jnp.sqrt(jnp.maximum(q2, 1e-300)), w_k / jnp.pi, w_g / jnp.pi


#: Panel edges (in t, or in phi / pi) closer than this to an end of their range are moved onto it.
END_SNAP = 1e-6


def _snapped_to_ends(x, top=1.0):
    """`x` in [0, top] with values within `END_SNAP` (relative to `top`) of 0 or `top` set to it.

    A crossing of the kinematic shell that falls next to a contour end
    would make a panel ~1e-9 wide there, whose nodes sit so close to the
    end that s rounds onto it: k_z computed from s is then exactly 0
    (floored to 1e-150) while the map's ds/dt is not, and one node carried
    1e93 (measured: a tilted grating on a birefringent crystal, 1.96e83
    against 5.76e-37). Snapped, the nearest node stays ~1e-3 of a panel
    from the end. The kink the crossing marks then lies inside a panel,
    within 1e-6 of its end: an error of order 1e-12 of the panel's integral.
    """
    near_lo = x < END_SNAP * top
    near_hi = x > (1.0 - END_SNAP) * top
    return jnp.where(near_lo, 0.0, jnp.where(near_hi, top, x))


def _contour_integral(model, mode, omega, shift, perp=None):
    """T_s(omega) for one grating term (before its weight c_G), and its error estimate.

    `shift` is G_z and `perp` G_perp (None: G on the axis; see `grating_terms`).

    **Returns:** `(values, errors)`, shaped as `omega` (1-D).
    """
    nu = model.neutrinos
    dist = model.momentum
    m_i, m_j = nu.m_initial, nu.m_final
    panels, order = model.quadrature.contour_panels, model.quadrature.contour_order + mode.extra_contour_order
    # omega = 0 (a band's lower end) has no contour; keep it out of every
    # formula (double where), so that no infinity reaches the gradient.
    positive = omega > 0.0
    omega = jnp.where(positive, omega, 1.0)
    s_lo, s_hi, gap_lo, gap_hi = mode.perp_interval(omega)
    radii = _shell_radii(model, omega)
    # Beyond the kinematic shell's outer radius S vanishes: |q| >= k_perp - G_perp,
    # so the contour ends there (exactly; open hyperbolic contours need it).
    cut = (jnp.max(jax.lax.stop_gradient(radii), axis=-1) + (0.0 if perp is None else perp)) ** 2
    beyond = s_hi > cut
    s_hi = jnp.maximum(jnp.where(beyond, cut, s_hi), s_lo)
    gap_hi = jnp.where(beyond, NO_EDGE, gap_hi)
    ends = (s_lo, s_hi, gap_lo, gap_hi)
    if perp is None:
        crossings = _shell_crossings(mode, omega, ends, shift, radii)
    else:
        crossings = jnp.concatenate([_shell_crossings(mode, omega, ends, shift, radii, o) for o in (perp, -perp)],
                                    axis=-1)
    uniform = jnp.broadcast_to(jnp.linspace(0.0, 1.0, panels + 1), omega.shape + (panels + 1,))
    edges = jnp.sort(jnp.concatenate([uniform, _snapped_to_ends(crossings)], axis=-1), axis=-1)
    t, w_k, w_g = panel_nodes(edges, order)  # (n, P, 2 order + 1)
    s, ds_dt = _contour_map(t, *(e[:, None, None] for e in ends))
    w = omega[:, None, None]
    kz = mode.axial_wavenumber(w, s)
    slope = mode.axial_slope(w, s)
    k = jnp.sqrt(jnp.maximum(s + kz**2, 1e-300))
    coupling = channel_strength(model.medium, nu.mixing_squared(), w, k) / k**2
    jacobian = 0.25 * slope * coupling * ds_dt
    if perp is None:
        q = _offset_q(s, kz, shift, None)
    else:
        fine_radii = _shell_radii(model, omega, tuple(sorted(SHELL_MOMENTA + AZIMUTH_MOMENTA)))
        q, w_phi, e_phi = _azimuth_nodes(s, kz, shift, perp, fine_radii[:, None, None, :], order)
    shape = q.shape

    w_flat = jnp.broadcast_to(w if perp is None else w[..., None, None], shape).ravel()
    # Stored: every momentum node reads them (see `rates.quadrature.stored`).
    p_lo, p_hi = (stored(p) for p in allowed_momenta(w_flat, q.ravel(), m_i, m_j))
    if dist.support == "point":
        p0 = dist.momentum
        inside = (p_lo <= p0 * (1.0 + 1e-12)) & (p0 <= p_hi * (1.0 + 1e-12))
        inner = jnp.where(inside, outgoing_kappa_energy(neutrino_energy(m_i, p0) - w_flat, m_j) / p0, 0.0)
        inner_error = jnp.zeros_like(inner)
    else:
        p_up = jnp.minimum(p_hi, dist.cutoff)
        inner, inner_error = momentum_integral(model.quadrature.inner_order, dist, m_i, m_j, w_flat, p_lo, p_up,
                                               massless=nu.final_is_massless())
        open_ = p_lo < p_up
        inner = jnp.where(open_, inner, 0.0)
        inner_error = jnp.where(open_, inner_error, 0.0)
    sg = jax.lax.stop_gradient
    per_q = inner.reshape(shape) / q
    inner_per_q = sg(inner_error.reshape(shape) / q)
    if perp is None:
        mean, inner_mean, azimuth_error = per_q, inner_per_q, 0.0
    else:
        # The azimuthal average and its error.
        mean = jnp.sum(w_phi * per_q, axis=(-2, -1))
        inner_mean = jnp.sum(sg(jnp.abs(w_phi)) * inner_per_q, axis=(-2, -1))
        azimuth_error = jnp.sum(panel_error(sg(per_q), sg(w_phi), sg(e_phi)), axis=-1)
    values = jacobian * mean
    live = positive & (s_hi > s_lo)
    total = jnp.where(live, jnp.sum(w_k * values, axis=(-2, -1)), 0.0)
    error = jnp.sum(panel_error(sg(values), sg(w_k), sg(w_g)), axis=-1) + jnp.sum(
        sg(jnp.abs(w_k * jacobian) * (inner_mean + azimuth_error)), axis=(-2, -1)
    )
    return total, jnp.where(live, error, 0.0)


def _without_near_duplicates(points, filler):
    """`points` sorted, each within 1e-12 (relative) of its predecessor replaced by `filler`.

    Two branches can give the same kink (a contour end that is also the
    surface's least |q|) to rounding: the panel between them would be ~1e-16
    wide, with its nodes on the kink itself, where T_s(omega) can be singular
    (measured: 4e81 against ~1e-56 one panel away). An exact duplicate is a
    panel of zero width and weight, harmless, and so is the `filler` (a
    breakpoint already).
    """
    ordered = jnp.sort(points)
    close = jnp.abs(ordered[1:] - ordered[:-1]) <= 1e-12 * jnp.abs(ordered[1:])
    return jnp.concatenate([ordered[:1], jnp.where(close, filler, ordered[1:])])


def _mode_integral(model, mode, terms, energy, gamma):
    """integral d omega L(E_vg - omega) sum_G c_G T_s(omega; G) for one mode.

    **Returns:** `(total, detected, error, complete)`.
    """
    q = model.quadrature
    nu = model.neutrinos
    dist = model.momentum
    m_i, m_j = nu.m_initial, nu.m_final
    w_lo, w_hi = mode.omega_window()
    momenta = dist.breakpoint_momenta()
    p_max = momenta[-1]
    a = w_lo
    b = jnp.clip(neutrino_energy(m_i, p_max) - m_j, w_lo, w_hi)

    pp = jnp.concatenate([jnp.zeros(1), jnp.repeat(momenta, 2)])
    cc = jnp.concatenate([jnp.zeros(1), jnp.tile(jnp.array([-1.0, 1.0]), momenta.shape[0])])
    points, complete = [], True
    omega_0, v_0 = jnp.inf, jnp.inf
    for index, (shift, perp, _) in enumerate(terms):
        for branch in _end_branches(mode, jnp.asarray(shift, dtype=float), perp):
            roots = jax.vmap(
                lambda p_, c_, br=branch: photon_roots(br, m_i, m_j, p_, c_, n_grid=q.root_grid,
                                                    max_roots=br.max_roots)
            )(pp, cc)
            complete = complete & jnp.all(roots.complete)
            points.append(jnp.where(roots.valid, roots.omega, a).ravel())
            if index == 0:  # G = 0: the p = 0 photons of the uniform medium
                rest_valid = roots.valid[0]
                omega_0 = jnp.minimum(omega_0, jnp.min(jnp.where(rest_valid, roots.omega[0], jnp.inf)))
                v_0 = jnp.minimum(v_0, jnp.min(jnp.where(rest_valid, jnp.abs(roots.group_velocity[0]), jnp.inf)))

    has_rest = jnp.isfinite(omega_0)
    omega_0 = jnp.clip(jnp.where(has_rest, omega_0, energy), a, b)
    scale = dist.scale * jnp.where(jnp.isfinite(v_0), v_0, 1.0) if dist.support != "point" else dist.momentum
    features = mode.features()
    det = model.detector
    points = jnp.concatenate(
        points
        + [
            features,
            det.window_points(),
            omega_0[None],
            omega_0 + (b - omega_0) * _graded_fractions(scale, b - omega_0, q.grading + EXTRA_GRADING),
            omega_0 - (omega_0 - a) * _graded_fractions(scale, omega_0 - a, q.grading + EXTRA_GRADING),
        ]
    )
    # Window ends and axial band edges may carry a square-root kink of T_s:
    # the panels that end there are mapped.
    ends = jnp.concatenate([jnp.stack([w_lo, w_hi, a, b]), features])
    points = jnp.concatenate([jnp.stack([a, b]), _without_near_duplicates(points, a)])
    omega, w_k, w_g, jacobian = photon_energy_nodes(q, energy, gamma, (a, b), points, ends, (w_lo, w_hi),
                                                    0.5 * (w_lo + jnp.minimum(w_hi, 2.0 * b)))
    shape = omega.shape
    spectrum = jnp.zeros(omega.size)
    inner_error = jnp.zeros(omega.size)
    for shift, perp, weight in terms:
        shift = jnp.asarray(shift, dtype=float)
        if perp is None:
            t, e = _contour_integral(model, mode, omega.ravel(), shift)
        else:
            # The azimuthal integral multiplies every contour node by its own
            # nodes: photon energies go through in batches to bound the memory.
            t, e = jax.lax.map(lambda w: tuple(r[0] for r in _contour_integral(model, mode, w[None], shift, perp)),
                               omega.ravel(), batch_size=AZIMUTH_BATCH)
        spectrum = spectrum + weight * t
        inner_error = inner_error + weight * e
    values = spectrum.reshape(shape) * jacobian
    seen = escape_probability(mode.attenuation(omega), model.length) * det.acceptance(omega)
    total = jnp.sum(w_k * values)
    detected = jnp.sum(w_k * values * seen)
    sg = jax.lax.stop_gradient
    error = jnp.sum(panel_error(sg(values), sg(w_k), sg(w_g))) + jnp.sum(
        sg(jnp.abs(w_k) * inner_error.reshape(shape) * jacobian)
    )
    return total, detected, error, complete


def mode_rate_results(model) -> tuple:
    """Each mode's share of <Gamma> (weight included), with its error estimate and flags.

    **Returns:** a tuple of `(label, RateResult)`, one per mode of
    `as_uniaxial(model.dispersion)` ("TE band 0", "ordinary", ...); their
    rates add up to `rate_result(model).rate`.

    **Raises:** `ValueError` for `dk = "paper"` (D_k has no meaning off the
    isotropic picture) and for the `rest` distribution (use a point or a density).
    """
    return _mode_rate_results(with_concrete_facts(model))


@eqx.filter_jit  # one program when called eagerly (see `rates.rate_result`)
def _mode_rate_results(model) -> tuple:
    if model.dk != "exact":
        raise ValueError('dk: "paper" has no meaning for an anisotropic medium or a grating; use "exact"')
    dist = model.momentum
    if dist.support == "rest":
        raise ValueError("momentum: the 3-D average needs moving neutrinos (a point or a density, not rest)")
    medium = as_uniaxial(model.dispersion)
    nu = model.neutrinos
    rest = dispersion_roots(medium, nu.m_initial, nu.m_final, 0.0, 0.0, n_grid=model.quadrature.root_grid)
    flags = jnp.where(rest.valid[0], 0, NO_REST_ROOT) | jnp.where(rest.complete, 0, ROOTS_TRUNCATED)
    m = model.medium
    energy = rest.omega[0] + m.detuning if m.resonant else m.level_spacing
    gamma = 0.5 * m.width
    terms = grating_terms(model)
    norm = dist.normalization()
    out = []
    for mode in medium.modes():
        t, d, e, complete = _mode_integral(model, mode, terms, energy, gamma)
        mode_flags = (flags | jnp.where(complete, 0, ROOTS_TRUNCATED)).astype(jnp.int32)
        w = mode.weight / norm
        out.append((mode.describe(), RateResult(w * t, w * d, w * e, mode_flags)))
    return tuple(out)


def rate_result_3d(model) -> RateResult:
    """<Gamma> over the photon's 3-momentum, with its error estimate and flags (see the module docstring).

    **Raises:** as `mode_rate_results`.
    """
    parts = [result for _, result in mode_rate_results(model)]
    flags = functools.reduce(jnp.bitwise_or, [r.flags for r in parts])
    return RateResult(sum(r.rate for r in parts), sum(r.detected for r in parts), sum(r.error for r in parts), flags)
