"""In-medium photon dispersion relations omega(k), as immutable JAX pytrees.

Every model is an `equinox.Module`: `jit`, `vmap` and `grad` see its fields as
leaves. Energies and wavenumbers are in eV (natural units, hbar = c = 1).
This package knows nothing about neutrinos.
"""

import jax

# The resonance width (~3e-8 eV) is ~1e-6 of the photon energy: float32 cannot
# resolve it, so double precision is switched on wherever the physics is imported
# (here, the base layer; `cnbfluor.rates` builds on it).
jax.config.update("jax_enable_x64", True)


from ._base import AbstractBandInK as AbstractBandInK
from ._base import AbstractBranch as AbstractBranch
from ._base import AbstractDispersion as AbstractDispersion
from ._base import as_float as as_float
from ._bragg import Bragg as Bragg
from ._bragg import transfer_matrix_transmission as transfer_matrix_transmission
from ._eit import EIT as EIT
from ._linear import ConstantIndex as ConstantIndex
from ._linear import LinearBand as LinearBand
from ._linear import Vacuum as Vacuum
from ._lorentz import Lorentz as Lorentz
from ._registry import MODELS as MODELS
from ._tight_binding import TightBinding as TightBinding
from ._registry import make_dispersion as make_dispersion
from ._registry import model_name as model_name
from ._spline import SplineBand as SplineBand
from ._stack import POLARIZATIONS as POLARIZATIONS
from ._stack import Stack as Stack
from ._uniaxial import AbstractMode as AbstractMode
from ._uniaxial import AbstractUniaxial as AbstractUniaxial
from ._uniaxial import Birefringent as Birefringent
from ._uniaxial import Isotropic as Isotropic
from ._uniaxial import NO_EDGE as NO_EDGE
from ._uniaxial import S_FAR as S_FAR

__all__ = [
    "AbstractBandInK",
    "AbstractBranch",
    "AbstractDispersion",
    "AbstractMode",
    "AbstractUniaxial",
    "Birefringent",
    "Isotropic",
    "NO_EDGE",
    "S_FAR",
    "POLARIZATIONS",
    "Stack",
    "as_float",
    "Bragg",
    "EIT",
    "SplineBand",
    "transfer_matrix_transmission",
    "ConstantIndex",
    "LinearBand",
    "Lorentz",
    "MODELS",
    "TightBinding",
    "Vacuum",
    "make_dispersion",
    "model_name",
]
