"""Strict JAX settings for every test: double precision, no implicit rank promotion."""

import os
from pathlib import Path

# A persistent compilation cache, shared by the test workers and the command
# lines and studies that tests start as subprocesses (they inherit the
# environment): the same rate functions are otherwise compiled again in every
# process. It starts empty on a fresh machine and only saves time.
_CACHE = Path(__file__).resolve().parents[1] / ".pytest_cache" / "jax-compilation"
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_CACHE))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
# ...but switched off for now: writing one scan program into it segfaulted inside
# XLA (jax.compilation_cache.put_executable_and_time) in two clean-clone runs of the
# suite, in the same test each time (test_scan.py, the Lorentz sensitivity), and
# pytest-xdist then hung. The directory stays set, so that the command lines the
# tests start do not turn on a cache of their own. Remove this line to bring it back.
os.environ.setdefault("JAX_ENABLE_COMPILATION_CACHE", "false")
# The suite's time is compilation, not running: XLA's CPU backend without LLVM
# optimisation passes compiles about 20% faster (same arithmetic; the runs are
# milliseconds). Benchmarks and users keep the default level.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

from cnbfluor.scenario import build_model, default_scenario  # noqa: E402

#: Vacuum photon energy of nu_3 -> nu_1 at rest, NO, m_1 = 0, NuFIT 6.0 (eV).
OMEGA_NO31 = (2.513e-3) / (2.0 * (2.513e-3) ** 0.5)


@pytest.fixture(scope="session")
def default_model():
    return build_model(default_scenario())


def scenario_model(**updates):
    """`RateModel` of the default scenario with some dotted keys changed."""
    return build_model(default_scenario().replace(updates))
