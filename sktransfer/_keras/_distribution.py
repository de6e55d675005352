"""Training a head's Keras model under a ``tf.distribute`` strategy.

Under a strategy the model's variables are mirrored on every device and each
batch is split between them; the gradients are summed across devices before
each update, so training matches one device's up to floating-point rounding.
The same code path serves several GPUs of one machine (``"mirrored"``) and
any strategy the caller builds (``MultiWorkerMirroredStrategy`` across
machines, a ``MirroredStrategy`` on chosen devices). Only the TensorFlow
backend of Keras has ``tf.distribute``.
"""

import contextlib
import functools

DISTRIBUTIONS = ("mirrored",)
"""The named values of ``distribution``; None trains on one device, a strategy object is used as given."""


def as_strategy(distribution):
    """The ``tf.distribute.Strategy`` for ``distribution``, or None for one device.

    Parameters
    ----------
    distribution : None, "mirrored" or tf.distribute.Strategy
        ``"mirrored"``: ``tf.distribute.MirroredStrategy()`` over every GPU
        (or every logical CPU device when there is no GPU).

    Examples
    --------
    >>> as_strategy(None) is None
    True
    >>> type(as_strategy("mirrored")).__name__
    'MirroredStrategy'
    """
    if distribution is None:
        return None
    import keras  # here, so that reading DISTRIBUTIONS imports no Keras (exported models)

    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"distribution={distribution!r} needs Keras' TensorFlow backend, but "
            f"KERAS_BACKEND is {keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow "
            "or distribution=None"
        )
    import tensorflow as tf

    if isinstance(distribution, tf.distribute.Strategy):
        return distribution
    if distribution == "mirrored":
        return _mirrored_strategy()
    raise ValueError(
        f"distribution must be None, one of {DISTRIBUTIONS} or a tf.distribute.Strategy, "
        f"got {distribution!r}"
    )


@functools.cache
def _mirrored_strategy():
    """One MirroredStrategy per process, so that fits under it share their traced trainers."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy()


def distribution_scope(distribution):
    """A context in which Keras models are built and trained under ``distribution``."""
    strategy = as_strategy(distribution)
    return contextlib.nullcontext() if strategy is None else strategy.scope()
