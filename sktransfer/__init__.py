"""Transfer learning as an ordinary scikit-learn workflow.

Pretrained feature extractors for audio, images and text are scikit-learn
transformers, so they drop into ``Pipeline``, ``GridSearchCV`` and
``cross_val_score`` and persist with ``joblib``.
"""

from .audio import AudioSpectralFeatures
from .image import KerasImageFeatures, VGGImageFeatures

__version__ = "0.1.0"

__all__ = ["AudioSpectralFeatures", "KerasImageFeatures", "VGGImageFeatures", "__version__"]
