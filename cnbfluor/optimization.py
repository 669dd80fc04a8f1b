"""Running an optimisation: the `[optimize]` table, starts, checkpoints, result files.

The solver itself (`cnbfluor.optimize.maximize`) is pure; this module gives it
the objective of a `Problem`, starting positions, and an `on_chunk` hook that
writes `checkpoint.npz` in the output folder after every chunk, so that an
interrupted run resumes (`resume=True`) exactly where it stopped: the chunks
are deterministic, so a resumed run ends with the same result as an
uninterrupted one.
"""

import dataclasses
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from . import rates
from ._files import atomic_savez, fingerprint
from .errors import ScenarioError
from .optimize import CONVERGED, OPTIMIZERS, SCHEDULES, Settings, SolverState, maximize
from .problem import Problem, parse_free
from .scenario import build_model, parse_scenario, read_toml

OPTIMIZE_KEYS = ("free", "objective", "steps", "starts", "seed", "optimizer", "learning_rate", "schedule", "chunk", "rtol", "gtol", "polish")

#: Why a start stopped, in words for the summary.
REASONS = {
    CONVERGED: "converged: ln R changed by < rtol over a chunk and the projected gradient is < gtol",
    "step limit": "stopped at the step limit before the stopping rule was met",
    "objective not finite": "stopped: the rate is not finite here",
}


def parse_optimize_table(raw: dict):
    """The `[optimize]` table -> (free parameters, objective, Settings)."""
    raw = dict(raw or {})
    for key in raw:
        if key not in OPTIMIZE_KEYS:
            raise ScenarioError(f"optimize.{key}: unknown key; allowed keys in [optimize]: " + ", ".join(sorted(OPTIMIZE_KEYS)))
    free = parse_free(raw.pop("free", None))
    objective = raw.pop("objective", "rate_per_year")
    values = {}
    for key, value in raw.items():
        default = getattr(Settings, key)
        if isinstance(default, int) and not isinstance(default, bool):
            least = 0 if key in ("seed", "polish") else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ScenarioError(f"optimize.{key}: expected an integer >= {least}, got {value!r}")
        elif isinstance(default, float):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ScenarioError(f"optimize.{key}: expected a number > 0, got {value!r}")
            value = float(value)
        elif key == "optimizer" and value not in OPTIMIZERS:
            raise ScenarioError(f"optimize.optimizer: {value!r} unknown; allowed: " + ", ".join(OPTIMIZERS))
        elif key == "schedule" and value not in SCHEDULES:
            raise ScenarioError(f"optimize.schedule: {value!r} unknown; allowed: " + ", ".join(SCHEDULES))
        values[key] = value
    return free, objective, Settings(**values)


def load_problem(path):
    """Scenario file with an `[optimize]` table -> (Problem, Settings)."""
    raw = read_toml(path)
    if "optimize" not in raw:
        raise ScenarioError("optimize: the scenario needs an [optimize] table with at least `free`")
    free, objective, settings = parse_optimize_table(raw["optimize"])
    return Problem(parse_scenario(raw), free, objective), settings


def initial_positions(problem: Problem, settings: Settings):
    """Box positions (starts, n_free): start 0 at the scenario's values, the rest seeded."""
    n = len(problem.free)
    rng = np.random.default_rng(settings.seed)
    s = rng.uniform(0.05, 0.95, size=(settings.starts, n))
    for i, p in enumerate(problem.free):
        try:
            current = problem.scenario.value(p.key)
        except KeyError:
            current = None
        if isinstance(current, (int, float)) and (p.scale == "linear" or current > 0):
            s[0, i] = min(max(p.position(current), 0.0), 1.0)
    return s


def _fingerprint(problem: Problem, settings: Settings) -> str:
    return fingerprint([problem.scenario.values, [dataclasses.asdict(p) for p in problem.free], problem.objective,
                        dataclasses.asdict(settings), "projected"])


