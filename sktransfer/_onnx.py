"""The export protocol: how a fitted step becomes part of one ONNX graph.

``sktransfer.onnx.to_onnx`` walks a fitted pipeline and asks each step for
its part of the graph through the package's export protocol (see
``sktransfer._source_models``): ``step.__sktransfer_export__("onnx")``
gives an ``ExportedOnnx`` whose ``convert(context)`` returns an
:class:`OnnxPart`, or whose ``reason`` says why the step cannot be exported;
it never asks what class a step is. A step that exports nothing of kind
``"onnx"`` is handed to ``skl2onnx``, which knows scikit-learn's own
estimators. So a new estimator joins the export by implementing the kind in
its own module, next to the code it converts.

A part has up to two halves:

- a **reader**, the Python that stays in Python: what turns the items a user
  holds (image files, PIL images, arrays, clips, texts) into the graph's
  input tensor, with the pipeline's own decoding, checks and errors. It is
  written into the graph file as settings (JSON) and the name of the class
  that rebuilds it, ``"sktransfer.image._io:ImageReader"``; the runtime
  calls that class's ``__sktransfer_onnx_reader__(settings, files)``, so the
  runtime, like the exporter, knows no step by name. Readers must import and
  run without TensorFlow or Keras, and should import little else: the
  runtime's start-up is their imports.
- a **graph**, an ONNX model with one input named ``"input"`` (or, for the
  first step only, several named ones, such as token ids and an attention
  mask, which its reader gives as a dict) and the outputs ``"features"`` (a
  transformer) or ``"label"`` and ``"probabilities"`` (a classifier).

Readers come first (a spectrogram drawn in Python, then an image network's
resizing), graphs after them; the exporter chains the graphs into one.

This module holds the protocol's types and the helpers that several steps
share (a Keras function to ONNX, a classifier's label output); ``onnx`` and
``tf2onnx`` are imported only when a helper runs.
"""

import contextlib
import json
import os
from dataclasses import dataclass, field

OPSET = 17
"""The ONNX opset of every exported graph (``ai.onnx``; onnxruntime 1.14 and later run it)."""

INPUT = "input"
"""The name of every part's graph input."""

ONNX_DTYPES = {"float32": 1, "uint8": 2, "int64": 7, "string": 8, "float64": 11, "int32": 6}
"""ONNX ``TensorProto`` element types by numpy name."""


class OnnxExportError(ValueError):
    """A step or network that cannot be exported; the message names it and says why."""


@dataclass(frozen=True)
class TensorSpec:
    """A tensor between two parts: numpy dtype name and shape (None for any size)."""

    dtype: str
    shape: tuple


@dataclass
class ExportContext:
    """What a step is told when asked for its part.

    Attributes
    ----------
    name : str
        The step's name in the pipeline (for messages).
    position : int
        Its index among the pipeline's steps.
    input : TensorSpec or None
        What the previous parts give this one; None for the first step, which
        reads the user's items itself (a reader) or takes a numeric table.
    in_graph : bool
        Whether a graph already runs before this step; a reader can then no
        longer be added (readers run in Python, before the graph).
    opset : int
    """

    name: str
    position: int
    input: TensorSpec | None
    in_graph: bool = False
    opset: int = OPSET


@dataclass
class OnnxPart:
    """A step's contribution to the exported model.

    Attributes
    ----------
    reader : dict or None
        ``{"class": "package.module:Class", "settings": {...}}`` (JSON): the
        Python that runs before the graph; None for a step wholly in the graph.
    graph : onnx.ModelProto or None
        Input ``"input"``; outputs ``"features"`` or ``"label"`` and ``"probabilities"``.
    output : TensorSpec
        What the part gives the next one (a reader's output when it has no graph).
    samples : callable or None
        ``samples(n)``: ``n`` synthetic items of the step's kind, on which the
        export compares the graph with the pipeline when no sample is given.
    files : dict of str -> bytes
        Files written beside the graph (``"tokenizer.json"``), which the
        reader finds in the folder it is given.
    """

    output: TensorSpec
    reader: dict | None = None
    graph: object = None
    samples: object = None
    files: dict = field(default_factory=dict)


