"""The sktransfer command and the runnable examples, end to end."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sktransfer import __version__
from sktransfer.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sktransfer {__version__}"


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "demo" in capsys.readouterr().err


def test_demo_prints_the_table_and_writes_results(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sktransfer.cli", "demo", "--out", str(tmp_path), "--quiet"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["task", "method", "accuracy"]
    rows = json.loads((tmp_path / "audio_results.json").read_text())
    transfer, scratch = rows
    assert transfer["method"].startswith("193 spectral features")
    assert transfer["labels_used"] == 180
    # Spoken digits in voices the model never heard: the transfer features win.
    assert transfer["accuracy"] >= 0.75 and transfer["accuracy"] > scratch["accuracy"] + 0.1
    assert f"{transfer['accuracy']:.3f}" in result.stdout
    assert len(list((tmp_path / "data" / "spoken_digits").glob("*/*.wav"))) == 240


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_example_runs(script):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout
