"""Scans into a Zarr store: rectangular blocks, region writes, Dask for the cluster.

The grid is cut into rectangular blocks (`Blocks`), aligned with the store's
Zarr chunks, so that every block is written into its own region
(`Dataset.to_zarr(region=...)`) by whoever computed it: workers never wait on
each other and never write the same Zarr chunk. A block's `evaluated` mask is
written last, so a block is finished exactly when its mask is set; a rerun (or
a restarted worker) computes only the blocks still missing.

Without a Dask client the local devices evaluate the blocks in turn (the
scan's `jit(vmap)` evaluator, sharded over local devices). With a client
(`distributed.Client`: a `LocalCluster`, or a scheduler on a cluster started
with dask-jobqueue), every block is a task; each worker process compiles the
evaluator once and keeps it for the blocks it gets. `shard=(I, N)` takes
blocks I, I + N, ... so job arrays can fill the same store without a merge.
"""

import contextlib
import errno
import json
import math
from pathlib import Path

import numpy as np

from .errors import ArgumentError, PathError, ScenarioError

#: Attributes that identify a scan; a store whose attributes differ holds another scan.
IDENTITY = ("scenario_toml", "axes", "sensitivity_keys", "quadrature", "objective", "block")

#: Per worker process: scan fingerprint -> compiled evaluator (compiled once, reused).
_EVALUATORS: dict = {}


