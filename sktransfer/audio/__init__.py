"""Audio: clips (file paths or waveforms) as spectral features or as spectrogram images."""

from ._features import AudioSpectralFeatures
from ._images import AudioSpectrogramImages

__all__ = ["AudioSpectralFeatures", "AudioSpectrogramImages"]
