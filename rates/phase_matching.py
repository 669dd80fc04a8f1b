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

from ..dispersion import AbstractBranch, AbstractUniaxial, Isotropic
from .kinematics import _safe_sqrt as _floored_sqrt
from .average import (
    NO_REST_ROOT,
    ROOTS_TRUNCATED,
    RateResult,
    _graded_fractions,
    photon_energy_nodes,
)
from .momentum_integral import momentum_integral
from .channels import channel_strength
from .detection import escape_probability
from .kinematics import dispersion_roots, neutrino_energy, outgoing_kappa_energy, photon_roots, allowed_momenta
from .quadrature import panel_error, panel_nodes

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


def as_uniaxial(dispersion) -> AbstractUniaxial:
    """`dispersion` itself if uniaxial, else `Isotropic(dispersion)`."""
    return dispersion if isinstance(dispersion, AbstractUniaxial) else Isotropic(dispersion)


def needs_three_d(model) -> bool:
    """Whether the model's rate needs the 3-D average (an anisotropic medium or a grating)."""
    return isinstance(model.dispersion, AbstractUniaxial) or model.grating is not None


def grating_terms(model):
    """`((G, c_G), ...)`: the momenta the medium takes up (eV, along the axis) and their weights; G = 0 first."""
    g = model.grating
    if g is None:
        return ((0.0, 1.0),)
    side = 0.25 * g.depth**2
    return ((0.0, 1.0), (g.wavenumber, side), (-g.wavenumber, side))


class _EndBranch(AbstractBranch):
    """|q_G| at one end of a mode's contour, as a function of photon energy: an
    isotropic-like branch whose photon roots are the kinks of T_s(omega)."""

    mode: object
    end: int = eqx.field(static=True)
    shift: jax.Array

    def omega_window(self):
        return self.mode.omega_window()

    def _s(self, omega):
        return self.mode.perp_interval(omega)[self.end]

    def wavenumber(self, omega):
        omega = jnp.asarray(omega, dtype=float)
        s = self._s(omega)
        kz = self.mode.axial_wavenumber(omega, s)
        return jnp.sqrt(jnp.maximum(s + (kz - self.shift) ** 2, 1e-300))


class _AxialBranch(AbstractBranch):
    """|K(omega) - G| along the axis (k_perp = 0) of a mode whose contour ends are costly."""

    branch: AbstractBranch
    shift: jax.Array

    def omega_window(self):
        return self.branch.omega_window()

    def bracket_grid(self, n):
        return self.branch.bracket_grid(n)

    def wavenumber(self, omega):
        return jnp.abs(self.branch.wavenumber(omega) - self.shift)


def _end_branches(mode, shift):
    if mode.explicit_ends:
        return (_EndBranch(mode, 0, shift), _EndBranch(mode, 1, shift))
    return (_AxialBranch(mode.axis_branch(), shift),)


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


def _shell_radii(model, omega):
    """|q| of the p = 0 photon and of the c = +-1 edges of `SHELL_MOMENTA` and the largest momentum.

    **Returns:** shape `omega.shape + (1 + 2 (len(SHELL_MOMENTA) + 1),)`, eV.
    """
    nu = model.neutrinos
    m_i, m_j = nu.m_initial, nu.m_final
    dist = model.momentum
    if dist.support == "point":
        momenta = [dist.momentum]
    else:
        momenta = [dist.scale * x for x in SHELL_MOMENTA] + [dist.breakpoint_momenta()[-1]]

    def radius(p):
        e_out = neutrino_energy(m_i, p) - omega
        return jnp.sqrt(jnp.maximum(e_out**2 - m_j**2, 0.0))

    radii = [radius(0.0)]
    for p in momenta:
        k = radius(p)
        radii += [jnp.abs(k - p), k + p]
    return jnp.stack(radii, axis=-1)


def _shell_crossings(mode, omega, ends, shift, radii):
    """Contour parameters t where |q_G| crosses each shell radius (up to `_SHELL_CROSSINGS` each).

    Not differentiated: the integrand is continuous across them (the shell's
    edges, and the kink of the p = 0 photon), so their motion changes the
    integral only by the quadrature error.
    """
    sg = jax.lax.stop_gradient
    omega, ends, radii, mode, shift = sg((omega, ends, radii, mode, shift))

    def q2(t):
        s, _ = _contour_map(t, *(e[..., None] for e in ends))
        kz = mode.axial_wavenumber(omega[..., None], s)
        return s + (kz - shift) ** 2

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


