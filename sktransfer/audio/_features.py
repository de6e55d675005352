"""Spectral audio features (MFCC, chroma, mel, contrast, tonnetz) as a transformer."""

from functools import partial
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

from .._extractor import FeatureExtractor
from .._source_models import ExportedOnnx
from ._clips import CLIP_PARAMETER_CONSTRAINTS, ClipExtractor
from ._spectral import BLOCKS, analysis_filters, block_rows, spectral_blocks

STATS = {
    "mean": np.mean,
    "std": np.std,
    "min": np.min,
    "max": np.max,
}


def _summary_row(y, *, block_kw, stats):
    """The statistics over frames of every spectral block of one loaded clip."""
    frames = spectral_blocks(y, **block_kw)
    # ``np.mean(block.T, axis=0)`` is how the reference recipe averages; the
    # same expression keeps the summation order, hence the same float32 digits.
    return np.concatenate(
        [STATS[stat](block.T, axis=0) for block in frames.values() for stat in stats]
    ).astype(np.float32)


class AudioSpectralFeatures(ClipExtractor, FeatureExtractor):
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
        **CLIP_PARAMETER_CONSTRAINTS,
        "blocks": [tuple, list],
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "stats": [tuple, list],
    }

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
        super()._check_choices()

    def _load_weights(self, embedded):
        return analysis_filters(
            sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels, n_mfcc=self.n_mfcc
        )

    def _feature_names(self, weights):
        return [
            f"{block}_{stat}_{row}"
            for block in self.blocks
            for stat in self.stats
            for row in range(block_rows(block, n_mfcc=self.n_mfcc, n_mels=self.n_mels))
        ]

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

    def _clip_function(self, weights):
        return partial(_summary_row, block_kw=self._block_settings(), stats=tuple(self.stats))

    def __sktransfer_export__(self, kind):
        """Of the export protocol (``sktransfer._source_models``): kind ``"onnx"``, refused."""
        if kind != "onnx":
            return NotImplemented
        return ExportedOnnx(
            reason=(
                "its 193 features come from librosa and numba code (STFT, CQT, chroma, contrast, "
                "tonnetz) that has no ONNX ops; a graph could hold only the steps after it, and the "
                "runtime would still need librosa and numba. Keep this pipeline in Python "
                "(joblib), or use AudioSpectrogramImages + KerasImageFeatures, which export"
            )
        )

    def _row_shape(self):
        return (self.n_features_out_,)
