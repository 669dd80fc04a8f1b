"""Kinematics of nu_i(p) -> nu_j(p') + gamma(k) in a dispersive medium.

Energy and phase matching give, for a photon at cosine c to the neutrino
momentum p (the paper's phase matching, after its Eqs. (1) and (14), and the
energy delta function of its Eq. (16)),

    F(k; p, c) = omega(k) + sqrt(m_j^2 + p^2 + k^2 - 2 p k c) - sqrt(m_i^2 + p^2) = 0.

`photon_roots` finds every root on a branch's photon-energy window
(bracketing grid, then a safeguarded Newton iteration) with derivatives
through the root by the implicit function theorem; `dispersion_roots` joins
the branches of a model. `allowed_momenta` inverts the problem: for a photon
of given (omega, k) it gives the interval of |p| for which |c| <= 1, which is
what the momentum average integrates over.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

_sg = jax.lax.stop_gradient
#: Stand-in for an unbounded momentum (eV); far above any cutoff.
_P_INFINITY = 1.0e3


def neutrino_energy(m, p):
    """sqrt(m^2 + p^2), eV."""
    return jnp.sqrt(m**2 + p**2)


#: Floor under `_safe_sqrt`'s argument: its square root (1e-150 eV) is far below any energy here.
_TINY = 1.0e-300


def _safe_sqrt(x):
    """sqrt(max(x, 0)) whose gradient stays finite at and below zero.

    Clamping at a tiny positive floor (rather than the "double where") gives
    the same values to 1e-150 and a zero gradient below the floor, and it
    keeps XLA's CPU loops vectorised: the select-around-sqrt form ran the
    momentum quadrature 2.5 times slower.
    """
    return jnp.sqrt(jnp.maximum(x, _TINY))


def outgoing_kappa(energy_out, m_final):
    """kappa = (1 + beta'_j)/2, beta'_j = |p'_j| / E'_j.

    It interpolates between the paper's factor 1/2 for a non-relativistic
    outgoing neutrino (after its Eq. (17)) and 1 for an ultra-relativistic one
    (README, "Conventions").
    """
    return 0.5 * (1.0 + _safe_sqrt(energy_out**2 - m_final**2) / energy_out)


def outgoing_kappa_energy(energy_out, m_final):
    """kappa * E'_j = (E'_j + |p'_j|) / 2, eV: the emission factor without a division."""
    return 0.5 * (energy_out + _safe_sqrt(energy_out**2 - m_final**2))


def mismatch(branch, omega, m_i, m_j, p, c):
    """F at photon energy omega on a branch (k = Re k(omega)), eV: zero at emission.

    F = omega + sqrt(m_j^2 + p^2 + k^2 - 2 p k c) - sqrt(m_i^2 + p^2).
    """
    k = branch.wavenumber(omega)
    return omega + jnp.sqrt(m_j**2 + p**2 + k**2 - 2.0 * p * k * c) - neutrino_energy(m_i, p)


class PhotonRoots(eqx.Module):
    """The roots of F on one (p, c), padded to a fixed count.

    Arrays share one shape (the last axis lists roots; sorted by photon energy
    by `dispersion_roots`). Entries with `valid == False` are padding: finite,
    but meaningless.

    **Fields:** `k` (Re k, eV), `omega` (eV), `energy_out` E'_j (eV), `dk` the
    exact D_k = 1/|dF/dk|, `kappa`, `group_velocity` (units of c), `branch`
    (index into `dispersion.branches()`), `valid`.
    """

    k: jax.Array
    omega: jax.Array
    energy_out: jax.Array
    dk: jax.Array
    kappa: jax.Array
    group_velocity: jax.Array
    branch: jax.Array
    valid: jax.Array
    complete: jax.Array


def _solve_bracketed(fun, slope, lo, hi, iterations):
    """Safeguarded Newton on [lo, hi] with fun(lo) and fun(hi) of opposite sign.

    Newton steps that leave the bracket become bisections; the loop stops when
    the step falls to a few ulps (typically 4-6 iterations) or after
    `iterations`. Not differentiated: `photon_roots` differentiates implicitly.
    """
    rising = fun(lo) < 0.0

    def cond(state):
        i, _, _, _, step = state
        return (i < iterations) & (step > 0.0)

    def body(state):
        i, a, b, x, _ = state
        fx = fun(x)
        # Keep the bracket [a, b] with fun(a) on the side of fun(lo).
        left = jnp.where(rising, fx < 0.0, fx > 0.0)
        a = jnp.where(left, x, a)
        b = jnp.where(left, b, x)
        d = slope(x)
        newton = x - fx / jnp.where(d == 0.0, 1.0, d)
        inside = (newton > a) & (newton < b) & (d != 0.0)
        x_new = jnp.where(inside, newton, 0.5 * (a + b))
        x_new = jnp.where(fx == 0.0, x, x_new)  # an exact root is also a bracket end
        step = jnp.abs(x_new - x)
        step = jnp.where((fx == 0.0) | (step <= 4e-16 * jnp.abs(x_new)), 0.0, step)
        return i + 1, a, b, x_new, step

    state = (0, lo, hi, 0.5 * (lo + hi), jnp.asarray(jnp.inf, dtype=lo.dtype))
    return jax.lax.while_loop(cond, body, state)[3]


def photon_roots(branch, m_i, m_j, p, c, *, n_grid=64, max_roots=2, iterations=100, index=0):
    """Every photon energy omega* with F = 0 on one branch's energy window.

    **Arguments:**
    - `branch`: an `AbstractBranch`.
    - `m_i`, `m_j`: initial and final neutrino masses, eV.
    - `p`: initial neutrino momentum, eV; `c`: cosine between photon and p.
    - `n_grid`: points of the bracketing grid (static); `max_roots`: padding
      size (static); `iterations`: most safeguarded-Newton steps (static);
      `index`: the branch's index, reported in `PhotonRoots.branch`.

    **Returns:** `PhotonRoots` of shape `(max_roots,)`. Derivatives with
    respect to every input flow through the root by the implicit function
    theorem, d omega*/d theta = -F_theta / F_omega.
    """
    m_i, m_j, p, c = (jnp.asarray(x, dtype=float) for x in (m_i, m_j, p, c))
    frozen = _sg((branch, m_i, m_j, p, c))

    def fun(w):
        return mismatch(frozen[0], w, *frozen[1:])

    slope = jax.grad(fun)

    grid = frozen[0].bracket_grid(n_grid)
    values = fun(grid)
    # A cell holds a root when its ends differ in sign, or when its left end
    # is a root (a root on a grid point is counted once; on the last point,
    # by the last cell). Coinciding grid points make empty cells, never roots.
    strict = jnp.sign(values[:-1]) * jnp.sign(values[1:]) < 0.0
    on_left = (values[:-1] == 0.0) & (grid[1:] > grid[:-1])
    on_last = jnp.zeros_like(strict).at[-1].set((values[-1] == 0.0) & (values[-2] != 0.0))
    change = (strict | on_left | on_last) & jnp.isfinite(values[:-1]) & jnp.isfinite(values[1:])
    (idx,) = jnp.nonzero(change, size=max_roots, fill_value=0)
    found = jnp.arange(max_roots) < jnp.sum(change)
    lo, hi = grid[idx], grid[idx + 1]
    w_star = jax.vmap(lambda a, b: _solve_bracketed(fun, slope, a, b, iterations))(lo, hi)
    w_star = jnp.where(values[idx] == 0.0, lo, jnp.where(values[idx + 1] == 0.0, hi, w_star))
    # Padding sits mid-window: a grid cell's middle can be a window end (the
    # graded grids of some branches repeat their clipped ends), where k or
    # its derivatives may be infinite.
    w_lo, w_hi = frozen[0].omega_window()
    w_star = _sg(jnp.where(found, w_star, 0.5 * (w_lo + w_hi)))

    # Implicit function theorem in one line: the value is omega*, and the
    # derivative is -F_theta / F_omega because F(omega*) = 0 at the root.
    f_live = mismatch(branch, w_star, m_i, m_j, p, c)
    slope_frozen = _sg(jax.vmap(slope)(w_star))
    correction = f_live / jnp.where(slope_frozen == 0.0, 1.0, slope_frozen)
    # Padding entries keep their (in-window) placeholder: a Newton step from a
    # non-root could leave the branch and poison gradients with inf.
    omega = w_star - jnp.where(found, correction, 0.0)

    k = branch.wavenumber(omega)
    v_g = branch.group_velocity_at(omega)
    v_g = jnp.where(found, v_g, 1.0)
    energy_out = neutrino_energy(m_i, p) - omega
    safe_out = jnp.where(found & (energy_out > 0.0), energy_out, 1.0)
    d_slope = v_g + (k - p * c) / safe_out
    d_safe = jnp.where(found & (d_slope != 0.0), d_slope, 1.0)
    return PhotonRoots(
        k=k,
        omega=omega,
        energy_out=energy_out,
        dk=1.0 / jnp.abs(d_safe),
        kappa=outgoing_kappa(safe_out, m_j),
        group_velocity=v_g,
        branch=jnp.full((max_roots,), index),
        valid=found,
        complete=jnp.sum(change) <= max_roots,
    )


def dispersion_roots(dispersion, m_i, m_j, p, c, *, n_grid=64, max_roots=None):
    """`photon_roots` on every branch, joined and sorted by photon energy (valid first).

    `max_roots` (static) defaults to each branch's own `max_roots`.

    **Returns:** `PhotonRoots` with one axis listing the roots of every
    branch; `complete` is a scalar (every solve held all its roots).
    """
    parts = [
        photon_roots(b, m_i, m_j, p, c, n_grid=n_grid, max_roots=max_roots or b.max_roots, index=i)
        for i, b in enumerate(dispersion.branches())
    ]
    complete = jnp.all(jnp.stack([part.complete for part in parts]))
    parts = [eqx.tree_at(lambda r: r.complete, part, None) for part in parts]
    joined = jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs), *parts)
    order = jnp.argsort(jnp.where(joined.valid, joined.omega, jnp.inf))
    joined = jax.tree_util.tree_map(lambda x: x[order], joined)
    return eqx.tree_at(lambda r: r.complete, joined, complete, is_leaf=lambda x: x is None)


