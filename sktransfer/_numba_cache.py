"""One process at a time compiles the cached numba functions sktransfer runs.

numba writes a ``cache=True`` function's machine code to disk the first time a
process compiles it, and later processes load it from there. Two processes that
compile the same cached ``guvectorize`` function at once can leave a kernel file
(``name-line.pyXY.N.nbc``) and a wrapper file (``guf-name-line.pyXY.N.nbc``)
written by different processes; their symbol names differ, and every later
process that loads the pair calls a null pointer and dies with a segmentation
fault (numba issue 10128). librosa's ``guvectorize`` functions compile when
librosa's modules are imported, its ``jit`` functions and sktransfer's own on
first call. Independent processes starting together are what scale-out produces
(Dask and Ray workers, array jobs, parallel test workers), so:

- :func:`import_librosa` imports the librosa modules sktransfer uses (the
  modules themselves: librosa's packages load their modules lazily, on first
  use, which would compile outside the lock) while holding an inter-process
  file lock, ``sktransfer-numba.lock`` in the numba
  cache directory (``NUMBA_CACHE_DIR`` when set, otherwise librosa's
  ``__pycache__``), after checking librosa's ``guvectorize`` caches: a pair
  already written by two processes (by a program that did not take the lock) is
  deleted, with a warning, and compiled again; a pair that cannot be deleted is
  an error that names its files. Then the first compilation or cache load of
  each of librosa's lazily compiled cached functions takes the lock too.
- :func:`cached_njit` is ``numba.njit(cache=True, nogil=True)`` whose
  compilation or cache load (once per signature and process) holds the lock.

The lock is taken inside numba's own in-process compiler lock, so the two
never wait on each other in opposite orders. After the first use a process
runs the compiled code without any lock.
"""

import hashlib
import importlib
import importlib.util
import os
import re
import sys
import threading
import warnings
from contextlib import contextmanager

import filelock
import numba
from numba.core.compiler_lock import global_compiler_lock

LOCK_NAME = "sktransfer-numba.lock"
"""File name of the lock, in the numba cache directory."""

LIBROSA_MODULES = (
    "librosa.core.audio",
    "librosa.core.constantq",
    "librosa.core.notation",
    "librosa.core.pitch",
    "librosa.core.spectrum",
    "librosa.filters",
    "librosa.feature.spectral",
    "librosa.feature.utils",
    "librosa.effects",
    "librosa.decompose",
    "librosa.sequence",
    "librosa.util.utils",
)
"""The librosa modules sktransfer's audio extractors reach, imported under the lock.

Leaf modules, not packages: librosa's packages import their modules lazily, on
first attribute access, so importing ``librosa.core`` compiles nothing.
``tests/audio/test_first_use.py`` checks that every cache load and save of the
audio path happens under the lock.
"""

_state = threading.Lock()
_file_locks = {}
_librosa_imported = False


def cache_root():
    """The directory the lock lives in: numba's cache directory for librosa.

    ``NUMBA_CACHE_DIR`` when set (numba then caches every package there);
    otherwise librosa's ``__pycache__`` when it is writable, as numba's in-tree
    cache is; otherwise numba's per-user cache directory.
    """
    if numba.config.CACHE_DIR:
        return numba.config.CACHE_DIR
    spec = importlib.util.find_spec("librosa")
    in_tree = os.path.join(os.path.dirname(spec.origin), "__pycache__")
    try:
        os.makedirs(in_tree, exist_ok=True)
        if os.access(in_tree, os.W_OK):
            return in_tree
    except OSError:
        pass
    return _user_wide_root()


def _user_wide_root():
    from numba.misc.appdirs import AppDirs

    return AppDirs(appname="numba", appauthor=False).user_cache_dir


def _file_lock():
    root = cache_root()
    with _state:
        if root not in _file_locks:
            os.makedirs(root, exist_ok=True)
            _file_locks[root] = filelock.FileLock(os.path.join(root, LOCK_NAME))
        return _file_locks[root]


@contextmanager
def compile_lock():
    """Hold numba's in-process compiler lock, then the inter-process file lock.

    Re-entrant: a compilation that compiles what it calls takes it again.
    """
    with global_compiler_lock, _file_lock():
        yield


def _guard(dispatcher):
    """``dispatcher`` whose compilations and cache loads hold :func:`compile_lock`."""
    compile_unlocked = dispatcher.compile

    def compile(sig):
        with compile_lock():
            return compile_unlocked(sig)

    dispatcher.compile = compile
    return dispatcher


def cached_njit(function):
    """``numba.njit(cache=True, nogil=True)`` compiled (or loaded) under :func:`compile_lock`.

    Examples
    --------
    >>> from sktransfer.text._pooling import _max
    >>> "compile" in vars(_max)  # its compilations and cache loads hold compile_lock
    True
    """
    return _guard(numba.njit(cache=True, nogil=True)(function))


