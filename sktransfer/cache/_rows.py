"""The extractors' way into the cache: the rows of a list of items, stored or computed.

Here, inside the cache package, so that what ``FeatureCache`` keeps private
(``_rows_for``, which claims, computes, stores and waits) is called only by
its own package.
"""

import os

import numpy as np

from ._feature_cache import FeatureCache
from ._keys import hash_parts, item_digest


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
        stored. Rows that another process is computing at the same time are
        waited for, not computed twice (see ``FeatureCache``).
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
    keys = [
        None if (digest := item_digest(item, files=files)) is None else hash_parts(settings, digest)
        for item in items
    ]
    return cache._rows_for(keys, compute)
