"""Photonic crystals as they are: how much of the isotropic slow-light gain survives in a real stack?

    python studies/photonic_crystal.py [--quick]

M1, NO, nu3 -> nu1, Fermi-Dirac relic momenta, tau_v = 10 ns, l = 3 m. A
two-layer stack (n1 = 1.5, n2 = 2.0; d1 = 10.787 um, d2 = 8.090 um) whose
axial p = 0 photon sits just below the first band edge (v_g ~ 0.02 along the
axis). The rate against the level spacing E_vg across the first band and
into the gap, for

- the isotropic approximation (`bragg-isotropic`: the axial band structure
  for every direction, what the isotropic picture promises);
- the stack at every angle (`bragg`), TE, TM and their sum (PHYSICS.md Sec. 9);
- the birefringent crystal the stack is at long wavelengths (form
  birefringence: eps_perp = (eps1 d1 + eps2 d2)/L, eps_par = L/(d1/eps1 + d2/eps2));
- vacuum at its own resonance, the baseline.

Then the best stack the optimiser finds (d1, d2 and the detuning free within
the bounds of studies/scenarios/optimize_stack.toml), and grating phase
matching for nu3 -> nu2 (massive nu2) in an index-1.5 medium: a dipole
grating of wavenumber D = n (m3 - m2) takes up the photon's momentum, the
outgoing nu2 keeps p'_2 ~ p, and the photon energy spreads as p^2 only.

Writes studies/output/photonic_crystal.{md,csv,png}, photonic_crystal_grating.csv
and photonic_crystal_fig2.png.
"""

import dataclasses
from pathlib import Path

import jax
import numpy as np

from cnbfluor import rates
from _output import markdown_table, study_arguments, write_study
from cnbfluor.figures import fig2
from cnbfluor.optimization import load_problem, optimize
from cnbfluor.scenario import build_model, default_scenario

N1, N2, D1_UM, D2_UM = 1.5, 2.0, 10.787, 8.090
STACK = {"dispersion.model": "bragg", "dispersion.n1": N1, "dispersion.n2": N2,
         "dispersion.d1_um": D1_UM, "dispersion.d2_um": D2_UM, "dispersion.bands": 1}
SCENARIO = Path(__file__).resolve().parent / "scenarios" / "optimize_stack.toml"


def form_birefringence():
    """(eps_perp, eps_par) of the stack at long wavelengths."""
    e1, e2, total = N1**2, N2**2, D1_UM + D2_UM
    return (e1 * D1_UM + e2 * D2_UM) / total, total / (D1_UM / e1 + D2_UM / e2)


def scenario(**updates):
    return default_scenario().replace(updates)


@jax.jit
def _per_mode(model):
    return [r.rate for _, r in rates.mode_rate_results(model)], rates.rate_result(model)


def rate_rows(name, base, energies):
    """One row per E_vg: the event rate per year (and per mode for 3-D media)."""
    rows = []
    for energy in energies:
        model = build_model(base.replace({"medium.level_spacing_eV": float(energy)}))
        row = {"medium": name, "level_spacing_eV": float(energy)}
        if rates.needs_three_d(model):
            parts, result = _per_mode(model)
            for label, part in zip(_labels(model), parts):
                row[label] = float(rates.events_per_year(model, part))
        else:
            result = jax.jit(rates.rate_result)(model)
        row["rate_per_year"] = float(rates.events_per_year(model, result.rate))
        row["rel_error"] = float(result.relative_error)
        rows.append(row)
    return rows


def _labels(model):
    return [mode.describe() for mode in rates.as_uniaxial(model.dispersion).modes()]


