"""SciKeras' KerasClassifier, brought up to the scikit-learn contract.

SciKeras 0.13 predates scikit-learn 1.6's tags: ``KerasClassifier`` declares
itself a classifier with the retired ``_estimator_type``/``_more_tags``, and
``ClassifierMixin`` sits after ``BaseEstimator`` in its bases, so
``is_classifier()`` is False and ``cross_val_score(cv=5)`` or
``GridSearchCV(cv=5)`` silently fall back to unstratified folds. The base class
here fixes that and adds what every sktransfer head shares: a stratified dev
split with early stopping and best-weight restore, finite-input checks that name
the offending row, an error for labels never seen in ``fit``, and
``predict_proba`` that is always 2-D.
"""

import math
from numbers import Integral

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.model_selection import train_test_split
from sklearn.utils import ClassifierTags

from ._shared_training import compile_model, fit_through_shared_trainer


class SklearnKerasClassifier(KerasClassifier):
    """KerasClassifier base for sktransfer heads; not used directly.

    Subclasses implement ``_build_network(meta)`` returning an uncompiled
    ``keras.Model`` with a softmax output over ``meta["n_classes_"]`` classes;
    this class compiles it with ``optimizer`` at ``learning_rate`` and sparse
    categorical cross-entropy.
    """

    def __init__(
        self, *, optimizer, learning_rate, epochs, batch_size, validation_fraction,
        early_stopping, patience, class_weight, random_state, verbose, **kwargs,
    ):
        super().__init__(
            optimizer=optimizer, epochs=epochs, batch_size=batch_size,
            class_weight=class_weight, random_state=random_state, verbose=verbose, **kwargs,
        )
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.patience = patience

    def _build_network(self, meta):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_params(self):
        """Validate the shared head parameters; subclasses extend it."""
        checks = {
            "learning_rate": self.learning_rate > 0,
            "epochs": isinstance(self.epochs, Integral) and self.epochs > 0,
            "batch_size": isinstance(self.batch_size, Integral) and self.batch_size > 0,
            "validation_fraction": 0 < self.validation_fraction < 1,
            "patience": isinstance(self.patience, Integral) and self.patience >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"invalid {name}={getattr(self, name)!r}")

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new network and train it on ``(X, y)``; returns ``self``."""
        self._check_params()
        return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    # -- scikit-learn tags -----------------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
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

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        items = None if X is None else self._as_input_list(X)
        if items is not None:
            # The feature encoder reads and checks each item, naming bad ones.
            if y is not None and len(items) != len(y):
                raise ValueError(f"X has {len(items)} items but y has {len(y)} labels")
            _, y = super()._validate_data(X=None, y=y, reset=reset, y_numeric=y_numeric)
            return items, y
        if X is not None:
            X = self._check_finite(X)
            if not reset and hasattr(self, "n_features_in_") and X.ndim >= 2:
                if X.shape[1:] != self.X_shape_[1:]:
                    raise ValueError(
                        f"X has {X.shape[1]} features per sample (shape {X.shape[1:]}), "
                        f"but {type(self).__name__} was fitted with "
                        f"{self.X_shape_[1]} (shape {self.X_shape_[1:]})"
                    )
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
        return train_test_split(
            np.arange(len(y)), test_size=n_dev, stratify=labels, random_state=self._random_state
        )

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        self._train_phase(
            self._compile_kwargs(), X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
        )

    def _train_phase(self, compile_kwargs, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
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
                X[train], y[train], None if sample_weight is None else sample_weight[train],
                warm_start, epochs, initial_epoch, **kwargs,
            )
        finally:
            self._fit_callbacks = callbacks
        self.best_epoch_ = int(np.argmin(self.history_["val_loss"])) + 1
        self.n_dev_samples_ = len(dev)
