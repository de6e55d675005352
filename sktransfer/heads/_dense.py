"""A dense classification head on feature vectors, as a SciKeras classifier."""

import os
from numbers import Integral, Real

import keras
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._source_models import ExportedDenseLayers, ExportedOnnx, SharesSourceModel
from ._base import SklearnKerasClassifier
from ._init_from import dense_layout, start_from_source, weighted_layers


def check_layer_sizes(sizes, name="hidden_layer_sizes"):
    """A ValueError unless every layer size is a positive integer."""
    if not all(isinstance(u, Integral) and not isinstance(u, bool) and u > 0 for u in sizes):
        raise ValueError(
            f"The '{name}' parameter must be a tuple of positive integers, got {sizes!r}"
        )


class DenseHeadClassifier(SharesSourceModel, SklearnKerasClassifier):
    """Fully connected softmax classifier for extracted features.

    The new classification layer of feature-reuse transfer learning: put it
    after a feature extractor in a ``Pipeline``. ``hidden_layer_sizes=()``
    gives multinomial logistic regression; the default is the classic head
    of one 256-unit ReLU layer with 50% dropout.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256,)
        Units of each hidden layer, input to output. Empty: no hidden layer.
    dropout : float in [0, 1), default=0.5
        Dropout rate on the input of every dense layer whose input the
        network computes: here after each hidden layer, never on the given
        features (the meaning of ``dropout`` on every head, see
        ``docs/conventions.md``).
    activation : str, default="relu"
        Keras activation of the hidden layers.
    batch_norm : bool, default=False
        Batch normalisation before each hidden activation.
    init_from : estimator, path or None, default=None
        A source model to start from: a fitted ``DenseHeadClassifier`` trained
        on the same features of another task (or a fitted pipeline ending in
        one, or the model file ``sktransfer fit`` wrote of it), with the same
        ``hidden_layer_sizes``, ``activation`` and ``batch_norm``. The hidden
        layers start from its weights and the output layer, sized for this
        task's classes, starts new. None: random initialisation.
    optimizer : str, default="adam"
        Keras optimizer name.
    learning_rate : float, default=1e-3
        The optimizer's learning rate.
    epochs : int, default=100
        Maximum passes over the training data.
    batch_size : int, default=32
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out, stratified by class, as the dev
        set that early stopping watches (at least one sample per class).
    early_stopping : bool, default=True
        Stop when the dev loss has not improved for ``patience`` epochs and
        restore the weights of the best epoch. False trains on all the data
        for ``epochs`` epochs.
    patience : int, default=10
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, shuffling, dropout and the dev split;
        an int gives repeatable fits on CPU.
    verbose : int, default=0
        Keras' training log: 0 silent, 1 progress bar, 2 one line per epoch.
    **kwargs
        Other SciKeras parameters (``callbacks``, ``shuffle``, routed
        ``optimizer__*`` arguments, ...).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    model_ : keras.Model
        The trained network.
    history_ : dict
        Per-epoch ``loss``, ``accuracy`` and, with early stopping, ``val_loss``
        and ``val_accuracy``.
    best_epoch_ : int
        With early stopping: the epoch whose weights were kept.
    n_dev_samples_ : int
        With early stopping: the training samples held out as the dev set.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> head = DenseHeadClassifier(hidden_layer_sizes=(16,), dropout=0.0, epochs=200,
    ...                            learning_rate=0.01, random_state=0).fit(X, y)
    >>> head.predict_proba(X[:2]).shape
    (2, 3)
    >>> head.score(X, y) > 0.9
    True
    """

    _parameter_constraints = {
        **SklearnKerasClassifier._parameter_constraints,
        "hidden_layer_sizes": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "activation": [str, callable],
        "batch_norm": ["boolean"],
        "init_from": [None, str, os.PathLike, BaseEstimator],
    }
    _source_parameter = "init_from"

    def __init__(
        self,
        *,
        hidden_layer_sizes=(256,),
        dropout=0.5,
        activation="relu",
        batch_norm=False,
        init_from=None,
        optimizer="adam",
        learning_rate=1e-3,
        epochs=100,
        batch_size=32,
        validation_fraction=0.1,
        early_stopping=True,
        patience=10,
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
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.activation = activation
        self.batch_norm = batch_norm
        self.init_from = init_from

    def _check_parameter_values(self):
        check_layer_sizes(self.hidden_layer_sizes)

    def _inert_parameters(self):
        inert = super()._inert_parameters()
        if not len(self.hidden_layer_sizes):
            inert += [
                (name, "hidden_layer_sizes=() has no hidden layer for it to act on")
                for name in ("dropout", "activation", "batch_norm")
                if self._changed(name)
            ]
        return inert

    def _build_network(self, meta):
        inputs = keras.Input(shape=meta["X_shape_"][1:])
        x = keras.layers.Flatten()(inputs) if len(meta["X_shape_"]) > 2 else inputs
        for units in self.hidden_layer_sizes:
            x = keras.layers.Dense(units, use_bias=not self.batch_norm)(x)
            if self.batch_norm:
                x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation(self.activation)(x)
            if self.dropout:
                x = keras.layers.Dropout(self.dropout)(x)
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        if self.init_from is not None:
            start_from_source(model, self, meta["X_shape_"][1:])
        return model

    def __sktransfer_export__(self, kind):
        """The hidden layers (kind ``"dense_layers"``) of the export protocol.

        See ``sktransfer._source_models``.
        """
        if kind == "onnx":
            return ExportedOnnx(self._onnx_part)
        if kind != "dense_layers":
            return NotImplemented
        check_is_fitted(self)
        return ExportedDenseLayers(
            tuple(self.X_shape_[1:]),
            dense_layout(self),
            [layer.get_weights() for layer in weighted_layers(self.model_)[:-1]],
        )

    def _onnx_part(self, context):
        """This head as ONNX: features in, ``"label"`` and ``"probabilities"`` out."""
        from sklearn.utils.validation import check_is_fitted

        from .._onnx import OnnxExportError, OnnxPart, TensorSpec, keras_to_onnx, with_label_output

        check_is_fitted(self, "model_")
        shape = tuple(self.model_.inputs[0].shape[1:])
        given = None if context.input is None else tuple(context.input.shape[1:])
        if given is not None and None not in given and given != shape:
            raise OnnxExportError(
                f"it takes features of shape {shape}, the step before it gives {given}"
            )
        model = self.model_

        def forward(x):
            return keras.ops.cast(model(x, training=False), "float32")

        graph = keras_to_onnx(
            forward,
            TensorSpec("float32", (None, *shape)),
            "probabilities",
            what=f"{type(self).__name__}'s network",
        )
        return OnnxPart(
            output=TensorSpec("float32", (None, len(self.classes_))),
            graph=with_label_output(graph, self.classes_),
        )
