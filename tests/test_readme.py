"""The README's commands and Python example run as shown."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_python_example_runs():
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    result = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert abs(float(lines[0]) / 7.2e-4 - 1) < 0.01


def test_readme_cnbfluor_commands_run():
    commands = re.findall(r"^\$ (cnbfluor .*)$", README, re.M)
    assert commands, "the README shows cnbfluor commands"
    for command in commands:
        args = command.split()[1:]
        result = subprocess.run(
            [sys.executable, "-m", "optimize.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=600
        )
        assert result.returncode == 0, (command, result.stderr)


def test_readme_default_output_is_current():
    """The tour's printed table is what `cnbfluor rate` prints today."""
    shown = re.search(r"\$ cnbfluor rate\n(.*?)```", README, re.S).group(1).strip()
    result = subprocess.run([sys.executable, "-m", "optimize.cli", "rate"], capture_output=True, text=True, timeout=600)
    assert result.stdout.strip() == shown


def test_readme_documents_every_scenario_key():
    from rates.scenario import SCHEMA

    for table, keys in SCHEMA.items():
        for key in keys:
            assert f"`{table}.{key}`" in README, f"{table}.{key}"
