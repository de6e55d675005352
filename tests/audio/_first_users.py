"""Independent processes that use the audio path for the first time, all at once.

Run by tests/audio/test_first_use.py in spawned processes that share a fresh,
empty numba cache (``NUMBA_CACHE_DIR``). Each process first compiles a
different number of throwaway numba functions (as any program that used numba
before would), so that processes compiling the same function give its machine
code different symbol names, then waits at a barrier and imports and runs
sktransfer's audio features: the moment every process compiles librosa's and
sktransfer's cached numba functions.
"""

import numpy as np

BARRIER_TIMEOUT = 600
"""Seconds a process waits for its siblings at the barrier before failing (only when one died)."""


def compile_throwaway_functions(n):
    """Compile ``n`` uncached numba functions, advancing this process's symbol counter."""
    import numba

    for i in range(n):
        numba.njit(lambda x, i=i: x * 2 + i)(1.0)


def features(paths):
    """The 193 spectral features of ``paths``, shape (len(paths), 193)."""
    from sktransfer import AudioSpectralFeatures

    return AudioSpectralFeatures().fit_transform(paths)


def plain_user(barrier, n_throwaway, paths, out):
    """A script that computes the features of a few clips and saves them to ``out``."""
    compile_throwaway_functions(n_throwaway)
    barrier.wait(BARRIER_TIMEOUT)
    np.save(out, features(paths))


def grid_search_user(barrier, n_throwaway, paths, labels):
    """A loky grid search (2 workers) over a features + logistic regression pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    compile_throwaway_functions(n_throwaway)
    barrier.wait(BARRIER_TIMEOUT)
    from sktransfer import AudioSpectralFeatures

    model = make_pipeline(AudioSpectralFeatures(), LogisticRegression())
    search = GridSearchCV(model, {"logisticregression__C": [0.1, 1.0]}, cv=2, n_jobs=2)
    search.fit(paths, labels)
    # loky keeps its idle workers for minutes, and a process joins its children at exit.
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


def dask_user(barrier, n_throwaway, paths):
    """A Dask LocalCluster whose worker process computes the features."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.submit(compile_throwaway_functions, n_throwaway).result()
        barrier.wait(BARRIER_TIMEOUT)
        client.submit(features, paths).result()


def cache_uses_outside_the_lock(paths, out):
    """Run both audio extractors on ``paths`` with every numba cache load and save watched.

    Writes ``{"outside": [...], "inside": [...]}`` to ``out`` (JSON): the functions
    whose cache numba loaded or saved without and with sktransfer's inter-process
    lock held. Must run in a process that has not imported librosa yet.
    """
    import json
    import sys

    import numba.core.caching as caching

    from sktransfer import _numba_cache

    assert not any(name.startswith("librosa") for name in sys.modules)
    uses = {"outside": [], "inside": []}

    def watched(method):
        def call(self, *args, **kwargs):
            held = _numba_cache._file_lock().is_locked
            uses["inside" if held else "outside"].append(f"{method.__name__} {self._name}")
            return method(self, *args, **kwargs)

        return call

    caching.Cache.load_overload = watched(caching.Cache.load_overload)
    caching.Cache.save_overload = watched(caching.Cache.save_overload)
    from sktransfer import AudioSpectralFeatures, AudioSpectrogramImages

    AudioSpectralFeatures().fit_transform(paths)
    AudioSpectrogramImages().fit_transform(paths)
    with open(out, "w") as stream:
        json.dump(uses, stream)
