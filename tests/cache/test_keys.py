"""A cached row's key covers everything that shapes the row, and nothing else.

Each test changes one thing that docs/performance.md lists (a setting, the
weights' SHA-256, a library version, the tokenizer...) and nothing else, then
asserts that every item gets another key. A setting left out of the key would
serve rows computed with another value, silently. The weights' SHA-256 is held
equal where a setting would change it too (an audio filter bank depends on
``n_mels``), so that each part of the key is tested on its own.
"""

import copy
import shutil
import sys
import warnings

import keras
import numpy as np
import pytest
from sklearn.base import clone

from sktransfer import AudioSpectralFeatures, KerasImageFeatures, Word2VecEmbedder
from sktransfer.cache import FeatureCache

CLIPS = list(np.random.default_rng(2).standard_normal((3, 4096)).astype(np.float32))
IMAGES = np.random.default_rng(3).integers(0, 256, size=(2, 32, 32, 3), dtype=np.uint8)
DOCS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]


def variant(base, items, **params):
    """``base`` refitted with ``params`` changed, its weights' SHA-256 kept."""
    changed = clone(base).set_params(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not pretrained" for random weights
        changed.fit(items)
    changed.weights_sha256_ = base.weights_sha256_
    return changed


def with_weights_digest(base, digest):
    """A copy of ``base`` that uses its weights but records another SHA-256 for them."""
    other = copy.copy(base)
    other._weights_in_use = base._weights()
    other.weights_sha256_ = digest
    return other


def assert_every_key_differs(row_keys, base, other, items, what):
    before, after = row_keys(base, items), row_keys(other, items)
    assert len(set(before)) == len(items), "the items themselves must have distinct keys"
    shared = set(before) & set(after)
    assert not shared, f"{what} is not part of the key: {len(shared)} rows would be shared"


def assert_versions_are_keyed(row_keys, monkeypatch, base, items):
    modules = ["sktransfer", *base._computing_modules]
    if "keras" in modules:
        modules.append(keras.backend.backend())
    for name in modules:
        before = row_keys(base, items)
        monkeypatch.setattr(sys.modules[name], "__version__", "0.0.0-other", raising=False)
        assert not set(before) & set(row_keys(base, items)), f"{name}'s version is not keyed"
        monkeypatch.undo()


@pytest.fixture
def cache(tmp_path):
    return FeatureCache(tmp_path)


@pytest.fixture(scope="module")
def image_base(tmp_path_factory):
    cache = FeatureCache(tmp_path_factory.mktemp("image-keys"))
    return KerasImageFeatures(backbone="efficientnet_lite0", input_size=32, cache=cache).fit(IMAGES)


@pytest.mark.parametrize(
    "params",
    [
        {"backbone": "mobilenet_v3_small", "weights": None},
        {"layer": "block7a_project_bn"},
        {"pooling": "max"},
        {"input_size": 40},
        {"resize": "pad"},
        {"precision": "bfloat16"},
    ],
    ids=lambda params: next(iter(params)),
)
def test_image_keys_cover_each_output_setting(row_keys, image_base, params):
    other = variant(image_base, IMAGES, **params)
    assert_every_key_differs(row_keys, image_base, other, IMAGES, next(iter(params)))


def test_image_keys_cover_the_weights_and_library_versions(row_keys, image_base, monkeypatch):
    other = with_weights_digest(image_base, "0" * 64)  # another file, or the same one edited
    assert_every_key_differs(row_keys, image_base, other, IMAGES, "the weights' SHA-256")
    assert_versions_are_keyed(row_keys, monkeypatch, image_base, IMAGES)


@pytest.mark.parametrize(
    "params",
    [
        {"sr": 16000},
        {"input_sr": 16000},
        {"offset": 0.01},
        {"duration": 0.1},
        {"blocks": ("mfcc", "chroma")},
        {"n_mfcc": 20},
        {"n_mels": 64},
        {"n_fft": 1024},
        {"hop_length": 256},
        {"stats": ("mean", "std")},
    ],
    ids=lambda params: next(iter(params)),
)
def test_audio_keys_cover_each_loading_and_feature_parameter(row_keys, cache, params):
    base = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    other = variant(base, CLIPS, **params)
    assert_every_key_differs(row_keys, base, other, CLIPS, next(iter(params)))


def test_audio_keys_cover_the_filter_bank_and_library_versions(row_keys, cache, monkeypatch):
    base = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    other = with_weights_digest(base, "0" * 64)
    assert_every_key_differs(row_keys, base, other, CLIPS, "the weights' SHA-256")
    assert_versions_are_keyed(row_keys, monkeypatch, base, CLIPS)


def split_on_spaces(text):
    return text.split(" ")


def split_on_whitespace(text):
    return text.split()


# Same module and name as split_on_spaces, other bytecode: an edited tokenizer.
split_on_whitespace.__qualname__ = split_on_whitespace.__name__ = "split_on_spaces"


@pytest.mark.parametrize(
    "params",
    [
        {"tokenizer": split_on_spaces},
        {"encoding": "latin-1"},
        {"errors": "replace"},
        {"output": "sequences"},
        {"pooling": "max"},
        {"pooling": "tfidf"},
    ],
    ids=["tokenizer", "encoding", "errors", "output", "pooling=max", "pooling=tfidf"],
)
def test_text_keys_cover_each_output_setting(row_keys, cache, params):
    base = Word2VecEmbedder(vector_size=8, random_state=0, cache=cache).fit(DOCS)
    other = variant(base, DOCS, **params)
    assert_every_key_differs(row_keys, base, other, DOCS, next(iter(params)))


def test_text_keys_cover_the_tokenizer_code_max_length_vectors_and_versions(
    row_keys, cache, monkeypatch
):
    base = Word2VecEmbedder(
        vector_size=8, random_state=0, tokenizer=split_on_spaces, cache=cache
    ).fit(DOCS)
    edited = variant(base, DOCS, tokenizer=split_on_whitespace)
    assert_every_key_differs(row_keys, base, edited, DOCS, "the tokenizer's bytecode")
    sequences = variant(base, DOCS, output="sequences")
    longer = copy.copy(sequences)
    longer.max_len_ = sequences.max_len_ + 1
    assert_every_key_differs(row_keys, sequences, longer, DOCS, "the fitted max_len_")
    other = with_weights_digest(base, "0" * 64)
    assert_every_key_differs(row_keys, base, other, DOCS, "the word vectors' SHA-256")
    assert_versions_are_keyed(row_keys, monkeypatch, base, DOCS)


def test_settings_that_do_not_change_a_row_share_its_key(row_keys, cache):
    base = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    same = variant(base, CLIPS, n_jobs=2, verbose=1, on_error="nan")
    assert row_keys(same, CLIPS) == row_keys(base, CLIPS)


def test_a_renamed_file_is_the_same_item_and_an_edited_one_another(row_keys, cache, tmp_path):
    import soundfile as sf

    path = tmp_path / "clip.wav"
    sf.write(path, CLIPS[0], 22050)
    extractor = AudioSpectralFeatures(cache=cache).fit([str(path)])
    key = row_keys(extractor, [str(path)])
    renamed = tmp_path / "elsewhere" / "renamed.wav"
    renamed.parent.mkdir()
    shutil.move(path, renamed)
    assert row_keys(extractor, [str(renamed)]) == key
    first = extractor.transform([str(renamed)])
    sf.write(path, CLIPS[0], 22050)  # the same bytes under the first name: a hit
    np.testing.assert_array_equal(extractor.transform([str(path)]), first)
    assert (cache.hits, cache.misses) == (1, 1)
    sf.write(renamed, CLIPS[1], 22050)  # same name, other content
    assert row_keys(extractor, [str(renamed)]) != key
