"""Spectral audio features (MFCC, chroma, mel, contrast, tonnetz) as a transformer."""

import hashlib
import os
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from .._extractor import ON_ERROR, FeatureExtractor
from .._items import check_items, describe_item
from .._parallel import parallel_map
from ..cache import FeatureCache
from ._io import check_waveform, clip_items, is_path, load_clip
from ._spectral import BLOCKS, analysis_filters, block_rows, spectral_blocks

STATS = {
    "mean": np.mean,
    "std": np.std,
    "min": np.min,
    "max": np.max,
}


def _clip_row(index, item, *, load_kw, block_kw, stats, on_error):
    """Feature vector of one clip, or the error message when ``on_error="nan"``."""
    try:
        y = load_clip(item, **load_kw)
    except ValueError as exc:
        message = f"{describe_item('clip', index, item)}: {exc}"
        if on_error == "raise":
            raise ValueError(message) from exc
        return message
    frames = spectral_blocks(y, **block_kw)
    # ``np.mean(block.T, axis=0)`` is how the reference recipe averages; the
    # same expression keeps the summation order, hence the same float32 digits.
    row = np.concatenate(
        [STATS[stat](block.T, axis=0) for block in frames.values() for stat in stats]
    ).astype(np.float32)
    if not np.all(np.isfinite(row)):
        message = f"{describe_item('clip', index, item)}: features are not finite"
        if on_error == "raise":
            raise ValueError(message)
        return message
    return row


def _check_in_memory_waveform(item):
    """ValueError if ``item`` is a waveform that cannot be a clip; paths are read later."""
    if not is_path(item):
        check_waveform(item)


def _clip_row_of_pair(_, pair, **kwargs):
    """``_clip_row`` of an (index, clip) pair, for a map over some of the clips."""
    return _clip_row(*pair, **kwargs)


