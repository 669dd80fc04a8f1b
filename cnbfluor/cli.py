"""`cnbfluor`: the command line.

    cnbfluor rate [SCENARIO.toml] [--json]
    cnbfluor optimize SCENARIO.toml [--json] [--out DIR] [--resume] [--quiet]
    cnbfluor scan SCENARIO.toml --param KEY=LO:HI:N[:log] ... --out scan.nc [--shard I/N]
    cnbfluor scan SCENARIO.toml --param ... --out scan.zarr [--dask SCHEDULER | local:N] [--shard I/N]
    cnbfluor merge OUT.nc SHARD.nc ...
    cnbfluor export SCAN.zarr OUT.nc
    cnbfluor fig2 [SCENARIO.toml] [--out fig2.png] [--style STYLE]
    cnbfluor plot SCAN.nc | OPTIMIZE_DIR [--out FILE] [--style STYLE]

Errors in the input (a scenario key, an argument, a file) print one line naming
it and exit with status 2 before anything is written; anything else is a bug:
a short message, exit status 1, and the traceback with `--debug`.

Compiled functions are kept in a persistent cache (the platform's user cache
folder, or `CNBFLUOR_CACHE_DIR`; `CNBFLUOR_CACHE_DIR=off` disables it), so a
second `cnbfluor rate` does not compile again. JAX, the physics, matplotlib
and xarray are imported only by the commands that need them.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .errors import ArgumentError, InputError, PathError

#: Environment variable that moves (a folder) or disables ("off") the compilation cache.
CACHE_ENV = "CNBFLUOR_CACHE_DIR"


def cache_dir() -> Path | None:
    """The persistent compilation cache folder: `CNBFLUOR_CACHE_DIR`, else the platform's user cache."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none", "false") else Path(chosen).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        base = home / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / "cnbfluor" / f"jax-{__version__}"


def enable_compilation_cache() -> None:
    """Switch on JAX's persistent compilation cache (unless the user set JAX's own, or turned it off)."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return  # JAX reads its own variable (the test suite sets it)
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # an unwritable cache only costs time
    import jax

    jax.config.update("jax_compilation_cache_dir", str(folder))
    # The rate functions compile in seconds and load in milliseconds: keep them all.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def _check_optimize_table(raw: dict, scenario) -> None:
    """Validate an `[optimize]` table that a command passes over (bounds, keys)."""
    from .optimization import parse_optimize_table
    from .problem import Problem

    if "optimize" in raw:
        free, objective, _ = parse_optimize_table(raw["optimize"])
        Problem(scenario, free, objective)


def _scenario(path):
    """(Scenario, raw tables) of a file, or the built-in default; an [optimize] table is validated too."""
    from .scenario import default_scenario, parse_scenario, read_toml

    if path is None:
        return default_scenario(), {}
    raw = read_toml(path)
    scenario = parse_scenario(raw)
    _check_optimize_table(raw, scenario)
    return scenario, raw


def _warn_accuracy(report: dict, tolerance: float) -> None:
    """Warn on stderr when the rate's estimated error exceeds `tolerance`, or a flag is set."""
    for message in report.get("warnings", []):
        print(f"cnbfluor: warning: {message}", file=sys.stderr)
    if report["rate_rel_error"] > tolerance:
        print(
            f"cnbfluor: warning: the estimated quadrature error of the averaged rate is "
            f"{report['rate_rel_error']:.2g} relative, above --tolerance {tolerance:g}",
            file=sys.stderr,
        )


def _cmd_rate(args) -> int:
    if not args.tolerance > 0:
        raise ArgumentError(f"--tolerance: must be > 0, got {args.tolerance}")
    from .report import format_rate_report, rate_report
    from .scenario import build_model

    scenario, _ = _scenario(args.scenario)
    model = build_model(scenario)
    report = rate_report(model, scenario, source=args.scenario or "")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_rate_report(report))
    _warn_accuracy(report, args.tolerance)
    return 0


