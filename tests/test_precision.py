"""The ``precision`` parameter: resolution of "auto", features, cache keys, pickles, training."""

import pickle
import threading

import keras
import numpy as np
import pytest
from PIL import Image
from skimage import data

from sktransfer import (
    DenseHeadClassifier,
    FeatureCache,
    FineTuneImageClassifier,
    KerasImageFeatures,
)
from sktransfer._keras import _precision
from tests.fresh_process import call_in_fresh_process


@pytest.fixture(scope="module")
def photos():
    """Eight real photos at 32x32, uint8."""
    sources = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    images = []
    for source in sources:
        img = Image.fromarray(source)
        images += [img, img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return np.stack([np.asarray(img.resize((32, 32), Image.Resampling.BILINEAR)) for img in images])


def cosines(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize(
    "flags, capability, expected",
    [
        ({"avx2", "avx512f"}, None, "float32"),
        ({"avx2", "avx512f", "avx512_bf16"}, None, "bfloat16"),
        ({"avx2", "amx_bf16", "amx_tile"}, None, "bfloat16"),
        ({"avx2"}, (7, 5), "float16"),
        ({"avx2"}, (8, 0), "bfloat16"),
        (set(), (9, 0), "bfloat16"),
    ],
)
def test_native_precision_reads_cpu_flags_and_gpu_capability(
    monkeypatch, flags, capability, expected
):
    monkeypatch.setattr(_precision, "_cpu_flags", lambda: flags)
    monkeypatch.setattr(_precision, "_gpu_compute_capability", lambda: capability)
    assert _precision.native_precision.__wrapped__() == expected


def test_cpu_flags_are_this_machine_s():
    with open("/proc/cpuinfo") as cpuinfo:
        line = next(line for line in cpuinfo if line.startswith("flags"))
    assert _precision._cpu_flags() == set(line.split(":", 1)[1].split())
    assert "fpu" in _precision._cpu_flags()


def test_auto_without_native_bfloat16_is_float32_and_shares_its_cache(
    monkeypatch, photos, tmp_path
):
    cache = FeatureCache(tmp_path / "cache")
    float32 = KerasImageFeatures(input_size=32, precision="float32", cache=cache).fit(photos)
    expected = float32.transform(photos)
    monkeypatch.setattr(_precision, "native_precision", lambda: "float32")
    auto = KerasImageFeatures(input_size=32, precision="auto", cache=cache).fit(photos)
    assert auto.precision_ == "float32"
    np.testing.assert_array_equal(auto.transform(photos), expected)
    assert (cache.hits, cache.misses) == (len(photos), len(photos))


def test_bfloat16_and_float16_features_are_float32_close_and_cached_apart(photos, tmp_path):
    cache = FeatureCache(tmp_path / "cache")
    features = {}
    for precision in ("float32", "bfloat16", "float16"):
        extractor = KerasImageFeatures(input_size=32, precision=precision, cache=cache)
        features[precision] = extractor.fit(photos).transform(photos)
        assert extractor.precision_ == precision
        assert features[precision].dtype == np.float32
        assert features[precision].shape == (len(photos), 1280)
    # Three precisions, three sets of rows: the key covers the precision.
    assert (cache.hits, cache.misses) == (0, 3 * len(photos))
    assert cache.stats()["rows"] == 3 * len(photos)
    float32 = features["float32"]
    # At 32x32 Lite0's last map is 1x1: no pooling averages the rounding away
    # (at 224x224 bfloat16 reaches 0.999, benchmarks/precision.py).
    for precision, (smallest, mean) in (("bfloat16", (0.99, 0.995)), ("float16", (0.9999,) * 2)):
        similarity = cosines(float32, features[precision])
        assert similarity.min() > smallest and similarity.mean() > mean
        assert not np.allclose(float32, features[precision], rtol=0, atol=1e-6)
    # Same weights (float32 variables) whatever the precision.
    digests = {
        KerasImageFeatures(input_size=32, precision=p).fit(photos[:1]).weights_sha256_
        for p in ("float32", "bfloat16")
    }
    assert len(digests) == 1


def test_mixed_precision_leaves_other_networks_and_threads_in_float32(photos):
    reference = KerasImageFeatures(input_size=32, backbone="efficientnet_lite0").fit(photos)
    seen = {}

    def build_in_thread():
        KerasImageFeatures(input_size=32, precision="bfloat16").fit(photos[:1])
        seen["policy"] = keras.config.dtype_policy().name

    thread = threading.Thread(target=build_in_thread)
    thread.start()
    thread.join()
    assert seen["policy"] == "float32"
    assert keras.config.dtype_policy().name == "float32"
    layers = keras.layers.Dense(2)
    assert layers.compute_dtype == "float32"
    # A float32 network built after a bfloat16 one computes in float32.
    network = reference._weights()
    assert {layer.compute_dtype for layer in network.model.layers} == {"float32"}
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    head = DenseHeadClassifier(epochs=1, early_stopping=False, random_state=0).fit(X, X[:, 0] > 0)
    assert {layer.compute_dtype for layer in head.model_.layers} == {"float32"}


def test_resolved_precision_survives_a_pickle(monkeypatch, photos):
    # "auto" resolved to float16 when fitted; loaded where the answer is
    # float32, the estimator computes in float16 all the same.
    monkeypatch.setattr(_precision, "native_precision", lambda: "float16")
    extractor = KerasImageFeatures(input_size=32, precision="auto").fit(photos)
    here = extractor.transform(photos)
    monkeypatch.setattr(_precision, "native_precision", lambda: "float32")
    loaded = pickle.loads(pickle.dumps(extractor))
    assert loaded.precision_ == "float16"
    np.testing.assert_array_equal(loaded.transform(photos), here)
    refitted = loaded.fit(photos)
    assert refitted.precision_ == "float32"
    assert not np.array_equal(refitted.transform(photos), here)


@pytest.fixture(scope="module")
def fine_tuned(photos):
    """A bfloat16 and a float16 fine-tuning with the warm-up on frozen activations."""
    labels = np.array(["person", "person", "cup", "cup", "cat", "cat", "rocket", "rocket"])
    X = np.concatenate([photos, photos[:, :, ::-1]])
    y = np.concatenate([labels, labels])
    return {
        precision: FineTuneImageClassifier(
            input_size=32,
            trainable_layers=2,
            freeze_epochs=1,
            epochs=3,
            patience=3,
            validation_fraction=0.25,
            batch_size=8,
            precision=precision,
            random_state=0,
        ).fit(X, y)
        for precision in ("bfloat16", "float16")
    }, X


def test_fine_tuning_in_mixed_precision(fine_tuned):
    models, X = fine_tuned
    for precision, model in models.items():
        assert model.precision_ == precision
        base = model._backbone_model(model.model_)
        convolutions = [lay for lay in base.layers if type(lay) is keras.layers.Conv2D]
        assert {lay.compute_dtype for lay in convolutions} == {precision}
        assert {w.dtype for w in base.weights} == {"float32"}
        assert model.model_.outputs[0].dtype == "float32"  # the softmax
        assert model.n_trainable_backbone_weights_ > 0
        # Both phases ran: early stopping restored a best epoch among three.
        assert len(model.history_["loss"]) == 3 and 1 <= model.best_epoch_ <= 3
        assert np.all(np.isfinite(model.history_["loss"]))
        proba = model.predict_proba(X)
        assert proba.dtype == np.float32
        np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    optimizers = {p: type(m.model_.optimizer).__name__ for p, m in models.items()}
    assert optimizers == {"bfloat16": "Adam", "float16": "LossScaleOptimizer"}


def test_fine_tuned_model_predicts_in_its_precision_after_loading(fine_tuned, tmp_path):
    models, X = fine_tuned
    model = models["bfloat16"]
    here = model.predict_proba(X)
    loaded = call_in_fresh_process(model, "predict_proba", X, tmp_path)
    np.testing.assert_allclose(loaded, here, rtol=0, atol=1e-6)
    # The same weights computing in float32 predict other numbers.
    as_float32 = pickle.loads(pickle.dumps(model))
    for layer in as_float32._backbone_model(as_float32.model_).layers:
        layer.dtype_policy = "float32"
    assert np.abs(as_float32.predict_proba(X) - here).max() > 1e-4
