"""A loaded image pipeline predicts from many threads: one trace, no retracing, same numbers."""

import copy as copy_module
import logging
import threading
import time

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sktransfer import DenseHeadClassifier, KerasImageFeatures
from sktransfer._keras._forward import compiled_forward
from sktransfer.datasets import load_fashion_mnist
from sktransfer.image._backbones import FeatureNetwork, backbone_and_size, clear_cache

BATCH_SIZES = (1, 2, 3, 17, 33, 5, 8, 64)


@pytest.fixture(scope="module")
def loaded_pipeline(tmp_path_factory):
    """A fitted Lite0 -> dense head pipeline, pickled and loaded with its network rebuilt."""
    X, y = load_fashion_mnist(n=40)
    pipeline = make_pipeline(
        KerasImageFeatures(backbone="efficientnet_lite0", input_size=32),
        DenseHeadClassifier(hidden_layer_sizes=(16,), epochs=3, random_state=0, verbose=0),
    )
    pipeline.fit(X, y)
    path = tmp_path_factory.mktemp("pipeline") / "pipeline.joblib"
    joblib.dump(pipeline, path)
    clear_cache()  # the loaded pipeline builds and traces its network afresh
    X_test, _ = load_fashion_mnist("test", n=70)
    return joblib.load(path), X_test


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_threads_share_one_trace_and_log_no_retracing(loaded_pipeline, capfd):
    pipeline, X = loaded_pipeline
    timings = []
    start = time.perf_counter()
    pipeline.predict_proba(X[:1])
    timings.append(
        f"first call after loading (builds the network, traces): {time.perf_counter() - start:.3f} s"
    )
    network = pipeline[0]._weights()
    network.warm_up()
    forward = compiled_forward(pipeline[-1].model_)
    traces = (network.tracing_count(), forward.experimental_get_tracing_count())
    assert traces == (2, 1)  # uint8 and float32 images; the head's float32 features

    for n in (2, 33, 3, 17):
        start = time.perf_counter()
        pipeline.predict_proba(X[:n])
        timings.append(f"first call with a batch of {n}: {time.perf_counter() - start:.3f} s")

    slices = {n: [slice(s, min(s + n, len(X))) for s in range(0, len(X), n)] for n in BATCH_SIZES}
    expected = {n: [pipeline.predict_proba(X[rows]) for rows in slices[n]] for n in BATCH_SIZES}

    records = _Records()
    logger = logging.getLogger("tensorflow")
    logger.addHandler(records)
    capfd.readouterr()
    results, errors = {}, []
    barrier = threading.Barrier(len(BATCH_SIZES))

    def predict(n):
        try:
            barrier.wait()
            results[n] = [pipeline.predict_proba(X[rows]) for rows in slices[n]]
        except Exception as exc:  # reported below, with the batch size
            errors.append((n, exc))

    threads = [threading.Thread(target=predict, args=(n,)) for n in BATCH_SIZES]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    logger.removeHandler(records)
    captured = capfd.readouterr()
    timings.append(f"{len(threads)} threads, batches {BATCH_SIZES}: {elapsed:.2f} s")
    with capfd.disabled():
        print("", *timings, sep="\n")

    assert not errors, errors
    for n in BATCH_SIZES:
        for got, want in zip(results[n], expected[n], strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert (network.tracing_count(), forward.experimental_get_tracing_count()) == traces
    logged = records.messages + [captured.out, captured.err]
    assert not [message for message in logged if "retrac" in message.lower()], logged


def test_head_predictions_equal_keras_predict(loaded_pipeline):
    pipeline, X = loaded_pipeline
    features = pipeline[0].transform(X)
    head = pipeline[-1]
    expected = head.model_.predict(features, batch_size=head.batch_size, verbose=0)
    np.testing.assert_allclose(head.predict_proba(features), expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(head.predict(features), head.classes_[expected.argmax(axis=1)])


def test_a_refit_head_gets_its_own_forward_function(loaded_pipeline):
    pipeline, X = loaded_pipeline
    features = pipeline[0].transform(X[:20])
    head = pipeline[-1]
    forward = compiled_forward(head.model_)
    labels = head.predict(features)
    refit = DenseHeadClassifier(
        hidden_layer_sizes=(8,), epochs=1, early_stopping=False, random_state=0, verbose=0
    )
    refit.fit(features, labels)
    assert compiled_forward(refit.model_) is not forward
    assert compiled_forward(head.model_) is forward
    for copy in (
        copy_module.deepcopy(head),
        clone(head).set_params(early_stopping=False).fit(features, labels),
    ):
        assert compiled_forward(copy.model_) is not forward
        assert copy.predict_proba(features).shape == (20, len(copy.classes_))
    np.testing.assert_array_equal(
        copy_module.deepcopy(head).predict_proba(features), head.predict_proba(features)
    )
    assert refit.predict_proba(features).shape == (20, len(refit.classes_))


def test_concurrent_first_calls_trace_a_new_network_once():
    backbone, size = backbone_and_size("efficientnet_lite0", 32)
    network = FeatureNetwork(backbone, None, size, None, "mean")
    images = np.random.default_rng(0).integers(0, 256, size=(64, 32, 32, 3), dtype=np.uint8)
    results = {}
    barrier = threading.Barrier(len(BATCH_SIZES))

    def extract(n):
        barrier.wait()
        results[n] = np.concatenate([network(images[s : s + n]) for s in range(0, 64, n)])

    threads = [threading.Thread(target=extract, args=(n,)) for n in BATCH_SIZES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert network.tracing_count() == 1
    for n in BATCH_SIZES:
        np.testing.assert_allclose(results[n], results[64], rtol=0, atol=1e-5)
