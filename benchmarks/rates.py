"""Benchmark: the momentum-averaged rate against the SciPy adaptive-quadrature path.

    python -m benchmarks.rates [--designs N] [--quick] [--baseline REV]

Prints, measured in this one run: the time of the averaged rate and of its
value-and-gradient (jitted, warm), the same for the SciPy reference path
(tests/reference.py: nested `quad` over p and c), their ratio and relative
difference, and the batched throughput (designs per second) under `vmap`
against a Python loop over the same designs. Per dispersion model: the rate,
its estimated relative quadrature error and the times; with `--baseline REV`,
the same for an earlier revision, measured in this run (a git worktree), as
ratios: what the accuracy costs. Results also go to
benchmarks/output/rates.json.
"""

import argparse
import json
import os

import statistics
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from cnbfluor import dispersion
from cnbfluor import rates
from cnbfluor.scenario import build_model, default_scenario
from tests.reference import ReferenceRate


def timed(fn, *args, repeat=30):
    """Median wall time (s) of a warm call, blocking on the result."""
    jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def band_model(base, velocity):
    w = float(rates.rest_roots(base).omega[0])
    band = dispersion.LinearBand(w, w, velocity, k_min=w - 0.01, k_max=w + 0.01)
    return eqx.tree_at(lambda m: m.dispersion, base, band)


_BASELINE = """
import json, statistics, sys, time
from pathlib import Path
tree = Path(sys.argv[3])
if (tree / "cnbfluor" / "__init__.py").exists():
    # One namespace (cnbfluor.rates lives in tree/rates): import the package from
    # the worktree, not the installed (editable) one of the current revision.
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "cnbfluor", tree / "cnbfluor" / "__init__.py", submodule_search_locations=[str(tree / "cnbfluor"), str(tree)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["cnbfluor"] = module
    spec.loader.exec_module(module)
    from cnbfluor import rates
    from cnbfluor.scenario import build_model, default_scenario
else:  # revisions before the namespace: top-level packages, found through PYTHONPATH
    import rates
    from rates.scenario import build_model, default_scenario
import jax
cases, repeat = json.loads(sys.argv[1]), int(sys.argv[2])
def timed(fn, model):
    jax.block_until_ready(fn(model))
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter(); jax.block_until_ready(fn(model)); samples.append(time.perf_counter() - t0)
    return statistics.median(samples)
out = {}
import equinox as eqx
for name, updates in cases.items():
    model = build_model(default_scenario().replace(updates))
    # As the scan and the optimiser call it: the model closed over, a parameter (the detuning) traced.
    of = lambda d, model=model: rates.event_rate(eqx.tree_at(lambda m: m.medium.detuning, model, d))
    rate, grad = jax.jit(of), jax.jit(jax.value_and_grad(of))
    d0 = model.medium.detuning
    out[name] = {"rate_per_year": float(rate(d0)), "value_s": timed(rate, d0), "value_and_grad_s": timed(grad, d0)}
print(json.dumps(out))
"""