def _contour_integral(model, mode, omega, shift):
    """T_s(omega) for one grating term (before its weight c_G), and its error estimate.

    **Returns:** `(values, errors)`, shaped as `omega` (1-D).
    """
    nu = model.neutrinos
    dist = model.momentum
    m_i, m_j = nu.m_initial, nu.m_final
    panels, order = model.quadrature.contour_panels, model.quadrature.contour_order
    # omega = 0 (a band's lower end) has no contour; keep it out of every
    # formula (double where), so that no infinity reaches the gradient.
    positive = omega > 0.0
    omega = jnp.where(positive, omega, 1.0)
    s_lo, s_hi, gap_lo, gap_hi = mode.perp_interval(omega)
    s_hi = jnp.maximum(s_hi, s_lo)
    ends = (s_lo, s_hi, gap_lo, gap_hi)
    radii = _shell_radii(model, omega)
    crossings = _shell_crossings(mode, omega, ends, shift, radii)
    uniform = jnp.broadcast_to(jnp.linspace(0.0, 1.0, panels + 1), omega.shape + (panels + 1,))
    edges = jnp.sort(jnp.concatenate([uniform, crossings], axis=-1), axis=-1)
    t, w_k, w_g = panel_nodes(edges, order)  # (n, P, 2 order + 1)
    s, ds_dt = _contour_map(t, *(e[:, None, None] for e in ends))
    w = omega[:, None, None]
    kz = mode.axial_wavenumber(w, s)
    slope = mode.axial_slope(w, s)
    k = jnp.sqrt(jnp.maximum(s + kz**2, 1e-300))
    q = jnp.sqrt(jnp.maximum(s + (kz - shift) ** 2, 1e-300))
    coupling = channel_strength(model.medium, nu.mixing_squared(), w, k) / k**2
    jacobian = 0.25 * slope * coupling * ds_dt / q

    shape = s.shape
    w_flat = jnp.broadcast_to(w, shape).ravel()
    p_lo, p_hi = allowed_momenta(w_flat, q.ravel(), m_i, m_j)
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
    values = jacobian * inner.reshape(shape)
    live = positive & (s_hi > s_lo)
    total = jnp.where(live, jnp.sum(w_k * values, axis=(-2, -1)), 0.0)
    sg = jax.lax.stop_gradient
    error = jnp.sum(panel_error(sg(values), sg(w_k), sg(w_g)), axis=-1) + jnp.sum(
        sg(jnp.abs(w_k * jacobian) * inner_error.reshape(shape)), axis=(-2, -1)
    )
    return total, jnp.where(live, error, 0.0)


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
    for index, (shift, _) in enumerate(terms):
        for branch in _end_branches(mode, jnp.asarray(shift, dtype=float)):
            roots = jax.vmap(
                lambda p_, c_, br=branch: photon_roots(br, m_i, m_j, p_, c_, n_grid=q.root_grid, max_roots=2)
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
            jnp.stack([det.window_lo, det.window_hi]),
            omega_0[None],
            omega_0 + (b - omega_0) * _graded_fractions(scale, b - omega_0, q.grading + EXTRA_GRADING),
            omega_0 - (omega_0 - a) * _graded_fractions(scale, omega_0 - a, q.grading + EXTRA_GRADING),
        ]
    )
    # Window ends and axial band edges may carry a square-root kink of T_s:
    # the panels that end there are mapped.
    ends = jnp.concatenate([jnp.stack([w_lo, w_hi, a, b]), features])
    points = jnp.concatenate([jnp.stack([a, b]), points])
    omega, w_k, w_g, jacobian = photon_energy_nodes(q, energy, gamma, (a, b), points, ends, (w_lo, w_hi),
                                                    0.5 * (w_lo + jnp.minimum(w_hi, 2.0 * b)))
    shape = omega.shape
    spectrum = jnp.zeros(omega.size)
    inner_error = jnp.zeros(omega.size)
    for shift, weight in terms:
        t, e = _contour_integral(model, mode, omega.ravel(), jnp.asarray(shift, dtype=float))
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
