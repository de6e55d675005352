"""Grid search with a frozen extractor: extractions per item and wall time, three ways.

``GridSearchCV(cv=5)`` over 12 head configurations (logistic regression: 6
values of ``C`` times 2 class weightings), refit included, on

- images: 1,000 Fashion-MNIST test images saved as PNG files, through
  ``KerasImageFeatures(backbone="efficientnet_lite0", input_size=64)``;
- audio: 240 spoken digits (10 words, 8 voices, 3 speeds) synthesized by
  espeak-ng, through ``AudioSpectralFeatures``;

each run as (a) a plain ``Pipeline``, (b) ``Pipeline(memory=...)``, which
caches each fold's ``fit_transform`` but not the transforms that score the
candidates, and (c) a plain ``Pipeline`` whose extractor has
``cache=<empty directory>``. The extractor counts the items it actually
extracts. Prints, per modality, extractions per item, wall time, the ratio of
each time to the plain pipeline's, and checks that all three choose the same
head with the same score.

Run: ``.venv/bin/python benchmarks/grid_search.py [--images 1000] [--clips 240]``
"""

import argparse
import os
import tempfile
import time
import warnings

from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import AudioSpectralFeatures, KerasImageFeatures
from sktransfer.datasets import DIGITS, VOICES, load_fashion_mnist, make_spoken_words

GRID = {"head__C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0], "head__class_weight": [None, "balanced"]}


class CountingImageFeatures(KerasImageFeatures):
    extracted = 0

    def _extract(self, items, indices, network):
        type(self).extracted += len(indices)
        return super()._extract(items, indices, network)


class CountingAudioFeatures(AudioSpectralFeatures):
    extracted = 0

    def _extract(self, clips, indices, weights):
        type(self).extracted += len(indices)
        return super()._extract(clips, indices, weights)


def image_data(folder, n):
    images, labels = load_fashion_mnist("test")
    paths = []
    for i in range(n):
        path = os.path.join(folder, f"{i:05d}.png")
        Image.fromarray(images[i]).save(path)
        paths.append(path)
    return paths, labels[:n]


def run(name, make_extractor, counter, X, y, workdir):
    """Time the three grid searches; return rows of (variant, per item, seconds, best)."""
    rows = []
    for variant in ("plain Pipeline", "Pipeline(memory=...)", "cache=..."):
        folder = tempfile.mkdtemp(dir=workdir)
        extractor = make_extractor(cache=folder if variant == "cache=..." else None)
        steps = [
            ("features", extractor),
            ("scale", StandardScaler()),
            ("head", LogisticRegression(max_iter=300)),
        ]
        memory = folder if variant == "Pipeline(memory=...)" else None
        grid = GridSearchCV(
            Pipeline(steps, memory=memory),
            GRID,
            cv=StratifiedKFold(5, shuffle=True, random_state=0),
        )
        counter.extracted = 0
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lbfgs convergence at small C
            grid.fit(X, y)
        seconds = time.perf_counter() - start
        rows.append(
            (
                variant,
                counter.extracted / len(X),
                seconds,
                (grid.best_params_, round(grid.best_score_, 6)),
            )
        )
        print(
            f"  {name}: {variant}: {rows[-1][1]:.2f} extractions per item, {seconds:.1f} s",
            flush=True,
        )
    return rows


def report(name, n, rows):
    plain = rows[0][2]
    print(f"\n{name} ({n} items, 5 folds x 12 candidates + refit)")
    print(f"  {'variant':<22} {'extractions/item':>16} {'wall s':>8} {'time ratio':>10}")
    for variant, per_item, seconds, _ in rows:
        print(f"  {variant:<22} {per_item:>16.2f} {seconds:>8.1f} {seconds / plain:>10.3f}")
    best = {str(row[3]) for row in rows}
    print(f"  same best candidate and score in all three: {len(best) == 1} ({rows[0][3]})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--clips", type=int, default=240)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        os.makedirs(os.path.join(workdir, "images"))
        paths, labels = image_data(os.path.join(workdir, "images"), args.images)
        image_rows = run(
            "images",
            lambda cache: CountingImageFeatures(
                backbone="efficientnet_lite0", input_size=64, cache=cache
            ),
            CountingImageFeatures,
            paths,
            labels,
            workdir,
        )
        clips, words = make_spoken_words(
            os.path.join(workdir, "audio"), words=DIGITS, voices=VOICES, speeds=(120, 150, 180)
        )
        clips, words = clips[: args.clips], words[: args.clips]
        audio_rows = run(
            "audio",
            lambda cache: CountingAudioFeatures(n_jobs=2, cache=cache),
            CountingAudioFeatures,
            clips,
            words,
            workdir,
        )
        report("images: KerasImageFeatures(efficientnet_lite0, 64x64)", len(paths), image_rows)
        report("audio: AudioSpectralFeatures (193 features)", len(clips), audio_rows)


if __name__ == "__main__":
    main()
