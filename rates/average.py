"""The momentum-averaged rate and the event rate (PHYSICS.md Sec. 6).

How the average is computed, and why it is accurate in every regime
--------------------------------------------------------------------
The Lorentzian L(E_vg - omega*) is ~3e-8 eV wide, while omega* sweeps ~1e-4 eV
as (p, c) vary. We never integrate L on a grid in (p, c). Instead:

1. Trade the photon direction c for the photon energy. By the delta-function
   identity, for every root of F(k; p, c) = 0,

       integral dc  sum_roots phi(k*) D_k  =  integral dk  phi(k) E'_j / (p k)

   (D_k = 1/|dF/dk| cancels the Jacobian: this is plain phase space), and on a
   monotone branch dk = d omega / v_g. With the `paper` convention (D_k = 1)
   the integrand gains the factor |dF/dk| instead.
2. Swap the order: for fixed omega, `allowed_momenta` gives the |p| interval
   where |c| <= 1. Integrating the momentum weight over it yields a smooth
   photon spectrum S(omega), and

       <Gamma> = (1/Z) integral d omega  L(E_vg - omega) S(omega).

3. Integrate that with omega - E_vg = gamma sinh(u), gamma = Gamma_v / 2,
   which turns L d omega into du / (gamma cosh u): flat in the core and
   logarithmic in the wings. Panels are uniform in u, plus breakpoints
   graded geometrically toward the rest-frame photon energy, where S has its
   own (possibly much narrower than gamma) structure when v_g -> 0.

Every node moves smoothly with the parameters, so values and gradients are
smooth from v_g = 1 down to v_g -> 0. The slow reference path (SciPy `quad`
over p and c with the resonance as a break point) lives in `tests/`.
"""

import dataclasses
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .channels import Medium, channel_strength, lorentzian
from .kinematics import (
    PhotonRoots,
    allowed_momenta,
    cosine_at,
    dispersion_roots,
    neutrino_energy,
    outgoing_kappa_energy,
    photon_roots,
)
from .momentum import AbstractMomentum, Monochromatic, Rest
from .neutrino import NeutrinoSector
from .constants import per_year
from .detection import Detector, escape_probability

DK_CONVENTIONS = ("exact", "paper")


@dataclasses.dataclass(frozen=True)
class Quadrature:
    """Static sizes of the quadrature rules.

    The defaults agree with adaptive quadrature to better than 3e-7 relative
    on and near resonance (measured over vacuum and linear bands with v_g =
    1 ... 1e-6, every distribution), 2e-6 three smear widths off it;
    (16, 8, 8, 6) (`QUADRATURES["fine"]`) reaches ~2e-9 at about twice the
    cost. `QUADRATURES` names these and a `fast` set (3e-5).

    - `outer_panels`, `outer_nodes`: uniform panels in u and Gauss-Legendre
      nodes per panel for the photon-energy integral.
    - `grading`: geometric breakpoints toward the rest-frame photon energy on
      each side (fractions 2^-1 ... 2^-grading of the half support).
    - `inner_nodes`: Gauss-Legendre nodes per momentum panel (the panels are the
      distribution's `panel_edges`).
    - `root_grid`, `max_roots`: bracketing grid and padding of `photon_roots`.
    """

    outer_panels: int = 12
    outer_nodes: int = 6
    grading: int = 6
    inner_nodes: int = 4
    root_grid: int = 64
    max_roots: int = 4


#: Named quadrature sizes (`cnbfluor scan --quadrature NAME`). Worst relative
#: difference from `fine` over vacuum, n = 1.5 and linear bands (v_g = 1 ...
#: 1e-6), every distribution, on, near and far off resonance: `fast` 3e-5,
#: `default` 2e-6; `fine` agrees with SciPy to ~5e-9.
QUADRATURES = {
    "fast": Quadrature(outer_panels=8, outer_nodes=5, grading=5, inner_nodes=3),
    "default": Quadrature(),
    "fine": Quadrature(outer_panels=16, outer_nodes=8, grading=8, inner_nodes=6),
}


