"""A dense head of a source task as the start of a target task's head.

``DenseHeadClassifier(init_from=...)`` takes a fitted ``DenseHeadClassifier``
(or a fitted pipeline ending in one, or the model file ``sktransfer fit``
wrote of it) trained on the *same features* of another task: the new
network's hidden layers start from the source's, and its output layer, sized
for the target's classes, starts new. A source of other features or another
layout is refused with a message that says what differs. The source is read
through the export protocol (kind ``"dense_layers"``, see
``sktransfer._source_models``), so this module needs no head class.
"""

from .._source_models import source_model


def weighted_layers(model):
    """The layers of ``model`` that hold weights, input to output."""
    return [layer for layer in model.layers if layer.weights]


def dense_layout(head):
    """The parameters of a dense head that shape its hidden layers, and their values."""
    return {
        "hidden_layer_sizes": tuple(head.hidden_layer_sizes),
        "activation": head.activation,
        "batch_norm": head.batch_norm,
    }


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
    owner = type(head).__name__
    source = source_model(
        head.init_from,
        parameter="init_from",
        owner=owner,
        kind="dense_layers",
        expected=("DenseHeadClassifier",),
    )
    layers, where = source.export, f"{owner}(init_from=...): {source.description}"
    if tuple(layers.input_shape) != tuple(input_shape):
        raise ValueError(
            f"{where} was trained on samples of shape {tuple(layers.input_shape)}, but X has "
            f"samples of shape {tuple(input_shape)}: a source head starts a target head only "
            "on the same features"
        )
    if not layers.layout["hidden_layer_sizes"]:
        raise ValueError(
            f"{where} has no hidden layers (hidden_layer_sizes=()): its one layer maps the "
            "features to its own classes, so it has nothing to start a target head from"
        )
    for name, ours in dense_layout(head).items():
        theirs = layers.layout[name]
        if theirs != ours:
            raise ValueError(
                f"{where} has {name}={theirs!r}, this head {ours!r}; set {name}={theirs!r}"
            )
    for layer, given in zip(weighted_layers(model)[:-1], layers.weights, strict=True):
        layer.set_weights(given)
