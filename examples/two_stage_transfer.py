"""Two-stage transfer: ImageNet, then the user's own source task, then a small target task.

Fashion-MNIST split in two tasks. The *source* task is classes 0 to 5
(T-shirt, trouser, pullover, dress, coat, sandal) with all their 36,000
training images; the *target* task is classes 6 to 9 (shirt, sneaker, bag,
ankle boot) with only 10 to 100 labelled images per class, scored on all
4,000 of their test images.

Stage 1 fine-tunes EfficientNet-Lite0 (ImageNet weights) on the source task
with ``FineTuneImageClassifier``. Stage 2 reuses that network on the target
task in one parameter, ``weights=<the fitted source model>``:

- frozen: ``KerasImageFeatures(weights=source)`` features and a logistic
  regression;
- fine-tuned: ``FineTuneImageClassifier(weights=source)``, a new head for the
  target's classes and the top layers trained further;

against ImageNet features alone, raw pixels (from scratch), and a dense head
on ImageNet features started from one trained on the source task
(``DenseHeadClassifier(init_from=...)``). Images are brought to 32x32 pixels,
the smallest size the backbone takes, so that the source stage runs in a few
minutes on 2 CPU cores.

Run: ``.venv/bin/python examples/two_stage_transfer.py`` (about 10 minutes on
2 cores). Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run on fewer images.
"""

import os
import time

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sktransfer import DenseHeadClassifier, FineTuneImageClassifier, KerasImageFeatures
from sktransfer.datasets import load_fashion_mnist

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
INPUT_SIZE = 32
N_SOURCE = 120 if FAST else None  # None: all 36,000 source training images
SOURCE_EPOCHS = 2 if FAST else 4  # of which FREEZE_EPOCHS train the new head alone
FREEZE_EPOCHS = 1 if FAST else 2
TARGET_EPOCHS, TARGET_FREEZE_EPOCHS = (2, 1) if FAST else (30, 10)  # fine-tuned target
HEAD_EPOCHS = 5 if FAST else 100  # dense heads, with early stopping
TRAINABLE_LAYERS = 10
BUDGETS = (10,) if FAST else (10, 20, 50, 100)  # labelled target images per class
DRAWS = 1 if FAST else 3
N_TEST = 100 if FAST else None  # None: all 4,000 target test images
SOURCE_CLASSES, TARGET_CLASSES = range(0, 6), range(6, 10)


def pixels(images):
    return np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0


def logistic_regression(*steps):
    return make_pipeline(*steps, StandardScaler(), LogisticRegression(C=0.1, max_iter=1000))


def split(subset, classes, n=None):
    images, labels = load_fashion_mnist(subset)
    keep = np.isin(labels, list(classes))
    images, labels = images[keep], labels[keep]
    if n is not None:
        images, _, labels, _ = train_test_split(
            images, labels, train_size=n, stratify=labels, random_state=0
        )
    return images, labels


def timed_fit(model, X, y):
    """A fitted clone of ``model`` and the seconds its fit took."""
    start = time.perf_counter()
    fitted = clone(model).fit(X, y)
    return fitted, time.perf_counter() - start


def fine_tuner(**settings):
    """Lite0 at 32x32 with its top layers trainable: the source model, and the fine-tuned target."""
    return FineTuneImageClassifier(
        input_size=INPUT_SIZE, trainable_layers=TRAINABLE_LAYERS, random_state=0, **settings
    )


def train_source(X_source, y_source):
    """Stage 1: fine-tune Lite0's top layers on the source classes; the fitted classifier."""
    source = fine_tuner(
        freeze_epochs=FREEZE_EPOCHS, epochs=SOURCE_EPOCHS, batch_size=64, patience=2
    )
    source, seconds = timed_fit(source, X_source, y_source)
    print(
        f"stage 1: {len(y_source)} source images, {len(source.history_['loss'])} epochs, "
        f"dev accuracy {source.history_['val_accuracy'][source.best_epoch_ - 1]:.3f}, "
        f"{seconds:.0f}s"
    )
    return source


def target_methods(source, source_head):
    """Stage 2: the target models, each from a fresh clone for every labelled draw."""
    imagenet = KerasImageFeatures(input_size=INPUT_SIZE, batch_size=256)
    return {
        "raw pixels + LR (from scratch)": logistic_regression(FunctionTransformer(pixels)),
        "ImageNet features + LR": logistic_regression(imagenet),
        "ImageNet + dense head": make_pipeline(
            imagenet, StandardScaler(), DenseHeadClassifier(epochs=HEAD_EPOCHS, random_state=0)
        ),
        "ImageNet + dense head from source head": make_pipeline(
            imagenet,
            StandardScaler(),
            DenseHeadClassifier(init_from=source_head, epochs=HEAD_EPOCHS, random_state=0),
        ),
        "ImageNet->source features + LR (frozen)": logistic_regression(
            KerasImageFeatures(weights=source, input_size=INPUT_SIZE, batch_size=256)
        ),
        "ImageNet->source, fine-tuned": fine_tuner(
            weights=source,
            freeze_epochs=TARGET_FREEZE_EPOCHS,
            epochs=TARGET_EPOCHS,
            validation_fraction=0.2,
        ),
    }


def source_dense_head(X_source, y_source):
    """A dense head on ImageNet features of the source classes, to start a target head from."""
    head = make_pipeline(
        KerasImageFeatures(input_size=INPUT_SIZE, batch_size=256),
        StandardScaler(),
        DenseHeadClassifier(epochs=HEAD_EPOCHS, random_state=0),
    )
    head, seconds = timed_fit(head, X_source, y_source)
    print(f"source dense head on ImageNet features: {seconds:.0f}s")
    return head


def main():
    X_source, y_source = split("train", SOURCE_CLASSES, N_SOURCE)
    X_pool, y_pool = split("train", TARGET_CLASSES)
    X_test, y_test = split("test", TARGET_CLASSES, N_TEST)
    source = train_source(X_source, y_source)
    methods = target_methods(source, source_dense_head(X_source, y_source))
    curves = {name: [] for name in methods}
    for per_class in BUDGETS:
        for name, model in methods.items():
            accuracies, seconds = [], []
            for draw in range(DRAWS):
                X_train, _, y_train, _ = train_test_split(
                    X_pool,
                    y_pool,
                    train_size=per_class * len(TARGET_CLASSES),
                    stratify=y_pool,
                    random_state=draw,
                )
                fitted, fit_seconds = timed_fit(model, X_train, y_train)
                accuracies.append(fitted.score(X_test, y_test))
                seconds.append(fit_seconds)
            curves[name].append((np.mean(accuracies), np.std(accuracies), np.mean(seconds)))
            print(
                f"{per_class:3d}/class  {name:42s} accuracy {np.mean(accuracies):.3f} "
                f"± {np.std(accuracies):.3f}  fit {np.mean(seconds):.1f}s",
                flush=True,
            )
    print(f"\ntarget accuracy on {len(y_test)} test images (mean ± std over {DRAWS} draws)")
    print(f"{'labels per class':42s}" + "".join(f"{b:>15d}" for b in BUDGETS))
    for name, points in curves.items():
        print(f"{name:42s}" + "".join(f"{m:>9.3f} ±{s:.3f}" for m, s, _ in points))


if __name__ == "__main__":
    main()
