"""Hear with an ImageNet network: spoken digits and instrument notes as spectrogram images.

Two pipelines on the same clips, scored on what they never heard:

- the 193 hand-crafted spectral features and a logistic regression;
- each clip as a log-mel spectrogram image (``AudioSpectrogramImages``),
  described by EfficientNet-Lite0's ImageNet features, and a logistic
  regression;

then the network fine-tuned on the images (``FineTuneImageClassifier``) with
SpecAugment's time and frequency masks, its freeze depth chosen by
``GridSearchCV``. Spoken digits (espeak-ng) are scored on unheard voices,
instrument notes (fluidsynth, a General MIDI soundfont) on unheard pitches.

Run: ``.venv/bin/python examples/audio_pretrained_cnn.py``
Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run: the instrument notes only, fewer of them.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, PredefinedSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import (
    AudioSpectralFeatures,
    AudioSpectrogramImages,
    FeatureCache,
    FineTuneImageClassifier,
    KerasImageFeatures,
)
from sktransfer.datasets import (
    DIGITS,
    INSTRUMENTS,
    VOICES,
    make_instrument_notes,
    make_spoken_words,
)

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
DATA = Path(tempfile.gettempdir()) / "sktransfer-example-sounds"


def digits():
    paths, labels = make_spoken_words(DATA / "digits", words=DIGITS, voices=VOICES)
    voices = [Path(p).stem.split("_")[0] for p in paths]
    folds = GroupKFold(4).split(paths, groups=voices)
    return "spoken digits, unheard voices", paths, labels, folds


def instruments():
    pitches = (48, 52, 55, 60, 64, 67) if FAST else tuple(range(48, 73, 2))
    paths, labels = make_instrument_notes(
        DATA / "instruments",
        instruments=("piano", "violin", "trumpet", "flute") if FAST else tuple(INSTRUMENTS),
        pitches=pitches,
        velocities=(100,) if FAST else (60, 100),
    )
    pitch = np.asarray([int(Path(p).stem.split("_")[0][1:]) for p in paths])
    held_out = np.isin(pitch, pitches[1::3])  # every third pitch is never heard in training
    split = PredefinedSplit(np.where(held_out, 0, -1)).split()
    return "instrument notes, unheard pitches", paths, labels, split


def main():
    cache = FeatureCache(DATA / "features")  # every clip is read and described once
    for task, paths, labels, folds in [instruments()] if FAST else [digits(), instruments()]:
        folds = list(folds)
        spectral = make_pipeline(
            AudioSpectralFeatures(n_jobs=-1, cache=cache),
            StandardScaler(),
            LogisticRegression(max_iter=5000),
        )
        pretrained = make_pipeline(
            AudioSpectrogramImages(n_mels=64, n_frames=64, n_jobs=-1, cache=cache),
            KerasImageFeatures(input_size=64, cache=cache),
            StandardScaler(),
            LogisticRegression(max_iter=5000),
        )
        print(f"{task}: {len(paths)} clips")
        for name, model in (("spectral features", spectral), ("Lite0 on spectrograms", pretrained)):
            scores = cross_val_score(model, paths, labels, cv=folds)
            print(f"  {name:<24} accuracy {scores.mean():.3f}")

    # Fine-tuning on the images of the last task: masks in training, freeze depth by grid search.
    images = AudioSpectrogramImages(n_mels=64, n_frames=64, cache=cache).fit_transform(paths)
    fine_tune = FineTuneImageClassifier(
        input_size=64,
        augmentation=("frequency_mask", "time_mask"),
        freeze_epochs=1 if FAST else 2,
        epochs=2 if FAST else 8,
        random_state=0,
    )
    depths = [10] if FAST else [0, 10]
    search = GridSearchCV(fine_tune, {"trainable_layers": depths}, cv=folds, refit=False)
    search.fit(images, np.asarray(labels))
    for depth, score in zip(
        search.cv_results_["param_trainable_layers"], search.cv_results_["mean_test_score"]
    ):
        print(f"  fine-tuned Lite0, trainable_layers={depth:<3} accuracy {score:.3f}")


if __name__ == "__main__":
    main()
