"""An exported model, predicting through onnxruntime: no TensorFlow, no Keras, no pickle.

The file holds the graph and, in its metadata, what runs before the graph in
Python (the readers: decoding and resizing images, drawing spectrograms,
tokenising): the class that rebuilds each reader and its settings. The
readers are the pipeline's own code, so items are read, checked and refused
exactly as the pipeline reads, checks and refuses them.
"""

import importlib
import json
import os
from pathlib import Path

import numpy as np

from .. import __version__

FORMAT = "sktransfer-onnx"
"""The ``format`` of the metadata an exported graph carries (``metadata_props["sktransfer"]``)."""

TOLERANCE = 1e-4
"""The largest difference an export accepts between the graph and the pipeline.

On probabilities it is absolute; on features it is relative to the largest
feature of the sample (``tolerance * max |feature|``).
"""


class OnnxModelError(ValueError):
    """A file that is not a usable exported model; the message names it."""


def _reader(entry, files):
    module, _, name = entry["class"].partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls.__sktransfer_onnx_reader__(entry["settings"], files)


class OnnxModel:
    """An exported pipeline: the items it took in, its predictions out, through onnxruntime.

    Get one with :func:`load`. It has the methods the pipeline had among
    ``predict``, ``predict_proba`` and ``transform`` (``hasattr`` tells), and
    they take what the pipeline took: image paths, PIL images and arrays,
    clips, texts, or a numeric table.

    Attributes
    ----------
    classes_ : ndarray
        The classifier's classes (absent for a transformer).
    metadata : dict
        What the export recorded: steps, modality, readers, the check it ran.
    session : onnxruntime.InferenceSession
    """

    def __init__(self, session, metadata, files=None):
        self.session = session
        self.metadata = metadata
        self._files = dict(files or {})
        self._readers = [_reader(entry, self._files) for entry in metadata["readers"]]
        if metadata.get("classes") is not None:
            self.classes_ = np.asarray(metadata["classes"], dtype=metadata["classes_dtype"])
        self._outputs = [output.name for output in session.get_outputs()]

    def __repr__(self):
        steps = ", ".join(f"{name}={cls}" for name, cls in self.metadata["steps"])
        return f"OnnxModel({steps})"

    def __getattr__(self, name):
        # predict, predict_proba and transform exist only where the pipeline had them.
        if name in ("predict", "predict_proba", "transform") and name in self.__dict__.get(
            "metadata", {}
        ).get("methods", ()):
            return getattr(self, f"_{name}")
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def modality(self):
        """``"image"``, ``"audio"``, ``"text"``, or None for a numeric table."""
        return self.metadata.get("modality")

    # -- running -----------------------------------------------------------------------

    def _batches(self, X):
        """``(rows, graph input, failures)`` through every reader.

        ``rows`` is the index in ``X`` of the batch's first item, its items
        following in order, or an int array of their indices (a reader that
        groups items, as the text reader groups texts by length).
        """
        if not self._readers:
            from sklearn.utils.validation import check_array

            X = check_array(X, dtype=np.float32)
            for start in range(0, len(X), 1024):
                yield start, X[start : start + 1024], {}
            return
        first, *later = self._readers
        for start, batch, failures in first.batches(X):
            for reader in later:
                batch, failures = _through(reader, start, batch, failures)
            yield start, batch, failures

    def _run(self, X, names):
        """The graph outputs ``names`` for every item, and failures by index."""
        parts = {name: [] for name in names}
        positions, failures = [], {}
        for rows, batch, bad in self._batches(X):
            feed = batch if isinstance(batch, dict) else {"input": batch}
            outputs = self.session.run(names, feed)
            for name, value in zip(names, outputs):
                parts[name].append(value)
            if isinstance(rows, (int, np.integer)):
                rows = np.arange(rows, rows + len(outputs[0]))
            positions.append(rows)
            failures.update(bad)
        order = np.argsort(np.concatenate(positions), kind="stable")
        return {name: np.concatenate(values)[order] for name, values in parts.items()}, failures

    def _refuse_failures(self, failures, method):
        if failures:
            raise ValueError(
                f"{len(failures)} item(s) could not be read (on_error='nan'), and {method} has "
                "no value for them: " + "; ".join(failures[i] for i in sorted(failures))
            )

    def _predict_proba(self, X):
        """Class probabilities, shape (n_items, n_classes), as the pipeline's ``predict_proba``."""
        out, failures = self._run(X, ["probabilities"])
        self._refuse_failures(failures, "predict_proba")
        return out["probabilities"]

    def _predict(self, X):
        """The predicted class of every item, as the pipeline's ``predict``."""
        name = "label" if "label" in self._outputs else "prediction"
        out, failures = self._run(X, [name])
        self._refuse_failures(failures, "predict")
        labels = out[name]
        if getattr(self, "classes_", None) is not None:
            return labels.astype(self.classes_.dtype)
        return labels

    def _transform(self, X):
        """The pipeline's ``transform``: features, with NaN rows for items ``on_error`` let fail."""
        from .._extractor import warn_nan_rows

        out, failures = self._run(X, ["features"])
        features = out["features"]
        if failures:
            features[sorted(failures)] = np.nan
            warn_nan_rows([failures[i] for i in sorted(failures)], len(features), "items")
        return features


