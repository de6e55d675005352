"""New processes for the tests: persistence checks and commands, with the child's errors shown.

Every test that starts a Python process or a command goes through ``run_command``, so that
a child that fails shows its stderr (and stdout) in the test's failure, never a bare exit
status.
"""

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


def run_command(argv, *, expect=0, env=None, cwd=None):
    """Run ``argv`` in a new process; its ``subprocess.CompletedProcess`` (text captured).

    An exit status other than ``expect`` fails the test with the ends of the command's
    stderr and stdout.
    """
    argv = [str(arg) for arg in argv]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd)
    assert result.returncode == expect, (
        f"{argv[:4]}... exited with status {result.returncode}, not {expect}\n"
        f"--- stderr (last 4000 characters) ---\n{result.stderr[-4000:]}\n"
        f"--- stdout (last 2000 characters) ---\n{result.stdout[-2000:]}"
    )
    return result


def run_python(*args, **kwargs):
    """``python *args`` (``-c CODE``, ``-m MODULE ...`` or a script) through ``run_command``."""
    return run_command([sys.executable, *args], **kwargs)


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
