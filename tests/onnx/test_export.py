"""ONNX export: one graph per pipeline, predicted in a process that never imports TensorFlow.

The Lite0 pipeline is exported once for the module (through ``sktransfer
export``), at 32x32 to keep the conversion short; everything else compares
against it or exports pipelines that need no network.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sktransfer import (
    AudioSpectralFeatures,
    AudioSpectrogramImages,
    DenseHeadClassifier,
    KerasImageFeatures,
    Word2VecEmbedder,
)
from sktransfer.cli import main, save_model
from sktransfer.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from sktransfer.onnx import OnnxExportError, load, quantize, to_onnx

from ..conftest import tone
from ..fresh_process import bad_image_inputs, errors_of

TOLERANCE = 1e-4
LOG_LEVEL_BEFORE = os.environ.get("TF_CPP_MIN_LOG_LEVEL")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A fitted Lite0 + StandardScaler + LogisticRegression pipeline, its export, and images."""
    folder = tmp_path_factory.mktemp("onnx")
    images, labels = load_fashion_mnist(n=30, random_state=0)
    labels = np.asarray(FASHION_MNIST_CLASSES)[labels]
    pipeline = make_pipeline(
        KerasImageFeatures(backbone="efficientnet_lite0", input_size=32),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    ).fit(images, labels)
    model_file = save_model(folder / "model.joblib", pipeline, modality="image")
    out = folder / "model.onnx"
    assert main(["export", str(model_file), str(out)]) == 0
    test_images, _ = load_fashion_mnist("test", n=10, random_state=0)
    paths = []
    for i, image in enumerate(test_images[:4]):
        paths.append(str(folder / f"item{i}.{('png', 'jpg')[i % 2]}"))
        Image.fromarray(image).resize((40 + 8 * i, 36)).save(paths[-1])
    return {"pipeline": pipeline, "path": out, "images": test_images, "paths": paths}


ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code, tmp_path):
    """Run ``code`` in a new Python; it leaves ``result`` (JSON-able); also the modules it loaded."""
    script = tmp_path / "script.py"
    script.write_text(
        f"import json, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        + code
        + "\nresult['heavy'] = sorted(m for m in ('tensorflow', 'keras', 'onnx', 'tf2onnx', "
        "'skl2onnx', 'scikeras') if m in sys.modules)\n"
        f"open({str(tmp_path / 'result.json')!r}, 'w').write(json.dumps(result))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads((tmp_path / "result.json").read_text())


def test_probabilities_in_a_process_without_tensorflow(exported, tmp_path):
    """Files, arrays and PIL images give the pipeline's probabilities; bad ones its errors."""
    pipeline, folder = exported["pipeline"], str(exported["path"].parent)
    np.save(tmp_path / "images.npy", exported["images"])
    result = run_fresh(
        f"""
import numpy as np
from PIL import Image
from sktransfer.onnx import load
from tests.fresh_process import bad_image_inputs, errors_of
model = load({str(exported["path"])!r})
images = np.load({str(tmp_path / "images.npy")!r})
paths = {exported["paths"]!r}
result = {{
    "files": model.predict_proba(paths).tolist(),
    "array": model.predict_proba(images).tolist(),
    "list": model.predict_proba(list(images[:3])).tolist(),
    "pil": model.predict_proba([Image.open(p) for p in paths]).tolist(),
    "labels": model.predict(paths).tolist(),
    "classes": model.classes_.tolist(),
    "has_transform": hasattr(model, "transform"),
    "errors": errors_of(model.predict_proba, bad_image_inputs({folder!r})),
}}
""",
        tmp_path,
    )
    assert result["heavy"] == []
    images, paths = exported["images"], exported["paths"]
    expected = {
        "files": pipeline.predict_proba(paths),
        "array": pipeline.predict_proba(images),
        "list": pipeline.predict_proba(list(images[:3])),
        "pil": pipeline.predict_proba([Image.open(p) for p in paths]),
    }
    for name, proba in expected.items():
        np.testing.assert_allclose(result[name], proba, atol=TOLERANCE, rtol=0, err_msg=name)
    assert result["labels"] == pipeline.predict(paths).tolist()
    assert result["classes"] == pipeline.classes_.tolist()
    assert result["has_transform"] is False
    expected_errors = errors_of(pipeline.predict_proba, bad_image_inputs(folder))
    assert all(expected_errors)
    assert result["errors"] == expected_errors


def test_served_without_tensorflow(exported, tmp_path):
    """``sktransfer serve MODEL.onnx``'s application answers with the pipeline's predictions."""
    path = exported["paths"][0]
    result = run_fresh(
        f"""
from starlette.testclient import TestClient
from sktransfer.serve import ServedModel, create_app
model = ServedModel.load({str(exported["path"])!r})
with TestClient(create_app(model, max_batch_size=4)) as client:
    with open({path!r}, "rb") as stream:
        answer = client.post("/predict_proba", files={{"file": ("a.png", stream.read())}})
    bad = client.post("/predict", files={{"file": ("b.png", b"not an image")}})
    metadata = client.get("/metadata").json()
result = {{"answer": answer.json(), "bad": [bad.status_code, bad.json()], "meta": metadata}}
""",
        tmp_path,
    )
    assert result["heavy"] == []
    pipeline = exported["pipeline"]
    np.testing.assert_allclose(
        result["answer"]["probabilities"], pipeline.predict_proba([path]), atol=TOLERANCE, rtol=0
    )
    assert result["answer"]["predictions"] == pipeline.predict([path]).tolist()
    assert result["bad"][0] == 400 and "b.png" in result["bad"][1]["error"]
    assert "onnxruntime" in result["meta"]["versions"]


def test_float_pixels_that_are_not_whole_are_refused_by_name(exported):
    """Float pixels that are whole numbers at the network's size go in exactly; others do not."""
    model = load(exported["path"])
    at_size = [Image.fromarray(image).resize((32, 32)) for image in exported["images"][:2]]
    whole = np.stack([np.asarray(image) for image in at_size]).astype(np.float32)
    np.testing.assert_allclose(
        model.predict_proba(whole),
        exported["pipeline"].predict_proba(whole),
        atol=TOLERANCE,
        rtol=0,
    )
    with pytest.raises(ValueError, match=r"image 1 \(array of shape \(32, 32\)\): .*whole numbers"):
        model.predict_proba([whole[0], whole[1] + 0.5])


def test_spectrogram_audio_pipeline_with_a_dense_head(tmp_path):
    """Clips are drawn in Python, the image network and DenseHeadClassifier run in the graph."""
    clips = [tone(f, seconds=0.5, seed=i) for i, f in enumerate([220, 330, 440, 550, 660, 770])]
    labels = ["low", "low", "mid", "mid", "high", "high"]
    pipeline = make_pipeline(
        AudioSpectrogramImages(n_mels=32, n_frames=32, n_fft=512, hop_length=256),
        KerasImageFeatures(input_size=32),
        DenseHeadClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0),
    ).fit(clips, labels)
    result = to_onnx(pipeline, tmp_path / "audio.onnx")
    assert result.max_difference <= TOLERANCE
    domains = [entry.domain for entry in onnx.load(result.path).opset_import]
    assert sorted(domains) == sorted(set(domains))  # one opset per domain, as tools need
    model = load(tmp_path / "audio.onnx")
    assert model.modality == "audio"
    np.testing.assert_allclose(
        model.predict_proba(clips), pipeline.predict_proba(clips), atol=TOLERANCE, rtol=0
    )
    assert model.predict(clips).tolist() == pipeline.predict(clips).tolist()
    with pytest.raises(ValueError) as expected:
        pipeline.predict([np.zeros(100, np.float32)])
    with pytest.raises(ValueError) as got:
        model.predict([np.zeros(100, np.float32)])
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize(
    ("step", "X", "reason"),
    [
        (AudioSpectralFeatures(), [tone(440), tone(880)], "no ONNX ops"),
        (Word2VecEmbedder(vector_size=4), ["a b", "b c"], "gensim vocabulary"),
        (FunctionTransformer(np.log1p), np.ones((2, 3)), "skl2onnx cannot convert it"),
    ],
    ids=["AudioSpectralFeatures", "Word2VecEmbedder", "custom step"],
)
def test_steps_that_cannot_be_exported_are_named(step, X, reason, tmp_path):
    pipeline = make_pipeline(step, LogisticRegression()).fit(X, [0, 1])
    name = type(step).__name__
    with pytest.raises(OnnxExportError, match=rf"step 0 '{name.lower()}' \({name}\).*{reason}"):
        to_onnx(pipeline, tmp_path / "m.onnx", X_sample=X)
    assert not (tmp_path / "m.onnx").exists()


