"""Source models, and the export protocol by which a lower layer reads a higher one.

Two-stage transfer learns a representation on a large source task, then reuses
it on a small target task. The parameters that say where a target model starts
(``weights`` of the image models, ``pretrained`` of ``Word2VecEmbedder``,
``init_from`` of ``DenseHeadClassifier``) take the source as a fitted
estimator, a fitted ``Pipeline`` ending in one (also inside scikit-learn's
``FrozenEstimator``), or a model file that ``sktransfer fit`` wrote. This
module finds the fitted model in any of them and says what does not fit.

The export protocol
-------------------
The estimator that produces a source often lives in a higher layer than the
one that reads it (a ``FineTuneImageClassifier``, a head, gives the backbone
that ``KerasImageFeatures``, an extractor, starts from), and imports point
down only. So the reader never imports the producer's class: as
scikit-learn's ``clone`` looks for ``__sklearn_clone__``, it looks for one
method on whatever it is given::

    estimator.__sktransfer_export__(kind) -> export, or NotImplemented

``kind`` names what is asked for, and each kind has one plain data class here
that every producer fills in and every reader reads:

=================  ==========================  =================================
kind               export                      produced by
=================  ==========================  =================================
``"backbone"``     :class:`ExportedBackbone`   ``FineTuneImageClassifier``
``"word_vectors"`` :class:`ExportedWordVectors` ``SequenceClassifier``,
                                               ``Word2VecEmbedder``
``"dense_layers"`` :class:`ExportedDenseLayers` ``DenseHeadClassifier``
``"sentence_encoder"`` :class:`ExportedSentenceEncoder` ``FineTuneTextClassifier``,
                                               ``SentenceEmbedder`` (fine-tuned)
``"onnx"``         :class:`ExportedOnnx`       the extractors and heads (their
                                               part of an ONNX graph, or why
                                               they have none)
=================  ==========================  =================================

An estimator returns ``NotImplemented`` for a kind it has nothing of (an
estimator without the method has nothing of any kind), and raises
``NotFittedError`` when it exports the kind but is not fitted yet. The readers call
:func:`source_model` with the kind and the class names to put in messages
(``expected``), so errors still say "only a fitted FineTuneImageClassifier
(or a pipeline ending in one) can be this source".

To add a source model (a new head whose network another estimator can start
from): implement ``__sktransfer_export__`` for an existing kind, or add a kind
to ``EXPORT_KINDS`` with its data class here and read it where it is used.
To add an exporter (a converter of fitted pipelines to another format), give
the exporter a kind of its own in the same way and call :func:`exported` on
each step, never ``isinstance`` against a class of a higher layer. What
modality an estimator takes is its class attribute ``_sktransfer_modality``
(see ``sktransfer._modalities.modality_of``).

A fitted source given as a parameter is data, not a setting to refit:
``clone`` (and so ``GridSearchCV``, ``cross_val_score`` and the heads that
clone their embedder) shares it instead of making an unfitted copy.
"""

import os
from dataclasses import dataclass

from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator

from ._model_file import FORMAT, load_model

EXPORT_KINDS = ("backbone", "word_vectors", "dense_layers", "sentence_encoder", "onnx")
"""The kinds of ``__sktransfer_export__``; see the module's docstring."""


@dataclass
class ExportedBackbone:
    """A fine-tuned image backbone, without the classifier on top (kind ``"backbone"``).

    Attributes
    ----------
    name : str
        The backbone's name, as ``KerasImageFeatures(backbone=...)`` takes it.
    input_size : (height, width)
        The image size it was trained at, in pixels.
    weights : list of ndarray
        Its weights, in the order of ``keras.Model.get_weights``.
    """

    name: str
    input_size: tuple
    weights: list


@dataclass
class ExportedWordVectors:
    """Word vectors and their vocabulary (kind ``"word_vectors"``).

    Attributes
    ----------
    vocabulary : dict of str -> int
        Each word's row in ``matrix``.
    matrix : ndarray of shape (n_rows, vector_size)
        The vectors (rows of no word, such as padding, are ignored).
    """

    vocabulary: dict
    matrix: object


@dataclass
class ExportedSentenceEncoder:
    """A fine-tuned sentence encoder as model files (kind ``"sentence_encoder"``).

    Attributes
    ----------
    files : dict of str -> bytes
        Its files in Hugging Face format, by name, as ``SentenceEmbedder``
        reads them from a folder: ``config.json``, ``model.safetensors`` (the
        fine-tuned weights), ``tokenizer.json`` and the sentence-transformers
        configuration (``pooling.json`` for the pooling module's).
    """

    files: dict


@dataclass
class ExportedDenseLayers:
    """The hidden layers of a dense head (kind ``"dense_layers"``).

    Attributes
    ----------
    input_shape : tuple
        The shape of one sample the head was trained on.
    layout : dict
        The parameters that shape the hidden layers (``hidden_layer_sizes``,
        ``activation``, ``batch_norm``) and their values.
    weights : list of list of ndarray
        The weights of each hidden layer that has weights, input to output.
    """

    input_shape: tuple
    layout: dict
    weights: list


