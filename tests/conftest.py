"""Strict JAX settings for every test: double precision, no implicit rank promotion."""

import sys
from pathlib import Path

import jax
import pytest

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

# The SciPy reference path (tests/reference.py) is a test helper, not library code.
sys.path.insert(0, str(Path(__file__).parent))

from rates.scenario import build_model, default_scenario  # noqa: E402

#: Vacuum photon energy of nu_3 -> nu_1 at rest, NO, m_1 = 0, NuFIT 6.0 (eV).
OMEGA_NO31 = (2.513e-3) / (2.0 * (2.513e-3) ** 0.5)


@pytest.fixture(scope="session")
def default_model():
    return build_model(default_scenario())


def scenario_model(**updates):
    """`RateModel` of the default scenario with some dotted keys changed."""
    return build_model(default_scenario().replace(updates))
