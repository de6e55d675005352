"""A fitted pipeline as one ONNX graph, checked against the pipeline before it is written.

Each step gives its own part through the export protocol
(``__sktransfer_export__("onnx")``, see ``sktransfer._onnx``); steps that
export nothing of that kind are scikit-learn's and go through skl2onnx. The parts' graphs are chained into one model, whose
metadata records the readers that run before it in Python. Before anything is
written, the model is run through the same runtime that ``load`` gives, on
sample items, and compared with the pipeline: a graph that disagrees by more
than the tolerance is refused, never written.
"""

import datetime
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import __version__
from .._modalities import modality_of
from .._onnx import INPUT, OPSET, ExportContext, OnnxExportError, OnnxPart, TensorSpec, rename_value
from .._source_models import exported
from ._runtime import FORMAT, TOLERANCE, OnnxModel, session_of

ML_OPSET = 3
"""The ``ai.onnx.ml`` opset of the scikit-learn parts."""


@dataclass
class ExportResult:
    """What ``to_onnx`` wrote and how closely the graph follows the pipeline.

    Attributes
    ----------
    path : pathlib.Path
        The ``.onnx`` file.
    files : list of pathlib.Path
        Files written beside it (a tokenizer), read by ``load``.
    max_difference : float
        Largest difference on the sample: absolute on probabilities, relative
        to the largest feature (in absolute value) on features.
    n_items : int
        Items of the sample compared.
    size_bytes : int
        Size of the ``.onnx`` file.
    """

    path: Path
    files: list
    max_difference: float
    n_items: int
    size_bytes: int


def _steps(estimator):
    """The pipeline's (name, step) pairs, ``None`` and "passthrough" left out."""
    steps = estimator.steps if hasattr(estimator, "steps") else [("estimator", estimator)]
    return [(name, step) for name, step in steps if step is not None and step != "passthrough"]


def _sklearn_part(name, step, context):
    """The part of a scikit-learn step, converted by skl2onnx."""
    import skl2onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.base import is_classifier

    if context.input is None:
        n_features = getattr(step, "n_features_in_", None)
        if n_features is None:
            raise OnnxExportError("it is not fitted on a numeric table (no n_features_in_)")
        shape = (None, int(n_features))
    elif context.input.dtype != "float32" or len(context.input.shape) != 2:
        raise OnnxExportError(
            f"it takes a table, but the step before it gives {context.input.dtype} values of "
            f"shape {context.input.shape}"
        )
    else:
        shape = context.input.shape
    options = {id(step): {"zipmap": False}} if is_classifier(step) else None
    try:
        graph = skl2onnx.convert_sklearn(
            step,
            initial_types=[(INPUT, FloatTensorType(list(shape)))],
            target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
            options=options,
        )
    except Exception as exc:  # skl2onnx raises many types; its message says what failed
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise OnnxExportError(
            "it exports nothing of kind 'onnx' (__sktransfer_export__), and skl2onnx cannot "
            "convert it "
            f"({type(exc).__name__}: {reason[:300]})"
        ) from exc
    outputs = [output.name for output in graph.graph.output]
    if is_classifier(step):
        n_out = len(step.classes_)
    elif len(outputs) == 1:
        transformer = hasattr(step, "transform")
        rename_value(graph.graph, outputs[0], "features" if transformer else "prediction")
        n_out = graph.graph.output[0].type.tensor_type.shape.dim[-1].dim_value or None
    else:
        raise OnnxExportError(f"skl2onnx gives it {len(outputs)} outputs ({outputs})")
    return OnnxPart(output=TensorSpec("float32", (None, n_out)), graph=graph)


def _part(name, step, context):
    export = exported(step, "onnx")
    try:
        if export is None:
            return _sklearn_part(name, step, context)
        if export.convert is None:
            raise OnnxExportError(export.reason)
        return export.convert(context)
    except OnnxExportError as exc:
        raise OnnxExportError(
            f"step {context.position} {name!r} ({type(step).__name__}) cannot be exported: {exc}"
        ) from exc


def _aligned(graphs):
    """The graphs with one IR version and one opset per domain, as ``merge_models`` needs."""
    versions = {}
    for graph in graphs:
        for entry in graph.opset_import:
            domain = "" if entry.domain == "ai.onnx" else entry.domain
            versions[domain] = max(versions.get(domain, 0), entry.version)
    ir_version = max(graph.ir_version for graph in graphs)
    for graph in graphs:
        del graph.opset_import[:]
        for domain, version in sorted(versions.items()):
            graph.opset_import.add(domain=domain, version=version)
        graph.ir_version = ir_version
    return graphs


