"""Document vectors from token indices: vectorised pooling and padded index sequences.

Every function takes a corpus as ``ids`` (the vocabulary index of every token,
documents one after another) and ``lengths`` (tokens per document), as
``_text_io.encode`` returns them, and works on whole arrays: no Python loop
over documents or tokens in Python (max pooling is a compiled loop).
"""

import numpy as np
from scipy import sparse

from .._numba_cache import cached_njit
from ._io import OOV

POOLINGS = ("mean", "max", "mean+max", "tfidf")


def known_tokens(ids, lengths):
    """Document and vocabulary index of every in-vocabulary token, and the CSR row pointer.

    Returns
    -------
    documents, words : ndarray of shape (n_known,)
    indptr : ndarray of shape (n_documents + 1,)
        Known tokens of document ``i`` are ``words[indptr[i]:indptr[i + 1]]``.
    """
    documents = np.repeat(np.arange(len(lengths)), lengths)
    known = ids > OOV
    documents, words = documents[known], ids[known]
    counts = np.bincount(documents, minlength=len(lengths))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return documents, words, indptr


def document_frequencies(ids, lengths, n_words):
    """How many documents contain each vocabulary index at least once, shape (n_words,)."""
    documents, words, _ = known_tokens(ids, lengths)
    pairs = np.unique(documents.astype(np.int64) * n_words + words)
    return np.bincount(pairs % n_words, minlength=n_words)


def _weighted_mean(documents, words, indptr, table, weights):
    """Sum of ``weights * table[words]`` per document (a sparse product), over the weight sum."""
    n_documents = len(indptr) - 1
    terms = sparse.csr_matrix((weights, words, indptr), shape=(n_documents, len(table)))
    totals = np.bincount(documents, weights=weights, minlength=n_documents)
    totals[totals == 0] = 1  # documents without a known token: 0 / 1
    return (terms @ table) / totals.astype(table.dtype)[:, None]


@cached_njit
def _max(words, indptr, table):
    """Element-wise maximum of ``table[words]`` per document; zeros for empty documents."""
    n_columns = table.shape[1]
    out = np.zeros((len(indptr) - 1, n_columns), dtype=table.dtype)
    for document in range(len(indptr) - 1):
        first, stop = indptr[document], indptr[document + 1]
        if first == stop:
            continue
        row = out[document]
        row[:] = table[words[first]]
        for k in range(first + 1, stop):
            vector = table[words[k]]
            for j in range(n_columns):
                if vector[j] > row[j]:
                    row[j] = vector[j]
    return out


def pool(ids, lengths, table, pooling, idf=None):
    """One vector per document from the rows of ``table`` of its known tokens.

    Parameters
    ----------
    ids, lengths : ndarray
        The corpus, as ``_text_io.encode`` returns it.
    table : ndarray of shape (n_words, D)
        Word vectors by vocabulary index.
    pooling : {"mean", "max", "mean+max", "tfidf"}
        "tfidf" is the mean weighted by term frequency times ``idf``.
    idf : ndarray of shape (n_words,), optional
        Required for "tfidf".

    Returns
    -------
    ndarray of shape (n_documents, D), or (n_documents, 2 * D) for "mean+max";
    zero rows for documents without a known token.
    """
    documents, words, indptr = known_tokens(ids, lengths)
    parts = []
    if pooling in ("mean", "mean+max"):
        ones = np.ones(len(words), table.dtype)
        parts.append(_weighted_mean(documents, words, indptr, table, ones))
    if pooling in ("max", "mean+max"):
        parts.append(_max(words, indptr, table))
    if pooling == "tfidf":
        weights = idf[words].astype(table.dtype)
        parts.append(_weighted_mean(documents, words, indptr, table, weights))
    return parts[0] if len(parts) == 1 else np.hstack(parts)


def index_sequences(ids, lengths, max_len):
    """Token indices as rows of ``max_len``: cut at the end, padded with zeros at the end.

    Returns
    -------
    ndarray of int32, shape (n_documents, max_len)
    """
    out = np.zeros((len(lengths), max_len), dtype=np.int32)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    documents = np.repeat(np.arange(len(lengths)), lengths)
    positions = np.arange(len(ids)) - np.repeat(starts, lengths)
    kept = positions < max_len
    out[documents[kept], positions[kept]] = ids[kept]
    return out
