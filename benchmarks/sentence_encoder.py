"""SentenceEmbedder: accuracy against word vectors and TF-IDF, and throughput against its network.

Run from the repository root::

    python benchmarks/sentence_encoder.py

1. Accuracy on gensim's 200 labelled review sentences (the demo's text task):
   stratified 5-fold cross-validation x 4, logistic regression on TF-IDF,
   Word2Vec (news source corpus), GloVe 6B 50-d and all-MiniLM-L6-v2 sentence
   vectors, with a learning curve over the number of labels (fine-tuning the
   encoder is measured by ``benchmarks/text_finetune.py``).
2. Accuracy on a second real labelled collection that ships with gensim: the word pairs of
   Mikolov's analogy questions (``questions-words.txt``), each pair ("athens greece",
   "boy girl", "quick quickly") labelled with its relation (14 classes: capital, currency,
   family, plural, past tense...), 20 distinct pairs per class, the same classifiers.
3. Throughput: ``transform`` sentences/s against the bare compiled forward pass on
   the same already tokenised, padded batches (the ratio is what tokenising,
   batching and bookkeeping cost), and length grouping on texts of mixed length
   against batches in the given order. All ratios come from one run.
"""

import argparse
import time
import warnings

import numpy as np
from gensim.test.utils import datapath
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import SentenceEmbedder, Word2VecEmbedder
from sktransfer.datasets import load_polarity
from sktransfer.text import default_tokenize
from sktransfer.text._bert import length_batches, pad_batch


def accuracy(texts, labels):
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=4, random_state=0)
    vectors = SentenceEmbedder().fit(texts).transform(texts)  # stateless: once for every fold
    word_vectors = {
        "Word2Vec news corpus": Word2VecEmbedder(
            source_corpus=datapath("lee_background.cor"), vector_size=300, random_state=0
        ),
        "GloVe 6B 50-d": Word2VecEmbedder(pretrained="glove-6b-50d"),
    }
    rows = {
        "TF-IDF (from scratch)": (
            make_pipeline(
                TfidfVectorizer(tokenizer=default_tokenize, lowercase=False, token_pattern=None),
                LogisticRegression(max_iter=2000),
            ),
            texts,
        ),
        **{
            name: (
                make_pipeline(embedder, StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
                texts,
            )
            for name, embedder in word_vectors.items()
        },
        "all-MiniLM-L6-v2 sentence vectors": (LogisticRegression(max_iter=2000), vectors),
    }
    print("accuracy, 200 review sentences, stratified 5-fold x 4 (mean +- std)")
    for name, (model, X) in rows.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            scores = cross_val_score(model, X, labels, cv=cv)
        print(f"  {name:38s} {scores.mean():.3f} +- {scores.std():.3f}")
    print("learning curve (labels per training set -> accuracy, 5-fold x 4 on the held-out fold)")
    y = np.asarray(labels)
    for n in (20, 40, 80, 160):
        curve = {}
        for name, (model, X) in rows.items():
            if name.startswith("Word2Vec"):
                continue
            scores = []
            for train, test in cv.split(np.zeros(len(y)), y):
                rng = np.random.default_rng(len(scores))
                part = rng.choice(train, n, replace=False) if n < len(train) else train
                if len(set(y[part])) < 2:
                    continue
                Xa = X if isinstance(X, np.ndarray) else np.asarray(X, dtype=object)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    model.fit(Xa[part], y[part])
                    scores.append(model.score(Xa[test], y[test]))
            curve[name.split(" (")[0]] = np.mean(scores)
        print(f"  {n:3d} labels: " + ", ".join(f"{k} {v:.3f}" for k, v in curve.items()))


def relation_pairs(per_class=20, seed=0):
    """Distinct word pairs of gensim's analogy questions, labelled by relation."""
    pairs = {}
    with open(datapath("questions-words.txt"), encoding="utf-8") as stream:
        for line in stream:
            if line.startswith(":"):
                relation = line[1:].strip()
                continue
            words = line.lower().split()
            for pair in (words[:2], words[2:]):
                pairs.setdefault(relation, {}).setdefault(" ".join(pair), None)
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for relation, found in pairs.items():
        chosen = rng.choice(sorted(found), per_class, replace=False)
        texts += chosen.tolist()
        labels += [relation] * per_class
    return texts, labels


def relations():
    texts, labels = relation_pairs()
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0)
    vectors = SentenceEmbedder().fit(texts).transform(texts)
    rows = {
        "TF-IDF (from scratch)": (
            make_pipeline(
                TfidfVectorizer(tokenizer=default_tokenize, lowercase=False, token_pattern=None),
                LogisticRegression(max_iter=2000),
            ),
            texts,
        ),
        "GloVe 6B 50-d": (
            make_pipeline(
                Word2VecEmbedder(pretrained="glove-6b-50d"),
                StandardScaler(),
                LogisticRegression(C=0.1, max_iter=2000),
            ),
            texts,
        ),
        "all-MiniLM-L6-v2 sentence vectors": (LogisticRegression(max_iter=2000), vectors),
    }
    print(
        f"accuracy, {len(texts)} analogy word pairs, {len(set(labels))} relations, "
        "stratified 5-fold x 2"
    )
    for name, (model, X) in rows.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            scores = cross_val_score(model, X, labels, cv=cv)
        print(f"  {name:38s} {scores.mean():.3f} +- {scores.std():.3f}", flush=True)


def throughput(texts):
    embedder = SentenceEmbedder(batch_size=32).fit(texts)
    encoder = embedder._weights()
    sequences = encoder.token_ids(texts, embedder.max_length_)
    lengths = np.array([len(s) for s in sequences])
    batches = [
        pad_batch([sequences[i] for i in b], encoder.pad_id) for b in length_batches(lengths, 32)
    ]
    in_order = [
        pad_batch(sequences[s : s + 32], encoder.pad_id) for s in range(0, len(sequences), 32)
    ]
    forward = encoder.forward()
    for ids, mask in batches[:2] + in_order[:2]:
        forward(ids, mask)  # warm up

    def best_of(function, repeats=3):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return len(texts) / min(times)

    def bare(padded):
        return lambda: [np.asarray(forward(ids, mask)) for ids, mask in padded]

    grouped = best_of(bare(batches))
    ordered = best_of(bare(in_order))
    full = best_of(lambda: embedder.transform(texts))
    print(f"throughput, {len(texts)} texts of {lengths.min()} to {lengths.max()} tokens, batch 32")
    print(f"  bare compiled forward, length-grouped batches: {grouped:7.1f} texts/s")
    print(f"  SentenceEmbedder.transform:                     {full:7.1f} texts/s")
    print(f"  ratio transform / bare forward:                 {full / grouped:.2f}")
    print(f"  bare forward, batches in the given order:       {ordered:7.1f} texts/s")
    print(f"  length grouping speed-up:                       {grouped / ordered:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=("polarity", "relations", "throughput"))
    args = parser.parse_args()
    texts, labels = load_polarity()
    if args.only == "relations":
        relations()
        raise SystemExit
    accuracy(texts, labels)
    relations()
    # Mixed lengths: the review sentences and 1 in 8 of them repeated 6 times into a paragraph.
    mixed = [t if i % 8 else " ".join([t] * 6) for i, t in enumerate(texts * 2)]
    throughput(mixed)
