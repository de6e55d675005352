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

SOURCE_HEADS = ("FineTuneImageClassifier", "DenseHeadClassifier", "SequenceClassifier")
"""The heads of the model files that ``--init-from`` takes."""


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
    if type(head).__name__ not in SOURCE_HEADS:
        raise ValueError(
            f"--init-from '{args.init_from}' ends in a {type(head).__name__}, which has nothing "
            f"to start a model from: give a model file whose head is a {' or a '.join(SOURCE_HEADS)}"
        )
    if modality == "audio":
        _check_audio_features(args, steps)
    networks = [step for step in steps if hasattr(step, "backbone")]
    if networks:
        from ..image._backbones import backbone_and_size

        backbone, size = backbone_and_size(networks[0].backbone, networks[0].input_size)
        args.backbone, args.input_size = backbone.name, args.input_size or size[0]
    if type(head).__name__ == "DenseHeadClassifier":
        if networks and (args.trainable_layers or args.grid):
            raise ValueError(
                f"--init-from '{args.init_from}' has a dense head on features, which starts a "
                "dense head, not a fine-tuned network: leave out --trainable-layers and --grid"
            )
        args.head_size = args.head_size or [tuple(head.hidden_layer_sizes)]
    return saved


def _check_audio_features(args, steps):
    """Refuse an audio source that learned from other features than ``--audio-features``."""
    learned = (
        "pretrained"
        if any(type(step).__name__ == "AudioSpectrogramImages" for step in steps)
        else "spectral"
    )
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
    head = type(_steps(saved)[-1]).__name__
    if head == "FineTuneImageClassifier":
        step = "features" if "features" in pipeline.named_steps else "head"
        return pipeline.set_params(**{f"{step}__weights": path})
    if head == "DenseHeadClassifier":
        return pipeline.set_params(head__init_from=path)
    from ..text import Word2VecEmbedder

    return pipeline.set_params(head__embedder=Word2VecEmbedder(pretrained=path))


def grid_for_source(grid, pipeline):
    """``grid`` without candidate head sizes when the head starts from a source head's layers."""
    head = pipeline.named_steps["head"]
    if getattr(head, "init_from", None) is not None:
        grid = {**grid, "head__hidden_layer_sizes": [tuple(head.hidden_layer_sizes)]}
    return grid
