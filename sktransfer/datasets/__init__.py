"""Offline example data: spoken words synthesized with espeak-ng, instrument
notes rendered by fluidsynth from a General MIDI soundfont, Fashion-MNIST from
Debian's dataset-fashion-mnist package, the labelled movie-review
sentences that come with gensim, and short texts filed by topic from Debian's
fortunes package."""

from ._fashion_mnist import FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, load_fashion_mnist
from ._fortune_topics import FORTUNE_DIR, FORTUNE_TOPICS, load_fortune_topics
from ._instrument_notes import INSTRUMENTS, make_instrument_notes
from ._polarity import load_polarity
from ._spoken_words import DIGITS, VOICES, make_spoken_words

__all__ = [
    "load_fashion_mnist",
    "load_fortune_topics",
    "load_polarity",
    "make_instrument_notes",
    "make_spoken_words",
    "DIGITS",
    "INSTRUMENTS",
    "VOICES",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR",
    "FORTUNE_DIR",
    "FORTUNE_TOPICS",
]
