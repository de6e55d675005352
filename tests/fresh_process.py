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
    result, out = _run_saved(saved, method, X, tmp_path)
    assert result.returncode == 0, result.stderr
    return np.load(out)


def error_in_fresh_process(saved, method, X, tmp_path):
    """The last line of the traceback of ``getattr(joblib.load(saved), method)(X)``, which
    must fail, in a new Python process: the exception's type and message."""
    result, _ = _run_saved(saved, method, X, tmp_path)
    assert result.returncode != 0, "the call succeeded in the fresh process"
    return result.stderr.strip().splitlines()[-1]


def _run_saved(saved, method, X, tmp_path):
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
    return result, out


def transform_in_fresh_process(estimator, X, tmp_path):
    """``estimator.transform(X)`` computed in a new Python process after a joblib round trip."""
    return call_in_fresh_process(estimator, "transform", X, tmp_path)
