"""Multi-start projected gradient ascent in the unit box.

The objective f(s) is any differentiable JAX function of box positions
s in [0, 1]^n (the front layer maps positions to scenario values, linear or
logarithmic, and returns ln R). Every step is an Optax update followed by the
projection onto the box (`optax.projections.projection_box`), so an optimum on
a bound is reached exactly, and its projected gradient vanishes there: such a
start converges instead of creeping toward the bound as a sigmoid map would.

All starts advance together (`vmap`) in jitted chunks of `chunk` steps
(`lax.scan`). After each chunk the caller's `on_chunk` hook receives the
`SolverState` (to checkpoint it, or to show progress); a run given a saved
state continues exactly where it stopped. Pure: no files, no printing.
"""

import dataclasses
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

OPTIMIZERS = ("adam", "sgd", "adabelief")
SCHEDULES = ("constant", "cosine", "exponential")

#: Why a start stopped (`SolverResult.reasons`).
CONVERGED = "converged"
STEP_LIMIT = "step limit"
NOT_FINITE = "objective not finite"


@dataclasses.dataclass(frozen=True)
class Settings:
    """How to optimise. Defaults suit a log-rate objective in box coordinates.

    - `steps`: most gradient steps per start; `starts`: number of starts;
      `seed`: seeds the spread of starts.
    - `optimizer`, `learning_rate`, `schedule`: the Optax transformation.
    - `chunk`: steps between `on_chunk` calls (checkpoints, progress).
    - `rtol`, `gtol`: a start has converged when f changed by less than `rtol`
      over a chunk and its projected gradient (box coordinates) is below `gtol`.
    - `polish`: most L-BFGS-B iterations that finish every start in the box
      (0: none); its stopping test is the projected gradient < `gtol` or a
      relative change of f below `rtol` / 1000.
    """

    steps: int = 500
    starts: int = 8
    seed: int = 0
    optimizer: str = "adam"
    learning_rate: float = 0.1
    schedule: str = "cosine"
    chunk: int = 25
    rtol: float = 1e-8
    gtol: float = 1e-4
    polish: int = 100

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: {self.optimizer!r} unknown; allowed: {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule: {self.schedule!r} unknown; allowed: {', '.join(SCHEDULES)}")


class SolverState(NamedTuple):
    """Everything a run needs to continue: after `step` steps, positions `s`
    (starts, n), the optimiser state, f per step and start (`history`, one row
    per step, plus the value at the current positions), and which starts stopped."""

    step: int
    s: jax.Array
    opt_state: optax.OptState
    history: list
    done: np.ndarray
    value: np.ndarray
    gradient: np.ndarray


@dataclasses.dataclass(frozen=True)
class SolverResult:
    """The end of a run.

    **Fields:** `positions` (starts, n) in [0, 1]; `values` (starts,): f there;
    `gradients` (starts, n): df/ds there; `converged` (starts,) bool;
    `reasons`: why each start stopped (`CONVERGED`, `STEP_LIMIT`, `NOT_FINITE`);
    `active`: per start, {index: "lower" | "upper"} for parameters on a bound
    whose gradient points out of the box; `history`: f per step (rows) and
    start (columns), its last row the final values; `steps`: steps taken.
    """

    positions: np.ndarray
    values: np.ndarray
    gradients: np.ndarray
    converged: np.ndarray
    reasons: tuple
    active: tuple
    history: list
    steps: int

    @property
    def best(self) -> int:
        """Index of the start with the highest finite f."""
        values = np.where(np.isfinite(self.values), self.values, -np.inf)
        return int(np.argmax(values))


def transformation(settings: Settings) -> optax.GradientTransformation:
    """The Optax transformation of `settings` (with its learning-rate schedule)."""
    lr = settings.learning_rate
    if settings.schedule == "cosine":
        lr = optax.cosine_decay_schedule(lr, settings.steps, alpha=0.01)
    elif settings.schedule == "exponential":
        lr = optax.exponential_decay(lr, settings.steps, 0.01)
    return getattr(optax, settings.optimizer)(lr)


def projected_gradient(s, g):
    """The gradient with components that push out of the box removed."""
    outward = ((s <= 0.0) & (g < 0)) | ((s >= 1.0) & (g > 0))
    return jnp.where(outward, 0.0, g)


def _active(s, g):
    return tuple(
        {j: ("lower" if s[i, j] <= 0.0 else "upper") for j in range(s.shape[1])
         if (s[i, j] <= 0.0 and g[i, j] < 0) or (s[i, j] >= 1.0 and g[i, j] > 0)}
        for i in range(s.shape[0])
    )


def maximize(
    fun: Callable,
    s0,
    settings: Settings = Settings(),
    *,
    state: SolverState | None = None,
    on_chunk: Callable[[SolverState], None] | None = None,
) -> SolverResult:
    """Maximise `fun` over the unit box from several starts.

    **Arguments:**
    - `fun`: box positions, shape (n,), -> scalar f (JAX-differentiable).
    - `s0`: starting positions, shape (starts, n), in [0, 1].
    - `settings`: steps, optimiser, schedule, chunk and stopping rule.
    - `state`: a `SolverState` from an earlier run's `on_chunk` to continue.
    - `on_chunk`: called with the `SolverState` after every chunk.

    **Returns:** a `SolverResult`.
    """
    opt = transformation(settings)
    value_and_grad = jax.value_and_grad(fun)

    def one_step(carry, _):
        s, opt_state = carry
        f, g = value_and_grad(s)
        updates, opt_state = opt.update(-g, opt_state, s)
        s = optax.projections.projection_box(optax.apply_updates(s, updates), 0.0, 1.0)
        return (s, opt_state), f

    @jax.jit
    def run_chunk(s, opt_state):
        def per_start(s1, st1):
            (s2, st2), fs = jax.lax.scan(one_step, (s1, st1), None, length=settings.chunk)
            return s2, st2, fs
        return jax.vmap(per_start)(s, opt_state)

    evaluate = jax.jit(jax.vmap(value_and_grad))

    if state is None:
        s = jnp.clip(jnp.asarray(s0, dtype=float), 0.0, 1.0)
        f, g = evaluate(s)
        state = SolverState(0, s, jax.vmap(opt.init)(s), [], np.zeros(s.shape[0], dtype=bool),
                            np.asarray(f), np.asarray(g))
    step, s, opt_state, history, done, f_now, g_now = state
    history = list(history)
    while step < settings.steps and not done.all():
        s_new, state_new, fs = run_chunk(s, opt_state)
        f_new, g_new = (np.asarray(a) for a in evaluate(s_new))
        # Stopped starts keep their state: the stopping rule is per start.
        keep = jnp.asarray(done)
        s = jnp.where(keep[:, None], s, s_new)
        opt_state = jax.tree_util.tree_map(
            lambda old, new: jnp.where(jnp.reshape(keep, keep.shape + (1,) * (new.ndim - 1)), old, new),
            opt_state, state_new,
        )
        history.extend(np.where(done[None, :], f_now[None, :], np.asarray(fs).T).tolist())
        f_prev = f_now
        f_now = np.where(done, f_now, f_new)
        g_now = np.where(done[:, None], g_now, g_new)
        step = min(step + settings.chunk, settings.steps)
        g_proj = np.asarray(projected_gradient(s, jnp.asarray(g_now)))
        small = (np.abs(f_now - f_prev) < settings.rtol) & (np.max(np.abs(g_proj), axis=-1) < settings.gtol)
        done = done | small | ~np.isfinite(f_now)
        state = SolverState(step, s, opt_state, history, done, f_now, g_now)
        if on_chunk is not None:
            on_chunk(state)
    s_np, f_np, g_np = np.array(s), np.array(f_now), np.array(g_now)
    converged = done & np.isfinite(f_np)
    if settings.polish:
        # Adam at a finite learning rate circles a narrow optimum (a resonance is
        # ~1% of a detuning box) instead of settling: finish every start with a
        # bounded quasi-Newton (L-BFGS-B) whose own test is the projected gradient.
        for i in np.flatnonzero(np.isfinite(f_np)):
            # Through the batched evaluator already compiled (row i varies, the others
            # stay put): a second compilation for one start would cost more than the batch.
            def single(x, i=i):
                f_all, g_all = evaluate(jnp.asarray(s_np).at[i].set(x))
                return f_all[i], g_all[i]

            s_np[i], f_np[i], g_np[i], converged[i] = _polish(single, s_np[i], f_np[i], settings)
    reasons = tuple(
        NOT_FINITE if not np.isfinite(f_np[i]) else CONVERGED if converged[i] else STEP_LIMIT
        for i in range(s_np.shape[0])
    )
    return SolverResult(
        positions=s_np, values=f_np, gradients=g_np,
        converged=converged, reasons=reasons, active=_active(s_np, g_np),
        history=history + [f_np.tolist()], steps=step,
    )


def _polish(value_and_grad, s, f, settings: Settings):
    """L-BFGS-B from `s` in the unit box; returns (s, f, df/ds, converged)."""
    from scipy.optimize import minimize

    def negative(x):
        value, grad = value_and_grad(jnp.asarray(x))
        value, grad = float(value), np.asarray(grad, dtype=float)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(grad)
        return -value, -grad

    out = minimize(negative, s, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * s.size,
                   options={"maxiter": settings.polish, "gtol": settings.gtol, "ftol": settings.rtol * 1e-3})
    if not (np.isfinite(out.fun) and -out.fun >= f):  # never worse than the ascent's end
        value, grad = value_and_grad(jnp.asarray(s))
        g = np.asarray(grad)
        return s, f, g, bool(np.max(np.abs(np.asarray(projected_gradient(jnp.asarray(s), grad)))) < settings.gtol)
    x = np.clip(out.x, 0.0, 1.0)
    value, grad = value_and_grad(jnp.asarray(x))
    g_proj = np.asarray(projected_gradient(jnp.asarray(x), grad))
    return x, float(value), np.asarray(grad), bool(out.success or np.max(np.abs(g_proj)) < settings.gtol)
