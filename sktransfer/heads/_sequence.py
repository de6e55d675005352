"""A convolutional LSTM text classifier on pretrained word vectors."""

from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._source_models import ExportedOnnx, ExportedWordVectors
from ..text import Word2VecEmbedder
from ._base import SklearnKerasClassifier


class SequenceClassifier(SklearnKerasClassifier):
    """Text classifier: word embeddings, Conv1D, max pooling, LSTM, softmax.

    The classic transfer of word vectors: the embedding layer starts from
    vectors learned on a large source corpus (or pretrained, such as GloVe),
    and ``trainable_embedding`` decides whether the target task may change
    them (True: fine-tuning) or not (False: pure feature reuse).

    Design: the classifier owns its embedder. ``embedder`` is a
    ``Word2VecEmbedder`` *parameter*; ``fit`` clones it, forces
    ``output="sequences"``, fits it on the training texts (or loads its
    pretrained vectors) and builds the embedding layer from the clone's
    ``embedding_matrix_``. So ``X`` is raw text (strings or token lists), the
    vocabulary and the network always come from the same fit, nobody wires the
    matrix by hand, and the embedder's own settings are ordinary nested
    parameters: ``clone``, ``GridSearchCV`` over ``embedder__pretrained`` or
    ``trainable_embedding``, and pickling all work as for any estimator. (A
    separate pipeline step could not do this: a scikit-learn step passes only
    its output array to the next one, not the vocabulary behind it.)

    Parameters
    ----------
    embedder : Word2VecEmbedder or None, default=None
        Source of the vocabulary and the initial word vectors. None:
        ``Word2VecEmbedder()`` (100-d vectors) trained on ``X``.
    trainable_embedding : bool, default=False
        Whether training updates the word vectors.
    conv_filters : int, default=32
    kernel_size : int, default=3
    pool_size : int, default=2
    lstm_units : int, default=100
    dropout : float in [0, 1), default=0.0
        Dropout rate on the input of the output layer, after the LSTM (the
        meaning of ``dropout`` on every head, see ``docs/conventions.md``).
    optimizer, learning_rate, epochs, batch_size, validation_fraction,
    early_stopping, patience, class_weight, random_state, verbose, **kwargs
        As in ``DenseHeadClassifier``.

    Attributes
    ----------
    feature_encoder_ : Word2VecEmbedder
        The fitted clone of ``embedder`` that turns texts into index sequences.
    classes_, model_, history_, best_epoch_
        As in ``DenseHeadClassifier``.

    Examples
    --------
    >>> from sktransfer import Word2VecEmbedder
    >>> texts = ["good fun film", "great fun", "dull boring film", "boring and bad"] * 5
    >>> labels = ["pos", "pos", "neg", "neg"] * 5
    >>> model = SequenceClassifier(
    ...     embedder=Word2VecEmbedder(vector_size=8, random_state=0),
    ...     lstm_units=8, epochs=30, early_stopping=False, learning_rate=0.01, random_state=0,
    ... ).fit(texts, labels)
    >>> model.predict(["fun film", "boring film"]).tolist()
    ['pos', 'neg']
    """

    _sktransfer_modality = "text"
    _parameter_constraints = {
        **SklearnKerasClassifier._parameter_constraints,
        "embedder": [Word2VecEmbedder, None],
        "trainable_embedding": ["boolean"],
        "conv_filters": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "pool_size": [Interval(Integral, 1, None, closed="left")],
        "lstm_units": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        embedder=None,
        trainable_embedding=False,
        conv_filters=32,
        kernel_size=3,
        pool_size=2,
        lstm_units=100,
        dropout=0.0,
        optimizer="adam",
        learning_rate=1e-3,
        epochs=20,
        batch_size=32,
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
        self.embedder = embedder
        self.trainable_embedding = trainable_embedding
        self.conv_filters = conv_filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.lstm_units = lstm_units
        self.dropout = dropout

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # X is a sequence of texts or token lists
        tags.input_tags.string = True
        return tags

    @property
    def feature_encoder(self):
        """An unfitted sequences-output clone of ``embedder`` (SciKeras' input hook)."""
        embedder = Word2VecEmbedder() if self.embedder is None else self.embedder
        embedder = clone(embedder).set_params(output="sequences")
        if self._random_state is not None and embedder.random_state is None:
            embedder.set_params(random_state=self._random_state)
        return embedder

    def _as_input_list(self, X):
        from ..text._io import as_document_list

        return as_document_list(X)

    def _build_network(self, meta):
        matrix = self.feature_encoder_.embedding_matrix_
        inputs = keras.Input(shape=(self.feature_encoder_.max_len_,), dtype="int32")
        embedding = keras.layers.Embedding(
            matrix.shape[0],
            matrix.shape[1],
            embeddings_initializer="zeros",
            trainable=self.trainable_embedding,
        )
        x = embedding(inputs)
        embedding.set_weights([matrix])
        x = keras.layers.Conv1D(
            self.conv_filters, self.kernel_size, padding="same", activation="relu"
        )(x)
        x = keras.layers.MaxPooling1D(self.pool_size, padding="same")(x)
        x = keras.layers.LSTM(self.lstm_units)(x)
        if self.dropout:
            x = keras.layers.Dropout(self.dropout)(x)
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(x)
        return keras.Model(inputs, outputs)

    @property
    def embedding_weights_(self):
        """The embedding layer's current word vectors, shape (n_words + 2, vector_size)."""
        return np.asarray(self.model_.layers[1].get_weights()[0])

    def __sktransfer_export__(self, kind):
        """The embedding layer's word vectors (kind ``"word_vectors"``) of the export protocol.

        Fine-tuned when it trained them, with the embedder's vocabulary; see
        ``sktransfer._source_models``.
        """
        if kind == "onnx":
            return ExportedOnnx(
                reason=(
                    "it takes raw texts, which its Word2VecEmbedder turns into word indices in Python "
                    "(gensim's vocabulary), which ONNX has no ops for. Keep this pipeline in Python "
                    "(joblib)"
                )
            )
        if kind != "word_vectors":
            return NotImplemented
        check_is_fitted(self)
        return ExportedWordVectors(self.feature_encoder_.vocabulary_, self.embedding_weights_)
