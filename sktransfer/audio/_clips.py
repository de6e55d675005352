"""What every clip extractor shares: reading clips, their errors, filter banks as weights.

``AudioSpectralFeatures`` (a row of summary statistics per clip) and
``AudioSpectrogramImages`` (a log-mel image per clip) differ only in what
they compute from a loaded clip. Everything before that (paths or waveforms,
resampling, the refusals of empty, silent, NaN, undecodable, missing and
too-short clips, ``on_error``, parallel clips) and the checksum of their
fixed filter banks lives here once, so that both refuse the same clips with
the same messages.
"""

import os
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from .._extractor import ON_ERROR
from .._items import check_items, describe_item
from ..cache import FeatureCache
from ..cache._keys import array_digest
from ._io import check_waveform, clip_items, is_path, load_clip
from ._parallel import parallel_map

CLIP_PARAMETER_CONSTRAINTS = {
    "sr": [Interval(Integral, 1, None, closed="left")],
    "input_sr": [Interval(Integral, 1, None, closed="left"), None],
    "n_mels": [Interval(Integral, 1, None, closed="left")],
    "n_fft": [Interval(Integral, 16, None, closed="left")],
    "hop_length": [Interval(Integral, 1, None, closed="left")],
    "offset": [Interval(Real, 0, None, closed="left")],
    "duration": [Interval(Real, 0, None, closed="neither"), None],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
    "on_error": [StrOptions(set(ON_ERROR))],
    "cache": [None, str, os.PathLike, FeatureCache],
}
"""The constraints of the parameters every clip extractor has."""


def _clip_row(index, item, *, load_kw, compute, on_error):
    """``compute`` of one loaded clip, or the error message when ``on_error="nan"``."""
    try:
        y = load_clip(item, **load_kw)
    except ValueError as exc:
        message = f"{describe_item('clip', index, item)}: {exc}"
        if on_error == "raise":
            raise ValueError(message) from exc
        return message
    row = compute(y)
    if not np.all(np.isfinite(row)):
        message = f"{describe_item('clip', index, item)}: features are not finite"
        if on_error == "raise":
            raise ValueError(message)
        return message
    return row


def _clip_row_of_pair(_, pair, **kwargs):
    """``_clip_row`` of an (index, clip) pair, for a map over some of the clips."""
    return _clip_row(*pair, **kwargs)


def _check_in_memory_waveform(item):
    """ValueError if ``item`` is a waveform that cannot be a clip; paths are read later."""
    if not is_path(item):
        check_waveform(item)


class ClipExtractor:
    """Mixin of the clip extractors, placed before ``FeatureExtractor`` in the bases.

    A subclass implements ``_check_choices`` (parameter values that depend on
    each other), ``_load_weights``, ``_clip_function(weights)`` (a picklable
    callable from a loaded clip to its float32 row) and ``_row_shape()``.
    """

    _noun = "clip"
    _sktransfer_modality = "audio"
    _computing_modules = ("librosa", "numpy", "scipy")
    _progress_label = "audio features"

    def _check_choices(self):
        if self.hop_length > self.n_fft:
            raise ValueError(f"hop_length={self.hop_length} exceeds n_fft={self.n_fft}")

    def _numeric_items(self, X):
        return clip_items(X)

    def _check_item(self, item):
        is_path(item)

    def _fit_weights(self, items):
        self._check_choices()
        if self.on_error == "raise":  # what can be checked without reading files
            check_items(items, self._noun, _check_in_memory_waveform)
        return self._load_weights(None), None

    _weights_digest = staticmethod(array_digest)

    def _weights_source(self):
        return "librosa's filter banks"

    def _load_settings(self):
        return dict(
            sr=self.sr,
            input_sr=self.input_sr or self.sr,
            offset=self.offset,
            duration=self.duration,
            min_samples=self.n_fft,
        )

    def _extract(self, clips, indices, weights):
        """Rows of ``clips[indices]``, and failures by index."""
        row_of = partial(
            _clip_row_of_pair,
            load_kw=self._load_settings(),
            compute=self._clip_function(weights),
            on_error=self.on_error,
        )
        rows = parallel_map(
            row_of,
            [(int(i), clips[i]) for i in indices],
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            desc=self._progress_label,
            blas_threads=1,
            prefer="threads",
        )
        out = np.full((len(rows), *self._row_shape()), np.nan, dtype=np.float32)
        failures = {}
        for position, row in enumerate(rows):
            if isinstance(row, str):
                failures[int(indices[position])] = row
            else:
                out[position] = row
        return out, failures

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
