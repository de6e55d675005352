"""Train many Keras models of one architecture through one traced graph.

TensorFlow never gives back the memory of a traced training function: every
``Model.fit`` on a new model leaves a few megabytes behind, whatever
``keras.backend.clear_session()`` does, so a grid search grows without bound.
A scikit-learn workflow builds a fresh model for every fit, yet it builds the
same few architectures again and again. Here each architecture (with its
compile settings) gets one compiled *trainer* model; a fit copies the fresh
model's initial state into the trainer (weights, random-seed state, optimizer
state), trains the trainer, and copies the result back. The traced graph is
reused, so memory is bounded by the number of distinct architectures, not the
number of fits.
"""

import json
import threading

import keras

_TRAINERS = {}
_LOCK = threading.Lock()


def _anonymised(value, names):
    if isinstance(value, dict):
        return {k: _anonymised(v, names) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_anonymised(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


def architecture_key(model, compile_kwargs):
    """A string equal for models that differ only in layer names and weights."""
    names = {layer.name: f"layer{i}" for i, layer in enumerate(model.layers)}
    names[model.name] = "model"
    optimizer = keras.optimizers.serialize(compile_kwargs["optimizer"])
    optimizer["config"].pop("name", None)
    config = {
        "model": _anonymised(model.get_config(), names),
        "compile": {**compile_kwargs, "optimizer": optimizer},
    }
    return json.dumps(config, sort_keys=True, default=str)


def compile_model(model, compile_kwargs):
    """``model.compile(**compile_kwargs)`` with its own copy of the optimizer."""
    optimizer = keras.optimizers.deserialize(
        keras.optimizers.serialize(compile_kwargs["optimizer"])
    )
    model.compile(**{**compile_kwargs, "optimizer": optimizer})
    return model


def _strategy_in_scope():
    """The ``tf.distribute`` strategy whose scope is entered, or None: a trainer is built under it."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.distribute.get_strategy() if tf.distribute.has_strategy() else None


def _trainer_for(model, compile_kwargs):
    """The shared trainer of ``model``'s architecture, compile settings and strategy, and its lock."""
    key = (architecture_key(model, compile_kwargs), _strategy_in_scope())
    with _LOCK:
        if key not in _TRAINERS:
            trainer = keras.models.clone_model(model)
            _copy_trainable_flags(model, trainer)
            trainer = compile_model(trainer, compile_kwargs)
            _TRAINERS[key] = (trainer, threading.Lock())
        return _TRAINERS[key]


def _copy_trainable_flags(source, target):
    """Give every layer of ``target`` (a clone of ``source``) the ``trainable`` flag of its twin.

    ``clone_model`` rebuilds layers from their configurations, which keep each
    layer's own flag but not those of the sublayers a layer creates when it is
    built (``MultiHeadAttention``'s projections): a frozen attention layer's
    clone would train them.
    """
    for original, clone in zip(
        source._flatten_layers(include_self=False),
        target._flatten_layers(include_self=False),
        strict=True,
    ):
        clone.trainable = original.trainable


def _copy_state(source, target):
    for src, dst in zip(source.variables, target.variables, strict=True):
        dst.assign(src)


def fit_through_shared_trainer(model, compile_kwargs, fit):
    """Run ``fit(trainer)`` so that ``model`` ends up trained, reusing a traced graph.

    Parameters
    ----------
    model : keras.Model
        Freshly built and compiled with ``compile_model(model, compile_kwargs)``;
        its current variables are the initial state.
    compile_kwargs : dict
        ``optimizer`` (a Keras optimizer), ``loss`` and ``metrics`` (strings).
    fit : callable
        ``fit(trainer)`` trains the model it is given (typically calls
        ``trainer.fit``) and returns anything.

    Returns
    -------
    Whatever ``fit`` returns. Afterwards ``model`` holds the trained variables.
    """
    trainer, lock = _trainer_for(model, compile_kwargs)
    model.optimizer.build(model.trainable_variables)
    with lock:
        _copy_state(model, trainer)
        if not trainer.optimizer.built:
            trainer.optimizer.build(trainer.trainable_variables)
        _copy_state(model.optimizer, trainer.optimizer)
        result = fit(trainer)
        _copy_state(trainer, model)
        _copy_state(trainer.optimizer, model.optimizer)
    return result