def test_a_graph_that_disagrees_is_not_written(tmp_path):
    """float32 in the graph against float64 in scikit-learn: beyond a tolerance of 1e-12."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)) * 1000, np.arange(20) % 2
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(OnnxExportError, match="more than the tolerance 1e-12: it is not written"):
        to_onnx(pipeline, tmp_path / "m.onnx", X_sample=X, tolerance=1e-12)
    assert not (tmp_path / "m.onnx").exists()
    result = to_onnx(pipeline, tmp_path / "m.onnx", X_sample=X)
    assert result.max_difference <= TOLERANCE
    np.testing.assert_array_equal(load(tmp_path / "m.onnx").predict(X), pipeline.predict(X))


def test_int8_copy_records_its_agreement_with_the_float_graph(exported, tmp_path):
    images = exported["images"]
    result = quantize(exported["path"], tmp_path / "int8.onnx", images[:8], X_check=images)
    float32, int8 = load(exported["path"]), load(tmp_path / "int8.onnx")
    agreement = np.mean(float32.predict(images) == int8.predict(images))
    assert result.label_agreement == pytest.approx(agreement)
    assert int8.metadata["quantization"]["label_agreement"] == pytest.approx(agreement)
    assert any(node.op_type == "QuantizeLinear" for node in onnx.load(result.path).graph.node)
    assert result.size_bytes < 0.5 * exported["path"].stat().st_size


def test_efficientnet_normalization_constants_are_part_of_the_graph(tmp_path):
    """EfficientNet's Normalization constants, captured by tf.function, are not graph inputs."""
    images = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    with pytest.warns(UserWarning, match="not pretrained"):
        extractor = KerasImageFeatures(backbone="efficientnet_b0", weights=None, input_size=32)
        extractor.fit(images)
    result = to_onnx(extractor, tmp_path / "b0.onnx", X_sample=images)
    assert [value.name for value in onnx.load(result.path).graph.input] == ["input"]
    expected = extractor.transform(images)
    got = load(result.path).transform(images)
    assert np.abs(got - expected).max() <= TOLERANCE * np.abs(expected).max()


