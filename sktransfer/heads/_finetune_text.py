"""End-to-end fine-tuning of a pretrained sentence encoder with a new head, on raw text."""

import math
import os
from numbers import Integral, Real

import keras
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._keras._distribution import DISTRIBUTIONS, distribution_scope
from .._keras._precision import PRECISIONS, build_in, resolve_precision
from .._source_models import ExportedSentenceEncoder, SharesSourceModel
from ..text import _bert_layers  # noqa: F401  (registers the layers a pickled model_ holds)
from ._base import SklearnKerasClassifier
from ._dense import check_layer_sizes
from ._finetune import FineTuningPhases

ENCODER_NAME = "sentence_encoder"


def _model_files(model, owner):
    """The model files ``model`` names (a name, folder, zip or fitted source classifier)."""
    from ..text._bert import file_identity, read_model_files, resolve_model_source
    from ..text._sentence import source_encoder

    source = source_encoder(model, owner)
    if source is not None:
        return source[0]
    path, _ = resolve_model_source(model)
    key = file_identity(path)
    if _FILES and _FILES[0][0] == key:
        return _FILES[0][1]
    files = read_model_files(path)
    _FILES[:] = [(key, files)]
    return files


_FILES = []  # the last model files read: (identity, files), so that a grid search reads once


class _TextTokens(TransformerMixin, BaseEstimator):
    """Texts -> int32 token ids (n, longest), padded with the model's pad id at the end.

    Fitted on the model files' tokenizer; a document that is not a string
    raises a ValueError naming it. Each text is cut at ``max_length`` tokens.
    """

    def __init__(self, files=None, max_length=None):
        self.files = files
        self.max_length = max_length

    def fit(self, X, y=None):
        from ..text._bert import EncoderSpec

        self.tokenizer_json_ = self.files["tokenizer.json"]
        spec = EncoderSpec(self.files)
        if self.max_length is not None and self.max_length > spec.max_positions:
            raise ValueError(
                f"max_length={self.max_length} is more than the model's "
                f"max_position_embeddings ({spec.max_positions}); set at most that"
            )
        self.max_length_ = int(self.max_length or spec.max_seq_length)
        return self

    def _tokenizer(self):
        from ..text._bert import load_tokenizer

        tokenizer = self.__dict__.get("_tokenizer_in_use")
        if tokenizer is None:
            tokenizer = self._tokenizer_in_use = load_tokenizer(self.tokenizer_json_)
            tokenizer.enable_truncation(self.max_length_)
        return tokenizer

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_tokenizer_in_use", None)
        state["files"] = None  # the fitted tokenizer is all that transform needs
        return state

    def transform(self, X):
        from .._items import describe_item
        from ..text._bert import pad_batch
        from ..text._sentence import text_problem

        for index, item in enumerate(X):
            problem = text_problem(item)
            if problem is not None:
                raise ValueError(
                    f"{describe_item('document', index, item, files=False)}: {problem}"
                )
        tokenizer = self._tokenizer()
        pad = tokenizer.token_to_id("[PAD]") or 0
        ids = [encoding.ids for encoding in tokenizer.encode_batch(list(X))]
        return pad_batch(ids, pad)[0]


