"""The report folder of ``sktransfer fit``: metrics, parameters and figures."""

import json
from pathlib import Path

from .._json import json_default
from ..plots import plot_confusion_matrix, plot_training_curve


def classification_summary(y_true, y_pred, classes):
    """Accuracy and per-class precision, recall, F1 and support, as plain numbers.

    Examples
    --------
    >>> summary = classification_summary(["a", "b", "b"], ["a", "b", "a"], ["a", "b"])
    >>> summary["accuracy"], summary["per_class"]["a"]["precision"]
    (0.6666666666666666, 0.5)
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {
            str(label): {
                "precision": float(p),
                "recall": float(r),
                "f1": float(f),
                "support": int(s),
            }
            for label, p, r, f, s in zip(classes, precision, recall, f1, support)
        },
    }


def format_summary(summary):
    """A classification summary as a plain-text table.

    Examples
    --------
    >>> print(format_summary(classification_summary(["a", "b"], ["a", "a"], ["a", "b"])))
    accuracy 0.500 on 2 examples
    class  precision  recall     f1  support
    a          0.500   1.000  0.667        1
    b          0.000   0.000  0.000        1
    """
    per_class = summary["per_class"]
    n = sum(row["support"] for row in per_class.values())
    width = max(len("class"), *map(len, per_class))
    lines = [
        f"accuracy {summary['accuracy']:.3f} on {n} examples",
        f"{'class':<{width}}  precision  recall     f1  support",
    ]
    for label, row in per_class.items():
        lines.append(
            f"{label:<{width}}  {row['precision']:>9.3f}  {row['recall']:>6.3f}  "
            f"{row['f1']:>5.3f}  {row['support']:>7d}"
        )
    return "\n".join(lines)


def jsonable_parameters(estimator):
    """``estimator.get_params()`` without the values JSON cannot hold (estimators, callables)."""

    def plain(value):
        if isinstance(value, (str, bool, int, float, type(None))):
            return True
        return isinstance(value, (tuple, list)) and all(plain(v) for v in value)

    return {name: value for name, value in sorted(estimator.get_params().items()) if plain(value)}


def write_report(folder, *, metrics, params, y_true, y_pred, classes, head, title):
    """Write ``metrics.json``, ``params.json``, ``confusion_matrix.png`` and ``training_curve.png``.

    Parameters
    ----------
    folder : path-like
        Created if missing.
    metrics, params : dict
        Written as they are, as JSON.
    y_true, y_pred : sequence
        The labels and predictions the confusion matrix counts.
    classes : sequence of str
    head : fitted Keras head
        Its ``history_`` (and ``best_epoch_``, if any) make the training curve.
    title : str
        What the confusion matrix shows, such as "held-out split".

    Returns
    -------
    dict of str to pathlib.Path
        Each file written, by name.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, content in (("metrics.json", metrics), ("params.json", params)):
        written[name] = folder / name
        written[name].write_text(json.dumps(content, indent=2, default=json_default) + "\n")
    written["confusion_matrix.png"] = plot_confusion_matrix(
        y_true,
        y_pred,
        folder / "confusion_matrix.png",
        labels=classes,
        title=f"Confusion matrix, {title}",
    )
    written["training_curve.png"] = plot_training_curve(
        head.history_,
        folder / "training_curve.png",
        title=f"Training of the {type(head).__name__} (final model)",
        best_epoch=getattr(head, "best_epoch_", None),
    )
    return written
