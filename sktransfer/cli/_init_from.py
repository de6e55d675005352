"""``sktransfer fit TARGET --init-from SOURCE_MODEL``: start the target model from a source one.

The source is a model file that ``sktransfer fit`` wrote for a source task of
the same modality. What it gives depends on its head:

- a ``FineTuneImageClassifier``: its fine-tuned backbone becomes the target's
  (``weights`` of the feature extractor or of the fine-tuned head), at the
  source's backbone and input size;
- a ``DenseHeadClassifier`` (images and audio, on features): the target's
  head starts from its hidden layers (``init_from``), with the source's head
  size and, for images and spectrogram images, its backbone and input size;
- a ``SequenceClassifier`` (text): its embedding layer's word vectors become
  the target's (``pretrained`` of the embedder).

The target's model file refers to the source file by path and SHA-256, as to
any weights file.
"""

from .._model_file import load_model
from .._source_models import EXPORT_KINDS, exported
from ._recipes import FEATURES, HEAD, SPECTROGRAM

SOURCE_HEADS = ("FineTuneImageClassifier", "DenseHeadClassifier", "SequenceClassifier")
"""The heads of the model files that ``--init-from`` takes, for messages: the heads
that export a backbone, dense layers or word vectors (see ``sktransfer._source_models``)."""


def source_kind(saved):
    """What the head of a saved model exports (``"backbone"``, ...), or None."""
    head = _steps(saved)[-1]
    return next((kind for kind in EXPORT_KINDS if exported(head, kind) is not None), None)


def read_source(args, modality):
    """The source model file of ``--init-from``, checked against the target's modality.

    Options that the source fixes and that were not given (image backbone and
    input size, dense head size) take the source's values in ``args``.
    """
    saved = load_model(args.init_from)
    if saved.modality != modality:
        raise ValueError(
            f"--init-from '{args.init_from}' classifies {saved.modality}, but the data are "
            f"{modality}: the source model must be of the same modality as the target"
        )
    steps = _steps(saved)
    head = steps[-1]
    kind = source_kind(saved)
    if kind is None:
        raise ValueError(
            f"--init-from '{args.init_from}' ends in a {type(head).__name__}, which has nothing "
            f"to start a model from: give a model file whose head is a {' or a '.join(SOURCE_HEADS)}"
        )
    if modality == "audio":
        _check_audio_features(args, saved)
    networks = [step for step in steps if hasattr(step, "backbone")]
    if networks:
        from ..image._backbones import backbone_and_size

        backbone, size = backbone_and_size(networks[0].backbone, networks[0].input_size)
        args.backbone, args.input_size = backbone.name, args.input_size or size[0]
    if kind == "dense_layers":
        if networks and (args.trainable_layers or args.grid):
            raise ValueError(
                f"--init-from '{args.init_from}' has a dense head on features, which starts a "
                "dense head, not a fine-tuned network: leave out --trainable-layers and --grid"
            )
        layout = exported(head, kind).layout
        args.head_size = args.head_size or [layout["hidden_layer_sizes"]]
    return saved


def _check_audio_features(args, saved):
    """Refuse an audio source that learned from other features than ``--audio-features``."""
    steps = getattr(saved.pipeline, "named_steps", {})
    learned = "pretrained" if SPECTROGRAM in steps else "spectral"
    if learned != args.audio_features:
        raise ValueError(
            f"--init-from '{args.init_from}' learned from {learned} audio features, but this "
            f"fit uses {args.audio_features} ones: give --audio-features {learned}"
        )


def _steps(saved):
    """The estimators of a saved model: a pipeline's steps, or the model itself."""
    return [step for _, step in getattr(saved.pipeline, "steps", [("model", saved.pipeline)])]


def start_from_source(pipeline, saved, path):
    """Set the parameter of ``pipeline`` that starts it from the source model at ``path``."""
    kind = source_kind(saved)
    if kind == "backbone":
        step = FEATURES if FEATURES in pipeline.named_steps else HEAD
        return pipeline.set_params(**{f"{step}__weights": path})
    if kind == "dense_layers":
        return pipeline.set_params(**{f"{HEAD}__init_from": path})
    from ..text import Word2VecEmbedder

    return pipeline.set_params(**{f"{HEAD}__embedder": Word2VecEmbedder(pretrained=path)})


def grid_for_source(grid, pipeline):
    """``grid`` without candidate head sizes when the head starts from a source head's layers."""
    head = pipeline.named_steps[HEAD]
    if getattr(head, "init_from", None) is not None:
        grid = {**grid, f"{HEAD}__hidden_layer_sizes": [tuple(head.hidden_layer_sizes)]}
    return grid
