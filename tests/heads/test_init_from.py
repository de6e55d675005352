"""DenseHeadClassifier(init_from=...): a target head starts from a source head's hidden layers."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import DenseHeadClassifier
from sktransfer._model_file import save_model


@pytest.fixture(scope="module")
def digits():
    """Real 8x8 handwritten digits: source task 0 to 4, target task 5 to 9, same 64 features."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    source, target = y < 5, y >= 5
    return (X[source], y[source]), (X[target], y[target])


@pytest.fixture(scope="module")
def source_head(digits):
    return DenseHeadClassifier(hidden_layer_sizes=(32,), epochs=20, random_state=0).fit(*digits[0])


def dense_weights(head):
    return [layer.get_weights() for layer in head.model_.layers if layer.weights]


def test_hidden_layers_start_from_the_source_and_the_output_is_new(digits, source_head, tmp_path):
    X, y = digits[1]
    labels = np.asarray([f"digit {d}" for d in y])
    path = save_model(tmp_path / "source.joblib", make_pipeline(source_head), modality="audio")
    for init_from in (source_head, make_pipeline(source_head), path):
        target = DenseHeadClassifier(hidden_layer_sizes=(32,), init_from=init_from, random_state=0)
        assert clone(target).init_from == init_from  # for an estimator: the same object
        target.initialize(X, labels)  # built, not trained
        (hidden, output), (source_hidden, source_output) = (
            dense_weights(target),
            dense_weights(source_head),
        )
        for given, started in zip(source_hidden, hidden, strict=True):
            np.testing.assert_array_equal(given, started)
        assert output[0].shape == source_output[0].shape  # 5 classes each, fresh weights
        assert not np.allclose(output[0], source_output[0])
    trained = target.set_params(epochs=10).fit(X, labels)
    assert trained.score(X, labels) > 0.9


def test_sources_that_do_not_fit_say_what_differs(digits, source_head):
    X, y = digits[1]
    cases = [
        (dict(init_from=source_head), r"hidden_layer_sizes=\(32,\), this head \(256,\)"),
        (
            dict(init_from=source_head, hidden_layer_sizes=(32,), batch_norm=True),
            "batch_norm=False, this head True",
        ),
        (dict(init_from=DenseHeadClassifier(), hidden_layer_sizes=(32,)), "unfitted"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            DenseHeadClassifier(**params).initialize(X, y)
    no_hidden = DenseHeadClassifier(hidden_layer_sizes=(), epochs=1, random_state=0)
    no_hidden.fit(*digits[0])
    with pytest.raises(ValueError, match=r"no hidden layers \(hidden_layer_sizes=\(\)\)"):
        DenseHeadClassifier(init_from=no_hidden, hidden_layer_sizes=()).initialize(X, y)
    with pytest.raises(ValueError, match=r"samples of shape \(64,\), but X has samples of shape"):
        DenseHeadClassifier(init_from=source_head, hidden_layer_sizes=(32,)).initialize(
            X[:, :10], y
        )
