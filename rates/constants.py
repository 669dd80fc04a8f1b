"""Physical constants (CODATA via `scipy.constants`) and the one home of unit conversions.

Inside the code hbar = c = k_B = 1 and every energy, momentum and mass is in eV;
lengths and times are in 1/eV. The conversions below (`length_from_um`,
`width_from_ns`, ...) are used only at the edges (scenario keys in, reports and
figure axes out), each written once here.
"""

import math

from scipy import constants as _sc


def _value(name: str) -> float:
    return _sc.physical_constants[name][0]


#: Fermi constant G_F, eV^-2.
FERMI_CONSTANT = _value("Fermi coupling constant") * 1e-18
#: Fine-structure constant alpha.
ALPHA = _value("fine-structure constant")
#: Elementary charge in Heaviside-Lorentz natural units, e = sqrt(4 pi alpha).
ELEMENTARY_CHARGE = math.sqrt(4.0 * math.pi * ALPHA)
#: Electron mass, eV.
ELECTRON_MASS = _value("electron mass energy equivalent in MeV") * 1e6
#: hbar, eV s: an energy E (eV) is a rate E / HBAR (1/s).
HBAR = _value("reduced Planck constant in eV s")
#: hbar c, eV cm.
HBAR_C_CM = _value("reduced Planck constant times c in MeV fm") * 1e6 * 1e-13
#: hbar c, eV m.
HBAR_C_M = HBAR_C_CM * 1e-2
#: Avogadro constant, 1/mol.
AVOGADRO = _value("Avogadro constant")
#: Boltzmann constant, eV/K.
BOLTZMANN = _value("Boltzmann constant in eV/K")
#: Julian year, s.
YEAR = 365.25 * 86400.0

# Paper defaults for dipole moments: |d_vg| ~ e/m_e for M1 (after its Eq. (22)),
# e/(alpha m_e) for E1 (after its Eq. (17)).
#: M1 dipole unit e/m_e, 1/eV (the paper's "~ e/m_e"; the Bohr magneton is half).
M1_DIPOLE_UNIT = ELEMENTARY_CHARGE / ELECTRON_MASS
#: E1 dipole unit e a_0 = e/(alpha m_e), 1/eV.
E1_DIPOLE_UNIT = ELEMENTARY_CHARGE / (ALPHA * ELECTRON_MASS)


def per_cm3(n_cm3):
    """Number density: cm^-3 -> eV^3."""
    return n_cm3 * HBAR_C_CM**3


def width_from_lifetime(tau_s):
    """Width Gamma = hbar / tau, eV, from a coherence time in s."""
    return HBAR / tau_s


def per_year(rate_eV):
    """A rate in eV (natural units) -> events per (Julian) year."""
    return rate_eV / HBAR * YEAR


def length_from_m(length_m):
    """Length: m -> 1/eV."""
    return length_m / HBAR_C_M


def length_from_um(length_um):
    """Length: micrometres -> 1/eV."""
    return length_um * 1e-6 / HBAR_C_M


def width_from_ns(tau_ns):
    """Width Gamma = hbar / tau, eV, from a coherence time in ns."""
    return width_from_lifetime(tau_ns * 1e-9)


#: hc in eV um: lambda [um] = 2 pi / k = HC_EV_UM / k [eV].
HC_EV_UM = _sc.h * _sc.c / _sc.e * 1e6
#: E / h in THz per eV.
THZ_PER_EV = _sc.e / _sc.h / 1e12


def temperature_from_K(T_K):
    """Temperature: K -> eV."""
    return T_K * BOLTZMANN