def chain(graphs):
    """One model: each graph's ``"features"`` into the next one's ``"input"``."""
    import onnx
    from onnx import compose

    graphs = _aligned([onnx.ModelProto.FromString(g.SerializeToString()) for g in graphs])
    prefixed = [compose.add_prefix(graph, f"s{i}_") for i, graph in enumerate(graphs)]
    model = prefixed[0]
    for i, nxt in enumerate(prefixed[1:], start=1):
        model = compose.merge_models(model, nxt, io_map=[(f"s{i - 1}_features", f"s{i}_input")])
        # merge_models keeps the outputs the next graph does not consume, hence the prefix
        # bookkeeping: the chain's outputs are the last graph's.
    # merge_models concatenates the opset lists: one entry per domain, as tools expect.
    _aligned([model])
    last = len(prefixed) - 1
    for value in list(model.graph.input):  # the first graph's: "input", or several named
        if value.name.startswith("s0_"):
            rename_value(model.graph, value.name, value.name[len("s0_") :])
    for output in [o.name for o in model.graph.output]:
        if output.startswith(f"s{last}_"):
            rename_value(model.graph, output, output[len(f"s{last}_") :])
        else:
            model.graph.output.remove(next(o for o in model.graph.output if o.name == output))
    model.graph.name = "sktransfer"
    return model


def _difference(model, pipeline, X, methods):
    """The largest difference between ``model`` and ``pipeline`` on ``X``, and its measure."""
    if "predict_proba" in methods:
        expected = np.asarray(pipeline.predict_proba(X), dtype=np.float64)
        got = np.asarray(model.predict_proba(X), dtype=np.float64)
        difference = float(np.abs(got - expected).max())
        labels, expected_labels = model.predict(X), pipeline.predict(X)
        top2 = np.sort(expected, axis=1)[:, -2:] if expected.shape[1] > 1 else expected
        clear = (top2[:, -1] - top2[:, 0]) > 2 * TOLERANCE
        if np.any((labels != np.asarray(expected_labels)) & clear):
            return np.inf
        return difference
    if "transform" in methods:
        expected = np.asarray(pipeline.transform(X), dtype=np.float64)
        got = np.asarray(model.transform(X), dtype=np.float64)
        return _relative(got, expected)
    expected = np.asarray(pipeline.predict(X))
    got = np.asarray(model.predict(X))
    if expected.dtype.kind in "fc":
        return _relative(got, expected)
    return 0.0 if np.array_equal(got, expected) else np.inf


def _relative(got, expected):
    """The largest difference relative to the largest value (absolute when all are 0)."""
    scale = float(np.abs(expected).max()) or 1.0
    return float(np.abs(got - expected).max()) / scale


