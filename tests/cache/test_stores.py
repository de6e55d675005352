"""The feature cache in object storage (a local S3 server) and in memory://, and bad URLs.

Also the two operations the stores owe the cache: a row is visible whole or not
at all, and a claim is created by exactly one caller.
"""

import sys
import threading

import fsspec
import numpy as np
import pytest
import s3fs
from fsspec.implementations.memory import MemoryFileSystem

from sktransfer import AudioSpectralFeatures
from sktransfer.cache import FeatureCache
from sktransfer.cache._store import FsspecStore, LocalStore

CLIPS = list(np.random.default_rng(0).standard_normal((6, 4096)).astype(np.float32))


def features(cache, **params):
    return AudioSpectralFeatures(input_sr=22050, cache=cache, **params).fit(CLIPS)


def test_rows_in_s3_are_reused_and_checked(s3_server):
    fs = s3fs.S3FileSystem(**s3_server)
    cache = FeatureCache("s3://features/reuse", storage_options=s3_server)
    expected = AudioSpectralFeatures(input_sr=22050).fit(CLIPS).transform(CLIPS)
    extractor = features(cache)
    np.testing.assert_array_equal(extractor.transform(CLIPS), expected)
    np.testing.assert_array_equal(extractor.transform(CLIPS[::-1]), expected[::-1])
    assert (cache.hits, cache.misses) == (6, 6)
    stats = cache.stats()
    assert stats["rows"] == 6 and stats["hits"] == 6 and stats["misses"] == 6
    rows = sorted(fs.find("features/reuse/rows"))
    assert len(rows) == 6 and not [path for path in fs.find("features") if ".tmp" in path]
    assert not fs.find("features/reuse/claims")  # every claim released
    # A flipped byte and a row copied over another are detected and recomputed.
    data = bytearray(fs.cat_file(rows[0]))
    data[-5] ^= 0xFF
    fs.pipe_file(rows[0], bytes(data))
    fs.pipe_file(rows[1], fs.cat_file(rows[2]))
    with pytest.warns(UserWarning, match=r"feature cache file s3://features/reuse/rows/.* damaged"):
        again = extractor.transform(CLIPS)
    np.testing.assert_allclose(again, expected, rtol=1e-6, atol=1e-6)
    assert cache.misses == 8


def test_a_bounded_s3_cache_evicts_to_fit(s3_server):
    cache = FeatureCache("s3://features/bounded", max_bytes=3 * 1100, storage_options=s3_server)
    features(cache).transform(CLIPS)
    stats = cache.stats()
    assert 0 < stats["rows"] <= 3 and stats["bytes"] <= 3 * 1100
    cache.clear()
    assert cache.stats() == {"hits": 0, "misses": 0, "rows": 0, "bytes": 0}


def test_memory_url_is_a_store_not_a_local_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache = FeatureCache("memory://sktransfer-test/rows")
    first = features(cache).transform(CLIPS[:2])
    np.testing.assert_array_equal(features(cache).transform(CLIPS[:2]), first)
    assert cache.stats()["rows"] == 2 and (cache.hits, cache.misses) == (2, 2)
    assert not list(tmp_path.iterdir())  # no folder named 'memory:'
    assert FeatureCache(f"file://{tmp_path}/rows").directory == tmp_path / "rows"
    with pytest.raises(ValueError, match="storage_options apply to fsspec URLs"):
        FeatureCache(tmp_path, storage_options={"anon": True})


