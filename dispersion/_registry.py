"""Scenario model names -> constructors."""

from ._bragg import Bragg
from ._eit import EIT
from ._linear import ConstantIndex, LinearBand, Vacuum
from ._lorentz import Lorentz
from ._spline import SplineBand
from ._stack import Stack
from ._uniaxial import Birefringent
from ._tight_binding import TightBinding

MODELS = {
    "vacuum": Vacuum,
    "index": ConstantIndex,
    "linear-band": LinearBand,
    "lorentz": Lorentz,
    "tight-binding": TightBinding,
    "eit": EIT,
    "bragg": Stack,
    "bragg-isotropic": Bragg,
    "birefringent": Birefringent,
    "spline": SplineBand,
}


def make_dispersion(name: str, **params):
    """Build a dispersion model from its scenario name.

    **Arguments:** `name`: one of `MODELS`; `params`: the model's fields.

    **Returns:** the model (an `AbstractDispersion`).

    **Raises:** `ValueError` naming the allowed models for an unknown name.
    """
    try:
        cls = MODELS[name]
    except KeyError:
        raise ValueError(
            f"make_dispersion: unknown model {name!r}; allowed: {', '.join(MODELS)}"
        ) from None
    return cls(**params)


def model_name(model) -> str:
    """The scenario name of a dispersion model (the inverse of `make_dispersion`).

    **Raises:** `ValueError` for a model that is not one of `MODELS`.
    """
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise ValueError(f"model_name: {type(model).__name__} is not one of {', '.join(MODELS)}")
