"""FineTuneTextClassifier on a tiny random BERT: grid search over trainable_layers, pickles,
frozen phase computed once, and the fitted model as the encoder of a SentenceEmbedder."""

import keras
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from sktransfer import FineTuneTextClassifier, SentenceEmbedder
from tests.fresh_process import call_in_fresh_process
from tests.text.tiny_bert import tiny_bert_folder

TEXTS = [
    "a great movie", "loved the film", "fun story", "great actor", "good book", "loved it",
    "awful plot", "boring film", "bad movie", "hated the story", "awful actor", "boring book",
]  # fmt: skip
LABELS = ["pos"] * 6 + ["neg"] * 6


def _head(**params):
    return FineTuneTextClassifier(
        encoder=tiny_bert_folder(), epochs=2, freeze_epochs=1, random_state=0, **params
    )


def test_grid_search_over_trainable_layers_refits_and_predicts_the_same_in_a_fresh_process(
    tmp_path,
):
    search = GridSearchCV(
        _head(early_stopping=False), {"trainable_layers": [0, 1]}, cv=2, error_score="raise"
    ).fit(TEXTS, LABELS)
    assert len(search.cv_results_["params"]) == 2
    best = search.best_estimator_
    expected = search.predict_proba(TEXTS)
    np.testing.assert_array_equal(
        call_in_fresh_process(search, "predict_proba", TEXTS, tmp_path), expected
    )
    assert best.n_trainable_encoder_weights_ == (
        0 if best.trainable_layers == 0 else 2 * 16 * 16 * 4 + 2 * 16 * 32 + 48 + 16 * 6 + 32
    )


def test_unfreezing_trains_only_the_top_layers_with_a_warm_up_schedule():
    model = _head(trainable_layers=1, early_stopping=False).fit(TEXTS, LABELS)
    encoder = model.model_.get_layer("sentence_encoder")
    start = SentenceEmbedder(encoder=tiny_bert_folder()).fit(TEXTS)._weights().model
    changed = {
        layer.name
        for layer, before in zip(encoder.layers, start.layers)
        if any(not np.array_equal(a, b) for a, b in zip(layer.get_weights(), before.get_weights()))
    }
    assert changed and all(name.startswith("layer_1_") for name in changed)
    # 320 texts, 16 per batch, 10 epochs: 200 steps, of which the first 20 warm up
    schedule = model._phase_learning_rate(1e-3, 10, 320, unfrozen=True)
    assert schedule.warmup_steps == 20
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert float(schedule(0)) == 0.0 and float(schedule(schedule.warmup_steps)) == pytest.approx(
        1e-3
    )


def test_a_fitted_classifier_is_the_encoder_of_a_sentence_embedder():
    model = _head(trainable_layers="all", early_stopping=False).fit(TEXTS, LABELS)
    vectors = SentenceEmbedder(encoder=model).fit(TEXTS).transform(TEXTS)
    ids = model.feature_encoder_.transform(TEXTS)
    encoder = model.model_.get_layer("sentence_encoder")
    expected = keras.ops.convert_to_numpy(encoder([ids, (ids != 0).astype("int32")]))
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert not np.allclose(
        vectors, SentenceEmbedder(encoder=tiny_bert_folder()).fit(TEXTS).transform(TEXTS), atol=1e-3
    )


def test_a_bad_document_is_named():
    with pytest.raises(ValueError, match=r"document 2 \(NoneType\): missing"):
        _head().fit([*TEXTS[:2], None, *TEXTS[3:]], LABELS)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_the_head_starts_from_a_logistic_regression_on_the_frozen_vectors(
    early_stopping, monkeypatch
):
    """With few labels, a softmax trained from random weights for a few epochs is far from
    fitted; starting it from scikit-learn's LogisticRegression on the training rows is not."""
    from sklearn.linear_model import LogisticRegression

    vectors = SentenceEmbedder(encoder=tiny_bert_folder()).fit(TEXTS).transform(TEXTS)
    settings = dict(encoder=tiny_bert_folder(), epochs=1, dropout=0.0, learning_rate=1e-6)
    model = FineTuneTextClassifier(**settings, early_stopping=early_stopping, random_state=0).fit(
        TEXTS, LABELS
    )
    rows = np.arange(len(TEXTS))
    if early_stopping:  # the probe sees the rows that train, not the dev split
        rows = training_rows(model, LABELS)
    probe = LogisticRegression(max_iter=5000).fit(vectors[rows], np.asarray(LABELS)[rows])
    np.testing.assert_allclose(model.predict_proba(TEXTS), probe.predict_proba(vectors), atol=1e-3)
    monkeypatch.setattr(FineTuneTextClassifier, "_starts_from_linear_probe", False)
    random_start = FineTuneTextClassifier(**settings, early_stopping=False, random_state=0)
    random_start.fit(TEXTS, LABELS)
    assert np.abs(random_start.predict_proba(TEXTS) - probe.predict_proba(vectors)).max() > 0.05


def training_rows(model, labels):
    """The rows a fitted head trained on, its dev split left out (drawn with its random_state)."""
    codes = np.searchsorted(model.classes_, labels)
    model._dev_split_seed = model.random_state
    try:
        return np.sort(model._dev_split(codes)[0])
    finally:
        del model._dev_split_seed
