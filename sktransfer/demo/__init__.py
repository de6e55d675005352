"""The offline demo: transfer pipelines against from-scratch baselines, one task per modality.

- images (``_images``): Fashion-MNIST with 500 labels, EfficientNet-Lite0
  ImageNet features against raw pixels, scored on 1,000 test images;
- text (``_text``): 200 review sentences, all-MiniLM-L6-v2 sentence vectors
  (frozen, and fine-tuned on labelled pairs as SetFit does), Word2Vec vectors
  from a news corpus and pretrained GloVe against TF-IDF, scored by repeated
  cross-validation;
- audio (``_audio``): spoken digits, the 193 spectral features against the raw
  waveform, scored on unheard voices;
- two-stage transfer (``_two_stage``): Fashion-MNIST's classes 6 to 9 with 50
  labels each, features of EfficientNet-Lite0 fine-tuned on classes 0 to 5
  against its ImageNet features and raw pixels.

``run_demo`` prints one results table and writes ``results.json`` and the
figures (a confusion matrix of each task's best transfer model, and learning
curves) to the output folder. ``small=True`` runs the same tasks on fewer
labels, test items and repeats, in under two minutes.
"""

import json
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from .._json import json_default
from ..plots import plot_confusion_matrix, plot_learning_curve
from . import _audio, _images, _text, _two_stage

__all__ = ["format_table", "run_demo"]


def format_table(rows):
    """The results as a plain-text table.

    Examples
    --------
    >>> row = {"task": "t", "method": "m", "accuracy": 0.9, "accuracy_std": None,
    ...        "fit_seconds": 1.25, "labels_used": 10}
    >>> print(format_table([row]))
    task  method  accuracy  fit time  labels
    ----  ------  --------  --------  ------
    t     m       0.900     1.2 s     10
    """
    header = ("task", "method", "accuracy", "fit time", "labels")
    lines = [
        (
            r["task"],
            r["method"],
            f"{r['accuracy']:.3f}"
            + ("" if r["accuracy_std"] is None else f" ± {r['accuracy_std']:.3f}"),
            f"{r['fit_seconds']:.1f} s",
            str(r["labels_used"]),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    rule = "  ".join("-" * w for w in widths)
    return "\n".join(
        [fmt.format(*header).rstrip(), rule, *(fmt.format(*line).rstrip() for line in lines)]
    )


def _write_figures(result, out_dir):
    """The task's confusion matrix and learning curve as PNG files; return their paths."""
    confusion = result.confusion
    paths = [
        plot_confusion_matrix(
            confusion["y_true"],
            confusion["y_pred"],
            out_dir / f"{result.name}_confusion.png",
            labels=confusion["labels"],
            title=confusion["title"],
        )
    ]
    if result.learning_curves:
        paths.append(
            plot_learning_curve(
                result.learning_curves,
                out_dir / f"{result.name}_learning_curve.png",
                title=f"{result.title}: learning curve",
                xscale="log",
                chance=1 / len(confusion["labels"]),
            )
        )
    return paths


def run_demo(out_dir="sktransfer-demo", *, small=False, n_jobs=-1, verbose=1):
    """Run every demo task, print the results table, write results and figures.

    Parameters
    ----------
    out_dir : path-like, default="sktransfer-demo"
        Receives ``results.json``, the PNG figures and ``data/`` (the
        synthesized audio clips, kept for the next run).
    small : bool, default=False
        Fewer labels, test items, clips and repeats: the same comparisons in
        under two minutes, less precisely.
    n_jobs : int, default=-1
        Threads and processes of the feature extractors (-1: all cores).
    verbose : int, default=1
        Say what runs when > 0.

    Returns
    -------
    list of dict
        The table's rows; see ``results.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    # The classifiers here are small: a second BLAS thread saves nothing and,
    # on a busy machine, waiting for it makes a logistic regression 20x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        results = [
            _images.run(small=small, n_jobs=n_jobs, verbose=verbose),
            _text.run(small=small, verbose=verbose),
            _audio.run(out_dir / "data", small=small, n_jobs=n_jobs, verbose=verbose),
            _two_stage.run(small=small, n_jobs=n_jobs, verbose=verbose),
        ]
    rows = [row for result in results for row in result.rows]
    figures = [path for result in results for path in _write_figures(result, out_dir)]
    report = {
        "small": small,
        "seconds": time.perf_counter() - start,
        "rows": rows,
        "learning_curves": {
            result.name: {
                method: dict(zip(("sizes", "mean", "std"), curve))
                for method, curve in result.learning_curves.items()
            }
            for result in results
        },
    }
    results_path = out_dir / "results.json"
    results_path.write_text(json.dumps(report, indent=2, default=json_default))
    if verbose:
        print()
    print(format_table(rows))
    print(
        f"\nresults written to {results_path}, figures to "
        + ", ".join(path.name for path in figures)
    )
    return rows