def cosine_at(omega, k, m_i, m_j, p):
    """The cosine c at which a photon (omega, k) is emitted by a neutrino of momentum p.

    From (E_i - omega)^2 = m_j^2 + p^2 + k^2 - 2 p k c:
    c = (k^2 - omega^2 - (m_i^2 - m_j^2) + 2 omega E_i) / (2 p k).
    """
    b = k**2 - omega**2 - (m_i**2 - m_j**2)
    return (b + 2.0 * omega * neutrino_energy(m_i, p)) / (2.0 * p * k)


def allowed_momenta(omega, k, m_i, m_j):
    """Interval [p_lo, p_hi] of |p| (eV) for which a photon (omega, k) is kinematic.

    The condition is |c| <= 1 with c from `cosine_at`, plus E'_j = E_i - omega
    >= m_j. With g(p) = B + 2 omega E_i(p), B = k^2 - omega^2 - (m_i^2 - m_j^2),
    it reads -2pk <= g(p) <= 2pk. g(p) + 2pk rises monotonically and g(p) - 2pk
    is convex, so the set is one interval. Squaring g = +-2pk gives the same
    quadratic in r = +-p,

        4 (omega^2 - k^2) r^2 + 4 k B r + (2 omega m_i - B) g(0) = 0,

    whose root r is a true crossing when 2 r k >= B; r > 0 is an edge of
    c <= 1, r < 0 (p = -r) the edge of c >= -1.

    **Returns:** `(p_lo, p_hi)`; `p_hi` is large (1e3 eV) when unbounded and
    `p_lo > p_hi` when the photon cannot be emitted at any p.
    """
    omega, k = jnp.broadcast_arrays(jnp.asarray(omega, dtype=float), jnp.asarray(k, dtype=float))
    b = k**2 - omega**2 - (m_i**2 - m_j**2)
    g0 = b + 2.0 * omega * m_i
    qa = 4.0 * (omega**2 - k**2)
    qb = 4.0 * k * b
    qc = (2.0 * omega * m_i - b) * g0  # = 4 omega^2 m_i^2 - B^2, without cancellation
    disc = qb**2 - 4.0 * qa * qc
    has_real = disc >= 0.0
    sq = _safe_sqrt(disc)
    q = -0.5 * (qb + jnp.where(qb >= 0.0, 1.0, -1.0) * sq)
    a_ok = jnp.abs(qa) > 1e-300
    q_ok = q != 0.0
    r1 = jnp.where(a_ok & q_ok, q / jnp.where(a_ok, qa, 1.0), jnp.inf)
    r2 = jnp.where(q_ok, qc / jnp.where(q_ok, q, 1.0), jnp.inf)
    # With qa = 0 (vacuum) the quadratic is linear and its one root is r2.
    # The two roots are kept apart (no stacked axis of 2): XLA's CPU code runs
    # a reduction over a short axis as a kernel of its own (measured: a fifth
    # of this function's time in the batched rate).
    big = _P_INFINITY
    neg, pos, value = [], [], []
    for r in (r1, r2):
        valid = has_real & jnp.isfinite(r) & (2.0 * r * k - b >= 0.0)
        r = jnp.where(valid, r, 0.0)
        neg.append(valid & (r < 0.0))
        pos.append(valid & (r > 0.0))
        value.append(r)
    # g(0) <= 0: c >= -1 sets the lower edge (negative root), c <= 1 may cap it.
    p_lo_below = jnp.maximum(*(jnp.where(n, -r, 0.0) for n, r in zip(neg, value)))
    # (the least positive root: the upper edge below, the lower edge above)
    least_pos = jnp.minimum(*(jnp.where(q, r, big) for q, r in zip(pos, value)))
    # g(0) > 0: c <= 1 holds between the positive roots (or beyond the one root).
    both_pos = pos[0] & pos[1]
    p_hi_above = jnp.where(both_pos, jnp.maximum(*(jnp.where(q, r, 0.0) for q, r in zip(pos, value))), big)
    p_lo = jnp.where(g0 > 0.0, least_pos, p_lo_below)
    p_hi = jnp.where(g0 > 0.0, p_hi_above, least_pos)
    empty_below = (g0 < 0.0) & ~(neg[0] | neg[1])
    p_lo = jnp.where(empty_below, big, p_lo)

    # E'_j = E_i(p) - omega >= m_j.
    p_energy = _safe_sqrt((omega + m_j) ** 2 - m_i**2)
    return jnp.maximum(p_lo, p_energy), p_hi
