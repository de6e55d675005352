"""Demo task: sentence polarity with 160 labels, sentence and word vectors against bag of words.

gensim's 200 labelled movie-review sentences. Two transfer pipelines turn
each sentence into the mean of its word vectors, learned by Word2Vec on a
source corpus of news (gensim's ``lee_background.cor``) or pretrained (GloVe
6B, 50-d), a third into its all-MiniLM-L6-v2 sentence vector (each sentence
encoded once, through a feature cache the folds share), and fit a logistic
regression; the baseline fits it on TF-IDF bags of words. All are scored by stratified 5-fold cross-validation,
repeated 4 times (``small``: twice), everything fitted on the training folds only.
"""

import tempfile
import warnings

from gensim.test.utils import datapath
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, learning_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..datasets import load_polarity
from ..text import SentenceEmbedder, Word2VecEmbedder, default_tokenize
from ._evaluation import TaskResult, best_transfer, cross_validated

REPEATS = {False: 4, True: 2}
CURVE_FRACTIONS = (0.2, 0.4, 0.6, 0.8, 1.0)


def _word_vector_pipeline(embedder):
    return make_pipeline(embedder, StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))


def methods(cache=None):
    """The text pipelines by name, with their kind ("transfer" or "baseline").

    ``cache``: the sentence encoder's feature cache (a folder), or None.
    """
    return {
        "all-MiniLM-L6-v2 sentence vectors + logistic regression": (
            "transfer",
            make_pipeline(SentenceEmbedder(cache=cache), LogisticRegression(max_iter=2000)),
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
        "TF-IDF bag of words + logistic regression (from scratch)": (
            "baseline",
            make_pipeline(
                TfidfVectorizer(tokenizer=default_tokenize, lowercase=False, token_pattern=None),
                LogisticRegression(max_iter=2000),
            ),
        ),
    }


def run(*, small=False, verbose=1):
    """Train and score the text pipelines; return a ``TaskResult``."""
    texts, labels = load_polarity()
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=REPEATS[small], random_state=0)
    task = f"review polarity, {len(texts)} sentences (2 classes)"
    if verbose:
        print(
            f"text: {len(texts)} labelled review sentences, stratified 5-fold "
            f"cross-validation x {REPEATS[small]}"
        )
    rows, predictions, pipelines = [], [], []
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as cache:
        # Sentences without a word the vectors know become zero vectors, with a warning.
        warnings.simplefilter("ignore", UserWarning)
        for name, (kind, pipeline) in methods(cache).items():
            if verbose:
                print(f"  {name} ...", flush=True)
            row, y_pred = cross_validated(
                pipeline, texts, labels, cv, task=task, method=name, kind=kind
            )
            rows.append(row)
            predictions.append(y_pred)
            pipelines.append(pipeline)
        best = best_transfer(rows)
        baseline = next(i for i, row in enumerate(rows) if row["kind"] == "baseline")
        if verbose:
            print("  learning curves ...", flush=True)
        curves = {}
        for i, label in ((best, "(transfer)"), (baseline, "(from scratch)")):
            sizes, _, scores = learning_curve(
                pipelines[i],
                texts,
                labels,
                train_sizes=CURVE_FRACTIONS,
                cv=RepeatedStratifiedKFold(n_splits=5, n_repeats=1 if small else 2, random_state=0),
                shuffle=True,
                random_state=0,
            )
            method = rows[i]["method"].split(" + ")[0]
            curves[f"{method} {label}"] = (
                sizes.tolist(),
                scores.mean(axis=1).tolist(),
                scores.std(axis=1).tolist(),
            )
    confusion = {
        "y_true": labels,
        "y_pred": predictions[best],
        "labels": ["neg", "pos"],
        "title": f"Review polarity: {rows[best]['method'].split(' + ')[0]}",
    }
    return TaskResult("text", "Review polarity", rows, confusion, curves)
