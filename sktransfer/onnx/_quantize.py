"""int8 copies of exported models, with onnxruntime's quantization.

An int8 graph computes other numbers than the pipeline: it cannot be held to
the export's tolerance, so it is held to the float32 graph's labels instead,
and the agreement is measured and recorded rather than assumed. Whether it
pays depends on the network and the CPU (``docs/onnx.md`` gives the
measurements): convolutions quantize statically, with activation ranges
calibrated on items of the task; a text encoder's matrix products quantize
dynamically (ranges computed per batch).
"""

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._runtime import OnnxModel, load, session_of

METHODS = ("static", "dynamic")
"""``"static"``: QDQ, per-channel int8 weights, uint8 activations calibrated on items
(CNNs). ``"dynamic"``: int8 weights, activation ranges per batch (text encoders)."""


@dataclass
class QuantizeResult:
    """What ``quantize`` wrote and how closely it follows the float32 graph.

    Attributes
    ----------
    path : pathlib.Path
    label_agreement : float or None
        Share of the check items whose label is the float32 graph's (None for
        a transformer).
    max_difference : float
        Largest absolute difference of probabilities (or features) on them.
    n_items : int
    size_bytes : int
    """

    path: Path
    label_agreement: float | None
    max_difference: float
    n_items: int
    size_bytes: int


class _Calibration:
    """onnxruntime's CalibrationDataReader over the graph inputs of items."""

    def __init__(self, batches):
        self._batches = iter(batches)

    def get_next(self):
        batch = next(self._batches, None)
        if batch is None:
            return None
        return batch if isinstance(batch, dict) else {"input": batch}


def quantize(path, out, X_calibration=None, *, method="static", X_check=None):
    """Write an int8 copy of the exported model ``path`` to ``out``.

    Parameters
    ----------
    path : path-like
        A model ``to_onnx`` wrote.
    out : path-like
        The int8 ``.onnx`` file; ``load`` reads it like the float32 one.
    X_calibration : collection of items
        Items of the task (what the pipeline takes) whose activations set the
        int8 ranges; a few hundred representative ones suffice. Required for
        ``method="static"``.
    method : {"static", "dynamic"}, default="static"
    X_check : collection of items or None, default=None
        Items to compare the int8 graph with the float32 one on; None: the
        calibration items.

    Returns
    -------
    QuantizeResult
    """
    import onnx
    from onnxruntime.quantization import (
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_dynamic,
        quantize_static,
    )

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "static" and X_calibration is None:
        raise ValueError("static quantization needs X_calibration, items of the task")
    model = load(path)
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="sktransfer-quantize-") as folder:
        prepared = Path(folder) / "prepared.onnx"
        quantized = Path(folder) / "int8.onnx"
        quant_pre_process(str(path), str(prepared), skip_symbolic_shape=True)
        if method == "static":
            batches = [batch for _, batch, _ in model._batches(X_calibration)]
            quantize_static(
                str(prepared),
                str(quantized),
                _Calibration(batches),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                weight_type=QuantType.QInt8,
                activation_type=QuantType.QUInt8,
                op_types_to_quantize=["Conv", "MatMul", "Gemm"],
            )
        else:
            quantize_dynamic(str(prepared), str(quantized), weight_type=QuantType.QInt8)
        result = onnx.load(str(quantized))
    metadata = dict(model.metadata)
    int8 = OnnxModel(session_of(result.SerializeToString()), metadata, model._files)
    X_check = X_calibration if X_check is None else X_check
    agreement, difference, n_items = _agreement(model, int8, X_check)
    metadata["quantization"] = {
        "method": method,
        "calibration_items": None if X_calibration is None else len(X_calibration),
        "label_agreement": agreement,
        "max_difference": difference,
        "check_items": n_items,
    }
    del result.metadata_props[:]
    result.metadata_props.add(key="sktransfer", value=json.dumps(metadata))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(result.SerializeToString())
    return QuantizeResult(out, agreement, difference, n_items, out.stat().st_size)


def _agreement(model, int8, X):
    if hasattr(model, "predict_proba"):
        a, b = model.predict_proba(X), int8.predict_proba(X)
        return float(np.mean(a.argmax(1) == b.argmax(1))), float(np.abs(a - b).max()), len(a)
    a, b = model.transform(X), int8.transform(X)
    return None, float(np.abs(a - b).max()), len(a)
