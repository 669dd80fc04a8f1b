"""Benchmark: the rate over the photon's 3-momentum (anisotropic media, gratings).

    python -m benchmarks.three_d [--repeat N] [--no-scipy]

Measured in this one run, per case (an isotropic medium through the 3-D path,
a birefringent crystal, a Bragg stack near its band edge, a grating): the
time of one averaged rate (jitted, warm, median), of its value and gradient
(d rate / d parameter) and their ratio; the relative difference from the
`fine` quadrature and the estimated relative error; the nested SciPy
reference (tests/reference3d.py) for the stack and the grating and its time;
the peak resident memory of the process; and the isotropic fast path timed
in the same process (what the 3-D dispatch costs it). Results also go to
benchmarks/output/three_d.json.
"""

import argparse
import dataclasses
import json
import resource
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp

from cnbfluor import dispersion, rates
from cnbfluor.scenario import build_model, default_scenario
from benchmarks.rates import timed
from tests import reference3d as r3

OUT = Path(__file__).resolve().parent / "output" / "three_d.json"


def cases():
    base = build_model(default_scenario())
    index = dispersion.ConstantIndex(1.5, k_max=0.2)

    def with_(medium, grating=None):
        m = eqx.tree_at(lambda x: x.dispersion, base, medium)
        return eqx.tree_at(lambda x: x.grating, m, grating, is_leaf=lambda x: x is None)

    plain = with_(index)
    d = 0.5 * 1.5 * float(rates.level_spacing(plain))
    return {
        "isotropic index via 3-D": (with_(dispersion.Isotropic(index)), lambda m, x: eqx.tree_at(lambda y: y.medium.detuning, m, x), 0.0, None),
        "birefringent 2.25/2.6": (with_(dispersion.Birefringent(2.25, 2.6, omega_max=0.2)),
                                  lambda m, x: eqx.tree_at(lambda y: y.dispersion.eps_par, m, x), 2.6, None),
        "stack, 2e-5 eV below the edge": (with_(dispersion.Stack(n1=1.5, n2=2.0, d1=54.6, d2=40.95, n_bands=1)),
                                          lambda m, x: eqx.tree_at(lambda y: y.dispersion.d1, m, x), 54.6,
                                          [(0.5, r3.StackMode(1.5, 54.6, 2.0, 40.95, pol, 0)) for pol in ("TE", "TM")]),
        "index + grating D = k/2, h = 1": (with_(index, rates.Grating(d, 1.0)),
                                           lambda m, x: eqx.tree_at(lambda y: y.grating.wavenumber, m, x), d,
                                           ("grating", d)),
    }


def reference(model, spec):
    nu = model.neutrinos
    args = dict(m_i=float(nu.m_initial), m_j=float(nu.m_final), T=float(model.momentum.temperature),
                e_vg=float(rates.level_spacing(model)), width=float(model.medium.width), epsrel=1e-8)
    prefactor = float(rates.channel_strength(model.medium, nu.mixing_squared(), 1.0, 1.0))
    t0 = time.perf_counter()
    if isinstance(spec, tuple):
        value = r3.grating_rate(r3.Index(1.5), g=spec[1], h=1.0, **args)
    else:
        value = sum(w * r3.mode_rate(mode, **args) for w, mode in spec)
    return prefactor * value, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-scipy", action="store_true", help="skip the SciPy reference (minutes)")
    args = parser.parse_args(argv)
    # Every model closed over, a parameter traced: as `scan` and `optimize` call it
    # (the separable momentum rule applies where m_j = 0).
    def compiled(model, setter):
        return jax.jit(lambda x: rates.rate_result(setter(model, x)))

    detuning = lambda m, x: eqx.tree_at(lambda y: y.medium.detuning, m, x)  # noqa: E731
    out = {"devices": str(jax.devices()), "cases": {}}
    iso = build_model(default_scenario().replace({"dispersion.model": "index", "dispersion.n": 1.5}))
    out["isotropic_fast_path_ms"] = 1e3 * timed(compiled(iso, detuning), jnp.asarray(0.0), repeat=args.repeat)
    print(f"isotropic fast path (index 1.5): {out['isotropic_fast_path_ms']:.1f} ms per averaged rate")
    print(f"{'case':34s} {'rate ms':>8s} {'v+g ms':>8s} {'ratio':>6s} {'vs fine':>9s} {'est':>8s} {'vs SciPy':>9s} {'SciPy s':>8s}")
    for name, (model, setter, x0, spec) in cases().items():
        value_grad = jax.jit(jax.value_and_grad(lambda x, m=model, s=setter: rates.rate_result(s(m, x)).rate))
        rate = compiled(model, setter)
        x0 = jnp.asarray(x0)
        t_value = timed(rate, x0, repeat=args.repeat)
        t_grad = timed(value_grad, x0, repeat=args.repeat)
        got = rate(x0)
        fine = compiled(dataclasses.replace(model, quadrature=rates.QUADRATURES["fine"]), setter)(x0)
        row = {"rate_ms": 1e3 * t_value, "value_and_grad_ms": 1e3 * t_grad, "ratio": t_grad / t_value,
               "rel_diff_fine": float(got.rate / fine.rate - 1), "rel_error_estimate": float(got.relative_error)}
        if spec is not None and not args.no_scipy:
            want, t_ref = reference(model, spec)
            row.update(rel_diff_scipy=float(got.rate) / want - 1, scipy_s=t_ref)
        out["cases"][name] = row
        print(f"{name:34s} {row['rate_ms']:8.1f} {row['value_and_grad_ms']:8.1f} {row['ratio']:6.2f} "
              f"{row['rel_diff_fine']:+9.1e} {row['rel_error_estimate']:8.1e} "
              f"{row.get('rel_diff_scipy', float('nan')):+9.1e} {row.get('scipy_s', float('nan')):8.1f}")
    out["peak_rss_MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {out['peak_rss_MB']:.0f} MB")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
