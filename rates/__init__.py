"""Relic-neutrino parametric-fluorescence rates: kinematics, channels, averages.

Everything here is pure JAX on pytrees (`jit`, `vmap`, `grad`); units are eV
inside (hbar = c = k_B = 1). Scenario keys and their units belong to the front
layer (`cnbfluor.scenario`); `constants` is the one home of unit conversions.
"""

import jax

# Double precision before any array is made (the resonance width is ~1e-6 of the
# photon energy); also switched on by `cnbfluor.dispersion`, which this builds on.
jax.config.update("jax_enable_x64", True)


from . import constants as constants
from .average import DK_CONVENTIONS as DK_CONVENTIONS
from .quadrature import QUADRATURES as QUADRATURES
from .quadrature import Quadrature as Quadrature
from .quadrature import quadrature_named as quadrature_named
from .average import RateModel as RateModel
from .average import FLAGS as FLAGS
from .average import RateResult as RateResult
from .average import averaged_rate as averaged_rate
from .average import flag_messages as flag_messages
from .average import rate_result as rate_result
from .average import averaged_rates as averaged_rates
from .average import detected_event_rate as detected_event_rate
from .average import event_rate as event_rate
from .average import events_per_year as events_per_year
from .average import level_spacing as level_spacing
from .average import photon_spectrum as photon_spectrum
from .average import rest_event_rate as rest_event_rate
from .average import rest_rate as rest_rate
from .average import rest_roots as rest_roots
from .detection import Detector as Detector
from .detection import escape_probability as escape_probability
from .channels import CHANNELS as CHANNELS
from .channels import Grating as Grating
from .channels import Medium as Medium
from .channels import channel_strength as channel_strength
from .channels import lorentzian as lorentzian
from .kinematics import PhotonRoots as PhotonRoots
from .kinematics import allowed_momenta as allowed_momenta
from .kinematics import cosine_at as cosine_at
from .kinematics import dispersion_roots as dispersion_roots
from .kinematics import photon_roots as photon_roots
from .phase_matching import as_uniaxial as as_uniaxial
from .phase_matching import mode_rate_results as mode_rate_results
from .phase_matching import needs_three_d as needs_three_d
from .phase_matching import rate_result_3d as rate_result_3d
from .momentum import DISTRIBUTIONS as DISTRIBUTIONS
from .momentum import AbstractContinuousMomentum as AbstractContinuousMomentum
from .momentum import AbstractMomentum as AbstractMomentum
from .momentum import FermiDirac as FermiDirac
from .momentum import Maxwellian as Maxwellian
from .momentum import Monochromatic as Monochromatic
from .momentum import Rest as Rest
from .neutrino import NUFIT_6_0 as NUFIT_6_0
from .neutrino import NeutrinoSector as NeutrinoSector
from .neutrino import neutrino_masses as neutrino_masses
