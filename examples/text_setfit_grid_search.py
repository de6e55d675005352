"""SetFit as a scikit-learn pipeline: should the sentence encoder learn from 16 labels?

The task: gensim's 200 movie-review sentences labelled positive or negative, with
only 8 labelled sentences per class to learn from (the rest are the test set).
The pipeline is ``SentenceEmbedder`` (all-MiniLM-L6-v2) then a logistic
regression; ``GridSearchCV`` chooses, on held-out folds of the 16 labelled
sentences, whether the encoder stays frozen or is fine-tuned on pairs of them
first (``fine_tune="contrastive"``, SetFit's first stage), and how many of its
layers learn. The chosen pipeline is refitted on all 16 and scored on the test
set, next to the frozen pipeline.

Run: ``.venv/bin/python examples/text_setfit_grid_search.py`` (about 3 minutes on 2 cores).
Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run: the frozen encoder against the
whole one fine-tuned, on 2 folds.
"""

import os
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from sktransfer import SentenceEmbedder
from sktransfer.datasets import load_polarity

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
PER_CLASS = 8
# The number of layers that learn matters only when the encoder learns: two grids.
GRID = [
    {"sentenceembedder__fine_tune": [False]},
    {
        "sentenceembedder__fine_tune": ["contrastive"],
        "sentenceembedder__trainable_layers": ["all"] if FAST else [2, "all"],
    },
]


def main():
    texts, labels = load_polarity()
    texts, labels = np.asarray(texts, dtype=object), np.asarray(labels)
    rng = np.random.default_rng(0)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), PER_CLASS, replace=False) for c in ("neg", "pos")]
    )
    test = np.setdiff1d(np.arange(len(texts)), train)
    pipeline = make_pipeline(SentenceEmbedder(random_state=0), LogisticRegression(max_iter=5000))
    search = GridSearchCV(
        pipeline,
        GRID,
        cv=StratifiedKFold(2 if FAST else 4, shuffle=True, random_state=0),
        error_score="raise",
    )
    start = time.perf_counter()
    search.fit(texts[train], labels[train])
    print(f"grid search on {len(train)} labels: {time.perf_counter() - start:.0f} s")
    for params, score in zip(
        search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
    ):
        print(f"  {params}: cross-validated accuracy {score:.3f}")
    print(f"chosen: {search.best_params_}")
    frozen = pipeline.fit(texts[train], labels[train])
    print(f"test accuracy, frozen encoder: {frozen.score(texts[test], labels[test]):.3f}")
    print(f"test accuracy, chosen pipeline: {search.score(texts[test], labels[test]):.3f}")


if __name__ == "__main__":
    main()
