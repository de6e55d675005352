"""From training to production: fit, save with joblib, load in a fresh process, predict.

A whole transfer pipeline (EfficientNet-Lite0 ImageNet features, scaling and a
logistic regression) is fitted on Fashion-MNIST images and saved with
``joblib.dump``. A new Python process, which shares nothing with this one,
loads the file and predicts the test images; its predictions must equal the
ones made here, and their accuracy is printed.

Run: ``.venv/bin/python examples/production_round_trip.py`` (under a minute on 2 cores).
Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run on fewer, smaller images.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import KerasImageFeatures
from sktransfer.datasets import load_fashion_mnist

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
N_LABELS, N_TEST, INPUT_SIZE = (100, 100, 64) if FAST else (500, 500, 224)

PREDICT_IN_NEW_PROCESS = """
import sys, joblib, numpy as np
model = joblib.load(sys.argv[1])
np.save(sys.argv[3], model.predict(np.load(sys.argv[2])))
"""


def main():
    X_train, y_train = load_fashion_mnist("train", n=N_LABELS)
    X_test, y_test = load_fashion_mnist("test", n=N_TEST)
    model = make_pipeline(
        KerasImageFeatures(backbone="efficientnet_lite0", input_size=INPUT_SIZE),
        StandardScaler(),
        LogisticRegression(C=0.1, max_iter=1000),
    ).fit(X_train, y_train)
    here = model.predict(X_test)

    folder = Path(tempfile.mkdtemp())
    joblib.dump(model, folder / "model.joblib")
    np.save(folder / "images.npy", X_test)
    subprocess.run(
        [
            sys.executable,
            "-c",
            PREDICT_IN_NEW_PROCESS,
            str(folder / "model.joblib"),
            str(folder / "images.npy"),
            str(folder / "predictions.npy"),
        ],
        check=True,
    )
    there = np.load(folder / "predictions.npy")
    size = (folder / "model.joblib").stat().st_size
    print(
        f"saved model: {size / 1024:.0f} KiB (the network's weights by reference: rebuilt "
        "from their source on load, their SHA-256 checked)"
    )
    print(f"predictions identical after loading in a new process: {np.array_equal(here, there)}")
    print(
        f"test accuracy here {np.mean(here == y_test):.3f}, "
        f"in the new process {np.mean(there == y_test):.3f} ({N_TEST} images)"
    )
    if not np.array_equal(here, there):
        raise SystemExit("the loaded model predicts differently")


if __name__ == "__main__":
    main()
