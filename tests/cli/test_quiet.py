"""The ``sktransfer`` command starts TensorFlow without its start-up lines."""

import os
from pathlib import Path

from ..fresh_process import run_python

ROOT = Path(__file__).resolve().parents[2]
START_UP_MARKS = ("absl::InitializeLog", "oneDNN custom operations", "cpu_feature_guard")


def predict_missing_model(tmp_path, **env):
    """``python -m sktransfer.cli predict`` with a model file that does not exist."""
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    missing = tmp_path / "missing.joblib"
    result = run_python(
        *("-m", "sktransfer.cli", "predict", missing, tmp_path),
        expect=1,
        cwd=ROOT,
        env={**environment, **env},
    )
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"sktransfer predict: error: the model file '{missing}' does not exist"
    )
    return result.stderr


def test_no_tensorflow_start_up_lines_and_errors_still_shown(tmp_path):
    # The same command prints them when the user asks (next test): TensorFlow is started.
    stderr = predict_missing_model(tmp_path)
    assert not [line for line in stderr.splitlines() if any(m in line for m in START_UP_MARKS)]


def test_a_log_level_set_by_the_user_is_respected(tmp_path):
    stderr = predict_missing_model(tmp_path, TF_CPP_MIN_LOG_LEVEL="0")
    assert any(mark in stderr for mark in START_UP_MARKS), stderr
