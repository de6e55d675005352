"""Transfer learning as an ordinary scikit-learn workflow.

Pretrained feature extractors for audio, images and text are scikit-learn
transformers, so they drop into ``Pipeline``, ``GridSearchCV`` and
``cross_val_score`` and persist with ``joblib``.
"""

from .audio import AudioSpectralFeatures
from .cache import FeatureCache
from .heads import DenseHeadClassifier, FineTuneImageClassifier, SequenceClassifier
from .image import KerasImageFeatures, VGGImageFeatures
from .text import Word2VecEmbedder

__version__ = "0.1.0"

__all__ = [
    "AudioSpectralFeatures",
    "DenseHeadClassifier",
    "FeatureCache",
    "FineTuneImageClassifier",
    "KerasImageFeatures",
    "SequenceClassifier",
    "VGGImageFeatures",
    "Word2VecEmbedder",
    "__version__",
]
