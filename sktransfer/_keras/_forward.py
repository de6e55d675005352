"""One compiled forward function per network and input type, for every thread.

A network's inference (``model(x, training=False)``, or an extractor's
preprocessing, network and pooling) is wrapped in a ``tf.function`` with a
fixed input signature whose batch size is ``None``: one trace serves every
batch, there is no retracing for a new batch size, no progress bar, and the
function is safe to call from several threads. It is traced on the first
request, under a lock, and kept beside its owner (the network, or the
extractor's ``FeatureNetwork``) in a weak mapping, so that pickles, clones
and deep copies never see it and a refit (a new network) gets a new one. The
heads predict through :func:`compiled_forward`; the image extractors extract
through :func:`compiled_function`.
"""

import threading
import weakref

import keras

_COMPILED = weakref.WeakKeyDictionary()  # owner -> {key: compiled function}
_COMPILED_LOCK = threading.Lock()


def compiled_function(owner, key, function, shape, dtype):
    """``function(x)`` compiled once for inputs of ``shape`` and ``dtype``, kept with ``owner``.

    Parameters
    ----------
    owner : object
        What the function belongs to (weakly referenced: the function must
        not refer to it strongly either).
    key : hashable
        Which of the owner's functions (an input dtype, say).
    function : callable
        One tensor in, one tensor out.
    shape : tuple
        The input's shape, ``None`` for the batch size.
    dtype : str or dtype
        The input's dtype.

    Returns
    -------
    callable
        A traced ``tf.function``; ``function`` itself under another Keras
        backend.
    """
    with _COMPILED_LOCK:
        functions = _COMPILED.setdefault(owner, {})
        if key not in functions:
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                spec = tf.TensorSpec(tuple(shape), dtype)
                compiled = tf.function(function, input_signature=[spec])
                compiled.get_concrete_function()  # trace now, inside the lock
            else:
                compiled = function
            functions[key] = compiled
        return functions[key]


def compiled_functions(owner):
    """The functions compiled so far for ``owner``, as a list."""
    with _COMPILED_LOCK:
        return list(_COMPILED.get(owner, {}).values())


def compiled_forward(model):
    """``model(x, training=False)`` as a ``tf.function`` with a fixed input signature.

    The signature is the model's input with any batch size (``None``) and the
    input's dtype. Returns None when the model cannot have one (another Keras
    backend, several inputs).
    """
    if keras.backend.backend() != "tensorflow" or len(model.inputs) != 1:
        return None
    spec = model.inputs[0]
    network = weakref.ref(model)  # the function must not keep its key alive

    def call(x):
        return network()(x, training=False)

    return compiled_function(model, "forward", call, spec.shape, spec.dtype)
