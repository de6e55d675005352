"""Demo rows: the spoken digits heard by an ImageNet network, as spectrogram images.

Each clip becomes a 128-band x 64-frame log-mel image (3 s of audio would be
128 frames; the digits last under 1.5 s), EfficientNet-Lite0's ImageNet
features describe it, and a logistic regression learns the digits: transfer
from a pretrained network, beside the 193 hand-crafted spectral features of
``_audio``, scored on the same unheard voices.
"""

from ..audio import AudioSpectrogramImages
from ..image import KerasImageFeatures

METHOD = "spectrogram images + ImageNet Lite0 features + logistic regression"
CURVE = "spectrogram images + Lite0 (transfer)"
N_MELS, N_FRAMES = 128, 64


def image_features(*, n_jobs=-1):
    """The transformers from clip paths to Lite0 features of their spectrogram images."""
    return (
        AudioSpectrogramImages(n_mels=N_MELS, n_frames=N_FRAMES, n_jobs=n_jobs),
        KerasImageFeatures(input_size=(N_MELS, N_FRAMES), n_jobs=n_jobs),
    )


def features_of(paths, *, n_jobs=-1):
    """Lite0 features of the spectrogram image of every clip, computed once."""
    images, features = image_features(n_jobs=n_jobs)
    return features.fit_transform(images.fit_transform(paths))
