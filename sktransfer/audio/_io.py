"""Turning what users hold (file paths, waveforms) into validated mono clips."""

import os

import librosa
import numpy as np
import soundfile


def describe_clip(index, item):
    """``clip 3 ('a.wav')`` for paths, ``clip 3`` for waveforms: how errors name a clip."""
    if isinstance(item, (str, os.PathLike)):
        return f"clip {index} ({os.fspath(item)!r})"
    return f"clip {index}"


def as_clip_list(X):
    """Split ``X`` into a list of clips, each a path or a 1-D waveform.

    Accepted: a sequence (list, tuple, pandas Series, 1-D object array) of
    paths and/or 1-D waveforms; a 2-D numeric array or DataFrame of shape
    (n_clips, n_samples); a single-column table of paths. Nothing is read yet.
    """
    if isinstance(X, (str, bytes, os.PathLike)):
        raise ValueError(
            f"X must be a sequence of clips (paths or waveforms), got a single path {X!r}; "
            "wrap it in a list"
        )
    if hasattr(X, "tocsr") or hasattr(X, "todense"):
        raise TypeError("sparse input is not supported: pass waveforms as dense arrays")
    if hasattr(X, "to_numpy"):  # pandas Series or DataFrame
        X = X.to_numpy()
    elif hasattr(X, "__array__") and not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if isinstance(X, np.ndarray):
        if X.ndim == 1 and X.dtype.kind in "fiubc":
            raise ValueError(
                f"X is one 1-D numeric array of shape {X.shape}, not a collection of clips. "
                "Reshape your data with X.reshape(1, -1) if it is a single waveform, or "
                "pass a list of waveforms"
            )
        if X.ndim == 2 and X.dtype.kind in "fiubc":
            clips = list(X)
        elif X.ndim == 2 and X.shape[1] == 1:
            clips = list(X[:, 0])
        elif X.ndim == 1 and X.dtype.kind in "OUS":
            clips = list(X)
        else:
            raise ValueError(
                "X must be a sequence of clips, or a 2-D array of shape (n_clips, n_samples); "
                f"got an array of shape {X.shape} and dtype {X.dtype}"
            )
    else:
        try:
            clips = list(X)
        except TypeError:
            raise ValueError(
                f"X must be a sequence of clips (paths or waveforms), got {type(X).__name__}"
            ) from None
    if not clips:
        raise ValueError("X holds no clips: at least one is required")
    return clips


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


def _is_path(item):
    """True for a path, False for a waveform, ValueError for anything else."""
    if isinstance(item, (str, os.PathLike)):
        return True
    if isinstance(item, (np.ndarray, list, tuple)):
        return False
    raise ValueError(f"expected a file path or a 1-D waveform, got {type(item).__name__}")


def check_clips(clips):
    """Check what can be checked without reading files: each waveform, each item's type.

    Raises
    ------
    ValueError
        Naming the first bad clip.
    """
    for index, item in enumerate(clips):
        try:
            if not _is_path(item):
                check_waveform(item)
        except ValueError as exc:
            raise ValueError(f"{describe_clip(index, item)}: {exc}") from None


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


def load_clip(index, item, *, sr, input_sr, offset, duration, min_samples):
    """One validated mono float32 clip at ``sr`` Hz.

    Raises
    ------
    ValueError
        Naming the clip (``describe_clip``) and what is wrong with it: missing,
        unreadable or corrupt file, wrong rank or dtype, NaN/inf samples, no
        samples, all samples zero, or fewer than ``min_samples`` samples.
    """
    try:
        if _is_path(item):
            y = _read_file(os.fspath(item), sr=sr, offset=offset, duration=duration)
        else:
            y = _take_waveform(item, sr=sr, input_sr=input_sr, offset=offset, duration=duration)
        if y.size == 0:
            raise ValueError(f"empty: 0 samples (offset={offset} s, duration={duration})")
        if not np.all(np.isfinite(y)):
            bad = int(np.flatnonzero(~np.isfinite(y))[0])
            raise ValueError(f"contains NaN or infinite samples (first at sample {bad})")
        if not np.any(y):
            raise ValueError(
                f"silent: all {y.size} samples ({y.size / sr:.3f} s at {sr} Hz) are zero"
            )
        if y.size < min_samples:
            raise ValueError(
                f"too short: {y.size} samples ({y.size / sr:.3f} s at {sr} Hz), fewer "
                f"than one FFT window (n_fft={min_samples} samples, {min_samples / sr:.3f} s)"
            )
    except ValueError as exc:
        raise ValueError(f"{describe_clip(index, item)}: {exc}") from exc
    return y
