"""Audio: spectral features of clips (file paths or waveforms) as a transformer."""

from ._features import AudioSpectralFeatures

__all__ = ["AudioSpectralFeatures"]
