"""Images: features from pretrained ImageNet CNNs (Keras) as transformers."""

from ._features import KerasImageFeatures, VGGImageFeatures

__all__ = ["KerasImageFeatures", "VGGImageFeatures"]
