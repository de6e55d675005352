"""The ``sktransfer`` command's arguments: one argparse subparser per command.

Value types that argparse checks (head sizes, LSTM units, freeze depths) live
here; checks that depend on the data (an option that does not apply to its
modality) are in ``_checks``.
"""

import argparse

from .. import __version__
from .._modalities import MODALITIES
from ._checks import AUDIO_FEATURES, DEFAULT_BACKBONE, GRID_FOLDS, TEXT_FEATURES


def _head_size(text):
    """``"256,64"`` -> ``(256, 64)``; ``"0"`` or ``"none"`` -> ``()``."""
    if text.strip().lower() in ("0", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a head size: give positive layer sizes such as 128 or 256,64, "
            "or 0 or none for no hidden layer"
        )
    return sizes


def _lstm_units(text):
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a number of LSTM units: give a positive integer"
    )


def _positive_int(text):
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")


def _trainable_layers(text):
    if text == "all":
        return text
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not a number of layers >= 0 or 'all'")


def _add_fit_parser(commands):
    fit = commands.add_parser(
        "fit",
        help="train a transfer model on a folder or CSV of labelled files or texts",
        description="Train a transfer-learning classifier on labelled images, audio or texts, "
        "measure it, save it and write a report folder.",
    )
    fit.add_argument(
        "data",
        metavar="DATA",
        help="a folder with one subfolder per class, or a CSV file with the "
        "columns path,label or text,label",
    )
    fit.add_argument("--out", required=True, help="the model file to write, e.g. model.joblib")
    fit.add_argument(
        "--report", help="report folder (default: <model stem>-report next to the model)"
    )
    fit.add_argument(
        "--modality",
        choices=MODALITIES,
        help="the kind of data (default: from the file extensions)",
    )
    fit.add_argument(
        "--audio-features",
        choices=AUDIO_FEATURES,
        default="spectral",
        help="audio: learn from the 193 spectral features, or from log-mel spectrogram "
        "images through the pretrained image backbone (default: %(default)s)",
    )
    fit.add_argument(
        "--text-features",
        choices=TEXT_FEATURES,
        default="word-vectors",
        help="text: word vectors (GloVe when installed) under an LSTM head, all-MiniLM-L6-v2 "
        "sentence vectors under a dense head (contrastive: the encoder first fine-tuned on "
        "pairs of the labelled texts, SetFit's way), or that encoder fine-tuned end to end "
        "with a softmax head (default: %(default)s)",
    )
    fit.add_argument(
        "--backbone",
        default=DEFAULT_BACKBONE,
        help="image backbone, also for --audio-features pretrained (default: %(default)s)",
    )
    fit.add_argument(
        "--input-size",
        type=int,
        help="image side in pixels (default: the backbone's; spectrograms: 128)",
    )
    fit.add_argument(
        "--head-size",
        type=_head_size,
        action="append",
        help="images and audio: hidden layer sizes of the dense head, e.g. 128 or "
        "256,64, or none; repeat it to give the --grid candidates",
    )
    fit.add_argument(
        "--lstm-units",
        type=_lstm_units,
        action="append",
        metavar="N",
        help="texts: units of the LSTM head; repeat it to give the --grid candidates",
    )
    fit.add_argument(
        "--trainable-layers",
        type=_trainable_layers,
        action="append",
        help="images, --audio-features pretrained and --text-features contrastive or "
        "fine-tuned: fine-tune "
        "this many top backbone or encoder layers (a number or all); repeat it to give the "
        "--grid candidates",
    )
    fit.add_argument("--epochs", type=int, help="maximum training epochs (default: the head's)")
    fit.add_argument(
        "--init-from",
        metavar="SOURCE_MODEL",
        help="start from a model file that fit wrote for a source task of the same "
        "modality: its fine-tuned backbone, dense head layers or word vectors",
    )
    fit.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="measure by K-fold cross-validation instead of a held-out split; the "
        "saved model is then fitted on all the data",
    )
    fit.add_argument(
        "--grid",
        action="store_true",
        help=f"choose freeze depth and head size (hidden layer sizes or LSTM units) by "
        f"{GRID_FOLDS}-fold grid search",
    )
    fit.add_argument(
        "--cache",
        metavar="DIR",
        help="keep the extracted features in DIR, so that this and later runs "
        "extract each file once (default: with --cv or --grid, a temporary "
        "folder for this run)",
    )
    fit.add_argument("--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)")
    fit.add_argument("--random-state", type=int, help="seed for repeatable splits and training")
    fit.add_argument("--quiet", action="store_true", help="no progress messages or bars")


