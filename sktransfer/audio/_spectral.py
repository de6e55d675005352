"""The five spectral blocks of one clip, computed from one shared STFT.

Each block is the same number, bit for bit, that the corresponding librosa
call returns (``feature.mfcc``, ``feature.chroma_stft``,
``feature.melspectrogram``, ``feature.spectral_contrast`` and
``feature.tonnetz`` of ``effects.harmonic``); the test suite checks it. The
time saved comes from work that does not depend on the clip being done once
(mel, chroma and constant-Q filter banks, tonnetz projection) and from an
exact running median in place of ``scipy.ndimage.median_filter`` for the
harmonic/percussive separation.
"""

from functools import lru_cache

import librosa
import numpy as np
import scipy.fft

from ._cqt import cqt
from ._median import median_filter

BLOCKS = ("mfcc", "chroma", "mel", "contrast", "tonnetz")
N_CHROMA = 12
N_CONTRAST_BANDS = 6
N_TONNETZ = 6
HPSS_KERNEL = 31
CQT_BINS_PER_OCTAVE = 36
CQT_OCTAVES = 7


def block_rows(block, *, n_mfcc, n_mels):
    """Number of per-frame values (rows) that ``block`` yields."""
    return {
        "mfcc": n_mfcc,
        "chroma": N_CHROMA,
        "mel": n_mels,
        "contrast": N_CONTRAST_BANDS + 1,
        "tonnetz": N_TONNETZ,
    }[block]


@lru_cache(maxsize=16)
def _mel_basis(sr, n_fft, n_mels):
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)


@lru_cache(maxsize=256)
def _chroma_basis(sr, n_fft, tuning):
    return librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=N_CHROMA)


@lru_cache(maxsize=4)
def _cq_to_chroma(n_bins, bins_per_octave):
    return librosa.filters.cq_to_chroma(n_bins, bins_per_octave=bins_per_octave, n_chroma=N_CHROMA)


@lru_cache(maxsize=1)
def _tonnetz_basis():
    """The 6 x 12 projection of ``librosa.feature.tonnetz``."""
    dim_map = np.linspace(0, 12, num=N_CHROMA, endpoint=False)
    scale = np.asarray([7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3])
    V = np.multiply.outer(scale, dim_map)
    V[::2] -= 0.5
    R = np.array([1, 1, 1, 1, 0.5, 0.5])
    return R[:, np.newaxis] * np.cos(np.pi * V)


def analysis_filters(*, sr, n_fft, n_mels, n_mfcc):
    """The fixed weights of the analysis for these parameters, by name.

    What librosa and SciPy give for the STFT window, the mel filter bank, the
    DCT of the MFCCs, the chroma filter bank (at A440 tuning; each clip's
    tuning shifts it), the constant-Q-to-chroma map and the tonnetz basis.
    Their SHA-256 identifies the numbers an ``AudioSpectralFeatures`` computes.

    Returns
    -------
    dict of str to ndarray

    Examples
    --------
    >>> filters = analysis_filters(sr=22050, n_fft=2048, n_mels=128, n_mfcc=40)
    >>> filters["mel"].shape, filters["dct"].shape, filters["tonnetz"].shape
    ((128, 1025), (40, 128), (6, 12))
    """
    n_bins = CQT_OCTAVES * CQT_BINS_PER_OCTAVE
    return {
        "window": librosa.filters.get_window("hann", n_fft, fftbins=True),
        "mel": _mel_basis(sr, n_fft, n_mels),
        "dct": scipy.fft.dct(np.eye(n_mels), axis=0, type=2, norm="ortho")[:n_mfcc],
        "chroma": _chroma_basis(sr, n_fft, 0.0),
        "cq_to_chroma": _cq_to_chroma(n_bins, CQT_BINS_PER_OCTAVE),
        "tonnetz": _tonnetz_basis(),
    }


