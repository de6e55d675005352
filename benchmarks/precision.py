"""float32 against bfloat16 and float16: extraction speed, feature similarity, accuracy, fine-tuning.

All ratios are measured in one run, with the precisions interleaved (float32,
bfloat16, float16, float32, ...) and the best of the rounds kept, so that the
load of a shared machine falls on all of them alike; the load average
(``os.getloadavg``) is printed before and after.

1. Extraction speed: ``KerasImageFeatures.transform`` on the same uint8 array
   of real photos (224 x 224, batch 32) per precision, for VGG16 and ResNet50
   (random weights, saved once to a file so that every precision runs the
   same weights) and EfficientNet-Lite0 (its ImageNet weights); with the
   cosine similarity of each image's features to float32's (the smallest).
2. Accuracy: logistic regression on Lite0 features of Fashion-MNIST (1,000
   training, 1,000 test images, 64 x 64), per precision.
3. Fine-tuning: ``FineTuneImageClassifier`` on the same images, the warm-up
   epoch on frozen activations and then epochs with the top 20 weighted
   layers unfrozen; the fastest unfrozen epoch and the test accuracy per
   precision.
4. Heads on features: the training epoch of a ``DenseHeadClassifier``-shaped
   network (1,280 features, a hidden layer of 256, 10 classes, batch 32,
   10,000 rows) built under each Keras dtype policy: whether the heads would
   gain from a ``precision`` parameter.

Run: ``.venv/bin/python benchmarks/precision.py [--images 64] [--rounds 3]``
"""

import argparse
import os
import sys
import tempfile
import time
import warnings

import keras
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from image_features import photos  # noqa: E402

PRECISIONS = ("float32", "bfloat16", "float16")


def load():
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def photo_array(n, size=224):
    sources = photos()
    return np.stack(
        [
            np.asarray(Image.fromarray(sources[i % len(sources)]).resize((size, size)))
            for i in range(n)
        ]
    )


def smallest_cosine(a, b):
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(cos.min())


def extractor_weights(name, folder):
    """ImageNet for Lite0; for the others, one random draw saved to a file."""
    if name == "efficientnet_lite0":
        return "imagenet"
    from sktransfer.image._backbones import feature_network, get_backbone

    path = os.path.join(folder, f"{name}.weights.h5")
    feature_network(get_backbone(name), None, (224, 224), None, "mean").model.save_weights(path)
    return path


def extraction(names, n, rounds):
    from sktransfer import KerasImageFeatures

    pixels = photo_array(n)
    print(f"\n1. Extraction, {n} photos as one uint8 array, 224x224, batch 32, best of {rounds}")
    print(f"{'backbone':<20}" + "".join(f"{p + ' img/s':>16}" for p in PRECISIONS) + "  ratios")
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            weights = extractor_weights(name, folder)
            extractors = {
                p: KerasImageFeatures(
                    backbone=name, weights=weights, batch_size=32, precision=p
                ).fit(pixels[:1])
                for p in PRECISIONS
            }
            features, rates = {}, {p: [] for p in PRECISIONS}
            for extractor in extractors.values():
                extractor.transform(pixels[:33])  # trace both batch shapes' paths
            for _ in range(rounds):
                for p, extractor in extractors.items():
                    start = time.perf_counter()
                    features[p] = extractor.transform(pixels)
                    rates[p].append(n / (time.perf_counter() - start))
            best = {p: max(v) for p, v in rates.items()}
            ratios = "  ".join(
                f"{p} {best[p] / best['float32']:.2f}x (cosine {smallest_cosine(features['float32'], features[p]):.5f})"
                for p in PRECISIONS[1:]
            )
            print(
                f"{name:<20}" + "".join(f"{best[p]:>16.1f}" for p in PRECISIONS) + "  " + ratios,
                flush=True,
            )


def fashion(n_train, n_test):
    from sktransfer.datasets import load_fashion_mnist

    X, y = load_fashion_mnist("train", n=n_train)
    X_test, y_test = load_fashion_mnist("test", n=n_test)
    return X, y, X_test, y_test


