"""Keras classifier heads as SciKeras classifiers that keep scikit-learn's contract.

``DenseHeadClassifier`` on extracted features, ``SequenceClassifier`` on raw text
(it owns its embedder), ``FineTuneImageClassifier`` on images (a pretrained
backbone trained end to end), ``FineTuneTextClassifier`` on raw text (a pretrained
sentence encoder trained end to end).
"""

from ._dense import DenseHeadClassifier
from ._finetune import FineTuneImageClassifier
from ._finetune_text import FineTuneTextClassifier
from ._sequence import SequenceClassifier

__all__ = [
    "DenseHeadClassifier",
    "FineTuneImageClassifier",
    "FineTuneTextClassifier",
    "SequenceClassifier",
]
