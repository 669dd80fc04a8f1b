"""Accuracy audit of the averaged rate over seeded random designs, per dispersion model.

    python -m benchmarks.audit [--designs N] [--fd N] [--reference N] [--models a,b]
                               [--seed S] [--out benchmarks/output/audit.json]

Designs come from `tests/designs.py` (a third detuned at random, a third onto band
edges, a third into gaps). For each model:

(a) every design is evaluated with `jit(vmap(value_and_grad(f)))`, f = log event rate
    (per year) as a function of the design's free keys (TOML units) through
    `cnbfluor.scenario.with_parameters`, on one built template per design structure
    (`designs.template_key`: all the design's continuous keys are set, so the model is
    the design's own); NaN/inf values and gradients and `RateResult.flags` are counted.
(b) on the first `--fd` designs: each gradient component against a 5-point central
    finite difference with step h = 1e-4 / |g| (ln R changes by ~1e-4), at most 1% of
    |x| (detuning: at most 3e-10 eV, 1% of a resonance half width); worst relative
    difference |g - fd| / max(|g|, |fd|); components the difference cannot resolve
    (rounding of ln R over h above 1e-6 |g|) and designs with a rate ~0 (< 1e-30 /yr)
    reported apart; and, separately, the worst over components whose mismatch moves
    ln R over h by more than three times the rate's reported relative error (below that
    the values' own quadrature error decides the difference, not the gradient).
(c) on the first `--reference` designs, built with `build_model` (and checked against
    the template evaluation): `rate_result(...).rate` with the default and the fast
    quadrature against `independent_rate` (tests/independent.py, epsrel 1e-9); worst
    relative error and worst ratio true error / reported `error` (the true error is
    floored at 1e-8 relative, the reference's own accuracy).

Prints a table per model, the three worst designs per model, and writes JSON after
every model (an interrupted run keeps the models it finished).
"""

import argparse
import dataclasses
import json
import math
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from cnbfluor import rates
from cnbfluor.scenario import ScenarioError, build_model, default_scenario, with_parameters

from tests import designs as D
from tests.independent import independent_rate

CHUNK = 32
RATE_ZERO = 1e-30  # events per year
REF_FLOOR = 1e-8  # the reference's own relative accuracy, for the error-estimate ratio


def _log_rate(x_free, x_other, template, free, other):
    model = with_parameters(template, {**dict(zip(free, x_free)), **dict(zip(other, x_other))})
    result = rates.rate_result(model)
    per_year = rates.events_per_year(model, result.rate)
    return jnp.log(per_year), (result.flags, result.rate, result.error)


class Group:
    """Designs sharing a template: one build, jitted value+grad (batched) and value (single)."""

    def __init__(self, name, indices, all_designs):
        self.indices = indices
        first = all_designs[indices[0]]
        self.scenario = default_scenario().replace(first)
        self.template = build_model(self.scenario, rates.QUADRATURES["default"])
        self.free = D.free_keys(name, first)
        self.other = [k for k in sorted(D.continuous(first)) if k not in self.free]
        self.x_free = np.array([D.free_values(all_designs[i], self.free, self.scenario) for i in indices])
        self.x_other = np.array([[D.continuous(all_designs[i])[k] for k in self.other] for i in indices]).reshape(len(indices), -1)
        # The template closed over, as `cnbfluor scan` and `optimize` use it (so the
        # separable momentum rule is the one audited where m_j = 0).
        template = self.template
        f = lambda xf, xo: _log_rate(xf, xo, template, self.free, self.other)  # noqa: E731
        self.batched = jax.jit(jax.vmap(jax.value_and_grad(f, has_aux=True)))
        self.single = jax.jit(lambda xf, xo: f(xf, xo)[0])

    def evaluate(self):
        n = len(self.indices)
        out = {"value": [], "grad": [], "flags": [], "rate": [], "error": []}
        for start in range(0, n, CHUNK):
            xf, xo = self.x_free[start:start + CHUNK], self.x_other[start:start + CHUNK]
            pad = CHUNK - len(xf)
            if pad:
                xf = np.concatenate([xf, np.repeat(xf[:1], pad, 0)])
                xo = np.concatenate([xo, np.repeat(xo[:1], pad, 0)])
            (val, (flags, rate, err)), grad = self.batched(jnp.asarray(xf), jnp.asarray(xo))
            keep = slice(0, CHUNK - pad)
            for key, arr in (("value", val), ("grad", grad), ("flags", flags), ("rate", rate), ("error", err)):
                out[key].append(np.asarray(arr)[keep])
        return {k: np.concatenate(v) for k, v in out.items()}


