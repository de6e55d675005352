"""Reuse ImageNet features: extract them once, then try several heads.

Fashion-MNIST with few labels (500 training images, 50 per class) and 1,000
test images. ``KerasImageFeatures`` turns every image into EfficientNet-Lite0's
1,280 ImageNet features once; each head is then a scikit-learn Pipeline
(standardisation and a classifier) fitted on those features in seconds:
logistic regression, a linear SVM, k nearest neighbours and a Keras dense head.
A logistic regression on the raw pixels shows what the features add.

Run: ``.venv/bin/python examples/image_feature_reuse.py`` (about a minute on 2 cores).
Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run on fewer, smaller images.
"""

import os
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sktransfer import DenseHeadClassifier, KerasImageFeatures
from sktransfer.datasets import load_fashion_mnist

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
N_LABELS, N_TEST, INPUT_SIZE = (200, 300, 96) if FAST else (500, 1000, 224)


def main():
    X_train, y_train = load_fashion_mnist("train", n=N_LABELS)
    X_test, y_test = load_fashion_mnist("test", n=N_TEST)
    start = time.perf_counter()
    extractor = KerasImageFeatures(backbone="efficientnet_lite0", input_size=INPUT_SIZE, n_jobs=-1)
    F_train, F_test = extractor.fit_transform(X_train), extractor.transform(X_test)
    print(
        f"{N_LABELS} labelled and {N_TEST} test images -> {F_train.shape[1]} features each "
        f"in {time.perf_counter() - start:.0f}s\n"
    )

    heads = {
        "logistic regression": LogisticRegression(C=0.1, max_iter=1000),
        "linear SVM": LinearSVC(C=0.01),
        "5 nearest neighbours": KNeighborsClassifier(5),
        "dense head (256 ReLU, dropout)": DenseHeadClassifier(epochs=60, random_state=0),
    }
    for name, head in heads.items():
        model = make_pipeline(StandardScaler(), head)
        start = time.perf_counter()
        model.fit(F_train, y_train)
        accuracy = model.score(F_test, y_test)
        print(
            f"ImageNet features + {name:32s} accuracy {accuracy:.3f}  "
            f"({time.perf_counter() - start:.1f}s)"
        )
    pixels = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))

    def flat(images):
        return images.reshape(len(images), -1).astype(np.float32) / 255

    pixels.fit(flat(X_train), y_train)
    print(
        f"{'raw pixels + logistic regression (no transfer)':53s} "
        f"accuracy {pixels.score(flat(X_test), y_test):.3f}"
    )


if __name__ == "__main__":
    main()
