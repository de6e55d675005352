"""SciKeras' KerasClassifier, brought up to the scikit-learn contract.

SciKeras 0.13 predates scikit-learn 1.6's tags: ``KerasClassifier`` declares
itself a classifier with the retired ``_estimator_type``/``_more_tags``, and
``ClassifierMixin`` sits after ``BaseEstimator`` in its bases, so
``is_classifier()`` is False and ``cross_val_score(cv=5)`` or
``GridSearchCV(cv=5)`` silently fall back to unstratified folds. No subclass of
``KerasClassifier`` can put ``ClassifierMixin`` first (the method resolution
order of a subclass keeps its parent's), so ``KerasClassifierCore`` takes
SciKeras' machinery (``BaseWrapper`` and ``KerasClassifier`` methods) onto a
class whose bases are in scikit-learn's order, without the retired tag
methods. The heads' base class (``sktransfer.heads._base``) builds on it.
"""

import numpy as np
from scikeras.wrappers import BaseWrapper, KerasClassifier
from sklearn.base import BaseEstimator, ClassifierMixin

# Members that are not taken over: the retired tag API, what Python or
# scikit-learn's metadata routing generates per class, and the methods that call
# super() (re-implemented below without it).
_NOT_TAKEN = {
    "__module__",
    "__doc__",
    "__dict__",
    "__weakref__",
    "__init__",
    "_tags",
    "_estimator_type",
    "_more_tags",
    "set_fit_request",
    "set_partial_fit_request",
    "set_score_request",
    "set_params",
    "initialize",
    "fit",
    "partial_fit",
}


def _scikeras_members():
    members = {k: v for k, v in vars(BaseWrapper).items() if k not in _NOT_TAKEN}
    members.update({k: v for k, v in vars(KerasClassifier).items() if k not in _NOT_TAKEN})
    members.pop("__name__")
    return members


def read_op_determinism_setting():
    """Have TensorFlow read ``TF_DETERMINISTIC_OPS`` before SciKeras changes it.

    TensorFlow reads that variable once per process, the first time anything
    asks whether op determinism is on. SciKeras sets it to ``"1"`` while it
    builds or trains a network with a ``random_state``, so when that is the
    first question, determinism stays on for the rest of the process, and a
    later head with ``random_state=None`` fails with "Random ops require a seed
    to be set when determinism is enabled". Asking first, outside SciKeras'
    seeded steps, reads the user's own setting.

    Examples
    --------
    >>> read_op_determinism_setting() in (True, False)
    True
    """
    from tensorflow.python.framework import config

    return config.is_op_determinism_enabled()


class KerasClassifierCore(ClassifierMixin, BaseEstimator):
    """SciKeras 0.13's ``KerasClassifier``, with ``ClassifierMixin`` before ``BaseEstimator``."""

    # Set here, not with setattr: on a class, setattr(cls, "__name__", ...) renames it.
    __name__ = vars(BaseWrapper)["__name__"]

    def __init__(
        self,
        *,
        model=None,
        build_fn=None,
        warm_start=False,
        random_state=None,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        batch_size=None,
        validation_batch_size=None,
        verbose=1,
        callbacks=None,
        validation_split=0.0,
        shuffle=True,
        run_eagerly=False,
        epochs=1,
        class_weight=None,
        **kwargs,
    ):
        BaseWrapper.__init__(
            self,
            model=model,
            build_fn=build_fn,
            warm_start=warm_start,
            random_state=random_state,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            validation_batch_size=validation_batch_size,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            epochs=epochs,
            **kwargs,
        )
        self.class_weight = class_weight

    def set_params(self, **params):
        """Set parameters, including routed ones such as ``optimizer__beta_1``."""
        for param, value in params.items():
            if any(param.startswith(prefix + "__") for prefix in self._routing_prefixes):
                setattr(self, param, value)
            else:
                BaseEstimator.set_params(self, **{param: value})
        return self

    def initialize(self, X, y):
        """Build the network for ``(X, y)`` without training it; returns ``self``."""
        read_op_determinism_setting()
        self.classes_ = None
        BaseWrapper.initialize(self, X, y)
        return self

    def _class_weighted(self, y, sample_weight):
        if self.class_weight is None:
            return sample_weight
        from sklearn.utils.class_weight import compute_sample_weight

        weights = compute_sample_weight(class_weight=self.class_weight, y=y)
        return weights if sample_weight is None else np.asarray(sample_weight) * weights

    def fit(self, X, y, sample_weight=None, **kwargs):
        read_op_determinism_setting()
        self.classes_ = None
        sample_weight = self._class_weighted(y, sample_weight)
        BaseWrapper.fit(self, X, y, sample_weight=sample_weight, **kwargs)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        read_op_determinism_setting()
        self.classes_ = classes if classes is not None else getattr(self, "classes_", None)
        sample_weight = self._class_weighted(y, sample_weight)
        BaseWrapper.partial_fit(self, X, y, sample_weight=sample_weight, **kwargs)
        return self


for _name, _member in _scikeras_members().items():
    if _name not in vars(KerasClassifierCore):
        setattr(KerasClassifierCore, _name, _member)
