"""DenseHeadClassifier: a SciKeras classifier that keeps scikit-learn's contract."""

import keras
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import AudioSpectralFeatures, DenseHeadClassifier

from ..fresh_process import call_in_fresh_process, run_python

FAST = dict(epochs=25, learning_rate=0.01, patience=3, random_state=0)


def test_is_a_classifier_so_cv_folds_are_stratified(spoken_word_features):
    X, y = spoken_word_features
    head = DenseHeadClassifier(**FAST)
    assert is_classifier(head)
    assert isinstance(check_cv(5, y, classifier=is_classifier(head)), StratifiedKFold)
    # Sorted labels: unstratified 4-fold would test each fold on a word never trained on.
    order = np.argsort(y, kind="stable")
    scores = cross_val_score(head, X[order], y[order], cv=4)
    assert scores.min() >= 0.6, scores


def test_pipeline_on_audio_features_separates_spoken_words(spoken_words):
    paths, labels = spoken_words
    model = Pipeline(
        [
            ("features", AudioSpectralFeatures()),
            ("scale", StandardScaler()),
            ("head", DenseHeadClassifier(hidden_layer_sizes=(64,), **FAST)),
        ]
    )
    scores = cross_val_score(
        model, paths, labels, cv=StratifiedKFold(4, shuffle=True, random_state=0)
    )
    assert scores.mean() >= 0.85, scores


def test_pipeline_on_pretrained_image_features_classifies_fashion():
    from sktransfer import KerasImageFeatures
    from sktransfer.datasets import load_fashion_mnist

    X, y = load_fashion_mnist("train")
    X_test, y_test = load_fashion_mnist("test")
    rng = np.random.default_rng(0)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 20, replace=False) for c in range(10)]
    )
    model = Pipeline(
        [
            ("features", KerasImageFeatures(backbone="efficientnet_lite0", input_size=32)),
            ("scale", StandardScaler()),
            ("head", DenseHeadClassifier(hidden_layer_sizes=(64,), **FAST)),
        ]
    )
    model.fit(X[train], y[train])
    # 200 labels for 10 classes; chance is 0.1.
    assert model.score(X_test[:500], y_test[:500]) >= 0.5


def test_probabilities_labels_and_shapes(spoken_word_features):
    X, y = spoken_word_features
    head = DenseHeadClassifier(**FAST).fit(X, y)
    assert head.classes_.tolist() == ["down", "no", "up", "yes"]
    proba = head.predict_proba(X)
    assert proba.shape == (len(y), 4) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert head.predict_proba(X[:1]).shape == (1, 4)
    assert set(head.predict(X)) <= set(y)
    np.testing.assert_array_equal(head.predict(X), head.classes_[proba.argmax(axis=1)])
    binary = DenseHeadClassifier(**FAST).fit(X, y == "yes")
    assert binary.classes_.tolist() == [False, True]
    assert binary.predict_proba(X).shape == (len(y), 2)


def test_early_stopping_holds_out_a_stratified_dev_set_and_keeps_the_best_epoch(
    spoken_word_features,
):
    X, y = spoken_word_features
    head = DenseHeadClassifier(validation_fraction=0.2, **{**FAST, "epochs": 200}).fit(X, y)
    assert head.n_dev_samples_ == 10  # ceil(0.2 * 48)
    epochs_run = len(head.history_["loss"])
    assert epochs_run < 200 and len(head.history_["val_loss"]) == epochs_run
    assert head.best_epoch_ == epochs_run - head.patience
    assert head.best_epoch_ == int(np.argmin(head.history_["val_loss"])) + 1
    no_stop = DenseHeadClassifier(early_stopping=False, **{**FAST, "epochs": 7}).fit(X, y)
    assert len(no_stop.history_["loss"]) == 7 and "val_loss" not in no_stop.history_


def test_random_state_makes_fits_repeatable(spoken_word_features):
    X, y = spoken_word_features
    a = DenseHeadClassifier(**FAST).fit(X, y).predict_proba(X)
    b = DenseHeadClassifier(**FAST).fit(X, y).predict_proba(X)
    c = DenseHeadClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_clone_keeps_every_setting():
    head = DenseHeadClassifier(
        hidden_layer_sizes=(32, 16),
        dropout=0.1,
        batch_norm=True,
        learning_rate=0.003,
        validation_fraction=0.25,
        patience=3,
        class_weight="balanced",
        shuffle=False,
    )
    copy = clone(head)
    assert copy.get_params() == head.get_params()
    assert copy.shuffle is False and copy.hidden_layer_sizes == (32, 16)


