"""Scenario files: TOML in, validated `Scenario` out; the built-in default."""

import tomllib
from importlib import resources
from pathlib import Path

from ..errors import ScenarioError
from ._scenario import Scenario, parse_scenario


def read_toml(path) -> dict:
    """The raw tables of a TOML file, with file and syntax errors as `ScenarioError`."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"scenario: no such file {str(path)!r}")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"scenario: {path} is not valid TOML: {err}") from None


def load_scenario(path=None) -> Scenario:
    """Read and validate a scenario TOML file; `None` gives the built-in default.

    An `[optimize]` table is allowed and passed over (the optimiser reads it).
    """
    if path is None:
        text = resources.files("cnbfluor.scenario").joinpath("default.toml").read_text()
        return parse_scenario(tomllib.loads(text))
    return parse_scenario(read_toml(path))


def default_scenario() -> Scenario:
    """The built-in default: the paper's M1, NO, nu_3 -> nu_1, l = 3 m, Fermi-Dirac."""
    return load_scenario(None)
