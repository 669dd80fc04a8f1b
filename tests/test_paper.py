"""The paper's rest-frame numbers : Eqs. (18), (19), (23), (24) of the paper."""

import pytest

from cnbfluor import rates
from tests.conftest import scenario_model

# (channel, ordering, i, j, tau_ns, paper "~", this spec's value) with dk = "paper".
PAPER_TABLE = [
    ("E1", "NO", 3, 1, 1.0, 4e-8, 4.36e-8),  # Eq. 18
    ("E1", "IO", 2, 1, 1.0, 7e-15, 7.29e-15),  # Eq. 19
    ("M1", "NO", 3, 1, 10.0, 5.0, 5.14),  # Eq. 23
    ("M1", "IO", 2, 1, 10.0, 9e-4, 9.56e-4),  # Eq. 24
]


def paper_model(channel, ordering, i, j, tau, dk):
    return scenario_model(**{
        "medium.channel": channel,
        "neutrino.ordering": ordering,
        "neutrino.initial": i,
        "neutrino.final": j,
        "medium.coherence_time_ns": tau,
        "momentum.distribution": "rest",
        "conventions.dk": dk,
    })


@pytest.mark.parametrize("channel,ordering,i,j,tau,paper,spec", PAPER_TABLE)
def test_paper_rates_within_two_percent(channel, ordering, i, j, tau, paper, spec):
    rate = float(rates.rest_event_rate(paper_model(channel, ordering, i, j, tau, "paper")))
    assert rate == pytest.approx(spec, rel=0.02)
    # The paper's own one-significant-figure statement, loosely.
    assert 0.5 * paper < rate < 2 * paper


@pytest.mark.parametrize("channel,ordering,i,j,tau,paper,spec", PAPER_TABLE)
def test_exact_dk_halves_no_and_shifts_io(channel, ordering, i, j, tau, paper, spec):
    exact = float(rates.rest_event_rate(paper_model(channel, ordering, i, j, tau, "exact")))
    as_paper = float(rates.rest_event_rate(paper_model(channel, ordering, i, j, tau, "paper")))
    if ordering == "NO":
        assert exact / as_paper == pytest.approx(0.5, rel=1e-12)
    else:
        # IO nu2 -> nu1: k << m1, so D_k = 1/(1 + k/E'_1) ~ 1 - 1.5%.
        assert exact / as_paper == pytest.approx(0.985, abs=0.003)


def test_m1_peak_by_hand():
    """Eq. 23 written out with scipy constants: R = n V G_F^2 C^2/(2 pi) n_d^2 d^2 k^3 (4/Gamma^2)."""
    import math

    from scipy import constants as sc

    c = rates.constants
    m3 = math.sqrt(2.513e-3)
    k = m3 / 2
    c2 = 0.02215 * (1 - 0.308) * (1 - 0.02215)
    gf = sc.physical_constants["Fermi coupling constant"][0] * 1e-18
    hbarc = sc.physical_constants["reduced Planck constant times c in MeV fm"][0] * 1e-7  # eV cm
    hbar = sc.physical_constants["reduced Planck constant in eV s"][0]
    e = math.sqrt(4 * math.pi * sc.fine_structure)
    d = e / (sc.physical_constants["electron mass energy equivalent in MeV"][0] * 1e6)
    n_d = sc.Avogadro * hbarc**3
    width = hbar / 10e-9
    gamma = gf**2 * c2 / (2 * math.pi) * n_d**2 * d**2 * k**3 * 4 / width**2
    per_year = 112 * 300**3 * gamma / hbar * 365.25 * 86400
    model = paper_model("M1", "NO", 3, 1, 10.0, "paper")
    assert float(rates.rest_event_rate(model)) == pytest.approx(per_year, rel=1e-10)
    assert c.M1_DIPOLE_UNIT == pytest.approx(d, rel=1e-14)