def test_the_export_leaves_tensorflow_log_level_alone(exported):
    """tf2onnx sets TF_CPP_MIN_LOG_LEVEL when imported; the export restores it."""
    assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") == LOG_LEVEL_BEFORE


def test_sentence_embedder_exports_with_its_tokenizer_beside_the_graph(tmp_path):
    """Token ids into the graph; texts tokenised in a process without TensorFlow."""
    from sktransfer import SentenceEmbedder

    from ..text.tiny_bert import write_tiny_bert

    texts = ["a great movie", "the plot was boring", "fun and warm", "awful, just awful"] * 2
    labels = ["good", "bad", "good", "bad"] * 2
    pipeline = make_pipeline(
        SentenceEmbedder(encoder=write_tiny_bert(tmp_path / "bert"), batch_size=3),
        LogisticRegression(),
    ).fit(texts, labels)
    result = to_onnx(pipeline, tmp_path / "text.onnx")
    assert result.files == [tmp_path / "text.tokenizer.json"]
    inputs = [v.name for v in onnx.load(result.path).graph.input]
    assert inputs == ["input_ids", "attention_mask"]
    bad = [[None], "one text", [], ["fine", b"bytes"], np.ones((2, 2))]
    result = run_fresh(
        f"""
from sktransfer.onnx import load
from tests.fresh_process import errors_of
model = load({str(result.path)!r})
result = {{
    "proba": model.predict_proba({texts!r}).tolist(),
    "labels": model.predict({texts!r}).tolist(),
    "errors": errors_of(model.predict_proba, [[None], "one text", [], ["fine", b"bytes"]]),
}}
""",
        tmp_path,
    )
    assert result["heavy"] == []
    np.testing.assert_allclose(
        result["proba"], pipeline.predict_proba(texts), atol=TOLERANCE, rtol=0
    )
    assert result["labels"] == pipeline.predict(texts).tolist()
    expected_errors = errors_of(pipeline.predict_proba, bad[:4])
    assert all(expected_errors)
    assert result["errors"] == expected_errors


