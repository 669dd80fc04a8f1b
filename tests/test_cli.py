"""`cnbfluor rate`: JSON contract, human table, exit codes."""

import json
import subprocess
import sys

import pytest

from cnbfluor.cli import main


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "cnbfluor", *args], capture_output=True, text=True, timeout=300
    )


def test_rate_json_contract(capsys):
    assert main(["rate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"rate_per_year", "rest_rate_per_year", "roots"} <= set(out)
    root = out["roots"][0]
    assert {"k_eV", "omega_eV", "dk", "group_velocity"} <= set(root)
    assert root["dk"] == pytest.approx(0.5) and root["group_velocity"] == pytest.approx(1.0)
    assert out["rest_rate_per_year"] == pytest.approx(5.14 / 2, rel=0.02)
    assert 0 < out["rate_per_year"] < out["rest_rate_per_year"]


def test_rate_scenario_file_and_table(tmp_path, capsys):
    path = tmp_path / "band.toml"
    path.write_text(
        '[dispersion]\nmodel = "linear-band"\nomega_eV = 0.0250649\nk_eV = 0.0250649\n'
        'group_velocity = 1e-4\n[conventions]\ndk = "paper"\n'
    )
    assert main(["rate", str(path)]) == 0
    text = capsys.readouterr().out
    assert "event rate, momentum-averaged" in text and "linear-band" in text
    assert main(["rate", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["roots"][0]["dk"] == 1.0 and out["dk_convention"] == "paper"


def test_bad_input_exits_nonzero_with_message(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[medium]\ncoherence_time_ns = -3\n")
    result = run_cli("rate", str(path))
    assert result.returncode == 2
    assert "medium.coherence_time_ns" in result.stderr and "> 0" in result.stderr
    assert result.stdout == ""


def test_rate_reports_its_error_estimate_and_warns_above_the_tolerance(capsys):
    """`rate_rel_error`, `flags` and `warnings` in the JSON; a warning on stderr above --tolerance."""
    assert main(["rate", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert 0 < out["rate_rel_error"] < 1e-3 and out["flags"] == 0 and out["warnings"] == []
    assert out["rate_error_per_year"] == pytest.approx(out["rate_rel_error"] * out["rate_per_year"], rel=1e-9)
    assert captured.err == ""
    assert main(["rate", "--tolerance", "1e-12"]) == 0
    assert "above --tolerance 1e-12" in capsys.readouterr().err


def test_rate_rejects_a_non_positive_tolerance():
    result = run_cli("rate", "--tolerance", "0")
    assert result.returncode == 2
    assert "--tolerance: must be > 0" in result.stderr and result.stdout == ""
