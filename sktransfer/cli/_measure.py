"""How ``sktransfer fit`` measures a model: a held-out split, or K-fold cross-validation."""

import math
import time

from ._checks import HOLDOUT_FRACTION
from ._progress import say


def timed_fit(estimator, X, y):
    from sklearn.base import clone

    start = time.perf_counter()
    fitted = clone(estimator).fit(X, y)
    return fitted, time.perf_counter() - start


def measure(args, estimator, X, y, classes):
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
        say(args, f"{args.cv}-fold cross-validation ...")
        y_pred = cross_val_predict(estimator, X, y, cv=folds)
        scores = [float(np.mean(y_pred[test] == y[test])) for _, test in folds]
        say(args, f"fitting the final model on all {len(y)} examples ...")
        final, fit_seconds = timed_fit(estimator, X, y)
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
    say(args, f"fitting on {len(train)} examples, holding out {len(test)} ...")
    final, fit_seconds = timed_fit(estimator, X[train], y[train])
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
