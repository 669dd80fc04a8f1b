"""Multi-start projected gradient ascent over a box (pure JAX + Optax).

Knows no scenario keys and touches no files: the front layer (`cnbfluor`)
maps box positions to scenario values, builds the objective and keeps the
checkpoints through the `on_chunk` hook.
"""

import jax

# The resonance width (~3e-8 eV) is ~1e-6 of the photon energy: float32 cannot
# resolve it, so double precision is switched on wherever the physics is imported
# (here: the solver may be used without the rate layers).
jax.config.update("jax_enable_x64", True)


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
