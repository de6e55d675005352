"""Turning what users hold (texts, token lists, text files) into validated token lists."""

import codecs
import os
import re
from collections.abc import Iterator
from itertools import chain, repeat

import numpy as np

from .._items import as_items

TOKEN_PATTERN = re.compile(r"\w+")
"""The default tokens: maximal runs of Unicode word characters, after lower-casing."""

PAD, OOV = 0, 1
"""Reserved token indices: padding and out-of-vocabulary; known words start at 2."""

MAX_TRAINING_LENGTH = 10_000
"""gensim trains on at most this many tokens of a sentence and silently drops the rest."""


def default_tokenize(text):
    """Lower-case ``text`` and return its Unicode word tokens.

    Examples
    --------
    >>> default_tokenize("Crème brûlée, twice!")
    ['crème', 'brûlée', 'twice']
    """
    return TOKEN_PATTERN.findall(text.lower())


def check_text_codec(encoding, errors):
    """ValueError unless ``encoding`` names a codec and ``errors`` an error handler."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"encoding={encoding!r} is not a known text encoding") from None
    try:
        codecs.lookup_error(errors)
    except LookupError:
        raise ValueError(
            f"errors={errors!r} is not a known error handler; use 'strict', 'replace', "
            "'ignore', 'backslashreplace' or 'surrogateescape'"
        ) from None


def numeric_documents(X):
    """Refuse a numeric array: documents are texts or token lists, not numbers."""
    raise ValueError(
        "X must be a 1-D collection of documents (strings or token lists), got a numeric "
        f"array of shape {X.shape} and dtype {X.dtype}"
    )


def as_document_list(X, what="X"):
    """Split ``X`` into a list of documents, each a string, bytes or a sequence of tokens.

    Accepted: a sequence (list, tuple, pandas Series, 1-D array) of documents;
    a single-column table (DataFrame, 2-D array of shape (n, 1)) of texts; any
    other iterable of documents. Items are checked later, by ``tokenize_documents``.
    """
    return list(as_items(X, "document", numeric=numeric_documents, what=what))


def _as_text(item, *, encoding, errors, where):
    """The text of one document, or a ValueError naming it."""
    if isinstance(item, str):
        return item
    if isinstance(item, bytes):
        try:
            return item.decode(encoding, errors)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{where}: bytes that are not valid {encoding} ({exc}); decode them "
                "first, or set encoding= or errors='replace'"
            ) from None
    if item is None or (isinstance(item, float) and item != item):
        raise ValueError(f"{where}: missing ({item!r}); fill or drop missing texts first")
    raise ValueError(
        f"{where}: expected a string or a list of string tokens, "
        f"got {type(item).__name__} {str(item)[:40]!r}"
    )


def _check_tokens(tokens, where):
    """``tokens`` as a list if every token is a string, else a ValueError naming it."""
    tokens = list(tokens)
    if not set(map(type, tokens)) <= {str}:
        for position, token in enumerate(tokens):
            if not isinstance(token, str):
                raise ValueError(
                    f"{where}, token {position}: expected a string, "
                    f"got {type(token).__name__} {token!r}"
                )
    return tokens


def _tokenizer_output(tokens, where):
    """What a user's tokenizer returned, if it is a list of strings."""
    if not isinstance(tokens, list):
        raise ValueError(
            f"{where}: the tokenizer returned {type(tokens).__name__} {tokens!r:.40}, "
            "expected a list of strings"
        )
    return _check_tokens(tokens, where)


def tokenize_documents(
    documents,
    *,
    tokenizer=None,
    encoding="utf-8",
    errors="strict",
    what="document",
    names=None,
    failures=None,
):
    """One list of string tokens per document.

    Strings (and bytes, decoded with ``encoding``) are split by ``tokenizer``
    (default: ``default_tokenize``); sequences of tokens are taken as they
    are. The common case, a list of strings with the default tokenizer, takes
    one C-level ``map`` over the documents.

    ``names``, if given, holds the index each document is called by in error
    messages (its position in the caller's input); by default its position
    in ``documents``.

    Raises
    ------
    ValueError
        Naming the first bad document (``what`` and its index): missing,
        undecodable bytes, not text, or a token that is not a string. When
        ``failures`` (a dict) is given, bad documents are recorded there
        instead, by position, with their message, and get no tokens.
    """
    if tokenizer is None and set(map(type, documents)) <= {str}:
        return list(map(default_tokenize, documents))
    token_lists = []
    for index, item in enumerate(documents):
        where = f"{what} {index if names is None else int(names[index])}"
        try:
            if isinstance(item, (list, tuple, np.ndarray)):
                token_lists.append(_check_tokens(item, where))
                continue
            text = _as_text(item, encoding=encoding, errors=errors, where=where)
            if tokenizer is None:
                token_lists.append(default_tokenize(text))
            else:
                token_lists.append(_tokenizer_output(tokenizer(text), where))
        except ValueError as exc:
            if failures is None:
                raise
            failures[index] = str(exc)
            token_lists.append([])
    return token_lists


