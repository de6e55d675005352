"""Source models: a model fitted on a source task as the start of a target model.

Two-stage transfer learns a representation on a large source task, then reuses
it on a small target task. The parameters that say where a target model starts
(``weights`` of the image models, ``pretrained`` of ``Word2VecEmbedder``,
``init_from`` of ``DenseHeadClassifier``) take the source as a fitted
estimator, a fitted ``Pipeline`` ending in one (also inside scikit-learn's
``FrozenEstimator``), or a model file that ``sktransfer fit`` wrote. This
module finds the fitted model in any of them and says what does not fit.

A fitted source given as a parameter is data, not a setting to refit:
``clone`` (and so ``GridSearchCV``, ``cross_val_score`` and the heads that
clone their embedder) shares it instead of making an unfitted copy.
"""

import os
from dataclasses import dataclass

from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted


def is_model_file(value):
    """Whether ``value`` is the path of a file that ``sktransfer fit`` (``save_model``) wrote.

    Examples
    --------
    >>> is_model_file("imagenet"), is_model_file(None)
    (False, False)
    """
    if not isinstance(value, (str, os.PathLike)) or not os.path.isfile(value):
        return False
    from ._model_file import FORMAT  # the metadata's format, in every model file's first bytes

    with open(value, "rb") as stream:
        return FORMAT.encode() in stream.read(512)


def is_source_model(value):
    """Whether ``value`` names a source model: an estimator or a model file."""
    return isinstance(value, BaseEstimator) or is_model_file(value)


@dataclass
class SourceModel:
    """The fitted model found in a source, and how to name the source in messages.

    Attributes
    ----------
    model : estimator
        The fitted estimator of the asked kind (the pipeline's last step).
    description : str
        ``"the model file 'a.joblib'"`` or ``"the given FineTuneImageClassifier"``.
    path : str or None
        The model file, when the source is one.
    """

    model: object
    description: str
    path: object = None


def _steps(pipeline):
    """The class names of a pipeline's steps: ``"KerasImageFeatures -> DenseHeadClassifier"``."""
    return " -> ".join(type(step).__name__ for _, step in pipeline.steps)


def source_model(value, *, parameter, owner, kinds, modality=None):
    """The fitted estimator of one of ``kinds`` that ``value`` holds, or a ValueError.

    Parameters
    ----------
    value : estimator, Pipeline, FrozenEstimator or path of a model file
    parameter : str
        The parameter that received ``value``, for messages.
    owner : str
        The estimator that received it, for messages.
    kinds : tuple of type
        What the model (a pipeline's last step) must be.
    modality : tuple of {"image", "audio", "text"}, or None
        What a model file may classify; None: any.

    Returns
    -------
    SourceModel
    """
    kind_names = " or ".join(kind.__name__ for kind in kinds)
    where = f"{owner}({parameter}=...)"
    path = None
    if is_model_file(value):
        from ._model_file import load_model

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
    model = (
        getattr(value, "estimator", value) if type(value).__name__ == "FrozenEstimator" else value
    )
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if not isinstance(final, kinds):
        what = (
            f"a pipeline {_steps(model)}, whose last step is not a {kind_names}"
            if final is not model
            else f"not a {kind_names}"
        )
        raise ValueError(
            f"{where}: {description} is {what}: only a fitted {kind_names} (or a pipeline "
            "ending in one) can be this source"
        )
    try:
        check_is_fitted(final)
    except NotFittedError:
        raise ValueError(
            f"{where}: {description} is an unfitted {type(final).__name__}; fit it on the "
            "source task first"
        ) from None
    return SourceModel(final, description, path)


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
