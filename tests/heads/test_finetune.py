"""FineTuneImageClassifier: end-to-end training with a grid-searchable frozen depth."""

import keras
import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.model_selection import GridSearchCV

from sktransfer import FineTuneImageClassifier
from sktransfer.datasets import load_fashion_mnist
from sktransfer.image._backbones import BACKBONES, build_base

from ..fresh_process import call_in_fresh_process


@pytest.fixture(scope="module")
def fashion():
    """300 training images (30 per class) and 500 test images of Fashion-MNIST."""
    X, y = load_fashion_mnist("train")
    X_test, y_test = load_fashion_mnist("test")
    rng = np.random.default_rng(0)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 30, replace=False) for c in range(10)]
    )
    train = train.reshape(10, 30).T.ravel()  # interleave the classes: any prefix holds all ten
    test = rng.choice(len(y_test), 500, replace=False)
    return X[train], y[train], X_test[test], y_test[test]


def tiny(**params):
    settings = dict(input_size=32, epochs=1, early_stopping=False, random_state=0)
    return FineTuneImageClassifier(**{**settings, **params})


def test_fine_tuning_imagenet_weights_beats_random_weights(fashion):
    X, y, X_test, y_test = fashion
    settings = dict(
        input_size=32,
        trainable_layers="all",
        freeze_epochs=2,
        epochs=8,
        learning_rate=3e-3,
        early_stopping=False,
        random_state=0,
    )
    pretrained = FineTuneImageClassifier(weights="imagenet", **settings).fit(X, y)
    scratch = FineTuneImageClassifier(weights=None, **settings).fit(X, y)
    assert is_classifier(pretrained)
    pretrained_accuracy = pretrained.score(X_test, y_test)
    scratch_accuracy = scratch.score(X_test, y_test)
    # 300 labels, 10 classes: the same network learns far more from ImageNet weights.
    assert pretrained_accuracy >= 0.5 and pretrained_accuracy > scratch_accuracy + 0.3, (
        pretrained_accuracy,
        scratch_accuracy,
    )
    assert len(pretrained.history_["loss"]) == 8


def expected_trainable(k):
    """Head (1280 x 10 + 10) plus the weights of the top k weighted non-batch-norm layers."""
    base = build_base(BACKBONES["efficientnet_lite0"], "imagenet", (32, 32))
    weighted = [
        layer
        for layer in base.layers
        if layer.weights and type(layer).__name__ != "BatchNormalization"
    ]
    top = weighted if k == "all" else weighted[len(weighted) - k :]
    backbone = sum(int(np.prod(w.shape)) for layer in top for w in layer.trainable_weights)
    return backbone, 1280 * 10 + 10 + backbone


@pytest.mark.parametrize("k", [0, 1, 7, "all"])
def test_trainable_layers_sets_the_trainable_weight_count(fashion, k):
    X, y = fashion[:2]
    model = tiny(trainable_layers=k, freeze_epochs=0, epochs=1).fit(X[:40], y[:40])
    backbone, total = expected_trainable(k) if k else (0, 1280 * 10 + 10)
    assert model.n_trainable_backbone_weights_ == backbone
    assert sum(int(np.prod(w.shape)) for w in model.model_.trainable_weights) == total


