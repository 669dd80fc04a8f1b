"""Momentum distributions of the initial relic neutrino (lab = medium frame).

Each distribution is isotropic and gives the weight of |p|, `density(p)` =
p^2 f(p) (unnormalised), its integral `normalization`, a momentum `scale` (eV)
and the `cutoff` (eV) beyond which the weight is below double precision.
`panel_edges` (in units of `scale`) are where the momentum quadrature splits.
"""

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import zeta
from ..dispersion import as_float as _as_float

_ZETA3 = float(zeta(3.0))



class AbstractMomentum(eqx.Module):
    """A distribution of the initial neutrino momentum |p| (eV): the interface the
    average and the figures use.

    - `support` (class variable): `"rest"` (p = 0), `"point"` (one |p|) or
      `"continuous"` (a density, see `AbstractContinuousMomentum`);
    - `normalization()`: Z, the integral of the |p| weight (1 for rest and point);
    - `quantiles(levels)`: the |p| below which those fractions lie;
    - `breakpoint_momenta()`: the |p| (eV) whose kinematic edges (c = +-1)
      split the photon-energy integral, the last the largest |p| counted;
    - `describe()`: one line for reports.
    """

    support: eqx.AbstractClassVar[str]

    @abc.abstractmethod
    def describe(self) -> str:
        """One line for reports."""

    @abc.abstractmethod
    def normalization(self):
        """Z: the integral of the |p| weight (eV^3 for densities; 1 for rest and point)."""

    @abc.abstractmethod
    def quantiles(self, levels=(0.05, 0.5, 0.95)) -> tuple:
        """|p| (eV) below which the given fractions of the distribution lie."""

    @abc.abstractmethod
    def breakpoint_momenta(self):
        """|p| values (eV, increasing, > 0) whose c = +-1 photon roots are breakpoints."""


class Rest(AbstractMomentum):
    """p = 0: the paper's rest-frame formulas."""

    support = "rest"

    def describe(self):
        return "rest (p = 0)"

    def normalization(self):
        return 1.0

    def quantiles(self, levels=(0.05, 0.5, 0.95)):
        return tuple(0.0 for _ in levels)

    def breakpoint_momenta(self):
        return jnp.zeros((0,))


class Monochromatic(AbstractMomentum):
    """|p| = `momentum` (eV) exactly, directions isotropic."""

    momentum: jax.Array = eqx.field(converter=_as_float)
    support = "point"

    def describe(self):
        return f"monochromatic (|p| = {float(self.momentum):.4g} eV, isotropic)"

    @property
    def scale(self):
        return self.momentum

    @property
    def cutoff(self):
        return self.momentum

    def normalization(self):
        return 1.0

    def quantiles(self, levels=(0.05, 0.5, 0.95)):
        return tuple(float(self.momentum) for _ in levels)

    def breakpoint_momenta(self):
        return self.momentum[None]


def _table_edges(table_map, end, panels):
    """Edges x_j (units of the scale) with table_map(x_j) = j table_map(end) / panels, j = 0 ... panels.

    `table_map` is increasing with table_map(0) = 0; its slope sets the
    panels' density. Solved by bisection in numpy (static).
    """
    top = table_map(end)
    edges = []
    for j in range(panels + 1):
        lo, hi = 0.0, end
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if table_map(mid) < j * top / panels else (lo, mid)
        edges.append(0.5 * (lo + hi))
    edges[0], edges[-1] = 0.0, end
    return tuple(edges)


