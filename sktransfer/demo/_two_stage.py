"""Demo task: two-stage transfer, ImageNet then the user's own source task, on Fashion-MNIST.

The source task is Fashion-MNIST's classes 0 to 5, the target task classes 6
to 9 with 50 labelled images per class. Stage 1 fine-tunes EfficientNet-Lite0
(ImageNet weights, images at 32x32) on a draw of source images with
``FineTuneImageClassifier``; stage 2 takes that network's features
(``KerasImageFeatures(weights=<the source model>)``) into a logistic
regression on the target labels. It is compared with ImageNet features at the
same size and with raw pixels, all scored on a fixed draw of the target
classes' test images. The fit time of the two-stage row includes the source
stage. ``examples/two_stage_transfer.py`` runs the full comparison (all
36,000 source images, fine-tuned targets, label budgets from 10 to 100 per
class).
"""

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import FunctionTransformer

from ..datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from ..heads import FineTuneImageClassifier
from ..image import KerasImageFeatures
from ._evaluation import TaskResult, best_transfer, score_on_test_set, timed_fit
from ._images import _classifier, _pixels

SOURCE_CLASSES, TARGET_CLASSES = range(0, 6), range(6, 10)
INPUT_SIZE = 32
LABELS_PER_CLASS = 50
SIZES = {  # (source images, source epochs, target test images)
    False: (2400, 3, 1000),
    True: (600, 2, 400),
}


def _draw(subset, classes, n, random_state=0):
    images, labels = load_fashion_mnist(subset)
    keep = np.isin(labels, list(classes))
    names = np.asarray(FASHION_MNIST_CLASSES)[labels[keep]]
    drawn, _, drawn_labels, _ = train_test_split(
        images[keep], names, train_size=n, stratify=names, random_state=random_state
    )
    return drawn, drawn_labels


def run(*, small=False, n_jobs=-1, verbose=1):
    """Train the source model, then score the target pipelines; return a ``TaskResult``."""
    n_source, source_epochs, n_test = SIZES[small]
    n_labels = LABELS_PER_CLASS * len(TARGET_CLASSES)
    X_source, y_source = _draw("train", SOURCE_CLASSES, n_source)
    X_train, y_train = _draw("train", TARGET_CLASSES, n_labels)
    X_test, y_test = _draw("test", TARGET_CLASSES, n_test)
    task = f"Fashion-MNIST 6-9 after 0-5, {n_labels} labels"
    if verbose:
        print(
            f"two-stage: fine-tuning EfficientNet-Lite0 ({INPUT_SIZE}x{INPUT_SIZE}) on "
            f"{n_source} source images of classes 0-5 ...",
            flush=True,
        )
    source, source_seconds = timed_fit(
        FineTuneImageClassifier(
            input_size=INPUT_SIZE,
            trainable_layers=10,
            freeze_epochs=1,
            epochs=source_epochs,
            batch_size=64,
            early_stopping=False,
            n_jobs=n_jobs,
            random_state=0,
        ),
        X_source,
        y_source,
    )
    features = {"batch_size": 256, "input_size": INPUT_SIZE, "n_jobs": n_jobs}
    methods = [
        (
            "ImageNet then source features + logistic regression",
            "transfer",
            _classifier(KerasImageFeatures(weights=source, **features)),
        ),
        (
            f"EfficientNet-Lite0 ImageNet features ({INPUT_SIZE}x{INPUT_SIZE}) + logistic regression",
            "transfer",
            _classifier(KerasImageFeatures(**features)),
        ),
        (
            "raw pixels + logistic regression (from scratch)",
            "baseline",
            _classifier(FunctionTransformer(_pixels)),
        ),
    ]
    rows, predictions = [], []
    for method, kind, model in methods:
        if verbose:
            print(f"  {method} ...", flush=True)
        row, y_pred = score_on_test_set(
            model, X_train, y_train, X_test, y_test, task=task, kind=kind, method=method
        )
        rows.append(row)
        predictions.append(y_pred)
    rows[0]["fit_seconds"] += source_seconds  # the two-stage model's cost includes stage 1
    best = best_transfer(rows)
    confusion = {
        "y_true": y_test,
        "y_pred": predictions[best],
        "labels": sorted(set(y_test)),
        "title": f"Fashion-MNIST 6-9, {n_labels} labels: {rows[best]['method'].split(' + ')[0]}",
    }
    return TaskResult("two_stage", "Fashion-MNIST 6-9 after 0-5", rows, confusion)
