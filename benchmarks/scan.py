"""Benchmark: scan throughput (designs per second) on every local JAX backend.

    python benchmarks/scan.py [--points N]

For each available backend (CPU always; GPU when one is present), evaluates a
linear-band scan over (group velocity x detuning) with value and gradient
(the `cnbfluor scan` evaluator, jitted, vmapped, sharded over the backend's
devices) and, in the same run, a plain Python loop of jitted single-design
calls over the first designs. Prints designs/s and the ratio; writes
benchmarks/output/scan.json.
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import rates  # noqa: E402

from optimize.scan import Scan, parse_axis  # noqa: E402
from rates.scenario import build_model, default_scenario, with_parameters  # noqa: E402

OMEGA = 0.025064915718988563


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
            scan = Scan(scenario, axes, chunk=n_v * n_d)
            evaluate = scan.evaluator()
            _, values = scan.points(0)
            jax.block_until_ready(evaluate(values))
            t0 = time.perf_counter()
            repeats = 3
            for _ in range(repeats):
                jax.block_until_ready(evaluate(values))
            t_batch = (time.perf_counter() - t0) / repeats
            template = build_model(scenario)

            def log_rate(vals):
                return jnp.log(rates.event_rate(with_parameters(template, vals)))

            one = jax.jit(jax.value_and_grad(log_rate))
            jax.block_until_ready(one({k: v[0] for k, v in values.items()}))
            t0 = time.perf_counter()
            for i in range(args.loop):
                jax.block_until_ready(one({k: v[i] for k, v in values.items()}))
            t_loop = (time.perf_counter() - t0) / args.loop
        n = scan.chunk
        row = {
            "devices": [str(d) for d in jax.devices(backend)],
            "designs": n,
            "batched_designs_per_s": n / t_batch,
            "python_loop_designs_per_s": 1 / t_loop,
            "speedup": (n / t_batch) * t_loop,
        }
        results[backend] = row
        print(
            f"{backend}: {n} designs (value + gradient): batched {row['batched_designs_per_s']:,.0f} designs/s, "
            f"python loop {row['python_loop_designs_per_s']:,.0f} designs/s, x{row['speedup']:.1f}"
        )
    out = ROOT / "benchmarks" / "output"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scan.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
