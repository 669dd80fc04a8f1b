"""An optimised design: its Fig. 2, and the rate it reaches against the rest-frame peak.

    python studies/optimised_design.py [--quick]

Runs the optimiser on studies/scenarios/optimize_band.toml (a linear band:
group velocity, detuning and coherence time free within bounds), then draws
the optimum's Fig. 2 and compares its momentum-averaged rate with the
rest-frame peak of the same design: the rate if every relic neutrino were at
rest, the physical upper bound of the scenario. Slower light and a longer
coherence time raise the rate without limit, so the optimum sits on those
bounds (the result says so).

Writes studies/output/optimised_design.{md,csv}, optimised_design_fig2.png and
the optimiser's files (best.toml, result.json, trace.png) in
studies/output/optimised_design/.
"""

import dataclasses
from pathlib import Path

from cnbfluor import rates
from _output import markdown_table, study_arguments, write_study
from cnbfluor.figures import fig2
from cnbfluor.optimization import load_problem, optimize
from cnbfluor.scenario import build_model

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "optimize_band.toml"


def main(argv=None):
    args = study_arguments(__doc__).parse_args(argv)
    problem, settings = load_problem(SCENARIO)
    if args.quick:
        settings = dataclasses.replace(settings, steps=50, starts=2)
    result = optimize(problem, settings, out_dir=args.out / "optimised_design", progress=not args.quick)
    best = problem.scenario.replace(result["params"])
    model = build_model(best)
    averaged = float(rates.event_rate(model))
    peak = float(rates.rest_event_rate(model))
    start = build_model(problem.scenario)
    row = {
        "start_rate_per_year": float(rates.event_rate(start)),
        "start_rest_peak_per_year": float(rates.rest_event_rate(start)),
        "best_rate_per_year": averaged,
        "best_rest_peak_per_year": peak,
        "fraction_of_peak": averaged / peak,
        **{f"param:{k}": v for k, v in result["params"].items()},
        "active_bounds": "; ".join(f"{k} ({side})" for k, side in result["active_bounds"].items()),
        "steps": result["steps_taken"],
        "starts": settings.starts,
    }
    _, fig = fig2(model, args.out / "optimised_design_fig2.png")
    params = [[k, f"{v:.6g}", result["active_bounds"].get(k, "")] for k, v in result["params"].items()]
    text = "\n".join([
        "# An optimised design",
        "",
        f"`{SCENARIO.name}`, {settings.starts} starts, {result['steps_taken']} steps.",
        "",
        markdown_table(["free key", "optimum", "on bound"], params),
        "",
        markdown_table(
            ["design", "momentum-averaged [/yr]", "rest-frame peak [/yr]", "averaged / peak"],
            [["scenario as given", f"{row['start_rate_per_year']:.4g}", f"{row['start_rest_peak_per_year']:.4g}",
              f"{row['start_rate_per_year'] / row['start_rest_peak_per_year']:.3g}"],
             ["optimum", f"{averaged:.4g}", f"{peak:.4g}", f"{averaged / peak:.3g}"]]),
        "",
        *[f"- {note}" for note in result["notes"]],
        "",
    ])
    write_study(args.out, "optimised_design", text, {"optimised_design": [row]})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return row


if __name__ == "__main__":
    main()
