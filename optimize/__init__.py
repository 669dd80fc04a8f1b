"""Multi-start projected gradient ascent over a box (pure JAX + Optax).

Knows no scenario keys and touches no files: the front layer (`cnbfluor`)
maps box positions to scenario values, builds the objective and keeps the
checkpoints through the `on_chunk` hook.
"""

from .solver import CONVERGED as CONVERGED
from .solver import NOT_FINITE as NOT_FINITE
from .solver import OPTIMIZERS as OPTIMIZERS
from .solver import SCHEDULES as SCHEDULES
from .solver import STEP_LIMIT as STEP_LIMIT
from .solver import Settings as Settings
from .solver import SolverResult as SolverResult
from .solver import SolverState as SolverState
from .solver import maximize as maximize
from .solver import projected_gradient as projected_gradient
from .solver import transformation as transformation

__all__ = [
    "CONVERGED", "NOT_FINITE", "OPTIMIZERS", "SCHEDULES", "STEP_LIMIT", "Settings", "SolverResult",
    "SolverState", "maximize", "projected_gradient", "transformation",
]