def test_grid_search_over_head_parameters(spoken_word_features):
    X, y = spoken_word_features
    search = GridSearchCV(
        DenseHeadClassifier(**FAST),
        {"hidden_layer_sizes": [(), (32,)], "dropout": [0.3]},
        cv=3,
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_score_ >= 0.8
    assert search.best_estimator_.score(X, y) >= 0.9


def test_joblib_round_trip_in_a_fresh_process(spoken_word_features, tmp_path):
    X, y = spoken_word_features
    head = DenseHeadClassifier(hidden_layer_sizes=(16,), batch_norm=True, **FAST).fit(X, y)
    restored = call_in_fresh_process(head, "predict_proba", X, tmp_path)
    np.testing.assert_array_equal(restored, head.predict_proba(X))
    predicted = call_in_fresh_process(head, "predict", X, tmp_path)
    np.testing.assert_array_equal(predicted, head.predict(X))


def test_clear_errors(spoken_word_features):
    X, y = spoken_word_features
    head = DenseHeadClassifier(**{**FAST, "epochs": 2}).fit(X, y)
    bad = X.copy()
    bad[5, 17] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity \(row 5, column 17\)"):
        head.predict(bad)
    with pytest.raises(ValueError, match=r"NaN or infinity \(row 5, column 17\)"):
        clone(head).fit(bad, y)
    with pytest.raises(
        ValueError, match="X has 192 features, but DenseHeadClassifier is expecting 193"
    ):
        head.predict(X[:, :-1])
    with pytest.raises(ValueError, match=r"y contains only one class: \['yes'\]"):
        clone(head).fit(X[:4], ["yes"] * 4)
    with pytest.raises(ValueError, match=r"labels not seen in fit: \['maybe'\]"):
        head.score(X[:2], ["yes", "maybe"])
    lonely = y.astype(object)
    lonely[0] = "maybe"
    with pytest.raises(ValueError, match="class 'maybe' has 1 example"):
        clone(head).fit(X, lonely)


INVALID = {
    "hidden_layer_sizes": 16,
    "dropout": 1.0,
    "activation": 3,
    "batch_norm": "yes",
    "init_from": 3,
    "optimizer": 0.1,
    "learning_rate": 0,
    "epochs": 0,
    "batch_size": 2.5,
    "validation_fraction": 1.0,
    "early_stopping": 1,
    "patience": -1,
    "class_weight": "uniform",
    "random_state": "seed",
    "verbose": -1,
    "model": "mlp",
    "build_fn": print,
    "loss": "mse",
    "metrics": ["accuracy"],
    "warm_start": None,
    "validation_batch_size": 0,
    "callbacks": "early",
    "validation_split": 1.5,
    "shuffle": "no",
    "run_eagerly": 2,
}


def test_every_parameter_has_a_constraint():
    params = set(DenseHeadClassifier().get_params(deep=False))
    assert set(DenseHeadClassifier._parameter_constraints) == params == set(INVALID)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_parameter_is_named_in_fit(name):
    X, y = np.zeros((4, 2)), [0, 1, 0, 1]
    head = DenseHeadClassifier(**{name: INVALID[name]})
    with pytest.raises(
        InvalidParameterError, match=f"The '{name}' parameter of DenseHeadClassifier must be"
    ):
        head.fit(X, y)


def test_layer_sizes_must_be_positive_integers():
    with pytest.raises(
        ValueError, match=r"'hidden_layer_sizes' parameter must be a tuple of positive"
    ):
        DenseHeadClassifier(hidden_layer_sizes=(16, 0)).fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_routed_and_extra_scikeras_parameters_pass_validation():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.repeat([0, 1], 20)
    seen = []
    head = DenseHeadClassifier(
        hidden_layer_sizes=(4,),
        epochs=2,
        early_stopping=False,
        random_state=0,
        optimizer__beta_1=0.8,
        fit__shuffle=False,
        callbacks=[
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
        ],
    )
    assert "optimizer__beta_1" in head.get_params()
    head.fit(X, y)
    assert seen == [0, 1]
    assert head.set_params(optimizer__beta_1=0.9).optimizer__beta_1 == 0.9


def test_positional_arguments_are_refused():
    with pytest.raises(TypeError):
        DenseHeadClassifier((16,))


def test_column_vector_y_warns_and_fits_like_1d():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.repeat([0, 1], 20)
    params = dict(hidden_layer_sizes=(4,), epochs=2, random_state=0)
    flat = DenseHeadClassifier(**params).fit(X, y)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = DenseHeadClassifier(**params).fit(X, y[:, None])
    np.testing.assert_array_equal(column.predict_proba(X), flat.predict_proba(X))
    assert column.predict(X).shape == (40,)


def test_twenty_fits_do_not_grow_memory():
    # In a fresh process: warm up, then 20 fits as in a grid search. Without the
    # shared trainer, TensorFlow keeps about 4 MB per fit here.
    script = """
import gc, numpy as np
from sktransfer import DenseHeadClassifier
def rss_mb():
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS')) / 1024
rng = np.random.default_rng(0)
X, y = rng.normal(size=(200, 64)).astype('float32'), rng.integers(0, 3, 200)
def fit(i):
    DenseHeadClassifier(hidden_layer_sizes=(32,), epochs=1, random_state=i).fit(X, y).predict(X)
    gc.collect()
for i in range(3):
    fit(i)
start = rss_mb()
for i in range(20):
    fit(i)
print(rss_mb() - start)
"""
    result = run_python("-c", script)
    growth = float(result.stdout.strip().splitlines()[-1])
    assert growth < 20, f"RSS grew by {growth:.1f} MB over 20 fits"


def test_a_head_without_random_state_trains_after_a_seeded_one():
    """SciKeras' seeded fit must not leave op determinism on for the rest of the process.

    TensorFlow reads TF_DETERMINISTIC_OPS once, at its first question about
    determinism; a new process makes the seeded fit ask first.
    """
    script = (
        "import numpy as np; from sktransfer import DenseHeadClassifier;"
        "X = np.random.default_rng(0).normal(size=(40, 4)); y = np.arange(40) % 2;"
        "DenseHeadClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, y);"
        "DenseHeadClassifier(hidden_layer_sizes=(4,), epochs=1).fit(X, y)"
    )
    run_python("-c", script)


def test_heads_fitted_one_after_another_do_not_retrace():
    # Different sizes (last batches of other shapes), each head predicting once.
    import logging

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    rng = np.random.default_rng(0)
    try:
        for n in (40, 50, 60, 70, 80, 90):
            X = rng.normal(size=(n, 8)).astype(np.float32)
            y = np.arange(n) % 3
            DenseHeadClassifier(epochs=2, random_state=0).fit(X, y).predict(X[:7])
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records if "retracing" in r.getMessage()] == []
