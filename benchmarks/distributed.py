"""Extraction and grid search on Dask and Ray against the same machine's n_jobs=2.

1. Throughput: ``--images`` Fashion-MNIST test images (PNG files) through
   ``KerasImageFeatures(backbone="efficientnet_lite0")`` at its own 224x224
   input (``--input-size``), each engine starting from the same pickled
   fitted extractor: (a) unpickled in this process with ``n_jobs=2``
   (decoding threads; TensorFlow runs inference on every core); (b) on a
   ``LocalCluster`` of 2 single-threaded worker processes, the extractor
   scattered to both workers once and applied by ``dask_transform`` to a bag
   of the paths (8 partitions); (c) Ray Data ``map_batches(BatchTransformer,
   ActorPoolStrategy(size=2))`` on a local runtime of 3 logical CPUs (2
   actors and room for the tasks that feed them; an actor pool holding every
   CPU starves them). Worker processes run TensorFlow with one thread each
   (``TF_NUM_INTRAOP_THREADS=1``, ``TF_NUM_INTEROP_THREADS=1``): one core per
   process. Each engine reports its start-up apart from its steady state:
   (a) and (b) start-up is everything up to a first batch computed by every
   worker (cluster start, unpickling, building and tracing the network), and
   steady state a run over all the images on the warm workers. Ray Data
   starts a new actor pool for every execution, so (c) is one execution of
   all the images, run twice, each batch stamped by its actor with the time
   it finished: start-up until every actor has finished a batch (``ray.init``
   timed apart), steady state the images finished after that over the time
   to the last; the whole execution as the driver saw it is printed too. The
   ratios are throughputs over (a)'s.
2. Grid search: ``GridSearchCV(cv=5)`` over 12 heads (logistic regression, 6
   values of ``C`` x 2 class weightings; refit included) on ``--search-images``
   images with one shared ``FeatureCache`` per run: locally with ``n_jobs=2``,
   under ``joblib.parallel_config(backend="dask")`` on the cluster and under
   ``backend="ray"``. Extractions per item come from ``cache.stats()`` (summed
   over every process); the best parameters and scores must agree.
3. Peak RSS (``VmHWM``) of each worker process.

Run: ``.venv/bin/python benchmarks/distributed.py`` on an otherwise idle machine
(``--images 2000 --search-images 500 --input-size 224``).
"""

import os
import sys

# This file's name is also the Dask package's: keep its folder off the import path.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [path for path in sys.path if os.path.abspath(path or os.curdir) != _HERE]

import argparse  # noqa: E402
import pickle  # noqa: E402
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

# One TensorFlow thread per worker process: a process per core, as a cluster runs them.
WORKER_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
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


def report(label, startup, n_images, seconds):
    """Print and return an engine's steady throughput."""
    rate = n_images / seconds
    print(
        f"{label:<44} start-up {startup:5.1f} s | steady {n_images:4d} images "
        f"{seconds:5.1f} s {rate:6.1f} images/s",
        flush=True,
    )
    return rate


def run_local(blob, paths, batch):
    """(a): unpickle, warm up on one batch, then transform every path with ``n_jobs=2``."""
    start = time.perf_counter()
    local = pickle.loads(blob).set_params(n_jobs=2)
    local.transform(paths[:batch])  # network built and traced
    startup = time.perf_counter() - start
    start = time.perf_counter()
    rows = local.transform(paths)
    rate = report("(a) this process, n_jobs=2", startup, len(paths), time.perf_counter() - start)
    return rows, startup, rate


def warm_up(estimator, items):
    estimator.transform(items)


def run_dask(client, started, blob, paths, batch):
    """(b): scatter the extractor, warm up each worker on one batch, then ``dask_transform``."""
    scattered = client.scatter(pickle.loads(blob), broadcast=True)
    workers = list(client.scheduler_info()["workers"])
    client.gather(
        [
            client.submit(warm_up, scattered, paths[:batch], workers=[worker], pure=False)
            for worker in workers
        ]
    )
    startup = time.perf_counter() - started
    start = time.perf_counter()
    rows = dask_transform(scattered, db.from_sequence(paths, npartitions=8)).compute()
    seconds = time.perf_counter() - start
    rate = report("(b) Dask LocalCluster, 2 workers x 1 thread", startup, len(paths), seconds)
    return rows, startup, rate


