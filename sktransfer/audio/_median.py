"""Exact running median filters along one axis of a spectrogram.

``scipy.ndimage.median_filter(S, size=(1, k), mode="reflect")`` (and its
``(k, 1)`` twin) dominates harmonic/percussive separation. A median is an
order statistic: any algorithm that picks the same element of the same window
returns the same number, bit for bit. Here a sorted window of ``k`` values
slides along each row; each step replaces the outgoing value with the incoming
one and shifts it into place, instead of re-selecting from scratch.
"""

import numpy as np

from .._numba_cache import cached_njit


@cached_njit
def _reflect_index(i, n):
    """Index ``i`` folded into ``[0, n)`` like ndimage's ``mode="reflect"``."""
    period = 2 * n
    i = i % period
    if i >= n:
        i = period - 1 - i
    return i


@cached_njit
def _median_filter_rows(x, size, out):
    n_rows, n = x.shape
    half = size // 2
    window = np.empty(size, dtype=x.dtype)
    for r in range(n_rows):
        row = x[r]
        for j in range(size):
            window[j] = row[_reflect_index(j - half, n)]
        window.sort()
        out[r, 0] = window[half]
        for i in range(1, n):
            old = row[_reflect_index(i - 1 - half, n)]
            new = row[_reflect_index(i + half, n)]
            pos = np.searchsorted(window, old)
            if new > old:
                while pos + 1 < size and window[pos + 1] < new:
                    window[pos] = window[pos + 1]
                    pos += 1
            else:
                while pos > 0 and window[pos - 1] > new:
                    window[pos] = window[pos - 1]
                    pos -= 1
            window[pos] = new
            out[r, i] = window[half]


def median_filter(S, size, axis):
    """Median of each length-``size`` window along ``axis`` of a 2-D array.

    Equal to ``scipy.ndimage.median_filter(S, size=shape, mode="reflect")``
    where ``shape`` is ``size`` on ``axis`` and 1 elsewhere.

    Parameters
    ----------
    S : ndarray of shape (n_rows, n_cols), real floating point, finite
    size : int
        Odd window length.
    axis : {0, 1, -1, -2}
        Axis to filter along.

    Returns
    -------
    ndarray of the same shape and dtype as ``S``.

    Examples
    --------
    >>> import numpy as np
    >>> median_filter(np.array([[3.0, 1.0, 2.0, 5.0]]), size=3, axis=1)
    array([[3., 2., 2., 5.]])
    """
    S = np.asarray(S)
    if S.ndim != 2:
        raise ValueError(f"median_filter expects a 2-D array, got shape {S.shape}")
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd integer, got {size}")
    rows = np.ascontiguousarray(S if axis in (1, -1) else S.T)
    out = np.empty_like(rows)
    _median_filter_rows(rows, size, out)
    return out if axis in (1, -1) else np.ascontiguousarray(out.T)
