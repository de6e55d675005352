"""SequenceClassifier: word vectors in an Embedding + Conv1D + LSTM head."""

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import SequenceClassifier, Word2VecEmbedder

from ..fresh_process import call_in_fresh_process


def small_model(**params):
    embedder = Word2VecEmbedder(vector_size=16, random_state=0, max_len=30)
    settings = dict(
        embedder=embedder,
        lstm_units=8,
        conv_filters=8,
        epochs=4,
        early_stopping=False,
        learning_rate=0.01,
        random_state=0,
    )
    return SequenceClassifier(**{**settings, **params})


def test_frozen_glove_vectors_classify_review_sentiment(polarity):
    texts, labels = polarity
    model = SequenceClassifier(
        embedder=Word2VecEmbedder(pretrained="glove-6b-50d", max_len=40),
        lstm_units=32,
        epochs=25,
        early_stopping=False,
        learning_rate=3e-3,
        random_state=0,
    )
    assert is_classifier(model)
    scores = cross_val_score(
        model, texts, labels, cv=StratifiedKFold(4, shuffle=True, random_state=0)
    )
    # 150 training sentences per fold; chance is 0.5.
    assert scores.mean() >= 0.58, scores


def test_trainable_embedding_decides_whether_word_vectors_move(polarity):
    texts, labels = polarity
    frozen = small_model(trainable_embedding=False).fit(texts, labels)
    initial = frozen.feature_encoder_.embedding_matrix_
    np.testing.assert_array_equal(frozen.embedding_weights_, initial)
    tuned = small_model(trainable_embedding=True).fit(texts, labels)
    np.testing.assert_array_equal(tuned.feature_encoder_.embedding_matrix_, initial)
    assert not np.allclose(tuned.embedding_weights_, initial)
    assert frozen.model_.count_params() == tuned.model_.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in tuned.model_.trainable_weights)
    frozen_trainable = sum(int(np.prod(w.shape)) for w in frozen.model_.trainable_weights)
    assert trainable - frozen_trainable == initial.size


def test_grid_search_trains_each_candidate_as_asked_and_refits_the_best(polarity):
    texts, labels = polarity
    fits = []

    class Recorded(SequenceClassifier):
        """Records, for each fit, what it was asked and what it trained."""

        def fit(self, X, y, **kwargs):
            super().fit(X, y, **kwargs)
            lstm = next(layer for layer in self.model_.layers if "LSTM" in type(layer).__name__)
            moved = not np.array_equal(
                self.embedding_weights_, self.feature_encoder_.embedding_matrix_
            )
            fits.append(((self.trainable_embedding, self.lstm_units), moved, lstm.units))
            return self

    grid = {"trainable_embedding": [False, True], "lstm_units": [4, 8]}
    search = GridSearchCV(Recorded(**small_model().get_params()), grid, cv=2)
    search.fit(texts, labels)
    assert len(fits) == 4 * 2 + 1
    for (trainable_embedding, lstm_units), moved, units in fits:
        assert moved == trainable_embedding and units == lstm_units
    best = search.best_params_
    assert search.best_index_ == np.argmax(search.cv_results_["mean_test_score"])
    assert fits[-1][0] == (best["trainable_embedding"], best["lstm_units"])  # the refit
    np.testing.assert_array_equal(
        search.predict_proba(texts[:20]), search.best_estimator_.predict_proba(texts[:20])
    )
    assert clone(search.best_estimator_).get_params()["embedder"].get_params() == (
        small_model().embedder.get_params()
    )


def test_joblib_round_trip_in_a_fresh_process(polarity, tmp_path):
    texts, labels = polarity
    model = small_model().fit(texts, labels)
    restored = call_in_fresh_process(model, "predict_proba", texts[:20], tmp_path)
    np.testing.assert_array_equal(restored, model.predict_proba(texts[:20]))
    expected = model.model_.predict(
        model.feature_encoder_.transform(texts[:20]), batch_size=model.batch_size, verbose=0
    )
    np.testing.assert_allclose(model.predict_proba(texts[:20]), expected, rtol=0, atol=1e-6)


def test_clear_errors(polarity):
    texts, labels = polarity
    with pytest.raises(ValueError, match="1-D collection of documents"):
        small_model().fit(np.zeros((4, 3)), labels[:4])
    with pytest.raises(ValueError, match="X has 3 items but y has 4 labels"):
        small_model().fit(texts[:3], labels[:4])
    with pytest.raises(ValueError, match="one class"):
        small_model().fit(texts[:10], ["pos"] * 10)


@pytest.mark.parametrize(
    "name, value",
    [
        ("embedder", "glove"),
        ("trainable_embedding", "yes"),
        ("conv_filters", 0),
        ("kernel_size", 1.5),
        ("pool_size", -2),
        ("lstm_units", 0),
        ("dropout", 1.0),
        ("learning_rate", -1.0),
        ("patience", "3"),
    ],
)
def test_invalid_parameter_is_named_in_fit(name, value):
    with pytest.raises(
        InvalidParameterError, match=f"The '{name}' parameter of SequenceClassifier must be"
    ):
        small_model(**{name: value}).fit(["good film", "bad film"] * 2, ["pos", "neg"] * 2)


def test_every_parameter_has_a_constraint():
    assert set(SequenceClassifier._parameter_constraints) == set(
        SequenceClassifier().get_params(deep=False)
    )


def test_embedder_is_keyword_only():
    with pytest.raises(TypeError):
        SequenceClassifier(Word2VecEmbedder())
