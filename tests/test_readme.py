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
            [sys.executable, "-m", "cnbfluor", *args], capture_output=True, text=True, cwd=ROOT, timeout=600
        )
        assert result.returncode == 0, (command, result.stderr)


def test_readme_python_commands_run():
    """The `$ python studies/...` commands the README shows run as shown."""
    commands = re.findall(r"^\$ python (.*)$", README, re.M)
    assert commands, "the README shows the study commands"
    for command in commands:
        result = subprocess.run([sys.executable, *command.split()], capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert result.returncode == 0, (command, result.stderr)


def test_readme_default_output_is_current():
    """The tour's printed table is what `cnbfluor rate` prints today."""
    shown = re.search(r"\$ cnbfluor rate\n(.*?)```", README, re.S).group(1).strip()
    result = subprocess.run([sys.executable, "-m", "cnbfluor", "rate"], capture_output=True, text=True, timeout=600)
    assert result.stdout.strip() == shown


def test_readme_fig2_output_is_current(tmp_path):
    """The tour's `cnbfluor fig2` printout is what the command prints today (up to the output path)."""
    block = re.search(r"\$ (cnbfluor fig2 .*?)\n(.*?)```", README, re.S)
    args = block.group(1).split()[1:]
    shown_out = args[args.index("--out") + 1]
    args[args.index("--out") + 1] = str(tmp_path / "fig2.png")
    result = subprocess.run([sys.executable, "-m", "cnbfluor", *args], capture_output=True, text=True,
                            cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().replace(str(tmp_path / "fig2.png"), shown_out) == block.group(2).strip()
    assert (ROOT / "docs" / "fig2_slow_light.png").exists()  # the figure the README shows


def test_readme_documents_every_scenario_key():
    from cnbfluor.scenario import SCHEMA

    for table, keys in SCHEMA.items():
        for key in keys:
            assert f"`{table}.{key}`" in README, f"{table}.{key}"


def test_readme_scenario_reference_is_the_key_table():
    """The README's scenario reference is generated from the one table of keys, and current."""
    from cnbfluor.scenario import reference_table

    assert reference_table() in README, "regenerate the README table with cnbfluor.scenario.reference_table()"
