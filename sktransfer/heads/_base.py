"""The base class of sktransfer's Keras heads.

``SklearnKerasClassifier`` builds on SciKeras' ``KerasClassifier`` brought up
to scikit-learn's contract (``sktransfer._keras._scikeras``) and adds what
every sktransfer head shares: parameter validation with
``_parameter_constraints``, a stratified dev split with early stopping and
best-weight restore, finite-input checks that name the offending row, an error
for labels never seen in ``fit``, ``predict_proba`` that is always 2-D, and
prediction through one compiled forward function per fitted network (see
``sktransfer._keras._forward.compiled_forward``) instead of
``keras.Model.predict``.
"""

import contextlib
import inspect
import math
import warnings
from numbers import Integral, Real

import keras
import numpy as np
from scikeras._utils import route_params
from sklearn.base import _fit_context
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import column_or_1d

from .._keras._forward import compiled_forward
from .._keras._scikeras import KerasClassifierCore
from .._keras._shared_training import compile_model, fit_through_shared_trainer


class SklearnKerasClassifier(KerasClassifierCore):
    """KerasClassifier base for sktransfer heads; not used directly.

    Subclasses implement ``_build_network(meta)`` returning an uncompiled
    ``keras.Model`` with a softmax output over ``meta["n_classes_"]`` classes;
    this class compiles it with ``optimizer`` at ``learning_rate`` and sparse
    categorical cross-entropy. Subclasses extend ``_parameter_constraints``
    with their own parameters.
    """

    _parameter_constraints = {
        "optimizer": [str, keras.optimizers.Optimizer],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "early_stopping": ["boolean"],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        # SciKeras' own parameters. The heads build, compile and encode their
        # network themselves: a model, loss or metrics given here would be
        # ignored or would contradict it.
        "model": [None],
        "build_fn": [None],
        "loss": [None],
        "metrics": [None],
        "warm_start": ["boolean"],
        "validation_batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "callbacks": [list, None],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "shuffle": ["boolean"],
        "run_eagerly": ["boolean"],
    }

    def __init__(
        self,
        *,
        optimizer,
        learning_rate,
        epochs,
        batch_size,
        validation_fraction,
        early_stopping,
        patience,
        class_weight,
        random_state,
        verbose,
        **kwargs,
    ):
        super().__init__(
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            class_weight=class_weight,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience

    def _build_network(self, meta):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_parameter_values(self):
        """What ``_parameter_constraints`` cannot express; run in ``fit`` after them."""

    def _changed(self, name):
        """Whether parameter ``name`` differs from its default."""
        default = inspect.signature(type(self).__init__).parameters[name].default
        return getattr(self, name) != default

    def _inert_parameters(self):
        """``(parameter, reason)`` for each parameter the others keep from taking effect.

        Only parameters the user set (not at their default) are listed, except
        where the parameter's whole point is lost.
        """
        if self.early_stopping:
            return []
        return [
            (name, "early_stopping=False trains on all the data, without a dev split")
            for name in ("validation_fraction", "patience")
            if self._changed(name)
        ]

    def _warn_inert_parameters(self):
        inert = self._inert_parameters()
        if inert:
            warnings.warn(
                f"{type(self).__name__}: "
                + "; ".join(f"{name} has no effect: {reason}" for name, reason in inert),
                UserWarning,
                stacklevel=4,
            )

    def _training_scope(self):
        """The context the network is built and trained in (a ``tf.distribute`` scope)."""
        return contextlib.nullcontext()

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new network and train it on ``(X, y)``.

        Parameters
        ----------
        X : array-like
            Training inputs.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
        **kwargs
            Passed on to ``keras.Model.fit``.

        Returns
        -------
        self
        """
        self._check_parameter_values()
        self._warn_inert_parameters()
        with self._training_scope():
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train for one more epoch, building the network on the first call; returns ``self``."""
        if not getattr(self, "initialized_", False):
            self._check_parameter_values()
            self._warn_inert_parameters()
        with self._training_scope():
            return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight, **kwargs)

    # -- scikit-learn tags -----------------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags = ClassifierTags(multi_class=True)
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        return tags

    # -- model ---------------------------------------------------------------------

    def _keras_build_fn(self, meta):
        if meta["target_type_"] not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} handles binary and multiclass labels, "
                f"got {meta['target_type_']!r} targets"
            )
        return compile_model(self._build_network(meta), self._compile_kwargs())

    def _compile_kwargs(self, learning_rate=None):
        optimizer = keras.optimizers.get(self.optimizer)
        optimizer.learning_rate = self.learning_rate if learning_rate is None else learning_rate
        return {
            "optimizer": optimizer,
            "loss": "sparse_categorical_crossentropy",
            "metrics": ["accuracy"],
        }

    # -- validation ----------------------------------------------------------------

    def _check_finite(self, X):
        """X as an array; a ValueError naming the first row with NaN or infinity."""
        X = np.asarray(X)
        if X.dtype.kind in "fc" and not np.all(np.isfinite(X)):
            bad = np.argwhere(~np.isfinite(X))[0]
            where = f"row {bad[0]}" + (f", column {bad[1]}" if len(bad) > 1 else "")
            raise ValueError(
                f"X contains NaN or infinity ({where}); {type(self).__name__} needs "
                "finite features: impute or drop such rows first"
            )
        return X

    def _as_input_list(self, X):
        """For heads whose inputs are not numbers (texts, images): X as a list.

        None for heads on numeric arrays, which SciKeras validates.
        """
        return None

    def _check_y(self, y, reset):
        """A column vector y as 1-D (with scikit-learn's warning); two classes at least."""
        if y is None:
            return None
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if reset:
            classes = np.unique(y)
            if classes.size < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes, but y "
                    f"contains only one class: {classes.tolist()}"
                )
        return y

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        items = None if X is None else self._as_input_list(X)
        if items is not None:
            # The feature encoder reads and checks each item, naming bad ones.
            if y is not None and len(items) != len(y):
                raise ValueError(f"X has {len(items)} items but y has {len(y)} labels")
            y = self._check_y(y, reset)
            _, y = super()._validate_data(X=None, y=y, reset=reset, y_numeric=y_numeric)
            return items, y
        if X is not None:
            X = self._check_finite(X)
            if not reset and hasattr(self, "n_features_in_") and X.ndim >= 2:
                name = type(self).__name__
                if X.shape[1] != self.n_features_in_:
                    raise ValueError(
                        f"X has {X.shape[1]} features, but {name} is expecting "
                        f"{self.n_features_in_} features as input"
                    )
                if X.shape[1:] != self.X_shape_[1:]:
                    raise ValueError(
                        f"X has samples of shape {X.shape[1:]}, but {name} is expecting "
                        f"samples of shape {self.X_shape_[1:]}"
                    )
        y = self._check_y(y, reset)
        return super()._validate_data(X=X, y=y, reset=reset, y_numeric=y_numeric)

    def _check_known_labels(self, y):
        unknown = np.setdiff1d(np.unique(np.asarray(y)), self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels not seen in fit: {unknown.tolist()}; "
                f"known classes are {self.classes_.tolist()}"
            )

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on ``X`` against ``y``; labels unseen in fit are an error."""
        self._check_known_labels(y)
        return super().score(X, y, sample_weight=sample_weight)

    def predict_proba(self, X, **kwargs):
        """Class probabilities, shape (n_samples, n_classes); rows sum to 1."""
        proba = super().predict_proba(X, **kwargs)
        return proba.reshape(-1, self.n_classes_)

    def _predict_raw(self, X, **kwargs):
        """The network's output for ``X``, in batches of ``batch_size``.

        SciKeras' checks and feature encoding, then the compiled forward
        function of ``model_`` (see ``compiled_forward``): no retracing for a
        new batch size, no progress bar, safe to call from several threads.
        ``keras.Model.predict`` serves what that function cannot (predict
        callbacks, ``steps``, another backend).
        """
        if not getattr(self, "initialized_", False):
            raise NotFittedError("Estimator needs to be fit before `predict` can be called")
        X, _ = self._validate_data(X=X, y=None)
        X = self.feature_encoder_.transform(X)
        pred_args = route_params(
            self.get_params(), destination="predict", pass_filter=self._predict_kwargs, strict=True
        )
        pred_args = {k: v for k, v in pred_args.items() if not k.startswith("callbacks")}
        pred_args.update(kwargs)
        batch_size = pred_args.pop("batch_size", None) or 32
        if batch_size == -1:
            batch_size = max(X.shape[0], 1)
        verbose = pred_args.pop("verbose", self.verbose)
        forward = None if pred_args or self._predict_callbacks else compiled_forward(self.model_)
        if forward is None:
            return self.model_.predict(
                x=X,
                batch_size=batch_size,
                verbose=verbose,
                callbacks=self._predict_callbacks,
                **pred_args,
            )
        X = np.asarray(X, dtype=forward.input_signature[0].dtype.as_numpy_dtype)
        if len(X) == 0:
            return np.empty((0, *self.model_.outputs[0].shape[1:]), dtype=np.float32)
        parts = [
            keras.ops.convert_to_numpy(forward(X[start : start + batch_size]))
            for start in range(0, len(X), batch_size)
        ]
        return np.concatenate(parts)

    # -- training: stratified dev split and early stopping ---------------------------

    def _dev_split(self, y):
        """Indices of a stratified held-out dev set, taken from the training data."""
        # Ordinal codes (n, 1) for sparse cross-entropy, one-hot rows otherwise.
        labels = y.argmax(axis=1) if y.ndim > 1 and y.shape[1] > 1 else y.ravel()
        counts = np.bincount(labels.astype(int))
        if counts.min() < 2:
            rare = self.classes_[np.argmin(counts)]
            raise ValueError(
                f"class '{rare}' has {counts.min()} example(s): a stratified dev split for "
                "early stopping needs at least 2 per class; add examples or set "
                "early_stopping=False"
            )
        n_dev = max(math.ceil(self.validation_fraction * len(y)), len(counts))
        if len(y) - n_dev < len(counts):
            raise ValueError(
                f"{len(y)} samples are too few for a dev split of {n_dev} with "
                f"{len(counts)} classes; set early_stopping=False"
            )
        # A fit that splits more than once (two phases) sets one seed for all of them.
        seed = self.__dict__.get("_dev_split_seed", self._random_state)
        return train_test_split(
            np.arange(len(y)), test_size=n_dev, stratify=labels, random_state=seed
        )

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        self._train_phase(
            self._compile_kwargs(), X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
        )

    def _train_phase(
        self, compile_kwargs, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ):
        """Train ``model_`` (compiled with ``compile_kwargs``) through its shared trainer."""
        # SciKeras trains self.model_; point it at the shared trainer meanwhile.
        model = self.model_

        def train(trainer):
            self.model_ = trainer
            try:
                self._fit_with_dev_split(
                    X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
                )
            finally:
                self.model_ = model

        fit_through_shared_trainer(model, compile_kwargs, train)

    def _fit_with_dev_split(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        if not self.early_stopping:
            return super()._fit_keras_model(
                X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
            )
        train, dev = self._dev_split(y)
        dev_weight = None if sample_weight is None else sample_weight[dev]
        kwargs["validation_data"] = (
            (X[dev], y[dev]) if dev_weight is None else (X[dev], y[dev], dev_weight)
        )
        stopper = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=self.patience, restore_best_weights=True
        )
        callbacks = self._fit_callbacks
        self._fit_callbacks = [*callbacks, stopper]
        try:
            super()._fit_keras_model(
                X[train],
                y[train],
                None if sample_weight is None else sample_weight[train],
                warm_start,
                epochs,
                initial_epoch,
                **kwargs,
            )
        finally:
            self._fit_callbacks = callbacks
        self.best_epoch_ = int(np.argmin(self.history_["val_loss"])) + 1
        self.n_dev_samples_ = len(dev)
