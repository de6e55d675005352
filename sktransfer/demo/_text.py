"""Demo task: sentence polarity with 160 labels, sentence and word vectors against bag of words.

gensim's 200 labelled movie-review sentences. Two transfer pipelines turn
each sentence into the mean of its word vectors, learned by Word2Vec on a
source corpus of news (gensim's ``lee_background.cor``) or pretrained (GloVe
6B, 50-d), a third into its all-MiniLM-L6-v2 sentence vector (each sentence
encoded once, through a feature cache the folds share), a fourth into the
vector of that encoder fine-tuned on pairs of the training fold's labelled
sentences (SetFit's recipe, ``SentenceEmbedder(fine_tune="contrastive")``),
and fit a logistic regression; the baseline fits it on TF-IDF bags of words.
All are scored by stratified 5-fold cross-validation, repeated 4 times
(``small``: twice), everything fitted on the training folds only; the
fine-tuned encoder, which trains in every fold (about a minute on 160
sentences), on 2 of the first repeat's 5 folds (``small``: 1, with 4 epochs
instead of its default 12).

The learning curve compares the frozen and the fine-tuned sentence vectors
with TF-IDF at 8 and 16 labels per class (drawn from the first fold's
training sentences, scored on its test sentences) and at all 160 labels (the
rows' scores).
"""

import tempfile
import warnings

import numpy as np
from gensim.test.utils import datapath
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..datasets import load_polarity
from ..text import SentenceEmbedder, Word2VecEmbedder, default_tokenize
from ._evaluation import TaskResult, best_transfer, cross_validated

REPEATS = {False: 4, True: 2}
CONTRASTIVE = "all-MiniLM-L6-v2 fine-tuned on labelled pairs (SetFit) + logistic regression"
SENTENCE = "all-MiniLM-L6-v2 sentence vectors + logistic regression"
TFIDF = "TF-IDF bag of words + logistic regression (from scratch)"
CONTRASTIVE_FOLDS = {False: 2, True: 1}
"""Folds of the first 5-fold split on which the fine-tuned encoder is trained and scored
(a fit on 160 sentences takes about a minute on 2 cores)."""
CONTRASTIVE_EPOCHS = {False: 12, True: 4}
"""Its epochs: the default, and fewer with ``small``."""
CURVE_FOLDS = 1
"""Folds of the first 5-fold split on which the learning curve's draws are scored."""
CURVE_PER_CLASS = (8, 16)
"""Labels per class of the learning curve's draws (then all the training fold's)."""


def _word_vector_pipeline(embedder):
    return make_pipeline(embedder, StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))


def methods(cache=None, *, contrastive_epochs=12):
    """The text pipelines by name, with their kind ("transfer" or "baseline").

    ``cache``: the sentence encoder's feature cache (a folder), or None.
    """
    return {
        SENTENCE: (
            "transfer",
            make_pipeline(SentenceEmbedder(cache=cache), LogisticRegression(max_iter=2000)),
        ),
        CONTRASTIVE: (
            "transfer",
            make_pipeline(
                SentenceEmbedder(
                    fine_tune="contrastive", epochs=contrastive_epochs, random_state=0
                ),
                LogisticRegression(max_iter=2000),
            ),
        ),
        "Word2Vec on a news source corpus + logistic regression": (
            "transfer",
            _word_vector_pipeline(
                Word2VecEmbedder(
                    source_corpus=datapath("lee_background.cor"), vector_size=300, random_state=0
                )
            ),
        ),
        "GloVe 6B 50-d pretrained + logistic regression": (
            "transfer",
            _word_vector_pipeline(Word2VecEmbedder(pretrained="glove-6b-50d")),
        ),
        TFIDF: (
            "baseline",
            make_pipeline(
                TfidfVectorizer(tokenizer=default_tokenize, lowercase=False, token_pattern=None),
                LogisticRegression(max_iter=2000),
            ),
        ),
    }


