"""A feature cache on disk: each item's features, computed once.

Feature extraction with a frozen network is a pure function of the item and
of the extractor's settings, so its rows can be kept and reused by every fold
and candidate of a grid search, by every process of ``n_jobs``, and by the next
run. A row's key is the hash of

- the item's content: a file's bytes (not its path, so a file edited in place
  is a new item), an array's dtype, shape and bytes, a PIL image's mode, size
  and pixels, a text's characters;
- everything that shapes its features: the extractor's class and
  output-affecting parameters, its fitted state (the network's weights, the
  word vectors), and the versions of sktransfer and of the library that
  computes the features.

Each row is one file holding its key and a checksum of its bytes, written to
a temporary file and renamed into place, so concurrent writers never expose a
partial row and a damaged or foreign file is detected, deleted and recomputed
rather than returned.
"""

import hashlib
import io
import json
import os
import threading
import uuid
import warnings
from pathlib import Path

import numpy as np

_MAGIC = b"SKTFC1\n"
_DIGEST = 32
_COUNTS = {}  # directory -> [hits, misses] of this process
_COUNTS_LOCK = threading.Lock()
_PROCESS_TOKEN = uuid.uuid4().hex[:8]


def _hash(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


def _file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def item_digest(item, *, files=True):
    """Hash of one item's content, or None when it cannot be read.

    Parameters
    ----------
    item : path, str, bytes, ndarray, PIL image, sequence of str, or tuple of these
        With ``files=True`` a ``str`` or path-like is a file, hashed by its
        bytes; with ``files=False`` a ``str`` is text.
    files : bool, default=True

    Returns
    -------
    bytes or None
        32 bytes; None for a file that cannot be read (no row is cached for it).

    Examples
    --------
    >>> import numpy as np
    >>> item_digest(np.zeros(3)) == item_digest(np.zeros(3, dtype=np.float32))
    False
    >>> item_digest("good", files=False) == item_digest("good", files=False)
    True
    """
    if isinstance(item, (str, os.PathLike)) and (files or not isinstance(item, str)):
        try:
            return _hash(b"file", _file_digest(item))
        except OSError:
            return None
    if isinstance(item, str):
        return _hash(b"text", item.encode("utf-8", "surrogatepass"))
    if isinstance(item, bytes):
        return _hash(b"bytes", item)
    if isinstance(item, np.ndarray) or hasattr(item, "__array_interface__") and not hasattr(item, "mode"):
        array = np.ascontiguousarray(item)
        if array.dtype.hasobject:
            return _hash(b"objects", *(item_digest(x, files=files) or b"?" for x in array.ravel()),
                         str(array.shape).encode())
        return _hash(b"array", array.dtype.str.encode(), str(array.shape).encode(), array.tobytes())
    if hasattr(item, "mode") and hasattr(item, "tobytes"):  # a PIL image
        return _hash(b"pil", item.mode.encode(), str(item.size).encode(), item.tobytes())
    if isinstance(item, (list, tuple)):
        parts = [item_digest(x, files=files) for x in item]
        return None if None in parts else _hash(b"sequence", *parts)
    return _hash(b"repr", type(item).__qualname__.encode(), repr(item).encode())


def module_versions(*modules):
    """``{"sktransfer": version, module: version, ...}``, for cache keys.

    The Keras backend's version is added when ``"keras"`` is asked for.
    """
    import importlib

    from . import __version__

    if "keras" in modules:
        import keras

        modules = (*modules, keras.backend.backend())
    versions = {"sktransfer": __version__}
    for name in modules:
        versions[name] = getattr(importlib.import_module(name), "__version__", "unknown")
    return versions


def settings_digest(settings):
    """Hash of a JSON-able description of what shapes an extractor's output."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return _hash(b"settings", text.encode())


class FeatureCache:
    """Features of items on disk, shared by estimators, processes and runs.

    Give it (or just its directory) as an extractor's ``cache`` parameter.
    Rows are looked up before extraction and stored after it; see
    ``docs/performance.md``. An object is a handle on its directory:
    ``clone`` and ``copy.deepcopy`` return the same object, and a pickled one
    (sent to a worker process) opens the same directory.

    Parameters
    ----------
    directory : str or path-like
        Where the rows live; created on first use.
    max_bytes : int or None, default=None
        Bound on the total size of the stored rows. After each extraction
        that stored rows, the least recently used rows are deleted until the
        cache fits. None: no bound.

    Attributes
    ----------
    hits, misses : int
        Rows found and rows computed by this process since it started, for
        every ``FeatureCache`` on this directory. ``stats()`` adds up every
        process.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sktransfer import AudioSpectralFeatures
    >>> cache = FeatureCache(tempfile.mkdtemp())
    >>> clips = list(np.random.default_rng(0).standard_normal((2, 4096)))
    >>> features = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(clips)
    >>> first, again = features.transform(clips), features.transform(clips)
    >>> bool((first == again).all()), cache.hits, cache.misses
    (True, 2, 2)
    """

    def __init__(self, directory, max_bytes=None):
        if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes <= 0):
            raise ValueError(f"max_bytes must be a positive int or None, got {max_bytes!r}")
        self.directory = Path(directory).expanduser().absolute()
        self.max_bytes = max_bytes

    def __repr__(self):
        bound = "" if self.max_bytes is None else f", max_bytes={self.max_bytes}"
        return f"FeatureCache({str(self.directory)!r}{bound})"

    def __deepcopy__(self, memo):
        return self

    def __eq__(self, other):
        return (isinstance(other, FeatureCache) and other.directory == self.directory
                and other.max_bytes == self.max_bytes)

    def __hash__(self):
        return hash((self.directory, self.max_bytes))

    # -- counters --------------------------------------------------------------------

    def _counts(self):
        with _COUNTS_LOCK:
            return _COUNTS.setdefault(str(self.directory), [0, 0])

    @property
    def hits(self):
        return self._counts()[0]

    @property
    def misses(self):
        return self._counts()[1]

    def _count(self, hits, misses):
        counts = self._counts()
        with _COUNTS_LOCK:
            counts[0] += hits
            counts[1] += misses
            record = {"hits": counts[0], "misses": counts[1]}
        path = self.directory / "stats" / f"{os.getpid()}-{_PROCESS_TOKEN}.json"
        self._write_atomic(path, json.dumps(record).encode())

    def stats(self):
        """Hits and misses of every process that used this directory, and its size.

        Returns
        -------
        dict
            ``hits``, ``misses`` (summed over processes), ``rows`` and
            ``bytes`` (what is stored now).
        """
        hits = misses = 0
        for path in (self.directory / "stats").glob("*.json"):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            hits += record["hits"]
            misses += record["misses"]
        rows = [size for _, size, _ in self._rows()]
        return {"hits": hits, "misses": misses, "rows": len(rows), "bytes": sum(rows)}

    def clear(self):
        """Delete every stored row and the counters."""
        for path, _, _ in self._rows():
            path.unlink(missing_ok=True)
        for path in (self.directory / "stats").glob("*.json"):
            path.unlink(missing_ok=True)
        with _COUNTS_LOCK:
            _COUNTS.pop(str(self.directory), None)

    # -- rows ------------------------------------------------------------------------

    def _path(self, key):
        name = key.hex()
        return self.directory / "rows" / name[:2] / f"{name}.row"

    def _rows(self):
        """(path, size, last use) of every stored row."""
        found = []
        root = self.directory / "rows"
        if not root.is_dir():
            return found
        for shard in os.scandir(root):
            if not shard.is_dir():
                continue
            for entry in os.scandir(shard.path):
                if entry.name.endswith(".row"):
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:  # deleted by another process meanwhile
                        continue
                    found.append((Path(entry.path), stat.st_size, stat.st_mtime_ns))
        return found

    @staticmethod
    def _write_atomic(path, data):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def get(self, key):
        """The stored row of ``key`` (32 bytes), or None; a damaged file is deleted.

        Returns
        -------
        ndarray or None
        """
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head = len(_MAGIC)
        payload = data[head + 2 * _DIGEST:]
        valid = (
            data[:head] == _MAGIC
            and data[head:head + _DIGEST] == key
            and data[head + _DIGEST:head + 2 * _DIGEST] == hashlib.sha256(payload).digest()
        )
        if valid:
            try:
                row = np.load(io.BytesIO(payload), allow_pickle=False)
            except ValueError:
                valid = False
        if not valid:
            warnings.warn(f"feature cache file {path} is damaged; it is deleted and the row "
                          "recomputed", UserWarning, stacklevel=2)
            path.unlink(missing_ok=True)
            return None
        try:
            os.utime(path)  # least recently used goes first when the cache is bounded
        except OSError:
            pass
        return row

    def put(self, key, row):
        """Store ``row`` (an ndarray) under ``key`` (32 bytes)."""
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(row), allow_pickle=False)
        payload = buffer.getvalue()
        self._write_atomic(
            self._path(key), _MAGIC + key + hashlib.sha256(payload).digest() + payload
        )

    def _shrink(self):
        """Delete the least recently used rows until the cache fits ``max_bytes``."""
        if self.max_bytes is None:
            return
        rows = self._rows()
        total = sum(size for _, size, _ in rows)
        for path, size, _ in sorted(rows, key=lambda row: row[2]):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size


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