class AbstractContinuousMomentum(AbstractMomentum):
    """A |p| density: `occupation` f(p), `density` p^2 f(p), its `scale` (eV),
    the `cutoff` above which it is negligible, the `panel_edges` (units of
    `scale`) of the general momentum quadrature, which starts at the lowest
    allowed momentum, and the fixed `table_edges` (units of `scale`, ending
    on the cutoff) of the separable one (`rates.momentum_integral`)."""

    support = "continuous"
    panel_edges: eqx.AbstractClassVar[tuple]
    table_edges: eqx.AbstractClassVar[tuple]

    @staticmethod
    def table_map(x):
        """An increasing map of x = p / scale with table_map(0) = 0 whose
        equal steps are the `table_edges` (works on floats and JAX arrays)."""
        raise NotImplementedError

    def table_index(self, x, upper):
        """The table panel that holds x = p / scale (int array): for a lower
        end (`upper=False`) an edge belongs to the panel above it, for an
        upper end to the panel below; clipped to the table. Within rounding
        of an edge either panel may be returned: the partial panel is then
        of zero width (to rounding), so the integral is the same."""
        n = len(self.table_edges) - 1
        end = self.table_edges[-1]
        u = n * self.table_map(jnp.clip(x, 0.0, end)) / self.table_map(end)
        index = jnp.ceil(u) - 1.0 if upper else jnp.floor(u)
        return jnp.clip(index, 0, n - 1).astype(jnp.int32)

    @property
    @abc.abstractmethod
    def scale(self):
        """The distribution's momentum scale, eV."""

    @property
    def cutoff(self):
        """|p| (eV) above which the weight is negligible: the last panel edge."""
        return self.panel_edges[-1] * self.scale

    @abc.abstractmethod
    def occupation(self, p):
        """f(p)."""

    def density(self, p):
        """p^2 f(p), unnormalised |p| weight (eV^2)."""
        return p**2 * self.occupation(p)

    def quantiles(self, levels=(0.05, 0.5, 0.95)):
        # The cumulative weight on a fine grid to the cutoff (trapezoid rule).
        p = np.linspace(0.0, float(self.cutoff), 20001)
        density = np.asarray(self.density(jnp.asarray(p)))
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(p))])
        return tuple(float(np.interp(level, cdf / cdf[-1], p)) for level in levels)

    def breakpoint_momenta(self):
        edges = jnp.asarray([e for e in self.panel_edges if e > 0.0])
        return self.scale * edges


class FermiDirac(AbstractContinuousMomentum):
    """f(p) = 1 / (exp(p/T) + 1): the relic spectrum; `temperature` T in eV."""

    temperature: jax.Array = eqx.field(converter=_as_float)
    # p^2 exp(-p/T) at the last edge, 42 T, is 1e-15 of its peak.
    panel_edges = (0.0, 1.0, 2.5, 4.0, 6.0, 9.0, 14.0, 22.0, 42.0)
    @staticmethod
    def table_map(x):
        return x

    # -d ln f / dx -> 1: 30 panels of width 1.4 T (f falls by e^1.4 across one).
    table_edges = _table_edges(table_map, 42.0, 30)

    def describe(self):
        return f"fermi-dirac (T = {float(self.temperature):.4g} eV)"

    @property
    def scale(self):
        return self.temperature

    def occupation(self, p):
        """f(p) = 1 / (exp(p/T) + 1), written to stay finite for p >> T."""
        x = p / self.temperature
        return jnp.exp(-x) / (1.0 + jnp.exp(-x))

    def normalization(self):
        """Integral of p^2 f(p) over p in [0, inf) = (3/2) zeta(3) T^3, eV^3."""
        return 1.5 * _ZETA3 * self.temperature**3

    def mean_inverse_momentum(self):
        """<1/p> = (pi^2/12) / ((3/2) zeta(3) T), 1/eV (closed form)."""
        return (math.pi**2 / 12.0) / (1.5 * _ZETA3 * self.temperature)


class Maxwellian(AbstractContinuousMomentum):
    """f(p) ~ exp(-p^2 / (2 sigma^2)) in 3D; `sigma` in eV."""

    sigma: jax.Array = eqx.field(converter=_as_float)
    panel_edges = (0.0, 0.6, 1.2, 1.8, 2.5, 3.3, 4.3, 6.0, 9.0)
    @staticmethod
    def table_map(x):
        return x / 0.6 + x**2 / 2.8

    # -d ln f / dx = x: panels of width ~1 / (1/0.6 + x/1.4) sigma (f falls by
    # at most ~e^1.4 across one, and they are no wider than 0.6 sigma).
    table_edges = _table_edges(table_map, 9.0, 44)

    def describe(self):
        return f"maxwellian (sigma = {float(self.sigma):.4g} eV)"

    @property
    def scale(self):
        return self.sigma

    def occupation(self, p):
        """f(p) = exp(-p^2 / (2 sigma^2))."""
        return jnp.exp(-0.5 * (p / self.sigma) ** 2)

    def normalization(self):
        """sqrt(pi/2) sigma^3, eV^3."""
        return math.sqrt(math.pi / 2.0) * self.sigma**3

    def mean_inverse_momentum(self):
        """<1/p> = sigma^2 / (sqrt(pi/2) sigma^3), 1/eV."""
        return 1.0 / (math.sqrt(math.pi / 2.0) * self.sigma)


DISTRIBUTIONS = {
    "rest": Rest,
    "monochromatic": Monochromatic,
    "fermi-dirac": FermiDirac,
    "maxwellian": Maxwellian,
}
