"""Recognise spoken words from 193 spectral features, scored on unheard voices.

Synthesizes four words in eight voices (espeak-ng), then cross-validates an
AudioSpectralFeatures + logistic regression pipeline with whole voices held
out, and tunes which feature blocks to use with GridSearchCV.

Run: ``.venv/bin/python examples/audio_spoken_words.py``
Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run on two words.
"""

import os
import tempfile
from pathlib import Path

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import AudioSpectralFeatures
from sktransfer.datasets import VOICES, make_spoken_words

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
WORDS = ("yes", "no") if FAST else ("yes", "no", "stop", "go")


def main():
    paths, labels = make_spoken_words(
        Path(tempfile.gettempdir()) / "sktransfer-example-words",
        words=WORDS,
        voices=VOICES,
    )
    voices = [Path(p).stem.split("_")[0] for p in paths]
    model = Pipeline(
        [
            ("features", AudioSpectralFeatures(n_jobs=-1)),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(max_iter=5000)),
        ]
    )
    cv = GroupKFold(n_splits=4)
    scores = cross_val_score(model, paths, labels, groups=voices, cv=cv)
    print(
        f"{len(paths)} clips; accuracy on unheard voices: {scores.mean():.2f} ± {scores.std():.2f}"
    )

    search = GridSearchCV(
        model,
        {
            "features__blocks": [
                ("mfcc",),
                ("mfcc", "contrast"),
                ("mfcc", "chroma", "mel", "contrast", "tonnetz"),
            ]
        },
        cv=cv,
    )
    search.fit(paths, labels, groups=voices)
    for blocks, score in zip(
        search.cv_results_["param_features__blocks"], search.cv_results_["mean_test_score"]
    ):
        print(f"  blocks={'+'.join(blocks):34s} accuracy {score:.2f}")
    print(f"best: {'+'.join(search.best_params_['features__blocks'])}")


if __name__ == "__main__":
    main()