def _cmd_fig2(args) -> int:
    from .figures import check_figure_path, draw_fig2, fig2_data
    from .scenario import build_model

    out = check_figure_path(args.out, "--out")  # before seconds of work
    scenario, _ = _scenario(args.scenario)
    data = fig2_data(build_model(scenario))
    out.parent.mkdir(parents=True, exist_ok=True)
    draw_fig2(data, out, args.style)
    print(f"cnbfluor fig2: {args.scenario or 'built-in default'} -> {args.out}")
    print(f"  level spacing    E_vg = {data.level_spacing:.10g} eV,  Gamma_v = {data.width:.3g} eV")
    print(f"  momentum         |p| 5/50/95% = {', '.join(f'{p:.3g}' for p in data.momenta)} eV")
    for x in data.intersections:
        print(f"  intersection     k = {x.k:.10g} eV, omega = {x.omega:.10g} eV  (branch {x.branch}, |p| = {x.p:.3g} eV, c = {x.c:g})")
    return 0


def _cmd_plot(args) -> int:
    from .figures import check_figure_path, plot_file

    if args.out:
        check_figure_path(args.out, "--out")
    try:
        path, summary = plot_file(args.source, args.out, args.style)
    except ValueError as err:
        if isinstance(err, InputError):
            raise
        raise PathError(str(err)) from None
    print(f"cnbfluor plot: {args.source} -> {path}")
    print(f"  best             {summary['best_rate_per_year']:.6g} /yr"
          + (f" at {', '.join(f'{k} = {v:.6g}' for k, v in summary['at'].items())}" if "at" in summary else ""))
    return 0


def _cmd_optimize(args) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise PathError(f"--out {args.out!r}: is a file, expected a folder")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise PathError(f"--out {args.out!r}: {str(parent)!r} is a file, not a folder")
    from .optimization import load_problem, optimize

    problem, settings = load_problem(args.scenario)
    from .store import dask_client

    with dask_client(args.dask) as client:
        if client is not None:
            print(f"cnbfluor optimize: Dask dashboard at {client.dashboard_link}", file=sys.stderr)
        result = optimize(problem, settings, out_dir=args.out, resume=args.resume, progress=not args.quiet,
                          client=client)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"cnbfluor optimize: {args.scenario}")
    print(f"  objective        {result['objective']}, {settings.starts} starts, {result['steps_taken']} steps")
    print(f"  start            {result['initial_rate_per_year']:.6g} /yr (scenario as given)")
    print(f"  best             {result['best_rate_per_year']:.6g} /yr (start {result['best_start']})")
    for i, start in enumerate(result["starts"]):
        print(f"    start {i}: {start['rate_per_year']:.6g} /yr, {start['stopped']}")
    for key, value in result["params"].items():
        side = result["active_bounds"].get(key)
        print(f"    {key:32s} {value:.8g}" + (f"   <- on its {side} bound" if side else ""))
    for note in result["notes"]:
        print(f"  note: {note}")
    if "files" in result:
        print(f"  wrote            {', '.join(result['files'].values())}")
    return 0


def _cmd_scan(args) -> int:
    from ._files import check_writable

    if _is_store(args.out):  # a store is a folder; only its parents must be folders
        check_writable(Path(args.out) / "zarr.json", "--out")
    else:
        check_writable(args.out, "--out")
    from .optimization import parse_optimize_table
    from .scan import Scan, parse_axis, run_scan

    scenario, raw = _scenario(args.scenario)
    extra, objective = (), "rate_per_year"
    if "optimize" in raw:
        free, objective, _ = parse_optimize_table(raw["optimize"])
        extra = tuple(p.key for p in free)
    index, count = 0, 1
    if args.shard:
        try:
            index, count = (int(x) for x in args.shard.split("/"))
        except ValueError:
            raise ArgumentError(f"--shard {args.shard!r}: expected I/N with 0 <= I < N") from None
        if not 0 <= index < count:
            raise ArgumentError(f"--shard {args.shard!r}: expected I/N with 0 <= I < N")
    try:
        scan = Scan(scenario, [parse_axis(p) for p in args.param], extra=extra, chunk=args.chunk,
                    quadrature=args.quadrature, sensitivities=not args.no_sensitivities, objective=objective)
    except ValueError as err:
        if isinstance(err, InputError):
            raise
        raise ArgumentError(str(err)) from None
    points = scan.size // count
    if points > args.max_points:
        raise ArgumentError(
            f"--max-points: the grid has {scan.size:,} points ({' x '.join(map(str, scan.shape))}), "
            f"{points:,} in this shard: above --max-points {args.max_points:,} (at about 3,000 points/s on 2 cores "
            f"that is {points / 3000 / 3600:,.1f} hours); raise --max-points to run it, or split it with --shard I/N"
        )
    if not args.quiet:
        print(f"cnbfluor scan: {scan.size:,} grid points ({' x '.join(map(str, scan.shape))}) in {scan.n_chunks:,} chunks"
              + (f", shard {index}/{count}" if count > 1 else "") + "; the bar's estimate follows the first chunk",
              file=sys.stderr)
    zarr = _is_store(args.out)
    if args.dask and not zarr:
        raise ArgumentError(f"--dask: writes into a Zarr store; give --out a .zarr path (got {args.out!r})")
    if not zarr:
        ds = run_scan(scan, args.out, shard=(index, count), progress=not args.quiet)
        done = int(ds["evaluated"].sum())
        print(f"cnbfluor scan: {done} of {scan.size} grid points in {args.out}"
              + (f" (shard {index}/{count}; join with cnbfluor merge)" if count > 1 else ""))
        return 0
    from .store import dask_client, run_store_scan

    with dask_client(args.dask) as client:
        if client is not None:
            print(f"cnbfluor scan: Dask dashboard at {client.dashboard_link}", file=sys.stderr)
        ds = run_store_scan(scan, args.out, shard=(index, count), progress=not args.quiet, client=client)
        done = int(ds["evaluated"].sum())
    print(f"cnbfluor scan: {done} of {scan.size} grid points in {args.out}"
          + (f" (shard {index}/{count}, same store)" if count > 1 else ""))
    return 0


