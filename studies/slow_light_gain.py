"""Slow-light gain: the momentum-averaged rate against the photon's group velocity at resonance.

    python studies/slow_light_gain.py [--quick]

M1, NO, nu3 -> nu1, Fermi-Dirac relic momenta, E_vg on the p = 0 root, l = 3 m.
A neutrino of momentum p shifts the photon energy by ~v_g p, so the
resonance (width Gamma_v) is smeared while v_g <p> > Gamma_v and recovered
below: the rate climbs as 1/v_g and saturates at the rest-frame peak once
v_g <p> < Gamma_v. Two media:

- a linear band through the vacuum intersection point, v_g = 1 ... 1e-7;
- a single-pole Lorentz medium (omega_T = 0.0245 eV, eps_inf = 1) whose
  oscillator strength delta_eps = 1e-10 ... 0.1 sets how flat the lower
  polariton is where it meets the energy transfer (v_g ~ 1e-8 ... 0.3).

Writes studies/output/slow_light_gain.{md,csv,png}.
"""

import jax
import numpy as np

from cnbfluor import rates
from _output import finish_rate_figure, markdown_table, study_arguments, write_study
from cnbfluor.rates import rest_roots
from cnbfluor.scenario import build_model, default_scenario, with_parameters

OMEGA = 0.025064915718988563
OMEGA_T = 0.0245


def band_rows(velocities):
    model = build_model(default_scenario().replace({
        "dispersion.model": "linear-band", "dispersion.omega_eV": OMEGA, "dispersion.k_eV": OMEGA,
        "dispersion.group_velocity": 1e-3}))
    key = "dispersion.group_velocity"
    rate = jax.jit(jax.vmap(lambda v: rates.event_rate(with_parameters(model, {key: v}))))
    rest = jax.jit(jax.vmap(lambda v: rates.rest_event_rate(with_parameters(model, {key: v}))))
    v = np.asarray(velocities)
    return [{"medium": "linear band", "parameter": "group_velocity", "value": float(x), "group_velocity": float(x),
             "rate_per_year": float(r), "rest_rate_per_year": float(p)}
            for x, r, p in zip(v, np.asarray(rate(v)), np.asarray(rest(v)))]


def lorentz_rows(strengths):
    model = build_model(default_scenario().replace({
        "dispersion.model": "lorentz", "dispersion.eps_inf": 1.0,
        "dispersion.poles": [{"delta_eps": 1e-3, "omega_T_eV": OMEGA_T, "gamma_eV": 0.0}]}))
    key = "dispersion.poles.0.delta_eps"

    def one(s):
        m = with_parameters(model, {key: s})
        roots = rest_roots(m)  # sorted valid-first: [0] is the root that sets E_vg
        return rates.event_rate(m), rates.rest_event_rate(m), roots.group_velocity[0]

    s = np.asarray(strengths)
    rate, rest, vg = (np.asarray(x) for x in jax.jit(jax.vmap(one))(s))
    return [{"medium": "lorentz", "parameter": "delta_eps", "value": float(x), "group_velocity": float(g),
             "rate_per_year": float(r), "rest_rate_per_year": float(p)}
            for x, r, p, g in zip(s, rate, rest, vg)]


def crossover_velocity(model):
    """Gamma_v / <p>: where the smear v_g <p> equals the resonance width."""
    dist = model.momentum
    p = np.linspace(0.0, float(dist.cutoff), 20001)
    density = np.asarray(dist.density(p))
    mean_p = np.sum(p * density) / np.sum(density)  # uniform grid: the trapezoid weights cancel
    return float(model.medium.width) / mean_p, mean_p


def figure(rows, v_cross, path):
    import matplotlib.pyplot as plt

    from cnbfluor.figures import figure_style

    with figure_style():
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        for medium, color, marker in (("linear band", "tab:blue", None), ("lorentz", "tab:orange", "o")):
            sub = sorted((r for r in rows if r["medium"] == medium), key=lambda r: r["group_velocity"])
            v = [r["group_velocity"] for r in sub]
            ax.plot(v, [r["rate_per_year"] for r in sub], color=color, marker=marker, ms=3,
                    label=f"{medium}: momentum-averaged")
            ax.plot(v, [r["rest_rate_per_year"] for r in sub], color=color, ls="--", lw=1.0,
                    label=f"{medium}: neutrino at rest (peak)")
        ax.axvline(v_cross, color="0.4", ls=":", lw=1.0)
        ax.text(v_cross * 1.3, 0.03, r"$v_g\langle p\rangle = \Gamma_v$", transform=ax.get_xaxis_transform(),
                fontsize="small", color="0.3")
        return finish_rate_figure(fig, ax, path, r"group velocity at the resonant photon $v_g$ [c]",
                                  r"slow-light gain: M1, NO, $\nu_3\to\nu_1$, Fermi-Dirac, $l$ = 3 m")


def main(argv=None):
    args = study_arguments(__doc__).parse_args(argv)
    n = 8 if args.quick else 43
    rows = band_rows(np.logspace(0, -7, n)) + lorentz_rows(np.logspace(-10, -1, 4 if args.quick else 28))
    v_cross, mean_p = crossover_velocity(build_model(default_scenario()))
    picks = [r for r in rows if r["medium"] == "linear band"][:: max(1, n // 7)]
    picks += [r for r in rows if r["medium"] == "lorentz"][:: 6 if not args.quick else 1]
    body = [[r["medium"], f"{r['parameter']} = {r['value']:.3g}", f"{r['group_velocity']:.3g}",
             f"{r['rate_per_year']:.4g}", f"{r['rest_rate_per_year']:.4g}",
             f"{r['rate_per_year'] / r['rest_rate_per_year']:.3g}"] for r in picks]
    text = "\n".join([
        "# Slow-light gain",
        "",
        f"Crossover v_g = Gamma_v / <p> = {v_cross:.3g} (<p> = {mean_p:.3g} eV, Fermi-Dirac T = 1.945 K).",
        "",
        markdown_table(["medium", "design", "v_g [c]", "averaged rate [/yr]", "at rest [/yr]", "averaged / at rest"], body),
        "",
    ])
    write_study(args.out, "slow_light_gain", text, {"slow_light_gain": rows})
    figure(rows, v_cross, args.out / "slow_light_gain.png")
    return rows, v_cross


if __name__ == "__main__":
    main()
