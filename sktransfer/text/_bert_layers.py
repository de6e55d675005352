"""The Keras layers a BERT sentence encoder needs beyond Keras' own, registered for saving.

They are registered under the package ``sktransfer`` so that Keras can save
and reload (and ``keras.models.clone_model`` can copy) any model holding them,
such as a fine-tuned text classifier's network.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="sktransfer")
class BertEmbeddings(keras.layers.Layer):
    """Word + position + token-type-0 embeddings: token ids (n, t) -> (n, t, hidden_size).

    Positions count from 0 at the first token; every token is of type 0 (one
    segment), as for single texts.
    """

    def __init__(self, vocab_size, hidden_size, max_positions, type_vocab_size, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.max_positions = max_positions
        self.type_vocab_size = type_vocab_size

    def build(self, input_shape):
        self.word_embeddings = self.add_weight(
            shape=(self.vocab_size, self.hidden_size), name="word_embeddings"
        )
        self.position_embeddings = self.add_weight(
            shape=(self.max_positions, self.hidden_size), name="position_embeddings"
        )
        self.token_type_embeddings = self.add_weight(
            shape=(self.type_vocab_size, self.hidden_size), name="token_type_embeddings"
        )

    def call(self, ids):
        words = ops.take(self.word_embeddings, ids, axis=0)
        positions = ops.take(self.position_embeddings, ops.arange(ops.shape(ids)[1]), axis=0)
        return words + positions[None] + self.token_type_embeddings[0]

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "max_positions": self.max_positions,
            "type_vocab_size": self.type_vocab_size,
        }


@keras.saving.register_keras_serializable(package="sktransfer")
class AttentionMask(keras.layers.Layer):
    """Attention mask (n, t) of 1 (token) and 0 (padding) -> boolean (n, 1, t).

    What every query position may attend to, as ``MultiHeadAttention`` takes it.
    """

    def call(self, mask):
        return ops.expand_dims(ops.cast(mask, "bool"), 1)


@keras.saving.register_keras_serializable(package="sktransfer")
class TokenPooling(keras.layers.Layer):
    """Hidden states (n, t, d) and attention mask (n, t) -> float32 (n, d).

    ``mode="mean"``: the mean over the real tokens (padding excluded, as
    sentence-transformers' mean pooling); ``"cls"``: the first ([CLS])
    token's state; ``"max"``: the maximum over the real tokens.
    """

    def __init__(self, mode="mean", **kwargs):
        super().__init__(**kwargs)
        self.mode = mode

    def call(self, hidden, mask):
        hidden = ops.cast(hidden, "float32")
        if self.mode == "cls":
            return hidden[:, 0]
        weights = ops.expand_dims(ops.cast(mask, "float32"), -1)
        if self.mode == "max":
            return ops.max(hidden - (1.0 - weights) * 1e9, axis=1)
        total = ops.sum(hidden * weights, axis=1)
        return total / ops.maximum(ops.sum(weights, axis=1), 1e-9)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="sktransfer", name="tanh_gelu")
def tanh_gelu(x):
    """GELU's tanh approximation, for models with ``hidden_act="gelu_new"``."""
    return keras.activations.gelu(x, approximate=True)


@keras.saving.register_keras_serializable(package="sktransfer")
class PaddingMask(keras.layers.Layer):
    """Token ids (n, t) -> int32 attention mask (n, t): 1 where the id is not ``pad_id``.

    Right-padded BERT inputs never hold the pad id ([PAD]) among real tokens.
    """

    def __init__(self, pad_id=0, **kwargs):
        super().__init__(**kwargs)
        self.pad_id = pad_id

    def call(self, ids):
        return ops.cast(ops.not_equal(ids, self.pad_id), "int32")

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}
