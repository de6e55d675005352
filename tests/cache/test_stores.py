"""The feature cache in object storage (a local S3 server) and in memory://, and bad URLs."""

import numpy as np
import pytest
import s3fs

from sktransfer import AudioSpectralFeatures
from sktransfer.cache import FeatureCache

CLIPS = list(np.random.default_rng(0).standard_normal((6, 4096)).astype(np.float32))


class CountingAudioFeatures(AudioSpectralFeatures):
    """Counts the clips that reach extraction in this process."""

    extracted = 0

    def _extract(self, items, indices, weights):
        type(self).extracted += len(indices)
        return super()._extract(items, indices, weights)


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
    s3_server, monkeypatch, url, options, reason
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
    CountingAudioFeatures.extracted = 0
    extractor = CountingAudioFeatures(input_sr=22050, cache=cache).fit(CLIPS)
    with pytest.raises(OSError, match=f"^the feature cache '{url}' cannot be reached.*{reason}"):
        extractor.transform(CLIPS)
    assert CountingAudioFeatures.extracted == 0