def _is_store(path) -> bool:
    from ._files import is_zarr_store

    return is_zarr_store(path)


def _cmd_export(args) -> int:
    from ._files import check_writable

    if not _is_store(args.store) or not Path(args.store).is_dir():
        raise PathError(f"export: {args.store!r} is not a Zarr scan store")
    check_writable(args.out, "export OUT")
    import xarray as xr

    from .scan import write_netcdf

    try:
        ds = xr.open_zarr(args.store, consolidated=False).load()
    except Exception as err:  # noqa: BLE001 - an unreadable store is the user's path to fix
        raise PathError(f"export: {args.store!r} is not a Zarr scan store ({type(err).__name__}: {err})") from None
    write_netcdf(ds, args.out)
    print(f"cnbfluor export: {int(ds['evaluated'].sum())} of {int(ds['evaluated'].size)} grid points -> {args.out}")
    return 0


def _cmd_merge(args) -> int:
    from .scan import merge

    ds = merge(args.shards, args.out)
    print(f"cnbfluor merge: {int(ds['evaluated'].sum())} grid points from {len(args.shards)} files in {args.out}")
    return 0


def _figure_options(parser, out_default, out_help):
    parser.add_argument("--out", default=out_default, help=out_help)
    parser.add_argument("--style", default=None, help="matplotlib style name or .mplstyle file (overrides ours)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnbfluor",
        description="Relic-neutrino parametric fluorescence: rates and dispersion engineering.",
    )
    parser.add_argument("--version", action="version", version=f"cnbfluor {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", required=True)
    rate = sub.add_parser(
        "rate",
        help="event rate of a scenario (momentum-averaged and at rest)",
        description="Event rate per year of a scenario; with no file, the built-in "
        "default (the paper's M1, NO, l = 3 m case with the Fermi-Dirac average).",
    )
    rate.add_argument("scenario", nargs="?", default=None, help="scenario TOML file")
    rate.add_argument("--json", action="store_true", help="print one JSON object")
    rate.add_argument("--tolerance", type=float, default=1e-3,
                      help="warn when the estimated relative quadrature error exceeds this (default 1e-3)")
    rate.set_defaults(func=_cmd_rate)
    opt = sub.add_parser(
        "optimize",
        help="maximise the event rate over the [optimize] table's free parameters",
        description="Multi-start Optax maximisation of the event rate over bounded free "
        "parameters named in the scenario's [optimize] table. Checkpoints after every "
        "chunk of steps; --resume continues an interrupted run.",
    )
    opt.add_argument("scenario", help="scenario TOML file with an [optimize] table")
    opt.add_argument("--json", action="store_true", help="print the result as one JSON object")
    opt.add_argument("--out", default="optimize-out", help="output folder (default: optimize-out)")
    opt.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    opt.add_argument("--quiet", action="store_true", help="no progress bar")
    opt.add_argument("--dask", default=None, metavar="SCHEDULER",
                     help="run every start as a Dask task: a scheduler address, or local:N worker processes")
    opt.set_defaults(func=_cmd_optimize)
    scan = sub.add_parser(
        "scan",
        help="event rate and sensitivities on a parameter grid (netCDF)",
        description="Evaluate the event rate and d ln R / d key (scanned keys and the "
        "[optimize] table's free keys) on the outer product of the --param axes. Chunks "
        "are written as they finish; rerunning with the same --out resumes.",
    )
    scan.add_argument("scenario", nargs="?", default=None, help="scenario TOML file (default: built-in)")
    scan.add_argument("--param", action="append", required=True, metavar="KEY=LO:HI:N[:log]",
                      help="a scanned scenario key (repeat for more axes)")
    scan.add_argument("--out", required=True,
                      help="output: a netCDF file (.nc), or a Zarr store (.zarr) filled block by block")
    scan.add_argument("--chunk", type=int, default=256, help="grid points per jitted batch")
    scan.add_argument("--quadrature", default="default", choices=("fast", "default", "fine"),
                      help="quadrature sizes: fast (3e-5), default (2e-6), fine (5e-9 relative)")
    scan.add_argument("--no-sensitivities", action="store_true",
                      help="rate only: skip the gradient (about twice as fast)")
    scan.add_argument("--shard", default=None, metavar="I/N", help="evaluate only shard I of N")
    scan.add_argument("--dask", default=None, metavar="SCHEDULER",
                      help="run the blocks as Dask tasks: a scheduler address, or local:N for N local "
                           "worker processes (needs --out *.zarr)")
    scan.add_argument("--max-points", type=int, default=10_000_000, metavar="N",
                      help="refuse grids (or shards) larger than this (default 1e7)")
    scan.add_argument("--quiet", action="store_true", help="no progress bar")
    scan.set_defaults(func=_cmd_scan)
    merge = sub.add_parser("merge", help="join the shards of a scan", description="Join scan shards into one netCDF file.")
    merge.add_argument("out", help="output netCDF file")
    merge.add_argument("shards", nargs="+", help="shard files written by cnbfluor scan --shard")
    merge.set_defaults(func=_cmd_merge)
    export = sub.add_parser("export", help="write a Zarr scan store as one netCDF file",
                            description="Read a scan's Zarr store and write it as netCDF (unfinished points stay NaN, "
                                        "with evaluated = 0).")
    export.add_argument("store", help="scan store (.zarr)")
    export.add_argument("out", help="output netCDF file")
    export.set_defaults(func=_cmd_export)
    fig = sub.add_parser(
        "fig2",
        help="the paper's Fig. 2 for a scenario (dispersion, energy-transfer band, intersections)",
        description="Draw the medium's photon dispersion omega(k), the vacuum line, the energy "
        "transfer E_i - E'_j(k) at the central momentum with the band swept by the 5-95% momentum "
        "range, every intersection, and an inset on the p = 0 intersection with Gamma_v.",
    )
    fig.add_argument("scenario", nargs="?", default=None, help="scenario TOML file (default: built-in)")
    _figure_options(fig, "fig2.png", "output file; PNG, PDF or SVG by extension (default: fig2.png)")
    fig.set_defaults(func=_cmd_fig2)
    plot = sub.add_parser(
        "plot",
        help="plot a scan (.nc) or an optimisation trace (optimize --out folder)",
        description="1-D scans: rate and elasticities; 2-D scans: a log10 rate map with the optimum "
        "marked; an optimize output folder (or its checkpoint.npz): the trace of every start.",
    )
    plot.add_argument("source", help="scan .nc file, or optimize --out folder / checkpoint.npz")
    _figure_options(plot, None, "output file (default: next to the source, .png)")
    plot.set_defaults(func=_cmd_plot)
    for command in sub.choices.values():  # `cnbfluor rate --debug` as well as `cnbfluor --debug rate`
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the traceback of an internal error")
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0, 1: a bug, 2: input to fix)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        enable_compilation_cache()
        return args.func(args)
    except InputError as err:
        print(f"cnbfluor: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cnbfluor: interrupted (finished chunks and checkpoints are kept; rerun to resume)", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - everything else is a bug: say so, briefly
        if args.debug:
            raise
        print(
            f"cnbfluor: internal error: {type(err).__name__}: {err}\n"
            "This is a bug in cnbfluor, not in your input: please report it with the command and the "
            "scenario file (rerun with --debug for the traceback).",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
