"""Word2VecEmbedder against the usual recipes it replaces, in one process.

Cuts gensim's bundled real text (the Lee news corpus and the first Wikipedia
articles of ``head500.noblanks.cor``) into 10,000+ documents of 10 to 60
words, then measures, alternating rounds of each side on the same documents:

- ``fit`` against calling gensim directly (tokenize with a regex, then
  ``Word2Vec(sentences, ...)`` with the same parameters and seed), and whether
  the vectors are identical (one worker thread on both sides);
- ``transform`` against the usual mean-of-vectors recipe (tokenize with a
  regex, then ``np.mean([wv[w] for w in doc if w in wv], axis=0)`` document by
  document), for the vectors just learned (300-d) and for GloVe 6B (50-d,
  400,000 words), and whether the numbers are equal.

Prints the median ratio of each pair of times.

Run: ``.venv/bin/python benchmarks/text_embedding.py [--rounds 5] [--fit-rounds 5]``
"""

import argparse
import re
import statistics
import time
import warnings

import numpy as np
from gensim.models import KeyedVectors, Word2Vec
from gensim.test.utils import datapath

from sktransfer import Word2VecEmbedder

WORD = re.compile(r"\w+")


def documents(seed=0):
    """Real text cut into documents of 10 to 60 whitespace-separated words."""
    docs = []
    rng = np.random.default_rng(seed)
    for name in ("lee_background.cor", "head500.noblanks.cor"):
        with open(datapath(name), encoding="utf-8") as stream:
            words = stream.read().split()
        start = 0
        while start < len(words):
            size = int(rng.integers(10, 61))
            docs.append(" ".join(words[start : start + size]))
            start += size
    return docs


def gensim_directly(docs, workers):
    """What a user writes without sktransfer: tokenize, then train."""
    sentences = [WORD.findall(doc.lower()) for doc in docs]
    return Word2Vec(sentences, vector_size=300, window=5, min_count=1, workers=workers, seed=0)


def recipe_mean(docs, wv):
    """The usual recipe: mean of the vectors of the known words, document by document."""
    rows = []
    for doc in docs:
        words = WORD.findall(doc.lower())
        rows.append(
            np.mean([wv[w] for w in words if w in wv] or [np.zeros(wv.vector_size)], axis=0)
        )
    return np.array(rows, dtype=np.float32)


def timed(func):
    """(wall-clock seconds, CPU seconds of this process, all threads), result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def alternate(rounds, reference, ours):
    """Alternating rounds: median wall times, each round's ratio, median CPU ratio, results.

    Ratios are reference time / our time; the results are the last round's.

    Each round runs both sides, in turn first, so that a drift of the machine's
    speed does not favour one side. CPU time is less disturbed than wall time
    by other work on a shared machine.
    """
    ref_times, our_times, wall_ratios, cpu_ratios = [], [], [], []
    for round_ in range(rounds):
        if round_ % 2:
            t_ours, our_result = timed(ours)
            t_ref, ref_result = timed(reference)
        else:
            t_ref, ref_result = timed(reference)
            t_ours, our_result = timed(ours)
        ref_times.append(t_ref[0])
        our_times.append(t_ours[0])
        wall_ratios.append(t_ref[0] / t_ours[0])
        cpu_ratios.append(t_ref[1] / t_ours[1])
    return (
        statistics.median(ref_times),
        statistics.median(our_times),
        wall_ratios,
        statistics.median(cpu_ratios),
        ref_result,
        our_result,
    )


def report_transform(title, docs, wv, embedder, rounds):
    embedder.transform(docs[:10])  # load the compiled code before timing
    t_ref, t_ours, ratios, cpu_ratio, expected, got = alternate(
        rounds, lambda: recipe_mean(docs, wv), lambda: embedder.transform(docs)
    )
    ratio = statistics.median(ratios)
    n = len(docs)
    print(f"\ntransform, {title}:")
    print(f"  recipe  {t_ref * 1e3:8.1f} ms  ({n / t_ref:9,.0f} documents/s)")
    print(f"  ours    {t_ours * 1e3:8.1f} ms  ({n / t_ours:9,.0f} documents/s)")
    print(
        f"  throughput ratio (median of {rounds} alternating rounds): {ratio:.2f}x "
        f"(CPU time: {cpu_ratio:.2f}x)"
    )
    print(
        f"  same numbers: max |difference| = {np.abs(got - expected).max():.3g}, "
        f"identical: {np.array_equal(got, expected)}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="transform rounds")
    parser.add_argument("--fit-rounds", type=int, default=5, help="fit rounds")
    parser.add_argument("--workers", type=int, default=1, help="gensim threads, both sides")
    args = parser.parse_args()

    docs = documents()
    n_words = sum(len(WORD.findall(doc)) for doc in docs)
    print(
        f"{len(docs):,} documents, {n_words:,} word tokens, from gensim's lee_background.cor "
        "and head500.noblanks.cor"
    )

    ours = Word2VecEmbedder(vector_size=300, n_jobs=args.workers, random_state=0)
    ours.fit(docs[:200])  # load the compiled code before timing
    t_gensim, t_ours, ratios, cpu_ratio, direct, _ = alternate(
        args.fit_rounds, lambda: gensim_directly(docs, args.workers), lambda: ours.fit(docs)
    )
    fit_ratios = sorted(1 / r for r in ratios)
    print(f"\nfit (Word2Vec, 300-d, window 5, min_count 1, 5 epochs, {args.workers} worker(s)):")
    print(f"  gensim directly  {t_gensim:6.2f} s")
    print(f"  ours             {t_ours:6.2f} s")
    print(
        f"  time ratio ours / gensim (median of {args.fit_rounds} alternating rounds): "
        f"{statistics.median(fit_ratios):.3f} (CPU time: {1 / cpu_ratio:.3f})"
    )
    print(f"  single rounds: {fit_ratios[0]:.3f} to {fit_ratios[-1]:.3f}")
    same = np.array_equal(ours.embedding_matrix_[2:], direct.wv.vectors)
    print(
        f"  identical vectors and vocabulary: "
        f"{same and list(ours.vocabulary_) == direct.wv.index_to_key}"
    )

    report_transform("learned 300-d vectors, mean pooling", docs, direct.wv, ours, args.rounds)

    glove = Word2VecEmbedder(pretrained="glove-6b-50d").fit(docs[:10])
    glove_wv = KeyedVectors(50)  # the same vectors as gensim KeyedVectors, for the recipe
    glove_wv.add_vectors(list(glove.vocabulary_), glove.embedding_matrix_[2:])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        report_transform(
            "GloVe 6B 50-d (400,000 words), mean pooling", docs, glove_wv, glove, args.rounds
        )
    if caught:
        print(f"  ({str(caught[-1].message).split(' (')[0]}: zero vectors on both sides)")


if __name__ == "__main__":
    main()