def fd_step(key, x, g):
    """Step so that ln R changes by ~1e-4 (|g| h), at most 1% of |x| (detuning: 3e-10 eV)."""
    h = 1e-4 / abs(g) if g != 0 and math.isfinite(g) else 1e-6 * (abs(x) or 1e-6)
    cap = 3e-10 if key == "medium.detuning_eV" else 1e-2 * abs(x)
    return min(h, cap) if cap > 0 else h


def _finite_differences(group, row, value, grad, rel_error=0.0):
    """Per component: 5-point central difference; (key, x, h, g, fd, rel, negligible, within_error_bar).

    `within_error_bar`: the mismatch moves ln R over the step by no more than three times
    the rate's own reported relative error (`rel_error`). The difference of values each
    known to +-eps cannot fix the slope better than ~1.5 (2 eps) / h, so such a mismatch
    says nothing about the gradient (the quadrature's panels move with the parameters).
    """
    xf, xo = group.x_free[row].copy(), group.x_other[row]
    comps = []

    def at(c, step):
        y = xf.copy()
        y[c] += step
        return float(group.single(y, xo))

    for c, key in enumerate(group.free):
        x, g = float(xf[c]), float(grad[c])
        h = fd_step(key, x, g)
        fd = (8 * (at(c, h) - at(c, -h)) - (at(c, 2 * h) - at(c, -2 * h))) / (12 * h)
        denom = max(abs(g), abs(fd))
        rel = 0.0 if denom == 0 else abs(g - fd) / denom
        if not (math.isfinite(g) and math.isfinite(fd)):
            rel = math.inf
        # Rounding in ln R (~1e-15 |ln R|) over the step: the difference cannot resolve g.
        noise = 1e-15 * max(1.0, abs(value)) / h
        comps.append({"key": key, "x": x, "h": h, "grad": g, "fd": fd, "rel": rel,
                      "negligible": bool(math.isfinite(rel) and noise > 1e-6 * denom),
                      "within_error_bar": bool(math.isfinite(rel) and abs(g - fd) * h <= 3.0 * rel_error)})
    return comps


def _jit_rate_result():
    return jax.jit(rates.rate_result)


RATE_RESULT = _jit_rate_result()


