"""A FineTuneImageClassifier fitted on a source task as the backbone of target models."""

import joblib
import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import (
    DenseHeadClassifier,
    FineTuneImageClassifier,
    KerasImageFeatures,
    SequenceClassifier,
)
from sktransfer._model_file import load_model, save_model
from sktransfer.datasets import load_fashion_mnist
from sktransfer.image._backbones import clear_cache
from tests.fresh_process import call_in_fresh_process


def fashion(classes, per_class, offset=0):
    images, labels = load_fashion_mnist("test")
    chosen = np.concatenate(
        [np.flatnonzero(labels == c)[offset : offset + per_class] for c in classes]
    )
    return images[chosen], labels[chosen]


@pytest.fixture(scope="module")
def source_data():
    """10 real Fashion-MNIST images of each source class 0 to 5."""
    return fashion(range(6), 10)


@pytest.fixture(scope="module")
def source(source_data):
    """A FineTuneImageClassifier fitted on the source images at 32x32, top 2 layers trained."""
    return FineTuneImageClassifier(
        input_size=32, trainable_layers=2, freeze_epochs=1, epochs=2, early_stopping=False
    ).fit(*source_data)


@pytest.fixture(scope="module")
def target():
    """5 + 5 real images of each target class 6 to 9: training and test."""
    return fashion(range(6, 10), 5), fashion(range(6, 10), 5, offset=5)


@pytest.fixture(scope="module")
def source_file(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("source") / "source.joblib"
    return save_model(path, make_pipeline(source), modality="image")


def penultimate(classifier, X):
    """The classifier's pooled backbone output, its head's input."""
    model = classifier.model_
    pooled = keras.Model(model.input, model.get_layer("pool").output)
    return np.asarray(pooled(classifier.feature_encoder_.transform(X)))


def backbone_weights(classifier):
    return classifier._backbone_model(classifier.model_).get_weights()


def test_features_are_the_source_model_s_penultimate_activations(source, source_data):
    X = source_data[0][:12]
    expected = penultimate(source, X)
    for weights in (source, make_pipeline(source), FrozenEstimator(source)):
        features = KerasImageFeatures(weights=weights, input_size=32).fit_transform(X)
        np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-4)
    # The source changed the backbone: these are not the ImageNet features.
    imagenet = KerasImageFeatures(input_size=32).fit_transform(X)
    assert np.abs(imagenet - expected).max() > 1e-2


def test_in_memory_source_is_shared_by_clones_and_carried_by_pickles(source, target, tmp_path):
    (X_train, y_train), (X_test, _) = target
    model = make_pipeline(KerasImageFeatures(weights=source, input_size=32), LogisticRegression())
    assert clone(model)[0].weights is source  # a fitted source, not an unfitted copy
    model.fit(X_train, y_train)
    expected = model.predict_proba(X_test)
    joblib.dump(model, tmp_path / "target.joblib")
    clear_cache()  # no shared network left: the loaded model rebuilds its own
    loaded = joblib.load(tmp_path / "target.joblib")
    assert "_embedded_weights" in vars(loaded[0])
    np.testing.assert_array_equal(loaded.predict_proba(X_test), expected)


def test_model_file_source_by_reference_then_checksum_error(source_file, target, tmp_path):
    (X_train, y_train), (X_test, _) = target
    model = make_pipeline(
        KerasImageFeatures(weights=source_file, input_size=32), LogisticRegression()
    ).fit(X_train, y_train)
    saved = tmp_path / "target.joblib"
    joblib.dump(model, saved)
    assert saved.stat().st_size < source_file.stat().st_size / 20  # no weights inside
    expected = model.predict_proba(X_test)
    np.testing.assert_array_equal(
        call_in_fresh_process(model, "predict_proba", X_test, tmp_path), expected
    )
    changed = load_model(source_file).pipeline
    kernel = backbone_weights(changed[-1])[-1]
    changed[-1]._backbone_model(changed[-1].model_).weights[-1].assign(kernel + 1)
    save_model(source_file, changed, modality="image")
    with pytest.raises(ValueError, match=f"the weights from file {source_file}.*changed since fit"):
        joblib.load(saved).predict(X_test)


def test_fine_tuned_target_starts_from_the_source_backbone(source, target):
    (X_train, y_train), (X_test, y_test) = target
    model = FineTuneImageClassifier(
        weights=source, input_size=32, epochs=1, early_stopping=False, random_state=0
    )
    assert clone(model).weights is source
    model.fit(X_train, y_train)  # trainable_layers=0: the backbone stays as it came
    for given, kept in zip(backbone_weights(source), backbone_weights(model), strict=True):
        np.testing.assert_array_equal(given, kept)
    assert model.predict_proba(X_test).shape == (len(y_test), 4)


def test_sources_that_do_not_fit_say_what_differs(source, target, tmp_path):
    X = target[0][0][:2]
    text_file = save_model(
        tmp_path / "text.joblib", DummyClassifier().fit([[0], [1]], ["a", "b"]), modality="text"
    )
    features = make_pipeline(
        KerasImageFeatures(input_size=32), DenseHeadClassifier(epochs=1, early_stopping=False)
    )
    cases = [
        (dict(weights=source), "trained on 32x32 images, .* takes 224x224; set input_size=32"),
        (
            dict(weights=source, input_size=32, backbone="mobilenet_v2"),
            "fine-tuned backbone 'efficientnet_lite0', .* set backbone='efficientnet_lite0'",
        ),
        (dict(weights=text_file, input_size=32), "classifies text, not image"),
        (dict(weights=SequenceClassifier(), input_size=32), "is not a FineTuneImageClassifier"),
        (
            dict(weights=features.fit(X, [0, 1]), input_size=32),
            "a pipeline KerasImageFeatures -> DenseHeadClassifier, whose last step is not",
        ),
        (dict(weights=FineTuneImageClassifier(), input_size=32), "unfitted"),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            KerasImageFeatures(**params).fit(X)
    with pytest.raises(ValueError, match="classifies text, not image"):
        FineTuneImageClassifier(weights=text_file, input_size=32, epochs=1).fit(X, [0, 1])
