"""Which word vectors transfer to a small sentiment task? A measured comparison.

The target task: gensim's ``pang_lee_polarity.cor``, 200 movie-review sentences
labelled positive or negative (100 each). Every model is ``Word2VecEmbedder``
(mean pooling) then ``StandardScaler`` and ``LogisticRegression``, scored by
accuracy over 4 x 5-fold stratified cross-validation, the vectors fitted on the
training folds only. The word vectors come from:

- the target sentences alone (Word2Vec, 300-d);
- a source corpus: gensim's ``lee_background.cor``, 300 news articles (300-d, and 50-d);
- the source corpus, then fine-tuned on the target sentences;
- pretrained GloVe 6B (50-d, 6 billion tokens of Wikipedia and news);
- GloVe fine-tuned on the target sentences;

next to a bag-of-words baseline (TF-IDF of the same tokens). Also prints, for
each source of vectors, the share of the target's word tokens it knows.

Run: ``.venv/bin/python examples/text_sentiment_transfer.py`` (about 2 minutes on 2 cores).
Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run: one 2-fold split instead of 4 x 5 folds.
"""

import os
import time
import warnings

from gensim.test.utils import datapath
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import Word2VecEmbedder
from sktransfer.datasets import load_polarity
from sktransfer.text import default_tokenize

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
N_SPLITS, N_REPEATS = (2, 1) if FAST else (5, 4)
SOURCE = datapath("lee_background.cor")
TRAINING = dict(random_state=0)


EMBEDDERS = {
    "Word2Vec on the 200 target sentences": Word2VecEmbedder(vector_size=300, **TRAINING),
    "Word2Vec on the news source corpus": Word2VecEmbedder(
        source_corpus=SOURCE, vector_size=300, **TRAINING
    ),
    "  the same, 50-d": Word2VecEmbedder(source_corpus=SOURCE, vector_size=50, **TRAINING),
    "  news vectors, fine-tuned on the target": Word2VecEmbedder(
        source_corpus=SOURCE, vector_size=300, fine_tune=True, **TRAINING
    ),
    "GloVe 6B 50-d, pretrained": Word2VecEmbedder(pretrained="glove-6b-50d"),
    "  GloVe, fine-tuned on the target": Word2VecEmbedder(
        pretrained="glove-6b-50d", fine_tune=True, **TRAINING
    ),
}


def coverage(embedder, texts):
    """Share of the word tokens of ``texts`` that the fitted ``embedder`` has a vector for."""
    tokens = [w for text in texts for w in default_tokenize(text)]
    return sum(w in embedder.vocabulary_ for w in tokens) / len(tokens)


def main():
    texts, labels = load_polarity()
    cv = RepeatedStratifiedKFold(n_splits=N_SPLITS, n_repeats=N_REPEATS, random_state=0)
    print(
        f"{len(texts)} sentences ({labels.count('pos')} positive), "
        f"{sum(len(default_tokenize(t)) for t in texts):,} word tokens; chance = 0.50\n"
    )
    print(f"{'word vectors':42s} {'known tokens':>12s} {'accuracy':>16s} {'time':>7s}")
    rows = {
        "bag of words (TF-IDF), no transfer": (
            None,
            TfidfVectorizer(tokenizer=default_tokenize, lowercase=False, token_pattern=None),
        )
    }
    rows.update({name: (embedder, embedder) for name, embedder in EMBEDDERS.items()})
    for name, (embedder, features) in rows.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # sentences without a known word
            scaler = [] if embedder is None else [StandardScaler()]
            model = make_pipeline(features, *scaler, LogisticRegression(max_iter=2000))
            scores = cross_val_score(model, texts, labels, cv=cv)
            known = "" if embedder is None else f"{coverage(embedder.fit(texts), texts):.1%}"
        print(
            f"{name:42s} {known:>12s} {scores.mean():9.3f} ± {scores.std():.3f} "
            f"{time.perf_counter() - start:6.0f}s"
        )


if __name__ == "__main__":
    main()
