"""AudioSpectralFeatures reproduces the widespread librosa recipe, block by block."""

import warnings

import librosa
import numpy as np
import pytest
import scipy.ndimage
from threadpoolctl import threadpool_limits

from sktransfer import AudioSpectralFeatures
from sktransfer.audio._cqt import cqt
from sktransfer.audio._median import median_filter


def quietly(func, *args, **kwargs):
    """Call librosa without its warning that it pads short low CQT octaves."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_fft=.* is too large for input signal")
        return func(*args, **kwargs)


def extract_feature(file_name):
    """The reference recipe, verbatim."""
    X, sample_rate = librosa.load(file_name)
    stft = np.abs(librosa.stft(X))
    mfccs = np.mean(librosa.feature.mfcc(y=X, sr=sample_rate, n_mfcc=40).T, axis=0)
    chroma = np.mean(librosa.feature.chroma_stft(S=stft, sr=sample_rate).T, axis=0)
    mel = np.mean(librosa.feature.melspectrogram(y=X, sr=sample_rate).T, axis=0)
    contrast = np.mean(librosa.feature.spectral_contrast(S=stft, sr=sample_rate).T, axis=0)
    tonnetz = np.mean(
        librosa.feature.tonnetz(y=librosa.effects.harmonic(X), sr=sample_rate).T, axis=0
    )
    return [mfccs, chroma, mel, contrast, tonnetz]


def test_every_block_equals_the_reference_recipe(spoken_words, audio_files):
    # Spoken words, a resampled 44.1 kHz flac, a stereo file mixed to mono, ogg and mp3.
    paths = spoken_words[0][::8] + [
        audio_files[name] for name in ("a440_44k.flac", "stereo.wav", "c523.ogg", "e330.mp3")
    ]
    ours = AudioSpectralFeatures().fit_transform(paths)
    assert ours.shape == (len(paths), 193) and ours.dtype == np.float32
    bounds = np.cumsum([0, 40, 12, 128, 7, 6])
    for row, path in zip(ours, paths):
        # Like ours, on one BLAS thread: OpenBLAS sums in another order with
        # more threads, which moves a few MFCCs by one float32 ulp.
        with threadpool_limits(limits=1, user_api="blas"):
            reference = quietly(extract_feature, path)
        for block, (start, stop) in zip(reference, zip(bounds[:-1], bounds[1:])):
            # Tolerance: none. mfcc, chroma and mel are float32 in the recipe and
            # must match bit for bit; contrast and tonnetz are float64 there and
            # must match bit for bit once rounded to our float32 output.
            np.testing.assert_array_equal(row[start:stop], block.astype(np.float32))


def test_feature_values_are_meaningful(audio_files):
    # A 440 Hz tone: its chroma peaks at A (index 9, C=0), and the mel band
    # holding 440 Hz is the loudest.
    row = AudioSpectralFeatures(blocks=("chroma", "mel")).fit_transform([audio_files["a440.wav"]])[
        0
    ]
    assert np.argmax(row[:12]) == 9
    mel_centres = librosa.mel_frequencies(n_mels=130, fmax=11025)[1:-1]
    loudest = mel_centres[np.argmax(row[12:])]
    assert 400 < loudest < 480


@pytest.mark.parametrize("tuning", [0.0, -0.37, 0.12])
@pytest.mark.parametrize("hop_length", [512, 256, 300])
def test_cached_cqt_equals_librosa_cqt(spoken_words, tuning, hop_length):
    y, sr = librosa.load(spoken_words[0][0])
    kw = dict(sr=sr, hop_length=hop_length, tuning=tuning, n_bins=252, bins_per_octave=36)
    expected = quietly(librosa.cqt, y, **kw)
    np.testing.assert_array_equal(cqt(y, **kw), expected)
    np.testing.assert_array_equal(cqt(y, **kw), expected)  # from the cached plan


@pytest.mark.parametrize("n_cols", [1, 3, 4, 15, 16, 31, 200])
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_filter_equals_ndimage(n_cols, axis, dtype):
    rng = np.random.default_rng(n_cols)
    S = rng.random((9, n_cols)).astype(dtype)
    S[:, ::4] = 0.25  # ties
    if axis == 0:
        S = np.ascontiguousarray(S.T)
    size = [1, 1]
    size[axis] = 31
    expected = scipy.ndimage.median_filter(S, size=size, mode="reflect")
    np.testing.assert_array_equal(median_filter(S, 31, axis), expected)


def test_median_filter_rejects_bad_arguments():
    with pytest.raises(ValueError, match="odd"):
        median_filter(np.ones((3, 3)), 4, 1)
    with pytest.raises(ValueError, match="2-D"):
        median_filter(np.ones(3), 3, 1)
