"""SentenceEmbedder: published similarities of the real all-MiniLM-L6-v2, and the encoder's
contract on a tiny random BERT in Hugging Face format (a NumPy forward pass as reference)."""

import os
import pickle
import shutil

import joblib
import numpy as np
import pytest
from safetensors.numpy import load_file

from sktransfer import SentenceEmbedder
from sktransfer.text._bert import read_model_files
from tests.fresh_process import transform_in_fresh_process
from tests.text.tiny_bert import numpy_forward, tiny_bert_folder, write_tiny_bert

# sentence-transformers' documentation for all-MiniLM-L6-v2: the semantic search example
# (examples/sentence_transformer/applications/semantic-search) and the quickstart's
# similarity matrix, rounded to 4 decimals there.
PUBLISHED = [
    ("A man is eating pasta.", "A man is eating food.", 0.7035),
    ("A man is eating pasta.", "A man is eating a piece of bread.", 0.5272),
    ("A man is eating pasta.", "A man is riding a horse.", 0.1889),
    ("A man is eating pasta.", "A man is riding a white horse on an enclosed ground.", 0.1047),
    ("A man is eating pasta.", "A cheetah is running behind its prey.", 0.0980),
    (
        "Someone in a gorilla costume is playing a set of drums.",
        "A monkey is playing drums.",
        0.6433,
    ),
    (
        "Someone in a gorilla costume is playing a set of drums.",
        "A woman is playing violin.",
        0.2564,
    ),
    ("Someone in a gorilla costume is playing a set of drums.", "A man is riding a horse.", 0.1389),
    ("The weather is lovely today.", "It's so sunny outside!", 0.6660),
    ("The weather is lovely today.", "He drove to the stadium.", 0.1046),
    ("It's so sunny outside!", "He drove to the stadium.", 0.1411),
]

TEXTS = [
    "the cat sat on the mat",
    "a great movie",
    "the plot was boring and the actor awful",
    "fun",
]


@pytest.fixture(scope="module")
def minilm():
    texts = sorted({t for pair in PUBLISHED for t in pair[:2]})
    embedder = SentenceEmbedder().fit(texts)
    return embedder, dict(zip(texts, embedder.transform(texts)))


def test_minilm_reproduces_the_published_similarities(minilm):
    embedder, vectors = minilm
    assert (embedder.n_features_out_, embedder.max_length_) == (384, 256)
    assert (embedder.pooling_, embedder.normalize_) == ("mean", True)
    got = [float(vectors[a] @ vectors[b]) for a, b, _ in PUBLISHED]
    np.testing.assert_allclose(got, [score for *_, score in PUBLISHED], atol=2e-4)


def test_minilm_texts_longer_than_the_tokenizer_files_128_are_read_to_256(minilm):
    embedder, _ = minilm
    long = " ".join(["word"] * 200)  # 202 tokens: MiniLM's tokenizer.json would cut at 128
    cut = SentenceEmbedder(max_length=128).fit([long]).transform([long])
    assert not np.allclose(embedder.transform([long]), cut, atol=1e-3)


def _tiny(**params):
    return SentenceEmbedder(encoder=tiny_bert_folder(), **params).fit(TEXTS)


def _ids(embedder, texts):
    return embedder._weights().token_ids(texts, embedder.max_length_)


def test_tiny_bert_matches_a_numpy_forward_pass_in_batches_of_mixed_length():
    embedder = _tiny(batch_size=2)
    state = load_file(os.path.join(tiny_bert_folder(), "model.safetensors"))
    expected = [numpy_forward(state, ids) for ids in _ids(embedder, TEXTS)]
    np.testing.assert_allclose(embedder.transform(TEXTS), expected, atol=2e-5)
    # the tokenizer file's fixed padding to 16 is not applied: [CLS] fun [SEP] is 3 tokens
    assert len(_ids(embedder, ["fun"])[0]) == 3


