"""Sensitivity scans: the event rate and its gradient on a full parameter grid.

The grid (outer product of the scanned keys) is flattened and cut into chunks;
each chunk is one jitted `vmap` call, its batch axis sharded over every local
JAX device (`jax.sharding`). A finished chunk is written at once to
`<out>.parts/chunk_NNNNNN.npz`, so a rerun with the same output skips what is
done (resume). `shard=(I, N)` evaluates only chunks I, I + N, ... so that a
cluster's job array can split one scan; `merge` joins the pieces.

The result is an `xarray.Dataset` in netCDF: `rate_per_year` on the grid,
`sensitivity` = d ln(objective) / d x (the `[optimize]` objective, the rate by
default) for every scanned and free key (per unit of the
key's TOML units), `evaluated` (a mask), coordinates with units, and the
scenario (TOML) and grid as attributes.
"""

import dataclasses
import json
import math
import os
import shutil
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from . import rates
from ._files import atomic_savez, check_writable, fingerprint
from .errors import PathError, ScenarioError
from .problem import OBJECTIVES, log_objective_result
from .scenario import Scenario, build_model, check_parameter, unit_of, with_parameters

#: Units of the scanned keys, from their names.
def _units(key: str) -> str:
    return unit_of(key) or "1"


@dataclasses.dataclass(frozen=True)
class Axis:
    """One scanned key: `n` points from `lower` to `upper`, linear or log."""

    key: str
    lower: float
    upper: float
    n: int
    scale: str = "linear"

    def values(self):
        if self.scale == "log":
            return np.geomspace(self.lower, self.upper, self.n)
        return np.linspace(self.lower, self.upper, self.n)


def parse_axis(text: str) -> Axis:
    """`KEY=LO:HI:N[:log]` -> Axis, with errors that name the argument."""
    key, sep, rest = text.partition("=")
    parts = rest.split(":")
    if not sep or len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("log", "linear")):
        raise ScenarioError(f"--param {text!r}: expected KEY=LO:HI:N or KEY=LO:HI:N:log")
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise ScenarioError(f"--param {text!r}: LO and HI must be numbers and N an integer") from None
    scale = parts[3] if len(parts) == 4 else "linear"
    if n < 1 or not (math.isfinite(lo) and math.isfinite(hi)) or (n > 1 and lo == hi):
        raise ScenarioError(f"--param {text!r}: need N >= 1 and finite LO != HI")
    if scale == "log" and (lo <= 0 or hi <= 0):
        raise ScenarioError(f"--param {text!r}: a log axis needs LO, HI > 0")
    return Axis(key, lo, hi, n, scale)


