"""Where studies write, and how: Markdown + CSV tables in studies/output/ (git-ignored)."""

import argparse
import csv
from pathlib import Path

OUT = Path(__file__).resolve().parent / "output"


def study_arguments(doc):
    """Command-line options every study takes: `--quick` (a coarser run for the tests) and `--out`."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer points: a smoke run (used by the tests)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default: {OUT})")
    return parser


def write_csv(path: Path, rows):
    """Rows (dicts with the same keys) as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def markdown_table(header, rows):
    """A Markdown table from a header list and rows of already formatted cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
