"""Audio: clips (file paths or waveforms) as spectral features or as spectrogram images."""

# librosa compiles its cached numba functions on import: one process at a time
# (see sktransfer/_numba_cache.py), before the modules below import it.
from .._numba_cache import import_librosa

import_librosa()

from ._features import AudioSpectralFeatures  # noqa: E402
from ._images import AudioSpectrogramImages  # noqa: E402

__all__ = ["AudioSpectralFeatures", "AudioSpectrogramImages"]
