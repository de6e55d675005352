"""Pickles by reference: small files, weights fetched and verified on load."""

import re
import warnings

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sktransfer import KerasImageFeatures
from sktransfer.datasets import load_fashion_mnist
from sktransfer.image._backbones import backbone_and_size, feature_network

from .fresh_process import (
    call_in_fresh_process,
    call_saved_in_fresh_process,
    error_in_fresh_process,
)

MB = 1 << 20


@pytest.fixture(scope="module")
def fashion():
    images, labels = load_fashion_mnist("test")
    chosen = np.concatenate([np.flatnonzero(labels == c)[:10] for c in (0, 1, 7)])
    return images[chosen], labels[chosen]


@pytest.fixture
def lite0_weights_file(tmp_path):
    """The Lite0 ImageNet weights saved as a Keras weights file of our own."""
    backbone, size = backbone_and_size("efficientnet_lite0", 32)
    path = tmp_path / "lite0.weights.h5"
    feature_network(backbone, "imagenet", size, None, "mean").model.save_weights(path)
    return path


def pipeline(**params):
    return make_pipeline(
        KerasImageFeatures(backbone="efficientnet_lite0", input_size=32, **params),
        LogisticRegression(max_iter=1000),
    )


def dumped_size(model, path):
    joblib.dump(model, path)
    return path.stat().st_size


def test_a_pickle_holds_a_reference_not_the_weights(fashion, tmp_path, capsys):
    images, labels = fashion
    model = pipeline().fit(images, labels)
    by_reference = dumped_size(model, tmp_path / "reference.joblib")
    model.set_params(kerasimagefeatures__embed_weights=True)
    embedded = dumped_size(model, tmp_path / "embedded.joblib")
    with capsys.disabled():
        print(
            f"\nLite0 pipeline pickle: {by_reference / 1024:.0f} KiB by reference, "
            f"{embedded / MB:.1f} MiB with embed_weights=True"
        )
    assert by_reference < 100 * 1024
    assert embedded > 10 * MB  # 3.4 million float32 weights
    expected = model.predict_proba(images)
    fresh = call_in_fresh_process(
        model.set_params(kerasimagefeatures__embed_weights=False), "predict_proba", images, tmp_path
    )
    np.testing.assert_array_equal(fresh, expected)


