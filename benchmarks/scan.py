"""Benchmark: scan throughput (designs per second) on every local JAX backend.

    python -m benchmarks.scan [--points N] [--loop M]

For each available backend (CPU always; GPU when one is present), evaluates a
linear-band scan over (group velocity x detuning) with the `cnbfluor scan`
evaluator (jitted, vmapped, sharded over the backend's devices) in four
modes: {default, fast} quadrature x {rate and sensitivities, rate only}. In
the same run a plain Python loop of jitted single-design calls (default
quadrature, value and gradient) over the first designs is the reference.
Prints designs/s and the ratio to the loop.

Then, end to end (grid to files, after a first run that compiles, `--end-to-end` points,
default quadrature, rate and sensitivities): the netCDF scan, the Zarr store
filled by the local devices, and the Zarr store filled by a Dask
`LocalCluster` of 1 and 2 worker processes (one thread each), with the
scaling efficiency (2 workers / (2 x 1 worker)). Writes
benchmarks/output/scan.json.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from cnbfluor import rates

from cnbfluor.scan import Scan, parse_axis, run_scan
from cnbfluor.scenario import build_model, default_scenario, with_parameters
from cnbfluor.store import run_store_scan

ROOT = Path(__file__).resolve().parents[1]

OMEGA = 0.025064915718988563
MODES = [("default", True), ("default", False), ("fast", True), ("fast", False)]


def _per_second(fn, arg, n, repeats=3):
    jax.block_until_ready(fn(arg))
    t0 = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(fn(arg))
    return n * repeats / (time.perf_counter() - t0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4096, help="designs per batch")
    parser.add_argument("--loop", type=int, default=100, help="designs in the Python loop")
    parser.add_argument("--end-to-end", type=int, default=16384, help="grid points of the end-to-end scans (0: skip)")
    args = parser.parse_args(argv)
    scenario = default_scenario().replace({
        "dispersion.model": "linear-band", "dispersion.omega_eV": OMEGA,
        "dispersion.k_eV": OMEGA, "dispersion.group_velocity": 1e-3,
    })
    n_v = 64
    n_d = max(1, args.points // n_v)
    axes = [parse_axis(f"dispersion.group_velocity=1e-7:1:{n_v}:log"), parse_axis(f"medium.detuning_eV=-1e-6:1e-6:{n_d}")]
    results = {}
    backends = ["cpu"] + (["gpu"] if any(d.platform == "gpu" for d in jax.devices()) else [])
    for backend in backends:
        with jax.default_device(jax.devices(backend)[0]):
            template = build_model(scenario)

            def log_rate(vals):
                return jnp.log(rates.event_rate(with_parameters(template, vals)))

            one = jax.jit(jax.value_and_grad(log_rate))
            scan = Scan(scenario, axes, chunk=n_v * n_d)
            _, values = scan.points(0)
            loop_rate = _per_second(
                lambda v: [one({k: x[i] for k, x in v.items()}) for i in range(args.loop)][-1], values, args.loop, 1
            )
            row = {"devices": [str(d) for d in jax.devices(backend)], "designs": scan.chunk,
                   "python_loop_designs_per_s": loop_rate}
            print(f"{backend}: python loop (default quadrature, value + gradient): {loop_rate:,.0f} designs/s")
            for quadrature, sensitivities in MODES:
                scan = Scan(scenario, axes, chunk=n_v * n_d, quadrature=quadrature, sensitivities=sensitivities)
                rate = _per_second(scan.evaluator(), values, scan.chunk)
                label = f"{quadrature}, {'rate + sensitivities' if sensitivities else 'rate only'}"
                row[label] = {"designs_per_s": rate, "vs_loop": rate / loop_rate}
                print(f"{backend}: batched ({label}): {rate:,.0f} designs/s, x{rate / loop_rate:.1f} the loop")
        results[backend] = row
    if args.end_to_end:
        results["end_to_end"] = end_to_end(scenario, args.end_to_end)
    out = ROOT / "benchmarks" / "output"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scan.json").write_text(json.dumps(results, indent=2))
    return results


def end_to_end(scenario, points):
    """Designs/s of whole scans (compile included): netCDF, Zarr local, Zarr + Dask 1 and 2 workers."""
    from distributed import Client, LocalCluster

    n_v = 64
    axes = [parse_axis(f"dispersion.group_velocity=1e-7:1:{n_v}:log"),
            parse_axis(f"medium.detuning_eV=-1e-6:1e-6:{max(1, points // n_v)}")]
    scan = Scan(scenario, axes, chunk=1024)
    row = {"points": scan.size, "chunk": scan.chunk}
    with tempfile.TemporaryDirectory() as tmp:
        def timed(label, fn):
            # Twice, into fresh files: the first run compiles (workers keep their
            # evaluator; the local path loads it from the persistent cache), the second is timed.
            fn("warm")
            t0 = time.perf_counter()
            fn("timed")
            row[label] = scan.size / (time.perf_counter() - t0)
            print(f"end to end, {scan.size} points, {label}: {row[label]:,.0f} designs/s")

        timed("netcdf, local devices", lambda tag: run_scan(scan, Path(tmp) / f"{tag}.nc", progress=False))
        timed("zarr, local devices", lambda tag: run_store_scan(scan, Path(tmp) / f"{tag}.zarr", progress=False))
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as lc:
                with Client(lc) as client:
                    timed(f"zarr, dask {workers} worker{'s' if workers > 1 else ''}",
                          lambda tag: run_store_scan(scan, Path(tmp) / f"d{workers}{tag}.zarr", progress=False,
                                                     client=client))
    row["scaling_efficiency"] = row["zarr, dask 2 workers"] / (2 * row["zarr, dask 1 worker"])
    print(f"Dask scaling efficiency (2 workers vs 2 x 1): {row['scaling_efficiency']:.2f}")
    return row


if __name__ == "__main__":
    main()
