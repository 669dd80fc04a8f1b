"""`cnbfluor`: the command line.

    cnbfluor rate [SCENARIO.toml] [--json]

Errors in the input print one line naming the key and exit with status 2.
"""

import argparse
import json
import sys

from rates.scenario import ScenarioError, build_model, load_scenario

from .report import format_rate_report, rate_report


def _cmd_rate(args) -> int:
    scenario = load_scenario(args.scenario)
    model = build_model(scenario)
    report = rate_report(model, scenario, source=args.scenario or "")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_rate_report(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnbfluor",
        description="Relic-neutrino parametric fluorescence: rates and dispersion engineering.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rate = sub.add_parser(
        "rate",
        help="event rate of a scenario (momentum-averaged and at rest)",
        description="Event rate per year of a scenario; with no file, the built-in "
        "default (the paper's M1, NO, l = 3 m case with the Fermi-Dirac average).",
    )
    rate.add_argument("scenario", nargs="?", default=None, help="scenario TOML file")
    rate.add_argument("--json", action="store_true", help="print one JSON object")
    rate.set_defaults(func=_cmd_rate)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as err:
        print(f"cnbfluor: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