def block_shape(shape, size: int) -> tuple:
    """A block of about `size` points: whole trailing axes first (C order), at least 1 per axis."""
    block, left = [], max(1, int(size))
    for n in reversed(shape):
        take = max(1, min(n, left))
        block.append(take)
        left = max(1, left // take)
    return tuple(reversed(block))


class Blocks:
    """The grid of a scan cut into rectangular blocks of shape `block`."""

    def __init__(self, shape, block):
        self.shape = tuple(shape)
        self.block = tuple(block)
        self.counts = tuple(math.ceil(n / b) for n, b in zip(self.shape, self.block))
        self.n_blocks = int(np.prod(self.counts))
        self.capacity = int(np.prod(self.block))

    def region(self, index: int) -> tuple:
        """The block's slices of the grid."""
        corner = np.unravel_index(index, self.counts)
        return tuple(slice(c * b, min((c + 1) * b, n)) for c, b, n in zip(corner, self.block, self.shape))

    def points(self, index: int):
        """(grid indices per axis of the block's points in C order, the block's own shape)."""
        region = self.region(index)
        sub = tuple(s.stop - s.start for s in region)
        local = np.indices(sub).reshape(len(sub), -1)
        return tuple(local[i] + region[i].start for i in range(len(sub))), sub

    def finished(self, evaluated) -> np.ndarray:
        """Per block: whether every point of it is evaluated (`evaluated`: the grid's mask)."""
        padded = np.ones(tuple(c * b for c, b in zip(self.counts, self.block)), dtype=bool)
        padded[tuple(slice(0, n) for n in self.shape)] = np.asarray(evaluated, dtype=bool)
        split = padded.reshape(tuple(x for c, b in zip(self.counts, self.block) for x in (c, b)))
        return split.all(axis=tuple(range(1, 2 * len(self.shape), 2))).reshape(-1)


def blocks_of(scan) -> Blocks:
    """The blocks of a scan: about `scan.chunk` points each."""
    return Blocks(scan.shape, block_shape(scan.shape, scan.chunk))


def _template(scan, blocks: Blocks):
    """The empty dataset (lazy dask arrays: only metadata is written) and its Zarr encoding."""
    import dask.array as da

    n_par = len(scan.sensitivity_keys)
    ds = scan.dataset(
        rate=da.full(scan.size, np.nan, chunks=-1),
        sensitivity=da.full((scan.size, n_par), np.nan, chunks=-1),
        evaluated=da.zeros(scan.size, dtype=bool, chunks=-1),
        error=da.full(scan.size, np.nan, chunks=-1),
        flags=da.zeros(scan.size, dtype=np.int32, chunks=-1),
    )
    if n_par == 0:
        ds = ds.drop_vars(["sensitivity", "parameter"])
    else:  # variable-length strings: a Zarr data type with a specification
        ds = ds.assign_coords(parameter=("parameter", np.array(scan.sensitivity_keys, dtype=object),
                                         ds["parameter"].attrs))
    ds.attrs["block"] = json.dumps(blocks.block)
    ds.attrs["objective"] = scan.objective
    encoding = {}
    for name in ds.data_vars:
        chunks = blocks.block + ((n_par,) if name == "sensitivity" else ())
        encoding[name] = {"chunks": chunks}
        ds[name] = ds[name].chunk(dict(zip(ds[name].dims, chunks)))
    return ds, encoding


def _difference(stored: dict, wanted: dict) -> str:
    for key in IDENTITY:
        if stored.get(key) != wanted.get(key):
            return key
    return "fingerprint"


def open_store(scan, out, create: bool = True):
    """Create the store for `scan` at `out`, or check that an existing one holds this scan.

    **Raises:** `ScenarioError` naming what differs (scenario, axes, sensitivity keys,
    quadrature, objective or block) when the store holds another scan.
    """
    import xarray as xr

    out = Path(out)
    blocks = blocks_of(scan)
    template, encoding = _template(scan, blocks)
    if not out.exists():
        if not create:
            raise PathError(f"scan: no store at {str(out)!r}")
        try:
            template.to_zarr(out, mode="w-", compute=False, encoding=encoding, consolidated=False)
        except (FileExistsError, ValueError, OSError) as err:
            if not out.exists():  # not a race with another shard: a real failure
                raise PathError(f"--out {str(out)!r}: cannot create the Zarr store ({err})") from None
    try:
        stored = xr.open_zarr(out, consolidated=False)
    except Exception as err:  # noqa: BLE001 - any unreadable store is the user's path to fix
        raise PathError(f"--out {str(out)!r}: not a cnbfluor scan store ({type(err).__name__}: {err})") from None
    if stored.attrs.get("fingerprint") != scan.fingerprint() or stored.attrs.get("block") != template.attrs["block"]:
        what = _difference(stored.attrs, template.attrs)
        raise ScenarioError(
            f"scan: {out} holds another scan (its {what} differs); remove it or use another --out"
        )
    return stored, blocks


def evaluate_block(scan, blocks: Blocks, index: int, evaluator=None) -> dict:
    """The block's results as arrays of its own shape (`rate`, `sensitivity`, `error`, `flags`)."""
    evaluator = evaluator if evaluator is not None else scan.evaluator()
    idx, sub = blocks.points(index)
    count = idx[0].size
    # Padded to the block's capacity (one compiled shape) by repeating the last point.
    pad = np.concatenate([np.arange(count), np.full(scan.chunk - count, count - 1)]) if scan.chunk > count else np.arange(count)
    values = {a.key: np.asarray(scan.grid[i])[idx[i][pad]] for i, a in enumerate(scan.axes)}
    rate, sens, error, flags = (np.asarray(x)[:count] for x in evaluator(values))
    return {"rate": rate.reshape(sub), "sensitivity": sens.reshape(sub + (len(scan.sensitivity_keys),)),
            "error": error.reshape(sub), "flags": flags.reshape(sub).astype(np.int32)}


def write_block(scan, blocks: Blocks, index: int, result: dict, out) -> None:
    """Write one block into its region; the `evaluated` mask last (the block then counts as done)."""
    import xarray as xr

    region = dict(zip(scan.shape_keys, blocks.region(index)))
    dims = scan.shape_keys
    data = {
        "rate_per_year": (dims, result["rate"]),
        "rate_rel_error": (dims, result["error"]),
        "flags": (dims, result["flags"]),
    }
    if scan.sensitivity_keys:
        data["sensitivity"] = (dims + ("parameter",), result["sensitivity"])
    try:
        xr.Dataset(data).to_zarr(out, region={**region, **({"parameter": slice(None)} if scan.sensitivity_keys else {})},
                                 mode="r+", consolidated=False)
        mask = np.ones(result["rate"].shape, dtype=np.int8)
        xr.Dataset({"evaluated": (dims, mask)}).to_zarr(out, region=region, mode="r+", consolidated=False)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise PathError(f"--out {str(out)!r}: the disk is full (the blocks already written stay valid; "
                            "free space and rerun to finish)") from None
        raise


def _dask_block(index: int, scan, out: str) -> int:
    """Task body on a Dask worker: compile the evaluator once per process, evaluate, write."""
    key = scan.fingerprint()
    if key not in _EVALUATORS:
        _EVALUATORS[key] = scan.evaluator()
    blocks = blocks_of(scan)
    write_block(scan, blocks, index, evaluate_block(scan, blocks, index, _EVALUATORS[key]), out)
    return index


def run_store_scan(scan, out, shard=(0, 1), progress=True, client=None, on_block=None):
    """Fill the Zarr store `out` with (this shard of) the scan; resumable, parallel with Dask.

    **Arguments:** `scan`; `out`: the store (a folder, `.zarr`); `shard`: (I, N);
    `progress`: a tqdm bar of finished blocks; `client`: a `distributed.Client`
    (None: the local devices); `on_block`: called with each finished block's index.

    **Returns:** the dataset, opened from the store (lazy).
    """
    import xarray as xr
    from tqdm.auto import tqdm

    stored, blocks = open_store(scan, out)
    done = blocks.finished(stored["evaluated"].values)
    index, count = shard
    mine = [b for b in range(blocks.n_blocks) if b % count == index]
    todo = [b for b in mine if not done[b]]
    bar = tqdm(total=len(mine), initial=len(mine) - len(todo), disable=not progress, unit="block",
               desc=f"scan {scan.size} points" + (f" (shard {index}/{count})" if count > 1 else ""))
    try:
        if client is None:
            evaluator = scan.evaluator() if todo else None
            for b in todo:
                write_block(scan, blocks, b, evaluate_block(scan, blocks, b, evaluator), out)
                bar.update(1)
                if on_block is not None:
                    on_block(b)
        elif todo:
            from distributed import as_completed

            shared = client.scatter(scan, broadcast=True)
            futures = client.map(_dask_block, todo, scan=shared, out=str(out), pure=False)
            try:
                for future in as_completed(futures):
                    b = future.result()
                    bar.update(1)
                    if on_block is not None:
                        on_block(b)
            finally:
                client.cancel(futures)
    finally:
        bar.close()
    return xr.open_zarr(out, consolidated=False)


@contextlib.contextmanager
def dask_client(address: str | None):
    """`connect(address)` for a `with` block (None: no client); a local cluster is shut down after."""
    if address is None:
        yield None
        return
    client = connect(address)
    try:
        yield client
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None and address.startswith("local:"):
            cluster.close()


def connect(address: str, timeout: str = "10s"):
    """A `distributed.Client` for `--dask`: `local:N` starts a local cluster of N worker
    processes (one thread each); anything else is a scheduler address.

    **Raises:** `ArgumentError` naming `--dask` for a bad value or an unreachable scheduler.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a dependency
        raise ArgumentError("--dask: needs the `distributed` package") from None
    if address.startswith("local:"):
        try:
            n = int(address.partition(":")[2])
        except ValueError:
            n = 0
        if n < 1:
            raise ArgumentError(f"--dask {address!r}: expected local:N with N >= 1 worker processes")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
        return Client(cluster)
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as err:
        raise ArgumentError(f"--dask {address!r}: cannot reach the Dask scheduler ({err})") from None