def test_batch_norm_stays_in_inference_mode_when_the_backbone_is_unfrozen(fashion):
    X, y = fashion[:2]
    model = tiny(trainable_layers="all", freeze_epochs=0, epochs=2).fit(X[:40], y[:40])
    base = next(layer for layer in model.model_.layers if hasattr(layer, "layers"))
    reference = build_base(BACKBONES["efficientnet_lite0"], "imagenet", (32, 32))
    norms = [layer for layer in base.layers if type(layer).__name__ == "BatchNormalization"]
    assert len(norms) == 49
    for layer in norms:
        for got, want in zip(layer.get_weights(), reference.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(got, want)
    changed = [
        layer.name
        for layer in base.layers
        if type(layer).__name__ == "Conv2D"
        and not np.array_equal(
            layer.get_weights()[0], reference.get_layer(layer.name).get_weights()[0]
        )
    ]
    assert changed  # while the convolutions did train


def test_frozen_backbone_keeps_its_imagenet_weights(fashion):
    X, y = fashion[:2]
    model = tiny(trainable_layers=0, epochs=2).fit(X[:40], y[:40])
    base = next(layer for layer in model.model_.layers if hasattr(layer, "layers"))
    reference = build_base(BACKBONES["efficientnet_lite0"], "imagenet", (32, 32))
    for got, want in zip(base.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_grid_search_trains_each_candidate_as_asked_and_refits_the_best(fashion):
    X, y = fashion[:2]
    fits = []

    class Recorded(FineTuneImageClassifier):
        """Records, for each fit, what it was asked and what it trained."""

        def fit(self, X, y, **kwargs):
            super().fit(X, y, **kwargs)
            units = [layer.units for layer in self.model_.layers if hasattr(layer, "units")]
            asked = (self.trainable_layers, self.hidden_layer_sizes)
            fits.append((asked, self.n_trainable_backbone_weights_, units))
            return self

    grid = {"trainable_layers": [0, 3], "hidden_layer_sizes": [(), (32,)]}
    search = GridSearchCV(Recorded(**tiny(freeze_epochs=1, epochs=2).get_params()), grid, cv=2)
    search.fit(X[:60], y[:60])
    assert len(fits) == 4 * 2 + 1
    for (trainable_layers, sizes), n_backbone_weights, units in fits:
        # Three backbone layers unfrozen, or none; the head has the layers asked for.
        assert (n_backbone_weights > 0) == (trainable_layers == 3)
        assert units == [*sizes, 10]
    assert len({n for _, n, _ in fits}) == 2  # unfreezing 3 layers trains the same weights
    best = search.best_params_
    assert search.best_index_ == np.argmax(search.cv_results_["mean_test_score"])
    assert fits[-1][0] == (best["trainable_layers"], best["hidden_layer_sizes"])  # the refit
    assert search.best_estimator_.n_trainable_backbone_weights_ == fits[-1][1]
    np.testing.assert_array_equal(
        search.predict_proba(X[60:70]), search.best_estimator_.predict_proba(X[60:70])
    )


def test_augmentation_changes_what_training_sees_and_is_off_at_prediction(fashion):
    X, y = fashion[:2]
    chosen = ("flip", "crop", "rotation", "zoom")
    model = tiny(augmentation=chosen, dropout=0.0, epochs=2).fit(X[:40], y[:40])
    network = model.model_
    base = next(i for i, layer in enumerate(network.layers) if isinstance(layer, keras.Model))
    augment = network.layers[1:base]
    assert [type(layer).__name__ for layer in augment] == [
        "RandomFlip",
        "RandomTranslation",
        "RandomRotation",
        "RandomZoom",
    ]
    images = model.feature_encoder_.transform(X[:16])
    # fit calls the network in training mode: the augmentations change what it sees, and
    # with no dropout and batch norm in inference mode nothing else differs.
    trained_on = keras.ops.convert_to_numpy(network(images, training=True))
    predicted = keras.ops.convert_to_numpy(network(images, training=False))
    assert not np.allclose(trained_on, predicted, atol=1e-4)
    seen = images
    for layer in augment:
        seen = keras.ops.convert_to_numpy(layer(seen, training=True))
    assert np.abs(seen - images).mean() > 1.0  # pixels in the network's input range
    np.testing.assert_allclose(model.predict_proba(X[:16]), predicted, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(model.predict_proba(X[:5]), model.predict_proba(X[:5]))


def test_joblib_round_trip_in_a_fresh_process(fashion, tmp_path):
    X, y = fashion[:2]
    model = tiny(trainable_layers=2, freeze_epochs=1, epochs=2).fit(X[:40], y[:40])
    restored = call_in_fresh_process(model, "predict_proba", X[:10], tmp_path)
    np.testing.assert_array_equal(restored, model.predict_proba(X[:10]))
    expected = model.model_.predict(
        model.feature_encoder_.transform(X[:10]), batch_size=model.batch_size, verbose=0
    )
    np.testing.assert_allclose(model.predict_proba(X[:10]), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"trainable_layers": -1},
            "The 'trainable_layers' parameter of FineTuneImageClassifier must be",
        ),
        (
            {"trainable_layers": "some"},
            "The 'trainable_layers' parameter of FineTuneImageClassifier must be",
        ),
        ({"freeze_epochs": -1}, "The 'freeze_epochs' parameter of FineTuneImageClassifier must be"),
        ({"lr_mult": 0}, "The 'lr_mult' parameter of FineTuneImageClassifier must be"),
        ({"resize": "squash"}, "The 'resize' parameter of FineTuneImageClassifier must be"),
        ({"backbone": None}, "The 'backbone' parameter of FineTuneImageClassifier must be"),
        ({"weights": 1}, "The 'weights' parameter of FineTuneImageClassifier must be"),
        ({"input_size": 0}, "The 'input_size' parameter of FineTuneImageClassifier must be"),
        (
            {"augmentation": "flip"},
            "The 'augmentation' parameter of FineTuneImageClassifier must be",
        ),
        (
            {"hidden_layer_sizes": 8},
            "The 'hidden_layer_sizes' parameter of FineTuneImageClassifier must be",
        ),
        ({"dropout": -0.1}, "The 'dropout' parameter of FineTuneImageClassifier must be"),
        ({"n_jobs": 1.5}, "The 'n_jobs' parameter of FineTuneImageClassifier must be"),
        ({"epochs": 0}, "The 'epochs' parameter of FineTuneImageClassifier must be"),
        (
            {"hidden_layer_sizes": (8, -1)},
            "'hidden_layer_sizes' parameter must be a tuple of positive",
        ),
        ({"augmentation": ("flip", "blur")}, r"unknown augmentation \['blur'\]"),
        (
            {"input_size": 16},
            r"input_size \(16, 16\) is smaller than backbone 'efficientnet_lite0' accepts: at least 32x32",
        ),
        ({"backbone": "alexnet"}, "unknown backbone 'alexnet'; valid backbones are"),
    ],
)
def test_invalid_parameters_fail_in_fit(fashion, params, message):
    X, y = fashion[:2]
    with pytest.raises(ValueError, match=message):
        tiny(**params).fit(X[:20], y[:20])


