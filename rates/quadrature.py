"""Gauss-Kronrod panels with an embedded error estimate, and the named rule sizes.

Every integral of the average is a sum over panels [a, b] of a Gauss-Kronrod
pair: the (2n+1)-point Kronrod rule gives the value and the n-point Gauss
rule on the same nodes gives the error estimate, scaled as QUADPACK does
(Piessens et al. 1983, `qk15`): err = I_asc min(1, (200 |K - G| / I_asc)^1.5),
with I_asc the integral of |f - mean f|. The scaling reflects that |K - G|
measures the (much larger) error of the Gauss rule; it is conservative for
smooth integrands and was checked against adaptive quadrature (tests).

A panel may end on an integrable singularity (a band edge, where
dk/d omega ~ 1/sqrt(omega_edge - omega)). Such panels are mapped with
omega = a + (b - a) phi(s): phi(s) = s^2 towards a singular left end,
1 - (1 - s)^2 towards a singular right end, 3 s^2 - 2 s^3 for both, which
turns 1/sqrt into a smooth integrand; nodes never sit on the end itself.
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from numpy.polynomial import legendre


@functools.cache
def gauss_kronrod(n: int):
    """Nodes and weights of the Gauss-Kronrod pair G_n / K_(2n+1) on [-1, 1].

    The n + 1 Kronrod nodes are the zeros of the Stieltjes polynomial E_(n+1),
    orthogonal to every polynomial of degree <= n with weight P_n (solved in
    the Legendre basis); the weights make the rule exact to degree 2n
    (at least; 3n + 1 in exact arithmetic).

    **Returns:** `(x, w_kronrod, w_gauss)`, numpy arrays of length 2n + 1;
    `w_gauss` is zero at the nodes that are not Gauss nodes.
    """
    x_gauss, w_gauss = legendre.leggauss(n)
    xq, wq = legendre.leggauss(4 * n + 8)
    basis = np.stack([legendre.legval(xq, [0] * j + [1]) for j in range(n + 2)])
    weight = wq * basis[n]
    system = (basis[: n + 1] * weight) @ basis[: n + 1].T
    rhs = -(basis[: n + 1] * weight) @ basis[n + 1]
    stieltjes = np.concatenate([np.linalg.solve(system, rhs), [1.0]])
    x_new = np.sort(legendre.legroots(stieltjes).real)
    x = np.sort(np.concatenate([x_gauss, x_new]))
    vander = np.stack([legendre.legval(x, [0] * j + [1]) for j in range(2 * n + 1)])
    moments = np.zeros(2 * n + 1)
    moments[0] = 2.0
    w_kronrod = np.linalg.solve(vander, moments)
    w_g = np.zeros_like(x)
    for xg, wg in zip(x_gauss, w_gauss):
        w_g[np.argmin(np.abs(x - xg))] = wg
    return x, w_kronrod, w_g


def panel_nodes(edges, n, singular_left=None, singular_right=None):
    """Gauss-Kronrod nodes on consecutive panels [edges[i], edges[i+1]].

    **Arguments:** `edges`: shape `(..., P + 1)`; `n`: Gauss order (static);
    `singular_left`, `singular_right`: optional booleans of shape `(..., P)`,
    panels whose left (right) end is an integrable 1/sqrt singularity.

    **Returns:** `(nodes, w_kronrod, w_gauss)`, each of shape `(..., P, 2n + 1)`;
    the weights include the panel width and the end map's Jacobian.
    """
    x, wk, wg = gauss_kronrod(n)
    lead = (1,) * edges.ndim
    s = jnp.asarray(0.5 * (x + 1.0)).reshape(lead + (-1,))
    wk, wg = jnp.asarray(0.5 * wk).reshape(lead + (-1,)), jnp.asarray(0.5 * wg).reshape(lead + (-1,))
    left, right = edges[..., :-1, None], edges[..., 1:, None]
    phi, dphi = s, jnp.ones_like(s)
    if singular_left is not None:
        lft, rgt = singular_left[..., None], singular_right[..., None]
        both = lft & rgt
        phi = jnp.where(both, 3 * s**2 - 2 * s**3, jnp.where(lft, s**2, jnp.where(rgt, 1 - (1 - s) ** 2, s)))
        dphi = jnp.where(both, 6 * s * (1 - s), jnp.where(lft, 2 * s, jnp.where(rgt, 2 * (1 - s), 1.0)))
    width = right - left
    nodes = left + width * phi
    return nodes, width * dphi * wk, width * dphi * wg


#: Safety factor of the error scaling (see `panel_error`).
ERROR_SAFETY = 2.0


@jax.custom_jvp
def stored(x):
    """`x` itself, computed once and stored: a reduction, which XLA does not rebuild inside its consumers.

    XLA's CPU fusion copies a chain of cheap operations into every consumer
    that reads it; for the photon-energy nodes (sorted breakpoints, gathers,
    the arcsinh map) and the allowed momenta, read by every momentum node,
    the copies cost as much as the rate itself (measured, 1,024 linear-band
    designs with the error estimate: 92 -> 49 us per design). An optimisation
    barrier would say so directly, but the CPU compiler drops it. Exact: the
    larger of x and x (a max is cheaper here than a sum with zeros); the
    derivative is the identity's.
    """
    return jnp.max(jnp.broadcast_to(x[..., None], x.shape + (2,)), axis=-1)


stored.defjvp(lambda primals, tangents: (stored(primals[0]), tangents[0]))


def panel_error(values, w_kronrod, w_gauss):
    """Error estimate of each panel's Kronrod sum (last axis: the nodes).

    |K - G| estimates the error of the n-point Gauss rule, of order rho^-2n
    for an integrand analytic in an ellipse of parameter rho; the Kronrod
    rule's is of order rho^-(3n+2). So, as QUADPACK does for its 7/15 pair
    (exponent 1.5), the estimate is I_asc min(1, (s |K - G| / I_asc)^q) with
    q = (3n + 2) / (2n) and the safety factor s = `ERROR_SAFETY`; I_asc is the
    integral of |f - mean f| over the panel. Checked against adaptive
    quadrature in the tests (never more than 3x below the true error).

    **Returns:** non-negative estimates with the shape of `values` less its last axis.
    """
    n = values.shape[-1] // 2
    kronrod = jnp.sum(w_kronrod * values, axis=-1)
    raw = jnp.abs(kronrod - jnp.sum(w_gauss * values, axis=-1))
    length = jnp.sum(w_kronrod, axis=-1)
    mean = kronrod / jnp.where(length == 0.0, 1.0, length)
    asc = jnp.sum(jnp.abs(w_kronrod) * jnp.abs(values - mean[..., None]), axis=-1)
    ratio = ERROR_SAFETY * raw / jnp.where(asc > 0.0, asc, 1.0)
    scaled = asc * jnp.minimum(1.0, ratio ** ((3 * n + 2) / (2 * n)))
    return jnp.where((asc > 0.0) & (raw > 0.0), scaled, raw)


@dataclasses.dataclass(frozen=True)
class Quadrature:
    """Static sizes of the quadrature rules (see `QUADRATURES` for the named sets).

    - `outer_panels`: panels uniform in u = arcsinh((omega - E_vg) / (Gamma_v/2))
      across each branch's kinematic support (the Lorentzian is flat in u).
    - `outer_order`: Gauss order n of the photon-energy panels (2n + 1 Kronrod nodes).
    - `grading`: geometric breakpoints towards the rest-frame photon energy on
      each side (fractions 2^-1 ... 2^-grading of the half support, or finer
      where the band is slower).
    - `inner_order`: Gauss order of the momentum panels (the distribution's
      `panel_edges`).
    - `root_grid`: bracketing grid of the photon-root solver.
    - `contour_panels`, `contour_order`: uniform panels and Gauss order of the
      iso-frequency contour in the rate over the photon's 3-momentum
      (`rates.phase_matching`; the shell's crossings add panels).
    """

    outer_panels: int = 12
    outer_order: int = 3
    grading: int = 6
    inner_order: int = 2
    root_grid: int = 64
    contour_panels: int = 4
    contour_order: int = 3


#: Named quadrature sizes (`cnbfluor scan --quadrature NAME`); the accuracy of
#: each, per dispersion model, is measured in tests/test_accuracy.py and in the README.
QUADRATURES = {
    "fast": Quadrature(outer_panels=8, outer_order=3, grading=4, inner_order=2, contour_order=2),
    "default": Quadrature(),
    "fine": Quadrature(outer_panels=16, outer_order=5, grading=8, inner_order=3, contour_panels=8, contour_order=5),
}


def quadrature_named(name: str) -> Quadrature:
    """The `QUADRATURES` entry `name`; a clear error for an unknown name."""
    try:
        return QUADRATURES[name]
    except KeyError:
        raise ValueError(f"quadrature: unknown name {name!r}; allowed: {', '.join(QUADRATURES)}") from None