def _through(reader, start, batch, failures):
    """``batch`` through a later reader, skipping the rows that an earlier one failed."""
    good = [i for i in range(len(batch)) if start + i not in failures]
    out = None
    for sub_start, sub, bad in reader.batches(batch[good]):
        if out is None:
            out = np.zeros((len(batch), *sub.shape[1:]), dtype=sub.dtype)
        rows = good[sub_start : sub_start + len(sub)]
        out[rows] = sub
        failures = {**failures, **{start + good[sub_start + i]: m for i, m in bad.items()}}
    return out, failures


def read_metadata(session, path):
    """The export's metadata dict in ``session``'s model, or ``OnnxModelError``."""
    text = session.get_modelmeta().custom_metadata_map.get("sktransfer")
    metadata = json.loads(text) if text else None
    if not (isinstance(metadata, dict) and metadata.get("format") == FORMAT):
        raise OnnxModelError(f"'{path}' is an ONNX graph, but not one that sktransfer exported")
    from .._model_file import compatible_versions

    if not compatible_versions(metadata["sktransfer_version"]):
        raise OnnxModelError(
            f"'{path}' was exported by sktransfer {metadata['sktransfer_version']}, whose readers "
            f"may differ from this sktransfer {__version__}'s (same major.minor needed); export "
            "it again"
        )
    return metadata


def session_of(model, n_threads=None):
    """An onnxruntime CPU session of ``model`` (a path or serialised bytes)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if n_threads is not None:
        options.intra_op_num_threads = n_threads
    return onnxruntime.InferenceSession(
        os.fspath(model) if isinstance(model, (str, os.PathLike)) else model,
        options,
        providers=["CPUExecutionProvider"],
    )


def load(path, *, n_threads=None):
    """Load a model that ``sktransfer.onnx.to_onnx`` (or ``sktransfer export``) wrote.

    Needs onnxruntime and sktransfer's readers, not TensorFlow or Keras:
    ``pip install "sktransfer[onnxruntime]"``.

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file; files the export wrote beside it (a tokenizer) are
        found next to it.
    n_threads : int or None, default=None
        Threads of onnxruntime's operators; None: its default (the physical cores).

    Returns
    -------
    OnnxModel

    Raises
    ------
    OnnxModelError
        For a missing file, an ONNX graph that sktransfer did not export, or
        one of an incompatible sktransfer release.
    """
    path = Path(path)
    if not path.is_file():
        raise OnnxModelError(f"the model file '{path}' does not exist")
    try:
        session = session_of(path, n_threads)
    except Exception as exc:  # onnxruntime's own exception types
        raise OnnxModelError(f"'{path}' is not an ONNX model onnxruntime can load ({exc})") from exc
    metadata = read_metadata(session, path)
    files = {name: path.parent / stored for name, stored in metadata.get("files", {}).items()}
    return OnnxModel(session, metadata, files)
