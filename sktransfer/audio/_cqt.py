"""Constant-Q transform with filter banks built once per configuration.

``librosa.cqt`` rebuilds its per-octave filter banks (wavelets, their FFTs,
sparsification) on every call, although they depend only on the sampling
rate, hop length, tuning and bin layout, never on the audio. ``cqt`` below runs
the same algorithm with librosa's own building blocks, but takes the filter
banks from a small cache, so a batch of clips builds each bank once. The result
is bit-identical to ``librosa.cqt`` with the same arguments (checked in the
test suite). Should a librosa release rename its internals, ``cqt`` falls back
to ``librosa.cqt`` itself: slower, same numbers.
"""

from functools import lru_cache

import librosa
import numpy as np
from librosa.core import constantq as _constantq

_HELPERS = ("__vqt_filter_fft", "__early_downsample", "__trim_stack")
_HAS_HELPERS = all(hasattr(_constantq, name) for name in _HELPERS)
_RES_TYPE = "soxr_hq"
_PAD_MODE = "constant"


@lru_cache(maxsize=64)
def _plan(sr, hop_length, tuning, n_bins, bins_per_octave, dtype):
    """Everything about ``cqt`` that does not depend on the signal."""
    n_octaves = int(np.ceil(float(n_bins) / bins_per_octave))
    n_filters = min(bins_per_octave, n_bins)
    fmin = librosa.note_to_hz("C1") * 2.0 ** (tuning / bins_per_octave)
    freqs = librosa.interval_frequencies(
        n_bins=n_bins,
        fmin=fmin,
        intervals="equal",
        bins_per_octave=bins_per_octave,
        sort=True,
    )
    alpha = librosa.filters._relative_bandwidth(freqs=freqs)
    lengths, filter_cutoff = librosa.filters.wavelet_lengths(
        freqs=freqs, sr=sr, window="hann", filter_scale=1, gamma=0, alpha=alpha
    )
    nyquist = sr / 2.0
    if filter_cutoff > nyquist:
        raise ValueError(
            f"a {n_bins}-bin constant-Q transform from C1 exceeds the Nyquist "
            f"frequency {nyquist} Hz of sr={sr}"
        )
    # Early downsampling changes the rate and hop the octaves start from; run it
    # on a dummy signal long enough to learn both (the decision ignores samples).
    probe = np.zeros(2**12, dtype=np.float32)
    _, oct_sr, oct_hop = getattr(_constantq, "__early_downsample")(
        probe, sr, hop_length, _RES_TYPE, n_octaves, nyquist, filter_cutoff, True
    )
    early_factor = int(round(sr / oct_sr))
    octaves = []
    vqt_filter_fft = getattr(_constantq, "__vqt_filter_fft")
    for i in range(n_octaves):
        sl = slice(-n_filters, None) if i == 0 else slice(-n_filters * (i + 1), -n_filters * i)
        fft_basis, n_fft, _ = vqt_filter_fft(
            oct_sr,
            freqs[sl],
            1,
            1,
            0.01,
            window="hann",
            gamma=0,
            dtype=dtype,
            alpha=alpha[sl],
        )
        fft_basis[:] *= np.sqrt(sr / early_factor / oct_sr)
        halve = oct_hop % 2 == 0
        octaves.append((fft_basis, n_fft, oct_hop, halve))
        if halve:
            oct_hop //= 2
            oct_sr /= 2.0
    final_lengths, _ = librosa.filters.wavelet_lengths(
        freqs=freqs,
        sr=sr / early_factor,
        window="hann",
        filter_scale=1,
        gamma=0,
        alpha=alpha,
    )
    return early_factor, tuple(octaves), np.sqrt(final_lengths)[:, np.newaxis]


def _filter_response(y, n_fft, hop_length, fft_basis, dtype):
    """librosa's ``__cqt_response`` for a mono signal, minus a warning.

    When the octave's signal is shorter than its filters, ``librosa.stft``
    warns, pads both ends by ``n_fft // 2`` in one piece and frames the result.
    Padding here and framing without centring computes the same frames without
    the warning, which could not be silenced safely from worker threads.
    """
    center = n_fft <= y.shape[-1]
    if not center:
        y = np.pad(y, n_fft // 2, mode=_PAD_MODE)
    D = librosa.stft(
        y,
        n_fft=n_fft,
        hop_length=hop_length,
        window="ones",
        center=center,
        pad_mode=_PAD_MODE,
        dtype=dtype,
    )
    return fft_basis.dot(D)


def cqt(y, *, sr, hop_length, tuning, n_bins, bins_per_octave):
    """Complex constant-Q transform of a mono signal, from C1 upwards.

    Same result as ``librosa.cqt(y, sr=sr, hop_length=hop_length,
    tuning=tuning, n_bins=n_bins, bins_per_octave=bins_per_octave)``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,), float32 or float64
    sr : float
        Sampling rate of ``y`` in Hz.
    hop_length : int
        Samples between successive frames.
    tuning : float
        Tuning offset in fractions of a bin, as from ``librosa.estimate_tuning``.
    n_bins, bins_per_octave : int
        Number of bins in all, and per octave.

    Returns
    -------
    ndarray of shape (n_bins, n_frames), complex.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    >>> C = cqt(y, sr=22050, hop_length=512, tuning=0.0, n_bins=84, bins_per_octave=12)
    >>> C.shape, int(np.abs(C).mean(axis=1).argmax())  # A4 is 45 semitones above C1
    ((84, 44), 45)
    """
    if not _HAS_HELPERS:  # pragma: no cover - depends on the installed librosa
        return librosa.cqt(
            y,
            sr=sr,
            hop_length=hop_length,
            tuning=tuning,
            n_bins=n_bins,
            bins_per_octave=bins_per_octave,
            res_type=_RES_TYPE,
        )
    dtype = librosa.util.dtype_r2c(y.dtype)
    early_factor, octaves, sqrt_lengths = _plan(
        float(sr), int(hop_length), float(tuning), int(n_bins), int(bins_per_octave), dtype
    )
    if early_factor > 1:
        if y.shape[-1] < early_factor:
            raise ValueError(f"signal of {y.shape[-1]} samples is too short for the CQT")
        y = librosa.resample(y, orig_sr=early_factor, target_sr=1, res_type=_RES_TYPE, scale=True)
    responses = []
    for fft_basis, n_fft, oct_hop, halve in octaves:
        responses.append(_filter_response(y, n_fft, oct_hop, fft_basis, dtype))
        if halve:
            y = librosa.resample(y, orig_sr=2, target_sr=1, res_type=_RES_TYPE, scale=True)
    C = getattr(_constantq, "__trim_stack")(responses, n_bins, dtype)
    C /= sqrt_lengths
    return C
