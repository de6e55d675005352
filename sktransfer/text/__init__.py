"""Text: documents as word vectors (learned with Word2Vec, or pretrained) as a transformer."""

from ._embedder import Word2VecEmbedder
from ._io import default_tokenize

__all__ = ["Word2VecEmbedder", "default_tokenize"]
