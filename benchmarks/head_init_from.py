"""Does a dense head trained on a source task help the target task's head start?

Spoken digits synthesized by espeak-ng (8 voices x 3 speeds), described by the
193 spectral features of ``AudioSpectralFeatures``. Source task: "zero" to
"four" in every voice. Target task: "five" to "nine", trained on the clips of
1, 2 or 4 voices and scored on 4 voices it never heard. Each target head is a
``DenseHeadClassifier`` (standardised features, one hidden layer of 256), from
random weights or with ``init_from=`` the source head, over 5 seeds.

Run: ``.venv/bin/python benchmarks/head_init_from.py`` on an otherwise idle machine.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import AudioSpectralFeatures, DenseHeadClassifier
from sktransfer.datasets import DIGITS, VOICES, make_spoken_words

SOURCE_WORDS, TARGET_WORDS = DIGITS[:5], DIGITS[5:]
VOICE_NAMES = [voice.replace("+", "-") for voice in VOICES]  # as the file names spell them
TEST_VOICES = VOICE_NAMES[4:]


def head(init_from=None, random_state=0):
    return make_pipeline(
        StandardScaler(), DenseHeadClassifier(init_from=init_from, random_state=random_state)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths, labels = make_spoken_words(
            Path(folder), words=DIGITS, voices=VOICES, speeds=(120, 150, 180)
        )
        X = AudioSpectralFeatures(n_jobs=-1).fit_transform(paths)
    labels = np.asarray(labels)
    voices = np.asarray([Path(p).stem.split("_")[0] for p in paths])
    source = np.isin(labels, SOURCE_WORDS)
    target_test = np.isin(labels, TARGET_WORDS) & np.isin(voices, TEST_VOICES)
    start = time.perf_counter()
    source_head = head().fit(X[source], labels[source])[-1]
    print(
        f"source head: {source.sum()} clips of {len(SOURCE_WORDS)} words, "
        f"{time.perf_counter() - start:.1f}s"
    )
    print(
        f"target: {len(TARGET_WORDS)} words, scored on {target_test.sum()} clips of "
        f"{len(TEST_VOICES)} unheard voices; mean ± std over {args.seeds} seeds"
    )
    print(f"{'training voices':>16}  {'clips':>5}  {'random start':>14}  {'init_from source':>16}")
    for n_voices in (1, 2, 4):
        train = np.isin(labels, TARGET_WORDS) & np.isin(voices, VOICE_NAMES[:n_voices])
        scores = {}
        for name, init_from in (("random", None), ("source", source_head)):
            scores[name] = [
                head(init_from, seed)
                .fit(X[train], labels[train])
                .score(X[target_test], labels[target_test])
                for seed in range(args.seeds)
            ]
        print(
            f"{n_voices:>16}  {train.sum():>5}  "
            f"{np.mean(scores['random']):>8.3f} ±{np.std(scores['random']):.3f}  "
            f"{np.mean(scores['source']):>10.3f} ±{np.std(scores['source']):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
