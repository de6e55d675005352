"""Text: documents as word vectors (learned with Word2Vec, or pretrained) or as sentence vectors
from a pretrained transformer encoder, as transformers."""

from ._embedder import Word2VecEmbedder
from ._io import default_tokenize
from ._sentence import SentenceEmbedder

__all__ = ["SentenceEmbedder", "Word2VecEmbedder", "default_tokenize"]
