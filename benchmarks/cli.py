"""Benchmark: how fast the `cnbfluor` command answers, run as users run it (subprocesses).

    python -m benchmarks.cli [--repeat N]

Measured in this one run, each a fresh Python process (median of `--repeat`):
- `import cnbfluor.cli` (the imports every command pays);
- `cnbfluor --version`;
- `cnbfluor rate` with a bad scenario key (an input error: exit status 2);
- `cnbfluor rate` on the default scenario with an empty compilation cache
  (cold: every function compiled) and again with the cache it filled (warm);
- the same warm call with the cache turned off (`CNBFLUOR_CACHE_DIR=off`),
  i.e. what every call cost before the persistent cache.
Goals (the package issue): warm `rate` <= 2 s, imports <= 1 s, an input error
<= 1 s. Results also go to benchmarks/output/cli.json.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"imports": 1.0, "input error": 1.0, "rate, warm cache": 2.0}


def _time(command, env, repeat, expect=0):
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
        samples.append(time.perf_counter() - t0)
        if out.returncode != expect:
            raise SystemExit(f"{' '.join(command)} exited {out.returncode}: {out.stderr}")
    return statistics.median(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "output" / "cli.json"))
    args = parser.parse_args(argv)

    cli = [sys.executable, "-m", "cnbfluor"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "bad.toml"
        bad.write_text('[dispersion]\nmodle = "vacuum"\n')
        off = {**base, "CNBFLUOR_CACHE_DIR": "off"}
        rows["imports"] = _time([sys.executable, "-c", "import cnbfluor.cli"], off, args.repeat)
        rows["--version"] = _time([*cli, "--version"], off, args.repeat)
        rows["input error"] = _time([*cli, "rate", str(bad)], off, args.repeat, expect=2)
        cold = []
        for i in range(args.repeat):  # a fresh, empty cache each time
            env = {**base, "CNBFLUOR_CACHE_DIR": str(Path(tmp) / f"cold{i}")}
            cold.append(_time([*cli, "rate"], env, 1))
        rows["rate, cold cache"] = statistics.median(cold)
        warm = {**base, "CNBFLUOR_CACHE_DIR": str(Path(tmp) / "cold0")}
        rows["rate, warm cache"] = _time([*cli, "rate"], warm, args.repeat)
        rows["rate, no cache"] = _time([*cli, "rate"], off, args.repeat)

    print(f"cnbfluor command line, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"median of {args.repeat} fresh processes")
    print(f"{'what':22s} {'seconds':>8s} {'goal':>6s}")
    for name, seconds in rows.items():
        goal = GOALS.get(name)
        mark = "" if goal is None else (f"{goal:5.1f}" + (" ok" if seconds <= goal else " MISSED"))
        print(f"{name:22s} {seconds:8.2f} {mark}")
    print(f"warm cache / no cache: {rows['rate, warm cache'] / rows['rate, no cache']:.2f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"seconds": rows, "goals": GOALS, "repeat": args.repeat,
                                          "cores": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