def _harmonic(y, D, magnitude, *, n_fft, hop_length):
    """``librosa.effects.harmonic(y)`` given ``D = librosa.stft(y)``."""
    _, phase = librosa.magphase(D)
    harm = median_filter(magnitude, HPSS_KERNEL, axis=-1)
    perc = median_filter(magnitude, HPSS_KERNEL, axis=-2)
    mask = librosa.util.softmask(harm, perc * 1.0, power=2.0, split_zeros=True)
    return librosa.istft(
        (magnitude * mask) * phase,
        dtype=y.dtype,
        n_fft=n_fft,
        hop_length=hop_length,
        length=y.shape[-1],
    )


def _tonnetz(y, *, sr, hop_length):
    """``librosa.feature.tonnetz(y=y, sr=sr, hop_length=hop_length)``."""
    n_bins = CQT_OCTAVES * CQT_BINS_PER_OCTAVE
    tuning = librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=CQT_BINS_PER_OCTAVE)
    C = np.abs(
        cqt(
            y,
            sr=sr,
            hop_length=hop_length,
            tuning=tuning,
            n_bins=n_bins,
            bins_per_octave=CQT_BINS_PER_OCTAVE,
        )
    )
    chroma = np.einsum(
        "cf,...ft->...ct", _cq_to_chroma(n_bins, CQT_BINS_PER_OCTAVE), C, optimize=True
    )
    chroma[chroma < 0.0] = 0.0
    chroma = librosa.util.normalize(chroma, norm=np.inf, axis=-2)
    return np.einsum(
        "pc,...ci->...pi",
        _tonnetz_basis(),
        librosa.util.normalize(chroma, norm=1, axis=-2),
        optimize=True,
    )


def spectral_blocks(y, *, sr, blocks, n_mfcc, n_mels, n_fft, hop_length):
    """Frame-wise spectral features of one mono clip.

    Parameters
    ----------
    y : ndarray of shape (n_samples,), float32
        Finite samples, at least ``n_fft`` of them.
    sr : int
        Sampling rate of ``y`` in Hz.
    blocks : sequence of str
        Any of ``BLOCKS``.
    n_mfcc, n_mels, n_fft, hop_length : int
        As in ``librosa.feature.mfcc`` / ``melspectrogram``.

    Returns
    -------
    dict
        Block name -> ndarray of shape (block_rows, n_frames).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    >>> out = spectral_blocks(y, sr=22050, blocks=("mfcc", "contrast"), n_mfcc=20,
    ...                       n_mels=128, n_fft=2048, hop_length=512)
    >>> out["mfcc"].shape, out["contrast"].shape
    ((20, 44), (7, 44))
    """
    D = librosa.stft(y, n_fft=n_fft, hop_length=hop_length)
    magnitude = np.abs(D)
    out = {}
    if "mfcc" in blocks or "mel" in blocks:
        power = magnitude**2.0
        mel = np.einsum("...ft,mf->...mt", power, _mel_basis(sr, n_fft, n_mels), optimize=True)
        if "mel" in blocks:
            out["mel"] = mel
        if "mfcc" in blocks:
            log_mel = librosa.power_to_db(mel)
            out["mfcc"] = scipy.fft.dct(log_mel, axis=-2, type=2, norm="ortho")[..., :n_mfcc, :]
    if "chroma" in blocks:
        tuning = librosa.estimate_tuning(S=magnitude, sr=sr, bins_per_octave=N_CHROMA)
        raw = np.einsum(
            "cf,...ft->...ct", _chroma_basis(sr, n_fft, tuning), magnitude, optimize=True
        )
        out["chroma"] = librosa.util.normalize(raw, norm=np.inf, axis=-2)
    if "contrast" in blocks:
        out["contrast"] = librosa.feature.spectral_contrast(S=magnitude, sr=sr, n_fft=n_fft)
    if "tonnetz" in blocks:
        harmonic = _harmonic(y, D, magnitude, n_fft=n_fft, hop_length=hop_length)
        out["tonnetz"] = _tonnetz(harmonic, sr=sr, hop_length=hop_length)
    return {block: out[block] for block in blocks}
