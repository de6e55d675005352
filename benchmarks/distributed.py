"""Extraction and grid search on Dask and Ray against the same machine's n_jobs=2.

1. Throughput: ``--images`` Fashion-MNIST test images (PNG files) through
   ``KerasImageFeatures(backbone="efficientnet_lite0", input_size=128)``
   (Fashion-MNIST's 28x28 images upscaled; ``--input-size``):
   (a) in this process with ``n_jobs=2`` (decoding threads; TensorFlow runs
   inference on every core); (b) ``dask_transform`` of a bag of the paths (8
   partitions) on a ``LocalCluster`` of 2 single-threaded worker processes;
   (c) Ray Data ``map_batches(BatchTransformer, concurrency=2)`` on a local
   runtime of 3 logical CPUs (2 actors and room for the read tasks; an actor
   pool holding every CPU starves the reads). Every engine is warmed up first
   (networks built, functions traced), then timed on a quarter of the images
   and on all of them; the ratios are throughputs over (a)'s, of the whole
   run and marginal (the extra images over the extra time: what a long job
   sees, without the per-run start-up, such as Ray Data's new actor pool).
2. Grid search: ``GridSearchCV(cv=5)`` over 12 heads (logistic regression, 6
   values of ``C`` x 2 class weightings; refit included) on ``--search-images``
   images with one shared ``FeatureCache`` per run: locally with ``n_jobs=2``,
   under ``joblib.parallel_config(backend="dask")`` on the cluster and under
   ``backend="ray"``. Extractions per item come from ``cache.stats()`` (summed
   over every process); the best parameters and scores must agree.
3. Peak RSS (``VmHWM``) of each worker process.

Run: ``flock /work/helpers/bench.lock .venv/bin/python benchmarks/distributed.py``
(``--images 2000 --search-images 500 --input-size 128``).
"""

import os
import sys

# This file's name is also the Dask package's: keep its folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [path for path in sys.path if os.path.abspath(path or os.curdir) != _HERE]

import argparse  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import dask.bag as db  # noqa: E402
import joblib  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
import ray  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from PIL import Image  # noqa: E402
from ray.util.joblib import register_ray  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sktransfer import FeatureCache, KerasImageFeatures  # noqa: E402
from sktransfer.datasets import load_fashion_mnist  # noqa: E402
from sktransfer.distributed import BatchTransformer, dask_transform  # noqa: E402

