"""A tiny, randomly initialised BERT sentence encoder in Hugging Face format, for fast tests.

Same files and architecture as all-MiniLM-L6-v2 (``config.json``,
``model.safetensors`` with Hugging Face's tensor names, a WordPiece
``tokenizer.json`` that pads every text to a fixed length as MiniLM's does,
``modules.json``, ``1_Pooling/config.json``, ``sentence_bert_config.json``),
with 2 layers of 16 dimensions, and a NumPy forward pass to check against.
"""

import json
import os
import tempfile

import numpy as np
from scipy.special import erf

WORDS = (
    "the a an and of to is was it this that movie film book great good bad awful "
    "boring fun loved hated plot actor story cat dog sat on mat log met eating pasta food"
).split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz"]
VOCAB += [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"] + list(".,!?'") + WORDS
CONFIG = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "hidden_act": "gelu",
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "max_position_embeddings": 64,
    "type_vocab_size": 2,
    "vocab_size": len(VOCAB),
    "layer_norm_eps": 1e-12,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "pad_token_id": 0,
}


def tokenizer_json(fixed_padding=16):
    """A BERT WordPiece tokenizer (lower-cased) as ``tokenizer.json`` text, padding to 16."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    tokenizer = Tokenizer(WordPiece({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer.enable_padding(length=fixed_padding, pad_id=0, pad_token="[PAD]")
    tokenizer.enable_truncation(fixed_padding)
    return tokenizer.to_str()


def random_state_dict(seed=0, config=CONFIG):
    """Random weights under Hugging Face's BERT tensor names (pooler and position ids too)."""
    rng = np.random.default_rng(seed)
    h, inner = config["hidden_size"], config["intermediate_size"]

    def normal(*shape):
        return (0.3 * rng.standard_normal(shape)).astype(np.float32)

    state = {
        "embeddings.word_embeddings.weight": normal(config["vocab_size"], h),
        "embeddings.position_embeddings.weight": normal(config["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": normal(config["type_vocab_size"], h),
        "embeddings.LayerNorm.weight": 1 + normal(h),
        "embeddings.LayerNorm.bias": normal(h),
        "embeddings.position_ids": np.arange(config["max_position_embeddings"])[None],
        "pooler.dense.weight": normal(h, h),
        "pooler.dense.bias": normal(h),
    }
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for name, shape in (
            ("attention.self.query", (h, h)),
            ("attention.self.key", (h, h)),
            ("attention.self.value", (h, h)),
            ("attention.output.dense", (h, h)),
            ("intermediate.dense", (inner, h)),
            ("output.dense", (h, inner)),
        ):
            state[p + name + ".weight"] = normal(*shape)
            state[p + name + ".bias"] = normal(shape[0])
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            state[p + name + ".weight"] = 1 + normal(h)
            state[p + name + ".bias"] = normal(h)
    return state


def write_tiny_bert(folder, *, seed=0, pooling="mean", normalize=True, sentence_transformers=True):
    """Write the tiny model's files into ``folder``; returns ``folder``."""
    from safetensors.numpy import save_file

    os.makedirs(folder, exist_ok=True)

    def write(name, text):
        path = os.path.join(folder, *name.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as stream:
            stream.write(text)

    write("config.json", json.dumps(CONFIG))
    write("tokenizer.json", tokenizer_json())
    save_file(random_state_dict(seed), os.path.join(folder, "model.safetensors"))
    if sentence_transformers:
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
        ]
        if normalize:
            modules.append(
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                }
            )
        write("modules.json", json.dumps(modules))
        write(
            "1_Pooling/config.json",
            json.dumps(
                {
                    "word_embedding_dimension": CONFIG["hidden_size"],
                    "pooling_mode_cls_token": pooling == "cls",
                    "pooling_mode_mean_tokens": pooling == "mean",
                    "pooling_mode_max_tokens": pooling == "max",
                    "pooling_mode_mean_sqrt_len_tokens": False,
                }
            ),
        )
        write("sentence_bert_config.json", json.dumps({"max_seq_length": 32}))
    return folder


_FOLDER = []


def tiny_bert_folder():
    """The session's tiny model folder (mean pooling, normalised), written on first use."""
    if not _FOLDER:
        _FOLDER.append(write_tiny_bert(os.path.join(tempfile.mkdtemp(), "tiny-bert")))
    return _FOLDER[0]


def numpy_forward(state, ids, pooling="mean", normalize=True, config=CONFIG):
    """Reference: BERT with exact GELU, pooled and normalised, for one unpadded text (NumPy)."""
    h, heads = config["hidden_size"], config["num_attention_heads"]
    size = h // heads
    eps = config["layer_norm_eps"]

    def norm(x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + eps) * state[name + ".weight"] + state[name + ".bias"]

    def dense(x, name):
        return x @ state[name + ".weight"].T + state[name + ".bias"]

    ids = np.asarray(ids)
    x = (
        state["embeddings.word_embeddings.weight"][ids]
        + state["embeddings.position_embeddings.weight"][: len(ids)]
        + state["embeddings.token_type_embeddings.weight"][0]
    ).astype(np.float64)
    x = norm(x, "embeddings.LayerNorm")
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q, k, v = (
            dense(x, p + f"attention.self.{part}").reshape(len(ids), heads, size).transpose(1, 0, 2)
            for part in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(size)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        context = (weights @ v).transpose(1, 0, 2).reshape(len(ids), h)
        x = norm(x + dense(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        inner = dense(x, p + "intermediate.dense")
        inner = 0.5 * inner * (1 + erf(inner / np.sqrt(2)))
        x = norm(x + dense(inner, p + "output.dense"), p + "output.LayerNorm")
    pooled = {"mean": x.mean(0), "cls": x[0], "max": x.max(0)}[pooling]
    return pooled / np.linalg.norm(pooled) if normalize else pooled