def test_a_vgg16_pipeline_pickles_to_kilobytes(fashion, tmp_path, capsys):
    from sktransfer import VGGImageFeatures

    images, labels = fashion
    # VGG16's weights saved as a file of our own (its ImageNet download needs internet).
    backbone, size = backbone_and_size("vgg16", 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feature_network(backbone, None, size, None, "mean").model.save_weights(
            tmp_path / "vgg16.weights.h5"
        )
    model = make_pipeline(
        VGGImageFeatures(weights=tmp_path / "vgg16.weights.h5", input_size=32),
        LogisticRegression(max_iter=1000),
    ).fit(images, labels)
    by_reference = dumped_size(model, tmp_path / "reference.joblib")
    model.set_params(vggimagefeatures__embed_weights=True)
    embedded = dumped_size(model, tmp_path / "embedded.joblib")
    with capsys.disabled():
        print(
            f"\nVGG16 pipeline pickle: {by_reference / 1024:.0f} KiB by reference, "
            f"{embedded / MB:.1f} MiB with embed_weights=True"
        )
    assert by_reference < 100 * 1024 and embedded > 50 * MB
    np.testing.assert_array_equal(
        call_saved_in_fresh_process(
            tmp_path / "reference.joblib", "predict_proba", images, tmp_path
        ),
        model.predict_proba(images),
    )


def test_changed_or_missing_weights_are_a_clear_error_on_load(
    fashion, lite0_weights_file, tmp_path
):
    images, labels = fashion
    joblib.dump(pipeline(weights=lite0_weights_file).fit(images, labels), tmp_path / "model.joblib")
    # The source file changes after the model is saved: one weight differs.
    import h5py

    with h5py.File(lite0_weights_file, "r+") as f:
        kernels = []
        f.visititems(
            lambda name, obj: (
                kernels.append(name) if hasattr(obj, "shape") and len(obj.shape) == 4 else None
            )
        )
        f[kernels[-1]][0, 0, 0, 0] += 0.5
    # Where a saved model is used: a new process, which builds the network from the file.
    error = error_in_fresh_process(tmp_path / "model.joblib", "predict", images, tmp_path)
    assert re.match(
        r"ValueError: the weights from file .*lite0\.weights\.h5 have SHA-256 \w{16}\.\.\., but "
        r"this KerasImageFeatures was fitted with \w{16}\.\.\.: they changed since fit.*"
        r"embed_weights=True$",
        error,
    ), error
    lite0_weights_file.unlink()
    error = error_in_fresh_process(tmp_path / "model.joblib", "predict", images, tmp_path)
    assert re.match(r"ValueError: .*weights file .*lite0\.weights\.h5 does not exist", error), error


def test_embedded_weights_need_no_source(fashion, lite0_weights_file, tmp_path):
    images, labels = fashion
    model = pipeline(weights=lite0_weights_file, embed_weights=True).fit(images, labels)
    expected = model.predict_proba(images)
    joblib.dump(model, tmp_path / "model.joblib")
    lite0_weights_file.unlink()
    np.testing.assert_array_equal(
        call_saved_in_fresh_process(tmp_path / "model.joblib", "predict_proba", images, tmp_path),
        expected,
    )


def test_random_weights_are_always_embedded(fashion, tmp_path):
    images, labels = fashion
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not pretrained"
        model = make_pipeline(
            KerasImageFeatures(backbone="mobilenet_v3_small", weights=None, input_size=32),
            LogisticRegression(max_iter=1000),
        ).fit(images, labels)
    expected = model.predict_proba(images)
    assert dumped_size(model, tmp_path / "random.joblib") > 3 * MB
    np.testing.assert_array_equal(
        call_in_fresh_process(model, "predict_proba", images, tmp_path), expected
    )


def test_pretrained_word_vectors_are_pickled_by_reference(tmp_path, capsys):
    from sktransfer import Word2VecEmbedder

    docs = ["a wonderful, moving film", "dull and far too long", "an utterly charming story"]
    embedder = Word2VecEmbedder(pretrained="glove-6b-50d").fit(docs)
    by_reference = dumped_size(embedder, tmp_path / "reference.joblib")
    embedded = dumped_size(embedder.set_params(embed_weights=True), tmp_path / "embedded.joblib")
    with capsys.disabled():
        print(
            f"\nGloVe 6B 50-d embedder pickle: {by_reference / 1024:.1f} KiB by reference, "
            f"{embedded / MB:.0f} MiB with embed_weights=True"
        )
    assert by_reference < 20 * 1024 and embedded > 80 * MB
    fresh = call_saved_in_fresh_process(tmp_path / "reference.joblib", "transform", docs, tmp_path)
    np.testing.assert_array_equal(fresh, embedder.transform(docs))


def test_changed_word_vectors_file_is_a_clear_error_on_load(tmp_path):
    from sktransfer import Word2VecEmbedder

    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 2\ngood 0.5 1.0\nbad -0.5 -1.0\nfilm 0.1 0.0\n")
    embedder = Word2VecEmbedder(pretrained=vectors, vector_size=2).fit(["good film"])
    joblib.dump(embedder, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").transform(["good film"]),
        np.float32([[0.3, 0.5]]),
    )
    vectors.write_text("3 2\ngood 0.5 1.0\nbad -0.5 -1.0\nfilm 0.2 0.0\n")
    loaded = joblib.load(tmp_path / "model.joblib")  # the vectors are read on first use
    with pytest.raises(
        ValueError,
        match=r"^the weights from pretrained vectors '.*vectors.txt' "
        r"have SHA-256 \w{16}\.\.\., but this Word2VecEmbedder "
        r"was fitted with \w{16}\.\.\.: they changed since fit",
    ):
        loaded.transform(["good film"])


def test_weights_embedded_in_a_saved_model_are_verified_too(tmp_path):
    from sktransfer import Word2VecEmbedder

    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 2\ngood 0.5 1.0\nbad -0.5 -1.0\nfilm 0.1 0.0\n")
    embedder = Word2VecEmbedder(pretrained=vectors, vector_size=2, embed_weights=True)
    joblib.dump(embedder.fit(["good film"]), tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    keys, rows = loaded._embedded_weights  # as a damaged or edited file would hold them
    loaded._embedded_weights = (keys, rows + 1.0)
    with pytest.raises(
        ValueError,
        match=r"^the weights embedded in the saved model have SHA-256 \w{16}\.\.\., "
        r"but this Word2VecEmbedder was fitted with \w{16}\.\.\.: they changed since fit",
    ):
        loaded.transform(["good film"])
