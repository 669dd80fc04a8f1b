"""Self-tests of the independent photon-energy reference (`tests/independent.py`).

It is checked against the other, separately written reference (`tests/reference.py`,
SciPy quadrature over c and p with closed-form roots), against closed forms, and
against itself by the other order of integration (mono-energetic rates averaged
over p). It is never compared with `rates.averaged_rate` here.
"""

import math

import numpy as np
import pytest

from tests import independent as ind
from tests.conftest import OMEGA_NO31, scenario_model
from tests.reference import ReferenceRate

LINEAR_BAND = {
    "dispersion.model": "linear-band", "dispersion.omega_eV": OMEGA_NO31,
    "dispersion.k_eV": OMEGA_NO31, "dispersion.group_velocity": 1e-4,
}
LORENTZ = {
    "dispersion.model": "lorentz", "dispersion.eps_inf": 1.0,
    "dispersion.poles": [{"delta_eps": 0.5, "omega_T_eV": 0.02, "gamma_eV": 0.0}],
}
TIGHT_BINDING = {
    "dispersion.model": "tight-binding", "dispersion.omega0_eV": 0.02505,
    "dispersion.coupling_eV": 1e-5, "dispersion.period_um": 20.0,
}
QUARTER_WAVE_BRAGG = {
    "dispersion.model": "bragg-isotropic", "dispersion.n1": 2.0, "dispersion.n2": 1.0,
    "dispersion.d1_um": 6.511775, "dispersion.d2_um": 13.02355,
}


@pytest.mark.parametrize(
    "updates",
    [
        {},
        {"dispersion.model": "index", "dispersion.n": 1.5},
        LINEAR_BAND,
        {**LINEAR_BAND, "momentum.distribution": "maxwellian", "medium.detuning_eV": 2e-8},
        {**LINEAR_BAND, "momentum.distribution": "monochromatic"},
        {**LINEAR_BAND, "momentum.distribution": "rest", "medium.detuning_eV": 1e-8},
        {"medium.channel": "E1", "neutrino.ordering": "IO", "neutrino.initial": 2, "neutrino.final": 1},
    ],
    ids=["vacuum", "index-1.5", "band-vg1e-4", "band-maxwellian-detuned", "band-monochromatic", "band-rest", "E1-IO"],
)
def test_matches_angle_momentum_reference(updates):
    """Measured: ~1e-11 .. 1e-13 (both adaptive, to 1e-9)."""
    model = scenario_model(**updates)
    assert ind.independent_rate(model) == pytest.approx(ReferenceRate(model).averaged(), rel=1e-7, abs=0)


@pytest.mark.slow
@pytest.mark.parametrize("distribution", ["fermi-dirac", "maxwellian"])
def test_lorentz_matches_angle_momentum_reference(distribution):
    """Two polariton branches (the reference roots them numerically: ~9 s). Measured: ~1e-12."""
    model = scenario_model(**LORENTZ, **{"momentum.distribution": distribution})
    assert ind.independent_rate(model) == pytest.approx(ReferenceRate(model).averaged(), rel=1e-7, abs=0)


def _closed_form_monochromatic(n, p0, detuning):
    """Index n, nu3 -> nu1 with m1 = 0, M1, |p| = p0: Gamma in closed form.

    S = (P n^4 / (2 p0)) omega^2 (E - omega) on [omega_-, omega_+] (c = -+1 roots of
    (n^2 - 1) omega^2 + 2 (E -+ p0 n) omega - m_i^2 = 0), times the Lorentzian,
    integrated by partial fractions.
    """
    model = scenario_model(**{
        "dispersion.model": "index", "dispersion.n": n,
        "momentum.distribution": "monochromatic", "momentum.p_eV": p0,
        "medium.detuning_eV": detuning,
    })
    ref = ind.IndependentRate(model)  # only its prefactor and masses are used below
    m_i, gamma, pref = ref.kin.mi, ref.gamma, ref.prefactor
    assert ref.kin.mj == 0.0
    energy = math.sqrt(m_i**2 + p0**2)
    e_vg = m_i / (1.0 + n) + detuning
    ends = sorted(m_i**2 / (b + math.sqrt(b * b + (n * n - 1) * m_i**2)) for b in (energy - p0 * n, energy + p0 * n))
    d = energy - e_vg
    r1 = gamma**2 + 2 * e_vg * d - e_vg**2
    r0 = e_vg**2 * d - (d - 2 * e_vg) * gamma**2

    def antiderivative(w):
        x = w - e_vg
        return -0.5 * x * x + (d - 2 * e_vg) * x + 0.5 * r1 * math.log(x * x + gamma**2) + r0 / gamma * math.atan(x / gamma)

    exact = pref * n**4 / (2 * p0) * (antiderivative(ends[1]) - antiderivative(ends[0]))
    return model, exact


