"""The innermost integral of the average: over the neutrino momentum, per photon energy.

For every photon energy omega (and wavenumber, or momentum transfer, k) the
average needs

    I(omega) = integral_{p_lo}^{p_up} dp p f(p) kappa E'_j,   E' = E_i(p) - omega,

over the momenta that the kinematics allow (`allowed_momenta`), with
kappa E'_j = (E' + sqrt(E'^2 - m_j^2)) / 2 (`outgoing_kappa_energy`, exact D_k
convention). It is the bulk of the work: every photon-energy node (and, in
the 3-D path, every contour node) needs one. Two rules, each a sum of
Gauss-Kronrod panels with its error estimate (`rates.quadrature`):

- **General** (`general_momentum_integral`, any m_j): panels from p_lo at the
  distribution's `panel_edges` (units of its scale), clipped to p_up:
  8 (2n + 1) momentum nodes per photon energy.
- **Separable** (`separable_momentum_integral`, m_j = 0): then
  kappa E'_j = E' = (E_i(p) - m_i) + (m_i - omega), so

      I(omega) = A_1(p_lo, p_up) + (m_i - omega) A_0(p_lo, p_up),
      A_0 = integral dp p f(p),   A_1 = integral dp p f(p) p^2 / (E_i + m_i),

  and neither A depends on omega. The distribution's fixed panels
  `table_edges` (units of its scale) are integrated once per design; per
  photon energy only the two partial panels that hold p_lo and p_up are,
  2 (2n + 1) nodes, and the whole panels between them are the difference
  of two rows of the table's suffix sums. Writing E_i - m_i = p^2 / (E_i + m_i) keeps the small kinetic
  term free of cancellation.

`momentum_integral` picks the separable rule when m_j is known to be zero
when the model is traced (`NeutrinoSector.final_is_massless`), the general
rule otherwise. The two agree to their quadrature error (tests); both are
differentiable in every argument.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .kinematics import neutrino_energy, outgoing_kappa_energy
from .quadrature import ERROR_SAFETY, gauss_kronrod, panel_error, panel_nodes

_sg = jax.lax.stop_gradient


def momentum_integral(n, dist, m_i, m_j, omega, p_lo, p_up, *, massless=False):
    """I(omega) and its estimated error, per photon energy (exact D_k convention).

    **Arguments:** `n`: Gauss order of the momentum panels (static); `dist`: an
    `AbstractContinuousMomentum`; `m_i`, `m_j`: initial and final neutrino
    masses, eV; `omega`, `p_lo`, `p_up`: photon energies and the ends of the
    allowed momenta, eV, 1-D arrays of one length; `massless`: m_j is exactly
    zero (static; selects the separable rule, `m_j` is then not used).

    **Returns:** `(value, error)`, eV^3, shaped as `omega`; meaningful where
    `p_lo < p_up` (the caller masks the rest). The error is not differentiated.
    """
    if massless:
        return separable_momentum_integral(n, dist, m_i, omega, p_lo, p_up)
    return general_momentum_integral(n, dist, m_i, m_j, omega, p_lo, p_up)


def _momentum_nodes(dist, p_lo, p_up, n):
    """Kronrod nodes on [p_lo, p_up] split at p_lo + scale * panel_edges (per photon energy)."""
    edges = p_lo[:, None] + dist.scale * jnp.asarray(dist.panel_edges)[None, :]
    edges = jnp.clip(edges, p_lo[:, None], jnp.maximum(p_up, p_lo)[:, None])
    nodes, w_k, w_g = panel_nodes(edges, n)
    shape = (p_lo.shape[0], -1)
    return nodes.reshape(shape), w_k.reshape(shape), w_g.reshape(shape)


def _inner_sum(values, w_k, w_g, n_panels):
    """Kronrod sum over the momentum nodes and its error estimate, per photon energy."""
    value = jnp.sum(w_k * values, axis=-1)
    per_panel = lambda x: x.reshape(x.shape[0], n_panels, -1)  # noqa: E731
    error = jnp.sum(panel_error(per_panel(values), per_panel(w_k), per_panel(w_g)), axis=-1)
    return value, error


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def general_momentum_integral(n, dist, m_i, m_j, omega, p_lo, p_up):
    """I(omega) and its error estimate on panels from p_lo (the general rule, any m_j).

    Its derivative is written by hand (below) because XLA's CPU code for the
    autodiff of this, the innermost loop, ran 5 to 6 times slower than the
    value: the rule gathers every partial derivative in the same pass as the
    value. The error estimate is not differentiated.
    """
    p, w_k, w_g = _momentum_nodes(dist, p_lo, p_up, n)
    energy_out = neutrino_energy(m_i, p) - omega[:, None]
    values = p * dist.occupation(p) * outgoing_kappa_energy(energy_out, m_j)
    return _inner_sum(values, w_k, w_g, len(dist.panel_edges) - 1)


@general_momentum_integral.defjvp
def _momentum_integral_jvp(n, primals, tangents):
    """Leibniz rule: the integrand at the moving ends, plus the integral of its partials.

    With G = kappa E'_j = (E' + s)/2, s = sqrt(E'^2 - m_j^2), E' = E_i(p) - omega:
    dG/dE' = (1 + E'/s)/2, dE'/d omega = -1, dE'/dm_i = m_i/E_i, dG/dm_j = -m_j/(2 s).
    The panel edges inside the interval move too, but the exact integral does
    not depend on them, so the rule differentiates the integral itself (the
    difference from the discrete sum's derivative is of the quadrature's
    error).
    """
    dist, m_i, m_j, omega, p_lo, p_up = primals
    d_dist, d_mi, d_mj, d_omega, d_lo, d_up = tangents
    p, weights, w_g = _momentum_nodes(dist, p_lo, p_up, n)
    energy_in = neutrino_energy(m_i, p)
    energy_out = energy_in - omega[:, None]
    root = jnp.sqrt(jnp.maximum(energy_out**2 - m_j**2, 1e-300))
    occupation = dist.occupation(p)
    integrand = p * occupation * 0.5 * (energy_out + root)
    value, error = _inner_sum(integrand, weights, w_g, len(dist.panel_edges) - 1)
    weighted = weights * p * occupation
    slope = weighted * 0.5 * (1.0 + energy_out / root)
    tangent = (
        jnp.sum(slope, axis=-1) * -d_omega
        + jnp.sum(slope * (m_i / energy_in), axis=-1) * d_mi
        - jnp.sum(weighted * (0.5 * m_j / root), axis=-1) * d_mj
    )
    # The distribution's parameters (scalar leaves): one partial per leaf, reduced here.
    leaves, treedef = jax.tree_util.tree_flatten(dist)
    d_leaves = jax.tree_util.tree_leaves(d_dist)
    factor = weights * p * 0.5 * (energy_out + root)
    for i, d_leaf in enumerate(d_leaves):
        unit = treedef.unflatten([jnp.ones_like(x) if j == i else jnp.zeros_like(x) for j, x in enumerate(leaves)])
        d_occupation = jax.jvp(lambda d: d.occupation(p), (dist,), (unit,))[1]
        tangent = tangent + jnp.sum(factor * d_occupation, axis=-1) * d_leaf

    def at(q):
        e_out = neutrino_energy(m_i, q) - omega
        return q * dist.occupation(q) * outgoing_kappa_energy(e_out, m_j)

    open_ = p_lo < p_up
    tangent = tangent + jnp.where(open_, at(p_up) * d_up - at(p_lo) * d_lo, 0.0)
    return (value, error), (tangent, jnp.zeros_like(error))


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def separable_momentum_integral(n, dist, m_i, omega, p_lo, p_up):
    """I(omega) and its error estimate for m_j = 0: a per-design table plus two partial panels.

    The table's panels are `dist.table_edges` (units of `dist.scale`). For
    each photon energy, p_lo lies in table panel i and p_up in panel j
    (`dist.table_index`); the integral is the part of panel i from p_lo, the
    whole panels i < l < j from the table (differences of its suffix sums,
    which stay accurate in the tail), and the part of panel j up to p_up
    (one partial panel [p_lo, p_up] when i = j). Every node moves smoothly
    with p_lo, p_up and the scale, and where p_lo crosses an edge the partial
    panel becomes the table's panel, node for node, so the value is
    continuous. The nodes are laid out flat, (photon energy, node): XLA's
    CPU loops over a short trailing axis of panels ran twice as slowly.

    The derivative in omega, p_lo and p_up is the exact integral's (written
    by hand, below: -A_0 and the integrand at the moving ends), that in m_i
    and the distribution's parameters the discrete sum's (autodiff, only
    when they carry a tangent).

    **Returns:** `(value, error)` as `momentum_integral`.
    """
    value, error, _ = _separable_rule(n, dist, m_i, omega, p_lo, p_up)
    return value, error


def _separable_jvp(n, primals, tangents):
    """Leibniz in omega, p_lo, p_up: dI = -A_0 d omega + g(p_up) dp_up - g(p_lo) dp_lo,
    g(p) = p f(p) (E_i(p) - omega); autodiff of the discrete sum for m_i and the distribution.

    The autodiff of the nodes (their exponentials and square roots, forward
    and back) cost the batched value and gradient more than the value itself;
    this needs two integrand values per photon energy. Tangents that are
    symbolic zeros (a parameter not differentiated) cost nothing.
    """
    dist, m_i, omega, p_lo, p_up = primals
    d_dist, d_mi, d_omega, d_lo, d_up = tangents
    zero = lambda t: isinstance(t, jax.custom_derivatives.SymbolicZero)  # noqa: E731
    value, error, a0 = _separable_rule(n, dist, m_i, omega, p_lo, p_up, with_a0=True)
    tangent = jnp.zeros_like(value)
    if not zero(d_omega):
        tangent = tangent - a0 * d_omega

    def at(q):
        return q * dist.occupation(q) * (neutrino_energy(m_i, q) - omega)

    open_ = p_lo < p_up
    if not zero(d_up):
        tangent = tangent + jnp.where(open_, at(p_up) * d_up, 0.0)
    if not zero(d_lo):
        tangent = tangent - jnp.where(open_, at(p_lo) * d_lo, 0.0)
    slow = [t for t in jax.tree_util.tree_leaves((d_dist, d_mi), is_leaf=zero) if not zero(t)]
    if slow:
        dense = lambda t: jnp.zeros(t.aval.shape, t.aval.dtype) if zero(t) else t  # noqa: E731
        d_dist, d_mi = jax.tree_util.tree_map(dense, (d_dist, d_mi), is_leaf=zero)
        rule = lambda d, m: _separable_rule(n, d, m, omega, p_lo, p_up)[0]  # noqa: E731
        tangent = tangent + jax.jvp(rule, (dist, m_i), (d_dist, d_mi))[1]
    return (value, error), (tangent, jnp.zeros_like(error))


separable_momentum_integral.defjvp(_separable_jvp, symbolic_zeros=True)


def _separable_rule(n, dist, m_i, omega, p_lo, p_up, with_a0=False):
    """`separable_momentum_integral`'s sums: `(value, error, A_0 or None)` (A_0 with `with_a0`)."""
    table = jnp.asarray(dist.table_edges, dtype=float)
    edges = dist.scale * table
    n_panels = table.shape[0] - 1

    # Once per design: A_0 and A_1 on every table panel, with their error
    # estimates, as suffix sums (row l: panels l and above; row n_panels: 0).
    p, w_k, w_g = panel_nodes(edges, n)
    weight = p * dist.occupation(p)
    kinetic = weight * p**2 / (neutrino_energy(m_i, p) + m_i)
    per_panel = jnp.stack(
        [
            jnp.sum(w_k * weight, axis=-1),
            jnp.sum(w_k * kinetic, axis=-1),
            panel_error(_sg(weight), _sg(w_k), _sg(w_g)),
            panel_error(_sg(kinetic), _sg(w_k), _sg(w_g)),
        ],
        axis=-1,
    )
    suffix = jnp.concatenate([jnp.cumsum(per_panel[::-1], axis=0)[::-1], jnp.zeros((1, 4))])

    # Per photon energy: the panels that hold the ends, and the two partial panels.
    p_up = jnp.maximum(p_up, p_lo)  # a closed support (masked by the caller) stays finite
    first = dist.table_index(p_lo / dist.scale, upper=False)
    last = dist.table_index(p_up / dist.scale, upper=True)
    split = last > first
    lo_end = jnp.where(split, edges[first + 1], p_up)
    up_start = jnp.where(split, edges[last], p_up)
    x, w_sums = (jnp.asarray(a) for a in _partial_rule(n))
    if with_a0:  # the Kronrod sums of p f(p) on both partial panels, too
        w_sums = jnp.concatenate([jnp.pad(w_sums, ((0, 0), (0, 2))), jnp.asarray(_partial_weight_rule(n))], axis=0)
    m = x.shape[0] // 2
    starts = jnp.concatenate([jnp.broadcast_to(p_lo[:, None], (p_lo.shape[0], m)),
                              jnp.broadcast_to(up_start[:, None], (p_lo.shape[0], m))], axis=-1)
    widths = jnp.stack([lo_end - p_lo, p_up - up_start], axis=-1)  # (N, 2)
    nodes = starts + jnp.repeat(widths, m, axis=-1) * x[None, :]
    weight = nodes * dist.occupation(nodes)
    values = weight * (neutrino_energy(m_i, nodes) - omega[:, None])
    # One pass over the nodes: the Kronrod and the Gauss sums of both panels
    # (a second reduction over `values` cost XLA's CPU code as much as the integrand).
    if with_a0:
        values = jnp.concatenate([values, weight], axis=-1)
    all_sums = values @ w_sums
    sums = all_sums[:, :4].reshape(-1, 2, 2) * widths[:, :, None]  # (N, panel, K | K - G)
    kronrod = sums[..., 0]

    lo = jnp.minimum(first + 1, last)
    whole = suffix[lo] - suffix[last]  # (N, 4)
    gap = m_i - omega
    # Sums over the two panels written out: a reduction over a short axis is a
    # kernel of its own in XLA's CPU code.
    value = kronrod[:, 0] + kronrod[:, 1] + whole[:, 1] + gap * whole[:, 0]

    partial_error = _positive_panel_error(_sg(kronrod), _sg(sums[..., 1]), n)
    error = partial_error[:, 0] + partial_error[:, 1]
    error = error + whole[:, 3] + jnp.abs(_sg(gap)) * whole[:, 2]
    if not with_a0:
        return value, error, None
    partial_a0 = all_sums[:, 4:] * widths
    return value, error, partial_a0[:, 0] + partial_a0[:, 1] + whole[:, 0]


