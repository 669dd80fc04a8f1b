"""The momentum-averaged rate and the event rate.

The event rate is the paper's R = n_nu V Gamma (its Sec. II.A, before
Eq. (18)), doubled for Majorana neutrinos (after its Eq. (7)), with Gamma
averaged over the neutrino momentum. The paper only estimates the effect of
the momentum spread (end of its Sec. II.B); the average below is the
project's own (method also in docs/architecture.md).

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
   logarithmic in the wings. Panels are uniform in u, plus breakpoints the
   model decides (`_branch_integral`): the support's edges, the photon roots
   of the distribution's breakpoint momenta, the branch's features (knots,
   lines, turning points of Re k), grading toward the rest-frame photon
   energy and toward band edges. Panels that end on a band edge are mapped
   so that the 1/sqrt singularity of dk/d omega is integrated exactly.

Every panel is a Gauss-Kronrod pair (`rates.quadrature`), so each rate comes
with an error estimate (`rate_result`). Every node moves smoothly with the
parameters, so values and gradients are smooth from v_g = 1 down to v_g -> 0.
The slow reference paths (SciPy `quad`) live in `tests/`.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp

from ..dispersion import AbstractDispersion
from .channels import Grating, Medium, channel_strength, lorentzian
from .kinematics import (
    PhotonRoots,
    allowed_momenta,
    cosine_at,
    dispersion_roots,
    neutrino_energy,
    outgoing_kappa_energy,
    photon_roots,
)
from .momentum import AbstractMomentum
from .momentum_integral import _inner_sum, _momentum_nodes, momentum_integral
from .neutrino import NeutrinoSector
from .constants import per_year
from .detection import Detector, escape_probability
from .quadrature import Quadrature, panel_error, panel_nodes, stored

DK_CONVENTIONS = ("exact", "paper")

#: Bits of `RateResult.flags`: what went wrong inside jit, turned into an
#: error or a warning by the caller (as optimistix's `RESULTS`).
FLAGS = {
    1: "no photon root at p = 0 in any branch window (the band left its window; "
       "a resonant level spacing has nothing to follow)",
    2: "more photon roots on one (p, c) than a branch declares (max_roots): supports may be missed",
}
NO_REST_ROOT = 1
ROOTS_TRUNCATED = 2


def flag_messages(flags) -> list:
    """The messages of the bits set in `flags` (an int)."""
    return [message for bit, message in FLAGS.items() if int(flags) & bit]


class RateModel(eqx.Module):
    """Everything the rate depends on, as one differentiable pytree.

    **Fields:** `neutrinos` (`NeutrinoSector`), `dispersion`
    (`AbstractDispersion`), `medium` (`Medium`), `momentum`
    (`AbstractMomentum`), `volume` (target volume, eV^-3), `dk` (`"exact"` or
    `"paper"`, static), `quadrature` (`Quadrature`, static), `detector`
    (`Detector`) and `grating` (`Grating`, or None for a uniform dipole
    density). A uniaxial `dispersion` or a grating selects the rate over the
    photon's 3-momentum (`rates.phase_matching`).
    """

    neutrinos: NeutrinoSector
    dispersion: AbstractDispersion
    medium: Medium
    momentum: AbstractMomentum
    volume: jax.Array = eqx.field(converter=lambda x: jnp.asarray(x, dtype=float))
    dk: str = eqx.field(static=True, default="exact")
    quadrature: Quadrature = eqx.field(static=True, default=Quadrature())
    detector: Detector = Detector()
    grating: Grating | None = None

    @property
    def length(self):
        """Side l of the cubic target, 1/eV."""
        return jnp.cbrt(self.volume)

    def __check_init__(self):
        if self.dk not in DK_CONVENTIONS:
            raise ValueError(
                f"RateModel.dk: unknown convention {self.dk!r}; allowed: exact, paper"
            )


def rest_roots(model: RateModel):
    """Photon roots on every branch for a neutrino at rest (p = 0; any c), by energy."""
    nu = model.neutrinos
    return dispersion_roots(
        model.dispersion, nu.m_initial, nu.m_final, 0.0, 0.0, n_grid=model.quadrature.root_grid
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


def _spectrum(model: RateModel, omega, branch):
    """S(omega) and the estimated error of its momentum integral (both shaped as `omega`)."""
    nu = model.neutrinos
    dist = model.momentum
    w_lo, w_hi = branch.omega_window()
    in_window = (omega >= w_lo) & (omega <= w_hi)
    omega_safe = jnp.where(in_window, omega, 0.5 * (w_lo + w_hi))
    k = branch.wavenumber(omega_safe)
    v_g = branch.group_velocity_at(omega_safe)
    strength = channel_strength(model.medium, nu.mixing_squared(), omega_safe, k)
    # Stored (`stored`): every momentum node reads them (measured: 49 -> 42 us per linear-band design).
    p_lo, p_hi = (stored(p) for p in allowed_momenta(omega_safe, k, nu.m_initial, nu.m_final))
    error = jnp.zeros_like(omega_safe)

    if dist.support == "point":
        p0 = dist.momentum
        # Nodes are interior to the support, so this only guards against rounding.
        inside = (p_lo <= p0 * (1.0 + 1e-12)) & (p0 <= p_hi * (1.0 + 1e-12))
        inner = _emission_factor(model, omega_safe, k, v_g, p0) / p0
        inner = jnp.where(inside, inner, 0.0)
    else:
        p_up = jnp.minimum(p_hi, dist.cutoff)
        order = model.quadrature.inner_order
        if model.dk == "exact":
            inner, error = momentum_integral(order, dist, nu.m_initial, nu.m_final, omega_safe, p_lo, p_up,
                                             massless=nu.final_is_massless())
        else:
            p, w_k, w_g = _momentum_nodes(dist, p_lo, p_up, order)
            values = p * dist.occupation(p) * _emission_factor(
                model, omega_safe[:, None], k[:, None], v_g[:, None], p
            )
            inner, error = _inner_sum(values, w_k, w_g, len(dist.panel_edges) - 1)
        open_ = p_lo < p_up
        inner = jnp.where(open_, inner, 0.0)
        error = jnp.where(open_, error, 0.0)

    # |d Re k / d omega| = 1/|v_g|: backward-wave branches count with |v_g|.
    factor = jnp.where(in_window, 0.5 * strength / (k * jnp.abs(v_g)), 0.0)
    return factor * inner, factor * error


def photon_spectrum(model: RateModel, omega, branch=None):
    """S(omega): the momentum-integrated emission density before the Lorentzian.

    `<Gamma> = (1/Z) integral d omega L(E_vg - omega) S(omega)`, with `Z` the
    distribution's normalisation (1 for `monochromatic`).

    **Arguments:** `omega`: photon energies, eV, 1-D array; `branch`: one of
    `model.dispersion.branches()` (default: the first).

    **Returns:** S with the shape of `omega`.
    """
    branch = model.dispersion.branches()[0] if branch is None else branch
    return _spectrum(model, omega, branch)[0]


class RateResult(eqx.Module):
    """The momentum-averaged rate with its error estimate and failure flags.

    **Fields:** `rate` <Gamma> (eV); `detected`: the part that escapes and is
    detected (eV); `error`: estimated absolute quadrature error of `rate`
    (eV; Gauss-Kronrod, see `rates.quadrature`); `flags`: bits of `FLAGS`
    (int; 0 when nothing went wrong).
    """

    rate: jax.Array
    detected: jax.Array
    error: jax.Array
    flags: jax.Array

    @property
    def relative_error(self):
        """`error / |rate|` (inf for a zero rate with a nonzero error)."""
        return jnp.where(self.error == 0.0, 0.0, self.error / jnp.abs(self.rate))


def with_concrete_facts(model: RateModel) -> RateModel:
    """`model` with what its concrete leaves tell the rule, fixed in static fields.

    Three choices of rule are read off leaf values when the model is traced:
    a concrete m_j = 0 selects the separable momentum integral
    (`NeutrinoSector.final_is_massless`, several times cheaper), a
    concrete angle along the axis keeps a grating on the axial path
    (`Grating.tilted`, tens of times cheaper), and an open detector window
    adds no breakpoints (`Detector.window_is_open`: two empty panels fewer). Inside a compiled boundary
    (`eqx.filter_jit`) every array leaf is traced, so they are read here,
    before it (measured: without this a scan's closed-over m_j = 0 fell back
    to the general rule, 19,100 -> 9,100 designs/s).
    """
    nu = model.neutrinos
    model = dataclasses.replace(model, neutrinos=dataclasses.replace(nu, known_massless=nu.final_is_massless()))
    if model.grating is not None:
        model = dataclasses.replace(model, grating=dataclasses.replace(model.grating,
                                                                       known_tilt=model.grating.tilted()))
    det = model.detector
    return dataclasses.replace(model, detector=dataclasses.replace(det, known_open=det.window_is_open()))


def rate_result(model: RateModel) -> RateResult:
    """<Gamma> and the detected rate with their error estimate and flags (see `RateResult`)."""
    return _rate_result(with_concrete_facts(model))


# Compiled as one program even when called eagerly (`jax.grad(event_rate)(model)`):
# op-by-op dispatch of the quadrature costs ~10x its compilation. Inside a
# user's `jit`/`vmap`/`grad` it is inlined as any traced function.
@eqx.filter_jit
def _rate_result(model: RateModel) -> RateResult:
    from .phase_matching import needs_three_d, rate_result_3d  # it builds on this module

    if needs_three_d(model):
        return rate_result_3d(model)
    dist = model.momentum
    rest = rest_roots(model)
    flags = jnp.where(rest.valid[0], 0, NO_REST_ROOT) | jnp.where(rest.complete, 0, ROOTS_TRUNCATED)
    if dist.support == "rest":
        total, detected = _rest_rates(model, rest)
        return RateResult(total, detected, jnp.zeros_like(total), flags.astype(jnp.int32))
    gamma = 0.5 * model.medium.width
    energy = _level_spacing(model, rest)
    total = detected = error = 0.0
    for index, branch in enumerate(model.dispersion.branches()):
        t, d, e, complete = _branch_integral(model, branch, index, rest, energy, gamma)
        total, detected, error = total + t, detected + d, error + e
        flags = flags | jnp.where(complete, 0, ROOTS_TRUNCATED)
    norm = dist.normalization()
    return RateResult(total / norm, detected / norm, error / norm, flags.astype(jnp.int32))


def averaged_rates(model: RateModel):
    """`(<Gamma>, <Gamma>_detected)`, eV: all photons, and those that escape and are detected.

    The detected rate weighs each photon energy with the escape probability
    of its branch and the detector's acceptance (`rates.detection`; the paper
    itself assumes lossless transport to the sensor).
    """
    result = rate_result(model)
    return result.rate, result.detected


def averaged_rate(model: RateModel):
    """<Gamma>: the rate per neutrino averaged over the momentum distribution, eV.

    For `rest` this is `rest_rate`. See the module docstring for the method.
    """
    return rate_result(model).rate


def _graded_fractions(scale, extent, grading):
    """`grading` fractions from 1/2 down to min(2^-grading, scale / (2 extent)), geometrically.

    With the floor at 2^-grading these are 2^-1 ... 2^-grading. The floor
    moves only where S has structure finer than that (it is continuous in the
    parameters, with a kink where the two floors cross).
    """
    ratio = scale / (2.0 * jnp.maximum(extent, scale * 1e-12 + 1e-300))
    floor = jnp.clip(ratio, 1e-12, 2.0**-grading)
    steps = jnp.arange(grading) / max(grading - 1, 1)
    return 0.5 * (2.0 * floor) ** steps


def _in_support(model, branch, omega, p_max):
    """Whether photons of energy `omega` on `branch` are kinematic for some |p| <= p_max."""
    nu = model.neutrinos
    k = branch.wavenumber(omega)
    p_lo, p_hi = allowed_momenta(omega, k, nu.m_initial, nu.m_final)
    return p_lo < jnp.minimum(p_hi, p_max)


def _branch_integral(model, branch, index, rest, energy, gamma):
    """integral d omega L(E_vg - omega) S(omega) over one branch.

    **Returns:** `(total, detected, error, complete)`.

    The panels: every photon energy at which a neutrino of one of the
    distribution's breakpoint momenta p_j emits at c = +-1 (between two of
    these, the lower edge of the allowed momenta stays inside one momentum
    panel, so S is smooth there), the branch's own features, uniform panels
    in u = arcsinh((omega - E_vg)/gamma) (the Lorentzian), breakpoints graded
    towards the rest-frame photon energy, and the detector window. The
    support (where any p <= p_max is kinematic) may be several pieces: the
    roots at p_max and the window ends bound them, and panels outside are
    empty. Panels that end on a window end or a support edge are mapped so
    that a 1/sqrt band-edge singularity is integrated exactly.
    """
    q = model.quadrature
    nu = model.neutrinos
    dist = model.momentum
    m_i, m_j = nu.m_initial, nu.m_final
    w_lo, w_hi = branch.omega_window()
    momenta = dist.breakpoint_momenta()
    used = branch.breakpoint_roots
    if used == 0:  # a band without structure of its own: the support's edges suffice
        momenta = momenta[-1:]
    p_max = momenta[-1]
    n_p = momenta.shape[0]
    pp = jnp.repeat(momenta, 2)
    cc = jnp.tile(jnp.array([-1.0, 1.0]), n_p)
    roots = jax.vmap(
        lambda a, b: photon_roots(branch, m_i, m_j, a, b, n_grid=q.root_grid, max_roots=branch.max_roots)
    )(pp, cc)
    complete = jnp.all(roots.complete)
    mine = rest.valid & (rest.branch == index)

    # The support's hull [a, b]: test the stretches between the window ends,
    # the roots at p_max and this branch's rest roots.
    edge_roots = jnp.where(roots.valid[-2:], roots.omega[-2:], w_lo).ravel()
    rest_omegas = jnp.sort(jnp.where(mine, rest.omega, jnp.inf))[: branch.max_roots]
    rest_omegas = jnp.where(jnp.isfinite(rest_omegas), rest_omegas, w_lo)
    cand = jnp.sort(jnp.concatenate([jnp.stack([w_lo, w_hi]), edge_roots, rest_omegas]))
    mid = jnp.clip(0.5 * (cand[:-1] + cand[1:]), w_lo, w_hi)
    inside = _in_support(model, branch, mid, p_max) & (cand[1:] > cand[:-1])
    empty = ~jnp.any(inside)
    a = jnp.where(empty, w_lo, jnp.min(jnp.where(inside, cand[:-1], jnp.inf)))
    b = jnp.where(empty, w_lo, jnp.max(jnp.where(inside, cand[1:], -jnp.inf)))

    omega_0 = jnp.min(jnp.where(mine, rest.omega, jnp.inf))
    has_rest = jnp.isfinite(omega_0)
    omega_0 = jnp.clip(jnp.where(has_rest, omega_0, 0.5 * (a + b)), a, b)
    # S(omega) decays away from omega_0 over ~(momentum scale) x |v_g(omega_0)|.
    v_0 = jnp.min(jnp.where(mine, jnp.abs(rest.group_velocity), jnp.inf))
    scale = dist.scale * jnp.where(jnp.isfinite(v_0), v_0, 1.0)
    det = model.detector
    interior = jnp.where(roots.valid[:-2, :used], roots.omega[:-2, :used], a).ravel()
    points = jnp.concatenate(
        [
            cand,
            interior,
            branch.features(),
            det.window_points(),
            omega_0[None],
            omega_0 + (b - omega_0) * _graded_fractions(scale, b - omega_0, q.grading),
            omega_0 - (omega_0 - a) * _graded_fractions(scale, omega_0 - a, q.grading),
        ]
    )
    if branch.singular_edges:
        # Next to a band edge at distance d from omega_0, the panels beside
        # omega_0 see 1/sqrt(d + |omega - omega_0|): grade towards omega_0 on
        # the side away from each edge, in steps of 4 from d.
        ladder = 4.0 ** jnp.arange(5)
        near = [omega_0 - (w_hi - omega_0) * ladder, omega_0 + (omega_0 - w_lo) * ladder]
        scales = branch.edge_scales()
        if scales is not None:
            # And towards each end, from the scale of a narrow neighbouring gap.
            near += [w_lo + scales[0] * ladder, w_hi - scales[1] * ladder]
        points = jnp.concatenate([points, *near])
    points = jnp.clip(points, a, b)

    # Ends that may carry a 1/sqrt singularity: window ends and support edges.
    ends = jnp.concatenate([jnp.stack([w_lo, w_hi, a, b]), edge_roots])
    omega, w_k, w_g, jacobian = photon_energy_nodes(q, energy, gamma, (a, b), points, ends, (w_lo, w_hi),
                                                    0.5 * (w_lo + w_hi))
    shape = omega.shape
    spectrum, inner_error = _spectrum(model, omega.ravel(), branch)
    values = (spectrum.reshape(shape)) * jacobian
    seen = escape_probability(branch.attenuation(omega), model.length) * det.acceptance(omega)
    total = jnp.sum(w_k * values)
    detected = jnp.sum(w_k * values * seen)
    sg = jax.lax.stop_gradient
    error = jnp.sum(panel_error(sg(values), sg(w_k), sg(w_g))) + jnp.sum(sg(jnp.abs(w_k) * inner_error.reshape(shape) * jacobian))
    return total, detected, error, complete


def _sinh_cosh(u):
    """sinh u and cosh u from one expm1 (jnp.sinh and jnp.cosh take three exponentials between them).

    With e = expm1(|u|): sinh|u| = e (e + 2) / (2 (e + 1)), free of
    cancellation at small |u|, and cosh u = ((e + 1) + 1 / (e + 1)) / 2. The
    sign is a constant factor, so the derivative is right at u = 0 too.
    """
    sign = jnp.where(u >= 0.0, 1.0, -1.0)
    e = jnp.expm1(sign * u)
    return sign * 0.5 * e * (e + 2.0) / (e + 1.0), 0.5 * ((e + 1.0) + 1.0 / (e + 1.0))


def photon_energy_nodes(q, energy, gamma, support, points, ends, window, spare):
    """Gauss-Kronrod nodes of the photon-energy integral over `support` = (a, b).

    Panels uniform in u = arcsinh((omega - energy) / gamma) (the Lorentzian
    of width 2 gamma about `energy` is flat in u), plus the breakpoints
    `points` (clipped to the support); panels that end on one of `ends` are
    mapped for a 1/sqrt singularity there (breakpoints within rounding of an
    end are moved onto it, so that the panel that ends there is the one
    mapped). Nodes on or beyond an end of `window` (rounding, or an empty
    panel there) are evaluated at `spare`, a harmless interior point, with
    zero weight. Empty panels elsewhere are evaluated as they are: their zero
    width still carries the derivative of the integral with respect to their
    (coinciding) ends.

    **Returns:** `(omega, w_kronrod, w_gauss, jacobian)`, the weights in u
    and d u / d omega (zero at the spare nodes).
    """
    a, b = support
    w_lo, w_hi = window

    def to_u(omega):
        return jnp.arcsinh((omega - energy) / gamma)

    u_a, u_b = to_u(a), to_u(b)
    uniform = u_a + (u_b - u_a) * jnp.linspace(0.0, 1.0, q.outer_panels + 1)[1:-1]
    edges = jnp.sort(jnp.concatenate([uniform, to_u(jnp.clip(points, a, b))]))
    ends = to_u(jnp.clip(ends, a, b))
    close = jnp.abs(edges[:, None] - ends[None, :]) <= 1e-13 * jnp.maximum(jnp.abs(ends[None, :]), 1.0)
    edges = jnp.where(jnp.any(close, axis=-1), jnp.max(jnp.where(close, ends[None, :], -jnp.inf), axis=-1), edges)
    is_end = jnp.any(edges[:, None] == ends[None, :], axis=-1)
    u, w_k, w_g = panel_nodes(edges, q.outer_order, is_end[:-1], is_end[1:])
    sinh_u, cosh_u = _sinh_cosh(u)
    # The clip's bounds and the spare point carry no derivative: where either
    # is used the node is dead (zero weight and jacobian). Said so, the
    # backward pass has one cotangent of omega, not three (XLA's CPU code
    # rebuilt the whole chain behind it for each: 2x the value and gradient).
    sg = jax.lax.stop_gradient
    omega = jnp.clip(energy + gamma * sinh_u, sg(w_lo), sg(w_hi))
    live = (omega > w_lo) & (omega < w_hi)
    omega = jnp.where(live, omega, sg(spare))
    jacobian = jnp.where(live, 1.0 / (gamma * cosh_u), 0.0)
    return stored(omega), w_k, w_g, stored(jacobian)


def _rest_rates(model: RateModel, roots):
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