class AudioSpectralFeatures(FeatureExtractor):
    """Summary statistics of five spectral descriptors of each audio clip.

    With the defaults, each clip becomes the 193 numbers of the widespread
    librosa recipe: the means over frames of 40 MFCCs, 12 chroma bins (STFT),
    128 mel bands, 7 spectral-contrast bands and 6 tonal-centroid (tonnetz)
    dimensions of the harmonic component. The numbers are the same as the
    recipe's, bit for bit in float32, computed several times faster: one shared
    STFT, filter banks built once rather than per clip, and an exact fast
    median filter for the harmonic/percussive separation. See ``docs/audio.md``
    for every block, its units and its columns.

    Parameters
    ----------
    sr : int, default=22050
        Sampling rate (Hz) every clip is resampled to before analysis.
    input_sr : int or None, default=None
        Sampling rate (Hz) of waveforms given as arrays; None means they are
        already at ``sr``. Files carry their own rate.
    blocks : tuple of str, default=("mfcc", "chroma", "mel", "contrast", "tonnetz")
        Which descriptors to compute, in output order.
    n_mfcc : int, default=40
        Number of MFCCs (at most ``n_mels``).
    n_mels : int, default=128
        Number of mel bands, for the "mel" block and under the MFCCs.
    n_fft : int, default=2048
        FFT window length in samples; clips shorter than this are rejected.
    hop_length : int, default=512
        Samples between successive frames.
    stats : tuple of str, default=("mean",)
        Statistics over frames, each adding one column per block row: any of
        "mean", "std", "min", "max".
    offset : float, default=0.0
        Seconds to skip at the start of every clip.
    duration : float or None, default=None
        Seconds to keep after ``offset``; None keeps the rest.
    n_jobs : int or None, default=None
        Clips processed in parallel by joblib (None: 1, -1: all cores). Threads
        by default, since the heavy steps release the GIL; processes inside
        ``joblib.parallel_config(backend="loky")``.
    verbose : int, default=0
        Show a progress bar when > 0.
    on_error : {"raise", "nan"}, default="raise"
        What an unusable clip (missing, corrupt, empty, silent, too short, NaN
        samples, wrong shape) does: raise a ``ValueError`` naming it, or give a
        row of NaN and one ``UserWarning`` listing every such clip.
    cache : None, str, path-like or FeatureCache, default=None
        Keep each clip's features on disk and look them up by the clip's
        content (a file's bytes, a waveform's samples) and the parameters
        above, so that grid searches, workers and later runs compute each
        clip once; see ``docs/performance.md``. None: no cache.

    Attributes
    ----------
    n_features_out_ : int
        Columns of the output: the rows of every block, times ``len(stats)``.
    feature_names_out_ : ndarray of str, shape (n_features_out_,)
        Column names, e.g. ``"mfcc_mean_0"``; see ``get_feature_names_out``.
    weights_sha256_ : str
        SHA-256 of the fixed analysis weights (the STFT window, the mel,
        chroma and DCT matrices and the tonnetz basis) that librosa gives
        for these parameters. A pickle refers to them, and a loaded
        estimator computes them again and raises a ``ValueError`` if they
        differ (another librosa release), rather than give other numbers.

    Notes
    -----
    Multi-channel files are mixed to mono by averaging channels. Files are
    decoded by soundfile (wav, flac, ogg, mp3, ...), then resampled with soxr,
    exactly as ``librosa.load``. BLAS runs on one thread per clip (clips run
    in parallel instead, see ``n_jobs``), so the numbers do not depend on
    ``n_jobs`` or on the number of cores.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(22050) / 22050
    >>> clips = np.stack([np.sin(2 * np.pi * f * t) for f in (220, 440)]).astype(np.float32)
    >>> features = AudioSpectralFeatures().fit(clips)
    >>> features.transform(clips).shape
    (2, 193)
    >>> features.get_feature_names_out()[:2].tolist()
    ['mfcc_mean_0', 'mfcc_mean_1']
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "input_sr": [Interval(Integral, 1, None, closed="left"), None],
        "blocks": [tuple, list],
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "n_fft": [Interval(Integral, 16, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "stats": [tuple, list],
        "offset": [Interval(Real, 0, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "on_error": [StrOptions(set(ON_ERROR))],
        "cache": [None, str, os.PathLike, FeatureCache],
    }

    _noun = "clip"
    _computing_modules = ("librosa", "numpy", "scipy")

    def __init__(
        self,
        *,
        sr=22050,
        input_sr=None,
        blocks=BLOCKS,
        n_mfcc=40,
        n_mels=128,
        n_fft=2048,
        hop_length=512,
        stats=("mean",),
        offset=0.0,
        duration=None,
        n_jobs=None,
        verbose=0,
        on_error="raise",
        cache=None,
    ):
        self.sr = sr
        self.input_sr = input_sr
        self.blocks = blocks
        self.n_mfcc = n_mfcc
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.stats = stats
        self.offset = offset
        self.duration = duration
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.cache = cache

    def _check_choices(self):
        for name, allowed in (("blocks", BLOCKS), ("stats", tuple(STATS))):
            chosen = getattr(self, name)
            unknown = [c for c in chosen if c not in allowed]
            if unknown or not chosen or len(set(chosen)) != len(chosen):
                raise ValueError(
                    f"{name} must be a non-empty selection without repeats from "
                    f"{allowed}, got {chosen!r}"
                )
        if self.n_mfcc > self.n_mels:
            raise ValueError(f"n_mfcc={self.n_mfcc} exceeds n_mels={self.n_mels}")
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

    def _load_weights(self, embedded):
        return analysis_filters(
            sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels, n_mfcc=self.n_mfcc
        )

    @staticmethod
    def _weights_digest(filters):
        digest = hashlib.sha256()
        for name in sorted(filters):
            value = np.ascontiguousarray(filters[name])
            digest.update(f"{name}{value.dtype.str}{value.shape}".encode())
            digest.update(value.tobytes())
        return digest.hexdigest()

    def _weights_source(self):
        return "librosa's filter banks"

    def _feature_names(self, weights):
        return [
            f"{block}_{stat}_{row}"
            for block in self.blocks
            for stat in self.stats
            for row in range(block_rows(block, n_mfcc=self.n_mfcc, n_mels=self.n_mels))
        ]

    def _load_settings(self):
        return dict(
            sr=self.sr,
            input_sr=self.input_sr or self.sr,
            offset=self.offset,
            duration=self.duration,
            min_samples=self.n_fft,
        )

    def _block_settings(self):
        return dict(
            sr=self.sr,
            blocks=tuple(self.blocks),
            n_mfcc=self.n_mfcc,
            n_mels=self.n_mels,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
        )

    def _output_settings(self):
        return {
            "load": self._load_settings(),
            "blocks": self._block_settings(),
            "stats": list(self.stats),
        }

    def _extract(self, clips, indices, weights):
        """Features of ``clips[indices]``: their rows, and failures by index."""
        row_of = partial(
            _clip_row_of_pair,
            load_kw=self._load_settings(),
            block_kw=self._block_settings(),
            stats=tuple(self.stats),
            on_error=self.on_error,
        )
        rows = parallel_map(
            row_of,
            [(int(i), clips[i]) for i in indices],
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            desc="audio features",
            blas_threads=1,
            prefer="threads",
        )
        out = np.full((len(rows), self.n_features_out_), np.nan, dtype=np.float32)
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
