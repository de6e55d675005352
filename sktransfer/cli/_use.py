"""``sktransfer predict``, ``evaluate``, ``serve`` and ``export``: the commands that use a saved model."""

import csv
import sys

from ._progress import say
from ._recipes import EXTRACTORS


def model_and_inputs_agree(saved, data_modality, model_path, where):
    if data_modality != saved.modality:
        raise ValueError(
            f"{where} holds {data_modality} data, but the model '{model_path}' classifies "
            f"{saved.modality}"
        )


def set_run_options(args, pipeline):
    """Apply ``--n-jobs`` and ``--quiet`` to the extractor of a loaded pipeline."""
    params = pipeline.get_params()
    options = {"n_jobs": args.n_jobs, "verbose": 0 if args.quiet else 1}
    for step in EXTRACTORS:
        pipeline.set_params(
            **{
                f"{step}__{name}": value
                for name, value in options.items()
                if f"{step}__{name}" in params
            }
        )


def predict_command(args):
    import numpy as np

    from .._model_file import load_model
    from ._labelled_data import collect_inputs

    saved = load_model(args.model)
    items, names = collect_inputs(args.inputs, saved.modality)
    set_run_options(args, saved.pipeline)
    say(args, f"classifying {len(items)} {saved.modality} inputs ...")
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
        say(args, f"predictions written to {args.out}")


def evaluate_command(args):
    import numpy as np

    from .._model_file import load_model
    from ..plots import plot_confusion_matrix
    from ._labelled_data import read_labelled_data
    from ._report import classification_summary, format_summary

    saved = load_model(args.model)
    data = read_labelled_data(args.data)
    model_and_inputs_agree(saved, data.modality, args.model, f"'{data.source}'")
    unknown = sorted(set(data.labels) - set(saved.classes))
    if unknown:
        raise ValueError(
            f"'{data.source}' has classes the model '{args.model}' does not know: {unknown}; "
            f"its classes are {saved.classes}"
        )
    set_run_options(args, saved.pipeline)
    say(args, f"evaluating on {data.describe()} ...")
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


def serve_command(args):
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


def export_command(args):
    from pathlib import Path

    from .._model_file import ModelFileError, load_model
    from ..onnx import to_onnx
    from ._labelled_data import collect_inputs

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