class Scan:
    """A scan of a scenario over axes; sensitivities for `axes` keys plus `extra` keys."""

    def __init__(self, scenario: Scenario, axes, extra=(), chunk: int = 256,
                 quadrature: str = "default", sensitivities: bool = True, objective: str = "rate_per_year"):
        if not axes:
            raise ScenarioError("scan: give at least one --param KEY=LO:HI:N")
        keys = [a.key for a in axes]
        if len(set(keys)) != len(keys):
            raise ScenarioError("scan: a key is scanned twice")
        for axis in axes:
            check_parameter(scenario, axis.key)
            scenario.replace({axis.key: float(axis.lower)})
            scenario.replace({axis.key: float(axis.upper)})
        if objective not in OBJECTIVES:
            raise ScenarioError(f"optimize.objective: {objective!r} unknown; allowed: " + ", ".join(OBJECTIVES))
        self.objective = objective
        self.scenario = scenario
        self.axes = tuple(axes)
        self.quadrature = quadrature
        rates.quadrature_named(quadrature)
        self.sensitivity_keys = tuple(keys) + tuple(k for k in extra if k not in keys) if sensitivities else ()
        for key in self.sensitivity_keys:
            check_parameter(scenario, key)
        n_dev = jax.local_device_count()
        self.chunk = max(n_dev, int(math.ceil(chunk / n_dev)) * n_dev)
        self.shape = tuple(a.n for a in self.axes)
        self.size = int(np.prod(self.shape))
        self.n_chunks = int(math.ceil(self.size / self.chunk))
        self._grid = [a.values() for a in self.axes]

    def fingerprint(self) -> str:
        extra = [] if self.objective == "rate_per_year" else [self.objective]  # old stores stay valid
        return fingerprint([self.scenario.values, [dataclasses.asdict(a) for a in self.axes],
                            self.sensitivity_keys, self.chunk, self.quadrature, *extra])

    def points(self, chunk_index: int):
        """Flat indices and parameter values of one chunk (padded to full size)."""
        start = chunk_index * self.chunk
        flat = np.arange(start, start + self.chunk)
        valid = flat < self.size
        idx = np.unravel_index(np.minimum(flat, self.size - 1), self.shape)
        values = {a.key: self._grid[i][idx[i]] for i, a in enumerate(self.axes)}
        return flat[valid], values

    def evaluator(self):
        """jit(vmap) of (rate per year, d ln R / d key) with the batch sharded over devices."""
        template = build_model(self.scenario, rates.quadrature_named(self.quadrature))
        fixed = {k: float(self.scenario.value(k)) for k in self.sensitivity_keys if k not in self.shape_keys}

        def one(values):
            def log_rate(sens):
                # The sensitivities are those of the objective the optimiser would climb.
                model = with_parameters(template, {**values, **sens})
                value, result = log_objective_result(model, self.objective)
                return value, (rates.events_per_year(model, result.rate), result.relative_error, result.flags)

            sens0 = {k: values[k] if k in values else jnp.asarray(fixed[k]) for k in self.sensitivity_keys}
            if not sens0:  # rate only: no reverse pass
                _, (rate, error, flags) = log_rate({})
                return rate, jnp.zeros((0,)), error, flags
            (_, (rate, error, flags)), grads = jax.value_and_grad(log_rate, has_aux=True)(sens0)
            return rate, jnp.stack([grads[k] for k in self.sensitivity_keys]), error, flags

        batched = jax.vmap(one)
        devices = jax.local_devices()
        if len(devices) > 1:
            mesh = jax.sharding.Mesh(np.array(devices), ("batch",))
            sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
            compiled = jax.jit(batched, in_shardings=sharding)

            def run(values):
                return compiled({k: jax.device_put(jnp.asarray(v), sharding) for k, v in values.items()})

            return run
        compiled = jax.jit(batched)
        return lambda values: compiled({k: jnp.asarray(v) for k, v in values.items()})

    @property
    def grid(self):
        """The values of each axis (TOML units), one array per axis."""
        return self._grid

    @property
    def shape_keys(self):
        return tuple(a.key for a in self.axes)

    def dataset(self, rate, sensitivity, evaluated, error=None, flags=None):
        import xarray as xr

        dims = self.shape_keys
        coords = {}
        for axis, grid in zip(self.axes, self._grid):
            coords[axis.key] = (axis.key, grid, {"units": _units(axis.key), "scale": axis.scale})
        coords["parameter"] = ("parameter", list(self.sensitivity_keys))
        variables = {
            "rate_per_year": (dims, rate.reshape(self.shape), {"units": "1/yr", "long_name": "momentum-averaged event rate"}),
            "sensitivity": (dims + ("parameter",), sensitivity.reshape(self.shape + (len(self.sensitivity_keys),)),
                            {"units": "1/(units of parameter)", "long_name": f"d ln({self.objective}) / d parameter"}),
        }
        ds = xr.Dataset(
            {
                **variables,
                "evaluated": (dims, evaluated.reshape(self.shape).astype(np.int8)),
                "rate_rel_error": (dims, (np.full(self.size, np.nan) if error is None else error).reshape(self.shape),
                                   {"units": "1", "long_name": "estimated relative quadrature error of rate_per_year"}),
                "flags": (dims, (np.zeros(self.size, np.int32) if flags is None else flags).reshape(self.shape).astype(np.int32),
                          {"long_name": "bits of rates.FLAGS (0: no failure)"}),
            },
            coords=coords,
            attrs={
                "scenario_toml": self.scenario.to_toml(),
                "axes": json.dumps([dataclasses.asdict(a) for a in self.axes]),
                "sensitivity_keys": json.dumps(self.sensitivity_keys),
                "fingerprint": self.fingerprint(),
                "chunk": self.chunk,
                "quadrature": self.quadrature,
                "objective": self.objective,
                "created_by": "cnbfluor scan",
            },
        )
        ds["parameter"].attrs["units"] = json.dumps([_units(k) for k in self.sensitivity_keys])
        return ds


def run_scan(scan: Scan, out, shard=(0, 1), progress=True):
    """Evaluate (this shard of) the scan, chunk by chunk, resumable; write `out` (netCDF).

    **Returns:** the `xarray.Dataset` written.
    """
    from tqdm.auto import tqdm

    out = check_writable(out, "--out")
    parts = out.with_name(out.name + ".parts")
    index, count = shard
    mine = [c for c in range(scan.n_chunks) if c % count == index]
    if not parts.exists() and out.is_file():
        # A finished scan (its chunk files removed): nothing to compute if it is this one.
        import xarray as xr

        try:
            done = xr.load_dataset(out, engine="scipy")
        except (OSError, ValueError, TypeError):
            done = None
        if done is not None and done.attrs.get("fingerprint") != scan.fingerprint():
            raise ScenarioError(
                f"scan: {out} holds another scan (scenario, grid or chunk differ); remove it or use another --out"
            )
        if done is not None and done.attrs.get("shard", "0/1") == f"{index}/{count}":
            return _with_parameter_axis(scan, done)
    parts.mkdir(parents=True, exist_ok=True)
    meta = parts / "meta.json"
    run_id = scan.fingerprint()
    if meta.exists():
        if json.loads(meta.read_text()).get("fingerprint") != run_id:
            raise ScenarioError(
                f"scan: {parts} holds another scan (scenario, grid or chunk differ); remove it or use another --out"
            )
    else:
        meta.write_text(json.dumps({"fingerprint": run_id}))
    # Finished chunks: one listing of the folder, not one existence check per chunk.
    finished = {int(name[6:12]) for name in os.listdir(parts) if name.startswith("chunk_") and name.endswith(".npz")
                and not name.endswith(".tmp.npz")}
    todo = [c for c in mine if c not in finished]
    evaluate = scan.evaluator() if todo else None
    bar = tqdm(total=len(mine), initial=len(mine) - len(todo), disable=not progress, unit="chunk",
               desc=f"scan {scan.size} points" + (f" (shard {index}/{count})" if count > 1 else ""))
    for c in todo:
        flat, values = scan.points(c)
        rate, sens, error, flags = (np.asarray(x)[: len(flat)] for x in evaluate(values))
        atomic_savez(parts / f"chunk_{c:06d}.npz", flat=flat, rate=rate, sensitivity=sens, error=error, flags=flags)
        bar.update(1)
    bar.close()
    ds = assemble(scan, parts, mine)
    ds.attrs["shard"] = f"{index}/{count}"
    write_netcdf(ds, out)
    # The netCDF holds every finished chunk of this shard: the chunk files have done their job.
    remove_parts(out)
    return ds