def audit_model(name, n, n_fd, n_ref, seed):
    t0 = time.perf_counter()
    ds = D.designs(name, n, seed)
    sampled = time.perf_counter() - t0
    groups = {}
    for i, d in enumerate(ds):
        groups.setdefault(D.template_key(name, d), []).append(i)
    per = [None] * n  # per-design record
    build_errors = []
    for key, idx in groups.items():
        try:
            g = Group(name, idx, ds)
        except ScenarioError as err:
            build_errors.append({"design": ds[idx[0]], "error": str(err)})
            continue
        res = g.evaluate()
        for r, i in enumerate(idx):
            per[i] = {"group": g, "row": r, "value": float(res["value"][r]), "grad": res["grad"][r],
                      "flags": int(res["flags"][r]), "rate": float(res["rate"][r]), "error": float(res["error"][r])}
    evaluated = [i for i in range(n) if per[i] is not None]
    bad_value = [i for i in evaluated if not math.isfinite(per[i]["value"])]
    bad_grad = [i for i in evaluated if not np.all(np.isfinite(per[i]["grad"]))]
    flagged = {bit: [i for i in evaluated if per[i]["flags"] & bit] for bit in rates.FLAGS}
    t_eval = time.perf_counter() - t0 - sampled

    # (b) finite differences
    fd_rows, fd_worst, fd_worst_zero, fd_worst_negl = [], 0.0, 0.0, 0.0
    for i in tqdm(evaluated[:n_fd], desc=f"{name} fd", leave=False):
        p = per[i]
        rel_error = abs(p["error"] / p["rate"]) if p["rate"] != 0 and math.isfinite(p["error"]) else 0.0
        comps = _finite_differences(p["group"], p["row"], p["value"], p["grad"], rel_error)
        zero = not (math.exp(p["value"]) > RATE_ZERO) if math.isfinite(p["value"]) else True
        for c in comps:
            if zero:
                fd_worst_zero = max(fd_worst_zero, c["rel"])
            elif c["negligible"]:
                fd_worst_negl = max(fd_worst_negl, c["rel"])
            else:
                fd_worst = max(fd_worst, c["rel"])
        worst = max((c["rel"] for c in comps if not c["negligible"] and not zero), default=0.0)
        resolved = max((c["rel"] for c in comps if not c["negligible"] and not zero and not c["within_error_bar"]),
                       default=0.0)
        fd_rows.append({"index": i, "rate_zero": zero, "worst_rel": worst, "worst_rel_beyond_error_bar": resolved,
                        "components": comps})
    t_fd = time.perf_counter() - t0 - sampled - t_eval

    # (c) reference, on designs built one by one
    ref_rows = []
    for i in tqdm(range(min(n_ref, n)), desc=f"{name} reference", leave=False):
        row = {"index": i}
        try:
            model = build_model(default_scenario().replace(ds[i]), rates.QUADRATURES["default"])
        except ScenarioError as err:
            row["build_error"] = str(err)
            ref_rows.append(row)
            continue
        try:
            ref = independent_rate(model, epsrel=1e-9)
        except Exception as err:  # the reference failing is worth reporting, not fatal
            row["reference_error"] = f"{type(err).__name__}: {err}"
            ref_rows.append(row)
            continue
        row["reference"] = ref
        for qname in ("default", "fast"):
            m = model if qname == "default" else dataclasses.replace(model, quadrature=rates.QUADRATURES[qname])
            r = RATE_RESULT(m)
            rate, err = float(r.rate), float(r.error)
            true = abs(rate - ref)
            rel = true / abs(ref) if ref != 0 else (0.0 if rate == 0 else math.inf)
            ratio = max(true - REF_FLOOR * abs(ref), 0.0) / err if err > 0 else (0.0 if true <= REF_FLOOR * abs(ref) else math.inf)
            row[qname] = {"rate": rate, "error": err, "rel": rel, "ratio": ratio, "flags": int(r.flags)}
        if per[i] is not None:  # the template evaluation against the design built on its own
            built = float(rates.events_per_year(model, row["default"]["rate"]))
            row["template_mismatch"] = abs(math.exp(per[i]["value"]) - built) / built if built > 0 else 0.0
            # The template closed over (as scan and optimize use it: the separable
            # momentum rule where m_j = 0); the rows above pass the model as a jit
            # argument (the general rule).
            rate, err = per[i]["rate"], per[i]["error"]
            true = abs(rate - ref)
            row["template"] = {"rate": rate, "error": err, "rel": true / abs(ref) if ref != 0 else 0.0,
                               "ratio": max(true - REF_FLOOR * abs(ref), 0.0) / err if err > 0 else 0.0}
        ref_rows.append(row)
    t_ref = time.perf_counter() - t0 - sampled - t_eval - t_fd

    def worst(rows, q, field):
        vals = [r[q][field] for r in rows if q in r]
        return max(vals) if vals else None

    summary = {
        "designs": n, "templates": len(groups), "evaluated": len(evaluated),
        "template_build_errors": build_errors,
        "nan_values": len(bad_value), "nan_grads": len(bad_grad),
        "flags": {str(bit): len(v) for bit, v in flagged.items()},
        "fd_designs": len(fd_rows), "fd_worst_rel": fd_worst, "fd_worst_rel_negligible": fd_worst_negl,
        "fd_worst_rel_rate_zero": fd_worst_zero,
        "fd_over_1e-4": sum(r["worst_rel"] > 1e-4 for r in fd_rows),
        "fd_over_1e-4_beyond_error_bar": sum(r["worst_rel_beyond_error_bar"] > 1e-4 for r in fd_rows),
        "fd_worst_rel_beyond_error_bar": max((r["worst_rel_beyond_error_bar"] for r in fd_rows), default=0.0),
        "reference_designs": len(ref_rows),
        "reference_build_errors": sum("build_error" in r for r in ref_rows),
        "reference_failures": sum("reference_error" in r for r in ref_rows),
        "ref_worst_rel_default": worst(ref_rows, "default", "rel"),
        "ref_worst_rel_fast": worst(ref_rows, "fast", "rel"),
        "ref_worst_ratio_default": worst(ref_rows, "default", "ratio"),
        "ref_worst_ratio_fast": worst(ref_rows, "fast", "ratio"),
        "ref_over_1e-5_default": sum(r["default"]["rel"] > 1e-5 for r in ref_rows if "default" in r),
        "ref_over_1e-4_fast": sum(r["fast"]["rel"] > 1e-4 for r in ref_rows if "fast" in r),
        "ratio_over_3": sum(max(r[q]["ratio"] for q in ("default", "fast")) > 3 for r in ref_rows if "default" in r),
        "ref_worst_rel_template": worst(ref_rows, "template", "rel"),
        "ref_worst_ratio_template": worst(ref_rows, "template", "ratio"),
        "template_mismatch_worst": max((r.get("template_mismatch", 0.0) for r in ref_rows), default=0.0),
        "seconds": {"sample": sampled, "evaluate": t_eval, "fd": t_fd, "reference": t_ref},
    }

    # Badness per design, for the three worst: NaN > flags > reference > FD.
    def badness(i):
        score = 0.0
        p = per[i]
        if p is None:
            return 1e12
        if i in bad_value or i in bad_grad:
            score += 1e9
        if p["flags"]:
            score += 1e6
        for r in ref_rows:
            if r["index"] == i:
                if "reference_error" in r or "build_error" in r:
                    score += 1e3
                if "default" in r:
                    score += max(r["default"]["rel"] / 1e-5, r["fast"]["rel"] / 1e-4,
                                 r["default"]["ratio"] / 3, r["fast"]["ratio"] / 3)
        for r in fd_rows:
            if r["index"] == i:
                score += r["worst_rel"] / 1e-4
        return score

    def describe(i):
        p = per[i]
        out = {"index": i, "category": D.design_category(i), "design": ds[i], "badness": badness(i)}
        if p is not None:
            out.update({"log_rate_per_year": p["value"], "flags": p["flags"],
                        "grad": dict(zip(p["group"].free, map(float, p["grad"])))})
        for r in ref_rows:
            if r["index"] == i:
                out["reference"] = {k: v for k, v in r.items() if k != "index"}
        for r in fd_rows:
            if r["index"] == i:
                out["fd"] = r
        return out

    order = sorted(range(n), key=badness, reverse=True)
    summary["worst"] = [describe(i) for i in order[:3] if badness(i) > 0]
    summary["nan_designs"] = [describe(i) for i in sorted(set(bad_value) | set(bad_grad))[:10]]
    summary["flagged_designs"] = [describe(i) for i in [j for j in evaluated if per[j]["flags"]][:10]]
    summary["reference_rows"] = [{k: v for k, v in r.items()} for r in ref_rows]
    summary["fd_rows"] = fd_rows
    return summary


