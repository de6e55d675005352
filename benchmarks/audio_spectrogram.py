"""Spectrogram images through ImageNet EfficientNet-Lite0 against the 193 spectral features.

Two real tasks, made offline from Debian packages:

- spoken digits: "zero" to "nine" by espeak-ng in 8 voices and 3 speeds (240
  clips), 4-fold cross-validation by voice (every test voice unheard);
- instruments: 10 General MIDI instruments (piano, vibraphone, organ, guitar,
  bass, violin, cello, trumpet, saxophone, flute) rendered by fluidsynth from
  the TimGM6mb soundfont at 13 pitches (MIDI 48 to 72, every whole tone),
  2 velocities and 2 note lengths (520 clips); trained on 9 pitches, tested on
  the 4 others (50, 58, 66, 72: pitches never heard in training).

Methods: the 193 spectral features (``AudioSpectralFeatures``), standardised,
with a logistic regression or a dense head (``DenseHeadClassifier``, one hidden
layer of 256); ``AudioSpectrogramImages`` (128 mel bands x 128 frames) through
frozen EfficientNet-Lite0 ImageNet features (``KerasImageFeatures``) with a
logistic regression, for both channel choices; and, with ``--finetune``,
``FineTuneImageClassifier`` on the images (top layers unfrozen, time and
frequency masking; a separate run, it takes minutes per fold on 2 cores).
Features are computed once per task; learning curves
refit the classifier on growing training subsets (same test folds). Prints
accuracy, learning curves and extraction time per clip.

Run: ``.venv/bin/python benchmarks/audio_spectrogram.py [--part finetune] [--data DIR]``
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, PredefinedSplit, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import (
    AudioSpectralFeatures,
    AudioSpectrogramImages,
    DenseHeadClassifier,
    FineTuneImageClassifier,
    KerasImageFeatures,
)
from sktransfer.datasets import DIGITS, VOICES, make_instrument_notes, make_spoken_words

FRACTIONS = (0.1, 0.25, 0.5, 1.0)
TEST_PITCHES = (50, 58, 66, 72)


def spoken_digits(data):
    paths, labels = make_spoken_words(
        Path(data, "spoken_digits"), words=DIGITS, voices=VOICES, speeds=(120, 150, 180)
    )
    voices = [Path(p).stem.split("_")[0] for p in paths]
    folds = list(GroupKFold(n_splits=4).split(paths, labels, voices))
    return paths, np.asarray(labels), folds, "4-fold by voice"


def instruments(data):
    paths, labels = make_instrument_notes(
        Path(data, "instruments"),
        pitches=tuple(range(48, 73, 2)),
        velocities=(60, 100),
        durations=(0.5, 1.0),
    )
    pitches = np.asarray([int(Path(p).stem.split("_")[0][1:]) for p in paths])
    test_fold = np.where(np.isin(pitches, TEST_PITCHES), 0, -1)
    folds = list(PredefinedSplit(test_fold).split())
    return paths, np.asarray(labels), folds, f"held-out pitches {TEST_PITCHES}"


def timed(function, n_items):
    start = time.perf_counter()
    out = function()
    return out, (time.perf_counter() - start) / n_items * 1000


def logistic_regression():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))


def dense_head():
    return make_pipeline(
        StandardScaler(), DenseHeadClassifier(hidden_layer_sizes=(256,), random_state=0)
    )


def curve(make_model, X, y, folds, seed=0):
    """Mean test accuracy over ``folds`` for each fraction of every training fold.

    Training subsets are stratified, with at least 2 clips per class (the
    dense head's early stopping holds out a stratified dev split).
    """
    n_classes = len(np.unique(y))
    scores = []
    for fraction in FRACTIONS:
        fold_scores, sizes = [], []
        for train, test in folds:
            subset = train
            n = max(int(round(fraction * len(train))), 2 * n_classes)
            if n < len(train):
                subset, _ = train_test_split(
                    train, train_size=n, stratify=y[train], random_state=seed
                )
            model = make_model().fit(X[subset], y[subset])
            fold_scores.append(float(np.mean(model.predict(X[test]) == y[test])))
            sizes.append(len(subset))
        scores.append((int(np.mean(sizes)), np.mean(fold_scores)))
    return scores


def finetune_accuracy(images, y, folds, trainable_layers, epochs):
    accuracies, seconds = [], []
    for train, test in folds:
        model = FineTuneImageClassifier(
            input_size=images.shape[1:3],
            trainable_layers=trainable_layers,
            freeze_epochs=2,
            epochs=epochs,
            learning_rate=3e-3,
            augmentation=("time_mask", "frequency_mask"),
            random_state=0,
        )
        start = time.perf_counter()
        model.fit(images[train], y[train])
        seconds.append(time.perf_counter() - start)
        accuracies.append(float(np.mean(model.predict(images[test]) == y[test])))
    return float(np.mean(accuracies)), float(np.mean(seconds))


def run_task(name, loader, data, args):
    paths, y, folds, split = loader(data)
    print(f"\n== {name}: {len(paths)} clips, {len(np.unique(y))} classes, test: {split}")
    if args.part == "finetune":
        run_finetuning(paths, y, folds, args)
    else:
        run_features(paths, y, folds)


def run_features(paths, y, folds):
    spectral, spectral_ms = timed(
        lambda: AudioSpectralFeatures(n_jobs=2).fit_transform(paths), len(paths)
    )
    print(f"extraction per clip: 193 spectral features {spectral_ms:.1f} ms")
    inputs = {"spectral + logistic regression": (spectral, logistic_regression)}
    inputs["spectral + dense head (256)"] = (spectral, dense_head)
    images = {}
    for channels in ("repeat", "deltas"):
        images[channels], image_ms = timed(
            lambda channels=channels: AudioSpectrogramImages(
                channels=channels, n_jobs=2
            ).fit_transform(paths),
            len(paths),
        )
        network = KerasImageFeatures(input_size=128).fit(images[channels][:1])  # built once
        lite0, lite0_ms = timed(
            lambda channels=channels, network=network: network.transform(images[channels]),
            len(paths),
        )
        print(
            f"extraction per clip: spectrogram image ({channels}) {image_ms:.1f} ms, "
            f"Lite0 features of it {lite0_ms:.1f} ms"
        )
        inputs[f"images ({channels}) + Lite0 features + logistic regression"] = (
            lite0,
            logistic_regression,
        )
    print(f"learning curves (mean test accuracy; training clips per fold: fractions {FRACTIONS})")
    for method, (X, make_model) in inputs.items():
        points = curve(make_model, X, y, folds)
        text = ", ".join(f"{n}: {accuracy:.3f}" for n, accuracy in points)
        print(f"  {method:<58} {text}")


def run_finetuning(paths, y, folds, args):
    images = AudioSpectrogramImages(n_mels=args.side, n_frames=args.side, n_jobs=2)
    images = images.fit_transform(paths)
    for trainable_layers in (0, 20):
        accuracy, seconds = finetune_accuracy(images, y, folds, trainable_layers, args.epochs)
        print(
            f"  images {args.side}x{args.side} (repeat) + fine-tuned Lite0 "
            f"(trainable_layers={trainable_layers}, {args.epochs} epochs, time/frequency "
            f"masks): accuracy {accuracy:.3f}, fit {seconds:.0f} s per fold"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder for the clips (default: a temp dir)")
    parser.add_argument(
        "--part",
        choices=("features", "finetune"),
        default="features",
        help="frozen features and learning curves, or fine-tuning",
    )
    parser.add_argument("--epochs", type=int, default=8, help="fine-tuning epochs")
    parser.add_argument("--side", type=int, default=96, help="fine-tuning image side")
    parser.add_argument("--task", choices=("digits", "instruments", "both"), default="both")
    args = parser.parse_args()
    data = args.data or tempfile.mkdtemp()
    if args.task in ("digits", "both"):
        run_task("spoken digits in unheard voices", spoken_digits, data, args)
    if args.task in ("instruments", "both"):
        run_task("instruments at unheard pitches", instruments, data, args)


if __name__ == "__main__":
    main()
