"""Rate reports: the JSON object and the human table of `cnbfluor rate`.

The JSON keys `rate_per_year`, `rest_rate_per_year` and `roots` (each with
`k_eV`, `omega_eV`, `dk`, `group_velocity`) are a public contract.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import rates


@jax.jit
def _report_arrays(model: rates.RateModel):
    """Every number of the report in one compiled call (one cache entry, no op-by-op dispatch)."""
    roots = rates.rest_roots(model)
    branches = model.dispersion.branches()
    # Each root's Im k on its own branch (every branch evaluated, one picked).
    attenuation = jnp.stack([
        jnp.stack([br.attenuation(w) for br in branches])[jnp.clip(b, 0, len(branches) - 1)]
        for b, w in zip(roots.branch, roots.omega)
    ])
    nu = model.neutrinos
    return (rates.rate_result(model), rates.rest_rate(model), roots, rates.level_spacing(model), attenuation,
            nu.masses(), nu.mixing_squared())


def rate_report(model: rates.RateModel, scenario=None, source: str = "") -> dict:
    """Everything `cnbfluor rate` reports, as plain JSON-ready Python values.

    **Arguments:** `model`: the `RateModel`; `scenario`: the validated
    `Scenario` it came from (optional, echoed back); `source`: file name.

    **Returns:** a dict with `rate_per_year` (momentum-averaged),
    `rest_rate_per_year` (p = 0), `roots` (at p = 0), and context.
    """
    result, rest, roots, level, attenuation, masses, mixing = _report_arrays(model)
    averaged, detected = float(result.rate), float(result.detected)
    rest = float(rest)
    nu = model.neutrinos
    level = float(level)
    root_list = []
    for idx in np.flatnonzero(np.asarray(roots.valid)):
        dk_exact = float(roots.dk[idx])
        root_list.append(
            {
                "k_eV": float(roots.k[idx]),
                "omega_eV": float(roots.omega[idx]),
                "dk": dk_exact if model.dk == "exact" else 1.0,
                "dk_exact": dk_exact,
                "group_velocity": float(roots.group_velocity[idx]),
                "kappa": float(roots.kappa[idx]),
                "detuning_eV": level - float(roots.omega[idx]),
                "branch": int(roots.branch[idx]),
                "attenuation_eV": float(attenuation[idx]),
            }
        )
    report = {
        "source": source or "built-in default",
        "rate_per_year": float(rates.events_per_year(model, averaged)),
        "rest_rate_per_year": float(rates.events_per_year(model, rest)),
        "averaged_rate_eV": averaged,
        # The quadrature's own error estimate (Gauss-Kronrod) and the in-jit flags.
        "rate_rel_error": float(result.relative_error),
        "rate_error_per_year": float(rates.events_per_year(model, result.error)),
        "flags": int(result.flags),
        "warnings": rates.flag_messages(result.flags),
        "rest_rate_eV": rest,
        "roots": root_list,
        "level_spacing_eV": level,
        "width_eV": float(model.medium.width),
        "masses_eV": [float(m) for m in masses],
        "transition": f"nu{nu.initial} -> nu{nu.final}",
        "mixing_squared": float(mixing),
        "nature": "majorana" if nu.majorana else "dirac",
        "channel": model.medium.channel,
        "dispersion": model.dispersion.describe(),
        "distribution": model.momentum.describe(),
        "dk_convention": model.dk,
        # The rest rate is the isotropic formula (Sec. 6 at p = 0); with an
        # anisotropic medium or a grating it describes photons along the axis only.
        "three_d": bool(rates.needs_three_d(model)),
    }
    if model.grating is not None:
        g = model.grating
        report["grating"] = {"wavenumber_eV": float(g.wavenumber), "depth": float(g.depth),
                             "angle_deg": 0.0 if g.angle is None else math.degrees(float(g.angle))}
    if model.detector.declared:
        report["detected_rate_per_year"] = float(rates.events_per_year(model, detected))
        # Mean escape probability of the emitted photons: detection with a
        # perfect detector that sees every energy, over the rate.
        open_detector = rates.Detector(declared=True)
        escaped = float(jax.jit(rates.averaged_rates)(eqx.tree_at(lambda m: m.detector, model, open_detector))[1])
        report["escape_probability"] = escaped / averaged if averaged > 0 else 0.0
        for r in root_list:
            p_esc = float(rates.escape_probability(r["attenuation_eV"], model.length))
            r["escape_probability"] = p_esc
    if scenario is not None:
        report["scenario"] = scenario.to_dict()
    return report


def format_rate_report(report: dict) -> str:
    """A readable table of a `rate_report`."""
    m = report["masses_eV"]
    lines = [
        f"cnbfluor rate: {report['source']}",
        "",
        f"  transition       {report['transition']} ({report['nature']}),  "
        f"masses = {m[0]:.6g}, {m[1]:.6g}, {m[2]:.6g} eV,  C^2 = {report['mixing_squared']:.5g}",
        f"  channel          {report['channel']},  Gamma_v = {report['width_eV']:.4g} eV",
        f"  level spacing    E_vg = {report['level_spacing_eV']:.10g} eV",
        f"  dispersion       {report['dispersion']}",
        f"  momentum         {report['distribution']}",
        f"  D_k convention   {report['dk_convention']}",
        "",
        "  photon roots at p = 0:",
        "      k [eV]            omega [eV]        D_k        v_g [c]     kappa     E_vg - omega [eV]",
    ]
    for r in report["roots"]:
        lines.append(
            f"      {r['k_eV']:<17.10g} {r['omega_eV']:<17.10g} {r['dk']:<10.4g} "
            f"{r['group_velocity']:<11.4g} {r['kappa']:<9.4g} {r['detuning_eV']:.3g}"
        )
    lines += [
        "",
        f"  event rate, momentum-averaged   {report['rate_per_year']:.6g} /yr"
        f"   (quadrature error <= {report['rate_rel_error']:.1e} relative, estimated)",
        f"  event rate, neutrino at rest    {report['rest_rate_per_year']:.6g} /yr"
        + ("   (isotropic formula along the axis; the average above is over every direction)"
           if report.get("three_d") else ""),
    ]
    if "grating" in report:
        g = report["grating"]
        where = "along the axis" if g["angle_deg"] == 0.0 else f"at {g['angle_deg']:.4g} deg to the axis"
        lines.insert(8, f"  grating          D = {g['wavenumber_eV']:.6g} eV {where}, depth h = {g['depth']:.3g}")
    if "detected_rate_per_year" in report:
        lines.append(
            f"  detected (escape x efficiency x window)   {report['detected_rate_per_year']:.6g} /yr"
            f"   (mean escape probability {report['escape_probability']:.4g})"
        )
    return "\n".join(lines)
