"""Report figures as PNG files: confusion matrix, training curve, learning curve.

The figures are drawn on ``matplotlib.figure.Figure`` objects directly, never
through ``pyplot``, so they need no display, leave no global state behind and
are safe to draw from any thread.
"""

from pathlib import Path

import numpy as np

__all__ = ["plot_confusion_matrix", "plot_learning_curve", "plot_training_curve"]


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=120, layout="constrained")


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def plot_confusion_matrix(y_true, y_pred, path, *, labels=None, title="Confusion matrix"):
    """Save a confusion matrix: counts in the cells, colour by share of the true class.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    path : path-like
        The PNG file to write (folders are created).
    labels : sequence or None, default=None
        Class order of the rows and columns; None: the sorted union of both.
    title : str, default="Confusion matrix"

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "cm.png"
    >>> plot_confusion_matrix(["a", "b", "b"], ["a", "b", "a"], out).stat().st_size > 0
    True
    """
    from sklearn.metrics import confusion_matrix

    if labels is None:
        labels = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    counts = confusion_matrix(y_true, y_pred, labels=labels)
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    n = len(labels)
    side = min(max(4.0, 0.55 * n + 2.5), 14.0)
    fig = _figure(side + 1.2, side)
    ax = fig.add_subplot()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    colorbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("share of the true class")
    names = [str(label) for label in labels]
    ax.set_xticks(
        range(n),
        names,
        rotation=45 if max(map(len, names)) > 3 else 0,
        ha="right" if max(map(len, names)) > 3 else "center",
    )
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{title}\naccuracy {accuracy:.3f} on {counts.sum()} examples")
    if n <= 30:
        fontsize = 9 if n <= 12 else 7
        for i in range(n):
            for j in range(n):
                if counts[i, j]:
                    ax.text(
                        j,
                        i,
                        str(counts[i, j]),
                        ha="center",
                        va="center",
                        fontsize=fontsize,
                        color="white" if share[i, j] > 0.5 else "black",
                    )
    return _save(fig, path)


def plot_training_curve(history, path, *, title="Training curve", best_epoch=None):
    """Save loss and accuracy per epoch of a Keras training history.

    Parameters
    ----------
    history : dict of str to list of float
        A Keras ``History.history`` (a head's ``history_``): ``loss`` and
        optionally ``accuracy``, ``val_loss``, ``val_accuracy``.
    path : path-like
        The PNG file to write.
    title : str, default="Training curve"
    best_epoch : int or None, default=None
        The epoch (1-based) whose weights were kept, marked by a line.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "curve.png"
    >>> history = {"loss": [1.0, 0.6], "val_loss": [1.1, 0.8]}
    >>> plot_training_curve(history, out).exists()
    True
    """
    from matplotlib.ticker import MaxNLocator

    if not history.get("loss"):
        raise ValueError("history has no 'loss' values to plot")
    panels = [("loss", "cross-entropy loss")]
    if history.get("accuracy"):
        panels.append(("accuracy", "accuracy"))
    fig = _figure(5.0 * len(panels), 3.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, label) in zip(axes, panels):
        epochs = np.arange(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], marker="o", markersize=3, label="training split")
        if history.get(f"val_{key}"):
            ax.plot(
                epochs[: len(history[f"val_{key}"])],
                history[f"val_{key}"],
                marker="o",
                markersize=3,
                label="dev split",
            )
        if best_epoch is not None:
            ax.axvline(best_epoch, color="grey", linestyle="--", linewidth=1, label="kept weights")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return _save(fig, path)


def plot_learning_curve(
    curves,
    path,
    *,
    title="Learning curve",
    xlabel="labelled training examples",
    xscale="linear",
    chance=None,
):
    """Save held-out accuracy against the number of labelled examples, one line per method.

    Parameters
    ----------
    curves : dict of str to (sizes, mean, std)
        For each method: training-set sizes, the mean held-out accuracy at
        each and its standard deviation (drawn as a band; may be None).
    path : path-like
        The PNG file to write.
    title : str, default="Learning curve"
        Wrapped onto several lines when long.
    xlabel : str, default="labelled training examples"
    xscale : {"linear", "log"}, default="linear"
        "log" spreads sizes that grow geometrically; the ticks are the sizes.
    chance : float or None, default=None
        Accuracy of guessing, drawn as a dashed line.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "learning.png"
    >>> curves = {"transfer": ([10, 20], [0.6, 0.7], [0.05, 0.03])}
    >>> plot_learning_curve(curves, out, xscale="log", chance=0.5).exists()
    True
    """
    import textwrap

    from matplotlib.ticker import NullFormatter

    if xscale not in ("linear", "log"):
        raise ValueError(f"xscale must be 'linear' or 'log', got {xscale!r}")
    fig = _figure(6.0, 4.2)
    ax = fig.add_subplot()
    all_sizes = set()
    for name, (sizes, mean, std) in curves.items():
        sizes, mean = np.asarray(sizes), np.asarray(mean, dtype=float)
        all_sizes.update(sizes.tolist())
        ax.plot(sizes, mean, marker="o", label=name)
        if std is not None:
            std = np.asarray(std, dtype=float)
            ax.fill_between(sizes, mean - std, mean + std, alpha=0.2)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1, label="chance")
    if xscale == "log":
        ax.set_xscale("log")
        ax.set_xticks(sorted(all_sizes), [str(size) for size in sorted(all_sizes)])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    with_band = any(std is not None for _, _, std in curves.values())
    ax.legend(
        loc="lower right",
        title="band: ± 1 standard deviation" if with_band else None,
        title_fontsize="small",
    )
    ax.set_title(textwrap.fill(title, width=60))
    return _save(fig, path)
