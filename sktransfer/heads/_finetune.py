"""End-to-end fine-tuning of a pretrained image backbone with a new head."""

import os
from numbers import Integral, Real

import keras
import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._keras._distribution import DISTRIBUTIONS, distribution_scope
from .._keras._precision import PRECISIONS, build_in, loss_scaled, resolve_precision
from .._keras._shared_training import compile_model
from .._source_models import ExportedBackbone, ExportedOnnx, SharesSourceModel
from ..image._io import RESIZE_POLICIES
from ._augmentation import MASKS, spectrogram_masks
from ._base import SklearnKerasClassifier
from ._dense import check_layer_sizes

AUGMENTATIONS = ("flip", "crop", "rotation", "zoom", *MASKS)


class _ImageArrays(TransformerMixin, BaseEstimator):
    """Decode images to a preprocessed float32 batch (n, h, w, 3) for one backbone.

    Images decode in ``n_jobs`` background threads; a bad one raises a
    ValueError naming it (``image 3 ('a.jpg'): ...``).
    """

    def __init__(self, backbone, input_size, resize, n_jobs=None, batch_size=64):
        self.backbone = backbone
        self.input_size = input_size
        self.resize = resize
        self.n_jobs = n_jobs
        self.batch_size = batch_size

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        from ..image._backbones import preprocess_function
        from ..image._io import iter_batches

        height, width = self.input_size
        images = np.empty((len(X), height, width, 3), dtype=np.float32)
        batches = iter_batches(
            X,
            target=(width, height),
            policy=self.resize,
            batch_size=self.batch_size,
            n_workers=effective_n_jobs(self.n_jobs),
        )
        for start, batch, _ in batches:
            images[start : start + len(batch)] = batch
        preprocess = preprocess_function(self.backbone)
        return images if preprocess is None else np.asarray(preprocess(images), dtype=np.float32)


