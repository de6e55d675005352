"""Frozen or trainable word vectors in a sequence classifier, on real review sentences.

``SequenceClassifier`` (embedding, Conv1D, LSTM, softmax) takes raw text and
builds its embedding layer from a ``Word2VecEmbedder``: here pretrained GloVe
6B 50-d vectors, kept frozen (``trainable_embedding=False``, pure feature
reuse) or fine-tuned on the task (``trainable_embedding=True``), next to
vectors learned from the 160 training sentences alone. The task: gensim's 200
labelled movie-review sentences, scored by stratified cross-validation.

Run: ``.venv/bin/python examples/text_frozen_vs_trainable_embeddings.py`` (about 2 minutes
on 2 cores). Set ``SKTRANSFER_EXAMPLES_FAST=1`` for a quick run with fewer folds and epochs.
"""

import os
import time
import warnings

from sklearn.model_selection import StratifiedKFold, cross_val_score

from sktransfer import SequenceClassifier, Word2VecEmbedder
from sktransfer.datasets import load_polarity

FAST = os.environ.get("SKTRANSFER_EXAMPLES_FAST") == "1"
N_FOLDS, EPOCHS = (2, 4) if FAST else (5, 15)


def main():
    texts, labels = load_polarity()
    glove = Word2VecEmbedder(pretrained="glove-6b-50d")
    models = {
        "GloVe 50-d, frozen": SequenceClassifier(embedder=glove, trainable_embedding=False),
        "GloVe 50-d, trainable": SequenceClassifier(embedder=glove, trainable_embedding=True),
        "vectors from the training sentences, trainable": SequenceClassifier(
            embedder=Word2VecEmbedder(vector_size=50), trainable_embedding=True
        ),
    }
    cv = StratifiedKFold(N_FOLDS, shuffle=True, random_state=0)
    print(f"{len(texts)} sentences, {N_FOLDS}-fold cross-validation, up to {EPOCHS} epochs\n")
    for name, model in models.items():
        model.set_params(epochs=EPOCHS, lstm_units=32, random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # sentences without a known word
            scores = cross_val_score(model, texts, labels, cv=cv)
        print(
            f"{name:48s} accuracy {scores.mean():.3f} ± {scores.std():.3f} "
            f"({time.perf_counter() - start:.0f}s)"
        )


if __name__ == "__main__":
    main()