def test_a_contrastively_tuned_pipeline_exports_its_tuned_encoder(tmp_path):
    """The graph computes with the tuned weights: its predictions are the pipeline's."""
    from sktransfer import SentenceEmbedder

    from ..text.tiny_bert import write_tiny_bert

    texts = ["a great movie", "the plot was boring", "fun and warm", "awful, just awful"] * 2
    labels = ["good", "bad", "good", "bad"] * 2
    folder = write_tiny_bert(tmp_path / "bert")
    tuned = make_pipeline(
        SentenceEmbedder(encoder=folder, fine_tune="contrastive", random_state=0),
        LogisticRegression(),
    ).fit(texts, labels)
    embedder = load(to_onnx(tuned[0], tmp_path / "embedder.onnx").path)
    got = embedder.transform(texts)
    np.testing.assert_allclose(got, tuned[0].transform(texts), atol=TOLERANCE, rtol=0)
    frozen = SentenceEmbedder(encoder=folder).fit(texts).transform(texts)
    assert np.abs(got - frozen).max() > 100 * TOLERANCE
    model = load(to_onnx(tuned, tmp_path / "tuned.onnx").path)
    np.testing.assert_allclose(
        model.predict_proba(texts), tuned.predict_proba(texts), atol=TOLERANCE, rtol=0
    )


def test_exported_sentence_embedder_batches_texts_by_length_and_keeps_their_order(tmp_path):
    from sktransfer import SentenceEmbedder

    from ..text.tiny_bert import write_tiny_bert

    # Lengths out of order, batches of 2, a bad text in the middle (on_error="nan").
    texts = ["a b c d e f g", "a", "a b c d e", "a b", None, "a b c d e f g h i j", "a b c"]
    embedder = SentenceEmbedder(
        encoder=write_tiny_bert(tmp_path / "bert"), batch_size=2, on_error="nan"
    )
    with pytest.warns(UserWarning, match=r"document 4 \(NoneType\): missing"):
        expected = embedder.fit(texts).transform(texts)
    model = load(to_onnx(embedder, tmp_path / "text.onnx", X_sample=texts[:4]).path)
    reader = model._readers[0]
    batches = [rows.tolist() for rows, _, _ in reader.batches(texts)]
    lengths = [len(t.split()) if t else 0 for t in texts]  # one token a word here
    assert sorted(sum(batches, [])) == list(range(len(texts)))
    assert [lengths[i] for i in sum(batches, [])] == sorted(lengths)  # shortest first
    with pytest.warns(UserWarning, match=r"document 4 \(NoneType\): missing"):
        got = model.transform(texts)
    assert np.isnan(got[4]).all() and not np.isnan(np.delete(got, 4, axis=0)).any()
    np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=0)