def reader_class_name(cls):
    """``"module:Class"``: where the runtime finds the class that rebuilds a reader.

    The runtime imports the module and calls the class's
    ``__sktransfer_onnx_reader__(settings, files)``. Private modules are
    named as they are: a model loads only in the sktransfer release (major.minor)
    that exported it, where they are where they were.

    Examples
    --------
    >>> from sktransfer.image._features import KerasImageFeatures
    >>> reader_class_name(KerasImageFeatures)
    'sktransfer.image._features:KerasImageFeatures'
    """
    return f"{cls.__module__}:{cls.__qualname__}"


def reader_of(cls, settings):
    """The ``reader`` entry of a part whose reader ``cls`` rebuilds from ``settings``."""
    json.dumps(settings)  # a TypeError now rather than when the graph is written
    return {"class": reader_class_name(cls), "settings": settings}


def _unsupported_ops(model):
    """Ops of ``model`` (ONNX domain) that onnxruntime cannot run, from its own refusal."""
    import onnxruntime

    try:
        onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        return str(exc)
    return None


def rename_value(graph, old, new):
    """Rename the value ``old`` to ``new`` everywhere in ``graph`` (inputs, outputs, nodes)."""
    for value in [*graph.input, *graph.output, *graph.value_info]:
        if value.name == old:
            value.name = new
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]


def _erfc(ctx, node, name, args):
    """TensorFlow's ``Erfc`` as ONNX ``1 - Erf(x)``, for tf2onnx, which has no conversion of it.

    Keras' exact GELU (``gelu(approximate=False)``: BERT's ``hidden_act="gelu"``,
    ConvNeXt) is ``0.5 * x * erfc(-x / sqrt(2))``. Where ``erfc`` is tiny
    (large negative ``x``) ``1 - erf`` loses its relative precision, but GELU
    is then ``x`` times that tiny value: absolute differences stay below 1e-7.
    """
    import numpy as np
    from tf2onnx import utils

    x = node.input[0]
    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(x))
    erf = ctx.make_node("Erf", [x], op_name_scope=name)
    one = ctx.make_const(utils.make_name(f"{name}_one"), np.array(1, dtype=dtype))
    node.type = "Sub"
    node.domain = ""
    ctx.replace_inputs(node, [one.output[0], erf.output[0]])


@contextlib.contextmanager
def _environment_kept(name):
    """Restore the environment variable ``name`` afterwards, whatever happened to it.

    tf2onnx sets ``TF_CPP_MIN_LOG_LEVEL`` when imported and when it converts,
    which would silence TensorFlow's warnings for the rest of the process and
    every process it starts.
    """
    saved = os.environ.get(name)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def keras_to_onnx(function, input_spec, output_name, *, what, opset=OPSET):
    """An ONNX model of a Keras/TensorFlow ``function``, checked to load.

    Parameters
    ----------
    function : callable
        Keras ops on one batch, as traced by ``tf.function``: of one tensor,
        or of several (token ids and attention mask) in ``input_spec``'s order.
    input_spec : TensorSpec or dict of str -> TensorSpec
        Its input, dtype and shape (None for any size): one, named
        ``"input"`` in the graph, or several by name.
    output_name : str
        The graph output's name (``"features"``, ``"probabilities"``).
    what : str
        How errors name the network (``"backbone 'convnext_tiny'"``).

    Returns
    -------
    onnx.ModelProto
        Inputs ``"input"`` (or the names of ``input_spec``), one output ``output_name``.

    Raises
    ------
    OnnxExportError
        When tf2onnx cannot convert an op, or converts it into one onnxruntime
        cannot run (the message names the op): tf2onnx writes such graphs
        without complaint, so the result is loaded here before it is returned.
    """
    import tensorflow as tf

    specs = input_spec if isinstance(input_spec, dict) else {INPUT: input_spec}
    signature = [tf.TensorSpec(s.shape, s.dtype, name=name) for name, s in specs.items()]
    traced = tf.function(function, input_signature=signature)
    with _environment_kept("TF_CPP_MIN_LOG_LEVEL"):
        import tf2onnx

        try:
            model, _ = tf2onnx.convert.from_function(
                traced,
                input_signature=signature,
                opset=opset,
                custom_op_handlers={"Erfc": (_erfc, [])},
            )
        except Exception as exc:  # tf2onnx raises plain exceptions for unknown ops
            raise OnnxExportError(f"{what} cannot be converted to ONNX: {exc}") from exc
    graph = model.graph
    unknown = _unknown_ops(graph)
    if unknown:
        raise OnnxExportError(
            f"{what} cannot be converted to ONNX: tf2onnx has no conversion for its ops "
            + ", ".join(f"{op} ({count} nodes)" for op, count in unknown.items())
            + ". Use another backbone, or keep this pipeline in Python"
        )
    _captured_constants_as_initializers(graph, traced, len(signature), set(specs))
    if len(graph.output) != 1 or len(graph.input) != len(specs):
        raise OnnxExportError(
            f"{what} converts to a graph of inputs {[v.name for v in graph.input]} and "
            f"{len(graph.output)} outputs; {list(specs)} and 1 are expected"
        )
    rename_value(graph, graph.output[0].name, output_name)
    refused = _unsupported_ops(model)
    if refused is not None:
        ops = sorted({node.op_type for node in graph.node})
        raise OnnxExportError(
            f"{what} converts to an ONNX graph that onnxruntime refuses ({refused}); "
            f"its ops are {', '.join(ops)}. Use another backbone, or keep this pipeline in Python"
        )
    return model


