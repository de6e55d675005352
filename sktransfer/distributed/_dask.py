"""A fitted estimator applied to a dask collection, one partition at a time.

``dask_ml.wrappers.ParallelPostFit`` does this for 2-D inputs (a head on a
dask array of features), but it gives a block of images' output the chunks
of its input, so it cannot map a ``(n, height, width, channels)`` array or a
bag of paths to ``(n, n_features)`` rows. These two functions can: the
estimator enters the graph once (one key that every task depends on), so a
worker receives and unpickles it once and its network is built once per
computation. An estimator scattered beforehand (``client.scatter(fitted,
broadcast=True)``) stays on the workers between computations, and so do the
networks built on it: a job of many computations pays the build once.
"""

import numpy as np

from .._extras import import_extra

METHODS = ("transform", "predict", "predict_proba", "decision_function")


def _partitions(items, column):
    """``(delayed partitions of items, their lengths or NaN, one item's collection)``."""
    import_extra("dask.dataframe", "dask", "sktransfer's Dask helpers")
    import dask.array as da
    import dask.bag as db
    import dask.dataframe as dd

    if isinstance(items, dd.DataFrame):
        if column is None:
            raise ValueError("a dask DataFrame needs column=: the name of the column of items")
        items = items[column]
    if isinstance(items, dd.Series):
        parts = items.map_partitions(lambda s: s.tolist(), meta=(None, "object")).to_delayed()
        return parts, [np.nan] * len(parts), items.head(1, npartitions=-1).tolist()
    if isinstance(items, db.Bag):
        parts = items.map_partitions(list).to_delayed()
        return parts, [np.nan] * len(parts), items.take(1, npartitions=-1)
    if isinstance(items, da.Array):
        blocks = items.rechunk({axis: -1 for axis in range(1, items.ndim)})
        parts = blocks.to_delayed().ravel().tolist()
        return parts, list(blocks.chunks[0]), blocks[:1].compute()
    raise TypeError(
        f"items must be a dask Bag, DataFrame, Series or Array, got {type(items).__name__}"
    )


def _apply(estimator, method, part):
    return np.asarray(getattr(estimator, method)(part))


def _is_future(estimator):
    try:
        from distributed import Future
    except ImportError:  # dask without distributed: nothing can be scattered
        return False
    return isinstance(estimator, Future)


def _shared(estimator, method, first):
    """``(the estimator as the graph's one shared key, its output on the first item)``.

    A scattered estimator (a ``distributed.Future``) computes that output on a
    worker, whose network is then built already; any other is wrapped here
    and computes it in this process.
    """
    import dask

    if _is_future(estimator):
        sample = estimator.client.submit(_apply, estimator, method, first, pure=False)
        return estimator, sample.result()
    return dask.delayed(estimator, pure=True), _apply(estimator, method, first)


def _blocks(estimator, items, method, column):
    """Delayed outputs of every partition, their lengths, and one item's output."""
    import dask

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    parts, lengths, first = _partitions(items, column)
    shared, sample = _shared(estimator, method, first)  # output shape and dtype, from one item
    outputs = [dask.delayed(_apply, pure=True)(shared, method, part) for part in parts]
    return outputs, lengths, sample


def dask_transform(estimator, items, *, method="transform", column=None):
    """Apply a fitted estimator to a dask collection, partition by partition.

    Parameters
    ----------
    estimator : fitted estimator or pipeline, or a Future of one
        Taken whole to the workers (extractors pickle their weights by
        reference). Scatter it first (``client.scatter(fitted, broadcast=True)``)
        to keep it, and the networks built on it, on the workers from one
        computation to the next.
    items : dask Bag, DataFrame, Series or Array
        A bag or series of items (paths, clips, texts), a DataFrame with a
        ``column`` of them, or an array of images (split along its first axis).
    method : {"transform", "predict", "predict_proba", "decision_function"}
    column : str, optional
        The column of items, for a DataFrame.

    Returns
    -------
    dask Array
        One row per item, chunked like the partitions (lengths unknown for a
        bag or DataFrame until computed). One item is computed here first to
        learn the output's shape and dtype.

    Examples
    --------
    >>> import dask.bag as db
    >>> import numpy as np
    >>> from sktransfer import AudioSpectralFeatures
    >>> clips = list(np.random.default_rng(0).standard_normal((4, 4096)))
    >>> features = AudioSpectralFeatures(input_sr=22050).fit(clips)
    >>> rows = dask_transform(features, db.from_sequence(clips, npartitions=2))
    >>> rows.compute(scheduler="synchronous").shape
    (4, 193)
    """
    import dask.array as da

    outputs, lengths, sample = _blocks(estimator, items, method, column)
    return da.concatenate(
        [
            da.from_delayed(output, shape=(length, *sample.shape[1:]), dtype=sample.dtype)
            for output, length in zip(outputs, lengths)
        ]
    )


def _frame(rows, columns, index):
    import pandas as pd

    rows = rows.reshape(len(rows), len(columns))
    return pd.DataFrame(rows, columns=columns, index=index)


def dask_to_parquet(estimator, items, path, *, method="transform", column=None, **to_parquet):
    """Write a fitted estimator's output on a dask collection to Parquet, one file per partition.

    Parameters
    ----------
    estimator, items, method, column
        As for ``dask_transform``.
    path : str
        A folder or fsspec URL (``"s3://bucket/features/"``).
    **to_parquet
        Passed to ``dask.dataframe.DataFrame.to_parquet`` (``storage_options``, ...).

    Returns
    -------
    list of str
        The feature columns: ``get_feature_names_out()`` for ``transform``
        when the estimator has it, otherwise ``"output_0"``, ``"output_1"``, ...

    Examples
    --------
    >>> import tempfile
    >>> import dask
    >>> import dask.bag as db
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sktransfer import AudioSpectralFeatures
    >>> clips = list(np.random.default_rng(0).standard_normal((4, 4096)))
    >>> features = AudioSpectralFeatures(input_sr=22050).fit(clips)
    >>> folder = tempfile.mkdtemp()
    >>> with dask.config.set(scheduler="synchronous"):
    ...     columns = dask_to_parquet(features, db.from_sequence(clips, npartitions=2), folder)
    >>> pd.read_parquet(folder).shape, columns[0]
    ((4, 193), 'mfcc_mean_0')
    """
    import dask
    import dask.dataframe as dd

    outputs, lengths, sample = _blocks(estimator, items, method, column)
    width = int(np.prod(sample.shape[1:], dtype=int))
    columns = [f"output_{i}" for i in range(width)]
    fitted = estimator.result() if _is_future(estimator) else estimator
    if method == "transform" and hasattr(fitted, "get_feature_names_out"):
        columns = [str(name) for name in fitted.get_feature_names_out()]
    meta = _frame(sample[:0], columns, None)
    frames = [dask.delayed(_frame)(output, columns, None) for output in outputs]
    dd.from_delayed(frames, meta=meta, verify_meta=False).to_parquet(path, **to_parquet)
    return columns