def export_model(pipeline, *, stem="model", X_sample=None, n_samples=8, tolerance=TOLERANCE):
    """The checked ONNX model of ``pipeline`` and its files, not yet written.

    Returns
    -------
    model : onnx.ModelProto
    files : dict of str -> bytes
    difference : float
    n_items : int
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(pipeline)
    steps = _steps(pipeline)
    parts, spec, in_graph = [], None, False
    for position, (name, step) in enumerate(steps):
        part = _part(name, step, ExportContext(name, position, spec, in_graph))
        if part.reader is not None and in_graph:
            raise OnnxExportError(
                f"step {position} {name!r} ({type(step).__name__}) runs Python before its graph, "
                "but comes after a step in the graph"
            )
        parts.append(part)
        spec, in_graph = part.output, in_graph or part.graph is not None
    graphs = [part.graph for part in parts if part.graph is not None]
    if not graphs:
        raise OnnxExportError("no step of the pipeline runs in a graph: there is nothing to export")
    model = chain(graphs) if len(graphs) > 1 else graphs[0]
    outputs = {output.name for output in model.graph.output}
    methods = [m for m in ("predict", "predict_proba", "transform") if hasattr(pipeline, m)]
    methods = [
        m
        for m in methods
        if {"predict": {"label", "prediction"}, "predict_proba": {"probabilities"}}.get(
            m, {"features"}
        )
        & outputs
    ]
    classes = getattr(pipeline, "classes_", None) if "label" in outputs else None
    files = {name: data for part in parts for name, data in part.files.items()}
    metadata = {
        "format": FORMAT,
        "sktransfer_version": __version__,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "steps": [[name, type(step).__name__] for name, step in steps],
        "modality": modality_of(pipeline),
        "readers": [part.reader for part in parts if part.reader is not None],
        "methods": methods,
        "classes": None if classes is None else np.asarray(classes).tolist(),
        "classes_dtype": None if classes is None else np.asarray(classes).dtype.str,
        "files": {name: f"{stem}.{name}" for name in files},
        "tolerance": tolerance,
    }
    if X_sample is None:
        samples = parts[0].samples
        if samples is None:
            raise OnnxExportError(
                f"the first step ({type(steps[0][1]).__name__}) has no sample items of its own: "
                "give X_sample, items of what the pipeline takes, to compare the graph with it"
            )
        X_sample = samples(n_samples)
    difference = _check(model, metadata, files, pipeline, X_sample, methods)
    metadata["check"] = {"n_items": len(X_sample), "max_difference": difference}
    model.metadata_props.add(key="sktransfer", value=json.dumps(metadata))
    model.producer_name = "sktransfer"
    model.producer_version = __version__
    if not difference <= tolerance:
        raise OnnxExportError(
            f"the exported graph differs from the pipeline by {difference:.3g} on {len(X_sample)} "
            f"sample items, more than the tolerance {tolerance:g}: it is not written"
        )
    return model, files, difference, len(X_sample)


def _check(model, metadata, files, pipeline, X, methods):
    """Run the model as ``load`` would (same readers, onnxruntime) and compare on ``X``."""
    import onnx

    onnx.checker.check_model(model)
    with tempfile.TemporaryDirectory(prefix="sktransfer-export-") as folder:
        paths = {}
        for name, data in files.items():
            paths[name] = Path(folder) / metadata["files"][name]
            paths[name].write_bytes(data)
        runtime = OnnxModel(session_of(model.SerializeToString()), metadata, paths)
        return _difference(runtime, pipeline, X, methods)


def to_onnx(pipeline, path, *, X_sample=None, tolerance=TOLERANCE):
    """Export a fitted pipeline to one ONNX graph that predicts without TensorFlow.

    The graph takes what the pipeline's readers make of the items (uint8
    pixels at the network's size for images) and gives ``label`` and
    ``probabilities`` (a classifier) or ``features`` (a transformer). The
    readers (decoding, resizing, spectrograms) stay in Python and are
    recorded in the file, so that ``sktransfer.onnx.load(path)`` takes the
    same items as the pipeline. Before writing, the graph is run through
    onnxruntime on sample items and compared with the pipeline.

    Parameters
    ----------
    pipeline : fitted Pipeline or estimator
        Its first step reads items (``KerasImageFeatures``,
        ``VGGImageFeatures``, ``AudioSpectrogramImages`` then an image
        extractor) or takes a numeric table; the steps after it are
        ``DenseHeadClassifier`` or scikit-learn estimators that skl2onnx
        converts.
    path : path-like
        The ``.onnx`` file to write; folders are created.
    X_sample : collection of items or None, default=None
        Items to compare the graph and the pipeline on; None: synthetic items
        of the first step's kind (8 images, or 8 clips).
    tolerance : float, default=1e-4
        Largest difference accepted: absolute on probabilities, relative to
        the largest feature (in absolute value) on features. Labels must
        agree wherever the two most probable classes are further apart than
        twice the tolerance.

    Returns
    -------
    ExportResult

    Raises
    ------
    OnnxExportError
        For a step that cannot be exported (the message names it and says
        why: a backbone op that tf2onnx or onnxruntime does not have, a step
        that skl2onnx cannot convert, a step that only runs in Python), and
        for a graph that disagrees with the pipeline beyond ``tolerance``.
        Nothing is written then.
    """
    path = Path(path)
    model, files, difference, n_items = export_model(
        pipeline, stem=path.stem, X_sample=X_sample, tolerance=tolerance
    )
    return write(model, files, path, difference, n_items)


def write(model, files, path, difference, n_items):
    """Write ``model`` and its files beside it (``{stem}.{name}``); the ``ExportResult``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        target = path.parent / f"{path.stem}.{name}"
        target.write_bytes(data)
        written.append(target)
    with open(path, "wb") as stream:
        stream.write(model.SerializeToString())
    return ExportResult(path, written, difference, n_items, os.path.getsize(path))
