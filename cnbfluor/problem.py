"""Bounded free scenario keys and the objective of an optimisation.

Every free parameter x in [lo, hi] is a position s in [0, 1] of its box:

    x = lo + (hi - lo) * s                          (scale "linear")
    log x = log lo + (log hi - log lo) * s          (scale "log")

The solver (`cnbfluor.optimize`) steps in s and projects onto the box; the
objective is the log of the event rate (rates span decades).
"""

import dataclasses
import math

import jax
import jax.numpy as jnp

from . import rates
from .errors import ScenarioError
from .scenario import Scenario, build_model, check_parameter, with_parameters

OBJECTIVES = ("rate_per_year", "detected_rate_per_year")
SCALES = ("linear", "log")


@dataclasses.dataclass(frozen=True)
class FreeParameter:
    """One free scenario key with its bounds (TOML units) and scale."""

    key: str
    lower: float
    upper: float
    scale: str = "linear"

    def __post_init__(self):
        where = f"optimize.free.{self.key}"
        if self.scale not in SCALES:
            raise ScenarioError(f'{where}: scale {self.scale!r} unknown; allowed: "linear", "log"')
        if not (math.isfinite(self.lower) and math.isfinite(self.upper) and self.lower < self.upper):
            raise ScenarioError(f"{where}: bounds must be finite with lower < upper, got [{self.lower}, {self.upper}]")
        if self.scale == "log" and self.lower <= 0:
            raise ScenarioError(f"{where}: a log scale needs lower > 0, got {self.lower}")

    def value(self, s):
        """Box position s in [0, 1] -> parameter value."""
        if self.scale == "log":
            inner = jnp.exp(math.log(self.lower) + (math.log(self.upper) - math.log(self.lower)) * s)
        else:
            inner = self.lower + (self.upper - self.lower) * s
        # The bounds themselves exactly (exp(log(x)) is x only to rounding), with
        # the gradient of the smooth map kept there: the solver reads at a bound
        # whether the rate still rises outward (an active bound).
        exact = jnp.where(s <= 0.0, self.lower, jnp.where(s >= 1.0, self.upper, inner))
        return inner + jax.lax.stop_gradient(exact - inner)

    def position(self, x):
        """Parameter value -> box position s in [0, 1] (inverse of `value`)."""
        if self.scale == "log":
            return (math.log(x) - math.log(self.lower)) / (math.log(self.upper) - math.log(self.lower))
        return (x - self.lower) / (self.upper - self.lower)


def parse_free(raw) -> tuple[FreeParameter, ...]:
    """`{"key" = [lo, hi]}` or `[lo, hi, "log"]` -> FreeParameters (validated)."""
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError('optimize.free: required, a table of "key" = [lower, upper(, "log")]')
    out = []
    for key, spec in raw.items():
        ok = isinstance(spec, list) and len(spec) in (2, 3) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec[:2]
        )
        if not ok or (len(spec) == 3 and spec[2] not in SCALES):
            raise ScenarioError(
                f'optimize.free.{key}: expected [lower, upper] or [lower, upper, "log"|"linear"], got {spec!r}'
            )
        out.append(FreeParameter(key, float(spec[0]), float(spec[1]), spec[2] if len(spec) == 3 else "linear"))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class Problem:
    """Maximise the log event rate over bounded free parameters of a scenario."""

    scenario: Scenario
    free: tuple[FreeParameter, ...]
    objective: str = "rate_per_year"

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ScenarioError(
                f"optimize.objective: {self.objective!r} unknown; allowed: " + ", ".join(OBJECTIVES)
            )
        for p in self.free:
            check_parameter(self.scenario, p.key)
            # Both bounds must themselves be valid scenario values (raises if not).
            self.scenario.replace({p.key: p.lower})
            self.scenario.replace({p.key: p.upper})

    @property
    def keys(self):
        return tuple(p.key for p in self.free)

    def template(self):
        """The `RateModel` the free parameters are written into."""
        return build_model(self.scenario)

    def values(self, s):
        """Box positions (array of shape (n_free,)) -> {key: value}."""
        return {p.key: p.value(s[i]) for i, p in enumerate(self.free)}

    def log_rate_at(self, template, s):
        """ln(objective, events per year) at box positions s in [0, 1], shape (n_free,)."""
        return log_objective(with_parameters(template, self.values(s)), self.objective)


def log_objective(model, objective: str = "rate_per_year"):
    """ln of the objective (`OBJECTIVES`), events per year, of a built model."""
    return log_objective_result(model, objective)[0]


def log_objective_result(model, objective: str = "rate_per_year"):
    """`(ln objective [events per year], RateResult)`: the one home of the objective,
    shared by the optimiser and the scans (the result carries the error estimate and flags)."""
    result = rates.rate_result(model)
    value = result.detected if objective == "detected_rate_per_year" else result.rate
    return jnp.log(rates.events_per_year(model, value)), result
