"""Ordered map over items, in chunks across joblib workers, with a tqdm bar."""

import contextlib
import math
import os

from joblib import Parallel, delayed, effective_n_jobs
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm


def _blas_limit(blas_threads):
    if blas_threads is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=blas_threads, user_api="blas")


def _run_chunk(func, start, chunk, blas_threads, caller_pid):
    # BLAS limits are process-wide: threads of the caller share the limit the
    # caller set around the whole map; a worker process sets its own.
    in_worker_process = os.getpid() != caller_pid
    with _blas_limit(blas_threads if in_worker_process else None):
        return [func(start + offset, item) for offset, item in enumerate(chunk)]


def parallel_map(
    func, items, *, n_jobs=None, verbose=0, desc=None, blas_threads=None, prefer="processes"
):
    """``[func(i, item) for i, item in enumerate(items)]``, possibly in parallel.

    Parameters
    ----------
    func : callable ``(index, item) -> result``
        Picklable (a module-level function or a ``functools.partial`` of one)
        when ``n_jobs`` is not 1.
    items : sequence
    n_jobs : int or None
        joblib's convention: None means 1 unless inside a
        ``joblib.parallel_config`` context, -1 means all cores.
    verbose : int
        Show a tqdm progress bar when > 0.
    desc : str, optional
        Label of the progress bar.
    blas_threads : int or None
        Cap on BLAS threads while ``func`` runs, in this process and in every
        worker; None leaves BLAS as it is. A fixed cap makes floating-point
        results independent of ``n_jobs`` and of the machine's core count.
    prefer : {"processes", "threads"}
        joblib's soft hint for the backend; ``joblib.parallel_config`` wins.
        Threads suit work that releases the GIL (numpy, FFTs, numba nogil).

    Returns
    -------
    list, in the order of ``items``.

    Examples
    --------
    >>> parallel_map(lambda i, x: i * x, [1, 2, 3])
    [0, 2, 6]
    """
    n_items = len(items)
    n_jobs = min(effective_n_jobs(n_jobs), max(n_items, 1))
    results = []
    progress = tqdm(total=n_items, desc=desc, disable=not verbose, unit="item")
    with progress, _blas_limit(blas_threads):
        if n_jobs == 1:
            for index, item in enumerate(items):
                results.append(func(index, item))
                progress.update()
            return results
        # A few chunks per worker balance load while amortising dispatch.
        chunk_size = max(1, math.ceil(n_items / (4 * n_jobs)))
        tasks = (
            delayed(_run_chunk)(
                func, start, items[start : start + chunk_size], blas_threads, os.getpid()
            )
            for start in range(0, n_items, chunk_size)
        )
        parallel = Parallel(n_jobs=n_jobs, prefer=prefer, return_as="generator")
        for chunk_results in parallel(tasks):
            results.extend(chunk_results)
            progress.update(len(chunk_results))
    return results