def quadrature_named(name: str) -> Quadrature:
    """The `QUADRATURES` entry `name`; a clear error for an unknown name."""
    try:
        return QUADRATURES[name]
    except KeyError:
        raise ValueError(f"quadrature: unknown name {name!r}; allowed: {', '.join(QUADRATURES)}") from None


class RateModel(eqx.Module):
    """Everything the rate depends on, as one differentiable pytree.

    **Fields:** `neutrinos` (`NeutrinoSector`), `dispersion`
    (`AbstractDispersion`), `medium` (`Medium`), `momentum`
    (`AbstractMomentum`), `volume` (target volume, eV^-3), `dk` (`"exact"` or
    `"paper"`, static) and `quadrature` (`Quadrature`, static).
    """

    neutrinos: NeutrinoSector
    dispersion: eqx.Module
    medium: Medium
    momentum: AbstractMomentum
    volume: jax.Array = eqx.field(converter=lambda x: jnp.asarray(x, dtype=float))
    dk: str = eqx.field(static=True, default="exact")
    quadrature: Quadrature = eqx.field(static=True, default=Quadrature())
    detector: Detector = Detector()

    @property
    def length(self):
        """Side l of the cubic target, 1/eV."""
        return jnp.cbrt(self.volume)

    def __check_init__(self):
        if self.dk not in DK_CONVENTIONS:
            raise ValueError(
                f"conventions.dk: unknown convention {self.dk!r}; allowed: exact, paper"
            )


def rest_roots(model: RateModel):
    """Photon roots on every branch for a neutrino at rest (p = 0; any c), by energy."""
    nu = model.neutrinos
    q = model.quadrature
    return dispersion_roots(
        model.dispersion, nu.m_initial, nu.m_final, 0.0, 0.0,
        n_grid=q.root_grid, max_roots=q.max_roots,
    )


def _level_spacing(model: RateModel, rest: PhotonRoots):
    medium = model.medium
    if medium.resonant:
        return rest.omega[0] + medium.detuning
    return medium.level_spacing


def level_spacing(model: RateModel):
    """E_vg, eV: fixed, or the lowest-energy p = 0 root plus `detuning`."""
    return _level_spacing(model, rest_roots(model))


def _rest_terms(model: RateModel, roots: PhotonRoots):
    nu = model.neutrinos
    strength = channel_strength(model.medium, nu.mixing_squared(), roots.omega, roots.k)
    d_k = roots.dk if model.dk == "exact" else 1.0
    lor = lorentzian(_level_spacing(model, roots) - roots.omega, model.medium.width)
    return jnp.where(roots.valid, strength * d_k * roots.kappa * lor, 0.0)


def rest_rate(model: RateModel):
    """Gamma for a neutrino at rest (the paper's Eqs. 17 and 22), eV."""
    return jnp.sum(_rest_terms(model, rest_roots(model)))


