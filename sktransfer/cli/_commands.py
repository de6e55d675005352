"""The ``sktransfer`` command line: ``fit``, ``predict``, ``evaluate`` and ``demo``.

See ``docs/cli.md``. Problems with the user's files (missing paths, unsupported
or mixed files, too few examples, unusable model files) end the command with a
one-line message naming the item and exit status 1; usage errors exit with 2.
"""

import argparse
import csv
import math
import sys
import tempfile
import time
from pathlib import Path

from .. import __version__
from ._quiet import start_keras

HOLDOUT_FRACTION = 0.2
"""Share of the examples that ``fit`` holds out to measure the model, without ``--cv``."""
GRID_FOLDS = 3
"""Folds of the grid search of ``fit --grid``."""


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
        choices=("image", "audio", "text"),
        help="the kind of data (default: from the file extensions)",
    )
    fit.add_argument(
        "--audio-features",
        choices=("spectral", "pretrained"),
        default="spectral",
        help="audio: learn from the 193 spectral features, or from log-mel spectrogram "
        "images through the pretrained image backbone (default: %(default)s)",
    )
    fit.add_argument(
        "--backbone",
        default="efficientnet_lite0",
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
        help="images and --audio-features pretrained: fine-tune this many top backbone "
        "layers (a number or all); repeat it to give the --grid candidates",
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
        choices=("image", "audio", "text"),
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


def _serve(args):
    from ..serve import run_server

    run_server(
        args.model,
        host=args.host,
        port=args.port,
        modality=args.modality,
        max_batch_size=args.max_batch_size,
        max_wait_ms=args.max_wait_ms,
        max_request_bytes=int(args.max_request_mb * (1 << 20)),
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


def _export(args):
    from ..onnx import to_onnx
    from ._labelled_data import collect_inputs
    from ._model_file import ModelFileError, load_model

    try:
        saved = load_model(args.model)
        pipeline, modality = saved.pipeline, saved.modality
    except ModelFileError:
        if not Path(args.model).is_file():
            raise
        import joblib

        pipeline, modality = joblib.load(args.model), None
    sample = None
    if args.sample:
        if modality is None:
            raise ValueError("--sample needs a model file written by sktransfer fit")
        sample, _ = collect_inputs(args.sample, modality)
    if args.int8 and sample is None:
        raise ValueError("--int8 needs --sample: items of the task to calibrate int8 ranges on")
    result = to_onnx(pipeline, args.out, X_sample=sample, tolerance=args.tolerance)
    print(
        f"{result.path} written ({result.size_bytes / 1e6:.1f} MB): it differs from the model "
        f"by at most {result.max_difference:.2g} on {result.n_items} sample items"
    )
    if args.int8:
        from ..onnx import quantize

        int8 = quantize(args.out, args.int8, sample)
        agreement = (
            ""
            if int8.label_agreement is None
            else f"labels agree on {int8.label_agreement:.1%} and "
        )
        print(
            f"{int8.path} written ({int8.size_bytes / 1e6:.1f} MB): int8, {agreement}probabilities "
            f"differ by at most {int8.max_difference:.2g} from the float32 graph on "
            f"{int8.n_items} sample items"
        )


def _say(args, message):
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _min_per_class(cv, grid):
    """Examples per class that the measurement, the grid search and early stopping need.

    Early stopping takes a stratified dev split, hence 2 per class in every
    training set; a held-out split or a test fold takes some more.
    """
    n = 2
    while True:
        left = n - math.ceil(n / cv if cv else n * HOLDOUT_FRACTION)
        if grid:
            left = left - math.ceil(left / GRID_FOLDS) if left >= GRID_FOLDS else 0
        if left >= 2 and n >= (cv or 0):
            return n
        n += 1


def _check_options(args, modality):
    """ValueError for ``fit`` options that do not apply to ``modality``, or repeated without ``--grid``."""
    head_sizes = args.head_size or []
    lstm_units = args.lstm_units or []
    depths = args.trainable_layers or []
    if not args.grid and max(len(head_sizes), len(lstm_units), len(depths)) > 1:
        raise ValueError(
            "--head-size, --lstm-units and --trainable-layers take several values only with --grid"
        )
    if head_sizes and modality == "text":
        raise ValueError(
            "--head-size is for the dense heads of image and audio models; a text "
            "model's head is an LSTM: give --lstm-units"
        )
    if lstm_units and modality != "text":
        raise ValueError(
            f"--lstm-units is for text data, not {modality}: give --head-size for "
            "the dense head's hidden layers"
        )
    pretrained_audio = modality == "audio" and args.audio_features == "pretrained"
    if args.audio_features != "spectral" and modality != "audio":
        raise ValueError(f"--audio-features is for audio data, not {modality}")
    if depths and not (modality == "image" or pretrained_audio):
        raise ValueError(
            f"--trainable-layers is for image data and --audio-features pretrained, "
            f"not {modality}" + (" with spectral features" if modality == "audio" else "")
        )
    image_options = args.backbone != "efficientnet_lite0" or args.input_size
    if image_options and not (modality == "image" or pretrained_audio):
        raise ValueError(
            f"--backbone and --input-size are for image data and --audio-features "
            f"pretrained, not {modality}"
            + (" with spectral features" if modality == "audio" else "")
        )


def _configure_pipeline(args, modality, cache=None, source=None):
    """The estimator that ``fit`` trains: a pipeline, or a grid search over one.

    ``cache`` (a directory) becomes the feature extractor's ``cache``; the
    options are those that ``_check_options`` accepted for ``modality``;
    ``source``, the loaded ``--init-from`` model, is where the pipeline starts.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from ._init_from import grid_for_source, start_from_source
    from ._recipes import build_pipeline, parameter_grid

    head_sizes = args.head_size or []
    lstm_units = args.lstm_units or []
    depths = args.trainable_layers or []
    fine_tune = (modality == "image" and args.grid) or bool(depths)
    pipeline = build_pipeline(
        modality,
        backbone=args.backbone,
        input_size=args.input_size,
        hidden_layer_sizes=head_sizes[0] if head_sizes else None,
        lstm_units=lstm_units[0] if lstm_units else None,
        trainable_layers=(depths[0] if depths else 0) if fine_tune else None,
        audio_features=args.audio_features,
        epochs=args.epochs,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    if cache is not None:
        for step in ("spectrogram", "features"):
            if step in pipeline.named_steps:
                pipeline.set_params(**{f"{step}__cache": cache})
    if source is not None:
        start_from_source(pipeline, source, args.init_from)
    if not args.grid:
        return pipeline
    grid = parameter_grid(
        modality, hidden_layer_sizes=head_sizes, lstm_units=lstm_units, trainable_layers=depths
    )
    grid = grid_for_source(grid, pipeline)
    folds = StratifiedKFold(GRID_FOLDS, shuffle=True, random_state=args.random_state)
    return GridSearchCV(pipeline, grid, cv=folds, error_score="raise")


def _timed_fit(estimator, X, y):
    from sklearn.base import clone

    start = time.perf_counter()
    fitted = clone(estimator).fit(X, y)
    return fitted, time.perf_counter() - start


def _measure(args, estimator, X, y, classes):
    """Fit and measure: held-out split, or cross-validation then a fit on all the data.

    Returns the fitted final estimator, the true and predicted labels of the
    measurement, and its metrics.
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

    if args.cv:
        folds = list(
            StratifiedKFold(args.cv, shuffle=True, random_state=args.random_state).split(X, y)
        )
        _say(args, f"{args.cv}-fold cross-validation ...")
        y_pred = cross_val_predict(estimator, X, y, cv=folds)
        scores = [float(np.mean(y_pred[test] == y[test])) for _, test in folds]
        _say(args, f"fitting the final model on all {len(y)} examples ...")
        final, fit_seconds = _timed_fit(estimator, X, y)
        return (
            final,
            y,
            y_pred,
            {
                "evaluation": f"{args.cv}-fold cross-validation",
                "cv_scores": scores,
                "accuracy_mean": float(np.mean(scores)),
                "accuracy_std": float(np.std(scores)),
                "n_train": len(y),
                "fit_seconds": fit_seconds,
            },
        )
    n_test = max(math.ceil(HOLDOUT_FRACTION * len(y)), len(classes))
    train, test = train_test_split(
        np.arange(len(y)), test_size=n_test, stratify=y, random_state=args.random_state
    )
    _say(args, f"fitting on {len(train)} examples, holding out {len(test)} ...")
    final, fit_seconds = _timed_fit(estimator, X[train], y[train])
    return (
        final,
        y[test],
        final.predict(X[test]),
        {
            "evaluation": "held-out split",
            "n_train": len(train),
            "n_test": len(test),
            "fit_seconds": fit_seconds,
        },
    )


def _fit(args):
    import numpy as np

    from ._labelled_data import check_enough_examples, read_labelled_data
    from ._model_file import save_model
    from ._report import classification_summary, jsonable_parameters, write_report

    if args.cv is not None and args.cv < 2:
        raise ValueError(f"--cv needs at least 2 folds, got {args.cv}")
    data = read_labelled_data(args.data, args.modality)
    _say(args, f"read {data.describe()}")
    _check_options(args, data.modality)
    source = None
    if args.init_from:
        from ._init_from import read_source

        source = read_source(args, data.modality)
    scheme = f"{args.cv}-fold cross-validation" if args.cv else "a held-out split"
    check_enough_examples(
        data,
        _min_per_class(args.cv, args.grid),
        why=f"{scheme}{' with a grid search' if args.grid else ''} and early stopping",
    )
    X, y, classes = np.asarray(data.items, dtype=object), np.asarray(data.labels), data.classes
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sktransfer-features-") as temporary:
        # Cross-validation and grid search extract each file once, through a cache.
        cache = args.cache or (temporary if args.cv or args.grid else None)
        estimator = _configure_pipeline(args, data.modality, cache, source)
        final, y_true, y_pred, measured = _measure(args, estimator, X, y, classes)
    pipeline = final.best_estimator_ if args.grid else final
    for step in ("spectrogram", "features"):  # the model file names no folder of this host
        if step in pipeline.named_steps:
            pipeline.set_params(**{f"{step}__cache": None})
    model_path = save_model(args.out, pipeline, modality=data.modality)
    summary = classification_summary(y_true, y_pred, classes)
    head = pipeline.named_steps["head"]
    metrics = {
        "sktransfer_version": __version__,
        "data": str(data.source),
        "modality": data.modality,
        "n_examples": len(y),
        "n_classes": len(classes),
        "class_counts": {c: int(np.sum(y == c)) for c in classes},
        **measured,
        **summary,
        "epochs_trained": len(head.history_["loss"]),
        "best_epoch": getattr(head, "best_epoch_", None),
        "total_seconds": time.perf_counter() - started,
    }
    params = {
        "pipeline": [[name, type(step).__name__] for name, step in pipeline.steps],
        "parameters": jsonable_parameters(pipeline),
    }
    if args.grid:
        results = final.cv_results_
        params["grid"] = {
            "param_grid": final.param_grid,
            "best_params": final.best_params_,
            "best_score": float(final.best_score_),
            "candidates": [
                {"params": p, "mean_score": float(m), "std_score": float(s)}
                for p, m, s in zip(
                    results["params"], results["mean_test_score"], results["std_test_score"]
                )
            ],
        }
    report = Path(args.report) if args.report else model_path.with_name(f"{model_path.stem}-report")
    write_report(
        report,
        metrics=metrics,
        params=params,
        y_true=y_true,
        y_pred=y_pred,
        classes=classes,
        head=head,
        title=measured["evaluation"],
    )
    if args.cv:
        print(
            f"cross-validated accuracy {measured['accuracy_mean']:.3f} ± "
            f"{measured['accuracy_std']:.3f} ({args.cv} folds)"
        )
    else:
        print(f"held-out accuracy {summary['accuracy']:.3f} on {measured['n_test']} examples")
    if args.grid:
        print(f"best parameters: {final.best_params_}")
    print(f"model written to {model_path}")
    print(f"report written to {report}")


def _model_and_inputs_agree(saved, data_modality, model_path, where):
    if data_modality != saved.modality:
        raise ValueError(
            f"{where} holds {data_modality} data, but the model '{model_path}' classifies "
            f"{saved.modality}"
        )


def _set_run_options(args, pipeline):
    """Apply ``--n-jobs`` and ``--quiet`` to the extractor of a loaded pipeline."""
    params = pipeline.get_params()
    options = {"features__n_jobs": args.n_jobs, "features__verbose": 0 if args.quiet else 1}
    pipeline.set_params(**{name: value for name, value in options.items() if name in params})


def _predict(args):
    import numpy as np

    from ._labelled_data import collect_inputs
    from ._model_file import load_model

    saved = load_model(args.model)
    items, names = collect_inputs(args.inputs, saved.modality)
    _set_run_options(args, saved.pipeline)
    _say(args, f"classifying {len(items)} {saved.modality} inputs ...")
    X = np.asarray(items, dtype=object)
    if args.proba:
        proba = saved.pipeline.predict_proba(X)
        classes = saved.pipeline.classes_
        predictions = classes[np.argmax(proba, axis=1)]
    else:
        predictions = saved.pipeline.predict(X)
    header = ["input", "prediction"]
    if args.proba:
        header += [f"proba_{c}" for c in classes]
    stream = open(args.out, "w", newline="") if args.out else sys.stdout
    try:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        for i, (name, label) in enumerate(zip(names, predictions)):
            extra = [f"{p:.6f}" for p in proba[i]] if args.proba else []
            writer.writerow([name, label, *extra])
    finally:
        if args.out:
            stream.close()
    if args.out:
        _say(args, f"predictions written to {args.out}")


def _evaluate(args):
    import numpy as np

    from ..plots import plot_confusion_matrix
    from ._labelled_data import read_labelled_data
    from ._model_file import load_model
    from ._report import classification_summary, format_summary

    saved = load_model(args.model)
    data = read_labelled_data(args.data)
    _model_and_inputs_agree(saved, data.modality, args.model, f"'{data.source}'")
    unknown = sorted(set(data.labels) - set(saved.classes))
    if unknown:
        raise ValueError(
            f"'{data.source}' has classes the model '{args.model}' does not know: {unknown}; "
            f"its classes are {saved.classes}"
        )
    _set_run_options(args, saved.pipeline)
    _say(args, f"evaluating on {data.describe()} ...")
    y_pred = saved.pipeline.predict(np.asarray(data.items, dtype=object))
    print(format_summary(classification_summary(data.labels, y_pred, saved.classes)))
    if args.confusion_matrix:
        path = plot_confusion_matrix(
            data.labels,
            y_pred,
            args.confusion_matrix,
            labels=saved.classes,
            title=f"Confusion matrix, {data.source}",
        )
        print(f"confusion matrix written to {path}")


def main(argv=None):
    """Entry point of the ``sktransfer`` command."""
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
    args = parser.parse_args(argv)
    if not (args.command == "serve" and args.model.lower().endswith(".onnx")):
        start_keras()  # first, to keep TensorFlow's start-up lines out; .onnx needs neither

    if args.command == "demo":
        from ..demo import run_demo

        run_demo(args.out, small=args.small, n_jobs=args.n_jobs, verbose=0 if args.quiet else 1)
        return 0
    run = {
        "fit": _fit,
        "predict": _predict,
        "evaluate": _evaluate,
        "serve": _serve,
        "export": _export,
    }[args.command]
    try:
        run(args)
    except (ValueError, OSError) as exc:  # the user's data or files, named in the message
        print(f"sktransfer {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return 0
