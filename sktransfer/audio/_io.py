"""Turning what users hold (file paths, waveforms) into validated mono clips."""

import os

import librosa
import numpy as np
import soundfile


def clip_items(X):
    """The clips of a numeric array: the rows of (n_clips, n_samples); other shapes are refused."""
    if X.ndim == 2:
        return list(X)
    if X.ndim == 1:
        raise ValueError(
            f"X is one 1-D numeric array of shape {X.shape}, not a collection of clips. "
            "Reshape your data with X.reshape(1, -1) if it is a single waveform, or "
            "pass a list of waveforms"
        )
    raise ValueError(
        "X must be a collection of clips, or a 2-D array of shape (n_clips, n_samples); "
        f"got an array of shape {X.shape} and dtype {X.dtype}"
    )


def check_waveform(y):
    """``y`` as an array if it is a usable in-memory waveform, else a ValueError."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"expected a 1-D waveform, got an array of shape {y.shape}; "
            "mix channels to mono first (e.g. y.mean(axis=0) for shape (channels, samples))"
        )
    if y.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: got dtype {y.dtype}, expected real samples")
    if y.dtype.kind != "f":
        raise ValueError(
            f"expected floating-point samples in [-1, 1], got dtype {y.dtype}"
            + ("; divide 16-bit PCM by 32768" if y.dtype == np.int16 else "")
        )
    if y.size == 0:
        raise ValueError("empty: 0 samples")
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"contains NaN or infinite samples (first at sample {bad})")
    return y


def is_path(item):
    """True for a path, False for a waveform, ValueError for anything else."""
    if isinstance(item, (str, os.PathLike)):
        return True
    if isinstance(item, (np.ndarray, list, tuple)):
        return False
    raise ValueError(f"expected a file path or a 1-D waveform, got {type(item).__name__}")


def _read_file(path, *, sr, offset, duration):
    if not os.path.exists(path):
        raise ValueError("file not found")
    if os.path.isdir(path):
        raise ValueError("a directory, not an audio file")
    try:
        # An open SoundFile keeps librosa from its deprecated audioread
        # fallback (and its warnings); the samples are those of librosa.load(path).
        with soundfile.SoundFile(path) as audio:
            y, _ = librosa.load(audio, sr=sr, mono=True, offset=offset, duration=duration)
    except Exception as exc:
        raise ValueError(
            f"cannot decode audio ({type(exc).__name__}: {exc}); libsndfile reads WAV, "
            "FLAC, OGG/Vorbis, Opus, MP3 and AIFF, among others"
        ) from exc
    return y


def _take_waveform(y, *, sr, input_sr, offset, duration):
    y = check_waveform(y)
    start = int(round(offset * input_sr))
    stop = None if duration is None else start + int(round(duration * input_sr))
    y = y[start:stop].astype(np.float32, copy=False)
    if input_sr != sr and y.size:
        y = librosa.resample(y, orig_sr=input_sr, target_sr=sr)
    return y


def load_clip(item, *, sr, input_sr, offset, duration, min_samples):
    """One validated mono float32 clip at ``sr`` Hz.

    Raises
    ------
    ValueError
        Saying what is wrong with the clip: missing,
        unreadable or corrupt file, wrong rank or dtype, NaN/inf samples, no
        samples, all samples zero, or fewer than ``min_samples`` samples.
    """
    if is_path(item):
        y = _read_file(os.fspath(item), sr=sr, offset=offset, duration=duration)
    else:
        y = _take_waveform(item, sr=sr, input_sr=input_sr, offset=offset, duration=duration)
    if y.size == 0:
        raise ValueError(f"empty: 0 samples (offset={offset} s, duration={duration})")
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"contains NaN or infinite samples (first at sample {bad})")
    if not np.any(y):
        raise ValueError(f"silent: all {y.size} samples ({y.size / sr:.3f} s at {sr} Hz) are zero")
    if y.size < min_samples:
        raise ValueError(
            f"too short: {y.size} samples ({y.size / sr:.3f} s at {sr} Hz), fewer "
            f"than one FFT window (n_fft={min_samples} samples, {min_samples / sr:.3f} s)"
        )
    return y


def synthetic_clips(n, sr, seconds=1.0, seed=0):
    """``n`` float32 waveforms of ``seconds`` at ``sr``: tones, sweeps and noise, all different.

    What an export compares the graph and the pipeline on when it is given no
    sample.

    Examples
    --------
    >>> [clip.shape for clip in synthetic_clips(2, sr=8000)]
    [(8000,), (8000,)]
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    clips = []
    for _ in range(n):
        start, stop = rng.uniform(100, sr / 4, 2)
        sweep = np.sin(2 * np.pi * (start + (stop - start) * t / (2 * seconds)) * t)
        tone = np.sin(2 * np.pi * rng.uniform(100, sr / 4) * t) * (t < rng.uniform(0.3, 1.0))
        wave = 0.3 * sweep + 0.3 * tone + 0.05 * rng.standard_normal(len(t))
        clips.append(wave.astype(np.float32))
    return clips