def grating_rows(quick):
    """nu3 -> nu2 in n = 1.5: no grating (its own resonance) vs a grating D = n (m3 - m2), h = 1.

    With q = k - D ~ 0 the photon takes omega = E3(p) - E2(p) ~ (m3 - m2) - p^2 (1/m2 - 1/m3)/2:
    E_vg is scanned below m3 - m2 by up to a few <p^2> (1/m2 - 1/m3)/2.
    """
    base = scenario(**{"neutrino.final": 2, "dispersion.model": "index", "dispersion.n": 1.5})
    plain = build_model(base)
    nu = plain.neutrinos
    target = float(nu.m_initial - nu.m_final)  # the photon energy at q = 0, p = 0
    d_match = 1.5 * target
    period = 2 * np.pi / rates.constants.length_from_um(1.0) / d_match  # um
    rows = [{"design": "no grating, E_vg on its p = 0 root", "period_um": "",
             "level_spacing_eV": float(rates.level_spacing(plain)), "rate_per_year": float(rates.event_rate(plain))}]
    rate = jax.jit(rates.event_rate)
    shifts = (0.0, -1.5e-5) if quick else (0.0, -2e-6, -5e-6, -1e-5, -1.5e-5, -2e-5, -3e-5, -5e-5)
    for factor in ((1.0,) if quick else (0.99, 1.0, 1.01)):
        for shift in shifts:
            p_um = period / factor
            model = build_model(base.replace({"medium.level_spacing_eV": target + shift, "grating.period_um": p_um,
                                              "grating.depth": 1.0}))
            rows.append({"design": f"grating D = {factor:g} n (m3 - m2), h = 1", "period_um": p_um,
                         "level_spacing_eV": target + shift, "rate_per_year": float(rate(model))})
    none_at_target = build_model(base.replace({"medium.level_spacing_eV": target - 1.5e-5}))
    rows.append({"design": "no grating, same E_vg", "period_um": "", "level_spacing_eV": target - 1.5e-5,
                 "rate_per_year": float(rate(none_at_target))})
    return rows