@pytest.mark.parametrize(
    "url, options, reason",
    [
        ("s3://no-such-bucket/rows", {}, "bucket does not exist"),
        (
            "s3://features/rows",
            {"client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}},
            "Could not connect",
        ),
        ("s3://features/rows", {"key": None, "secret": None}, "Unable to locate credentials"),
    ],
    ids=["missing bucket", "unreachable endpoint", "no credentials"],
)
def test_an_unusable_url_is_named_before_any_extraction(
    s3_server, monkeypatch, counting, url, options, reason
):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    options = {**s3_server, "config_kwargs": {"retries": {"max_attempts": 1}}, **options}
    if options["key"] is None:
        del options["key"], options["secret"]
    cache = FeatureCache(url, storage_options=options)
    extractor = counting(AudioSpectralFeatures)(input_sr=22050, cache=cache).fit(CLIPS)
    with pytest.raises(OSError, match=f"^the feature cache '{url}' cannot be reached.*{reason}"):
        extractor.transform(CLIPS)
    assert type(extractor).extracted == 0


def states_seen_while(store, name, action):
    """What ``store.read(name)`` returns at every step of ``action()``.

    A reader in another process may look at any moment: here the read runs at
    each call into and return from a builtin (``open``, ``write``, ``close``,
    ``os.replace``, a sleep...) that ``action`` makes, so every state the
    writer leaves between two of its system calls is seen.
    """
    seen = []

    def look(frame, event, arg):
        if event in ("c_call", "c_return"):
            seen.append(store.read(name))

    sys.setprofile(look)
    try:
        action()
    finally:
        sys.setprofile(None)
    return seen


@pytest.fixture(params=["local folder", "fsspec file://", "memory://"])
def store(request, tmp_path):
    if request.param == "local folder":
        return LocalStore(tmp_path)
    if request.param == "fsspec file://":
        return FsspecStore(f"file://{tmp_path}", None)
    return FsspecStore(f"memory://whole-rows/{tmp_path.name}", None)


def test_a_reader_never_sees_half_a_row(store):
    name = "rows/ab/ab12.row"
    old, new = bytes(range(256)) * 40, bytes(range(255, -1, -1)) * 48  # 10 KiB, 12 KiB
    seen = states_seen_while(store, name, lambda: store.write(name, old))
    assert len(seen) > 4  # the reader looked between the writer's steps
    assert {data for data in seen} <= {None, old}, "a reader saw part of a new row"
    seen = states_seen_while(store, name, lambda: store.write(name, new))
    assert {data for data in seen} <= {old, new}, "a reader saw part of a replaced row"
    assert store.read(name) == new
    assert [row for row, _, _ in store.listing("rows", ".row")] == [name]  # no temporary left


def test_a_claim_is_created_by_exactly_one_caller(store):
    name = "claims/ab12.claim"
    assert store.create(name, b"first")
    assert not store.create(name, b"second")
    assert store.read(name) == b"first"
    store.delete(name)
    assert store.create(name, b"again")
    assert race_to_create(store, "claims/cd34.claim") == 1


def race_to_create(store, name, n_callers=8):
    """How many of ``n_callers`` threads, released together, were told they created ``name``."""
    barrier = threading.Barrier(n_callers)
    created = []

    def create(i):
        barrier.wait()
        created.append(store.create(name, f"caller {i}".encode()))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(n_callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return created.count(True)


def test_an_s3_claim_is_a_conditional_create(s3_server):
    store = FsspecStore("s3://features/exclusive", s3_server)
    assert store.create("claims/a.claim", b"first")
    assert not store.create("claims/a.claim", b"second")  # If-None-Match: * refused it
    assert store.read("claims/a.claim") == b"first"
    assert race_to_create(store, "claims/b.claim") == 1


class NoExclusiveModeFileSystem(MemoryFileSystem):
    """A file system without exclusive mode "xb", as SFTP or HDFS through fsspec."""

    protocol = "noexclusive"

    def _open(self, path, mode="rb", **kwargs):
        if "x" in mode:
            raise ValueError(f"mode {mode!r} is not supported")
        return super()._open(path, mode, **kwargs)


def test_without_exclusive_mode_an_existing_claim_is_still_refused():
    fsspec.register_implementation("noexclusive", NoExclusiveModeFileSystem, clobber=True)
    store = FsspecStore("noexclusive://claims-test", None)
    with pytest.raises(ValueError):
        store.fs.open(store._path("probe"), "xb")
    assert store.create("claims/a.claim", b"first")
    assert not store.create("claims/a.claim", b"second")
    assert store.read("claims/a.claim") == b"first"
