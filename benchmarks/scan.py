"""Benchmark: scan throughput (designs per second) on every local JAX backend.

    python -m benchmarks.scan [--points N] [--loop M]

For each available backend (CPU always; GPU when one is present), evaluates a
linear-band scan over (group velocity x detuning) with the `cnbfluor scan`
evaluator (jitted, vmapped, sharded over the backend's devices) in four
modes: {default, fast} quadrature x {rate and sensitivities, rate only}. In
the same run a plain Python loop of jitted single-design calls (default
quadrature, value and gradient) over the first designs is the reference.
Prints designs/s and the ratio to the loop; writes benchmarks/output/scan.json.
"""

import argparse
import json

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import jax
import jax.numpy as jnp

from cnbfluor import rates

from cnbfluor.scan import Scan, parse_axis
from cnbfluor.scenario import build_model, default_scenario, with_parameters

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
    out = ROOT / "benchmarks" / "output"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scan.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
