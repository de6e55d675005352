"""Clips as log-mel spectrogram images, so that ImageNet networks can hear.

A pretrained image CNN learned edges, textures and shapes; a log-mel
spectrogram drawn as a picture has them too (onsets, harmonics, formant
sweeps), and fine-tuned or even frozen ImageNet networks classify sounds from
such pictures far better than hand-crafted summary statistics. This
transformer draws the pictures: one fixed-size RGB image per clip, in the
0 to 255 pixel range that ``KerasImageFeatures`` and
``FineTuneImageClassifier`` take, so that the image side of the package is
the audio side's pretrained network.
"""

from functools import partial
from numbers import Integral, Real

import librosa
import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from .._extractor import FeatureExtractor
from .._source_models import ExportedOnnx
from ._clips import CLIP_PARAMETER_CONSTRAINTS, ClipExtractor
from ._io import synthetic_clips
from ._spectral import _mel_basis

CHANNELS = ("repeat", "deltas")
"""What the three colour channels hold: the log-mel level three times, or it and its deltas."""
FIT_FRAMES = ("pad", "tile", "center")
"""How a clip's frames become ``n_frames`` columns; see ``AudioSpectrogramImages``."""
DELTA_WIDTH = 9
"""Frames of the Savitzky-Golay window of ``librosa.feature.delta`` (its default)."""


def spectrogram_filters(*, sr, n_fft, n_mels):
    """The fixed weights of the images: the STFT window and the mel filter bank.

    Examples
    --------
    >>> filters = spectrogram_filters(sr=22050, n_fft=1024, n_mels=64)
    >>> filters["window"].shape, filters["mel"].shape
    ((1024,), (64, 513))
    """
    return {
        "window": librosa.filters.get_window("hann", n_fft, fftbins=True),
        "mel": _mel_basis(sr, n_fft, n_mels),
    }


def _channels(level, channels):
    """Three (n_mels, frames) pixel planes from the level in [0, 1], and their silence values."""
    level_pixels = 255.0 * level
    if channels == "repeat":
        return [level_pixels] * 3, (0.0, 0.0, 0.0)
    planes = [level_pixels]
    for order in (1, 2):
        delta = librosa.feature.delta(level, width=DELTA_WIDTH, order=order, mode="nearest")
        peak = np.max(np.abs(delta))
        planes.append(127.5 + 127.5 * (delta / peak if peak > 0 else delta))
    return planes, (0.0, 127.5, 127.5)


