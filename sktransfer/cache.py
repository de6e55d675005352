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

__all__ = ["FeatureCache"]

_MAGIC = b"SKTFC1\n"
_DIGEST = 32
_COUNTS = {}  # directory -> [hits, misses] of this process
_COUNTS_LOCK = threading.Lock()
_PROCESS_TOKEN = uuid.uuid4().hex[:8]


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
        The local folder where the rows live; created on first use. A URL
        (``"s3://..."``, ``"memory://..."``) is refused.
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
        if isinstance(directory, str) and "://" in directory:
            raise ValueError(
                f"FeatureCache takes a local folder, not the URL {directory!r}: object stores "
                "and other fsspec URLs are not supported; give a folder path"
            )
        self.directory = Path(directory).expanduser().absolute()
        self.max_bytes = max_bytes

    def __repr__(self):
        bound = "" if self.max_bytes is None else f", max_bytes={self.max_bytes}"
        return f"FeatureCache({str(self.directory)!r}{bound})"

    def __deepcopy__(self, memo):
        return self

    def __eq__(self, other):
        return (
            isinstance(other, FeatureCache)
            and other.directory == self.directory
            and other.max_bytes == self.max_bytes
        )

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
        payload = data[head + 2 * _DIGEST :]
        valid = (
            data[:head] == _MAGIC
            and data[head : head + _DIGEST] == key
            and data[head + _DIGEST : head + 2 * _DIGEST] == hashlib.sha256(payload).digest()
        )
        if valid:
            try:
                row = np.load(io.BytesIO(payload), allow_pickle=False)
            except ValueError:
                valid = False
        if not valid:
            warnings.warn(
                f"feature cache file {path} is damaged; it is deleted and the row recomputed",
                UserWarning,
                stacklevel=2,
            )
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
