"""Demo task: Fashion-MNIST with few labels, ImageNet features against raw pixels.

The transfer pipeline resizes each 28x28 grayscale image to the backbone's
224x224, describes it by EfficientNet-Lite0's 1,280
ImageNet features and fits a logistic regression; the baseline fits the same
classifier on the 784 raw pixels. Both learn from the same stratified draw of
labelled training images and are scored on a fixed stratified draw of the
official test images.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ..datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from ..image import KerasImageFeatures
from ._evaluation import (
    TaskResult,
    held_out_row,
    learning_curve_on_test_set,
    score_on_test_set,
    timed_fit,
)

SIZES = {  # (labelled training images, test images, learning-curve sizes)
    False: (500, 1000, (50, 100, 200, 500)),
    True: (200, 500, (50, 100, 200)),
}
INPUT_SIZE = 224


def _pixels(images):
    """Baseline input: the raw pixels, 0 to 1, one row per image."""
    return np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0


def _stratified_draw(images, labels, n, random_state):
    if n >= len(labels):
        return images, labels
    drawn, _, drawn_labels, _ = train_test_split(
        images, labels, train_size=n, stratify=labels, random_state=random_state
    )
    return drawn, drawn_labels


def _classifier(*inputs):
    """``inputs`` (transformers), then standardisation and a logistic regression."""
    return make_pipeline(*inputs, StandardScaler(), LogisticRegression(C=0.1, max_iter=500))


def run(*, small=False, n_jobs=-1, verbose=1):
    """Train and score the image pipelines; return a ``TaskResult``."""
    n_labels, n_test, curve_sizes = SIZES[small]
    names = np.asarray(FASHION_MNIST_CLASSES)
    X_pool, y_pool = load_fashion_mnist("train")
    X_train, y_train = _stratified_draw(X_pool, names[y_pool], n_labels, random_state=0)
    X_all_test, y_all_test = load_fashion_mnist("test")
    X_test, y_test = _stratified_draw(X_all_test, names[y_all_test], n_test, random_state=0)
    task = f"Fashion-MNIST, {n_labels} labels ({len(names)} classes)"
    if verbose:
        print(f"images: Fashion-MNIST, {n_labels} labelled training images, {n_test} test images")

    extractor = KerasImageFeatures(
        backbone="efficientnet_lite0",
        input_size=INPUT_SIZE,
        batch_size=64,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    transfer = _classifier(extractor)
    baseline = _classifier(FunctionTransformer(_pixels))
    rows = []
    if verbose:
        print(
            f"  EfficientNet-Lite0 ImageNet features ({INPUT_SIZE}x{INPUT_SIZE}) "
            "+ logistic regression ...",
            flush=True,
        )
    fitted, seconds = timed_fit(transfer, X_train, y_train)
    # Pipeline.predict is the head applied to the extracted features: extract
    # the test images once, for the prediction and the learning curve.
    features_test = fitted[0].transform(X_test)
    y_pred = fitted[1:].predict(features_test)
    rows.append(
        held_out_row(
            y_test,
            y_pred,
            seconds,
            n_labels,
            task=task,
            kind="transfer",
            method="EfficientNet-Lite0 ImageNet features + logistic regression",
        )
    )
    confusion = {
        "y_true": y_test,
        "y_pred": y_pred,
        "labels": list(names),
        "title": f"Fashion-MNIST, {n_labels} labels: ImageNet features",
    }
    if verbose:
        print("  raw pixels + logistic regression (from scratch) ...", flush=True)
    row, _ = score_on_test_set(
        baseline,
        X_train,
        y_train,
        X_test,
        y_test,
        task=task,
        kind="baseline",
        method="raw pixels + logistic regression (from scratch)",
    )
    rows.append(row)

    # The extractor learns nothing from the labels, so the learning curve
    # draws its training sets from features computed once.
    if verbose:
        print("  learning curves ...", flush=True)
    features_train = fitted[0].transform(X_train)
    curves = {
        "ImageNet features (transfer)": learning_curve_on_test_set(
            _classifier(), features_train, y_train, features_test, y_test, curve_sizes
        ),
        "raw pixels (from scratch)": learning_curve_on_test_set(
            _classifier(), _pixels(X_train), y_train, _pixels(X_test), y_test, curve_sizes
        ),
    }
    return TaskResult("images", f"Fashion-MNIST, {len(names)} classes", rows, confusion, curves)