GRID = {"head__C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0], "head__class_weight": [None, "balanced"]}


def peak_rss_mib(pid):
    """The peak resident memory of process ``pid`` (Linux ``VmHWM``), in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def sample_peak_rss(marker, peaks, stop):
    """Until ``stop`` is set, record in ``peaks`` the peak RSS of processes whose command has ``marker``."""
    while not stop.wait(0.5):
        for process in psutil.process_iter(["cmdline"]):
            if marker in " ".join(process.info["cmdline"] or []):
                try:
                    peaks[process.pid] = peak_rss_mib(process.pid)
                except OSError:
                    continue


def write_images(folder, n):
    images, labels = load_fashion_mnist("test")
    paths = []
    for i in range(n):
        paths.append(os.path.join(folder, f"{i:05d}.png"))
        Image.fromarray(images[i]).save(paths[-1])
    return paths, labels[:n]


def lite0(input_size, **params):
    return KerasImageFeatures(backbone="efficientnet_lite0", input_size=input_size, **params)


def timed(label, run, paths):
    """Time ``run`` on a quarter of ``paths``, then on all of them.

    Returns the rows of all, the whole run's throughput, and the marginal
    throughput (the extra images over the extra time), which leaves out what
    a run costs whatever its size (starting actors, building networks).
    """
    quarter = paths[: len(paths) // 4]
    start = time.perf_counter()
    run(quarter)
    small = time.perf_counter() - start
    start = time.perf_counter()
    rows = run(paths)
    seconds = time.perf_counter() - start
    whole = len(paths) / seconds
    marginal = (len(paths) - len(quarter)) / (seconds - small)
    print(
        f"{label:<44} {seconds:6.1f} s  {whole:6.1f} images/s  (marginal {marginal:6.1f})",
        flush=True,
    )
    return rows, whole, marginal


def ray_rows(paths, extractor):
    dataset = ray.data.from_items([{"item": path, "id": i} for i, path in enumerate(paths)])
    rows = dataset.map_batches(
        BatchTransformer,
        fn_constructor_kwargs={"estimator": extractor},
        batch_size=64,
        compute=ray.data.ActorPoolStrategy(size=2),
        batch_format="numpy",
    ).take_all()
    order = np.argsort([row["id"] for row in rows])
    return np.stack([row["features"] for row in rows])[order]


def search(cache, input_size):
    steps = [
        ("features", lite0(input_size, cache=cache)),
        ("scale", StandardScaler()),
        ("head", LogisticRegression(max_iter=300)),
    ]
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return GridSearchCV(Pipeline(steps), GRID, cv=cv)


def grid_search(label, paths, labels, workdir, input_size, **config):
    cache = FeatureCache(tempfile.mkdtemp(dir=workdir))
    start = time.perf_counter()
    with joblib.parallel_config(**config):
        grid = search(cache, input_size).fit(paths, labels)
    seconds = time.perf_counter() - start
    stats = cache.stats()
    per_item = stats["misses"] / len(paths)
    print(
        f"{label:<28} {per_item:5.2f} extractions/item  {seconds:6.1f} s  "
        f"best {grid.best_params_} {grid.best_score_:.4f}",
        flush=True,
    )
    return grid


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--search-images", type=int, default=500)
    parser.add_argument("--input-size", type=int, default=128)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    workdir = tempfile.mkdtemp(prefix="sktransfer-distributed-")
    paths, labels = write_images(workdir, args.images)
    size = args.input_size
    extractor = lite0(size).fit(paths)
    searched = (paths[: args.search_images], labels[: args.search_images], workdir, size)
    print(
        f"{len(paths)} Fashion-MNIST PNG files, Lite0 at {size}x{size}, {os.cpu_count()} CPU cores"
    )

    local = lite0(size, n_jobs=2).fit(paths)
    local.transform(paths[:64])  # warm-up: network built and traced
    expected, local_rate, local_marginal = timed(
        "(a) this process, n_jobs=2", local.transform, paths
    )

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        dask_transform(extractor, db.from_sequence(paths[:16], npartitions=2)).compute()
        rows, dask_rate, dask_marginal = timed(
            "(b) Dask LocalCluster, 2 workers x 1 thread",
            lambda items: dask_transform(
                extractor, db.from_sequence(items, npartitions=8)
            ).compute(),
            paths,
        )
        assert np.allclose(rows, expected, rtol=1e-4, atol=1e-4)
        dask_pids = list(client.run(os.getpid).values())
        dask_grid = grid_search(
            "grid search, Dask backend",
            *searched,
            backend="dask",
        )
        dask_rss = [peak_rss_mib(pid) for pid in dask_pids]

    ray.init(
        num_cpus=3,
        object_store_memory=200 * 2**20,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    register_ray()
    ray_rows(paths[:128], extractor)
    peaks, stop = {}, threading.Event()
    sampler = threading.Thread(target=sample_peak_rss, args=("BatchTransformer", peaks, stop))
    sampler.start()
    rows, ray_rate, ray_marginal = timed(
        "(c) Ray Data map_batches, 2 actors", lambda items: ray_rows(items, extractor), paths
    )
    stop.set()
    sampler.join()
    assert np.allclose(rows, expected, rtol=1e-4, atol=1e-4)
    ray_rss = sorted(peaks.values())
    ray_grid = grid_search(
        "grid search, Ray backend",
        *searched,
        backend="ray",
        n_jobs=2,
    )
    ray.shutdown()
    local_grid = grid_search(
        "grid search, n_jobs=2 (loky)",
        *searched,
        backend="loky",
        n_jobs=2,
    )

    for name, rate, marginal in (
        ("Dask", dask_rate, dask_marginal),
        ("Ray", ray_rate, ray_marginal),
    ):
        print(
            f"throughput ratio {name} / n_jobs=2: whole run {rate / local_rate:.2f}, "
            f"marginal {marginal / local_marginal:.2f}"
        )
    for name, grid in (("Dask", dask_grid), ("Ray", ray_grid)):
        same = grid.best_params_ == local_grid.best_params_ and np.allclose(
            grid.cv_results_["mean_test_score"], local_grid.cv_results_["mean_test_score"]
        )
        print(f"{name} grid search: same best head and scores as n_jobs=2: {same}")
    print(f"peak RSS of (a) this process: {peak_rss_mib(os.getpid()):.0f} MiB")
    print("peak RSS per Dask worker: " + ", ".join(f"{rss:.0f} MiB" for rss in dask_rss))
    print("peak RSS per Ray actor:   " + ", ".join(f"{rss:.0f} MiB" for rss in ray_rss))


if __name__ == "__main__":
    main()
