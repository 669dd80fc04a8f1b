"""Ordering, nature and channel: which transition and which medium channel give events.

    python studies/ordering_nature_channel.py [--quick]

Every heavier -> lighter transition of both orderings (lightest mass 0,
NuFIT 6.0), the E1, M1 and E1M1 channels (E1M1 with parity mixing eps = 0.3),
Dirac and Majorana (which doubles the rate), each at rest and with the
Fermi-Dirac momentum average, in vacuum and in a slow-light band (v_g = 1e-4)
through that transition's own vacuum intersection point; E_vg on the p = 0
root, l = 3 m, exact D_k.

Writes studies/output/ordering_nature_channel.{md,csv,png}.
"""

import jax
import numpy as np

from cnbfluor import rates
from _output import markdown_table, study_arguments, write_study
from cnbfluor.rates import rest_roots
from cnbfluor.scenario import build_model, default_scenario

TRANSITIONS = {"NO": [(3, 1), (3, 2), (2, 1)], "IO": [(2, 1), (2, 3), (1, 3)]}
CHANNELS = ("E1", "M1", "E1M1")
MIXING = 0.3
SLOW = 1e-4

_rate = jax.jit(rates.event_rate)
_rest = jax.jit(rates.rest_event_rate)


def row(ordering, i, j, channel):
    base = {"neutrino.ordering": ordering, "neutrino.initial": i, "neutrino.final": j, "medium.channel": channel}
    if channel == "E1M1":
        base["medium.mixing"] = MIXING
    vacuum = build_model(default_scenario().replace(base))
    omega = float(rest_roots(vacuum).omega[0])  # the vacuum intersection: k = omega
    slow = build_model(default_scenario().replace({
        **base, "dispersion.model": "linear-band", "dispersion.omega_eV": omega, "dispersion.k_eV": omega,
        "dispersion.group_velocity": SLOW}))
    return {
        "ordering": ordering, "transition": f"nu{i}->nu{j}", "channel": channel, "photon_eV": omega,
        "dirac_rest_per_year": float(_rest(vacuum)),
        "dirac_vacuum_per_year": float(_rate(vacuum)),
        "dirac_slow_per_year": float(_rate(slow)),
        "slow_rest_per_year": float(_rest(slow)),
    }


def figure(rows, path):
    import matplotlib.pyplot as plt

    from cnbfluor.figures import figure_style

    labels = [f"{r['ordering']} {r['transition'].replace('nu', 'ν')}" for r in rows if r["channel"] == CHANNELS[0]]
    x = np.arange(len(labels))
    with figure_style():
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.0), sharey=True)
        for ax, key, title in ((axes[0], "dirac_vacuum_per_year", "vacuum"),
                               (axes[1], "dirac_slow_per_year", f"slow band, v_g = {SLOW:g}")):
            for n, channel in enumerate(c for c in CHANNELS if any(r["channel"] == c for r in rows)):
                values = [r[key] for r in rows if r["channel"] == channel]
                ax.bar(x + (n - 1) * 0.27, values, width=0.27, label=channel)
            ax.set_yscale("log")
            ax.set_xticks(x, labels, rotation=30, ha="right")
            ax.set_title(f"Dirac, momentum-averaged, {title}")
        axes[0].set_ylabel("event rate [1/yr] (Majorana: x2)")
        fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=3)
        fig.savefig(path)
        plt.close(fig)
    return path


def main(argv=None):
    args = study_arguments(__doc__).parse_args(argv)
    transitions = {"NO": [(3, 1)], "IO": [(2, 1)]} if args.quick else TRANSITIONS
    channels = ("E1", "M1") if args.quick else CHANNELS
    rows = [row(o, i, j, c) for o in transitions for i, j in transitions[o] for c in channels]
    body = [[r["ordering"], r["transition"], r["channel"], f"{r['photon_eV']:.4g}", f"{r['dirac_rest_per_year']:.3g}",
             f"{r['dirac_vacuum_per_year']:.3g}", f"{r['dirac_slow_per_year']:.3g}",
             f"{2 * r['dirac_slow_per_year']:.3g}"] for r in rows]
    text = "\n".join([
        "# Ordering, nature and channel",
        "",
        f"Lightest mass 0, l = 3 m, exact D_k; E1M1 with eps = {MIXING}; slow band v_g = {SLOW:g} through",
        "each transition's vacuum intersection. Rates per year.",
        "",
        markdown_table(["ordering", "transition", "channel", "photon [eV]", "Dirac at rest, vacuum",
                        "Dirac averaged, vacuum", "Dirac averaged, slow band", "Majorana averaged, slow band"], body),
        "",
    ])
    write_study(args.out, "ordering_nature_channel", text, {"ordering_nature_channel": rows})
    figure(rows, args.out / "ordering_nature_channel.png")
    return rows


if __name__ == "__main__":
    main()
