"""Momentum spread: the honest momentum-averaged rate against the paper's "R ~ 2e-6 /yr" estimate.

    python studies/momentum_spread.py [--quick]

M1, NO, nu3 -> nu1, vacuum, l = 3 m. The paper (end of Sec. II.B) replaces
Gamma_v^2 by Delta p^2 at the peak, Delta p = 1e-4 eV: R_est = R_peak
(Gamma_v / Delta p)^2 ~ 2e-6 /yr. The honest average integrates the
Lorentzian over the distribution: a neutrino of momentum p sweeps the photon
energy over a band ~p wide, over which the Lorentzian integrates to pi/gamma,
so the fraction on resonance is ~gamma/Delta p, not (gamma/Delta p)^2.

Writes studies/output/momentum_spread.{md,csv} (the table at Delta p = 1e-4
eV, Fermi-Dirac and maxwellian, both D_k conventions),
momentum_spread_sweep.csv and momentum_spread.png (rate against the
maxwellian width sigma from 1e-9 to 1e-3 eV: the honest average falls as
1/sigma once sigma > Gamma_v, the estimate as 1/sigma^2).
"""

import equinox as eqx
import jax
import numpy as np

from cnbfluor import rates
from _output import finish_rate_figure, markdown_table, study_arguments, write_study
from cnbfluor.scenario import build_model, default_scenario


def scenario(**updates):
    return default_scenario().replace(updates)


def table(delta_p=1e-4):
    rows = []
    for dk in ("paper", "exact"):
        rest = build_model(scenario(**{"momentum.distribution": "rest", "conventions.dk": dk}))
        peak = float(rates.rest_event_rate(rest))
        width = float(rest.medium.width)
        fd = build_model(scenario(**{"conventions.dk": dk}))
        mx = build_model(scenario(**{"momentum.distribution": "maxwellian",
                                     "momentum.sigma_eV": delta_p, "conventions.dk": dk}))
        rows.append({
            "dk": dk,
            "rest_peak_per_year": peak,
            "paper_estimate_per_year": peak * (width / delta_p) ** 2,
            "fermi_dirac_per_year": float(rates.event_rate(fd)),
            "maxwellian_per_year": float(rates.event_rate(mx)),
        })
    return rows


def sweep(sigmas):
    """Honest maxwellian average and the paper-style estimate against sigma, both D_k conventions."""
    rows = []
    for dk in ("paper", "exact"):
        model = build_model(scenario(**{"momentum.distribution": "maxwellian", "conventions.dk": dk}))
        rate = jax.jit(jax.vmap(lambda s: rates.event_rate(eqx.tree_at(lambda m: m.momentum.sigma, model, s))))
        values = np.asarray(rate(np.asarray(sigmas)))
        rest = build_model(scenario(**{"momentum.distribution": "rest", "conventions.dk": dk}))
        peak = float(rates.rest_event_rate(rest))
        width = float(rest.medium.width)
        for s, r in zip(sigmas, values):
            rows.append({"dk": dk, "sigma_eV": float(s), "rate_per_year": float(r),
                         "paper_estimate_per_year": peak * min(1.0, (width / s) ** 2),
                         "rest_peak_per_year": peak, "width_eV": width})
    return rows


def figure(rows, path):
    import matplotlib.pyplot as plt

    from cnbfluor.figures import figure_style

    with figure_style():
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        for dk, color in (("paper", "tab:blue"), ("exact", "tab:orange")):
            sub = [r for r in rows if r["dk"] == dk]
            s = np.array([r["sigma_eV"] for r in sub])
            ax.plot(s, [r["rate_per_year"] for r in sub], color=color, label=f"honest maxwellian average, D_k {dk}")
            ax.plot(s, [r["paper_estimate_per_year"] for r in sub], color=color, ls="--",
                    label=rf"paper-style $R_{{peak}}\,\min(1, \Gamma_v^2/\sigma^2)$, D_k {dk}")
        width = rows[0]["width_eV"]
        ax.axvline(width, color="0.5", lw=0.8, ls=":")
        ax.text(width * 1.15, 0.55, r"$\sigma = \Gamma_v$", fontsize="small", color="0.3", va="top",
                transform=ax.get_xaxis_transform())
        ax.axvline(1e-4, color="tab:red", lw=0.8, ls=":")
        ax.text(1.15e-4, 0.97, r"$\Delta p = 10^{-4}$ eV", fontsize="small", color="tab:red", va="top",
                transform=ax.get_xaxis_transform())
        return finish_rate_figure(fig, ax, path, r"maxwellian width $\sigma$ [eV]",
                                  r"M1, NO, $\nu_3\to\nu_1$, vacuum, $l$ = 3 m")


def main(argv=None):
    args = study_arguments(__doc__).parse_args(argv)
    rows = table()
    sigmas = np.logspace(-9, -3, 13 if args.quick else 49)
    swept = sweep(sigmas)
    header = ["D_k", "rest peak [/yr]", "paper's estimate [/yr]", "Fermi-Dirac, T = 1.945 K [/yr]",
              "maxwellian, sigma = 1e-4 eV [/yr]", "Fermi-Dirac / estimate"]
    body = [[r["dk"], f"{r['rest_peak_per_year']:.4g}", f"{r['paper_estimate_per_year']:.3g}",
             f"{r['fermi_dirac_per_year']:.4g}", f"{r['maxwellian_per_year']:.4g}",
             f"{r['fermi_dirac_per_year'] / r['paper_estimate_per_year']:.0f}"] for r in rows]
    text = "\n".join([
        "# Momentum spread: the honest average against the paper's estimate",
        "",
        "M1, NO, nu3 -> nu1, vacuum, l = 3 m; the paper's estimate is R_peak (Gamma_v / Delta p)^2",
        "with Delta p = 1e-4 eV (\"R ~ 2e-6 /yr\").",
        "",
        markdown_table(header, body),
        "",
        "Against the maxwellian width (momentum_spread.png): the honest average falls as 1/sigma",
        "once sigma > Gamma_v (the fraction of neutrinos on resonance is ~gamma/sigma), the",
        "paper-style estimate as 1/sigma^2.",
        "",
    ])
    write_study(args.out, "momentum_spread", text, {"momentum_spread": rows, "momentum_spread_sweep": swept})
    figure(swept, args.out / "momentum_spread.png")
    return rows, swept


if __name__ == "__main__":
    main()