class FineTuningPhases:
    """Mixin: the two training phases of a pretrained network under a new head.

    ``freeze_epochs`` epochs with the pretrained part frozen, training only
    the head on the frozen part's outputs (computed once per input when
    ``_frozen_activations_reusable``), then the remaining epochs with the
    top ``trainable_layers`` unfrozen (``_unfreeze``) at ``learning_rate *
    lr_mult``, or the schedule ``_phase_learning_rate`` makes of it. With
    early stopping, the better of the two phases' best weights is kept.
    Subclasses name the frozen part's output layer ``_frozen_output_layer``.
    """

    #: The layer whose output is what the frozen pretrained part gives each input.
    _frozen_output_layer = "pool"

    def _phase_learning_rate(self, learning_rate, n_epochs, n_samples, unfrozen):
        """The learning rate (or schedule) of one training phase: here constant."""
        return learning_rate

    def _compile_kwargs(self, learning_rate=None):
        kwargs = super()._compile_kwargs(learning_rate)
        return {**kwargs, "optimizer": loss_scaled(kwargs["optimizer"], self.precision_)}

    def _frozen_activations_reusable(self):
        """Whether a frozen backbone gives each image the same output every epoch."""
        return not self.augmentation

    def _train_head_on_activations(self, compile_kwargs, X, y, *args, **kwargs):
        """Train the head's layers (shared with ``model_``) on the frozen pooled output."""
        model = self.model_
        pool = model.get_layer(self._frozen_output_layer)
        frozen = keras.Model(model.input, pool.output)
        step = max(self.batch_size, 64)
        activations = np.concatenate(
            [
                keras.ops.convert_to_numpy(frozen(X[start : start + step], training=False))
                for start in range(0, len(X), step)
            ]
        )
        inputs = keras.Input(shape=tuple(pool.output.shape[1:]))
        outputs = inputs
        for layer in model.layers[model.layers.index(pool) + 1 :]:
            outputs = layer(outputs)
        self.model_ = compile_model(keras.Model(inputs, outputs), compile_kwargs)
        if self._starts_from_linear_probe:
            self._start_from_linear_probe(activations, y, args[0] if args else None)
        try:
            self._train_phase(compile_kwargs, activations, y, *args, **kwargs)
        finally:
            self.model_ = model

    #: Whether a softmax head without hidden layers starts from a logistic regression.
    _starts_from_linear_probe = False

    def _start_from_linear_probe(self, activations, y, sample_weight):
        """Set the softmax layer to a logistic regression fitted on the frozen ``activations``.

        scikit-learn's ``LogisticRegression`` (L-BFGS, ``C=1``) on the rows
        that train (the dev split left out), so that the head starts where
        the simplest strong baseline ends instead of at random: with a few
        labels, a few epochs of Adam from random weights leave the head far
        less trained than that (linear probing, then fine-tuning). Heads with
        hidden layers start at random as before.
        """
        from sklearn.linear_model import LogisticRegression

        dense = [layer for layer in self.model_.layers if isinstance(layer, keras.layers.Dense)]
        if len(dense) != 1:
            return
        softmax = dense[0]
        rows = self._dev_split(y)[0] if self.early_stopping else np.arange(len(y))
        y = y.argmax(axis=1) if y.ndim > 1 and y.shape[1] > 1 else y.ravel()
        y = y.astype(int)
        weight = None if sample_weight is None else np.asarray(sample_weight)[rows]
        if len(np.unique(y[rows])) != softmax.units:
            return  # a class absent from the training rows: nothing to start it from
        probe = LogisticRegression(C=1.0, max_iter=5000)
        probe.fit(np.asarray(activations, np.float32)[rows], y[rows], sample_weight=weight)
        kernel = np.zeros((activations.shape[1], softmax.units), np.float32)
        bias = np.zeros(softmax.units, np.float32)
        if softmax.units == 2:  # one logit difference: class 1 against class 0
            kernel[:, 1], bias[1] = probe.coef_[0], probe.intercept_[0]
        else:
            kernel[:], bias[:] = probe.coef_.T, probe.intercept_
        softmax.set_weights([kernel, bias])

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        # One dev split for both phases (and the linear probe), even without a random_state.
        seed = self._random_state
        self._dev_split_seed = np.random.default_rng().integers(2**31 - 1) if seed is None else seed
        try:
            self._fit_phases(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)
        finally:
            del self._dev_split_seed

    def _fit_phases(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        unfreeze = self.trainable_layers == "all" or self.trainable_layers > 0
        warmup = min(self.freeze_epochs, epochs) if unfreeze else epochs
        phases = [(warmup, self.learning_rate, False)]
        if unfreeze and epochs > warmup:
            phases.append((epochs - warmup, self.learning_rate * self.lr_mult, True))
        history = {}
        done = initial_epoch
        warmup_epochs, warmup_state = 0, []
        self.n_trainable_backbone_weights_ = 0
        for n_epochs, learning_rate, unfrozen in phases:
            if n_epochs == 0:
                continue
            if unfrozen:
                self.n_trainable_backbone_weights_ = self._unfreeze(self.model_)
            compile_kwargs = self._compile_kwargs(
                self._phase_learning_rate(learning_rate, n_epochs, len(X), unfrozen)
            )
            if unfrozen or not self._frozen_activations_reusable():
                compile_model(self.model_, compile_kwargs)
                self._train_phase(
                    compile_kwargs, X, y, sample_weight, warm_start, n_epochs, done, **kwargs
                )
            else:
                self._train_head_on_activations(
                    compile_kwargs, X, y, sample_weight, warm_start, n_epochs, done, **kwargs
                )
            for key, values in self.history_.items():
                history.setdefault(key, []).extend(values)
            done += len(self.history_["loss"])
            if self.early_stopping and not unfrozen and len(phases) > 1:
                # The warm-up's best weights, in case unfreezing never beats them.
                warmup_epochs = len(history["loss"])
                warmup_state = [(v, keras.ops.convert_to_numpy(v)) for v in self.model_.weights]
        self.history_ = history
        if self.early_stopping:
            # Early stopping restored each phase's best weights; keep the better of the two.
            best = int(np.argmin(history["val_loss"]))
            if best < warmup_epochs < len(history["loss"]):
                for variable, value in warmup_state:
                    variable.assign(value)
            self.best_epoch_ = best + 1


class FineTuneImageClassifier(SharesSourceModel, FineTuningPhases, SklearnKerasClassifier):
    """A pretrained CNN and a new softmax head, trained end to end on images.

    ``trainable_layers`` sets how much of the backbone learns: 0 keeps it
    frozen (feature extraction, only the head trains); k unfreezes the top k
    *layers that hold weights*, batch normalisations aside (convolutions,
    depthwise convolutions, dense layers; counted from the output, whatever
    the backbone's block structure); "all" unfreezes all of them. It is an
    ordinary parameter, so ``GridSearchCV`` can choose it.

    Training runs in two phases: ``freeze_epochs`` epochs with the backbone
    frozen, so that the new head's random weights do not wreck the pretrained
    ones, then the remaining ``epochs - freeze_epochs`` epochs with the chosen
    layers unfrozen and the learning rate multiplied by ``lr_mult``. Batch
    normalisation layers stay frozen, so they always run in inference mode
    with their ImageNet statistics, scale and offset.

    While the backbone is frozen (every epoch when ``trainable_layers=0``,
    the warm-up otherwise) and there is no augmentation, its pooled output
    does not change from epoch to epoch: it is computed once per image and
    the head trains on it, which is the same training at a fraction of the
    cost (``benchmarks/finetune_frozen.py``).

    Parameters
    ----------
    backbone : str, default="efficientnet_lite0"
        A backbone name of ``KerasImageFeatures``.
    weights : "imagenet", path, estimator or None, default="imagenet"
        As in ``KerasImageFeatures``; None trains from random initialisation.
        A fitted ``FineTuneImageClassifier`` of a source task (or its model
        file) starts the backbone from the source's fine-tuned one, under a
        new head for the target's classes.
    input_size : int, (height, width) or None, default=None
        Image size fed to the network; None: the backbone's own.
    resize : {"stretch", "center_crop", "pad"}, default="stretch"
    trainable_layers : int >= 0 or "all", default=0
    freeze_epochs : int, default=3
        Head warm-up epochs before unfreezing (ignored when
        ``trainable_layers=0``).
    lr_mult : float, default=0.1
        Learning-rate multiplier once the backbone is unfrozen.
    augmentation : None or tuple of {"flip", "crop", "rotation", "zoom", \
"frequency_mask", "time_mask"}, default=None
        Random horizontal flips, crops (shifts of up to 1/8 of each side with
        zeros filled in, as padding then cropping back), rotations (up to 1/20
        turn) and zooms (up to 10%), in training only. For spectrogram images
        (``AudioSpectrogramImages``), SpecAugment's masks instead: a random
        band of up to 20% of the rows (frequency) or of the columns (time)
        of each image takes the image's mean value. Any augmentation changes
        what the frozen backbone sees, so its output is then computed anew
        every epoch rather than reused.
    hidden_layer_sizes : tuple of int, default=()
        Dense layers of the head between pooling and softmax.
    dropout : float in [0, 1), default=0.2
        Dropout rate on the input of every dense layer of the head: after
        the pooled backbone and after each hidden layer (the meaning of
        ``dropout`` on every head, see ``docs/conventions.md``).
    precision : {"float32", "bfloat16", "float16", "auto"}, default="float32"
        The float type the backbone computes in, in training and prediction,
        as in ``KerasImageFeatures``; the head and its softmax stay float32,
        and float16 training scales the loss (``LossScaleOptimizer``) so that
        small gradients do not vanish.
    n_jobs : int or None, default=None
        Threads that decode images (files are read in the background while
        the network runs); None means 1, -1 all cores.
    distribution : None, "mirrored" or tf.distribute.Strategy, default=None
        Train on one device (None), on every GPU of this machine with
        ``tf.distribute.MirroredStrategy`` ("mirrored"), or under the given
        strategy: the network is built and trained in its scope, each batch
        split between the devices (see ``docs/scaling.md``).
    optimizer, learning_rate, epochs, batch_size, validation_fraction,
    early_stopping, patience, class_weight, random_state, verbose, **kwargs
        As in ``DenseHeadClassifier`` (here ``epochs=10``, ``patience=3``).

    Attributes
    ----------
    classes_, model_, history_
        As in ``DenseHeadClassifier``; ``history_`` spans both phases.
    n_trainable_backbone_weights_ : int
        Scalars of the backbone that the second phase trains.
    precision_ : str
        ``precision`` resolved ("auto" on the machine that fitted it).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8)
    >>> labels = ["a", "b"] * 4
    >>> model = FineTuneImageClassifier(input_size=32, epochs=1, early_stopping=False,
    ...                                 random_state=0).fit(images, labels)
    >>> model.predict_proba(images[:2]).shape
    (2, 2)
    """

    _source_parameter = "weights"
    _sktransfer_modality = "image"
    _parameter_constraints = {
        **SklearnKerasClassifier._parameter_constraints,
        "backbone": [str],
        "weights": [str, os.PathLike, BaseEstimator, None],
        "input_size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "resize": [StrOptions(set(RESIZE_POLICIES))],
        "trainable_layers": [Interval(Integral, 0, None, closed="left"), StrOptions({"all"})],
        "freeze_epochs": [Interval(Integral, 0, None, closed="left")],
        "lr_mult": [Interval(Real, 0, None, closed="neither")],
        "augmentation": [tuple, list, None],
        "hidden_layer_sizes": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "precision": [StrOptions(set(PRECISIONS))],
        "n_jobs": [Integral, None],
        "distribution": [None, StrOptions(set(DISTRIBUTIONS)), HasMethods(["scope", "run"])],
    }

    def __init__(
        self,
        *,
        backbone="efficientnet_lite0",
        weights="imagenet",
        input_size=None,
        resize="stretch",
        trainable_layers=0,
        freeze_epochs=3,
        lr_mult=0.1,
        augmentation=None,
        hidden_layer_sizes=(),
        dropout=0.2,
        precision="float32",
        n_jobs=None,
        distribution=None,
        optimizer="adam",
        learning_rate=1e-3,
        epochs=10,
        batch_size=32,
        validation_fraction=0.1,
        early_stopping=True,
        patience=3,
        class_weight=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            optimizer=optimizer,
            learning_rate=learning_rate,
            epochs=epochs,
            batch_size=batch_size,
            validation_fraction=validation_fraction,
            early_stopping=early_stopping,
            patience=patience,
            class_weight=class_weight,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.backbone = backbone
        self.weights = weights
        self.input_size = input_size
        self.resize = resize
        self.trainable_layers = trainable_layers
        self.freeze_epochs = freeze_epochs
        self.lr_mult = lr_mult
        self.augmentation = augmentation
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.precision = precision
        self.n_jobs = n_jobs
        self.distribution = distribution

    # -- parameters and inputs -------------------------------------------------------

    def _spec(self):
        from ..image._backbones import backbone_and_size

        return backbone_and_size(self.backbone, self.input_size)

    def _training_scope(self):
        return distribution_scope(self.distribution)

    def _inert_parameters(self):
        inert = super()._inert_parameters()
        if self.trainable_layers == "all" or self.trainable_layers > 0:
            if self.epochs <= self.freeze_epochs:
                inert.append(
                    (
                        "trainable_layers",
                        f"with freeze_epochs={self.freeze_epochs} and epochs={self.epochs} every "
                        "epoch is warm-up with the backbone frozen; raise epochs above "
                        "freeze_epochs or lower freeze_epochs",
                    )
                )
        else:
            inert += [
                (name, "trainable_layers=0 keeps the backbone frozen for every epoch")
                for name in ("freeze_epochs", "lr_mult")
                if self._changed(name)
            ]
        return inert

    def _check_parameter_values(self):
        self._spec()  # a known backbone, and an input size it accepts
        unknown = set(self.augmentation or ()) - set(AUGMENTATIONS)
        if unknown:
            raise ValueError(f"unknown augmentation {sorted(unknown)}; choose from {AUGMENTATIONS}")
        check_layer_sizes(self.hidden_layer_sizes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X is images: paths, PIL images, or arrays (n, h, w[, channels]); not 2-D features.
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.string = True
        return tags

    def _as_input_list(self, X):
        from ..image._io import as_image_sequence

        return as_image_sequence(X)

    @property
    def feature_encoder(self):
        """Decodes and preprocesses images for the network (SciKeras' input hook)."""
        spec, size = self._spec()
        return _ImageArrays(
            spec, size, self.resize, n_jobs=self.n_jobs, batch_size=max(self.batch_size, 64)
        )

    # -- network ---------------------------------------------------------------------

    def _augmentation_layers(self, height, width):
        chosen = self.augmentation or ()
        layers = []
        if "flip" in chosen:
            layers.append(keras.layers.RandomFlip("horizontal"))
        if "crop" in chosen:
            # Pad-and-crop: a random shift of up to 1/8 of each side, zeros filled in.
            layers.append(keras.layers.RandomTranslation(0.125, 0.125, fill_mode="constant"))
        if "rotation" in chosen:
            layers.append(keras.layers.RandomRotation(0.05))
        if "zoom" in chosen:
            layers.append(keras.layers.RandomZoom(0.1))
        return layers + spectrogram_masks(chosen)

    def _build_network(self, meta):
        from ..image._backbones import build_base
        from ..image._source_model import source_backbone

        spec, (height, width) = self._spec()
        weights = source_backbone(self.weights, spec, (height, width), type(self).__name__)
        self.precision_ = resolve_precision(self.precision)
        base = build_in(
            self.precision_, lambda: build_base(spec, weights or self.weights, (height, width))
        )
        base.trainable = False
        inputs = keras.Input(shape=(height, width, 3))
        x = inputs
        for layer in self._augmentation_layers(height, width):
            x = layer(x)
        x = base(x, training=False)  # batch norm in inference mode, always
        # The head, from the pooling on, computes in float32 whatever the backbone's precision.
        x = keras.layers.GlobalAveragePooling2D(name="pool", dtype="float32")(x)
        for units in self.hidden_layer_sizes:
            x = keras.layers.Dropout(self.dropout)(x) if self.dropout else x
            x = keras.layers.Dense(units, activation="relu")(x)
        if self.dropout:
            x = keras.layers.Dropout(self.dropout)(x)
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(x)
        return keras.Model(inputs, outputs)

    def _backbone_model(self, model):
        return next(layer for layer in model.layers if isinstance(layer, keras.Model))

    def __sktransfer_export__(self, kind):
        """The fine-tuned backbone (kind ``"backbone"``) of the export protocol.

        Without the head on top; see ``sktransfer._source_models``.
        """
        if kind == "onnx":
            return ExportedOnnx(
                reason=(
                    "the export of a fine-tuned network as a whole is not implemented; export "
                    "KerasImageFeatures(weights=<this fitted classifier>) followed by a head instead, "
                    "or keep this pipeline in Python (joblib)"
                )
            )
        if kind != "backbone":
            return NotImplemented
        check_is_fitted(self)
        spec, size = self._spec()
        weights = self._backbone_model(self.model_).get_weights()
        return ExportedBackbone(spec.name, tuple(size), weights)

    def _unfreeze(self, model):
        """Make the top ``trainable_layers`` weighted backbone layers trainable.

        Batch normalisation layers stay frozen: Keras 3 runs a frozen
        BatchNormalization in inference mode, whereas an unfrozen one in a
        nested model follows the outer ``training=True`` of ``fit``.
        """
        base = self._backbone_model(model)
        base.trainable = True
        weighted = []
        for layer in base.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
            elif layer.weights:
                weighted.append(layer)
        count = (
            len(weighted)
            if self.trainable_layers == "all"
            else min(self.trainable_layers, len(weighted))
        )
        for position, layer in enumerate(weighted):
            layer.trainable = position >= len(weighted) - count
        return sum(int(np.prod(w.shape)) for w in base.trainable_weights)