def feature_accuracy(n_train, n_test):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sktransfer import KerasImageFeatures

    X, y, X_test, y_test = fashion(n_train, n_test)
    print(
        f"\n2. Logistic regression on efficientnet_lite0 features, Fashion-MNIST "
        f"{len(X)} train / {len(X_test)} test, 64x64"
    )
    scores = {}
    for p in PRECISIONS:
        features = KerasImageFeatures(input_size=64, precision=p)
        model = make_pipeline(features, StandardScaler(), LogisticRegression(max_iter=2000))
        scores[p] = model.fit(X, y).score(X_test, y_test)
        print(
            f"{p:<10} test accuracy {scores[p]:.3f} "
            f"({100 * (scores[p] - scores['float32']):+.1f} points against float32)",
            flush=True,
        )


class EpochTimes(keras.callbacks.Callback):
    """Keeps the wall time of every epoch."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def finetuning(names, n_train, n_test, epochs, rounds):
    from sktransfer import FineTuneImageClassifier

    X, y, X_test, y_test = fashion(n_train, n_test)
    print(
        f"\n3. Fine-tuning, Fashion-MNIST {len(X)} train / {len(X_test)} test, 64x64, "
        f"1 frozen epoch then {epochs - 1} with the top 20 weighted layers unfrozen, "
        f"fastest unfrozen epoch of {rounds} fits each"
    )
    for name in names:
        weights = "imagenet" if name == "efficientnet_lite0" else None
        times, scores = {p: [] for p in PRECISIONS}, {}
        for _ in range(rounds):
            for p in PRECISIONS:
                timer = EpochTimes()
                model = FineTuneImageClassifier(
                    backbone=name,
                    weights=weights,
                    input_size=64,
                    trainable_layers=20,
                    freeze_epochs=1,
                    epochs=epochs,
                    early_stopping=False,
                    precision=p,
                    random_state=0,
                    callbacks=[timer],
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    model.fit(X, y)
                times[p].extend(timer.times[2:])  # the unfrozen epochs after the first (tracing)
                scores[p] = model.score(X_test, y_test)
        best = {p: min(v) for p, v in times.items()}
        for p in PRECISIONS:
            print(
                f"{name:<20} {p:<9} epoch {best[p]:6.2f} s ({best['float32'] / best[p]:.2f}x "
                f"float32's speed)  test accuracy {scores[p]:.3f} "
                f"({100 * (scores[p] - scores['float32']):+.1f} points)",
                flush=True,
            )


def dense_head_epochs(rounds, n=10_000):
    from sktransfer._keras._precision import build_in

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 1280)).astype(np.float32)
    y = rng.integers(0, 10, n)
    print(f"\n4. Dense head on features, {n} rows x 1280, hidden 256, batch 32, best of {rounds}")
    models = {}
    for p in PRECISIONS:

        def build():
            inputs = keras.Input((1280,))
            hidden = keras.layers.Dense(256, activation="relu")(inputs)
            outputs = keras.layers.Dense(10, activation="softmax", dtype="float32")(hidden)
            return keras.Model(inputs, outputs)

        models[p] = build_in(p, build)
        models[p].compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        models[p].fit(X[:64], y[:64], batch_size=32, verbose=0)
    times = {p: [] for p in PRECISIONS}
    for _ in range(rounds):
        for p, model in models.items():
            timer = EpochTimes()
            model.fit(X, y, batch_size=32, epochs=1, verbose=0, callbacks=[timer])
            times[p].append(timer.times[0])
    best = {p: min(v) for p, v in times.items()}
    for p in PRECISIONS:
        print(f"{p:<10} epoch {best[p]:.2f} s ({best['float32'] / best[p]:.2f}x float32's speed)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backbones", default="vgg16,resnet50,efficientnet_lite0")
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--finetune-backbones", default="efficientnet_lite0,resnet50")
    parser.add_argument("--finetune-rounds", type=int, default=2)
    parser.add_argument("--parts", default="1,2,3,4")
    args = parser.parse_args()
    from sktransfer._keras._precision import native_precision

    print(f"{os.cpu_count()} CPUs, native precision {native_precision()}; {load()}")
    parts = args.parts.split(",")
    if "1" in parts:
        extraction(args.backbones.split(","), args.images, args.rounds)
    if "2" in parts:
        feature_accuracy(args.train, args.test)
    if "3" in parts:
        finetuning(
            args.finetune_backbones.split(","),
            args.train,
            args.test,
            args.epochs,
            args.finetune_rounds,
        )
    if "4" in parts:
        dense_head_epochs(args.rounds)
    print(f"\n{load()}")


if __name__ == "__main__":
    main()