@pytest.mark.parametrize("pooling", ["cls", "max"])
def test_the_pooling_the_model_configures_is_used(tmp_path, pooling):
    folder = write_tiny_bert(tmp_path / "m", pooling=pooling, normalize=False)
    embedder = SentenceEmbedder(encoder=folder).fit(TEXTS)
    state = load_file(folder / "model.safetensors")
    expected = [numpy_forward(state, ids, pooling, False) for ids in _ids(embedder, TEXTS)]
    np.testing.assert_allclose(embedder.transform(TEXTS), expected, atol=2e-5)
    assert (embedder.pooling_, embedder.normalize_) == (pooling, False)


def test_a_plain_transformers_folder_is_mean_pooled_without_normalisation(tmp_path):
    folder = write_tiny_bert(tmp_path / "m", sentence_transformers=False)
    embedder = SentenceEmbedder(encoder=folder).fit(TEXTS)
    assert (embedder.pooling_, embedder.normalize_, embedder.max_length_) == ("mean", False, 64)


def test_long_texts_are_truncated_at_max_length():
    embedder = _tiny(max_length=6)
    long = "the cat sat on the mat and the dog sat on the log"
    np.testing.assert_allclose(
        embedder.transform([long]), embedder.transform(["the cat sat on"]), atol=1e-6
    )
    with pytest.raises(ValueError, match=r"max_length=65 is more than the model's max_position"):
        SentenceEmbedder(encoder=tiny_bert_folder(), max_length=65).fit(TEXTS)


def test_empty_and_unknown_only_texts_are_encoded_as_cls_sep():
    embedder = _tiny()
    assert _ids(embedder, ["", "   ", "😀😀"]) == [[2, 3], [2, 3], [2, 1, 3]]
    state = load_file(os.path.join(tiny_bert_folder(), "model.safetensors"))
    out = embedder.transform(["", "   ", "😀😀"])
    np.testing.assert_allclose(out[0], numpy_forward(state, [2, 3]), atol=2e-5)
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, atol=1e-6)


def test_a_folder_that_is_no_model_names_what_is_missing(tmp_path):
    folder = write_tiny_bert(tmp_path / "m")
    os.rename(folder / "model.safetensors", folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match=r"has no model.safetensors .*pytorch_model.bin"):
        SentenceEmbedder(encoder=folder).fit(TEXTS)
    with pytest.raises(ValueError, match=r"no such folder or file"):
        SentenceEmbedder(encoder=str(tmp_path / "nowhere")).fit(TEXTS)


def test_a_zipped_folder_gives_the_same_vectors(tmp_path):
    archive = shutil.make_archive(str(tmp_path / "tiny"), "zip", tiny_bert_folder())
    assert sorted(read_model_files(archive)) == sorted(read_model_files(tiny_bert_folder()))
    np.testing.assert_array_equal(
        SentenceEmbedder(encoder=archive).fit(TEXTS).transform(TEXTS), _tiny().transform(TEXTS)
    )


@pytest.mark.parametrize("changed", ["model.safetensors", "tokenizer.json"])
def test_changed_model_files_after_pickling_are_a_clear_error(tmp_path, changed):
    folder = write_tiny_bert(tmp_path / "m")
    saved = pickle.dumps(SentenceEmbedder(encoder=folder).fit(TEXTS))
    other = write_tiny_bert(tmp_path / "other", seed=1)
    if changed == "tokenizer.json":
        text = (folder / changed).read_text().replace('"movie"', '"moovie"')
        (folder / changed).write_text(text)
    else:
        shutil.copy(other / changed, folder / changed)
    with pytest.raises(ValueError, match=r"the weights from model folder .* changed since fit"):
        pickle.loads(saved).transform(TEXTS)


def test_pickles_hold_the_reference_and_predict_the_same_in_a_fresh_process(tmp_path):
    embedder = _tiny()
    expected = embedder.transform(TEXTS)
    assert len(pickle.dumps(embedder)) < 5000
    np.testing.assert_array_equal(transform_in_fresh_process(embedder, TEXTS, tmp_path), expected)
    joblib.dump(_tiny(embed_weights=True), tmp_path / "embedded.joblib")
    shutil.rmtree(tmp_path / "estimator.joblib", ignore_errors=True)
    loaded = joblib.load(tmp_path / "embedded.joblib")
    np.testing.assert_array_equal(loaded.transform(TEXTS), expected)
