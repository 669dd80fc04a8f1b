"""The neutrino sector: masses from the ordering, PMNS mixing, the transition.

Defaults are NuFIT 6.0 (2024, with SK atmospheric data); the values are listed
in the README, "Scenario reference".
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from ..dispersion import as_float as _as_float

#: NuFIT 6.0 best fits (with SK atmospheric data), per ordering. eV^2 for the
#: mass splittings; dm3l is dm31 (NO, > 0) or dm32 (IO, < 0).
NUFIT_6_0 = {
    "NO": {"s12sq": 0.308, "s13sq": 0.02215, "dm21_eV2": 7.49e-5, "dm3l_eV2": 2.513e-3},
    "IO": {"s12sq": 0.308, "s13sq": 0.02231, "dm21_eV2": 7.49e-5, "dm3l_eV2": -2.484e-3},
}

#: Relic density of one mass eigenstate, neutrinos plus antineutrinos, cm^-3.
RELIC_DENSITY_CM3 = 112.0



def neutrino_masses(ordering: str, lightest_mass, dm21, dm3l):
    """The three masses (m1, m2, m3), eV.

    **Arguments:**
    - `ordering`: `"NO"` (m1 lightest) or `"IO"` (m3 lightest).
    - `lightest_mass`: m0, eV (>= 0).
    - `dm21`: m2^2 - m1^2, eV^2 (> 0).
    - `dm3l`: dm31 (NO, > 0) or dm32 (IO, < 0), eV^2.
    """
    m0 = _as_float(lightest_mass)
    if ordering == "NO":
        m1 = m0
        m2 = jnp.sqrt(m0**2 + dm21)
        m3 = jnp.sqrt(m0**2 + dm3l)
    elif ordering == "IO":
        m3 = m0
        m2 = jnp.sqrt(m0**2 - dm3l)
        m1 = jnp.sqrt(m2**2 - dm21)
    else:
        raise ValueError(f"ordering: unknown ordering {ordering!r}; allowed: NO, IO")
    return jnp.stack([m1, m2, m3])


def electron_row(s12sq, s13sq):
    """|U_e1|^2, |U_e2|^2, |U_e3|^2 from sin^2 theta_12 and sin^2 theta_13."""
    c13sq = 1.0 - s13sq
    return jnp.stack([(1.0 - s12sq) * c13sq, s12sq * c13sq, _as_float(s13sq)])


class NeutrinoSector(eqx.Module):
    """Relic neutrinos and the transition nu_i -> nu_j + gamma.

    **Fields:**
    - `ordering`: `"NO"` or `"IO"` (static).
    - `initial`, `final`: i and j, 1-based (static); m_i > m_j.
    - `majorana`: Majorana neutrinos double the rate (static).
    - `lightest_mass`: eV.
    - `s12sq`, `s13sq`, `dm21`, `dm3l`: oscillation parameters (eV^2 for splittings).
    - `density`: relic number density of state i (nu + nubar), eV^3.
    - `clustering`: overdensity factor multiplying `density`.
    """

    ordering: str = eqx.field(static=True)
    initial: int = eqx.field(static=True)
    final: int = eqx.field(static=True)
    majorana: bool = eqx.field(static=True)
    lightest_mass: jax.Array = eqx.field(converter=_as_float)
    s12sq: jax.Array = eqx.field(converter=_as_float)
    s13sq: jax.Array = eqx.field(converter=_as_float)
    dm21: jax.Array = eqx.field(converter=_as_float)
    dm3l: jax.Array = eqx.field(converter=_as_float)
    density: jax.Array = eqx.field(converter=_as_float)
    clustering: jax.Array = eqx.field(converter=_as_float)
    #: `final_is_massless` as read off a concrete `lightest_mass` before a compiled
    #: boundary, where every leaf is traced (static; None: read it now). Set by
    #: `rates.rate_result`, never by users.
    known_massless: bool | None = eqx.field(static=True, default=None)

    def masses(self):
        """(m1, m2, m3), eV."""
        return neutrino_masses(self.ordering, self.lightest_mass, self.dm21, self.dm3l)

    @property
    def m_initial(self):
        """m_i, eV."""
        return self.masses()[self.initial - 1]

    @property
    def m_final(self):
        """m_j, eV (a literal 0.0 when `final_is_massless`: the same value, and XLA folds it)."""
        if self.final_is_massless():
            return 0.0
        return self.masses()[self.final - 1]

    def final_is_massless(self) -> bool:
        """Whether m_j is known to be exactly zero when the model is traced (a Python bool).

        True when j is the lightest state (1 for NO, 3 for IO) and
        `lightest_mass` is a concrete 0: a model closed over by the jitted
        function (as `cnbfluor scan`, `optimize` and `with_parameters` use
        it), not a free, scanned or batched lightest mass, nor a model passed
        as a jit argument (whose leaves are all traced). It selects the
        separable momentum integral (`rates.momentum_integral`), several
        times cheaper; otherwise the general rule is used. The two agree to
        their quadrature error (~1e-8 relative, within the error estimate),
        not to rounding; neither is ever physically different.
        """
        if self.known_massless is not None:
            return self.known_massless
        lightest = 1 if self.ordering == "NO" else 3
        m0 = self.lightest_mass
        if self.final != lightest or isinstance(m0, jax.core.Tracer):
            return False
        return float(np.asarray(m0)) == 0.0  # numpy: a jnp comparison inside jit is traced

    def mixing_squared(self):
        """C^2 = |U_ei|^2 |U_ej|^2 (dimensionless)."""
        row = electron_row(self.s12sq, self.s13sq)
        return row[self.initial - 1] * row[self.final - 1]

    def nature_factor(self):
        """2 for Majorana, 1 for Dirac neutrinos (paper, after Eq. 7)."""
        return 2.0 if self.majorana else 1.0
