"""The pretrained CNN backbones, built lazily and shared within a process.

A feature network is the backbone without its classifier, cut at an optional
named layer, followed by a pooling, with the backbone's own
``preprocess_input`` in front: raw pixels 0..255 go in, features come out. It
is built on first use and cached, keyed by everything that shapes it, so the
clones that a grid search makes share one network rather than rebuilding it
per candidate. Inference runs through a compiled function (``tf.function``
under the TensorFlow backend), several times faster than ``Model.predict``:
one per input dtype (uint8, float32), traced once for a batch dimension of
any size, so that no batch size retraces it and threads can share it. A
network built in bfloat16 or float16 (``precision``) computes in it and
gives float32 features all the same: the feature map is cast before pooling.
"""

import collections
import os
import threading
import warnings
import weakref
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from .._keras._forward import compiled_function, compiled_functions
from .._keras._precision import build_in
from ..cache._keys import array_digest


@dataclass(frozen=True)
class Backbone:
    name: str
    module: str  # keras.applications submodule with its preprocess_input
    constructor: str  # its class in keras.applications; "" for our own builds
    input_size: int  # the size its ImageNet weights were trained at
    min_size: int  # the smallest input side it accepts
    features: int  # channels of its last convolutional map (mean / max pooling)


_KERAS = [
    ("vgg16", "vgg16", "VGG16", 224, 32, 512),
    ("vgg19", "vgg19", "VGG19", 224, 32, 512),
    ("resnet50", "resnet", "ResNet50", 224, 32, 2048),
    ("resnet101", "resnet", "ResNet101", 224, 32, 2048),
    ("resnet152", "resnet", "ResNet152", 224, 32, 2048),
    ("resnet50_v2", "resnet_v2", "ResNet50V2", 224, 32, 2048),
    ("mobilenet", "mobilenet", "MobileNet", 224, 32, 1024),
    ("mobilenet_v2", "mobilenet_v2", "MobileNetV2", 224, 32, 1280),
    ("mobilenet_v3_small", "mobilenet_v3", "MobileNetV3Small", 224, 32, 576),
    ("mobilenet_v3_large", "mobilenet_v3", "MobileNetV3Large", 224, 32, 960),
    ("densenet121", "densenet", "DenseNet121", 224, 32, 1024),
    ("inception_v3", "inception_v3", "InceptionV3", 299, 75, 2048),
    ("xception", "xception", "Xception", 299, 71, 2048),
    ("efficientnet_b0", "efficientnet", "EfficientNetB0", 224, 32, 1280),
    ("efficientnet_b1", "efficientnet", "EfficientNetB1", 240, 32, 1280),
    ("efficientnet_b2", "efficientnet", "EfficientNetB2", 260, 32, 1408),
    ("efficientnet_b3", "efficientnet", "EfficientNetB3", 300, 32, 1536),
    ("efficientnet_v2_b0", "efficientnet_v2", "EfficientNetV2B0", 224, 32, 1280),
    ("convnext_tiny", "convnext", "ConvNeXtTiny", 224, 32, 768),
]

BACKBONES = {row[0]: Backbone(*row) for row in _KERAS}
BACKBONES["efficientnet_lite0"] = Backbone("efficientnet_lite0", "", "", 224, 32, 1280)

POOLINGS = ("mean", "max", "flatten")


def get_backbone(name):
    """The registry entry of ``name``, or a ValueError listing the valid names."""
    try:
        return BACKBONES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown backbone {name!r}; valid backbones are: {', '.join(sorted(BACKBONES))}"
        ) from None


def backbone_and_size(name, input_size):
    """The registry entry of ``name`` and the checked (height, width) input size.

    ``input_size`` is an int, a (height, width) pair, or None for the size the
    backbone's ImageNet weights were trained at; a side below the backbone's
    minimum is a ValueError.
    """
    backbone = get_backbone(name)
    if input_size is None:
        size = (backbone.input_size, backbone.input_size)
    elif isinstance(input_size, Integral):
        size = (int(input_size), int(input_size))
    else:
        size = tuple(input_size)
        if len(size) != 2 or not all(isinstance(s, Integral) and s > 0 for s in size):
            raise ValueError(f"input_size must be an int or (height, width), got {input_size!r}")
        size = (int(size[0]), int(size[1]))
    if min(size) < backbone.min_size:
        raise ValueError(
            f"input_size {size} is smaller than backbone {backbone.name!r} accepts: "
            f"at least {backbone.min_size}x{backbone.min_size} pixels"
        )
    return backbone, size


