"""Optax maximisation of the event rate: multi-start, stopping rule, checkpoints.

All starts advance together (`vmap`) in jitted chunks of `chunk` steps
(`lax.scan`). After each chunk the state is written to `checkpoint.npz` in the
output folder, so that an interrupted run resumes (`resume=True`) exactly
where it stopped: the chunks are deterministic, so a resumed run ends with
the same result as an uninterrupted one.
"""

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import rates
from rates.scenario import ScenarioError, build_model

from .problem import Problem, parse_free

OPTIMIZERS = ("adam", "sgd", "adabelief")
SCHEDULES = ("constant", "cosine", "exponential")


@dataclasses.dataclass(frozen=True)
class Settings:
    """How to optimise. Defaults suit the log-rate objective in box coordinates.

    - `steps`: most gradient steps per start; `starts`: number of starts;
      `seed`: seeds the spread of starts (start 0 is the scenario's own values).
    - `optimizer`, `learning_rate`, `schedule`: the Optax transformation.
    - `chunk`: steps between checkpoints and progress updates.
    - `rtol`: stop when ln R changed by less than this over a chunk, for every
      start, and the projected gradient (box coordinates) is below `gtol`.
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


def parse_optimize_table(raw: dict):
    """The `[optimize]` table -> (free parameters, objective, Settings)."""
    raw = dict(raw or {})
    allowed = {"free", "objective", "steps", "starts", "seed", "optimizer", "learning_rate", "schedule", "chunk", "rtol", "gtol"}
    for key in raw:
        if key not in allowed:
            raise ScenarioError(f"optimize.{key}: unknown key; allowed keys in [optimize]: " + ", ".join(sorted(allowed)))
    free = parse_free(raw.pop("free", None))
    objective = raw.pop("objective", "rate_per_year")
    settings = Settings()
    for key, value in raw.items():
        default = getattr(settings, key)
        if isinstance(default, int) and not isinstance(default, bool):
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if key == "seed" else 1):
                raise ScenarioError(f"optimize.{key}: expected an integer >= {0 if key == 'seed' else 1}, got {value!r}")
        elif isinstance(default, float):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ScenarioError(f"optimize.{key}: expected a number > 0, got {value!r}")
            value = float(value)
        elif key == "optimizer" and value not in OPTIMIZERS:
            raise ScenarioError(f"optimize.optimizer: {value!r} unknown; allowed: " + ", ".join(OPTIMIZERS))
        elif key == "schedule" and value not in SCHEDULES:
            raise ScenarioError(f"optimize.schedule: {value!r} unknown; allowed: " + ", ".join(SCHEDULES))
        settings = dataclasses.replace(settings, **{key: value})
    return free, objective, settings


def _transformation(settings: Settings):
    lr = settings.learning_rate
    if settings.schedule == "cosine":
        lr = optax.cosine_decay_schedule(lr, settings.steps, alpha=0.01)
    elif settings.schedule == "exponential":
        lr = optax.exponential_decay(lr, settings.steps, 0.01)
    return getattr(optax, settings.optimizer)(lr)


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
            s[0, i] = min(max(p.position(current), 0.02), 0.98)
    return s


def _fingerprint(problem: Problem, settings: Settings) -> str:
    text = json.dumps(
        [problem.scenario.values, [dataclasses.asdict(p) for p in problem.free], problem.objective,
         dataclasses.asdict(settings)],
        sort_keys=True, default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _save_checkpoint(path: Path, fingerprint, step, z, opt_state, history, done):
    leaves = jax.tree_util.tree_leaves(opt_state)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp, fingerprint=np.array(fingerprint), step=np.array(step), z=np.asarray(z),
        history=np.asarray(history), done=np.asarray(done),
        **{f"opt_{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)},
    )
    os.replace(tmp, path)


def _load_checkpoint(path: Path, fingerprint, opt_state):
    data = np.load(path)
    if str(data["fingerprint"]) != fingerprint:
        raise ScenarioError(
            f"--resume: {path} belongs to another scenario or settings; remove it or use another --out"
        )
    treedef = jax.tree_util.tree_structure(opt_state)
    n = treedef.num_leaves
    leaves = [jnp.asarray(data[f"opt_{i}"]) for i in range(n)]
    return (
        int(data["step"]), jnp.asarray(data["z"]), jax.tree_util.tree_unflatten(treedef, leaves),
        data["history"].tolist(), data["done"].astype(bool),
    )


def optimize(problem: Problem, settings: Settings = Settings(), out_dir=None, resume=False, progress=True):
    """Maximise the event rate. Returns the result dict (see `cnbfluor optimize`).

    **Arguments:** `problem`; `settings`; `out_dir`: folder for the checkpoint
    and results (None: no files); `resume`: continue from its checkpoint;
    `progress`: show a progress bar on stderr.
    """
    from tqdm.auto import tqdm

    template = problem.template()
    transformation = _transformation(settings)
    s0 = initial_positions(problem, settings)
    z = jnp.asarray(np.log(s0) - np.log1p(-s0))  # logit
    opt_state = jax.vmap(transformation.init)(z)
    value_and_grad = jax.value_and_grad(lambda zz: problem.log_rate(template, zz))

    def one_step(carry, _):
        zz, state = carry
        f, g = value_and_grad(zz)
        updates, state = transformation.update(-g, state, zz)
        return (optax.apply_updates(zz, updates), state), (f, g)

    @jax.jit
    def run_chunk(zz, state):
        def per_start(z1, st1):
            (z2, st2), (fs, gs) = jax.lax.scan(one_step, (z1, st1), None, length=settings.chunk)
            return z2, st2, fs, gs[-1]
        return jax.vmap(per_start)(zz, state)

    evaluate = jax.jit(jax.vmap(jax.value_and_grad(lambda zz: problem.log_rate(template, zz))))

    fingerprint = _fingerprint(problem, settings)
    checkpoint = None
    step, history, done = 0, [], np.zeros(settings.starts, dtype=bool)
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        checkpoint = out_dir / "checkpoint.npz"
        if resume and checkpoint.exists():
            step, z, opt_state, history, done = _load_checkpoint(checkpoint, fingerprint, opt_state)
        elif checkpoint.exists() and not resume:
            checkpoint.unlink()

    f_now, _ = evaluate(z)
    bar = tqdm(total=settings.steps, initial=step, disable=not progress, unit="step", desc="optimize")
    while step < settings.steps and not done.all():
        z_new, state_new, fs, g_last = run_chunk(z, opt_state)
        f_prev = f_now
        f_now, g_now = evaluate(z_new)
        # Stopped starts keep their state: the stopping rule is per start.
        keep = jnp.asarray(done)[:, None]
        z = jnp.where(keep, z, z_new)
        opt_state = jax.tree_util.tree_map(
            lambda old, new: jnp.where(jnp.reshape(keep, keep.shape[:1] + (1,) * (new.ndim - 1)), old, new),
            opt_state, state_new,
        )
        f_now = jnp.where(jnp.asarray(done), f_prev, f_now)
        history.extend(np.asarray(fs).T.tolist())
        step += settings.chunk
        s = jax.nn.sigmoid(z)
        g_box = g_now / jnp.maximum(s * (1 - s), 1e-300)
        outward = ((s < 1e-6) & (g_box < 0)) | ((s > 1 - 1e-6) & (g_box > 0))
        g_proj = jnp.where(outward, 0.0, g_box)
        small_change = jnp.abs(f_now - f_prev) < settings.rtol
        small_grad = jnp.max(jnp.abs(g_proj), axis=-1) < settings.gtol
        done = np.asarray(done | np.asarray(small_change & small_grad))
        bar.update(min(settings.chunk, settings.steps - bar.n))
        bar.set_postfix(best=f"{float(jnp.exp(jnp.max(f_now))):.4g}/yr", converged=f"{int(done.sum())}/{settings.starts}")
        if checkpoint is not None:
            _save_checkpoint(checkpoint, fingerprint, step, z, opt_state, history, done)
    bar.close()
    return _result(problem, settings, template, z, f_now, history, min(step, settings.steps), done, out_dir)


#: Within this fraction of the box from a bound, with the gradient pointing
#: out of the box, a parameter counts as sitting on that bound (KKT).
BOUND_TOLERANCE = 0.02


def _snap_to_bounds(problem, template, s, f):
    """Move parameters whose gradient pushes out of the box onto the bound.

    The sigmoid map only reaches a bound asymptotically (and Adam slows as the
    gradient in z fades there), so each start ends with a projection: every
    parameter within `BOUND_TOLERANCE` of a bound whose box gradient points
    outward is set on the bound, and the move is kept if the rate does not fall.

    **Returns:** new positions, new ln R, and per start {key: "lower"|"upper"}.
    """
    value_and_grad = jax.jit(jax.value_and_grad(lambda ss: problem.log_rate_at(template, ss)))
    s = np.array(s, dtype=float)
    f = np.array(f, dtype=float)
    active_all = []
    for i in range(s.shape[0]):
        _, g = value_and_grad(jnp.asarray(s[i]))
        g = np.asarray(g)
        trial = s[i].copy()
        active = {}
        for j, p in enumerate(problem.free):
            if trial[j] < BOUND_TOLERANCE and g[j] < 0:
                trial[j], active[p.key] = 0.0, "lower"
            elif trial[j] > 1 - BOUND_TOLERANCE and g[j] > 0:
                trial[j], active[p.key] = 1.0, "upper"
        if active:
            f_trial = float(value_and_grad(jnp.asarray(trial))[0])
            if f_trial >= f[i]:
                s[i], f[i] = trial, f_trial
            else:
                active = {}
        active_all.append(active)
    return s, f, active_all


def _result(problem, settings, template, z, f, history, steps_taken, done, out_dir):
    s, f, active = _snap_to_bounds(problem, template, np.asarray(jax.nn.sigmoid(z)), np.asarray(f))
    best = int(np.argmax(f))
    starts = []
    for i in range(settings.starts):
        values = {p.key: float(p.value(s[i, j])) for j, p in enumerate(problem.free)}
        starts.append({
            "rate_per_year": float(np.exp(f[i])),
            "params": values,
            "active_bounds": active[i],
            "converged": bool(done[i]),
        })
    best_start = starts[best]
    initial = float(np.exp(history[0][0])) if history else best_start["rate_per_year"]
    notes = []
    for key, side in best_start["active_bounds"].items():
        bound = next(p for p in problem.free if p.key == key)
        value = bound.lower if side == "lower" else bound.upper
        notes.append(
            f"{key} sits on its {side} bound ({value:g}): the rate still rises toward it, so "
            "this optimum is the bound you set, not a property of the medium (PHYSICS.md Sec. 8)."
        )
    result = {
        "best_rate_per_year": best_start["rate_per_year"],
        "params": best_start["params"],
        "active_bounds": best_start["active_bounds"],
        "best_start": best,
        "starts": starts,
        "steps_taken": steps_taken,
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
        out_dir = Path(out_dir)
        (out_dir / "best.toml").write_text(result["scenario_toml"])
        from .plots import plot_trace

        result["trace_plot"] = str(plot_trace(history, out_dir / "trace.png", objective=problem.objective))
        result["files"] = {name: str(out_dir / name) for name in ("best.toml", "result.json", "trace.png", "checkpoint.npz")}
        (out_dir / "result.json").write_text(json.dumps(result, indent=2))
    return result


def load_problem(path):
    """Scenario file with an `[optimize]` table -> (Problem, Settings)."""
    from rates.scenario import parse_scenario, read_toml

    raw = read_toml(path)
    if "optimize" not in raw:
        raise ScenarioError("optimize: the scenario needs an [optimize] table with at least `free`")
    free, objective, settings = parse_optimize_table(raw["optimize"])
    return Problem(parse_scenario(raw), free, objective), settings