def _fmt(x, spec=".1e"):
    return "-" if x is None else format(x, spec)


def print_table(name, s):
    print(f"\n== {name}: {s['designs']} designs, {s['templates']} templates, "
          f"{sum(s['seconds'].values()):.0f} s")
    print(f"  NaN/inf values {s['nan_values']}, gradients {s['nan_grads']}; flags "
          + ", ".join(f"bit {b}: {c}" for b, c in s["flags"].items())
          + (f"; template build errors {len(s['template_build_errors'])}" if s["template_build_errors"] else ""))
    print(f"  FD ({s['fd_designs']} designs): worst rel {_fmt(s['fd_worst_rel'])} (over 1e-4: {s['fd_over_1e-4']}), "
          f"negligible components {_fmt(s['fd_worst_rel_negligible'])}, rate ~0 {_fmt(s['fd_worst_rel_rate_zero'])}; "
          f"beyond the rate's error bar: worst {_fmt(s['fd_worst_rel_beyond_error_bar'])} "
          f"(over 1e-4: {s['fd_over_1e-4_beyond_error_bar']})")
    print(f"  reference ({s['reference_designs']} designs, build errors {s['reference_build_errors']}, "
          f"reference failures {s['reference_failures']}): worst rel default {_fmt(s['ref_worst_rel_default'])} "
          f"(over 1e-5: {s['ref_over_1e-5_default']}), fast {_fmt(s['ref_worst_rel_fast'])} "
          f"(over 1e-4: {s['ref_over_1e-4_fast']})")
    print(f"  true/reported error: worst default {_fmt(s['ref_worst_ratio_default'], '.2g')}, fast "
          f"{_fmt(s['ref_worst_ratio_fast'], '.2g')} (designs over 3x: {s['ratio_over_3']}); "
          f"template vs build {_fmt(s['template_mismatch_worst'])}")
    print(f"  closed-over template (default rule; separable momentum rule where m_j = 0): worst rel "
          f"{_fmt(s['ref_worst_rel_template'])}, true/reported {_fmt(s['ref_worst_ratio_template'], '.2g')}")
    for w in s["worst"]:
        print(f"  worst #{w['index']} ({w['category']}, badness {w['badness']:.3g}): {w['design']}")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if math.isfinite(x) else repr(x)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=300)
    parser.add_argument("--fd", type=int, default=20)
    parser.add_argument("--reference", type=int, default=30)
    parser.add_argument("--models", default=",".join(D.MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "output" / "audit.json"))
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in D.MODELS:
            parser.error(f"unknown model {m!r}; allowed: {', '.join(D.MODELS)}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"args": vars(args), "jax": jax.__version__, "device": str(jax.devices()[0]), "models": {}}
    for name in tqdm(models, desc="models"):
        try:
            summary = audit_model(name, args.designs, args.fd, args.reference, args.seed)
        except Exception as err:  # keep going: one model's crash is a finding
            traceback.print_exc()
            summary = {"crashed": f"{type(err).__name__}: {err}"}
            print(f"\n== {name}: CRASHED {summary['crashed']}")
        else:
            print_table(name, summary)
        sys.stdout.flush()
        report["models"][name] = summary
        out.write_text(json.dumps(_jsonable(report), indent=1))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
