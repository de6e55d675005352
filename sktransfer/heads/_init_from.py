"""A dense head of a source task as the start of a target task's head.

``DenseHeadClassifier(init_from=...)`` takes a fitted ``DenseHeadClassifier``
(or a fitted pipeline ending in one, or the model file ``sktransfer fit``
wrote of it) trained on the *same features* of another task: the new
network's hidden layers start from the source's, and its output layer, sized
for the target's classes, starts new. A source of other features or another
layout is refused with a message that says what differs.
"""

from .._source_models import source_model


def _weighted_layers(model):
    return [layer for layer in model.layers if layer.weights]


def start_from_source(model, head, input_shape):
    """Copy the hidden layers of ``head.init_from`` into ``model``, ``head``'s new network.

    Parameters
    ----------
    model : keras.Model
        The network ``head`` just built; its last weighted layer is the output.
    head : DenseHeadClassifier
    input_shape : tuple
        The shape of one sample of the target's ``X``.
    """
    from ._dense import DenseHeadClassifier

    owner = type(head).__name__
    source = source_model(
        head.init_from, parameter="init_from", owner=owner, kinds=(DenseHeadClassifier,)
    )
    fitted, where = source.model, f"{owner}(init_from=...): {source.description}"
    if tuple(fitted.X_shape_[1:]) != tuple(input_shape):
        raise ValueError(
            f"{where} was trained on samples of shape {tuple(fitted.X_shape_[1:])}, but X has "
            f"samples of shape {tuple(input_shape)}: a source head starts a target head only "
            "on the same features"
        )
    if not fitted.hidden_layer_sizes:
        raise ValueError(
            f"{where} has no hidden layers (hidden_layer_sizes=()): its one layer maps the "
            "features to its own classes, so it has nothing to start a target head from"
        )
    for name, theirs, ours in _layout(fitted, head):
        if theirs != ours:
            raise ValueError(
                f"{where} has {name}={theirs!r}, this head {ours!r}; set {name}={theirs!r}"
            )
    for layer, given in zip(
        _weighted_layers(model)[:-1], _weighted_layers(fitted.model_)[:-1], strict=True
    ):
        layer.set_weights(given.get_weights())


def _layout(fitted, head):
    """(parameter, source's value, target's value) of what shapes the hidden layers."""
    yield "hidden_layer_sizes", tuple(fitted.hidden_layer_sizes), tuple(head.hidden_layer_sizes)
    yield "activation", fitted.activation, head.activation
    yield "batch_norm", fitted.batch_norm, head.batch_norm