def baseline_timings(revision, cases, repeat):
    """The same per-model timings for an earlier revision, measured now, in a subprocess.

    The revision is checked out into a temporary git worktree (removed after)
    and imported from there; the numbers are comparable with this run's.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), revision],
                       check=True, capture_output=True)
        try:
            result = subprocess.run(
                [sys.executable, "-c", _BASELINE, json.dumps(cases), str(repeat), str(tree)],
                cwd=tmp, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True, check=True,
            )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None, metavar="REV",
                        help="also time this git revision's per-model rates in the same run (e.g. bb76d3e)")
    parser.add_argument("--designs", type=int, default=1024, help="batch size for throughput")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 30

    base = build_model(default_scenario())
    cases = {
        "vacuum, Fermi-Dirac (default scenario)": base,
        "linear band v_g = 1e-4, Fermi-Dirac": band_model(base, 1e-4),
        "linear band v_g = 1e-6, maxwellian": eqx.tree_at(
            lambda m: m.momentum, band_model(base, 1e-6), rates.Maxwellian(1e-4)
        ),
    }
    value = jax.jit(rates.averaged_rate)
    value_and_grad = jax.jit(jax.value_and_grad(rates.averaged_rate))
    results = {"device": str(jax.devices()[0]), "cases": []}
    print(f"device: {results['device']}")
    print(f"{'case':42s} {'jax [ms]':>9s} {'v&g [ms]':>9s} {'v&g/v':>6s} {'scipy [s]':>10s} {'speed-up':>9s} {'rel. diff':>10s}")
    for name, model in cases.items():
        t_value = timed(value, model, repeat=repeat)
        t_grad = timed(value_and_grad, model, repeat=repeat)
        reference = ReferenceRate(model)
        t0 = time.perf_counter()
        ref = reference.averaged()
        t_ref = time.perf_counter() - t0
        ours = float(value(model))
        row = {
            "case": name,
            "jax_value_s": t_value,
            "jax_value_and_grad_s": t_grad,
            "grad_over_value": t_grad / t_value,
            "scipy_reference_s": t_ref,
            "speedup": t_ref / t_value,
            "relative_difference": abs(ours / ref - 1),
        }
        results["cases"].append(row)
        print(
            f"{name:42s} {t_value * 1e3:9.3f} {t_grad * 1e3:9.3f} {t_grad / t_value:6.2f} "
            f"{t_ref:10.3f} {t_ref / t_value:9.0f} {row['relative_difference']:10.1e}"
        )

    # Every dispersion model: averaged rate and value-and-gradient (jitted, warm).
    w0 = 0.025064915718988563
    model_cases = {
        "vacuum": {},
        "index": {"dispersion.model": "index", "dispersion.n": 1.5},
        "linear-band": {"dispersion.model": "linear-band", "dispersion.omega_eV": w0, "dispersion.k_eV": w0, "dispersion.group_velocity": 1e-3},
        "lorentz": {"dispersion.model": "lorentz", "dispersion.eps_inf": 1.0,
                    "dispersion.poles": [{"delta_eps": 0.5, "omega_T_eV": 0.02, "gamma_eV": 1e-9}]},
        "tight-binding": {"dispersion.model": "tight-binding", "dispersion.omega0_eV": 0.02505,
                          "dispersion.coupling_eV": 1e-5, "dispersion.period_um": 20.0},
        "eit": {"dispersion.model": "eit", "dispersion.probe_eV": w0, "dispersion.coupling_strength_eV": 1e-9,
                "dispersion.rabi_eV": 1e-6, "dispersion.excited_decay_eV": 1e-7},
        "bragg-isotropic": {"dispersion.model": "bragg-isotropic", "dispersion.n1": 1.5, "dispersion.n2": 2.5,
                  "dispersion.d1_um": 8.27, "dispersion.d2_um": 4.96},
        "spline": {"dispersion.model": "spline", "dispersion.k_knots_eV": [0.02, 0.0245, 0.0256, 0.03],
                   "dispersion.group_velocities": [0.5, 1e-3, 1e-3, 0.5], "dispersion.omega_eV": 0.0226},
    }
    results["models"] = {}
    baseline = baseline_timings(args.baseline, model_cases, repeat) if args.baseline else {}
    print(f"\n{'model (Fermi-Dirac)':24s} {'rate [/yr]':>12s} {'est. err':>9s} {'jax [ms]':>9s} {'v&g [ms]':>9s} {'v&g/v':>6s}"
          + (f" {'vs ' + args.baseline[:10]:>14s} {'v&g vs':>7s} {'rate then':>11s}" if baseline else ""))
    for name, updates in model_cases.items():
        model = build_model(default_scenario().replace(updates))
        # As the scan and the optimiser call it: the model closed over (so the
        # separable momentum rule applies where m_j = 0), a parameter traced.
        of = lambda d, model=model: rates.event_rate(eqx.tree_at(lambda m: m.medium.detuning, model, d))  # noqa: E731
        rate, grad = jax.jit(of), jax.jit(jax.value_and_grad(of))
        d0 = model.medium.detuning
        t_v, t_g = timed(rate, d0, repeat=repeat), timed(grad, d0, repeat=repeat)
        estimate = float(jax.jit(lambda d, model=model: rates.rate_result(
            eqx.tree_at(lambda m: m.medium.detuning, model, d)).relative_error)(d0))
        row = {"rate_per_year": float(rate(d0)), "relative_error_estimate": estimate, "value_s": t_v, "value_and_grad_s": t_g}
        line = f"{name:24s} {float(rate(d0)):12.4g} {estimate:9.1e} {t_v * 1e3:9.3f} {t_g * 1e3:9.3f} {t_g / t_v:6.2f}"
        if name in baseline:
            then = baseline[name]
            row["baseline"] = then
            line += f" {t_v / then['value_s']:13.2f}x {t_g / then['value_and_grad_s']:6.2f}x {then['rate_per_year']:11.4g}"
        results["models"][name] = row
        print(line)

    # Throughput: a batch of designs (group velocity x detuning) under vmap.
    n = args.designs
    velocities = jnp.asarray(np.geomspace(1.0, 1e-6, n))
    detunings = jnp.asarray(np.linspace(-1e-6, 1e-6, n))

    template = band_model(base, 1.0)

    def design_rate(v, det):
        model = eqx.tree_at(lambda m: m.medium.detuning, template, det)
        model = eqx.tree_at(lambda m: m.dispersion.velocity, model, v)
        return rates.averaged_rate(model)

    batched = jax.jit(jax.vmap(design_rate))
    t_batch = timed(batched, velocities, detunings, repeat=max(3, repeat // 5))
    with_error = jax.jit(jax.vmap(lambda v, d: (lambda r: (r.rate, r.error))(rates.rate_result(
        eqx.tree_at(lambda m: m.dispersion.velocity, eqx.tree_at(lambda m: m.medium.detuning, template, d), v)))))
    t_error = timed(with_error, velocities, detunings, repeat=max(3, repeat // 5))
    with_grad = jax.jit(jax.vmap(jax.value_and_grad(design_rate, argnums=(0, 1))))
    t_grad = timed(with_grad, velocities, detunings, repeat=max(3, repeat // 5))
    single = jax.jit(design_rate)
    single(velocities[0], detunings[0]).block_until_ready()
    n_loop = min(n, 200)
    t0 = time.perf_counter()
    looped = [float(single(velocities[i], detunings[i])) for i in range(n_loop)]
    t_loop = (time.perf_counter() - t0) / n_loop
    agree = np.max(np.abs(np.asarray(batched(velocities, detunings))[:n_loop] / np.array(looped) - 1))
    results["throughput"] = {
        "designs": n,
        "vmap_designs_per_s": n / t_batch,
        "vmap_with_error_designs_per_s": n / t_error,
        "vmap_value_and_grad_designs_per_s": n / t_grad,
        "value_and_grad_over_value": t_grad / t_batch,
        "python_loop_designs_per_s": 1.0 / t_loop,
        "vmap_over_loop": (n / t_batch) * t_loop,
        "max_relative_difference": float(agree),
    }
    print(
        f"\nthroughput ({n} designs, v_g from 1 to 1e-6 x detuning): "
        f"vmap {n / t_batch:,.0f} designs/s, python loop of jitted calls {1 / t_loop:,.0f} designs/s "
        f"(x{(n / t_batch) * t_loop:.1f}); max rel. difference {agree:.1e}"
        f"\n  with the error estimate {n / t_error:,.0f} designs/s; value + gradient (v_g, detuning) "
        f"{n / t_grad:,.0f} designs/s, x{t_grad / t_batch:.2f} the value"
    )
    out = ROOT / "benchmarks" / "output"
    out.mkdir(parents=True, exist_ok=True)
    (out / "rates.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