def import_librosa():
    """Import :data:`LIBROSA_MODULES` under :func:`compile_lock`, once per process.

    Checks librosa's ``guvectorize`` caches first (:func:`repair_gufunc_caches`)
    and guards librosa's lazily compiled cached functions afterwards. A
    process that imported librosa before sktransfer has compiled without the
    lock; its lazily compiled functions are still guarded from here on.
    """
    global _librosa_imported
    if _librosa_imported:
        return
    with compile_lock():
        if _librosa_imported:
            return
        spec = importlib.util.find_spec("librosa")
        package = os.path.dirname(spec.origin)
        sources = [package, *(os.path.join(package, name) for name in ("core", "util", "feature"))]
        repair_gufunc_caches(_cache_directories(sources))
        for name in LIBROSA_MODULES:
            importlib.import_module(name)
        for module in [m for name, m in sys.modules.items() if name.startswith("librosa.")]:
            for value in list(vars(module).values()):
                if _is_lazy_cached(value):
                    _guard(value)
        _librosa_imported = True


def _is_lazy_cached(value):
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher

    return (
        isinstance(value, CPUDispatcher)
        and not isinstance(value._cache, NullCache)
        and "compile" not in vars(value)  # not guarded yet
    )


def _cache_directories(sources):
    """Where numba may keep the cache of modules in each directory of ``sources``."""
    directories = []
    for source in sources:
        source = os.path.abspath(source)
        # numba's rule for a directory's place in a cache root (its name and a SHA-1 of its path)
        subpath = f"{os.path.basename(source)}_{hashlib.sha1(source.encode()).hexdigest()}"
        directories.append(os.path.join(source, "__pycache__"))
        if numba.config.CACHE_DIR:
            directories.append(os.path.join(numba.config.CACHE_DIR, subpath))
        directories.append(os.path.join(_user_wide_root(), subpath))
    return [d for d in directories if os.path.isdir(d)]


_WRAPPER_INDEX = re.compile(r"guf-(?P<stem>[^.]+\.(?P<name>.+)-\d+\.py\d+)\.nbi")


def broken_gufunc_caches(directory):
    """The cache files of each ``guvectorize`` function whose wrapper and kernel disagree.

    A wrapper calls its kernel by a symbol name that carries the kernel's ABI
    tag (``B4v116``); when the wrapper file names a tag that no kernel file of
    the function defines, the two come from different processes, and loading
    them segfaults. Returns a list of lists of paths (one list per function).
    """
    broken = []
    try:
        names = os.listdir(directory)
    except OSError:
        return broken
    for entry in names:
        match = _WRAPPER_INDEX.fullmatch(entry)
        if match is None:
            continue
        stem, name = match["stem"], match["name"].rsplit(".", 1)[-1]
        tag = re.compile(rb"%d%sB\d+(v\d+)" % (len(name), re.escape(name.encode())))
        wrappers = [n for n in names if n.startswith(f"guf-{stem}.") and n.endswith(".nbc")]
        kernels = [n for n in names if n.startswith(f"{stem}.") and n.endswith(".nbc")]
        called = set().union(*(_tags(directory, n, tag) for n in wrappers))
        defined = set().union(*(_tags(directory, n, tag) for n in kernels))
        if called - defined:
            files = [n for n in names if n.startswith((f"guf-{stem}.", f"{stem}."))]
            broken.append(sorted(os.path.join(directory, n) for n in files))
    return broken


def _tags(directory, name, pattern):
    try:
        with open(os.path.join(directory, name), "rb") as file:
            return set(pattern.findall(file.read()))
    except OSError:
        return set()


def repair_gufunc_caches(directories):
    """Delete the files :func:`broken_gufunc_caches` finds, so that numba compiles them again.

    Warns (``RuntimeWarning``) naming what it deleted; raises ``RuntimeError``
    naming the files when it cannot delete them.
    """
    for directory in directories:
        for files in broken_gufunc_caches(directory):
            try:
                for path in files:
                    if os.path.exists(path):
                        os.remove(path)
            except OSError as error:
                raise RuntimeError(
                    "numba's cache of a guvectorize function was written by two processes "
                    "at once (numba issue 10128) and would crash this process; it could not "
                    f"be deleted ({error}). Delete these files: {' '.join(files)}"
                ) from error
            warnings.warn(
                "numba's cache of a guvectorize function had been written by two processes "
                "at once (numba issue 10128) and would have crashed this process; deleted "
                f"{', '.join(files)} to compile it again.",
                RuntimeWarning,
                stacklevel=3,
            )