class StampedTransformer(BatchTransformer):
    """``BatchTransformer`` that also records which actor finished each batch, and when."""

    def __call__(self, batch):
        result = super().__call__(batch)
        result["actor"] = np.full(len(result[self.output]), os.getpid())
        result["done"] = np.full(len(result[self.output]), time.time())
        return result


def run_ray(label, blob, paths, batch):
    """(c): one Ray Data execution; start-up until every actor has finished a batch."""
    started = time.time()
    dataset = ray.data.from_items([{"item": path, "id": i} for i, path in enumerate(paths)])
    rows = dataset.map_batches(
        StampedTransformer,
        fn_constructor_kwargs={"estimator": pickle.loads(blob)},
        batch_size=batch,
        compute=ray.data.ActorPoolStrategy(size=2),
        batch_format="numpy",
    ).take_all()
    whole = time.time() - started
    done = np.array([row["done"] for row in rows]) - started
    actors = np.array([row["actor"] for row in rows])
    warm = max(done[actors == actor].min() for actor in np.unique(actors))
    last = done.max()
    rate = report(label, warm, int((done > warm).sum()), last - warm)
    print(f"{'':<44} the whole execution, as the driver saw it: {whole:5.1f} s", flush=True)
    order = np.argsort([row["id"] for row in rows])
    return np.stack([row["features"] for row in rows])[order], warm, rate


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
    parser.add_argument("--input-size", type=int, default=224)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    workdir = tempfile.mkdtemp(prefix="sktransfer-distributed-")
    paths, labels = write_images(workdir, args.images)
    size = args.input_size
    fitted = lite0(size).fit(paths)
    blob, batch = pickle.dumps(fitted), fitted.batch_size
    searched = (paths[: args.search_images], labels[: args.search_images], workdir, size)
    print(
        f"{len(paths)} Fashion-MNIST PNG files, Lite0 at {size}x{size}, {os.cpu_count()} CPU "
        f"cores, batches of {batch}, the fitted extractor pickled to {len(blob):,} bytes"
    )
    results = {"n_jobs=2": run_local(blob, paths, batch)}
    expected = results["n_jobs=2"][0]

    started = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            env=WORKER_ENV,
        ) as cluster,
        Client(cluster) as client,
    ):
        results["Dask"] = run_dask(client, started, blob, paths, batch)
        dask_pids = list(client.run(os.getpid).values())
        dask_grid = grid_search("grid search, Dask backend", *searched, backend="dask")
        dask_rss = [peak_rss_mib(pid) for pid in dask_pids]

    ray_started = time.perf_counter()
    ray.init(
        num_cpus=3,
        object_store_memory=200 * 2**20,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": WORKER_ENV},
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    register_ray()
    peaks, stop = {}, threading.Event()
    sampler = threading.Thread(target=sample_peak_rss, args=("MapWorker", peaks, stop))
    sampler.start()
    print(f"ray.init: {time.perf_counter() - ray_started:.1f} s", flush=True)
    results["Ray"] = run_ray("(c) Ray Data, 2 actors, first execution", blob, paths, batch)
    again = run_ray("(c) Ray Data, 2 actors, second execution", blob, paths, batch)
    stop.set()
    sampler.join()
    ray_rss = sorted(peaks.values())
    ray_grid = grid_search("grid search, Ray backend", *searched, backend="ray", n_jobs=2)
    ray.shutdown()
    local_grid = grid_search("grid search, n_jobs=2 (loky)", *searched, backend="loky", n_jobs=2)

    for rows, _, _ in (*results.values(), again):
        assert np.allclose(rows, expected, rtol=1e-4, atol=1e-4)
    _, local_startup, local_rate = results["n_jobs=2"]
    local_total = local_startup + len(paths) / local_rate
    for name in ("Dask", "Ray"):
        _, startup, rate = results[name]
        total = startup + len(paths) / rate
        print(
            f"throughput ratio {name} / n_jobs=2: steady state {rate / local_rate:.2f}, "
            f"start-up included {local_total / total:.2f} "
            f"(start-up {startup:.1f} s against {local_startup:.1f} s)"
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
