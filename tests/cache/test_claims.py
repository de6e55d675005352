"""Claims: a row missing in several workers at once is computed by one and read by the others."""

import json
import socket
import subprocess
import sys
import threading
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import AudioSpectralFeatures
from sktransfer.cache import FeatureCache

CLIPS = list(np.random.default_rng(1).standard_normal((4, 4096)).astype(np.float32))


def claim_everything(cache, extractor, owner):
    """Write a claim by ``owner`` on every clip's row, as another worker would; return the keys."""
    keys = []

    def record(row_keys, compute):
        keys.extend(row_keys)
        raise LookupError  # stop before anything is looked up or computed

    cache._rows_for = record
    try:
        extractor.transform(CLIPS)
    except LookupError:
        pass
    finally:
        del cache._rows_for
    for key in keys:
        cache._store().write(cache._claim_name(key), json.dumps(owner).encode())
    return keys


def test_a_claim_whose_owner_died_is_taken_over(tmp_path):
    cache = FeatureCache(tmp_path)
    extractor = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    owner = {"host": socket.gethostname(), "pid": int(dead.stdout), "time": time.time()}
    claim_everything(cache, extractor, owner)
    out = extractor.transform(CLIPS)
    np.testing.assert_array_equal(
        out, AudioSpectralFeatures(input_sr=22050).fit(CLIPS).transform(CLIPS)
    )
    assert cache.misses == 4 and not list((tmp_path / "claims").iterdir())


def test_an_old_claim_from_another_machine_is_taken_over(tmp_path):
    cache = FeatureCache(tmp_path, claim_timeout=30)
    extractor = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    claim_everything(cache, extractor, {"host": "elsewhere", "pid": 1, "time": time.time() - 60})
    extractor.transform(CLIPS)
    assert cache.misses == 4


def test_a_live_claim_is_waited_for_and_its_rows_read(tmp_path):
    cache = FeatureCache(tmp_path)
    extractor = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    expected = AudioSpectralFeatures(input_sr=22050).fit(CLIPS).transform(CLIPS)
    owner = {"host": "elsewhere", "pid": 1, "time": time.time()}
    keys = claim_everything(cache, extractor, owner)

    def other_worker_finishes():
        time.sleep(0.5)
        for key, row in zip(keys, expected):
            cache.put(key, row)
            cache._release(key)

    finisher = threading.Thread(target=other_worker_finishes)
    finisher.start()
    out = extractor.transform(CLIPS)
    finisher.join()
    np.testing.assert_array_equal(out, expected)
    assert (cache.hits, cache.misses) == (4, 0)


def test_grid_search_with_two_processes_extracts_each_clip_once(spoken_words, tmp_path):
    paths, labels = spoken_words[0][:36], spoken_words[1][:36]
    cache = FeatureCache(tmp_path)
    pipeline = make_pipeline(
        AudioSpectralFeatures(cache=cache), StandardScaler(), LogisticRegression(max_iter=500)
    )
    grid = GridSearchCV(pipeline, {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=3, n_jobs=2)
    grid.fit(paths, labels)
    stats = cache.stats()
    assert stats["misses"] == len(paths)  # 1.00 extraction per clip, across processes
    # 3 folds x 3 candidates (training and held-out part) and the refit: 10 passes.
    assert stats["hits"] + stats["misses"] == 10 * len(paths)