def _fit_frames(plane, silence, n_frames, policy):
    """``plane`` (n_mels, frames) cropped, tiled or padded to ``n_frames`` columns."""
    frames = plane.shape[1]
    if frames >= n_frames:
        start = (frames - n_frames) // 2 if policy == "center" else 0
        return plane[:, start : start + n_frames]
    if policy == "tile":
        return np.tile(plane, (1, -(-n_frames // frames)))[:, :n_frames]
    before = (n_frames - frames) // 2 if policy == "center" else 0
    return np.pad(plane, ((0, 0), (before, n_frames - frames - before)), constant_values=silence)


def spectrogram_image(y, *, filters, n_fft, hop_length, n_frames, top_db, channels, fit_frames):
    """The (n_mels, n_frames, 3) float32 image of one clip, pixels in [0, 255].

    Rows are mel bands, the highest at the top (row 0); columns are frames.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(22050) / 22050
    >>> y = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    >>> filters = spectrogram_filters(sr=22050, n_fft=1024, n_mels=32)
    >>> image = spectrogram_image(y, filters=filters, n_fft=1024, hop_length=256, n_frames=64,
    ...                           top_db=80.0, channels="deltas", fit_frames="pad")
    >>> image.shape, float(image[..., 0].max())
    ((32, 64, 3), 255.0)
    """
    stft = librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=filters["window"])
    mel = filters["mel"] @ (np.abs(stft) ** 2)
    decibels = librosa.power_to_db(mel, ref=np.max, top_db=top_db)  # in [-top_db, 0]
    level = (decibels + top_db) / top_db
    planes, silences = _channels(level[::-1], channels)
    image = np.stack(
        [
            _fit_frames(plane, silence, n_frames, fit_frames)
            for plane, silence in zip(planes, silences, strict=True)
        ],
        axis=-1,
    )
    return image.astype(np.float32)


class AudioSpectrogramImages(ClipExtractor, FeatureExtractor, auto_wrap_output_keys=None):
    """Each audio clip as a log-mel spectrogram image, for pretrained image networks.

    Every clip becomes an RGB image of ``n_mels`` rows (mel bands, the highest
    at the top) and ``n_frames`` columns (STFT frames), pixels in 0 to 255 as
    ``KerasImageFeatures`` and ``FineTuneImageClassifier`` take them, so that
    an ImageNet CNN can describe or learn sounds::

        make_pipeline(AudioSpectrogramImages(),
                      KerasImageFeatures(backbone="efficientnet_lite0", input_size=128),
                      LogisticRegression())

    The level channel is the mel power in decibels relative to the clip's own
    loudest bin, floored at ``-top_db``: ``-top_db`` dB is pixel 0, the
    loudest bin 255, so clips of any loudness look alike. With
    ``channels="deltas"`` the green and blue channels are its first and
    second time derivatives (``librosa.feature.delta``, 9 frames, "nearest"
    edges), each scaled by its largest magnitude in the clip to 0 to 255,
    no change at 127.5. Clips are read, resampled and refused exactly as by
    ``AudioSpectralFeatures`` (the same messages, ``on_error``, ``cache`` and
    ``n_jobs``).

    Parameters
    ----------
    sr : int, default=22050
        Sampling rate (Hz) every clip is resampled to before analysis.
    input_sr : int or None, default=None
        Sampling rate (Hz) of waveforms given as arrays; None: already ``sr``.
    n_mels : int, default=128
        Mel bands: the image height in pixels.
    n_frames : int, default=128
        STFT frames: the image width in pixels (128 frames of 512 samples at
        22,050 Hz are 3.0 s).
    n_fft : int, default=2048
        FFT window length in samples; clips shorter than this are rejected.
    hop_length : int, default=512
        Samples between successive frames.
    top_db : float, default=80.0
        Dynamic range of the level channel in decibels below the clip's peak.
    channels : {"repeat", "deltas"}, default="repeat"
        The three channels: the level three times (a grey picture, as
        ImageNet networks fine-tuned on spectrograms usually see them), or the
        level, its delta and its delta-delta.
    fit_frames : {"pad", "tile", "center"}, default="pad"
        How a clip's frames fill the ``n_frames`` columns. "pad": the first
        ``n_frames`` frames; a shorter clip is followed by silence (level
        pixel 0, delta pixels 127.5). "tile": the first ``n_frames``; a
        shorter clip is repeated end to end until the image is full.
        "center": the middle ``n_frames``; a shorter clip sits in the middle
        with silence on both sides.
    offset : float, default=0.0
        Seconds to skip at the start of every clip.
    duration : float or None, default=None
        Seconds to keep after ``offset``; None keeps the rest.
    n_jobs : int or None, default=None
        Clips processed in parallel (threads; None: 1, -1: all cores).
    verbose : int, default=0
        Show a progress bar when > 0.
    on_error : {"raise", "nan"}, default="raise"
        What an unusable clip (missing, corrupt, empty, silent, too short, NaN
        samples, wrong shape) does: raise a ``ValueError`` naming it, or give
        an image of NaN and one ``UserWarning`` listing every such clip.
    cache : None, str, path-like or FeatureCache, default=None
        Keep each clip's image on disk, keyed by its content and the
        parameters above; see ``docs/performance.md``.

    Attributes
    ----------
    n_features_out_ : int
        Values per image, ``n_mels * n_frames * 3``.
    feature_names_out_ : ndarray of str, shape (n_features_out_,)
        Names of the values of ``X.reshape(len(X), -1)`` (C order), e.g.
        ``"mel127_frame0_channel0"`` for the top-left red pixel.
    weights_sha256_ : str
        SHA-256 of the STFT window and the mel filter bank; a loaded
        estimator computes them again and refuses to run if they differ.

    Notes
    -----
    The output is 4-D, ``(n_clips, n_mels, n_frames, 3)``, which a pandas or
    polars DataFrame cannot hold: ``set_output`` is accepted (so that a
    ``Pipeline`` set to pandas output works, its image step passing arrays
    on), but this step's own output stays a numpy array.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(22050) / 22050
    >>> clips = np.stack([np.sin(2 * np.pi * f * t) for f in (220, 440)]).astype(np.float32)
    >>> images = AudioSpectrogramImages(n_mels=64, n_frames=32).fit_transform(clips)
    >>> images.shape, float(images.min()), float(images.max())
    ((2, 64, 32, 3), 0.0, 255.0)
    """

    _parameter_constraints = {
        **CLIP_PARAMETER_CONSTRAINTS,
        "n_frames": [Interval(Integral, 1, None, closed="left")],
        "top_db": [Interval(Real, 0, None, closed="neither")],
        "channels": [StrOptions(set(CHANNELS))],
        "fit_frames": [StrOptions(set(FIT_FRAMES))],
    }

    _progress_label = "spectrogram images"

    def __init__(
        self,
        *,
        sr=22050,
        input_sr=None,
        n_mels=128,
        n_frames=128,
        n_fft=2048,
        hop_length=512,
        top_db=80.0,
        channels="repeat",
        fit_frames="pad",
        offset=0.0,
        duration=None,
        n_jobs=None,
        verbose=0,
        on_error="raise",
        cache=None,
    ):
        self.sr = sr
        self.input_sr = input_sr
        self.n_mels = n_mels
        self.n_frames = n_frames
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.top_db = top_db
        self.channels = channels
        self.fit_frames = fit_frames
        self.offset = offset
        self.duration = duration
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.on_error = on_error
        self.cache = cache

    def _load_weights(self, embedded):
        return spectrogram_filters(sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels)

    def _feature_names(self, weights):
        return [
            f"mel{band}_frame{frame}_channel{channel}"
            for band in reversed(range(self.n_mels))
            for frame in range(self.n_frames)
            for channel in range(3)
        ]

    def _image_settings(self):
        return dict(
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            n_frames=self.n_frames,
            top_db=float(self.top_db),
            channels=self.channels,
            fit_frames=self.fit_frames,
        )

    def _output_settings(self):
        return {"load": self._load_settings(), "image": self._image_settings()}

    def _clip_function(self, weights):
        return partial(spectrogram_image, filters=weights, **self._image_settings())

    def _row_shape(self):
        return (self.n_mels, self.n_frames, 3)

    def transform(self, X):
        """The spectrogram image of every clip.

        Parameters
        ----------
        X : collection of clips
            File paths or 1-D float waveforms, or a 2-D array (n_clips, n_samples).

        Returns
        -------
        ndarray of shape (n_clips, n_mels, n_frames, 3), float32 in [0, 255]
        """
        return super().transform(X)

    def __sktransfer_export__(self, kind):
        """Of the export protocol (``sktransfer._source_models``): kind ``"onnx"``."""
        if kind != "onnx":
            return NotImplemented
        return ExportedOnnx(self._onnx_part)

    def _onnx_part(self, context):
        """This step's part of an exported graph: it stays in Python (numpy, librosa).

        Reading clips and drawing their spectrograms runs before the graph,
        rebuilt from this extractor's parameters; the image network after it
        takes the float32 images.
        """
        return self._onnx_reader_part(context, samples=partial(synthetic_clips, sr=self.sr))

    def set_output(self, *, transform=None):
        """Accepted for pipelines; the images stay a 4-D numpy array whatever is asked.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None
            Ignored: no DataFrame holds 4-D images. Steps after this one (an
            image extractor) honour their own ``set_output``.

        Returns
        -------
        self
        """
        return self
