"""Checks of the command line's options that argparse cannot express.

Whether an option applies to the data's modality, whether it may be repeated,
and how many examples per class the chosen measurement needs. Each error names
the option and says what to give instead.
"""

import math

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


def check_options(args, modality):
    """ValueError for ``fit`` options that do not apply to ``modality``, or repeated without ``--grid``."""
    head_sizes = args.head_size or []
    lstm_units = args.lstm_units or []
    depths = args.trainable_layers or []
    if not args.grid and max(len(head_sizes), len(lstm_units), len(depths)) > 1:
        raise ValueError(
            "--head-size, --lstm-units and --trainable-layers take several values only with --grid"
        )
    sentence_text = modality == "text" and args.text_features != "word-vectors"
    if args.text_features != "word-vectors" and modality != "text":
        raise ValueError(f"--text-features is for text data, not {modality}")
    if lstm_units and sentence_text:
        raise ValueError(
            f"--lstm-units is for word-vector text models, not --text-features "
            f"{args.text_features}: give --head-size"
        )
    if head_sizes and args.text_features == "fine-tuned":
        raise ValueError(
            "--head-size is not for --text-features fine-tuned, whose head is a softmax"
        )
    if head_sizes and modality == "text" and not sentence_text:
        raise ValueError(
            "--head-size is for the dense heads of image and audio models; a text "
            "model's head is an LSTM: give --lstm-units"
        )
    if lstm_units and modality != "text":
        raise ValueError(
            f"--lstm-units is for text data, not {modality}: give --head-size for "
            "the dense head's hidden layers"
        )
    pretrained_audio = modality == "audio" and args.audio_features == "pretrained"
    if args.audio_features != "spectral" and modality != "audio":
        raise ValueError(f"--audio-features is for audio data, not {modality}")
    fine_tuned_text = modality == "text" and args.text_features == "fine-tuned"
    if depths and not (modality == "image" or pretrained_audio or fine_tuned_text):
        raise ValueError(
            f"--trainable-layers is for image data, --audio-features pretrained and "
            f"--text-features fine-tuned, not {modality}"
            + (" with spectral features" if modality == "audio" else "")
            + (f" with {args.text_features}" if modality == "text" else "")
        )
    image_options = args.backbone != "efficientnet_lite0" or args.input_size
    if image_options and not (modality == "image" or pretrained_audio):
        raise ValueError(
            f"--backbone and --input-size are for image data and --audio-features "
            f"pretrained, not {modality}"
            + (" with spectral features" if modality == "audio" else "")
        )