def _save_checkpoint(path: Path, fingerprint, state: SolverState):
    leaves = jax.tree_util.tree_leaves(state.opt_state)
    atomic_savez(
        path, fingerprint=np.array(fingerprint), step=np.array(state.step), s=np.asarray(state.s),
        history=np.asarray(state.history), done=np.asarray(state.done), value=np.asarray(state.value),
        gradient=np.asarray(state.gradient),
        **{f"opt_{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)},
    )


def _load_checkpoint(path: Path, fingerprint, settings: Settings, s0) -> SolverState:
    from .optimize import transformation

    data = np.load(path)
    if "s" not in data or str(data["fingerprint"]) != fingerprint:
        raise ScenarioError(
            f"--resume: {path} belongs to another scenario or settings; remove it or use another --out"
        )
    template = jax.vmap(transformation(settings).init)(jnp.asarray(s0))
    treedef = jax.tree_util.tree_structure(template)
    leaves = [jnp.asarray(data[f"opt_{i}"]) for i in range(treedef.num_leaves)]
    return SolverState(
        int(data["step"]), jnp.asarray(data["s"]), jax.tree_util.tree_unflatten(treedef, leaves),
        data["history"].tolist(), data["done"].astype(bool), data["value"], data["gradient"],
    )


def _one_start(s0_row, problem: Problem, settings: Settings):
    """One start, run on its own (a Dask task): compile, climb, polish."""
    template = problem.template()
    return maximize(lambda s: problem.log_rate_at(template, s), np.asarray(s0_row)[None, :], settings)


def _join(results) -> "SolverResult":
    """Single-start results -> one `SolverResult` (histories padded with each start's last value)."""
    from .optimize import SolverResult

    length = max(len(r.history) for r in results)
    history = [[r.history[min(i, len(r.history) - 1)][0] for r in results] for i in range(length)]
    return SolverResult(
        positions=np.concatenate([r.positions for r in results]), values=np.concatenate([r.values for r in results]),
        gradients=np.concatenate([r.gradients for r in results]),
        converged=np.concatenate([r.converged for r in results]),
        reasons=tuple(x for r in results for x in r.reasons), active=tuple(x for r in results for x in r.active),
        history=history, steps=max(r.steps for r in results),
    )


def _optimize_on_dask(problem, settings, s0, client, out_dir, resume, progress):
    """Every start an independent Dask task; each finished start is kept in `out_dir` (resume)."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    import pickle

    one = dataclasses.replace(settings, starts=1)
    run_id = _fingerprint(problem, settings)
    done = {}
    if out_dir is not None and resume:
        for i in range(settings.starts):
            path = out_dir / f"start_{i:03d}.pkl"
            if path.exists():
                stored = pickle.loads(path.read_bytes())
                if stored.get("run") == run_id:
                    done[i] = stored["result"]
    todo = [i for i in range(settings.starts) if i not in done]
    bar = tqdm(total=settings.starts, initial=len(done), disable=not progress, unit="start", desc="optimize (dask)")
    futures = {client.submit(_one_start, s0[i], problem, one, pure=False): i for i in todo}
    try:
        for future in as_completed(list(futures)):
            i = futures[future]
            done[i] = future.result()
            if out_dir is not None:
                tmp = out_dir / f"start_{i:03d}.pkl.tmp"
                tmp.write_bytes(pickle.dumps({"run": run_id, "result": done[i]}))
                tmp.replace(out_dir / f"start_{i:03d}.pkl")
            bar.update(1)
    finally:
        client.cancel(list(futures))
        bar.close()
    return _join([done[i] for i in range(settings.starts)])


def optimize(problem: Problem, settings: Settings = Settings(), out_dir=None, resume=False, progress=True,
             client=None):
    """Maximise the event rate. Returns the result dict (see `cnbfluor optimize`).

    **Arguments:** `problem`; `settings`; `out_dir`: folder for the checkpoint
    and results (None: no files); `resume`: continue from its checkpoint;
    `progress`: show a progress bar on stderr; `client`: a `distributed.Client`
    to run every start as its own task (None: all starts together under `vmap`).
    """
    from tqdm.auto import tqdm

    template = problem.template()
    s0 = initial_positions(problem, settings)
    if client is not None:
        if out_dir is not None:
            out_dir = Path(out_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
        solved = _optimize_on_dask(problem, settings, s0, client, out_dir, resume, progress)
        if out_dir is not None:  # the trace `cnbfluor plot` reads (the starts' own files resume)
            atomic_savez(out_dir / "trace.npz", history=np.asarray(solved.history[:-1]), value=solved.values)
        return _result(problem, settings, template, solved, out_dir)
    run_id = _fingerprint(problem, settings)
    checkpoint, state = None, None
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = out_dir / "checkpoint.npz"
        if resume and checkpoint.exists():
            state = _load_checkpoint(checkpoint, run_id, settings, s0)
        elif checkpoint.exists():
            checkpoint.unlink()

    bar = tqdm(total=settings.steps, initial=0 if state is None else state.step, disable=not progress,
               unit="step", desc="optimize")

    def on_chunk(st: SolverState):
        bar.update(st.step - bar.n)
        best = np.max(np.where(np.isfinite(st.value), st.value, -np.inf))
        bar.set_postfix(best=f"{float(np.exp(best)):.4g}/yr", converged=f"{int(st.done.sum())}/{settings.starts}")
        if checkpoint is not None:
            _save_checkpoint(checkpoint, run_id, st)

    solved = maximize(lambda s: problem.log_rate_at(template, s), s0, settings, state=state, on_chunk=on_chunk)
    bar.close()
    return _result(problem, settings, template, solved, out_dir)


def _result(problem, settings, template, solved, out_dir):
    starts = []
    for i in range(settings.starts):
        values = {p.key: float(p.value(solved.positions[i, j])) for j, p in enumerate(problem.free)}
        starts.append({
            "rate_per_year": float(np.exp(solved.values[i])),
            "params": values,
            "active_bounds": {problem.free[j].key: side for j, side in solved.active[i].items()},
            "converged": bool(solved.converged[i]),
            "stopped": solved.reasons[i],
        })
    best = solved.best
    best_start = starts[best]
    initial = float(np.exp(solved.history[0][0])) if solved.history else best_start["rate_per_year"]
    notes = []
    for key, side in best_start["active_bounds"].items():
        bound = next(p for p in problem.free if p.key == key)
        value = bound.lower if side == "lower" else bound.upper
        notes.append(
            f"{key} sits on its {side} bound ({value:g}): the rate still rises toward it, so "
            "this optimum is the bound you set, not a property of the medium (README, 'The [optimize] table')."
        )
    n_conv = sum(s["converged"] for s in starts)
    if n_conv < len(starts):
        notes.append(
            f"{len(starts) - n_conv} of {len(starts)} starts stopped at the step limit ({settings.steps}) "
            "before the stopping rule was met; raise optimize.steps or loosen rtol/gtol"
        )
    result = {
        "best_rate_per_year": best_start["rate_per_year"],
        "params": best_start["params"],
        "active_bounds": best_start["active_bounds"],
        "best_start": best,
        "converged": best_start["converged"],
        "starts": starts,
        "steps_taken": solved.steps,
        "objective": problem.objective,
        "initial_rate_per_year": initial,
        "notes": notes,
    }
    best_scenario = problem.scenario.replace(best_start["params"])
    result["scenario_toml"] = best_scenario.to_toml()
    # The quadrature's error estimate and flags at the optimum, from a fresh build.
    try:
        checked = jax.jit(rates.rate_result)(build_model(best_scenario, template.quadrature))
        result["rate_rel_error"] = float(checked.relative_error)
        result["flags"] = int(checked.flags)
        result["warnings"] = rates.flag_messages(checked.flags)
    except ScenarioError as err:  # the best design no longer builds (e.g. its root left the window)
        result["rate_rel_error"] = float("nan")
        result["flags"] = 1
        result["warnings"] = [str(err)]
    if out_dir is not None:
        from .figures import plot_trace

        out_dir = Path(out_dir)
        (out_dir / "best.toml").write_text(result["scenario_toml"])
        result["trace_plot"] = str(plot_trace(solved.history, out_dir / "trace.png", objective=problem.objective))
        state = "checkpoint.npz" if (out_dir / "checkpoint.npz").exists() else "trace.npz"
        result["files"] = {name: str(out_dir / name) for name in ("best.toml", "result.json", "trace.png", state)}
        (out_dir / "result.json").write_text(json.dumps(result, indent=2))
    return result