def main(argv=None):
    args = study_arguments(__doc__).parse_args(argv)
    stack = scenario(**STACK)
    model = build_model(stack)
    omega_0 = float(rates.level_spacing(model))
    edge = float(model.dispersion.axis_model().band_edges()[0][1])
    gap_top = float(model.dispersion.axis_model().gaps()[0][1])
    # E_vg from well inside the band, through the axial root and edge, into the gap.
    n = 7 if args.quick else 41
    below = omega_0 - np.geomspace(3e-3, 1e-6, n // 2)
    above = np.linspace(omega_0, min(gap_top, edge + 2e-3), n - n // 2 + 1)[1:]
    energies = np.concatenate([below, [omega_0], above])
    eps_perp, eps_par = form_birefringence()
    media = {
        "isotropic approximation": scenario(**{**STACK, "dispersion.model": "bragg-isotropic"}),
        "stack (TE + TM)": stack,
        "birefringent (form)": scenario(**{"dispersion.model": "birefringent", "dispersion.eps_perp": eps_perp,
                                           "dispersion.eps_par": eps_par}),
    }
    rows = []
    for name, base in media.items():
        rows += rate_rows(name, base, energies)
    vacuum = build_model(default_scenario())
    vacuum_rate = float(rates.event_rate(vacuum))

    def best(name):
        mine = [r for r in rows if r["medium"] == name]
        return max(mine, key=lambda r: r["rate_per_year"])

    def at_root(name):
        return next(r for r in rows if r["medium"] == name and r["level_spacing_eV"] == omega_0)

    summary = []
    for name in media:
        b, a = best(name), at_root(name)
        summary.append([name, f"{a['rate_per_year']:.4g}", f"{b['rate_per_year']:.4g}",
                        f"{b['level_spacing_eV'] - omega_0:+.3g}", f"{b['rate_per_year'] / vacuum_rate:.3g}"])
    iso, real = at_root("isotropic approximation"), at_root("stack (TE + TM)")
    survives = real["rate_per_year"] / iso["rate_per_year"]

    # The optimiser on the real stack.
    problem, settings = load_problem(SCENARIO)
    if args.quick:
        settings = dataclasses.replace(settings, steps=3, starts=1, polish=False)
    result = optimize(problem, settings, out_dir=args.out / "photonic_crystal_optimum", progress=not args.quick)
    opt_model = build_model(problem.scenario.replace(result["params"]))
    opt_rate = float(jax.jit(rates.event_rate)(opt_model))
    grating = grating_rows(args.quick)

    _figure(rows, media, omega_0, edge, vacuum_rate, args.out / "photonic_crystal.png")
    _, fig = fig2(model, args.out / "photonic_crystal_fig2.png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = "\n".join([
        "# Photonic crystals as they are",
        "",
        f"Stack n1 = {N1}, n2 = {N2}, d1 = {D1_UM} um, d2 = {D2_UM} um: axial p = 0 photon at "
        f"E_0 = {omega_0:.8g} eV, first band edge {edge:.8g} eV ({edge - omega_0:.3g} eV above), gap to {gap_top:.6g} eV. "
        f"Vacuum at its own resonance: {vacuum_rate:.4g} /yr.",
        "",
        markdown_table(["medium", "rate at E_vg = E_0 [/yr]", "best over E_vg [/yr]", "best E_vg - E_0 [eV]",
                        "best / vacuum"], summary),
        "",
        f"At the axial root the real stack keeps **{survives:.3g}** of the isotropic approximation's rate "
        f"({real['rate_per_year']:.4g} against {iso['rate_per_year']:.4g} /yr): band-edge slow light exists "
        "only for photons near the axis (see photonic_crystal_fig2.png, right panel), and the relic shell "
        "meets the iso-frequency contours of the other directions at other photon energies.",
        "",
        f"Optimiser (`{SCENARIO.name}`, {settings.starts} starts, {result['steps_taken']} steps): "
        + ", ".join(f"{k} = {v:.6g}" for k, v in result["params"].items())
        + f" -> {opt_rate:.4g} /yr"
        + (f"; on bounds: {', '.join(f'{k} ({s})' for k, s in result['active_bounds'].items())}" if result["active_bounds"] else "")
        + ".",
        "",
        "## Grating phase matching, nu3 -> nu2, n = 1.5",
        "",
        markdown_table(["design", "period [um]", "E_vg [eV]", "rate [/yr]"],
                       [[g["design"], f"{g['period_um']:.6g}" if g["period_um"] != "" else "-",
                         f"{g['level_spacing_eV']:.8g}", f"{g['rate_per_year']:.4g}"] for g in grating]),
        "",
    ])
    write_study(args.out, "photonic_crystal", text, {"photonic_crystal": _uniform(rows),
                                                       "photonic_crystal_grating": grating})
    return rows, grating, {"survives": survives, "optimum_per_year": opt_rate, "vacuum_per_year": vacuum_rate}


def _uniform(rows):
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    return [{k: r.get(k, "") for k in keys} for r in rows]


def _figure(rows, media, omega_0, edge, vacuum_rate, path):
    from cnbfluor.figures.plots import figure_style

    import matplotlib.pyplot as plt

    with figure_style(None):
        fig, ax = plt.subplots(figsize=(7.5, 5.0))
        for name in media:
            mine = sorted((r for r in rows if r["medium"] == name), key=lambda r: r["level_spacing_eV"])
            x = np.array([r["level_spacing_eV"] for r in mine]) - omega_0
            ax.plot(x, [max(r["rate_per_year"], 1e-30) for r in mine], marker=".", label=name)
            if name.startswith("stack"):
                for pol, ls in (("TE band 0", "--"), ("TM band 0", ":")):
                    ax.plot(x, [max(r.get(pol, 0.0), 1e-30) for r in mine], ls=ls, lw=1.0, label=f"stack, {pol}")
        ax.axhline(vacuum_rate, color="0.4", lw=1.0, ls="-.", label="vacuum at its resonance")
        ax.axvline(edge - omega_0, color="k", lw=0.8, ls="--", label="axial band edge")
        ax.set_xscale("symlog", linthresh=1e-6)
        ax.set_yscale("log")
        ax.set_xlabel(r"$E_{vg} - E_0$ [eV]  ($E_0$: the axial $p = 0$ photon)")
        ax.set_ylabel("event rate [/yr]")
        ax.set_title("Bragg stack: isotropic picture vs every angle", fontsize="small")
        ax.legend(fontsize="x-small")
        fig.savefig(path)
        plt.close(fig)


if __name__ == "__main__":
    main()