def _add_predict_parser(commands):
    predict = commands.add_parser(
        "predict",
        help="classify files, folders or texts with a saved model",
        description="Classify inputs with a model file; prints CSV rows input,prediction.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file written by sktransfer fit")
    predict.add_argument(
        "inputs",
        metavar="INPUT",
        nargs="+",
        help="files or folders (scanned at any depth); for a text model also "
        "text files with one document per line, or the texts themselves",
    )
    predict.add_argument("--proba", action="store_true", help="add a probability column per class")
    predict.add_argument("--out", help="write the CSV to this file instead of printing it")
    predict.add_argument(
        "--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)"
    )
    predict.add_argument("--quiet", action="store_true", help="no progress messages or bars")


def _add_evaluate_parser(commands):
    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved model on labelled data",
        description="Print the accuracy and per-class report of a model file on labelled data.",
    )
    evaluate.add_argument("model", metavar="MODEL", help="a model file written by sktransfer fit")
    evaluate.add_argument("data", metavar="DATA", help="labelled data, as for sktransfer fit")
    evaluate.add_argument(
        "--confusion-matrix", metavar="PNG", help="also draw the confusion matrix"
    )
    evaluate.add_argument(
        "--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)"
    )
    evaluate.add_argument("--quiet", action="store_true", help="no progress messages or bars")


def _add_serve_parser(commands):
    serve = commands.add_parser(
        "serve",
        help="serve a saved model over HTTP",
        description="Serve a model over HTTP: POST /predict and /predict_proba (files as "
        "multipart uploads, texts as JSON), GET /health and /metadata. See docs/serving.md.",
    )
    serve.add_argument(
        "model",
        metavar="MODEL",
        help="a model file written by sktransfer fit, a pipeline saved with joblib.dump, or "
        "an .onnx file written by sktransfer export (served without TensorFlow)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    serve.add_argument(
        "--modality",
        choices=MODALITIES,
        help="what the model takes, for a pickle whose first step does not say",
    )
    serve.add_argument(
        "--max-batch-size",
        type=_positive_int,
        default=32,
        help="most items in one forward pass and in one request (default: %(default)s)",
    )
    serve.add_argument(
        "--max-wait-ms",
        type=float,
        default=5.0,
        help="longest wait of a request for others to batch with (default: %(default)s)",
    )
    serve.add_argument(
        "--max-request-mb",
        type=float,
        default=10.0,
        help="larger requests are refused with 413 (default: %(default)s)",
    )


def _add_export_parser(commands):
    export = commands.add_parser(
        "export",
        help="export a saved model to one ONNX graph that predicts without TensorFlow",
        description="Export a model to ONNX: one graph from pixels (or spectrogram images) to "
        "labels and probabilities, compared with the model on sample items before it is "
        "written; sktransfer serve OUT.onnx and sktransfer.onnx.load read it with onnxruntime "
        "alone. See docs/onnx.md.",
    )
    export.add_argument(
        "model",
        metavar="MODEL",
        help="a model file written by sktransfer fit, or a pipeline saved with joblib.dump",
    )
    export.add_argument("out", metavar="OUT", help="the .onnx file to write")
    export.add_argument(
        "--sample",
        nargs="+",
        metavar="INPUT",
        help="files or folders of the model's inputs to compare the graph with the model on "
        "(default: synthetic items)",
    )
    export.add_argument(
        "--tolerance",
        type=float,
        default=1e-4,
        help="largest difference of probabilities accepted (default: %(default)s)",
    )
    export.add_argument(
        "--int8",
        metavar="OUT_INT8",
        help="also write an int8 copy of the graph there, calibrated on the --sample items "
        "(see docs/onnx.md for when it pays)",
    )


def build_parser():
    """The argument parser of the ``sktransfer`` command and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="sktransfer", description="Transfer learning as a scikit-learn workflow."
    )
    parser.add_argument("--version", action="version", version=f"sktransfer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="train transfer pipelines and baselines on offline data, print a table"
    )
    demo.add_argument(
        "--out", default="sktransfer-demo", help="output folder (default: %(default)s)"
    )
    demo.add_argument("--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)")
    demo.add_argument("--quiet", action="store_true", help="print only the results table")
    demo.add_argument(
        "--small",
        action="store_true",
        help="fewer labels, test items and repeats: about a minute, less precise",
    )
    _add_fit_parser(commands)
    _add_predict_parser(commands)
    _add_evaluate_parser(commands)
    _add_serve_parser(commands)
    _add_export_parser(commands)
    return parser
