"""Grid search through ray.util.joblib and extraction through Ray Data on a local Ray runtime."""

import joblib
import numpy as np
import pytest
import ray
from ray.util.joblib import register_ray

from sktransfer import AudioSpectralFeatures, FeatureCache
from sktransfer.distributed import BatchTransformer


@pytest.fixture(scope="module")
def runtime():
    """A local Ray runtime of 2 CPUs and a small object store."""
    ray.init(
        num_cpus=2,
        object_store_memory=100 * 2**20,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    register_ray()
    yield
    ray.shutdown()


def test_map_batches_with_the_fitted_extractor_equals_local(runtime, spoken_words):
    paths = spoken_words[0][:24]
    extractor = AudioSpectralFeatures().fit(paths)
    expected = extractor.transform(paths)
    dataset = ray.data.from_items([{"item": path, "id": i} for i, path in enumerate(paths)])
    # One actor: an actor pool that holds both CPUs leaves none to the tasks that read.
    rows = dataset.map_batches(
        BatchTransformer,
        fn_constructor_kwargs={"estimator": extractor},
        batch_size=16,
        compute=ray.data.ActorPoolStrategy(size=1),
        batch_format="numpy",
    ).take_all()
    order = np.argsort([row["id"] for row in rows])
    features = np.stack([row["features"] for row in rows])[order]
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)


def test_grid_search_through_ray_extracts_each_clip_once(runtime, clips36, clip_search, tmp_path):
    paths, labels = clips36
    results = {}
    for backend in ("loky", "ray"):
        cache = FeatureCache(tmp_path / backend)
        grid = clip_search(cache)
        with joblib.parallel_config(backend=backend, n_jobs=2):
            results[backend] = grid.fit(paths, labels)
        assert cache.stats()["misses"] == len(paths)
    assert results["ray"].best_params_ == results["loky"].best_params_
    np.testing.assert_allclose(
        results["ray"].cv_results_["mean_test_score"],
        results["loky"].cv_results_["mean_test_score"],
    )