@dataclass
class ExportedOnnx:
    """How a step becomes part of one ONNX graph (kind ``"onnx"``); see ``sktransfer._onnx``.

    Attributes
    ----------
    convert : callable or None
        ``convert(context)``: the step's ``OnnxPart`` given what the steps
        before it give (an ``ExportContext``); None when it cannot be exported.
    reason : str or None
        Why it cannot be exported, and what to do instead (when ``convert`` is None).
    """

    convert: object = None
    reason: str = None


def exported(estimator, kind):
    """What ``estimator`` exports of ``kind``, or None when it has nothing of it.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> exported(LogisticRegression(), "backbone") is None
    True
    """
    if kind not in EXPORT_KINDS:
        raise ValueError(f"unknown export kind {kind!r}; the kinds are {EXPORT_KINDS}")
    export = getattr(estimator, "__sktransfer_export__", None)
    result = NotImplemented if export is None else export(kind)
    return None if result is NotImplemented else result


def is_model_file(value):
    """Whether ``value`` is the path of a file that ``sktransfer fit`` (``save_model``) wrote.

    Examples
    --------
    >>> is_model_file("imagenet"), is_model_file(None)
    (False, False)
    """
    if not isinstance(value, (str, os.PathLike)) or not os.path.isfile(value):
        return False
    with open(value, "rb") as stream:  # the metadata's format, in every model file's first bytes
        return FORMAT.encode() in stream.read(512)


def is_source_model(value):
    """Whether ``value`` names a source model: an estimator or a model file."""
    return isinstance(value, BaseEstimator) or is_model_file(value)


@dataclass
class SourceModel:
    """What a source exports, and how to name the source in messages.

    Attributes
    ----------
    export : ExportedBackbone, ExportedWordVectors or ExportedDenseLayers
        What the fitted model (the pipeline's last step) exports of the asked kind.
    description : str
        ``"the model file 'a.joblib'"`` or ``"the given FineTuneImageClassifier"``.
    path : str or None
        The model file, when the source is one.
    """

    export: object
    description: str
    path: object = None


def _steps(pipeline):
    """The class names of a pipeline's steps: ``"KerasImageFeatures -> DenseHeadClassifier"``."""
    return " -> ".join(type(step).__name__ for _, step in pipeline.steps)


def source_model(value, *, parameter, owner, kind, expected, modality=None):
    """What the fitted model that ``value`` holds exports of ``kind``, or a ValueError.

    Parameters
    ----------
    value : estimator, Pipeline, FrozenEstimator or path of a model file
    parameter : str
        The parameter that received ``value``, for messages.
    owner : str
        The estimator that received it, for messages.
    kind : str
        One of ``EXPORT_KINDS``: what the model (a pipeline's last step) must export.
    expected : tuple of str
        The class names that export it, for messages.
    modality : tuple of {"image", "audio", "text"}, or None
        What a model file may classify; None: any.

    Returns
    -------
    SourceModel
    """
    kind_names = " or ".join(expected)
    where = f"{owner}({parameter}=...)"
    path = None
    if is_model_file(value):
        path = os.fspath(value)
        saved = load_model(path)
        description = f"the model file '{path}'"
        if modality is not None and saved.modality not in modality:
            raise ValueError(
                f"{where}: {description} classifies {saved.modality}, not "
                f"{' or '.join(modality)}: a source model must be of the same modality as "
                "the target"
            )
        value = saved.pipeline
    elif isinstance(value, BaseEstimator):
        description = f"the given {type(value).__name__}"
    else:
        raise ValueError(f"{where}: {value!r} is neither a fitted {kind_names} nor a model file")
    model = value.estimator if isinstance(value, FrozenEstimator) else value
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    try:
        export = exported(final, kind)
    except NotFittedError:
        raise ValueError(
            f"{where}: {description} is an unfitted {type(final).__name__}; fit it on the "
            "source task first"
        ) from None
    if export is None:
        what = (
            f"a pipeline {_steps(model)}, whose last step is not a {kind_names}"
            if final is not model
            else f"not a {kind_names}"
        )
        raise ValueError(
            f"{where}: {description} is {what}: only a fitted {kind_names} (or a pipeline "
            "ending in one) can be this source"
        )
    return SourceModel(export, description, path)


class SharesSourceModel:
    """Mixin: ``clone`` shares the estimator in parameter ``_source_parameter``.

    scikit-learn's ``clone`` clones every estimator-valued parameter, which
    would turn a fitted source model into an unfitted copy; like
    ``FrozenEstimator``, the source is passed on as it is.
    """

    _source_parameter = ""

    def __sklearn_clone__(self):
        twin = super().__sklearn_clone__()
        value = getattr(self, self._source_parameter)
        if isinstance(value, BaseEstimator):
            setattr(twin, self._source_parameter, value)
        return twin