def training_chunks(token_lists):
    """Yield the token lists, cut into pieces gensim trains on in full."""
    for tokens in token_lists:
        if len(tokens) <= MAX_TRAINING_LENGTH:
            yield tokens
        else:
            for start in range(0, len(tokens), MAX_TRAINING_LENGTH):
                yield tokens[start : start + MAX_TRAINING_LENGTH]


class TokenListCorpus:
    """Token lists held in memory, re-iterable as gensim needs (one pass per epoch)."""

    def __init__(self, token_lists):
        self.token_lists = token_lists

    def __iter__(self):
        return training_chunks(self.token_lists)


class TextFileCorpus:
    """A text file with one document per line, streamed as token lists on each pass.

    The file is never read whole: each pass (gensim makes one to build the
    vocabulary and one per epoch) reads it line by line.
    """

    def __init__(self, path, *, tokenizer, encoding, errors):
        self.path = os.fspath(path)
        self.tokenizer = default_tokenize if tokenizer is None else tokenizer
        self.encoding = encoding
        self.errors = errors

    def check(self):
        """ValueError unless the path is a readable file."""
        if not os.path.exists(self.path):
            raise ValueError(f"source corpus file not found: {self.path!r}")
        if os.path.isdir(self.path):
            raise ValueError(
                f"source corpus {self.path!r} is a directory; expected a text file with one "
                "document per line"
            )

    def _line_of_failure(self):
        """Number (from 1) of the first line that does not decode; read again in binary."""
        decoder = codecs.getincrementaldecoder(self.encoding)("strict")
        newlines = 0
        with open(self.path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 16), b""):
                try:
                    text = decoder.decode(block)
                except UnicodeDecodeError as exc:
                    return newlines + block[: exc.start].count(b"\n") + 1
                newlines += text.count("\n")
        return newlines + 1

    def __iter__(self):
        try:
            with open(self.path, encoding=self.encoding, errors=self.errors) as stream:
                for number, line in enumerate(stream, 1):
                    tokens = self.tokenizer(line)
                    if self.tokenizer is not default_tokenize:
                        where = f"source corpus {self.path!r}, line {number}"
                        tokens = _tokenizer_output(tokens, where)
                    yield from training_chunks((tokens,))
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"source corpus {self.path!r}, line {self._line_of_failure()}: not valid "
                f"{self.encoding} ({exc.reason}: byte 0x{exc.object[exc.start]:02x}); set "
                "encoding= to the file's encoding (e.g. 'cp1252'), or errors='replace' to "
                "substitute U+FFFD"
            ) from None


def as_training_corpus(source, *, tokenizer, encoding, errors):
    """A re-iterable corpus of token lists for gensim, from a path or an iterable of documents.

    A path is streamed (``TextFileCorpus``); an iterable of documents is
    checked and tokenized once, into memory (a one-shot iterator is consumed).
    """
    if isinstance(source, (str, os.PathLike)):
        corpus = TextFileCorpus(source, tokenizer=tokenizer, encoding=encoding, errors=errors)
        corpus.check()
        return corpus
    if isinstance(source, Iterator):
        source = list(source)
    documents = as_document_list(source, what="source_corpus")
    return TokenListCorpus(
        tokenize_documents(
            documents,
            tokenizer=tokenizer,
            encoding=encoding,
            errors=errors,
            what="source_corpus document",
        )
    )


def encode(token_lists, vocabulary):
    """Vocabulary indices of every token, flattened, and each document's length.

    Unknown tokens get ``OOV``. The lookup runs in C (``map`` of ``dict.get``),
    with no Python bytecode per token.

    Returns
    -------
    ids : ndarray of int32, shape (n_tokens,)
    lengths : ndarray of int64, shape (n_documents,)
    """
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    ids = np.fromiter(
        map(vocabulary.get, chain.from_iterable(token_lists), repeat(OOV)),
        dtype=np.int32,
        count=int(lengths.sum()),
    )
    return ids, lengths