def _gauss_legendre(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return jnp.asarray(x), jnp.asarray(w)


def _panel_nodes(edges, n):
    """Gauss-Legendre nodes and weights on consecutive panels [edges[i], edges[i+1]].

    `edges` has shape (..., P + 1); returns nodes and weights of shape (..., P * n).
    """
    x, w = _gauss_legendre(n)
    left, right = edges[..., :-1], edges[..., 1:]
    x = x.reshape((1,) * left.ndim + (n,))
    w = w.reshape((1,) * left.ndim + (n,))
    half = 0.5 * (right - left)
    mid = 0.5 * (right + left)
    nodes = mid[..., None] + half[..., None] * x
    weights = half[..., None] * w
    shape = edges.shape[:-1] + (-1,)
    return nodes.reshape(shape), weights.reshape(shape)


def _branch_support(model: RateModel, branch, p_max):
    """Photon energies [omega_a, omega_b] of a branch reachable with |p| <= p_max.

    The edges are the roots at (p_max, c = -1) and (p_max, c = +1), one
    batched solve; where a root is missing the branch's window edge stands in.
    """
    nu = model.neutrinos
    q = model.quadrature
    p = jnp.full((2,), p_max, dtype=float)
    c = jnp.array([-1.0, 1.0])
    roots = jax.vmap(
        lambda pp, cc: photon_roots(
            branch, nu.m_initial, nu.m_final, pp, cc, n_grid=q.root_grid, max_roots=q.max_roots
        )
    )(p, c)
    w_lo, w_hi = branch.omega_window()
    a = jnp.where(roots.valid[0, 0], roots.omega[0, 0], w_lo)
    b = jnp.where(roots.valid[1, 0], roots.omega[1, 0], w_hi)
    return (
        jnp.maximum(jnp.minimum(a, b), w_lo),
        jnp.minimum(jnp.maximum(a, b), w_hi),
    )


def _emission_factor(model: RateModel, omega, k, v_g, p):
    """kappa * (D_k |dF/dk|) * E'_j for photons (omega, k) from momentum p (broadcasts).

    With the exact convention D_k |dF/dk| = 1; with the paper's (D_k = 1) it
    is |dF/dk| = |v_g + (k - p c) / E'_j| at the emission cosine c.
    """
    nu = model.neutrinos
    m_i, m_j = nu.m_initial, nu.m_final
    energy_out = neutrino_energy(m_i, p) - omega
    factor = outgoing_kappa_energy(energy_out, m_j)
    if model.dk == "paper":
        c = cosine_at(omega, k, m_i, m_j, p)
        factor = factor * jnp.abs(v_g + (k - p * c) / energy_out)
    return factor


def _momentum_nodes(dist, p_lo, p_up, n):
    """Gauss-Legendre nodes on [p_lo, p_up] split at p_lo + scale * panel_edges (per photon energy)."""
    edges = p_lo[:, None] + dist.scale * jnp.asarray(dist.panel_edges)[None, :]
    edges = jnp.clip(edges, p_lo[:, None], jnp.maximum(p_up, p_lo)[:, None])
    return _panel_nodes(edges, n)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _momentum_integral(n, dist, m_i, m_j, omega, p_lo, p_up):
    """integral_{p_lo}^{p_up} dp p f(p) kappa E'_j, per photon energy (exact D_k convention).

    Its derivative is written by hand (below) because XLA's CPU code for the
    autodiff of this, the innermost loop (~5,000 nodes per design), ran 5 to
    6 times slower than the value: the rule gathers every partial derivative
    in the same pass as the value, so the backward pass only handles arrays
    of one entry per photon energy.
    """
    p, weights = _momentum_nodes(dist, p_lo, p_up, n)
    energy_out = neutrino_energy(m_i, p) - omega[:, None]
    return jnp.sum(weights * p * dist.occupation(p) * outgoing_kappa_energy(energy_out, m_j), axis=-1)


@_momentum_integral.defjvp
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
    p, weights = _momentum_nodes(dist, p_lo, p_up, n)
    energy_in = neutrino_energy(m_i, p)
    energy_out = energy_in - omega[:, None]
    root = jnp.sqrt(jnp.maximum(energy_out**2 - m_j**2, 1e-300))
    occupation = dist.occupation(p)
    weighted = weights * p * occupation
    value = jnp.sum(weighted * 0.5 * (energy_out + root), axis=-1)
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

    def integrand(q):
        e_out = neutrino_energy(m_i, q) - omega
        return q * dist.occupation(q) * outgoing_kappa_energy(e_out, m_j)

    open_ = p_lo < p_up
    tangent = tangent + jnp.where(open_, integrand(p_up) * d_up - integrand(p_lo) * d_lo, 0.0)
    return value, tangent


def photon_spectrum(model: RateModel, omega, branch=None):
    """S(omega): the momentum-integrated emission density before the Lorentzian.

    `<Gamma> = (1/Z) integral d omega L(E_vg - omega) S(omega)`, with `Z` the
    distribution's normalisation (1 for `monochromatic`).

    **Arguments:** `omega`: photon energies, eV, 1-D array; `branch`: one of
    `model.dispersion.branches()` (default: the first).

    **Returns:** S with the shape of `omega`.
    """
    nu = model.neutrinos
    dist = model.momentum
    branch = model.dispersion.branches()[0] if branch is None else branch
    w_lo, w_hi = branch.omega_window()
    in_window = (omega >= w_lo) & (omega <= w_hi)
    omega_safe = jnp.where(in_window, omega, 0.5 * (w_lo + w_hi))
    k = branch.wavenumber(omega_safe)
    v_g = branch.group_velocity_at(omega_safe)
    strength = channel_strength(model.medium, nu.mixing_squared(), omega, k)
    p_lo, p_hi = allowed_momenta(omega, k, nu.m_initial, nu.m_final)

    if isinstance(dist, Monochromatic):
        p0 = dist.momentum
        # Nodes are interior to the support, so this only guards against rounding.
        inside = (p_lo <= p0 * (1.0 + 1e-12)) & (p0 <= p_hi * (1.0 + 1e-12))
        inner = _emission_factor(model, omega, k, v_g, p0) / p0
        inner = jnp.where(inside, inner, 0.0)
    else:
        p_up = jnp.minimum(p_hi, dist.cutoff)
        if model.dk == "exact":
            inner = _momentum_integral(
                model.quadrature.inner_nodes, dist, nu.m_initial, nu.m_final, omega, p_lo, p_up
            )
        else:
            p, weights = _momentum_nodes(dist, p_lo, p_up, model.quadrature.inner_nodes)
            values = p * dist.occupation(p) * _emission_factor(
                model, omega[:, None], k[:, None], v_g[:, None], p
            )
            inner = jnp.sum(weights * values, axis=-1)
        inner = jnp.where(p_lo < p_up, inner, 0.0)

    # |d Re k / d omega| = 1/|v_g|: backward-wave branches count with |v_g|.
    return jnp.where(in_window, 0.5 * strength / (k * jnp.abs(v_g)) * inner, 0.0)


def averaged_rates(model: RateModel):
    """`(<Gamma>, <Gamma>_detected)`, eV: all photons, and those that escape and are detected.

    The detected rate weighs each photon energy with the escape probability
    of its branch and the detector's acceptance (PHYSICS.md Sec. 8).
    """
    dist = model.momentum
    if isinstance(dist, Rest):
        return _rest_rates(model)
    gamma = 0.5 * model.medium.width
    p_max = dist.momentum if isinstance(dist, Monochromatic) else dist.cutoff
    rest = rest_roots(model)
    energy = _level_spacing(model, rest)
    total = detected = 0.0
    for index, branch in enumerate(model.dispersion.branches()):
        t, d = _branch_integral(model, branch, index, rest, energy, gamma, p_max)
        total, detected = total + t, detected + d
    norm = 1.0 if isinstance(dist, Monochromatic) else dist.normalization()
    return total / norm, detected / norm


def averaged_rate(model: RateModel):
    """<Gamma>: the rate per neutrino averaged over the momentum distribution, eV.

    For `rest` this is `rest_rate`. See the module docstring for the method.
    """
    return averaged_rates(model)[0]


def _momentum_scale(dist):
    """The distribution's momentum scale, eV (T, sigma, or |p| for monochromatic)."""
    return dist.momentum if isinstance(dist, Monochromatic) else dist.scale


def _graded_fractions(scale, extent, grading):
    """`grading` fractions from 1/2 down to min(2^-grading, scale / (2 extent)), geometrically.

    With the floor at 2^-grading these are 2^-1 ... 2^-grading. The floor
    moves only where S has structure finer than that (it is continuous in the
    parameters, with a kink where the two floors cross).
    """
    ratio = scale / (2.0 * jnp.maximum(extent, 1e-300))
    floor = jnp.clip(ratio, 1e-12, 2.0**-grading)
    steps = jnp.arange(grading) / max(grading - 1, 1)
    return 0.5 * (2.0 * floor) ** steps


def _branch_integral(model, branch, index, rest, energy, gamma, p_max):
    """integral d omega L(E_vg - omega) S(omega) over one branch, without and with detection."""
    q = model.quadrature
    omega_a, omega_b = _branch_support(model, branch, p_max)
    mine = rest.valid & (rest.branch == index)
    omega_0 = jnp.min(jnp.where(mine, rest.omega, jnp.inf))
    omega_0 = jnp.where(jnp.isfinite(omega_0), omega_0, 0.5 * (omega_a + omega_b))
    omega_0 = jnp.clip(omega_0, omega_a, omega_b)

    def to_u(omega):
        return jnp.arcsinh((omega - energy) / gamma)

    u_a, u_b = to_u(omega_a), to_u(omega_b)
    uniform = u_a + (u_b - u_a) * jnp.linspace(0.0, 1.0, q.outer_panels + 1)
    # S(omega) decays away from omega_0 over ~(momentum scale) x |v_g(omega_0)|. The
    # breakpoints are graded geometrically from half of each side's extent down to
    # 2^-grading of it, or further down to that scale where it is finer (a weak
    # Lorentz oscillator: a vacuum-like branch with a flat stretch ~1e-9 eV long).
    v_0 = jnp.min(jnp.where(mine, jnp.abs(rest.group_velocity), jnp.inf))
    scale = _momentum_scale(model.momentum) * jnp.where(jnp.isfinite(v_0), v_0, 1.0)
    det = model.detector
    # The detector's window edges are breakpoints too, so its step is integrated exactly.
    window = jnp.clip(jnp.stack([det.window_lo, det.window_hi]), omega_a, omega_b)
    graded = jnp.concatenate(
        [
            omega_0[None],
            omega_0 + (omega_b - omega_0) * _graded_fractions(scale, omega_b - omega_0, q.grading),
            omega_0 - (omega_0 - omega_a) * _graded_fractions(scale, omega_0 - omega_a, q.grading),
            window,
        ]
    )
    edges = jnp.sort(jnp.concatenate([uniform, jnp.clip(to_u(graded), u_a, u_b)]))
    u, w = _panel_nodes(edges, q.outer_nodes)
    omega = energy + gamma * jnp.sinh(u)
    weighted = w * photon_spectrum(model, omega, branch) / (gamma * jnp.cosh(u))
    seen = escape_probability(branch.attenuation(omega), model.length) * det.acceptance(omega)
    return jnp.sum(weighted), jnp.sum(weighted * seen)


def _rest_rates(model: RateModel):
    roots = rest_roots(model)
    terms = _rest_terms(model, roots)
    branches = model.dispersion.branches()
    attenuation = jnp.zeros_like(roots.omega)
    for index, branch in enumerate(branches):
        attenuation = jnp.where(roots.branch == index, branch.attenuation(roots.omega), attenuation)
    seen = escape_probability(attenuation, model.length) * model.detector.acceptance(roots.omega)
    return jnp.sum(terms), jnp.sum(terms * seen)


def events_per_year(model: RateModel, rate):
    """R = clustering * n_nu * V * rate * (2 if Majorana), per year; `rate` in eV."""
    nu = model.neutrinos
    return per_year(nu.clustering * nu.density * model.volume * rate * nu.nature_factor())


def event_rate(model: RateModel):
    """Momentum-averaged event rate, events per year."""
    return events_per_year(model, averaged_rate(model))


def detected_event_rate(model: RateModel):
    """Momentum-averaged rate of photons that escape and are detected, per year."""
    return events_per_year(model, averaged_rates(model)[1])


def rest_event_rate(model: RateModel):
    """Event rate with the neutrino at rest (p = 0), events per year."""
    return events_per_year(model, rest_rate(model))
