"""Transfer learning as an ordinary scikit-learn workflow.

Pretrained feature extractors for audio, images and text are scikit-learn
transformers, so they drop into ``Pipeline``, ``GridSearchCV`` and
``cross_val_score`` and persist with ``joblib``.
"""

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Each public name is imported from its subpackage on first use, so that
# ``import sktransfer.cli`` or ``sktransfer.datasets`` does not start Keras.
_SUBPACKAGE = {
    "AudioSpectralFeatures": ".audio",
    "AudioSpectrogramImages": ".audio",
    "DenseHeadClassifier": ".heads",
    "FeatureCache": ".cache",
    "FineTuneImageClassifier": ".heads",
    "FineTuneTextClassifier": ".heads",
    "KerasImageFeatures": ".image",
    "SentenceEmbedder": ".text",
    "SequenceClassifier": ".heads",
    "VGGImageFeatures": ".image",
    "Word2VecEmbedder": ".text",
}

if TYPE_CHECKING:
    from .audio import AudioSpectralFeatures, AudioSpectrogramImages
    from .cache import FeatureCache
    from .heads import (
        DenseHeadClassifier,
        FineTuneImageClassifier,
        FineTuneTextClassifier,
        SequenceClassifier,
    )
    from .image import KerasImageFeatures, VGGImageFeatures
    from .text import SentenceEmbedder, Word2VecEmbedder

__all__ = [
    "AudioSpectralFeatures",
    "AudioSpectrogramImages",
    "DenseHeadClassifier",
    "FeatureCache",
    "FineTuneImageClassifier",
    "FineTuneTextClassifier",
    "KerasImageFeatures",
    "SentenceEmbedder",
    "SequenceClassifier",
    "VGGImageFeatures",
    "Word2VecEmbedder",
    "__version__",
]


def __getattr__(name):
    if name not in _SUBPACKAGE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_SUBPACKAGE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