def _unknown_ops(graph):
    """Op types in ``graph`` that no ONNX opset defines (what tf2onnx leaves unconverted)."""
    import collections

    from onnx import defs

    return dict(
        collections.Counter(
            node.op_type
            for node in graph.node
            if not defs.has(node.op_type, node.domain or "")
            and node.domain in ("", "ai.onnx", "ai.onnx.ml")
        )
    )


def _captured_constants_as_initializers(graph, traced, n_inputs, names):
    """Turn graph inputs that are constants the traced function captured into initializers.

    Keras keeps some constants as tensors that ``tf.function`` captures (the
    ``Normalization`` layer of EfficientNet: its mean and variance); tf2onnx
    makes them graph inputs, which onnxruntime would then demand. Their
    values are known: they become part of the graph.
    """
    import tensorflow as tf
    from onnx import numpy_helper

    concrete = traced.get_concrete_function()
    placeholders = concrete.graph.inputs[n_inputs:]
    captured = {
        placeholder.name: value
        for placeholder, value in zip(placeholders, concrete.captured_inputs)
        if value.dtype != tf.resource
    }
    used = {name for node in graph.node for name in node.input}
    for value in list(graph.input):
        if value.name not in names and value.name in captured:
            if value.name in used:  # tf2onnx may have folded it into other constants
                array = captured[value.name].numpy()
                graph.initializer.append(numpy_helper.from_array(array, value.name))
            graph.input.remove(value)


def with_label_output(model, classes):
    """``model`` (output ``"probabilities"``) with a ``"label"`` output: the class of the argmax.

    ``classes`` are the classifier's ``classes_`` (strings, integers or
    floats), held in the graph as a constant.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    classes = np.asarray(classes)
    if classes.dtype.kind in "USO":
        constant = helper.make_tensor(
            "classes", onnx.TensorProto.STRING, [len(classes)], [str(c).encode() for c in classes]
        )
        elem = onnx.TensorProto.STRING
    else:
        kind = np.int64 if classes.dtype.kind in "iub" else np.float32
        constant = numpy_helper.from_array(classes.astype(kind), "classes")
        elem = onnx.TensorProto.INT64 if kind is np.int64 else onnx.TensorProto.FLOAT
    graph = model.graph
    graph.initializer.append(constant)
    graph.node.extend(
        [
            helper.make_node("ArgMax", ["probabilities"], ["class_index"], axis=1, keepdims=0),
            helper.make_node("Gather", ["classes", "class_index"], ["label"], axis=0),
        ]
    )
    graph.output.insert(0, helper.make_tensor_value_info("label", elem, [None]))
    return model
