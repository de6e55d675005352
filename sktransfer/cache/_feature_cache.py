"""A feature cache on disk or in object storage: each item's features, computed once.

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

Workers that miss the same row at the same time would all compute it. So a
worker first *claims* each row it is about to compute (a marker created only
if absent, next to the rows); a worker that finds a row claimed computes its
own rows, then waits for the claimed ones and reads them. A claim whose owner
died (a process of this machine that no longer runs) or that is older than
``claim_timeout`` is taken over, so a killed worker never blocks the others.
"""

import hashlib
import io
import json
import os
import socket
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path

import numpy as np

from ._store import open_store

__all__ = ["FeatureCache"]

_MAGIC = b"SKTFC1\n"
_DIGEST = 32
_COUNTS = {}  # location -> [hits, misses] of this process
_COUNTS_LOCK = threading.Lock()
_PROCESS_TOKEN = uuid.uuid4().hex[:8]
_HOST = socket.gethostname()
_STORES = {}  # (location, options) -> store checked by this process


def _process_alive(pid):
    """Whether process ``pid`` of this machine runs (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def _leave_dask_thread_pool():
    """In a Dask worker's task, give the task's thread back to the worker; True if done.

    A task that waits for a row would otherwise hold a thread that the row's
    owner may need: under joblib's dask backend, the owner's extraction runs
    its own nested tasks on the same workers.
    """
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    distributed.secede()
    return True


class FeatureCache:
    """Features of items in a folder or object store, shared by estimators, processes and runs.

    Give it (or just its location) as an extractor's ``cache`` parameter.
    Rows are looked up before extraction and stored after it; see
    ``docs/performance.md`` and ``docs/scaling.md``. An object is a handle on
    its location: ``clone`` and ``copy.deepcopy`` return the same object, and
    a pickled one (sent to a worker process or machine) opens the same place.

    Parameters
    ----------
    directory : str or path-like
        Where the rows live: a local folder (created on first use), a
        ``file://`` URL, or any fsspec URL (``"s3://bucket/prefix"``,
        ``"gs://..."``, ``"abfs://..."``, ``"memory://name"``) whose file system
        package (s3fs, gcsfs, adlfs) is installed. Reaching it is checked once
        per process, before anything is extracted.
    max_bytes : int or None, default=None
        Bound on the total size of the stored rows. After each extraction
        that stored rows, the least recently used rows (in object stores: the
        oldest written) are deleted until the cache fits. None: no bound.
    storage_options : dict or None, default=None
        Passed to the fsspec file system of a URL (credentials, endpoint,
        retries); not allowed with a local folder.
    claim_timeout : float, default=600.0
        Seconds after which another worker takes over a row's claim (see
        ``docs/scaling.md``). A claim by a process of this machine that no
        longer runs is taken over at once.

    Attributes
    ----------
    hits, misses : int
        Rows found and rows computed by this process since it started, for
        every ``FeatureCache`` on this location. ``stats()`` adds up every
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

    def __init__(self, directory, *, max_bytes=None, storage_options=None, claim_timeout=600.0):
        if max_bytes is not None and (not isinstance(max_bytes, int) or max_bytes <= 0):
            raise ValueError(f"max_bytes must be a positive int or None, got {max_bytes!r}")
        if not isinstance(claim_timeout, (int, float)) or not claim_timeout > 0:
            raise ValueError(f"claim_timeout must be a positive number, got {claim_timeout!r}")
        if isinstance(directory, str) and directory.startswith("file://"):
            directory = directory[len("file://") :]
        if isinstance(directory, str) and "://" in directory:
            self.directory = directory.rstrip("/")
        elif storage_options is not None:
            raise ValueError(
                f"storage_options apply to fsspec URLs, not to the local folder {directory!r}"
            )
        else:
            self.directory = Path(directory).expanduser().absolute()
        self.max_bytes = max_bytes
        self.storage_options = storage_options
        self.claim_timeout = claim_timeout

    def __repr__(self):
        extra = "" if self.max_bytes is None else f", max_bytes={self.max_bytes}"
        if self.storage_options is not None:
            extra += f", storage_options={self.storage_options!r}"
        return f"FeatureCache({str(self.directory)!r}{extra})"

    def __deepcopy__(self, memo):
        return self

    def _identity(self):
        options = json.dumps(self.storage_options, sort_keys=True, default=str)
        return (str(self.directory), self.max_bytes, options, self.claim_timeout)

    def __eq__(self, other):
        return isinstance(other, FeatureCache) and other._identity() == self._identity()

    def __hash__(self):
        return hash(self._identity())

    def _store(self):
        """This location's store, checked once per process: unreachable is an OSError naming it."""
        identity = self._identity()[::2]
        store = _STORES.get(identity)
        if store is None:
            store = open_store(self.directory, self.storage_options)
            store.check()
            _STORES[identity] = store
        return store

    def _where(self, name):
        return f"{self.directory}/{name}"

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
        name = f"stats/{_HOST}-{os.getpid()}-{_PROCESS_TOKEN}.json"
        self._store().write(name, json.dumps(record).encode())

    def stats(self):
        """Hits and misses of every process that used this location, and its size.

        Returns
        -------
        dict
            ``hits``, ``misses`` (summed over processes), ``rows`` and
            ``bytes`` (what is stored now).
        """
        store = self._store()
        hits = misses = 0
        for name, _, _ in store.listing("stats", ".json"):
            try:
                record = json.loads(store.read(name) or b"")
            except ValueError:
                continue
            hits += record["hits"]
            misses += record["misses"]
        rows = [size for _, size, _ in self._rows()]
        return {"hits": hits, "misses": misses, "rows": len(rows), "bytes": sum(rows)}

    def clear(self):
        """Delete every stored row, claim and the counters."""
        store = self._store()
        for folder, suffix in (("rows", ".row"), ("stats", ".json"), ("claims", ".claim")):
            for name, _, _ in store.listing(folder, suffix):
                store.delete(name)
        with _COUNTS_LOCK:
            _COUNTS.pop(str(self.directory), None)

    # -- rows ------------------------------------------------------------------------

    @staticmethod
    def _name(key):
        name = key.hex()
        return f"rows/{name[:2]}/{name}.row"

    def _rows(self):
        """(name, size, last use) of every stored row."""
        return self._store().listing("rows", ".row")

    def get(self, key):
        """The stored row of ``key`` (32 bytes), or None; a damaged file is deleted.

        Returns
        -------
        ndarray or None
        """
        store, name = self._store(), self._name(key)
        data = store.read(name)
        if data is None:
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
                f"feature cache file {self._where(name)} is damaged; it is deleted and the row "
                "recomputed",
                UserWarning,
                stacklevel=2,
            )
            store.delete(name)
            return None
        store.touch(name)  # least recently used goes first when the cache is bounded
        return row

    def put(self, key, row):
        """Store ``row`` (an ndarray) under ``key`` (32 bytes)."""
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(row), allow_pickle=False)
        payload = buffer.getvalue()
        self._store().write(
            self._name(key), _MAGIC + key + hashlib.sha256(payload).digest() + payload
        )

    def _shrink(self):
        """Delete the least recently used rows until the cache fits ``max_bytes``."""
        if self.max_bytes is None:
            return
        rows = self._rows()
        total = sum(size for _, size, _ in rows)
        for name, size, _ in sorted(rows, key=lambda row: row[2]):
            if total <= self.max_bytes:
                break
            self._store().delete(name)
            total -= size

    # -- claims: one worker computes a missing row, the others wait for it -------------

    @staticmethod
    def _claim_name(key):
        return f"claims/{key.hex()}.claim"

    def _claim(self, key):
        """Claim ``key``'s row for this process; False when another holds the claim."""
        owner = {"host": _HOST, "pid": os.getpid(), "time": time.time()}
        return self._store().create(self._claim_name(key), json.dumps(owner).encode())

    def _release(self, key):
        self._store().delete(self._claim_name(key))

    def _take_over(self, key):
        """Claim a row whose claim is gone or stale (owner dead or too old); True if claimed."""
        data = self._store().read(self._claim_name(key))
        if data is not None:
            try:
                owner = json.loads(data)
            except ValueError:  # unreadable claim: nobody can own it
                owner = {"time": 0}
            dead = owner.get("host") == _HOST and not _process_alive(owner.get("pid", 0))
            if not dead and time.time() - owner["time"] < self.claim_timeout:
                return False
            self._release(key)
        return self._claim(key)

    def _acquire(self, key, take_over):
        """Claim ``key``'s missing row: True if claimed, False if another process holds it,
        or the row itself when it was stored meanwhile (by an owner that just finished)."""
        row = self.get(key) if take_over else None
        if row is not None:
            return row
        if not (self._take_over(key) if take_over else self._claim(key)):
            return False
        row = self.get(key)
        if row is None:
            return True
        self._release(key)
        return row

    def _compute_and_store(self, keys, indices, compute, rows, failures):
        """Compute ``indices`` (claimed or uncacheable), store their rows, release the claims."""
        try:
            computed, failed = compute(np.asarray(indices, dtype=np.intp))
            failures.update(failed)
            stored = 0
            for position, index in enumerate(indices):
                rows[index] = computed[position]
                if keys[index] is not None and index not in failed:
                    self.put(keys[index], computed[position])
                    stored += 1
        finally:
            for index in indices:
                if keys[index] is not None:
                    self._release(keys[index])
        return stored

    def _rows_for(self, keys, compute):
        """Rows of every key: stored, computed here under a claim, or waited for.

        Parameters
        ----------
        keys : list of bytes or None
            One per item; None marks an item that cannot be cached.
        compute : callable ``(indices) -> (rows, failures)``
            See ``sktransfer.cache._rows.cached_rows``.

        Returns
        -------
        rows : ndarray of shape (len(keys), ...)
        failures : dict of int -> str
        """
        first_of, same_as = {}, {}
        for index, key in enumerate(keys):
            if key is not None:
                same_as[index] = first_of.setdefault(key, index)
        rows, found = {}, set()
        for key, index in first_of.items():
            row = self.get(key)
            if row is not None:
                rows[index] = row
                found.add(index)
        own = [index for index, key in enumerate(keys) if key is None]
        waiting = [index for index in first_of.values() if index not in rows]
        failures, computed, stored, delay, seceded = {}, 0, 0, 0.05, False
        take_over = False
        while own or waiting:
            still = []
            for index in waiting:
                outcome = self._acquire(keys[index], take_over)
                if outcome is True:
                    own.append(index)
                elif outcome is False:
                    still.append(index)
                else:
                    rows[index] = outcome
                    found.add(index)
            waiting, take_over = still, True
            if own:
                stored += self._compute_and_store(keys, sorted(own), compute, rows, failures)
                computed += len(own)
                own = []
            elif waiting:
                seceded = seceded or _leave_dask_thread_pool()
                time.sleep(delay)
                delay = min(1.5 * delay, 1.0)
        if seceded:
            sys.modules["distributed"].rejoin()
        out = self._assemble(rows, found, same_as, failures, len(keys))
        self._count(len(keys) - computed, computed)
        if stored:
            self._shrink()
        return out, failures

    @staticmethod
    def _assemble(rows, found, same_as, failures, n_items):
        computed = [index for index in rows if index not in found]
        like = rows[computed[0] if computed else next(iter(rows))]
        out = np.empty((n_items, *like.shape), dtype=like.dtype)
        for index, row in rows.items():
            if index in found and (row.shape != like.shape or row.dtype != like.dtype):
                raise RuntimeError(  # the key covers every setting: a bug, never a silent row
                    f"feature cache row for item {index} has shape {row.shape} {row.dtype}, "
                    f"expected {like.shape} {like.dtype}"
                )
            out[index] = row
        for index, first in same_as.items():
            if index != first:
                out[index] = out[first]
                if first in failures:
                    failures[index] = failures[first]
        return out