def file_identity(weights):
    """Hashable identity of a weights file: its absolute path, size and mtime."""
    path = os.path.abspath(os.fspath(weights))
    try:
        stat = os.stat(path)
    except OSError:
        raise ValueError(f"weights file {weights!s} does not exist") from None
    return (path, stat.st_size, stat.st_mtime_ns)


def _weights_key(weights):
    """Hashable identity of a weights choice: a file also by its size and mtime."""
    if weights is None or weights == "imagenet":
        return weights
    if hasattr(weights, "load_into"):  # a source model's backbone (image/_source_model.py)
        return weights.cache_key
    return file_identity(weights)


def _leaf_layers(model):
    """Every non-model layer of ``model``, nested models flattened."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _copy_weights(model, path):
    import keras

    if path.endswith(".keras"):
        # A whole model, maybe with a classifier on top or the backbone
        # nested inside: copy the weights of every layer by name.
        loaded = keras.saving.load_model(path, compile=False)
        source = {layer.name: layer for layer in _leaf_layers(loaded)}
        for layer in model.layers:
            if not layer.weights:
                continue
            if layer.name not in source:
                raise ValueError(f"it has no layer named {layer.name!r}")
            shapes = [tuple(w.shape) for w in layer.weights]
            given = [tuple(w.shape) for w in source[layer.name].weights]
            if shapes != given:
                raise ValueError(
                    f"layer {layer.name!r} needs shapes {shapes}, the file gives {given}"
                )
            layer.set_weights(source[layer.name].get_weights())
    else:
        model.load_weights(path)


def _load_weights_file(model, backbone, path):
    """Load a weights or model file into the no-top ``model``, or say why it does not fit."""
    path = os.fspath(path)
    name = backbone.name
    if path.endswith(".pth") and name != "efficientnet_lite0":
        raise ValueError(
            f"weights file {path} is a PyTorch file; only efficientnet_lite0 reads those"
        )
    try:
        if path.endswith(".pth"):
            from ._lite0 import load_torch_weights

            load_torch_weights(model, path)
            return
        with warnings.catch_warnings():
            # Keras 3.1x says it skips "nested containers" of functional
            # models; they hold no weights, and every layer's weights load (the
            # tests compare the features).
            warnings.filterwarnings("ignore", "Skipping nested container", UserWarning)
            _copy_weights(model, path)
    except Exception as exc:  # Keras raises several types for a mismatch
        raise ValueError(f"weights file {path} does not fit backbone {name!r}: {exc}") from exc


def build_base(backbone, weights, input_size):
    """The backbone without its top, at ``input_size`` (h, w), with its weights."""
    shape = (int(input_size[0]), int(input_size[1]), 3)
    if backbone.name == "efficientnet_lite0":
        from ._lite0 import build_efficientnet_lite0, load_torch_weights, shipped_weights_path

        model = build_efficientnet_lite0(input_shape=shape)
        if weights == "imagenet":
            load_torch_weights(model, shipped_weights_path())
    else:
        import keras

        model = getattr(keras.applications, backbone.constructor)(
            include_top=False,
            weights="imagenet" if weights == "imagenet" else None,
            input_shape=shape,
        )
    if hasattr(weights, "load_into"):
        weights.load_into(model)
    elif weights not in (None, "imagenet"):
        _load_weights_file(model, backbone, weights)
    return model


def preprocess_function(backbone):
    """The backbone's own ``preprocess_input`` (raw 0..255 RGB in)."""
    if backbone.name == "efficientnet_lite0":
        return None  # the network's first layer rescales
    import importlib

    module = importlib.import_module(f"keras.applications.{backbone.module}")
    return module.preprocess_input