@pytest.mark.parametrize("n", [1.0, 1.5])
@pytest.mark.parametrize("p0", [3e-4, 1e-7])
@pytest.mark.parametrize("detuning", [0.0, 5e-8])
def test_monochromatic_closed_form(n, p0, detuning):
    model, exact = _closed_form_monochromatic(n, p0, detuning)
    assert ind.independent_rate(model) == pytest.approx(exact, rel=1e-9, abs=0)


@pytest.mark.parametrize("n", [1.0, 1.5])
def test_rest_closed_form(n):
    """p = 0, m_j = 0: omega = m_i/(1 + n), k = n omega = E'_j, kappa = 1, D_k = n/(n + 1)."""
    detuning = 2e-8
    model = scenario_model(**{"dispersion.model": "index", "dispersion.n": n,
                              "momentum.distribution": "rest", "medium.detuning_eV": detuning})
    ref = ind.IndependentRate(model)
    omega = ref.kin.mi / (1 + n)
    exact = ref.prefactor * (n * omega) ** 4 / omega * n / (n + 1) / (detuning**2 + ref.gamma**2)
    assert ind.independent_rate(model) == pytest.approx(exact, rel=1e-10, abs=0)  # measured 4e-11 (the root solves)
    assert ind.independent_level_spacing(model) == pytest.approx(omega + detuning, rel=1e-15)


def test_average_equals_average_of_monochromatic_rates():
    """The other order: integral dp p^2 f(p) Gamma_mono(p) / Z (tight-binding band, band edge in the support)."""
    import equinox as eqx
    from scipy import integrate

    from cnbfluor import rates

    model = scenario_model(**TIGHT_BINDING)
    temp = float(model.momentum.temperature)

    def weighted(p):
        mono = eqx.tree_at(lambda m: m.momentum, model, rates.Monochromatic(p))
        return p * p / (math.exp(p / temp) + 1) * ind.independent_rate(mono, fast=True)

    val, _ = integrate.quad(weighted, 0, 60 * temp, points=[temp * s for s in (0.5, 1, 2, 4, 8, 16, 32)],
                            epsabs=0, epsrel=1e-9, limit=200)
    swapped = val / (1.5 * 1.2020569031595942 * temp**3)
    assert ind.independent_rate(model) == pytest.approx(swapped, rel=1e-8, abs=0)  # measured 7e-13


def test_band_windows_and_supports():
    model = scenario_model(**TIGHT_BINDING)
    (lo, hi), = ind.independent_edges(model)
    assert lo == pytest.approx(0.02505 - 2e-5, rel=1e-15) and hi == pytest.approx(0.02505 + 2e-5, rel=1e-15)
    e_vg = ind.independent_level_spacing(model)
    pieces = ind.independent_supports(model, 0)
    assert len(pieces) == 1 and pieces[0][0] < e_vg < pieces[0][1] and pieces[0][1] == hi

    # Quarter-wave stack: the first gap is open, the second closed (bands 1 and 2 share the edge).
    bragg = scenario_model(**QUARTER_WAVE_BRAGG)
    edges = ind.independent_edges(bragg)
    assert len(edges) == 3 and edges[0][0] == 0.0
    assert edges[1][0] > edges[0][1] * 1.5 and edges[2][0] == edges[1][1]
    d = bragg.dispersion
    n1, n2, d1, d2 = (float(x) for x in (d.n1, d.n2, d.d1, d.d2))
    f = lambda w: (np.cos(n1 * w * d1) * np.cos(n2 * w * d2)
                   - 0.5 * (n1 / n2 + n2 / n1) * np.sin(n1 * w * d1) * np.sin(n2 * w * d2))
    for w in (edges[0][1], edges[1][0], edges[1][1]):
        assert abs(abs(f(w)) - 1) < 1e-12
    assert ind.independent_supports(bragg, 0)[0][1] == edges[0][1]  # the slow light at the band edge counts


def test_paper_convention_is_refused_for_an_average():
    with pytest.raises(NotImplementedError):
        ind.independent_rate(scenario_model(**{"conventions.dk": "paper"}))
