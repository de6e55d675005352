"""Scoring shared by the demo tasks: held-out accuracy, fit time and learning curves."""

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split


@dataclass
class TaskResult:
    """What one demo task hands to the report.

    Attributes
    ----------
    name : str
        Short name, used in file names ("images", "text", "audio").
    title : str
        The task in a few words, for figure titles.
    rows : list of dict
        One row per method: ``task``, ``method``, ``kind`` ("transfer" or
        "baseline"), ``accuracy``, ``accuracy_std`` (None for one fixed test
        set), ``fit_seconds``, ``labels_used``, ``evaluation``.
    confusion : dict
        ``y_true``, ``y_pred``, ``labels`` and ``title`` of the best transfer
        model's held-out predictions.
    learning_curves : dict of str to (sizes, mean, std)
        Held-out accuracy against the number of labelled examples, by method.
    """

    name: str
    title: str
    rows: list
    confusion: dict
    learning_curves: dict = field(default_factory=dict)


def _row(task, method, kind, accuracies, fit_seconds, labels_used, evaluation):
    return {
        "task": task,
        "method": method,
        "kind": kind,
        "accuracy": float(np.mean(accuracies)),
        "accuracy_std": float(np.std(accuracies)) if len(accuracies) > 1 else None,
        "fit_seconds": float(np.mean(fit_seconds)),
        "labels_used": int(labels_used),
        "evaluation": evaluation,
    }


def timed_fit(model, X, y):
    """A fitted clone of ``model`` and the seconds its ``fit`` took."""
    fitted = clone(model)
    start = time.perf_counter()
    fitted.fit(X, y)
    return fitted, time.perf_counter() - start


def held_out_row(y_test, y_pred, fit_seconds, n_labels, *, task, method, kind):
    """The ``TaskResult`` row of predictions on a fixed test set."""
    accuracy = float(np.mean(np.asarray(y_pred) == np.asarray(y_test)))
    return _row(
        task,
        method,
        kind,
        [accuracy],
        [fit_seconds],
        n_labels,
        f"{len(y_test)} held-out test examples",
    )


def score_on_test_set(model, X_train, y_train, X_test, y_test, *, task, method, kind):
    """Fit a clone of ``model`` on the training set, score it on the test set.

    Returns
    -------
    row : dict
        As in ``TaskResult.rows``.
    y_pred : ndarray
        The fitted clone's predictions on ``X_test``.
    """
    fitted, seconds = timed_fit(model, X_train, y_train)
    y_pred = fitted.predict(X_test)
    row = held_out_row(y_test, y_pred, seconds, len(y_train), task=task, method=method, kind=kind)
    return row, y_pred


def cross_validated(model, X, y, cv, *, task, method, kind, groups=None):
    """Fit and score a clone of ``model`` on every split of ``cv``.

    Returns
    -------
    row : dict
        As in ``TaskResult.rows``: mean and standard deviation of the fold
        accuracies, mean fit time, mean number of training labels.
    y_pred : ndarray
        Held-out predictions of the first ``cv.get_n_splits() / n_repeats``
        splits, which for a (repeated) k-fold predict every example once.
    """
    y = np.asarray(y)
    y_pred = np.empty(len(y), dtype=y.dtype)
    predicted = np.zeros(len(y), dtype=bool)
    accuracies, seconds, sizes = [], [], []
    for train, test in cv.split(X, y, groups):
        fitted, fit_seconds = timed_fit(model, _take(X, train), y[train])
        seconds.append(fit_seconds)
        fold_pred = fitted.predict(_take(X, test))
        accuracies.append(float(np.mean(fold_pred == y[test])))
        sizes.append(len(train))
        if not predicted[test].any():
            y_pred[test], predicted[test] = fold_pred, True
    n_folds = len(accuracies)
    n_repeats = getattr(cv, "n_repeats", 1)
    evaluation = f"{n_folds // n_repeats}-fold cross-validation" + (
        f" repeated {n_repeats} times" if n_repeats > 1 else ""
    )
    if groups is not None:
        evaluation += ", whole groups held out"
    row = _row(task, method, kind, accuracies, seconds, np.mean(sizes), evaluation)
    return row, y_pred


def _take(X, indices):
    return [X[i] for i in indices] if isinstance(X, list) else X[indices]


def learning_curve_on_test_set(
    model, X_pool, y_pool, X_test, y_test, sizes, *, n_draws=3, random_state=0
):
    """Test-set accuracy of ``model`` fitted on stratified draws of ``sizes`` labelled examples.

    Parameters
    ----------
    model : estimator
        Cloned for every fit.
    X_pool, y_pool : arrays
        The labelled examples to draw from.
    X_test, y_test : arrays
        The fixed test set.
    sizes : sequence of int
        Numbers of labelled examples; the whole pool is drawn once.
    n_draws : int, default=3
        Draws (and fits) per size smaller than the pool.
    random_state : int, default=0

    Returns
    -------
    (sizes, mean, std) : tuple of lists
        The form ``sktransfer.plots.plot_learning_curve`` takes.
    """
    means, stds = [], []
    for size in sizes:
        accuracies = []
        for draw in range(n_draws if size < len(y_pool) else 1):
            if size < len(y_pool):
                X_train, _, y_train, _ = train_test_split(
                    X_pool,
                    y_pool,
                    train_size=size,
                    stratify=y_pool,
                    random_state=random_state + draw,
                )
            else:
                X_train, y_train = X_pool, y_pool
            accuracies.append(clone(model).fit(X_train, y_train).score(X_test, y_test))
        means.append(float(np.mean(accuracies)))
        stds.append(float(np.std(accuracies)))
    return list(map(int, sizes)), means, stds


def best_transfer(rows):
    """Index of the most accurate transfer row."""
    return max(
        (i for i, r in enumerate(rows) if r["kind"] == "transfer"),
        key=lambda i: rows[i]["accuracy"],
    )
