"""The feature cache: each item extracted once, never a stale or mismatched row."""

import copy
import os
import pickle
import time
import warnings

import numpy as np
import pytest
from joblib import Parallel, delayed
from PIL import Image
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sktransfer import AudioSpectralFeatures, KerasImageFeatures, Word2VecEmbedder
from sktransfer.cache import FeatureCache
from sktransfer.datasets import load_fashion_mnist


@pytest.fixture(scope="module")
def fashion_files(tmp_path_factory):
    """24 real Fashion-MNIST images as PNG files, 3 classes, and their labels."""
    images, labels = load_fashion_mnist("test")
    chosen = np.concatenate([np.flatnonzero(labels == c)[:8] for c in (0, 1, 7)])
    root = tmp_path_factory.mktemp("fashion")
    paths = []
    for i in chosen:
        path = root / f"{i}.png"
        Image.fromarray(images[i]).save(path)
        paths.append(str(path))
    return paths, labels[chosen]


def lite0(**params):
    return KerasImageFeatures(backbone="efficientnet_lite0", **{"input_size": 32, **params})


def test_cached_rows_equal_extracted_rows_and_are_reused(fashion_files, tmp_path):
    paths, _ = fashion_files
    cache = FeatureCache(tmp_path / "cache")
    expected = lite0().fit(paths).transform(paths)
    features = lite0(cache=cache).fit(paths)
    first = features.transform(paths)
    assert (cache.hits, cache.misses) == (0, len(paths))
    again = features.transform(paths[::-1])
    assert (cache.hits, cache.misses) == (len(paths), len(paths))
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(again, expected[::-1])
    stats = cache.stats()
    assert stats["rows"] == len(paths) and stats["hits"] == len(paths)
    assert stats["bytes"] > len(paths) * 1280 * 4


def test_a_path_is_enough_and_arrays_are_keyed_by_content(tmp_path):
    images = load_fashion_mnist("test")[0][:6]
    features = lite0(cache=str(tmp_path)).fit(images)
    out = features.transform(images)
    cache = FeatureCache(tmp_path)
    assert cache.misses == 6
    # The same pixels at other positions, and one changed pixel: only that one is new.
    changed = images[::-1].copy()
    changed[0, 0, 0] ^= 1
    again = features.transform(changed)
    assert (cache.hits, cache.misses) == (5, 7)
    np.testing.assert_array_equal(again[1:], out[::-1][1:])
    np.testing.assert_allclose(
        again[:1], lite0().fit(changed).transform(changed[:1]), rtol=1e-4, atol=1e-5
    )


def test_a_file_edited_in_place_is_extracted_again(fashion_files, tmp_path):
    paths, _ = fashion_files
    edited = tmp_path / "edited.png"
    Image.open(paths[0]).save(edited)
    cache = FeatureCache(tmp_path / "cache")
    features = lite0(cache=cache).fit([str(edited)])
    before = features.transform([str(edited)])
    Image.open(paths[-1]).save(edited)  # same path, another picture
    after = features.transform([str(edited)])
    assert cache.misses == 2 and cache.hits == 0
    np.testing.assert_array_equal(after, lite0().fit([paths[-1]]).transform([paths[-1]]))
    assert not np.allclose(before, after)


def test_every_output_parameter_is_part_of_the_key(fashion_files, tmp_path):
    paths, _ = fashion_files
    cache = FeatureCache(tmp_path)
    lite0(cache=cache).fit(paths[:4]).transform(paths[:4])
    for changed in ({"pooling": "max"}, {"resize": "pad"}, {"input_size": 40}):
        out = lite0(cache=cache, **changed).fit(paths[:4]).transform(paths[:4])
        np.testing.assert_array_equal(out, lite0(**changed).fit(paths[:4]).transform(paths[:4]))
    assert cache.hits == 0 and cache.misses == 16
    # batch_size and n_jobs do not change features: the rows are shared.
    lite0(cache=cache, batch_size=3, n_jobs=2).fit(paths[:4]).transform(paths[:4])
    assert cache.hits == 4


def test_a_damaged_cache_file_is_recomputed_not_returned(fashion_files, tmp_path):
    paths, _ = fashion_files
    cache = FeatureCache(tmp_path)
    features = lite0(cache=cache).fit(paths[:3])
    expected = features.transform(paths[:3])
    rows = sorted((tmp_path / "rows").rglob("*.row"))
    data = bytearray(rows[0].read_bytes())
    data[-5] ^= 0xFF  # one flipped byte in a stored feature
    rows[0].write_bytes(bytes(data))
    rows[1].write_bytes(rows[1].read_bytes()[:40])  # truncated
    with pytest.warns(UserWarning, match="damaged"):
        again = features.transform(paths[:3])
    # Recomputed in a smaller batch: equal up to float32 rounding of the network's kernels.
    np.testing.assert_allclose(again, expected, rtol=1e-4, atol=1e-5)
    assert (cache.hits, cache.misses) == (1, 5)
    # A row stored under another key (a file copied over another) is refused too.
    rows = sorted((tmp_path / "rows").rglob("*.row"))
    rows[0].write_bytes(rows[1].read_bytes())
    with pytest.warns(UserWarning, match="damaged"):
        np.testing.assert_allclose(features.transform(paths[:3]), expected, rtol=1e-4, atol=1e-5)


def test_failed_items_are_never_cached(fashion_files, tmp_path):
    paths, _ = fashion_files
    cache = FeatureCache(tmp_path)
    items = [paths[0], str(tmp_path / "missing.png"), paths[1]]
    features = lite0(cache=cache, on_error="nan").fit(items)
    with pytest.warns(UserWarning, match=r"image 1 \("):
        out = features.transform(items)
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2]]).all()
    assert cache.stats()["rows"] == 2
    with pytest.raises(ValueError, match=r"image 1 \(.*missing\.png"):
        lite0(cache=cache).fit(items).transform(items)


