"""What every feature extractor shares: cached extraction and the on_error policy."""

import os
import warnings

import numpy as np

from ._cache_keys import _hash, item_digest
from .cache import FeatureCache


def as_feature_cache(cache):
    """``cache`` as a FeatureCache: None stays None, a path opens its directory."""
    if cache is None or isinstance(cache, FeatureCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        return FeatureCache(cache)
    raise TypeError(f"cache must be None, a directory path or a FeatureCache, got {cache!r}")


def cached_rows(cache, settings, items, compute, *, files=True):
    """Rows of every item: stored ones from ``cache``, the others from ``compute``.

    Parameters
    ----------
    cache : None, path or FeatureCache
        None computes every row.
    settings : bytes
        ``settings_digest`` of the extractor, its fitted state and versions.
    items : sequence
    compute : callable ``(indices) -> (rows, failures)``
        Rows of ``items[i]`` for the given indices (an int array), and a dict
        mapping each index that failed to its message. Failed rows are never
        stored.
    files : bool, default=True
        Whether a ``str`` item is a file (images, audio) or a text.

    Returns
    -------
    rows : ndarray of shape (len(items), ...)
    failures : dict of int -> str
    """
    cache = as_feature_cache(cache)
    if cache is None:
        return compute(np.arange(len(items)))
    keys = [None if (digest := item_digest(item, files=files)) is None else _hash(settings, digest)
            for item in items]
    found = {}
    for index, key in enumerate(keys):
        row = None if key is None else cache.get(key)
        if row is not None:
            found[index] = row
    missing = np.asarray([i for i in range(len(items)) if i not in found], dtype=np.intp)
    computed, failures = compute(missing) if len(missing) else (None, {})
    if computed is not None:
        rows = np.empty((len(items), *computed.shape[1:]), dtype=computed.dtype)
        rows[missing] = computed
    else:
        first = next(iter(found.values()))
        rows = np.empty((len(items), *first.shape), dtype=first.dtype)
    for index, row in found.items():
        if row.shape != rows.shape[1:] or row.dtype != rows.dtype:
            raise RuntimeError(  # the key covers every setting: this is a bug, never a silent row
                f"feature cache row for item {index} has shape {row.shape} {row.dtype}, "
                f"expected {rows.shape[1:]} {rows.dtype}"
            )
        rows[index] = row
    stored = 0
    for position, index in enumerate(missing):
        if keys[index] is not None and index not in failures:
            cache.put(keys[index], computed[position])
            stored += 1
    cache._count(len(found), len(missing))
    if stored:
        cache._shrink()
    return rows, failures


def warn_nan_rows(messages, n_items, noun):
    """One UserWarning listing every item that became a row of NaN.

    Parameters
    ----------
    messages : sequence of str
        One message per failed item, each naming it (``"clip 3 ('a.wav'): ..."``).
    n_items : int
        Items in the call.
    noun : str
        What the items are, plural (``"clips"``, ``"images"``).
    """
    if messages:
        warnings.warn(
            f"{len(messages)} of {n_items} {noun} gave NaN features (on_error='nan'): "
            + "; ".join(messages),
            UserWarning,
            stacklevel=3,
        )
