"""Few-shot text classification: frozen sentence vectors, contrastive fine-tuning, FineTuneTextClassifier.

Run from the repository root::

    python benchmarks/text_finetune.py [--budgets 8 16 32] [--draws 5] [--collections polarity fortunes]

For each collection, label budget (texts per class) and draw, ``k`` training
texts per class are drawn at random and every model is fitted on them and
scored on the same held-out texts:

- **polarity**: gensim's 200 labelled review sentences (the demo's text task,
  2 classes); the test set is every text not drawn for training.
- **fortunes**: short texts of Debian's ``fortunes`` package filed under five
  topics (``sktransfer.datasets.load_fortune_topics``); the test set is 60
  texts per class drawn once (classes are unbalanced: sports has 109, so 49
  are left to draw up to 32 training texts from), the training texts are
  drawn from the rest.

The models:

- ``frozen + LR``: ``SentenceEmbedder()`` (all-MiniLM-L6-v2) then
  ``LogisticRegression``; ``frozen + scaler + LR`` with a ``StandardScaler``
  between them.
- ``contrastive + LR``: ``SentenceEmbedder(fine_tune="contrastive")`` with its
  defaults, then the same ``LogisticRegression`` (SetFit as a pipeline).
- ``FineTuneTextClassifier``: its defaults; ``FineTuneTextClassifier(2)``: the
  top 2 layers unfrozen (``trainable_layers=2``).

It prints, per collection and budget, each model's mean accuracy over the
draws, its standard deviation, and the mean seconds of one fit (2 cores: the
machine's). Extra ``--param name=value`` pairs set the contrastive
embedder's parameters (to compare settings).
"""

import argparse
import ast
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import FineTuneTextClassifier, SentenceEmbedder
from sktransfer.datasets import load_fortune_topics, load_polarity

TEST_PER_CLASS = 60


def collection(name, rng):
    """``(texts, labels, test)``: the texts, their labels and the held-out positions."""
    if name == "polarity":
        texts, labels = load_polarity()
        return np.asarray(texts, object), np.asarray(labels), None
    texts, labels = load_fortune_topics()
    labels = np.asarray(labels)
    test = np.concatenate(
        [
            rng.choice(np.flatnonzero(labels == c), TEST_PER_CLASS, replace=False)
            for c in np.unique(labels)
        ]
    )
    return np.asarray(texts, object), labels, np.sort(test)


def draw(labels, test, k, rng):
    """``k`` training positions per class (none of ``test``) and the test positions."""
    pool = np.setdiff1d(np.arange(len(labels)), test if test is not None else [])
    train = np.concatenate(
        [rng.choice(pool[labels[pool] == c], k, replace=False) for c in np.unique(labels)]
    )
    if test is None:
        test = np.setdiff1d(np.arange(len(labels)), train)
    return train, test


def logistic_regression():
    return LogisticRegression(max_iter=5000)


def models(params, methods):
    """The models by name (only those in ``methods``)."""
    every = {
        "frozen + LR": make_pipeline(SentenceEmbedder(), logistic_regression()),
        "frozen + scaler + LR": make_pipeline(
            SentenceEmbedder(), StandardScaler(), logistic_regression()
        ),
        "contrastive + LR": make_pipeline(
            SentenceEmbedder(fine_tune="contrastive", **params), logistic_regression()
        ),
        "FineTuneTextClassifier": FineTuneTextClassifier(),
        "FineTuneTextClassifier(2)": FineTuneTextClassifier(trainable_layers=2),
    }
    return {name: every[name] for name in methods}


def run(name, budgets, draws, params, methods):
    rng = np.random.default_rng(0)
    texts, labels, test = collection(name, rng)
    print(f"\n{name}: {len(texts)} texts, {len(np.unique(labels))} classes")
    print(f"{'labels per class':>16}  {'model':<26} {'accuracy':>8} {'std':>6} {'fit s':>7}")
    for k in budgets:
        scores, seconds = {}, {}
        for d in range(draws):
            train, held_out = draw(labels, test, k, np.random.default_rng(1000 * k + d))
            for method, model in models(params, methods).items():
                if "random_state" in model.get_params():
                    model.set_params(random_state=d)
                elif "sentenceembedder__random_state" in model.get_params():
                    model.set_params(sentenceembedder__random_state=d)
                fitted = clone(model)
                start = time.perf_counter()
                fitted.fit(texts[train], labels[train])
                seconds.setdefault(method, []).append(time.perf_counter() - start)
                accuracy = float(np.mean(fitted.predict(texts[held_out]) == labels[held_out]))
                scores.setdefault(method, []).append(accuracy)
        for method in scores:
            print(
                f"{k:>16}  {method:<26} {np.mean(scores[method]):>8.3f} "
                f"{np.std(scores[method]):>6.3f} {np.mean(seconds[method]):>7.1f}",
                flush=True,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--collections", nargs="+", default=["polarity", "fortunes"])
    parser.add_argument(
        "--methods",
        nargs="+",
        default=[
            "frozen + LR",
            "frozen + scaler + LR",
            "contrastive + LR",
            "FineTuneTextClassifier",
            "FineTuneTextClassifier(2)",
        ],
    )
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    params = {}
    for pair in args.param:
        key, _, value = pair.partition("=")
        params[key] = ast.literal_eval(value)
    if params:
        print("contrastive parameters:", params)
    warnings.simplefilter("ignore", UserWarning)
    for name in args.collections:
        run(name, args.budgets, args.draws, params, args.methods)


if __name__ == "__main__":
    main()
