"""Persistence checks shared by the test modules."""

import subprocess
import sys

import joblib
import numpy as np


def transform_in_fresh_process(estimator, X, tmp_path):
    """``estimator.transform(X)`` computed in a new Python process after a joblib round trip.

    ``X`` must be written back by its ``repr`` (a list of paths or texts).
    """
    saved, out = tmp_path / "estimator.joblib", tmp_path / "transformed.npy"
    joblib.dump(estimator, saved)
    script = (
        "import joblib, numpy as np, warnings; warnings.simplefilter('ignore');"
        f"estimator = joblib.load({str(saved)!r});"
        f"np.save({str(out)!r}, estimator.transform({X!r}))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return np.load(out)
