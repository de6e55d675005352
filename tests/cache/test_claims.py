"""Claims: a row missing in several workers at once is computed by one and read by the others."""

import json
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

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


def test_a_live_claim_is_waited_for_and_its_rows_read(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path)
    extractor = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    expected = AudioSpectralFeatures(input_sr=22050).fit(CLIPS).transform(CLIPS)
    owner = {"host": "elsewhere", "pid": 1, "time": time.time()}
    keys = claim_everything(cache, extractor, owner)
    acquire, refused = FeatureCache._acquire, []
    all_refused = threading.Event()

    def recording_acquire(self, key, take_over):
        outcome = acquire(self, key, take_over)
        refused.append(outcome is False)
        if refused.count(True) == 2 * len(keys):
            # Every row found claimed, then the live claims respected on the
            # first look again: the other worker may finish now.
            all_refused.set()
        return outcome

    monkeypatch.setattr(FeatureCache, "_acquire", recording_acquire)

    def other_worker_finishes():
        all_refused.wait()
        for key, row in zip(keys, expected):
            cache.put(key, row)
            cache._release(key)

    finisher = threading.Thread(target=other_worker_finishes)
    finisher.start()
    out = extractor.transform(CLIPS)
    all_refused.set()  # (in case this process did not wait)
    finisher.join()
    np.testing.assert_array_equal(out, expected)
    assert (cache.hits, cache.misses) == (4, 0)


def test_grid_search_with_two_processes_extracts_each_clip_once(clips36, clip_search, tmp_path):
    paths, labels = clips36
    cache = FeatureCache(tmp_path)
    clip_search(cache, n_jobs=2).fit(paths, labels)
    stats = cache.stats()
    assert stats["misses"] == len(paths)  # 1.00 extraction per clip, across processes
    assert stats["hits"] + stats["misses"] == 10 * len(paths)


def test_an_extraction_that_raises_releases_its_claims(audio_files, tmp_path):
    cache = FeatureCache(tmp_path)  # claim_timeout=600: a claim left behind would stall
    good, corrupt = audio_files["a440.wav"], audio_files["corrupt.wav"]
    extractor = AudioSpectralFeatures(cache=cache).fit([good, corrupt])
    with pytest.raises(ValueError, match=r"clip 1 \(.*corrupt\.wav"):
        extractor.transform([good, corrupt])
    assert not list((tmp_path / "claims").iterdir())
    # The next call, in this process, claims and computes the row at once.
    out = extractor.transform([good])
    np.testing.assert_array_equal(out, AudioSpectralFeatures().fit([good]).transform([good]))
    assert cache.misses == 1 and cache.stats()["rows"] == 1


def test_claims_taken_before_an_interruption_are_released(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path)
    extractor = AudioSpectralFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    claim = FeatureCache._claim
    calls = []

    def interrupted_at_the_third_claim(self, key):
        calls.append(key)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in a notebook, or a store error, while claiming
        return claim(self, key)

    monkeypatch.setattr(FeatureCache, "_claim", interrupted_at_the_third_claim)
    with pytest.raises(KeyboardInterrupt):
        extractor.transform(CLIPS)
    monkeypatch.undo()
    assert not list((tmp_path / "claims").iterdir())  # the two taken are released
    extractor.transform(CLIPS)  # would wait claim_timeout (600 s) for its own claims
    assert cache.misses == 4
