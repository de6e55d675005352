"""A setting that other settings keep from taking effect is named in a warning at ``fit``."""

import warnings

import numpy as np
import pytest

from sktransfer import DenseHeadClassifier, FineTuneImageClassifier, SequenceClassifier
from sktransfer.datasets import load_fashion_mnist


@pytest.fixture(scope="module")
def images():
    """20 Fashion-MNIST images of two classes."""
    X, y = load_fashion_mnist("test")
    keep = np.concatenate([np.flatnonzero(y == c)[:10] for c in (1, 7)])
    return X[keep], y[keep]


def test_fine_tuning_depth_with_no_epoch_after_the_warm_up(images):
    X, y = images
    head = FineTuneImageClassifier(
        input_size=32, trainable_layers=5, epochs=2, early_stopping=False, random_state=0
    )
    message = (
        r"FineTuneImageClassifier: trainable_layers has no effect: with freeze_epochs=3 and "
        r"epochs=2 every epoch is warm-up with the backbone frozen"
    )
    with pytest.warns(UserWarning, match=message):
        head.fit(X, y)
    # The warning tells the truth: only the head's own weights trained.
    assert head.n_trainable_backbone_weights_ == 0


def features_and_labels():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 4)).astype(np.float32), np.repeat([0, 1, 2], 10)


@pytest.mark.parametrize(
    "head, names",
    [
        (DenseHeadClassifier(hidden_layer_sizes=(), dropout=0.2), ["dropout"]),
        (
            DenseHeadClassifier(hidden_layer_sizes=[], activation="tanh", batch_norm=True),
            ["activation", "batch_norm"],
        ),
        (DenseHeadClassifier(early_stopping=False, patience=5), ["patience"]),
        (
            DenseHeadClassifier(early_stopping=False, validation_fraction=0.3),
            ["validation_fraction"],
        ),
    ],
)
def test_settings_without_effect_are_named(head, names):
    X, y = features_and_labels()
    with pytest.warns(UserWarning) as record:
        head.set_params(epochs=1, random_state=0).fit(X, y)
    (message,) = [str(w.message) for w in record if "has no effect" in str(w.message)]
    assert [part.split(" has no effect")[0].split(": ")[-1] for part in message.split("; ")] == (
        names
    )


@pytest.mark.parametrize("name, value", [("freeze_epochs", 1), ("lr_mult", 0.5)])
def test_warm_up_settings_of_a_frozen_backbone_are_named(images, name, value):
    X, y = images
    head = FineTuneImageClassifier(input_size=32, epochs=1, early_stopping=False, **{name: value})
    with pytest.warns(UserWarning, match=f"{name} has no effect: trainable_layers=0 keeps"):
        head.fit(X, y)


@pytest.mark.parametrize(
    "head",
    [
        DenseHeadClassifier(epochs=1),
        DenseHeadClassifier(hidden_layer_sizes=(), epochs=1),  # dropout at its default
        DenseHeadClassifier(early_stopping=False, epochs=1),  # patience at its default
        SequenceClassifier(epochs=1),
    ],
)
def test_default_settings_do_not_warn(head):
    X, y = features_and_labels()
    if isinstance(head, SequenceClassifier):
        X = np.array(["good film", "bad film", "fine plot"] * 10, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        head.set_params(random_state=0).fit(X, y)


def test_fine_tuning_defaults_do_not_warn(images):
    X, y = images
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        FineTuneImageClassifier(input_size=32, epochs=1, random_state=0).fit(X, y)