def _positive_panel_error(kronrod, difference, n):
    """`rates.quadrature.panel_error` for a positive integrand from its two sums alone.

    QUADPACK's scaling I_asc min(1, (s |K - G| / I_asc)^q) with I_abs = |K|
    in place of I_asc (the integral of |f - mean f|): for a positive
    integrand I_asc <= I_abs, so this is the smaller of the two; it is
    still many times the true error (tests/test_momentum_integral.py).
    """
    raw = jnp.abs(difference)
    size = jnp.abs(kronrod)
    ratio = ERROR_SAFETY * raw / jnp.where(size > 0.0, size, 1.0)
    return jnp.where(size > 0.0, size * jnp.minimum(1.0, ratio ** ((3 * n + 2) / (2 * n))), raw)


@functools.cache
def _partial_weight_rule(n):
    """Rows for p f(p) on the nodes of `_partial_rule`, columns: its Kronrod sum on each panel."""
    _, w_k, _ = gauss_kronrod(n)
    m = w_k.shape[0]
    w = np.zeros((2 * m, 6))
    w[:m, 4], w[m:, 5] = 0.5 * w_k, 0.5 * w_k
    return w


@functools.cache
def _partial_rule(n):
    """Nodes on [0, 1] of two partial panels side by side, and the weights of their sums.

    **Returns:** `(x, w)`: x of length 2 (2n + 1), the Kronrod nodes twice;
    w of shape (2 (2n + 1), 4), columns K_lo, (K - G)_lo, K_hi, (K - G)_hi.
    """
    x, w_k, w_g = gauss_kronrod(n)
    x, w_k, w_g = 0.5 * (x + 1.0), 0.5 * w_k, 0.5 * w_g
    m = x.shape[0]
    w = np.zeros((2 * m, 4))
    w[:m, 0], w[:m, 1] = w_k, w_k - w_g
    w[m:, 2], w[m:, 3] = w_k, w_k - w_g
    return np.concatenate([x, x]), w