def test_clone_deepcopy_and_pickle_keep_one_cache(tmp_path):
    cache = FeatureCache(tmp_path, max_bytes=10_000_000)
    features = lite0(cache=cache)
    assert clone(features).cache is cache
    assert copy.deepcopy(cache) is cache
    restored = pickle.loads(pickle.dumps(cache))
    assert restored == cache and restored.directory == cache.directory
    assert repr(cache) == f"FeatureCache({str(tmp_path)!r}, max_bytes=10000000)"
    with pytest.raises(ValueError, match="max_bytes"):
        FeatureCache(tmp_path, max_bytes=0)
    with pytest.raises(
        InvalidParameterError,
        match=r"^The 'cache' parameter of KerasImageFeatures must be None, an instance of 'str', "
        r"an instance of 'os.PathLike' or an instance of 'sktransfer\.cache\.FeatureCache'\. "
        r"Got 3 instead.$",
    ):
        lite0(cache=3).fit(np.zeros((1, 32, 32, 3)))


def test_two_processes_writing_at_once_agree(fashion_files, tmp_path):
    paths, _ = fashion_files
    cache = FeatureCache(tmp_path)
    features = lite0(cache=cache).fit(paths)
    outs = Parallel(n_jobs=2, backend="loky")(delayed(features.transform)(paths) for _ in range(2))
    np.testing.assert_array_equal(outs[0], outs[1])
    stats = cache.stats()
    assert stats["rows"] == len(paths)
    assert stats["hits"] + stats["misses"] == 2 * len(paths)
    assert not list(tmp_path.rglob("*.tmp"))
    np.testing.assert_array_equal(features.transform(paths), outs[0])


def test_a_bounded_cache_evicts_the_least_recently_used_rows(tmp_path):
    clips = list(np.random.default_rng(4).standard_normal((8, 4096)).astype(np.float32))
    extractor = AudioSpectralFeatures(input_sr=22050, cache=FeatureCache(tmp_path)).fit(clips)
    # Six rows, one per clip, each last used at a time set here: clip 0's the oldest.
    files, start = [], time.time() - 3600
    for i, clip in enumerate(clips[:6]):
        before = set(tmp_path.rglob("*.row"))
        extractor.transform([clip])
        (written,) = set(tmp_path.rglob("*.row")) - before
        os.utime(written, (start + i, start + i))
        files.append(written)
    extractor.transform(clips[:2])  # hits: clips 0 and 1 become the most recently used
    assert FeatureCache(tmp_path).hits == 2
    bounded = FeatureCache(tmp_path, max_bytes=5 * files[0].stat().st_size)
    extractor.set_params(cache=bounded).transform(clips[6:])  # 8 rows: 3 must go
    kept = [file.exists() for file in files]
    assert kept == [True, True, False, False, False, True], "not the least recently used"
    assert bounded.stats()["rows"] == 5


def test_grid_search_extracts_each_image_once(fashion_files, tmp_path, counting):
    paths, labels = fashion_files
    CountingImageFeatures = counting(KerasImageFeatures)
    pipeline = make_pipeline(
        CountingImageFeatures(backbone="efficientnet_lite0", input_size=32, cache=tmp_path),
        LogisticRegression(max_iter=500),
    )
    grid = GridSearchCV(pipeline, {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=3)
    grid.fit(paths, labels)
    assert CountingImageFeatures.extracted == len(paths)  # 3 folds x 3 candidates + refit: once
    assert FeatureCache(tmp_path).hits == (3 * 3 + 1) * len(paths) - len(paths)


def test_audio_rows_are_cached_by_samples_and_parameters(spoken_words, tmp_path):
    paths, _ = spoken_words
    cache = FeatureCache(tmp_path)
    expected = AudioSpectralFeatures().fit(paths[:4]).transform(paths[:4])
    cached = AudioSpectralFeatures(cache=cache).fit(paths[:4])
    np.testing.assert_array_equal(cached.transform(paths[:4]), expected)
    np.testing.assert_array_equal(cached.transform(paths[:4]), expected)
    assert (cache.hits, cache.misses) == (4, 4)
    AudioSpectralFeatures(cache=cache, n_mfcc=20).fit(paths[:4]).transform(paths[:4])
    assert cache.misses == 8
    waveform = np.sin(np.arange(8000, dtype=np.float32) / 7)
    by_rate = [
        AudioSpectralFeatures(input_sr=sr, cache=cache).fit([waveform]).transform([waveform])
        for sr in (16000, 22050)
    ]
    assert cache.misses == 10 and not np.allclose(by_rate[0], by_rate[1])


def test_text_rows_depend_on_the_fitted_vectors(tmp_path):
    docs = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]
    cache = FeatureCache(tmp_path)
    params = dict(vector_size=8, random_state=0, cache=cache)
    embedder = Word2VecEmbedder(**params).fit(docs)
    first = embedder.transform(docs)
    np.testing.assert_array_equal(embedder.transform(docs), first)
    assert (cache.hits, cache.misses) == (3, 3)
    np.testing.assert_array_equal(
        first, Word2VecEmbedder(**{**params, "cache": None}).fit_transform(docs)
    )
    # Vectors learned from other text: other rows, never the stored ones.
    other = Word2VecEmbedder(**{**params, "random_state": 1}).fit(docs)
    np.testing.assert_array_equal(
        other.transform(docs),
        Word2VecEmbedder(**{**params, "random_state": 1, "cache": None}).fit(docs).transform(docs),
    )
    assert cache.misses == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match=r"document 1\)"):
            embedder.transform(["a cat", "zebra quagga"])
