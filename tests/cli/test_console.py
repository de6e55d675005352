"""The whole standard error of the ``sktransfer`` commands: their own progress, nothing else.

No TensorFlow/absl C++ lines, no Keras or Python warnings, no retracing
notices: each command below runs in a fresh process as a user runs it, and
every line (and every progress-bar redraw) of its standard error must be one of
the command's own messages or one of sktransfer's progress bars.
"""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from sktransfer.cli import load_model

ROOT = Path(__file__).resolve().parents[2]
BAR = re.compile(
    r"(image features|audio features|spectrogram images|word2vec[\w ]*): +\d+%\|.*\|.*"
)
FIT_MESSAGES = (r"read \d+ \w+ .*", r"fitting on \d+ examples, holding out \d+ \.\.\.")


def sktransfer(*argv, **kwargs):
    """``python -m sktransfer.cli argv...`` with the user's environment (no log level set)."""
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, "-m", "sktransfer.cli", *map(str, argv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        **kwargs,
    )


def foreign_lines(stderr, messages=()):
    """The pieces of ``stderr`` that are neither a progress bar nor one of ``messages``."""
    pieces = [piece for piece in re.split(r"[\r\n]", stderr) if piece.strip()]
    return [
        piece
        for piece in pieces
        if not BAR.fullmatch(piece) and not any(re.fullmatch(m, piece) for m in messages)
    ]


@pytest.fixture(scope="module")
def models(tmp_path_factory, image_folder, audio_folder, polarity_files):
    """``models(name)``: a model fitted by the command (fitted on first use) and its stderr."""
    out = tmp_path_factory.mktemp("models")
    runs = {
        "image": [image_folder, "--input-size", "32", "--epochs", "3"],
        "fine-tuning": [image_folder, "--input-size", "32", "--trainable-layers", "1"],
        "audio": [audio_folder, "--epochs", "3"],
        "text": [polarity_files / "reviews.csv", "--epochs", "2"],
    }
    fitted = {}

    def fit(name):
        if name not in fitted:
            path = out / f"{name}.joblib"
            argv = [*runs[name], "--out", path, "--random-state", "0", "--n-jobs", "1"]
            result = sktransfer("fit", *argv)
            assert result.returncode == 0, result.stderr
            fitted[name] = path, result.stderr
        return fitted[name]

    fit.names = list(runs)
    return fit


@pytest.mark.parametrize("name", ["image", "fine-tuning", "audio", "text"])
def test_fit_prints_only_its_progress(models, name):
    _, stderr = models(name)
    assert foreign_lines(stderr, FIT_MESSAGES) == []
    assert re.search(r"^read \d+", stderr, flags=re.M)  # the messages are there


def test_saved_models_predict_silently(models):
    for path, _ in map(models, models.names):
        params = load_model(path).pipeline.get_params()
        assert {k: v for k, v in params.items() if k.endswith("verbose") and v} == {}


def test_predict_and_evaluate_print_only_their_progress(models, image_folder):
    path, _ = models("image")
    predicted = sktransfer("predict", path, sorted(image_folder.iterdir())[0])
    assert predicted.returncode == 0, predicted.stderr
    assert foreign_lines(predicted.stderr, [r"classifying \d+ image inputs \.\.\."]) == []
    evaluated = sktransfer("evaluate", path, image_folder)
    assert evaluated.returncode == 0, evaluated.stderr
    assert foreign_lines(evaluated.stderr, [r"evaluating on \d+ \w+ .* \.\.\."]) == []


def test_serve_logs_start_up_and_requests_only(models, image_folder):
    path, _ = models("image")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, "-m", "sktransfer.cli", "serve", str(path), "--port", str(port)]
    process = subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=environment,
    )
    lines = []
    try:
        for line in process.stderr:  # uvicorn says when it listens
            lines.append(line)
            if "Uvicorn running on" in line:
                break
        files = sorted(sorted(image_folder.iterdir())[0].iterdir())[:3]
        for file in files:
            upload = [("files", (file.name, file.read_bytes()))]
            answer = httpx.post(f"http://127.0.0.1:{port}/predict", files=upload, timeout=60)
            assert answer.status_code == 200, answer.text
    finally:
        process.terminate()
        lines += process.stderr.readlines()
        process.wait()
    log = r"[\d-]+ [\d:,]+ sktransfer\.serve: .*"
    uvicorn = r"INFO: +(Started server process|Waiting for application|Application|Uvicorn|Shutting down|Finished server process).*"
    assert foreign_lines("".join(lines), [log, uvicorn]) == []
    assert any("model ready" in line for line in lines), lines
