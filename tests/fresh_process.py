"""Persistence checks shared by the test modules."""

import subprocess
import sys

import joblib
import numpy as np


def call_in_fresh_process(estimator, method, X, tmp_path):
    """``getattr(estimator, method)(X)`` computed in a new Python process after a joblib round trip.

    ``X`` is an array (passed through a .npy file) or a list written back by its
    ``repr`` (paths or texts).
    """
    saved = tmp_path / "estimator.joblib"
    joblib.dump(estimator, saved)
    return call_saved_in_fresh_process(saved, method, X, tmp_path)


def call_saved_in_fresh_process(saved, method, X, tmp_path):
    """``getattr(joblib.load(saved), method)(X)`` computed in a new Python process."""
    out = tmp_path / "result.npy"
    if isinstance(X, np.ndarray):
        np.save(tmp_path / "X.npy", X)
        X_code = f"np.load({str(tmp_path / 'X.npy')!r}, allow_pickle=True)"
    else:
        X_code = repr(X)
    script = (
        "import joblib, numpy as np, warnings; warnings.simplefilter('ignore');"
        f"estimator = joblib.load({str(saved)!r});"
        f"np.save({str(out)!r}, estimator.{method}({X_code}))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return np.load(out)


def transform_in_fresh_process(estimator, X, tmp_path):
    """``estimator.transform(X)`` computed in a new Python process after a joblib round trip."""
    return call_in_fresh_process(estimator, "transform", X, tmp_path)


def errors_of(function, inputs):
    """The ``[type name, message]`` that ``function`` raises on each of ``inputs`` (None if none)."""
    found = []
    for X in inputs:
        try:
            function(X)
        except Exception as exc:  # compared as they are, whatever their type
            found.append([type(exc).__name__, str(exc)])
        else:
            found.append(None)
    return found


def bad_image_inputs(folder):
    """Inputs that every reader of images refuses; ``folder`` holds ``item0.png``.

    Writes ``empty.png`` (0 bytes) and ``not-an-image.png`` (text) into it.
    """
    open(f"{folder}/empty.png", "wb").close()
    with open(f"{folder}/not-an-image.png", "w") as stream:
        stream.write("text")
    return [
        [f"{folder}/missing.png"],
        f"{folder}/item0.png",
        [],
        [f"{folder}/empty.png"],
        [f"{folder}/not-an-image.png"],
        np.zeros((2, 8, 8, 5), np.uint8),
        [np.zeros((8, 8, 2), np.uint8)],
        [np.full((8, 8), np.nan)],
        [f"{folder}/item0.png", 3],
    ]