def write_netcdf(ds, out) -> Path:
    """Write a scan dataset (atomically). A rate-only scan's zero-length `parameter`
    axis is left out of the file: netCDF readers (SciPy's) fail on it."""
    out = Path(out)
    if ds.sizes.get("parameter", 0) == 0:
        ds = ds.drop_vars([v for v in ("sensitivity", "parameter") if v in ds.variables])
    tmp = out.with_name(out.name + ".tmp")
    ds.to_netcdf(tmp, engine="scipy")
    tmp.replace(out)
    return out


def _with_parameter_axis(scan: Scan, ds):
    """A scan read back from its file, with the (possibly empty) `parameter` axis restored."""
    if "sensitivity" in ds:
        return ds
    sens = np.zeros((scan.size, 0))
    return scan.dataset(ds["rate_per_year"].values.reshape(-1), sens, ds["evaluated"].values.reshape(-1).astype(bool),
                        ds["rate_rel_error"].values.reshape(-1), ds["flags"].values.reshape(-1))


def assemble(scan: Scan, parts: Path, chunks):
    rate = np.full(scan.size, np.nan)
    sens = np.full((scan.size, len(scan.sensitivity_keys)), np.nan)
    evaluated = np.zeros(scan.size, dtype=bool)
    error = np.full(scan.size, np.nan)
    flags = np.zeros(scan.size, dtype=np.int32)
    for c in chunks:
        with np.load(parts / f"chunk_{c:06d}.npz") as data:
            rate[data["flat"]] = data["rate"]
            sens[data["flat"]] = data["sensitivity"]
            # Chunks written before the error estimate existed lack it: NaN, no flags.
            if "error" in data.files:
                error[data["flat"]] = data["error"]
                flags[data["flat"]] = data["flags"]
            evaluated[data["flat"]] = True
    return scan.dataset(rate, sens, evaluated, error, flags)


def merge(paths, out):
    """Join the shards of one scan (netCDF files) into `out`; every point must be covered."""
    import xarray as xr

    if not paths:
        raise ScenarioError("merge: give the shard files to join")
    for p in paths:
        if not Path(p).is_file():
            raise PathError(f"merge: no such shard file {str(p)!r}")
    check_writable(out, "merge OUT")
    datasets = []
    for p in paths:
        try:
            datasets.append(xr.load_dataset(p, engine="scipy"))
        except (OSError, ValueError, TypeError) as err:
            raise PathError(f"merge: {str(p)!r} is not a scan netCDF file ({err})") from None
    prints = {ds.attrs.get("fingerprint") for ds in datasets}
    if len(prints) != 1:
        raise ScenarioError("merge: the files belong to different scans (scenario, grid or chunk differ)")
    merged = datasets[0].copy(deep=True)
    for ds in datasets[1:]:
        take = ds["evaluated"].astype(bool)
        merged["rate_per_year"] = merged["rate_per_year"].where(~take, ds["rate_per_year"])
        if "sensitivity" in merged:
            merged["sensitivity"] = merged["sensitivity"].where(~take, ds["sensitivity"])
        merged["rate_rel_error"] = merged["rate_rel_error"].where(~take, ds["rate_rel_error"])
        merged["flags"] = merged["flags"].where(~take, ds["flags"]).astype(np.int32)
        merged["evaluated"] = (merged["evaluated"].astype(bool) | take).astype(np.int8)
    missing = int((merged["evaluated"] == 0).sum())
    if missing:
        raise ScenarioError(f"merge: {missing} grid points are in none of the files; a shard is missing")
    write_netcdf(merged, out)
    return merged


def remove_parts(out):
    """Delete the per-chunk files of a finished scan."""
    parts = Path(out).with_name(Path(out).name + ".parts")
    if parts.exists():
        shutil.rmtree(parts)