def test_every_parameter_has_a_constraint():
    assert set(FineTuneImageClassifier._parameter_constraints) == set(
        FineTuneImageClassifier().get_params(deep=False)
    )


def test_backbone_is_keyword_only():
    with pytest.raises(TypeError):
        FineTuneImageClassifier("efficientnet_lite0")


@pytest.mark.parametrize("n_jobs", [1, 3])
def test_bad_image_is_named_in_fit_and_predict(fashion, tmp_path, n_jobs):
    X, y = fashion[:2]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    missing = tmp_path / "missing.jpg"
    items = [X[0], X[1], str(broken)]
    with pytest.raises(ValueError, match=r"image 2 \('.*broken.png'\): not an image file"):
        tiny(n_jobs=n_jobs).fit(items, y[:3])
    model = tiny(weights=None, n_jobs=n_jobs).fit(X[:10], y[:10])
    with pytest.raises(ValueError, match=r"image 3 \('.*missing.jpg'\): no such file"):
        model.predict([X[0], X[1], X[2], str(missing)])


def test_files_decode_in_threads_to_the_same_predictions(fashion_pngs):
    from PIL import Image

    files, labels = fashion_pngs.files(per_class=7)
    order = np.arange(70).reshape(10, 7).T.ravel()  # interleave the classes
    paths = [str(files[i]) for i in order]
    X, y = np.stack([np.asarray(Image.open(p)) for p in paths]), labels[order]
    model = tiny(weights=None, n_jobs=1).fit(X[:20], y[:20])
    from_arrays = model.predict_proba(X[:70])
    np.testing.assert_allclose(model.predict_proba(paths), from_arrays, atol=1e-6)
    threaded = tiny(weights=None, n_jobs=4).fit(paths[:20], y[:20])
    np.testing.assert_allclose(threaded.predict_proba(paths), from_arrays, atol=1e-6)


class StepByStep(FineTuneImageClassifier):
    """The naive loop: the frozen backbone runs on every image in every epoch."""

    def _frozen_activations_reusable(self):
        return False


@pytest.mark.parametrize("trainable_layers", [0, 3])
def test_frozen_activations_are_computed_once_with_the_same_result(fashion, trainable_layers):
    X, y = fashion[0][:120], fashion[1][:120]
    reuses = []

    class Recording(FineTuneImageClassifier):
        def _train_head_on_activations(self, *args, **kwargs):
            reuses.append(args[5])  # the phase's epochs
            return super()._train_head_on_activations(*args, **kwargs)

    params = dict(
        input_size=32,
        epochs=3,
        freeze_epochs=2,
        dropout=0.0,
        hidden_layer_sizes=(16,),
        trainable_layers=trainable_layers,
        early_stopping=False,
        random_state=0,
    )
    reused = Recording(**params).fit(X, y)
    naive = StepByStep(**params).fit(X, y)
    # One pass of the backbone covers every frozen epoch: all 3, or the 2 of the warm-up.
    assert reuses == [3 if trainable_layers == 0 else 2]
    np.testing.assert_allclose(reused.history_["loss"], naive.history_["loss"], rtol=1e-4)
    np.testing.assert_allclose(reused.predict_proba(X), naive.predict_proba(X), atol=1e-5)
    # Augmentation changes the images every epoch: nothing can be reused then.
    reuses.clear()
    Recording(**{**params, "augmentation": ("flip",)}).fit(X, y)
    assert reuses == []


def test_early_stopping_keeps_the_warm_up_weights_when_unfreezing_does_worse(fashion):
    X, y = fashion[0][:120], fashion[1][:120]
    params = dict(
        input_size=32, freeze_epochs=3, dropout=0.0, learning_rate=3e-3, patience=5, random_state=0
    )
    # A huge learning rate once unfrozen: the second phase only makes the dev loss worse.
    wrecked = FineTuneImageClassifier(
        trainable_layers="all", epochs=5, lr_mult=300.0, **params
    ).fit(X, y)
    warm_up_only = FineTuneImageClassifier(trainable_layers=0, epochs=3, **params).fit(X, y)
    val_loss = wrecked.history_["val_loss"]
    assert len(val_loss) == 5 and min(val_loss[3:]) > min(val_loss[:3])
    assert wrecked.best_epoch_ == int(np.argmin(val_loss)) + 1 <= 3
    np.testing.assert_allclose(
        wrecked.history_["val_loss"][:3], warm_up_only.history_["val_loss"], rtol=1e-4
    )
    np.testing.assert_allclose(wrecked.predict_proba(X), warm_up_only.predict_proba(X), atol=1e-4)
