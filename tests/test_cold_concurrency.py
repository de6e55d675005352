"""Every kind of estimator predicts from many threads at once, from cold.

A loaded model does its expensive work on its first call: it reads or builds
its weights, builds the network, traces its compiled functions, compiles numba
kernels. Those first calls are where threads race, so each test loads a fresh
copy and releases all its threads into their first call together (a barrier):
nothing is warmed up before. Each thread gets a batch of its own size; the
answers must equal what the same copy gives afterwards, one call at a time.
"""

import threading

import joblib
import numpy as np
import pytest

from sktransfer import (
    AudioSpectralFeatures,
    DenseHeadClassifier,
    FineTuneImageClassifier,
    KerasImageFeatures,
    SequenceClassifier,
    Word2VecEmbedder,
)
from sktransfer.datasets import load_fashion_mnist
from sktransfer.image._backbones import _CACHE, clear_cache

BATCH_SIZES = (1, 2, 3, 5)  # one thread each, all released at once
DOCS = [
    "a wonderful moving film",
    "dull and far too long",
    "an utterly charming story",
    "the plot is a mess",
    "great acting and a great story",
    "boring film with a weak plot",
    "charming moving and wonderful",
    "too long too dull",
]
LABELS = np.array(["pos", "neg", "pos", "neg", "pos", "neg", "pos", "neg"])


def cold_copy(estimator, tmp_path):
    """``estimator`` through a joblib file: nothing built, loaded or traced yet."""
    joblib.dump(estimator, tmp_path / "model.joblib")
    clear_cache()  # no image network built by an earlier test either
    return joblib.load(tmp_path / "model.joblib")


def first_calls_together(method, inputs):
    """``method(x)`` for each of ``inputs``, one thread each, all entering it at once."""
    barrier = threading.Barrier(len(inputs))
    results, errors = [None] * len(inputs), []

    def call(i):
        try:
            barrier.wait()
            results[i] = method(inputs[i])
        except Exception as exc:  # reported below with the thread's input
            errors.append((i, repr(exc)))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def assert_cold_threads_agree(method, inputs, atol=1e-6):
    """Each thread's first call equals a later call on its own, to float32 rounding.

    float32 sums come out in another order when threads share the BLAS and FFT
    pools, so large features (a spectral mean of 56, say) differ in the last bit:
    hence the relative term besides ``atol``. A race gives other numbers entirely.
    """
    together = first_calls_together(method, inputs)
    for got, x in zip(together, inputs):
        np.testing.assert_allclose(got, method(x), rtol=1e-6, atol=atol)


@pytest.fixture
def traces(monkeypatch):
    """``traces()``: how many times the TensorFlow functions made in this test were traced.

    Every thread that found no compiled function and made its own would add
    one: the sum counts them all, not only the one kept.
    """
    import tensorflow as tf

    created, function = [], tf.function

    def recorded(*args, **kwargs):
        made = function(*args, **kwargs)
        created.append(made)
        return made

    monkeypatch.setattr(tf, "function", recorded)
    return lambda: sum(getattr(f, "experimental_get_tracing_count", int)() for f in created)


def batches(items):
    ends = np.cumsum(BATCH_SIZES)
    return [items[end - size : end] for size, end in zip(BATCH_SIZES, ends)]


def test_audio_features_from_cold(tmp_path):
    clips = list(np.random.default_rng(5).standard_normal((sum(BATCH_SIZES), 4096)))
    extractor = cold_copy(AudioSpectralFeatures(input_sr=22050).fit(clips), tmp_path)
    assert_cold_threads_agree(extractor.transform, batches(clips))


def test_word_vectors_by_reference_from_cold(tmp_path):
    vectors = tmp_path / "vectors.txt"
    words = sorted({word for doc in DOCS for word in doc.split()})
    rows = np.random.default_rng(6).standard_normal((len(words), 4)).round(3)
    vectors.write_text(
        f"{len(words)} 4\n" + "".join(f"{w} {' '.join(map(str, r))}\n" for w, r in zip(words, rows))
    )
    embedder = Word2VecEmbedder(pretrained=vectors, vector_size=4).fit(DOCS)
    assert_cold_threads_agree(cold_copy(embedder, tmp_path).transform, batches(DOCS[::-1] * 2))


def test_trained_word_vectors_from_cold(tmp_path):
    embedder = Word2VecEmbedder(vector_size=8, random_state=0).fit(DOCS)
    assert_cold_threads_agree(cold_copy(embedder, tmp_path).transform, batches(DOCS * 2))


def test_sequence_head_from_cold(tmp_path, traces):
    model = SequenceClassifier(
        embedder=Word2VecEmbedder(vector_size=8, random_state=0, max_len=8),
        lstm_units=4,
        conv_filters=4,
        epochs=1,
        early_stopping=False,
        random_state=0,
        verbose=0,
    ).fit(DOCS, LABELS)
    loaded = cold_copy(model, tmp_path)
    before = traces()  # training's functions
    assert_cold_threads_agree(loaded.predict_proba, batches(DOCS * 2))
    assert traces() - before == 1  # the head's forward function, traced by one thread for all


@pytest.fixture(scope="module")
def fashion():
    X, y = load_fashion_mnist(n=16)
    return X, y, load_fashion_mnist("test", n=sum(BATCH_SIZES))[0]


def test_image_pipeline_from_cold(fashion, tmp_path, traces):
    from sklearn.pipeline import make_pipeline

    X, y, X_test = fashion
    pipeline = make_pipeline(
        KerasImageFeatures(backbone="efficientnet_lite0", input_size=32),
        DenseHeadClassifier(
            hidden_layer_sizes=(8,), epochs=1, early_stopping=False, random_state=0, verbose=0
        ),
    ).fit(X, y)
    loaded = cold_copy(pipeline, tmp_path)
    before = traces()
    assert_cold_threads_agree(loaded.predict_proba, batches(X_test))
    assert len(_CACHE) == 1  # one network built for all the threads
    assert traces() - before == 2  # the network's function for uint8 images, and the head's


def test_fine_tuned_model_from_cold(fashion, tmp_path, traces):
    X, y, X_test = fashion
    model = FineTuneImageClassifier(
        input_size=32,
        trainable_layers=0,  # what is tested is the whole network's prediction
        epochs=1,
        early_stopping=False,
        batch_size=8,
        random_state=0,
        verbose=0,
    ).fit(X, y)
    loaded = cold_copy(model, tmp_path)
    before = traces()
    assert_cold_threads_agree(loaded.predict_proba, batches(X_test))
    assert traces() - before == 1
