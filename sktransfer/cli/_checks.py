"""Checks of the command line's choices that argparse cannot express: their one home.

Whether a choice applies to the data's modality (for ``sktransfer fit``'s
options and ``build_pipeline``'s parameters alike, each named as its caller
spells it), whether an option may be repeated, and how many examples per class
the chosen measurement needs. Each error names the choice and says what to
give instead.
"""

import math

from .._modalities import MODALITIES

AUDIO_FEATURES = ("spectral", "pretrained")
"""What an audio model learns from: the 193 spectral features, or an ImageNet network on
log-mel spectrogram images."""
TEXT_FEATURES = ("word-vectors", "sentence", "contrastive", "fine-tuned")
"""What a text model learns from: word vectors under an LSTM head, all-MiniLM-L6-v2 sentence
vectors under a dense head (frozen, or fine-tuned contrastively on pairs of the labelled
texts first), or that encoder fine-tuned end to end."""
DEFAULT_BACKBONE = "efficientnet_lite0"
"""The image backbone of ``sktransfer fit`` and ``build_pipeline`` when none is given."""
PARAMETERS = {
    "hidden_layer_sizes": "hidden_layer_sizes",
    "lstm_units": "lstm_units",
    "trainable_layers": "trainable_layers",
    "audio_features": "audio_features",
    "text_features": "text_features",
    "image_options": "backbone and input_size",
}
"""How ``build_pipeline``'s messages name each choice."""
OPTIONS = {
    "hidden_layer_sizes": "--head-size",
    "lstm_units": "--lstm-units",
    "trainable_layers": "--trainable-layers",
    "audio_features": "--audio-features",
    "text_features": "--text-features",
    "image_options": "--backbone and --input-size",
}
"""How the command line's messages name each choice."""
HOLDOUT_FRACTION = 0.2
"""Share of the examples that ``fit`` holds out to measure the model, without ``--cv``."""
GRID_FOLDS = 3
"""Folds of the grid search of ``fit --grid``."""


def min_per_class(cv, grid):
    """Examples per class that the measurement, the grid search and early stopping need.

    Early stopping takes a stratified dev split, hence 2 per class in every
    training set; a held-out split or a test fold takes some more.
    """
    n = 2
    while True:
        left = n - math.ceil(n / cv if cv else n * HOLDOUT_FRACTION)
        if grid:
            left = left - math.ceil(left / GRID_FOLDS) if left >= GRID_FOLDS else 0
        if left >= 2 and n >= (cv or 0):
            return n
        n += 1


def check_applicable(
    modality,
    *,
    hidden_layer_sizes=False,
    lstm_units=False,
    trainable_layers=False,
    audio_features="spectral",
    text_features="word-vectors",
    image_options=False,
    names=PARAMETERS,
):
    """ValueError for a choice that does not apply to ``modality``: the one home of these rules.

    Parameters
    ----------
    modality : {"image", "audio", "text"}
    hidden_layer_sizes, lstm_units, trainable_layers, image_options : bool
        Whether the dense head's size, the LSTM's units, a freeze depth, or
        the image backbone and input size are given.
    audio_features : {"spectral", "pretrained"}
    text_features : {"word-vectors", "sentence", "contrastive", "fine-tuned"}
        Text: a dense head (``hidden_layer_sizes``) goes with sentence
        vectors (frozen or contrastive), a freeze depth with the encoder
        that learns (contrastive or fine-tuned).
    names : dict
        How the caller spells each choice in messages: ``PARAMETERS`` (of
        ``build_pipeline``) or ``OPTIONS`` (of ``sktransfer fit``).

    Examples
    --------
    >>> check_applicable("text", lstm_units=True)
    >>> check_applicable("image", lstm_units=True, names=OPTIONS)
    Traceback (most recent call last):
    ...
    ValueError: --lstm-units is for text data, not image: give --head-size for the dense head's hidden layers
    """
    if modality not in MODALITIES:
        raise ValueError(f"unknown modality {modality!r}; choose from {', '.join(MODALITIES)}")
    if audio_features not in AUDIO_FEATURES:
        raise ValueError(
            f"{names['audio_features']} must be one of {', '.join(AUDIO_FEATURES)}, "
            f"got {audio_features!r}"
        )
    if text_features not in TEXT_FEATURES:
        raise ValueError(
            f"{names['text_features']} must be one of {', '.join(TEXT_FEATURES)}, "
            f"got {text_features!r}"
        )
    if text_features != "word-vectors" and modality != "text":
        raise ValueError(f"{names['text_features']} is for text data, not {modality}")
    if modality == "text" and text_features != "word-vectors":
        if lstm_units:
            raise ValueError(
                f"{names['lstm_units']} is for word-vector text models, not "
                f"{names['text_features']} {text_features}: give {names['hidden_layer_sizes']}"
            )
        if hidden_layer_sizes and text_features == "fine-tuned":
            raise ValueError(
                f"{names['hidden_layer_sizes']} is not for {names['text_features']} "
                "fine-tuned, whose head is a softmax"
            )
        if trainable_layers and text_features == "sentence":
            raise ValueError(
                f"{names['trainable_layers']} is for {names['text_features']} contrastive or "
                "fine-tuned, whose encoder learns, not sentence"
            )
        hidden_layer_sizes = trainable_layers = False  # they apply here
    if hidden_layer_sizes and modality == "text":
        raise ValueError(
            f"{names['hidden_layer_sizes']} is for the dense heads of image and audio models; "
            f"a text model's head is an LSTM: give {names['lstm_units']}"
        )
    if lstm_units and modality != "text":
        raise ValueError(
            f"{names['lstm_units']} is for text data, not {modality}: give "
            f"{names['hidden_layer_sizes']} for the dense head's hidden layers"
        )
    if audio_features != "spectral" and modality != "audio":
        raise ValueError(f"{names['audio_features']} is for audio data, not {modality}")
    network = modality == "image" or (modality == "audio" and audio_features == "pretrained")
    features = " with spectral features" if modality == "audio" else ""
    for given, name, verb in (
        (trainable_layers, names["trainable_layers"], "is"),
        (image_options, names["image_options"], "are"),
    ):
        if given and not network:
            raise ValueError(
                f"{name} {verb} for image data and {names['audio_features']} pretrained, "
                f"not {modality}{features}"
            )


def check_options(args, modality):
    """ValueError for ``fit`` options that do not apply to ``modality``, or repeated without ``--grid``."""
    head_sizes = args.head_size or []
    lstm_units = args.lstm_units or []
    depths = args.trainable_layers or []
    if not args.grid and max(len(head_sizes), len(lstm_units), len(depths)) > 1:
        raise ValueError(
            "--head-size, --lstm-units and --trainable-layers take several values only with --grid"
        )
    check_applicable(
        modality,
        hidden_layer_sizes=bool(head_sizes),
        lstm_units=bool(lstm_units),
        trainable_layers=bool(depths),
        audio_features=args.audio_features,
        text_features=args.text_features,
        image_options=bool(args.backbone != DEFAULT_BACKBONE or args.input_size),
        names=OPTIONS,
    )