class FineTuneTextClassifier(SharesSourceModel, FineTuningPhases, SklearnKerasClassifier):
    """A pretrained sentence encoder and a new softmax head, trained end to end on texts.

    The text counterpart of ``FineTuneImageClassifier``: the encoder of
    ``SentenceEmbedder`` (all-MiniLM-L6-v2 by default) gives each text its
    pooled, normalised vector, and a dense softmax layer on it learns the
    classes. ``trainable_layers`` sets how much of the encoder learns: 0
    keeps it frozen (only the head trains, on vectors computed once per
    text and reused every epoch, the same as ``SentenceEmbedder`` followed by
    a softmax regression); k unfreezes the top k transformer layers; "all"
    also the embeddings. It is an ordinary parameter, so ``GridSearchCV``
    can choose it.

    Training runs in two phases: ``freeze_epochs`` epochs with the encoder
    frozen, so that the new head's random weights do not wreck the
    pretrained ones (a head without hidden layers starts from scikit-learn's
    ``LogisticRegression`` fitted on the frozen vectors of the training
    rows, so that it is never less trained than that baseline), then the remaining ``epochs - freeze_epochs`` epochs
    with the chosen layers unfrozen at ``learning_rate * lr_mult``, warmed
    up linearly over the first ``warmup_fraction`` of that phase's steps
    from 0, then decayed to 0 along a cosine (the schedule transformers are
    usually fine-tuned with). Early stopping watches the loss on a
    stratified dev split in both phases and keeps the best weights.

    Parameters
    ----------
    encoder : str, path-like or estimator, default="all-MiniLM-L6-v2"
        The pretrained encoder, as ``SentenceEmbedder``'s ``encoder``: the
        offline all-MiniLM-L6-v2, a Hugging Face model folder (or zip), a hub
        name, or a fitted ``FineTuneTextClassifier`` of a source task (or its
        pipeline or model file), whose fine-tuned encoder is the start.
    max_length : int or None, default=None
        Longest input in tokens; longer texts are truncated. None: the
        model's own (256 for all-MiniLM-L6-v2). Texts are padded to the
        longest one of the set, so one long text makes every batch longer.
    trainable_layers : int >= 0 or "all", default=0
    freeze_epochs : int, default=3
        Head warm-up epochs before unfreezing (ignored when
        ``trainable_layers=0``).
    lr_mult : float, default=0.03
        Learning-rate multiplier once the encoder is unfrozen (3e-5 with the
        default ``learning_rate``, a usual rate for fine-tuning BERT).
    warmup_fraction : float in [0, 1), default=0.1
        Share of the unfrozen phase's steps during which the learning rate
        rises linearly from 0.
    hidden_layer_sizes : tuple of int, default=()
        Dense layers of the head between the sentence vector and softmax.
    dropout : float in [0, 1), default=0.1
        Dropout before each dense layer of the head (the encoder has its own
        dropout, at its configuration's rate, when unfrozen).
    precision : {"float32", "bfloat16", "float16", "auto"}, default="float32"
        The float type the encoder computes in, as in ``SentenceEmbedder``;
        the head stays float32, float16 training scales the loss.
    distribution : None, "mirrored" or tf.distribute.Strategy, default=None
        As in ``FineTuneImageClassifier``.
    optimizer, learning_rate, epochs, batch_size, validation_fraction,
    early_stopping, patience, class_weight, random_state, verbose, **kwargs
        As in ``DenseHeadClassifier`` (here ``learning_rate=1e-3``,
        ``epochs=10``, ``patience=3``, ``batch_size=16``).

    Attributes
    ----------
    classes_, model_, history_, best_epoch_
        As in ``DenseHeadClassifier``; ``history_`` spans both phases.
    feature_encoder_
        The fitted tokeniser: texts to padded token ids.
    n_trainable_encoder_weights_ : int
        Scalars of the encoder that the second phase trains.
    precision_ : str

    Notes
    -----
    The network's input is one int32 array of token ids ``(n_texts,
    n_tokens)``, padded at the end with the pad id; the attention mask is
    computed from it (``ids != pad``), and ``model_.get_layer("sentence_encoder")``
    is the encoder, whose inputs are ``input_ids`` and ``attention_mask``.

    Examples
    --------
    >>> texts = ["a great film", "loved it", "awful plot", "boring and bad"] * 2
    >>> labels = ["pos", "pos", "neg", "neg"] * 2
    >>> model = FineTuneTextClassifier(epochs=2, early_stopping=False,
    ...                                random_state=0).fit(texts, labels)
    >>> model.predict_proba(["what a film"]).shape
    (1, 2)
    """

    _sktransfer_modality = "text"
    _source_parameter = "encoder"
    _frozen_output_layer = "sentence_vector"
    _starts_from_linear_probe = True
    _parameter_constraints = {
        **SklearnKerasClassifier._parameter_constraints,
        "encoder": [str, os.PathLike, BaseEstimator],
        "max_length": [Interval(Integral, 2, None, closed="left"), None],
        "trainable_layers": [Interval(Integral, 0, None, closed="left"), StrOptions({"all"})],
        "freeze_epochs": [Interval(Integral, 0, None, closed="left")],
        "lr_mult": [Interval(Real, 0, None, closed="neither")],
        "warmup_fraction": [Interval(Real, 0, 1, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "precision": [StrOptions(set(PRECISIONS))],
        "distribution": [None, StrOptions(set(DISTRIBUTIONS)), HasMethods(["scope", "run"])],
    }

    def __init__(
        self,
        *,
        encoder="all-MiniLM-L6-v2",
        max_length=None,
        trainable_layers=0,
        freeze_epochs=3,
        lr_mult=0.03,
        warmup_fraction=0.1,
        hidden_layer_sizes=(),
        dropout=0.1,
        precision="float32",
        distribution=None,
        optimizer="adam",
        learning_rate=1e-3,
        epochs=10,
        batch_size=16,
        validation_fraction=0.1,
        early_stopping=True,
        patience=3,
        class_weight=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            optimizer=optimizer,
            learning_rate=learning_rate,
            epochs=epochs,
            batch_size=batch_size,
            validation_fraction=validation_fraction,
            early_stopping=early_stopping,
            patience=patience,
            class_weight=class_weight,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.encoder = encoder
        self.max_length = max_length
        self.trainable_layers = trainable_layers
        self.freeze_epochs = freeze_epochs
        self.lr_mult = lr_mult
        self.warmup_fraction = warmup_fraction
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.precision = precision
        self.distribution = distribution

    # -- parameters and inputs -------------------------------------------------------

    def _training_scope(self):
        return distribution_scope(self.distribution)

    def _check_parameter_values(self):
        check_layer_sizes(self.hidden_layer_sizes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X is texts, not 2-D features.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _as_input_list(self, X):
        from ..text._io import as_document_list

        return as_document_list(X)

    @property
    def feature_encoder(self):
        """Tokenises texts for the network (SciKeras' input hook)."""
        return _TextTokens(_model_files(self.encoder, type(self).__name__), self.max_length)

    # -- network ---------------------------------------------------------------------

    def _build_network(self, meta):
        from ..text._bert import EncoderSpec, build_encoder, load_weights
        from ..text._bert_layers import PaddingMask

        files = _model_files(self.encoder, type(self).__name__)
        spec = EncoderSpec(files)
        self.precision_ = resolve_precision(self.precision)
        encoder = build_in(self.precision_, lambda: build_encoder(spec, name=ENCODER_NAME))
        load_weights(encoder, spec, files["model.safetensors"])
        self.encoder_files_ = {k: v for k, v in files.items() if k != "model.safetensors"}
        encoder.trainable = False
        ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        pad = int(spec.config.get("pad_token_id", 0))
        mask = PaddingMask(pad, name="padding_mask")(ids)
        # The encoder's output by name in this graph: what the frozen phase computes once.
        x = keras.layers.Identity(name="sentence_vector")(encoder([ids, mask]))
        for units in self.hidden_layer_sizes:
            x = keras.layers.Dropout(self.dropout)(x) if self.dropout else x
            x = keras.layers.Dense(units, activation="relu")(x)
        if self.dropout:
            x = keras.layers.Dropout(self.dropout)(x)
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax", dtype="float32")(x)
        return keras.Model(ids, outputs)

    def _encoder(self, model):
        return model.get_layer(ENCODER_NAME)

    _backbone_model = _encoder

    def _unfreeze(self, model):
        """Make the top ``trainable_layers`` transformer layers trainable ("all": everything)."""
        from ..text._bert import EncoderSpec, set_trainable_layers

        encoder = self._encoder(model)
        n_layers = EncoderSpec({**self.encoder_files_, "model.safetensors": b""}).num_layers
        encoder.trainable = True
        return set_trainable_layers(encoder, self.trainable_layers, n_layers)

    def _frozen_activations_reusable(self):
        return True

    def _phase_learning_rate(self, learning_rate, n_epochs, n_samples, unfrozen):
        """Warm-up then cosine decay over the unfrozen phase's steps; constant while frozen."""
        if not unfrozen:
            return learning_rate
        n_train = n_samples - (
            max(math.ceil(self.validation_fraction * n_samples), 2) if self.early_stopping else 0
        )
        from ..text._contrastive import learning_rate_schedule

        steps = max(math.ceil(n_train / self.batch_size) * n_epochs, 1)
        return learning_rate_schedule(learning_rate, steps, self.warmup_fraction)

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        super()._fit_keras_model(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)
        self.n_trainable_encoder_weights_ = self.n_trainable_backbone_weights_
        del self.n_trainable_backbone_weights_

    # -- as a source model -----------------------------------------------------------

    def __sktransfer_export__(self, kind):
        """The fine-tuned encoder (kind ``"sentence_encoder"``) of the export protocol.

        Its model files in Hugging Face format, without the head on top; see
        ``sktransfer._source_models``.
        """
        if kind != "sentence_encoder":
            return NotImplemented
        check_is_fitted(self)
        return ExportedSentenceEncoder(self._encoder_files())

    def _encoder_files(self):
        """The fine-tuned encoder's model files (Hugging Face format, by name)."""
        from ..text._bert import EncoderSpec, encoder_files

        spec = EncoderSpec({**self.encoder_files_, "model.safetensors": b""})
        return encoder_files(self._encoder(self.model_), spec, self.encoder_files_)