class FirstFolds:
    """The first ``n`` splits of ``cv``: a cross-validator for ``cross_validated``."""

    def __init__(self, cv, n):
        self.cv, self.n = cv, n

    def split(self, X, y, groups=None):
        for i, split in enumerate(self.cv.split(X, y, groups)):
            if i == self.n:
                return
            yield split


def per_class_curve(pipeline, texts, labels, folds, per_class, full_accuracy):
    """Held-out accuracy at ``per_class`` labels per class (drawn from each training fold).

    Returns ``(sizes, mean, std)``, the last point all the training labels
    (``full_accuracy``, the row's own score).
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    means, stds = [], []
    for k in per_class:
        scores = []
        for f, (train, test) in enumerate(folds):
            rng = np.random.default_rng(f)
            drawn = np.concatenate(
                [rng.choice(train[labels[train] == c], k, replace=False) for c in classes]
            )
            model = clone(pipeline).fit([texts[i] for i in drawn], labels[drawn])
            scores.append(model.score([texts[i] for i in test], labels[test]))
        means.append(float(np.mean(scores)))
        stds.append(float(np.std(scores)))
    sizes = [k * len(classes) for k in per_class] + [int(round(len(labels) * 0.8))]
    return sizes, [*means, full_accuracy[0]], [*stds, full_accuracy[1] or 0.0]


def run(*, small=False, verbose=1):
    """Train and score the text pipelines; return a ``TaskResult``."""
    texts, labels = load_polarity()
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=REPEATS[small], random_state=0)
    first_split = RepeatedStratifiedKFold(n_splits=5, n_repeats=1, random_state=0)
    task = f"review polarity, {len(texts)} sentences (2 classes)"
    if verbose:
        print(
            f"text: {len(texts)} labelled review sentences, stratified 5-fold "
            f"cross-validation x {REPEATS[small]}"
        )
    rows, predictions, pipelines = [], [], {}
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as cache:
        # Sentences without a word the vectors know become zero vectors, with a warning.
        warnings.simplefilter("ignore", UserWarning)
        contrastive_epochs = CONTRASTIVE_EPOCHS[small]
        pipelines_by_name = methods(cache, contrastive_epochs=contrastive_epochs)
        for name, (kind, pipeline) in pipelines_by_name.items():
            if verbose:
                print(f"  {name} ...", flush=True)
            method_cv = cv
            if name == CONTRASTIVE:
                method_cv = FirstFolds(first_split, CONTRASTIVE_FOLDS[small])
            row, y_pred = cross_validated(
                pipeline, texts, labels, method_cv, task=task, method=name, kind=kind
            )
            if name == CONTRASTIVE:
                row["evaluation"] = (
                    f"{CONTRASTIVE_FOLDS[small]} of the 5 folds of a cross-validation"
                    + (f", {contrastive_epochs} epochs" if small else "")
                )
            rows.append(row)
            predictions.append(y_pred)
            pipelines[name] = pipeline
        best = best_transfer(rows)
        if verbose:
            print("  learning curves ...", flush=True)
        folds = list(FirstFolds(first_split, CURVE_FOLDS).split(texts, labels))
        curves = {}
        for name, label in (
            (CONTRASTIVE, "(transfer)"),
            (SENTENCE, "(transfer)"),
            (TFIDF, "(from scratch)"),
        ):
            row = next(r for r in rows if r["method"] == name)
            method = name.split(" + ")[0]
            curves[f"{method} {label}"] = per_class_curve(
                pipelines[name],
                texts,
                labels,
                folds,
                CURVE_PER_CLASS,
                (row["accuracy"], row["accuracy_std"]),
            )
    # The fine-tuned encoder's folds may not cover every sentence (small): those predicted.
    y_pred = np.asarray(predictions[best])
    predicted = np.isin(y_pred, ["neg", "pos"])
    confusion = {
        "y_true": np.asarray(labels)[predicted].tolist(),
        "y_pred": y_pred[predicted].tolist(),
        "labels": ["neg", "pos"],
        "title": f"Review polarity: {rows[best]['method'].split(' + ')[0]}",
    }
    return TaskResult("text", "Review polarity", rows, confusion, curves)
