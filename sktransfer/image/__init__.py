"""Images: features from pretrained ImageNet CNNs (Keras) as transformers.

The extractors are imported on first use, so that the image reading
(``_io``), which an exported model's runtime uses without scikit-learn's
estimators or Keras, imports alone.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._features import KerasImageFeatures, VGGImageFeatures

__all__ = ["KerasImageFeatures", "VGGImageFeatures"]


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _features

    value = getattr(_features, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
