"""The sktransfer command and the runnable examples, end to end."""

import json
import os
from pathlib import Path

import pytest

from sktransfer import __version__
from sktransfer.cli import main

from ..fresh_process import run_python
from .test_console import foreign_lines

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.timeout(1800)  # about 2 minutes on 2 idle cores; over 10 on 2 shared ones
def test_demo_prints_the_table_and_writes_results(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = run_python("-m", "sktransfer.cli", "demo", "--small", "--out", tmp_path, env=env)
    # Standard error is the extractors' progress bars and nothing else (no TensorFlow
    # C++ lines, no warnings); the demo's own progress and its table are on stdout.
    assert foreign_lines(result.stderr) == []
    lines = result.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("task ")))
    assert lines[header].split() == ["task", "method", "accuracy", "fit", "time", "labels"]
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["small"] is True
    rows = {
        (r["task"].split(",")[0], r["kind"], r["method"].split(" + ")[0]): r for r in report["rows"]
    }
    assert len(rows) == 13
    for row in rows.values():
        assert f"{row['accuracy']:.3f}" in result.stdout
    # Each modality: the transfer pipeline beats its from-scratch baseline on held-out data.
    images = rows["Fashion-MNIST", "transfer", "EfficientNet-Lite0 ImageNet features"]
    pixels = rows["Fashion-MNIST", "baseline", "raw pixels"]
    assert images["labels_used"] == pixels["labels_used"] == 200
    assert images["accuracy"] >= 0.78 and images["accuracy"] > pixels["accuracy"] + 0.03
    glove = rows["review polarity", "transfer", "GloVe 6B 50-d pretrained"]
    tfidf = rows["review polarity", "baseline", "TF-IDF bag of words"]
    assert glove["labels_used"] == 160
    assert glove["accuracy"] >= 0.6 and glove["accuracy"] > tfidf["accuracy"] + 0.04
    sentences = rows["review polarity", "transfer", "all-MiniLM-L6-v2 sentence vectors"]
    assert sentences["labels_used"] == 160
    assert sentences["accuracy"] >= 0.68 and sentences["accuracy"] > glove["accuracy"] + 0.04
    # The encoder fine-tuned on pairs of the training fold's sentences (--small: one fold).
    setfit = rows[
        "review polarity", "transfer", "all-MiniLM-L6-v2 fine-tuned on labelled pairs (SetFit)"
    ]
    assert setfit["labels_used"] == 160
    assert setfit["evaluation"] == "1 of the 5 folds of a cross-validation, 4 epochs"
    assert setfit["accuracy"] >= 0.65
    text_curves = report["learning_curves"]["text"]
    assert sorted(text_curves) == [
        "TF-IDF bag of words (from scratch)",
        "all-MiniLM-L6-v2 fine-tuned on labelled pairs (SetFit) (transfer)",
        "all-MiniLM-L6-v2 sentence vectors (transfer)",
    ]
    assert all(curve["sizes"] == [16, 32, 160] for curve in text_curves.values())
    spectral = rows["spoken digits", "transfer", "193 spectral features"]
    waveform = rows["spoken digits", "baseline", "raw waveform"]
    assert spectral["labels_used"] == 60
    assert spectral["accuracy"] >= 0.75 and spectral["accuracy"] > waveform["accuracy"] + 0.08
    spectrograms = rows["spoken digits", "transfer", "spectrogram images"]
    assert spectrograms["labels_used"] == 60
    assert (
        spectrograms["accuracy"] >= 0.7 and spectrograms["accuracy"] > waveform["accuracy"] + 0.08
    )
    # Two-stage transfer: features of the network fine-tuned on the source classes beat
    # its ImageNet features on the target classes.
    two_stage = rows["Fashion-MNIST 6-9 after 0-5", "transfer", "ImageNet then source features"]
    imagenet = rows[
        "Fashion-MNIST 6-9 after 0-5", "transfer", "EfficientNet-Lite0 ImageNet features (32x32)"
    ]
    assert two_stage["labels_used"] == imagenet["labels_used"] == 200
    assert two_stage["accuracy"] > imagenet["accuracy"]
    # Learning curves: transfer ahead at the fewest labels too.
    for task, transfer in (
        ("images", "ImageNet features (transfer)"),
        ("audio", "spectral features (transfer)"),
    ):
        curves = report["learning_curves"][task]
        baseline = next(curve for name, curve in curves.items() if "from scratch" in name)
        assert curves[transfer]["sizes"] == baseline["sizes"]
        assert curves[transfer]["mean"][0] > baseline["mean"][0]
    for name in ("images", "text", "audio"):
        for figure in ("confusion", "learning_curve"):
            png = (tmp_path / f"{name}_{figure}.png").read_bytes()
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert len(list((tmp_path / "data" / "spoken_digits").glob("*/*.wav"))) == 80


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_example_runs(script):
    # Each example reads SKTRANSFER_EXAMPLES_FAST and then runs on less data; one BLAS
    # thread keeps its small linear models from waiting on a busy machine's second core.
    result = run_python(
        ROOT / "examples" / script,
        env={**os.environ, "SKTRANSFER_EXAMPLES_FAST": "1", "OPENBLAS_NUM_THREADS": "1"},
    )
    assert "accuracy" in result.stdout
