"""The ``precision`` parameter: which float type a network computes in.

Modern CPUs (AVX512_BF16, AMX) and GPUs (tensor cores) multiply bfloat16 or
float16 matrices several times faster than float32 ones. Keras expresses this
as a *mixed* dtype policy: variables stay float32, computations run in the
lower precision. The policy is applied only while a network is being built,
in the building thread (Keras keeps the default policy per thread), and
restored afterwards, so no other estimator in the process is affected.

``"auto"`` resolves through :func:`native_precision`, the one function that
reads the hardware: bfloat16 where it is computed natively, float16 on older
GPUs, float32 otherwise. A fitted estimator keeps the resolved value, so a
model trained in one precision predicts in the same one after loading,
whatever machine loads it.
"""

import contextlib
import functools

PRECISIONS = ("float32", "bfloat16", "float16", "auto")
"""The values of the ``precision`` parameter."""

_CPU_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpu_flags():
    """The CPU feature flags (Linux ``/proc/cpuinfo``); empty where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _gpu_compute_capability():
    """(major, minor) of the first GPU TensorFlow sees, or None without one."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    return tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")


@functools.cache
def native_precision():
    """The reduced precision this machine computes natively, else float32.

    ``"bfloat16"`` on a GPU of compute capability 8.0 or more (Ampere and
    later) or a CPU with the ``avx512_bf16`` or ``amx_bf16`` flag;
    ``"float16"`` on an older GPU; ``"float32"`` otherwise.

    >>> native_precision() in ("float32", "bfloat16", "float16")
    True
    """
    capability = _gpu_compute_capability()
    if capability is not None:
        return "bfloat16" if tuple(capability) >= (8, 0) else "float16"
    if _cpu_flags() & set(_CPU_BFLOAT16_FLAGS):
        return "bfloat16"
    return "float32"


def resolve_precision(precision):
    """``precision`` with ``"auto"`` replaced by :func:`native_precision`'s answer.

    >>> resolve_precision("float16")
    'float16'
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return native_precision() if precision == "auto" else precision


def dtype_policy_name(precision):
    """The Keras dtype policy of a resolved precision.

    >>> dtype_policy_name("bfloat16")
    'mixed_bfloat16'
    """
    return "float32" if precision == "float32" else f"mixed_{precision}"


@contextlib.contextmanager
def _default_policy(name):
    """The thread's default Keras dtype policy is ``name`` inside, and restored after."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _layers(model):
    """Every layer of ``model``, nested models included."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)


def build_in(precision, build):
    """``build()``, a Keras model whose layers compute in ``precision`` (resolved).

    Variables stay float32. Under bfloat16, depthwise convolutions compute in
    float32: with 8 bits of mantissa their per-channel sums lose the most
    (EfficientNet-Lite0's features reach a cosine similarity of 0.9985 to
    float32's with them in bfloat16, 0.9993 without), and on CPUs they gain
    no speed from it. The thread's default policy is restored afterwards.

    >>> import keras
    >>> model = build_in("bfloat16", lambda: keras.Sequential([keras.layers.Dense(2)]))
    >>> model.layers[0].compute_dtype, keras.config.dtype_policy().name
    ('bfloat16', 'float32')
    """
    import keras

    with _default_policy(dtype_policy_name(precision)):
        model = build()
    if precision == "bfloat16":
        for layer in _layers(model):
            if isinstance(layer, keras.layers.DepthwiseConv2D):
                layer.dtype_policy = "float32"
    return model


def loss_scaled(optimizer, precision):
    """``optimizer`` wrapped in a ``LossScaleOptimizer`` for float16 training, else itself.

    float16's range ends at 65504 and its smallest normal number is 6e-5, so
    small gradients would flush to zero; the loss is scaled up before the
    gradients are taken and they are scaled back down (dynamically, skipping
    steps that overflow). bfloat16 has float32's range and needs no scaling.

    >>> import keras
    >>> type(loss_scaled(keras.optimizers.Adam(), "float16")).__name__
    'LossScaleOptimizer'
    """
    import keras

    if precision != "float16":
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)
