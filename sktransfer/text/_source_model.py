"""Word vectors of a model fitted on source text, as the vectors of a target embedder.

``Word2VecEmbedder(pretrained=...)`` takes, besides gensim objects, files and
names, a fitted ``SequenceClassifier`` (its embedding layer's word vectors,
fine-tuned when it trained them, with its vocabulary) or a fitted
``Word2VecEmbedder`` (the vectors it learned on source text), also as a
fitted pipeline ending in one or the model file ``sktransfer fit`` wrote.
They become a ``KeyedVectors`` and follow the path of any pretrained
vectors, ``fine_tune`` included. The source is read through the export
protocol (kind ``"word_vectors"``, see ``sktransfer._source_models``), so this
module needs no head class.
"""

from gensim.models import KeyedVectors

from .._source_models import is_source_model, source_model


def source_word_vectors(pretrained):
    """The ``KeyedVectors`` a source model holds, or None when ``pretrained`` names none.

    Parameters
    ----------
    pretrained : the ``pretrained`` parameter of ``Word2VecEmbedder``

    Returns
    -------
    KeyedVectors or None
        Every word of the source's vocabulary with its vector, in the order
        of the source's embedding rows.
    """
    if not is_source_model(pretrained):
        return None
    source = source_model(
        pretrained,
        parameter="pretrained",
        owner="Word2VecEmbedder",
        kind="word_vectors",
        expected=("SequenceClassifier", "Word2VecEmbedder"),
        modality=("text",),
    ).export
    vocabulary, matrix = source.vocabulary, source.matrix
    words = sorted(vocabulary, key=vocabulary.__getitem__)
    vectors = KeyedVectors(matrix.shape[1])
    vectors.add_vectors(words, matrix[[vocabulary[word] for word in words]])
    return vectors
