"""Demo task: spoken digits in unheard voices, spectral features against the raw waveform.

Ten digits synthesized by espeak-ng in eight voices and three speeds (``small``:
one). The
transfer pipeline describes each clip by the 193 spectral features and fits
a logistic regression; a second one (``_audio_images``) gives the same
classifier ImageNet EfficientNet-Lite0 features of each clip's spectrogram
image; the baseline fits it on the raw waveform. All are scored on voices
they never heard (4-fold cross-validation by voice).
"""

from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, learning_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ..audio import AudioSpectralFeatures
from ..datasets import DIGITS, VOICES, make_spoken_words
from . import _audio_images
from ._evaluation import TaskResult, cross_validated

CURVE_FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def _raw_waveform(paths, sr=8000, seconds=1.0):
    """Baseline input: each clip's first second at 8 kHz, zero-padded."""
    import librosa

    n = int(sr * seconds)
    out = np.zeros((len(paths), n), dtype=np.float32)
    for i, path in enumerate(paths):
        y, _ = librosa.load(path, sr=sr, duration=seconds)
        out[i, : y.size] = y
    return out


def _classifier(*inputs):
    """``inputs`` (transformers), then standardisation and a logistic regression."""
    return make_pipeline(*inputs, StandardScaler(), LogisticRegression(max_iter=5000))


SPEEDS = {False: (120, 150, 180), True: (150,)}  # words per minute


def run(data_dir, *, small=False, n_jobs=-1, verbose=1):
    """Synthesize the clips into ``data_dir``, train and score; return a ``TaskResult``."""
    paths, labels = make_spoken_words(
        Path(data_dir) / "spoken_digits", words=DIGITS, voices=VOICES, speeds=SPEEDS[small]
    )
    voices = [Path(p).stem.split("_")[0] for p in paths]
    cv = GroupKFold(n_splits=4)
    task = f"spoken digits, unseen voices ({len(DIGITS)} classes)"
    if verbose:
        print(
            f"audio: {len(paths)} spoken digits in {len(set(voices))} voices, "
            f"{cv.get_n_splits()}-fold cross-validation by voice"
        )
    features = AudioSpectralFeatures(n_jobs=n_jobs)
    spectral_method = "193 spectral features + logistic regression"
    methods = {
        spectral_method: ("transfer", _classifier(features)),
        _audio_images.METHOD: (
            "transfer",
            _classifier(*_audio_images.image_features(n_jobs=n_jobs)),
        ),
        "raw waveform + logistic regression (from scratch)": (
            "baseline",
            _classifier(FunctionTransformer(_raw_waveform)),
        ),
    }
    rows = []
    for name, (kind, pipeline) in methods.items():
        if verbose:
            print(f"  {name} ...", flush=True)
        row, y_pred = cross_validated(
            pipeline, paths, labels, cv, groups=voices, task=task, method=name, kind=kind
        )
        rows.append(row)
        if name == spectral_method:
            confusion = {
                "y_true": labels,
                "y_pred": y_pred,
                "labels": list(DIGITS),
                "title": "Spoken digits, unheard voices: 193 spectral features",
            }

    # Both inputs are computed clip by clip, learning nothing from the labels,
    # so the learning curve fits the classifier on inputs computed once.
    if verbose:
        print("  learning curves ...", flush=True)
    curves = {}
    for label, inputs in (
        ("spectral features (transfer)", features.fit_transform(paths)),
        (_audio_images.CURVE, _audio_images.features_of(paths, n_jobs=n_jobs)),
        ("raw waveform (from scratch)", _raw_waveform(paths)),
    ):
        sizes, _, scores = learning_curve(
            _classifier(),
            inputs,
            labels,
            groups=voices,
            cv=cv,
            train_sizes=CURVE_FRACTIONS,
            shuffle=True,
            random_state=0,
        )
        curves[label] = (sizes.tolist(), scores.mean(axis=1).tolist(), scores.std(axis=1).tolist())
    return TaskResult("audio", "Spoken digits in unheard voices", rows, confusion, curves)
