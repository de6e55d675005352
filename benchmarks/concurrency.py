"""Prediction of a loaded image pipeline: first calls, batch sizes and threads.

An EfficientNet-Lite0 (32 x 32 pixels) -> ``DenseHeadClassifier`` pipeline is
fitted on 40 Fashion-MNIST images and pickled; each measurement then runs in a
fresh process that loads the pickle, so that nothing is built or traced
before it starts. It prints, in seconds:

- the first call on 1 row (the network is built and traced), then 2 and 33 rows;
- later calls of 3 to 60 rows;
- 8 workloads of 60 rows in batches of 1, 2, 3, 5, 8, 17, 33 and 60 rows, one
  after another, then in 8 threads after a warm-up, then in 8 threads straight
  after loading, with the number of retracing warnings TensorFlow logged.

Run: ``.venv/bin/python benchmarks/concurrency.py`` (about a minute on 2 cores).
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

BATCHES = (1, 2, 3, 5, 8, 17, 33, 60)

CHILD = """
import logging, sys, threading, time, warnings
warnings.simplefilter("ignore")
import joblib, numpy as np
from sktransfer.datasets import load_fashion_mnist

retraces = []
class Records(logging.Handler):
    def emit(self, record):
        if "retracing" in record.getMessage():
            retraces.append(record)
logging.getLogger("tensorflow").addHandler(Records())

model = joblib.load(sys.argv[1])
X, _ = load_fashion_mnist("test", n=60)
batches = {batches}

def timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start

def workload(size):
    for start in range(0, len(X), size):
        model.predict_proba(X[start : start + size])

def in_threads():
    threads = [threading.Thread(target=workload, args=(size,)) for size in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

case = sys.argv[2]
if case == "calls":
    print(f"first call, 1 row (builds the network, traces)   {{timed(lambda: model.predict_proba(X[:1])):.2f}} s")
    print(f"first call with 2 rows, after 1 row              {{timed(lambda: model.predict_proba(X[:2])):.2f}} s")
    print(f"first call with 33 rows                          {{timed(lambda: model.predict_proba(X[:33])):.2f}} s")
    later = [timed(lambda n=n: model.predict_proba(X[:n])) for n in (3, 10, 30, 60)]
    print(f"later calls, 3 to 60 rows                        {{min(later):.2f}} to {{max(later):.2f}} s")
    print(f"8 workloads of 60 rows, one after another        {{timed(lambda: [workload(s) for s in batches]):.2f}} s")
    print(f"the same 8 workloads in 8 threads, warmed up     {{timed(in_threads):.2f}} s")
else:
    seconds = timed(in_threads)
    print(f"the same 8 workloads in 8 threads, just loaded   {{seconds:.2f}} s, {{len(retraces)}} retracing warnings")
"""


def main():
    import joblib
    from sklearn.pipeline import make_pipeline

    from sktransfer import DenseHeadClassifier, KerasImageFeatures
    from sktransfer.datasets import load_fashion_mnist

    X, y = load_fashion_mnist(n=40)
    pipeline = make_pipeline(
        KerasImageFeatures(backbone="efficientnet_lite0", input_size=32),
        DenseHeadClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0),
    ).fit(X, y)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pipeline.joblib"
        joblib.dump(pipeline, path)
        print(
            "EfficientNet-Lite0 at 32 x 32 -> DenseHeadClassifier, loaded in a fresh process; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        script = CHILD.format(batches=BATCHES)
        for case in ("calls", "threads"):
            result = subprocess.run(
                [sys.executable, "-c", script, str(path), case],
                capture_output=True,
                text=True,
                check=True,
            )
            print(result.stdout, end="")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
