"""The model a server holds: loaded once, warmed up, predicting on batches of items.

A model is either a model file that ``sktransfer fit`` wrote (its metadata
gives the modality and the classes) or any fitted pipeline saved with
``joblib.dump``, whose modality is its first step's ``_sktransfer_modality``. Warming up runs
the whole pipeline on synthetic items of the modality, so that every network
is built and every compiled function traced before the first request.
"""

import math
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np

from .. import __version__
from .._modalities import MODALITIES, modality_of
from .._model_file import ModelFileError, check_version, read_metadata
from ..cache._keys import file_digest


def read_model(path, modality=None):
    """The pipeline, modality and metadata of a model file or of a ``joblib.dump`` pickle.

    Raises
    ------
    ModelFileError
        For a missing file, a model file of an incompatible release, a pickle
        whose modality can be neither read nor was given, or a modality that
        contradicts the file's.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"the model file '{path}' does not exist")
    with open(path, "rb") as stream:
        try:
            metadata = read_metadata(stream, path)
        except ModelFileError:
            metadata = None
        if metadata is not None:
            check_version(metadata, path)
            pipeline = joblib.load(stream)
    if metadata is None:
        pipeline = joblib.load(path)
        metadata = {"sktransfer_version": None, "created": None}
    found = metadata.get("modality") or modality_of(pipeline)
    if modality is not None and found is not None and modality != found:
        raise ModelFileError(f"'{path}' holds a model of {found}, not of {modality}")
    modality = modality or found
    if modality is None:
        raise ModelFileError(
            f"cannot tell what '{path}' takes from its first step; give --modality "
            f"({', '.join(MODALITIES)})"
        )
    if not hasattr(pipeline, "predict"):
        raise ModelFileError(f"'{path}' holds a {type(pipeline).__name__}, not a classifier")
    return pipeline, modality, metadata


def is_onnx(path):
    """Whether ``path`` names an exported model (``.onnx``) rather than a pickle."""
    return Path(path).suffix.lower() == ".onnx"


def _read_onnx(path, modality):
    """An exported model as ``read_model`` gives a pickle, and the runtime's versions."""
    import onnxruntime

    from ..onnx import load

    model = load(path)
    found = model.modality
    if modality is not None and found is not None and modality != found:
        raise ModelFileError(f"'{path}' holds a model of {found}, not of {modality}")
    if found is None:
        raise ModelFileError(f"'{path}' takes a numeric table, not items that a server receives")
    if not hasattr(model, "predict"):
        raise ModelFileError(f"'{path}' holds a transformer, not a classifier")
    saved = {
        "sktransfer_version": model.metadata["sktransfer_version"],
        "created": model.metadata["created"],
    }
    return model, found, saved, {"onnxruntime": onnxruntime.__version__}


@dataclass
class ServedModel:
    """A loaded model, ready to predict on lists of items of its modality.

    Attributes
    ----------
    pipeline : estimator
    modality : {"image", "audio", "text"}
    classes : list
    metadata : dict
        What ``GET /metadata`` answers.
    timings : dict
        Seconds taken to load (``load_s``) and to warm up (``warm_up_s``).
    """

    pipeline: object
    modality: str
    classes: list
    metadata: dict
    timings: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path, modality=None):
        """Read ``path`` (a model file, a pickle or an exported ``.onnx``) and describe it.

        Nothing is warmed up yet. An ``.onnx`` file is served by onnxruntime,
        without TensorFlow or Keras.
        """
        start = time.perf_counter()
        if is_onnx(path):
            pipeline, modality, saved, versions = _read_onnx(path, modality)
        else:
            import keras
            import sklearn

            pipeline, modality, saved = read_model(path, modality)
            versions = {
                "scikit-learn": sklearn.__version__,
                "keras": keras.__version__,
                "keras_backend": keras.backend.backend(),
            }
        classes = np.asarray(pipeline.classes_).tolist()
        metadata = {
            "model_file": str(Path(path).resolve()),
            "model_sha256": file_digest(path).hex(),
            "modality": modality,
            "classes": classes,
            "saved_by_sktransfer": saved.get("sktransfer_version"),
            "created": saved.get("created"),
            "versions": {
                "sktransfer": __version__,
                **versions,
                "python": platform.python_version(),
            },
            "has_predict_proba": hasattr(pipeline, "predict_proba"),
        }
        model = cls(pipeline, modality, classes, metadata)
        model.timings["load_s"] = time.perf_counter() - start
        return model

    def predict(self, items):
        """``(labels, probabilities)`` of ``items``; probabilities None without ``predict_proba``."""
        if self.metadata["has_predict_proba"]:
            proba = np.asarray(self.pipeline.predict_proba(items), dtype=np.float64)
            labels = np.asarray(self.pipeline.classes_)[proba.argmax(axis=1)]
            return labels.tolist(), proba
        return np.asarray(self.pipeline.predict(items)).tolist(), None

    def warm_up(self, batch_sizes):
        """Run the pipeline once per batch size on synthetic items, so that requests start fast.

        An exported (ONNX) model has nothing to trace per batch size: one item warms it.
        """
        start = time.perf_counter()
        if is_onnx(self.metadata["model_file"]):
            batch_sizes = [1]
        with tempfile.TemporaryDirectory(prefix="sktransfer-warm-up-") as folder:
            item = _synthetic_item(self.modality, Path(folder))
            for size in sorted(set(batch_sizes)):
                self.predict([item] * size)
        self.timings["warm_up_s"] = time.perf_counter() - start


def _synthetic_item(modality, folder):
    """One item of ``modality`` as a request would bring it: a file for media, a text."""
    rng = np.random.default_rng(0)
    if modality == "text":
        return "a good film, warm and well made"
    if modality == "image":
        from PIL import Image

        path = folder / "warm-up.png"
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
        return str(path)
    import soundfile

    sr = 22050
    t = np.arange(sr) / sr
    wave = 0.3 * np.sin(2 * math.pi * 440 * t) + 0.01 * rng.standard_normal(sr)
    path = folder / "warm-up.wav"
    soundfile.write(path, wave.astype(np.float32), sr)
    return str(path)
