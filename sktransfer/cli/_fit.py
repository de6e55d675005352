"""``sktransfer fit``: train a transfer model on labelled data, measure it, save it, report."""

import tempfile
import time
from pathlib import Path

from .. import __version__
from ._checks import GRID_FOLDS, check_options, min_per_class
from ._measure import measure
from ._progress import say
from ._recipes import EXTRACTORS, HEAD


def configure_pipeline(args, modality, cache=None, source=None):
    """The estimator that ``fit`` trains: a pipeline, or a grid search over one.

    ``cache`` (a directory) becomes the feature extractor's ``cache``; the
    options are those that ``check_options`` accepted for ``modality``;
    ``source``, the loaded ``--init-from`` model, is where the pipeline starts.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from ._init_from import grid_for_source, start_from_source
    from ._recipes import build_pipeline, parameter_grid

    head_sizes = args.head_size or []
    lstm_units = args.lstm_units or []
    depths = args.trainable_layers or []
    fine_tune = (modality == "image" and args.grid) or bool(depths)
    if modality == "text":
        fine_tune = bool(depths)
    pipeline = build_pipeline(
        modality,
        backbone=args.backbone,
        input_size=args.input_size,
        hidden_layer_sizes=head_sizes[0] if head_sizes else None,
        lstm_units=lstm_units[0] if lstm_units else None,
        trainable_layers=(depths[0] if depths else 0) if fine_tune else None,
        audio_features=args.audio_features,
        text_features=args.text_features,
        epochs=args.epochs,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    if cache is not None:
        for step in EXTRACTORS:
            if step in pipeline.named_steps:
                pipeline.set_params(**{f"{step}__cache": cache})
    if source is not None:
        start_from_source(pipeline, source, args.init_from)
    if not args.grid:
        return pipeline
    grid = parameter_grid(
        modality,
        hidden_layer_sizes=head_sizes,
        lstm_units=lstm_units,
        trainable_layers=depths,
        text_features=args.text_features,
    )
    grid = grid_for_source(grid, pipeline)
    folds = StratifiedKFold(GRID_FOLDS, shuffle=True, random_state=args.random_state)
    return GridSearchCV(pipeline, grid, cv=folds, error_score="raise")


def fit_command(args):
    import numpy as np

    from .._model_file import save_model
    from ._labelled_data import check_enough_examples, read_labelled_data
    from ._report import classification_summary, jsonable_parameters, write_report

    if args.cv is not None and args.cv < 2:
        raise ValueError(f"--cv needs at least 2 folds, got {args.cv}")
    data = read_labelled_data(args.data, args.modality)
    say(args, f"read {data.describe()}")
    check_options(args, data.modality)
    source = None
    if args.init_from:
        from ._init_from import read_source

        source = read_source(args, data.modality)
    scheme = f"{args.cv}-fold cross-validation" if args.cv else "a held-out split"
    check_enough_examples(
        data,
        min_per_class(args.cv, args.grid),
        why=f"{scheme}{' with a grid search' if args.grid else ''} and early stopping",
    )
    X, y, classes = np.asarray(data.items, dtype=object), np.asarray(data.labels), data.classes
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sktransfer-features-") as temporary:
        # Cross-validation and grid search extract each file once, through a cache.
        cache = args.cache or (temporary if args.cv or args.grid else None)
        estimator = configure_pipeline(args, data.modality, cache, source)
        final, y_true, y_pred, measured = measure(args, estimator, X, y, classes)
    pipeline = final.best_estimator_ if args.grid else final
    for step in EXTRACTORS:  # the model file names no folder of this host
        if step in pipeline.named_steps:
            pipeline.set_params(**{f"{step}__cache": None})
    model_path = save_model(args.out, pipeline, modality=data.modality)
    summary = classification_summary(y_true, y_pred, classes)
    head = pipeline.named_steps[HEAD]
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