class FeatureNetwork:
    """A built feature network and its compiled inference function.

    Calling it with a batch of images, uint8 or float32 of shape
    ``(n, h, w, 3)`` holding raw pixels 0..255, gives float32 features of
    shape ``(n, n_features)``, whatever ``precision`` (resolved: "float32",
    "bfloat16" or "float16") the network computes in.

    Under the TensorFlow backend each input dtype has one ``tf.function``
    with a fixed input signature (any ``n``, the network's ``h, w``), traced
    on its first call under a lock: calls of every batch size, from any
    number of threads, run that one graph. ``warm_up`` traces (and runs) both
    ahead of time.
    """

    DTYPES = ("uint8", "float32")

    def __init__(
        self, backbone, weights, input_size, layer, pooling, weight_values=None, precision="float32"
    ):
        import keras

        source = None if weight_values is not None else weights
        base = build_in(precision, lambda: build_base(backbone, source, input_size))
        if layer is not None:
            names = [lay.name for lay in base.layers]
            if layer not in names:
                raise ValueError(
                    f"backbone {backbone.name!r} has no layer {layer!r}; its layers are: "
                    + ", ".join(names)
                )
            base = keras.Model(base.input, base.get_layer(layer).output, name=f"{base.name}_cut")
        if weight_values is not None:
            base.set_weights(weight_values)
        self.model = base
        self.pooling = pooling
        self._preprocess = preprocess_function(backbone)
        out_shape = tuple(base.output.shape[1:])
        if len(out_shape) == 3 and pooling in ("mean", "max"):
            self.n_features = int(out_shape[-1])
        else:
            self.n_features = int(np.prod(out_shape))
        self._lock = threading.Lock()
        self._sha256 = None

    @property
    def weights_sha256(self):
        """SHA-256 (hex) of every weight of the network, in layer order."""
        with self._lock:
            if self._sha256 is None:
                self._sha256 = array_digest(self.model.get_weights())
            return self._sha256

    def _forward(self, x):
        from keras import ops

        x = ops.cast(x, "float32")
        if self._preprocess is not None:
            x = self._preprocess(x)
        y = ops.cast(self.model(x, training=False), "float32")
        if len(y.shape) == 4 and self.pooling == "mean":
            return ops.mean(y, axis=(1, 2))
        if len(y.shape) == 4 and self.pooling == "max":
            return ops.max(y, axis=(1, 2))
        return ops.reshape(y, (ops.shape(y)[0], -1))

    def _function(self, dtype):
        """``_forward`` for batches of ``dtype``, compiled by ``tf.function`` once.

        Eager ``_forward`` under another Keras backend.
        """
        height, width = self.input_size
        network = weakref.ref(self)  # the function must not keep its owner alive
        return compiled_function(
            self, dtype, lambda x: network()._forward(x), (None, height, width, 3), dtype
        )

    def to_onnx(self, dtype, *, what):
        """The network as an ONNX model: raw pixels of ``dtype`` in, ``"features"`` out.

        The same ``_forward`` as the compiled function (the backbone's
        ``preprocess_input``, the network, the pooling), traced by
        ``tf.function`` and converted by tf2onnx; see ``sktransfer._onnx``.
        Only a float32 network exports (other precisions would compute other
        numbers than the graph).
        """
        from .._onnx import TensorSpec, keras_to_onnx

        height, width = self.input_size
        return keras_to_onnx(
            self._forward, TensorSpec(dtype, (None, height, width, 3)), "features", what=what
        )

    @property
    def input_size(self):
        """(height, width) of the images the network takes."""
        return tuple(int(side) for side in self.model.input_shape[1:3])

    def tracing_count(self):
        """How many times the compiled functions were traced (0 outside TensorFlow)."""
        return sum(
            function.experimental_get_tracing_count()
            for function in compiled_functions(self)
            if hasattr(function, "experimental_get_tracing_count")
        )

    def warm_up(self):
        """Trace and run the compiled function of both input dtypes on one blank image.

        The first call of a function pays for its tracing and graph
        optimisation (about a second); after this, the first real call of any
        batch size costs what later ones do. Returns ``self``.
        """
        height, width = self.input_size
        for dtype in self.DTYPES:
            self(np.zeros((1, height, width, 3), dtype=dtype))
        return self

    def __call__(self, batch):
        from keras import ops

        batch = np.asarray(batch)
        if batch.dtype.name not in self.DTYPES:
            batch = batch.astype(np.float32)
        features = self._function(batch.dtype.name)(batch)
        return np.asarray(ops.convert_to_numpy(features), dtype=np.float32)


_CACHE = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 4


def feature_network(
    backbone, weights, input_size, layer, pooling, embedded=None, precision="float32"
):
    """The shared :class:`FeatureNetwork` for these settings, built on first use.

    ``embedded``, a (sha256, weight arrays) pair, gives the weights instead of
    ``weights``' source; ``precision`` is a resolved one. The most recently
    used ``CACHE_SIZE`` networks stay built.
    """
    source = ("sha256", embedded[0]) if embedded is not None else _weights_key(weights)
    key = (backbone.name, source, tuple(input_size), layer, pooling, precision)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        network = FeatureNetwork(
            backbone,
            weights,
            input_size,
            layer,
            pooling,
            weight_values=None if embedded is None else embedded[1],
            precision=precision,
        )
        _CACHE[key] = network
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return network


def clear_cache():
    """Forget every built network (their memory goes once nothing else holds them)."""
    with _CACHE_LOCK:
        _CACHE.clear()
