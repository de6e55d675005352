"""Extraction and grid search on a real Dask LocalCluster: 2 worker processes, 1 thread each."""

import json
import os
import signal
import warnings

import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import joblib
import librosa
import numpy as np
import pandas as pd
import pytest
from dask_ml.wrappers import ParallelPostFit
from distributed import Client, LocalCluster
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import AudioSpectralFeatures, FeatureCache
from sktransfer.distributed import dask_to_parquet, dask_transform
from tests.distributed._workers import (
    DamagedRowsAreErrors,
    StallingFeatures,
    UnpickleCountingFeatures,
    unpickled,
)


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(DamagedRowsAreErrors())
        yield client


def worker_pids(client):
    return set(client.run(os.getpid).values())


def test_extraction_partition_by_partition_equals_local(client, spoken_words, tmp_path):
    paths, labels = spoken_words[0][:24], spoken_words[1][:24]
    pipeline = make_pipeline(
        AudioSpectralFeatures(), StandardScaler(), LogisticRegression(max_iter=300)
    ).fit(paths, labels)
    extractor = pipeline[0]
    expected = extractor.transform(paths)
    waveforms = np.stack(
        [librosa.util.fix_length(librosa.load(path, sr=22050)[0], size=11025) for path in paths]
    )
    collections = {
        "bag": (db.from_sequence(paths, npartitions=4), None, expected),
        "dataframe": (
            dd.from_pandas(pd.DataFrame({"path": paths, "label": labels}), npartitions=4),
            "path",
            expected,
        ),
        "array": (
            da.from_array(waveforms, chunks=(6, waveforms.shape[1])),
            None,
            AudioSpectralFeatures(input_sr=22050).fit(waveforms).transform(waveforms),
        ),
    }
    for name, (items, column, want) in collections.items():
        extractor = AudioSpectralFeatures(input_sr=22050 if name == "array" else None)
        rows = dask_transform(extractor.fit(paths), items, column=column).compute()
        np.testing.assert_allclose(rows, want, rtol=1e-5, atol=1e-6, err_msg=name)
    bag = collections["bag"][0]
    predicted = dask_transform(pipeline, bag, method="predict").compute()
    np.testing.assert_array_equal(predicted, pipeline.predict(paths))
    columns = dask_to_parquet(pipeline[0], bag, str(tmp_path / "features"))
    written = pd.read_parquet(tmp_path / "features")
    assert list(written.columns) == columns == list(pipeline[0].get_feature_names_out())
    np.testing.assert_allclose(written.to_numpy(), expected, rtol=1e-5, atol=1e-6)
    # dask-ml's wrapper suits the 2-D step: a head on a dask array of features.
    head = ParallelPostFit(pipeline[1:], predict_meta=np.empty(0, dtype=np.asarray(labels).dtype))
    features = da.from_array(expected, chunks=(6, expected.shape[1]))
    np.testing.assert_array_equal(head.predict(features).compute(), pipeline.predict(paths))


def test_grid_search_on_the_cluster_extracts_each_clip_once(client, clips36, clip_search, tmp_path):
    paths, labels = clips36
    local = clip_search(FeatureCache(tmp_path / "local")).fit(paths, labels)
    cache = FeatureCache(tmp_path / "shared")
    with joblib.parallel_config(backend="dask"):
        distributed = clip_search(cache).fit(paths, labels)
        scores = cross_val_score(clip_search(cache), paths, labels, cv=2)
    stats = cache.stats()
    assert stats["misses"] == len(paths)  # 1.00 extraction per clip over both workers
    assert stats["hits"] > 10 * len(paths)
    # Each process that used the folder left its counters, named by host, pid and a token.
    users = {int(name.split("-")[-2]) for name, _, _ in cache._store().listing("stats", ".json")}
    assert worker_pids(client) <= users, "not every worker process used the shared folder"
    assert distributed.best_params_ == local.best_params_
    np.testing.assert_allclose(
        distributed.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert distributed.best_score_ == local.best_score_
    assert scores.shape == (2,) and (scores > 0.5).all()


def test_grid_search_on_the_cluster_with_the_cache_in_s3(
    client, spoken_words, clip_search, s3_server
):
    paths, labels = spoken_words[0][::4], spoken_words[1][::4]  # 3 clips of each word
    cache = FeatureCache("s3://features/cluster", storage_options=s3_server)
    with joblib.parallel_config(backend="dask"):
        clip_search(cache).fit(paths, labels)
    assert cache.stats()["misses"] == len(paths)


def test_a_worker_killed_mid_extraction_leaves_every_row_right(client, spoken_words, tmp_path):
    paths = spoken_words[0]
    expected = AudioSpectralFeatures().fit(paths).transform(paths)
    cache = FeatureCache(tmp_path)
    hold = tmp_path / "hold"
    hold.mkdir()
    os.mkfifo(hold / "started")
    os.mkfifo(hold / "never")
    extractor = StallingFeatures(cache=cache).fit(paths)
    future = client.compute(dask_transform(extractor, db.from_sequence(paths, npartitions=8)))
    with open(hold / "started") as started:  # returns once a worker stalls mid-extraction
        pid = int(started.read())
    assert pid in worker_pids(client)
    store = cache._store()
    claims = [store.read(name) for name, _, _ in store.listing("claims", ".claim")]
    held = [claim for claim in claims if claim and json.loads(claim)["pid"] == pid]
    assert held, "the stalled worker holds no claim"
    os.kill(pid, signal.SIGKILL)
    rows = future.result(timeout=120)
    np.testing.assert_allclose(rows, expected, rtol=1e-5, atol=1e-6)
    assert pid not in worker_pids(client)  # the killed process is gone
    assert not store.listing("claims", ".claim")  # its claims were taken over and released
    misses = cache.misses  # here: the one item dask_transform computes for the output's shape
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a damaged (half-written) row would warn
        again = AudioSpectralFeatures(cache=FeatureCache(tmp_path)).fit(paths).transform(paths)
    np.testing.assert_allclose(again, expected, rtol=1e-5, atol=1e-6)
    assert cache.misses == misses  # this process read every row
    assert cache.stats()["rows"] == len(paths)


def test_a_scattered_extractor_serves_several_computations(client, spoken_words, tmp_path):
    paths = spoken_words[0][:12]
    extractor = UnpickleCountingFeatures().fit(paths)
    # The Active Memory Manager drops extra replicas (every 2 s by default): a worker
    # that lost its copy fetches it again, docs/scaling.md. Stopped, every copy stays.
    client.amm.stop()
    try:
        before = client.run(unpickled)
        scattered = client.scatter(extractor, broadcast=True)
        expected = extractor.transform(paths)
        for npartitions in (2, 3, 4):
            rows = dask_transform(scattered, db.from_sequence(paths, npartitions=npartitions))
            np.testing.assert_allclose(rows.compute(), expected, rtol=1e-5, atol=1e-6)
        bag = db.from_sequence(paths, npartitions=2)
        columns = dask_to_parquet(scattered, bag, str(tmp_path / "features"))
        after = client.run(unpickled)
    finally:
        client.amm.start()
    assert columns == list(extractor.get_feature_names_out())
    np.testing.assert_allclose(pd.read_parquet(tmp_path / "features"), expected, rtol=1e-5)
    # Four computations, and each worker unpickled the estimator once.
    assert {worker: after[worker] - before.get(worker, 0) for worker in after} == dict.fromkeys(
        after, 1
    )
