"""Fitted pipelines as ONNX graphs, predicted and served by onnxruntime without TensorFlow.

``to_onnx(pipeline, "model.onnx")`` (or ``sktransfer export``) writes one
graph from the pixels (or spectrogram images) to the labels and
probabilities, after checking it against the pipeline on sample items;
``load("model.onnx")`` gives an object with the pipeline's ``predict``,
``predict_proba`` and ``transform`` that takes the same items and needs only
onnxruntime (``pip install "sktransfer[onnxruntime]"``). Exporting needs
``pip install "sktransfer[onnx]"`` besides the pipeline's own TensorFlow.
``quantize`` writes an int8 copy, checked against the float32 graph. See
``docs/onnx.md``.
"""

from .._onnx import OnnxExportError
from ._runtime import TOLERANCE, OnnxModel, OnnxModelError, load

__all__ = [
    "TOLERANCE",
    "ExportResult",
    "OnnxExportError",
    "OnnxModel",
    "OnnxModelError",
    "QuantizeResult",
    "load",
    "quantize",
    "to_onnx",
]


def __getattr__(name):
    # The exporter and the quantizer import onnx (and skl2onnx, tf2onnx), which a runtime
    # install lacks.
    if name in ("to_onnx", "ExportResult"):
        from . import _export

        return getattr(_export, name)
    if name in ("quantize", "QuantizeResult"):
        from . import _quantize

        return getattr(_quantize, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
