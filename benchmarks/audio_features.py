"""AudioSpectralFeatures against the librosa recipe it reproduces, in one process.

Synthesizes 48 spoken sentences of about 4 s (espeak-ng), then alternates
rounds of (a) the reference recipe, clip by clip, and (b) our transformer, on
the same clips, pinned to one core with BLAS on one thread. Prints the median
ratio of their times, whether the numbers are identical, and the further gain
of ``n_jobs=2`` on two cores (worker pool started before timing).

Run: ``.venv/bin/python benchmarks/audio_features.py [--rounds 5]``
"""

import argparse
import os
import statistics
import tempfile
import time

import librosa
import numpy as np
from threadpoolctl import threadpool_limits

from sktransfer import AudioSpectralFeatures
from sktransfer.datasets import VOICES, make_spoken_words

SENTENCES = (
    "the quick brown fox jumps over the lazy dog near the river bank",
    "she sells sea shells by the sea shore every single summer morning",
    "a journey of a thousand miles begins with one small careful step",
    "seven silver swans swam silently across the quiet frozen lake",
    "please call stella and ask her to bring these things from the store",
    "numbers like forty two and ninety nine are printed on the old sign",
)


def extract_feature(file_name):
    """The reference recipe, verbatim."""
    X, sample_rate = librosa.load(file_name)
    stft = np.abs(librosa.stft(X))
    mfccs = np.mean(librosa.feature.mfcc(y=X, sr=sample_rate, n_mfcc=40).T, axis=0)
    chroma = np.mean(librosa.feature.chroma_stft(S=stft, sr=sample_rate).T, axis=0)
    mel = np.mean(librosa.feature.melspectrogram(y=X, sr=sample_rate).T, axis=0)
    contrast = np.mean(librosa.feature.spectral_contrast(S=stft, sr=sample_rate).T, axis=0)
    tonnetz = np.mean(
        librosa.feature.tonnetz(y=librosa.effects.harmonic(X), sr=sample_rate).T, axis=0
    )
    return np.hstack([mfccs, chroma, mel, contrast, tonnetz])


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    paths, _ = make_spoken_words(
        os.path.join(tempfile.gettempdir(), "sktransfer-bench-audio"),
        words=SENTENCES,
        voices=VOICES,
    )
    seconds = [librosa.get_duration(path=p) for p in paths]
    print(
        f"{len(paths)} clips, {statistics.mean(seconds):.2f} s on average "
        f"({min(seconds):.2f}-{max(seconds):.2f} s), 22050 Hz"
    )

    ours = AudioSpectralFeatures().fit(paths)
    all_cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(all_cores)})
    with threadpool_limits(limits=1):
        extract_feature(paths[0]), ours.transform(paths[:2])  # JIT and import warm-up
        ratios, ref_times, our_times = [], [], []
        for _ in range(args.rounds):
            t_ref, reference = timed(lambda: np.vstack([extract_feature(p) for p in paths]))
            t_ours, features = timed(lambda: ours.transform(paths))
            ref_times.append(t_ref)
            our_times.append(t_ours)
            ratios.append(t_ref / t_ours)
    os.sched_setaffinity(0, all_cores)

    blocks = {"mfcc": 40, "chroma": 12, "mel": 128, "contrast": 7, "tonnetz": 6}
    bounds = np.cumsum([0, *blocks.values()])
    print("\nnumbers (ours float32 vs the recipe rounded to float32), last round:")
    for (name, _), start, stop in zip(blocks.items(), bounds[:-1], bounds[1:]):
        diff = np.abs(features[:, start:stop] - reference[:, start:stop].astype(np.float32)).max()
        print(f"  {name:9s} max |difference| = {diff:.3g}")
    identical = np.array_equal(features, reference.astype(np.float32))
    print(f"  all 193 columns identical: {identical}")

    n = len(paths)
    print("\none core, BLAS on one thread:")
    print(f"  recipe        {statistics.median(ref_times) / n * 1e3:7.1f} ms/clip")
    print(f"  ours n_jobs=1 {statistics.median(our_times) / n * 1e3:7.1f} ms/clip")
    print(
        f"  speed-up (median of {args.rounds} alternating rounds): {statistics.median(ratios):.2f}x"
    )

    parallel = AudioSpectralFeatures(n_jobs=2).fit(paths)
    parallel.transform(paths[:4])  # start the worker pool
    par_ratios = []
    with threadpool_limits(limits=1):
        for _ in range(args.rounds):
            t_one, _ = timed(lambda: ours.transform(paths))
            t_two, two = timed(lambda: parallel.transform(paths))
            par_ratios.append(t_one / t_two)
    print(f"\ntwo cores ({len(all_cores)} available):")
    print(
        f"  n_jobs=2 over n_jobs=1 (median of {args.rounds} rounds): "
        f"{statistics.median(par_ratios):.2f}x; same numbers: {np.array_equal(two, features)}"
    )
    print(
        f"  n_jobs=2 over the recipe on one core: "
        f"{statistics.median(ratios) * statistics.median(par_ratios):.2f}x"
    )


if __name__ == "__main__":
    main()
