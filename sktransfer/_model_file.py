"""Model files: a fitted pipeline with what it needs to be used safely later.

A model file is two ``joblib`` pickles written one after the other into one
file: first a small metadata dict (``format``, ``sktransfer_version``,
``modality``, ``classes``, ``created``), then the fitted pipeline. Reading the
metadata first lets ``load_model`` refuse a file of an incompatible sktransfer
version with a clear message before it unpickles any estimator. In Python::

    with open("model.joblib", "rb") as stream:
        metadata = joblib.load(stream)
        pipeline = joblib.load(stream)

Like every pickle, a model file can run code when loaded: load only files you
trust.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

import joblib

from . import __version__
from ._modalities import MODALITIES

FORMAT = "sktransfer-model"
"""The ``format`` value of a model file's metadata."""


class ModelFileError(ValueError):
    """A model file that cannot be used; the message names the file."""


@dataclass
class SavedModel:
    """A fitted pipeline and its metadata, as ``load_model`` returns them.

    Attributes
    ----------
    pipeline : estimator
        The fitted classifier (usually a ``Pipeline``).
    modality : {"image", "audio", "text"}
    classes : list of str
    sktransfer_version : str
        The version that saved the file.
    created : str
        When the file was written, ISO 8601 in UTC.
    """

    pipeline: object
    modality: str
    classes: list
    sktransfer_version: str
    created: str


def compatible_versions(saved, current=__version__):
    """Whether a model saved by sktransfer ``saved`` loads in ``current``: same major.minor.

    Examples
    --------
    >>> compatible_versions("0.1.0", "0.1.3"), compatible_versions("0.1.0", "0.2.0")
    (True, False)
    """
    return str(saved).split(".")[:2] == str(current).split(".")[:2]


def check_version(metadata, path):
    """``ModelFileError`` unless the model file's metadata is of a release that loads here."""
    saved = metadata["sktransfer_version"]
    if not compatible_versions(saved):
        raise ModelFileError(
            f"'{path}' was saved by sktransfer {saved}, which is incompatible with this "
            f"sktransfer {__version__} (models load in the same major.minor release); "
            f"fit it again, or install sktransfer {saved}"
        )


def save_model(path, pipeline, *, modality):
    """Write a fitted pipeline and its metadata to ``path``.

    Parameters
    ----------
    path : path-like
        The file to write (folders are created); ``.joblib`` by convention.
    pipeline : fitted classifier
        Must have ``classes_`` and ``predict``.
    modality : {"image", "audio", "text"}
        What the pipeline takes: image files, audio files or texts.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.dummy import DummyClassifier
    >>> model = DummyClassifier().fit([[0], [1]], ["a", "b"])
    >>> path = save_model(pathlib.Path(tempfile.mkdtemp()) / "m.joblib", model, modality="audio")
    >>> load_model(path).classes
    ['a', 'b']
    """
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
    metadata = {
        "format": FORMAT,
        "sktransfer_version": __version__,
        "modality": modality,
        "classes": [str(c) for c in pipeline.classes_],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as stream:
        joblib.dump(metadata, stream)
        joblib.dump(pipeline, stream)
    return path


def read_metadata(stream, path):
    """The metadata dict at the start of an open model file; ``ModelFileError`` if none."""
    try:
        metadata = joblib.load(stream)
    except Exception:  # any byte string may fail to unpickle in any way
        metadata = None
    if not (isinstance(metadata, dict) and metadata.get("format") == FORMAT):
        raise ModelFileError(f"'{path}' is not an sktransfer model file")
    return metadata


def load_model(path):
    """Read a model file written by ``save_model``.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    SavedModel

    Raises
    ------
    ModelFileError
        If the file does not exist, is not an sktransfer model file, or was
        saved by an sktransfer version of another major.minor release (the
        message gives both versions).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"the model file '{path}' does not exist")
    with open(path, "rb") as stream:
        metadata = read_metadata(stream, path)
        check_version(metadata, path)
        pipeline = joblib.load(stream)
    return SavedModel(
        pipeline,
        metadata["modality"],
        metadata["classes"],
        metadata["sktransfer_version"],
        metadata["created"],
    )
