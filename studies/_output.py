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


def write_study(out: Path, name: str, text: str, tables: dict):
    """Print the Markdown `text` and write it as `<name>.md`, and each `{file stem: rows}` as CSV."""
    print(text)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(text)
    for stem, rows in tables.items():
        write_csv(out / f"{stem}.csv", rows)


def finish_rate_figure(fig, ax, path, xlabel, title):
    """Log-log axes with the event rate on y, a small legend; save `path` and close."""
    import matplotlib.pyplot as plt

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("event rate [1/yr]")
    ax.set_title(title)
    ax.legend(fontsize="x-small", loc="lower left")
    fig.savefig(path)
    plt.close(fig)
    return path
