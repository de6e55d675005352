"""The HTTP server, started for real on a loopback port and spoken to over HTTP."""

import concurrent.futures
import contextlib
import hashlib
import re
import socket
import subprocess
import sys
import threading
import time

import httpx
import joblib
import numpy as np
import pytest
import soundfile as sf
import uvicorn
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import AudioSpectralFeatures, KerasImageFeatures, Word2VecEmbedder
from sktransfer.cli import save_model
from sktransfer.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
from sktransfer.serve import ServedModel, create_app

from ..conftest import SR, tone


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(url, timeout=120):
    """Poll ``GET /health`` until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not become ready")


@contextlib.contextmanager
def running(model_path, **options):
    """A real uvicorn server on a loopback port, in a thread; yields its base URL when ready."""
    model = ServedModel.load(model_path)
    port = free_port()
    config = uvicorn.Config(
        create_app(model, **options), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(url)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def upload(paths):
    return [("files", (p.name, p.read_bytes())) for p in paths]


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    """A Lite0 pipeline on 60 Fashion-MNIST images, as a model file, and 12 test PNG files."""
    folder = tmp_path_factory.mktemp("image")
    X, y = load_fashion_mnist("train", n=60)
    names = np.asarray(FASHION_MNIST_CLASSES)[y]
    pipeline = make_pipeline(
        KerasImageFeatures(input_size=32), LogisticRegression(max_iter=500)
    ).fit(X, names)
    path = save_model(folder / "image.joblib", pipeline, modality="image")
    X_test, _ = load_fashion_mnist("test", n=12)
    files = []
    for i, image in enumerate(X_test):
        files.append(folder / f"item{i}.png")
        Image.fromarray(image).save(files[-1])
    return path, pipeline, files


@pytest.fixture(scope="module")
def image_server(image_model):
    with running(
        image_model[0], max_batch_size=8, max_wait_ms=20, max_request_bytes=1 << 20
    ) as url:
        yield url


def test_health_and_metadata_describe_the_warmed_model(image_model, image_server):
    path, pipeline, _ = image_model
    health = httpx.get(f"{image_server}/health").json()
    assert health["status"] == "ready" and health["timings"]["warm_up_s"] > 0
    meta = httpx.get(f"{image_server}/metadata").json()
    assert meta["modality"] == "image" and meta["classes"] == pipeline.classes_.tolist()
    assert meta["model_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert meta["saved_by_sktransfer"] and meta["versions"]["sktransfer"]


def test_answers_equal_the_pipeline_in_request_order(image_model, image_server):
    _, pipeline, files = image_model
    expected = pipeline.predict_proba([str(p) for p in files[:5]])
    answer = httpx.post(f"{image_server}/predict_proba", files=upload(files[:5])).json()
    assert answer["classes"] == pipeline.classes_.tolist()
    np.testing.assert_allclose(answer["probabilities"], expected, rtol=1e-5, atol=1e-7)
    assert answer["predictions"] == pipeline.classes_[expected.argmax(axis=1)].tolist()
    labels = httpx.post(f"{image_server}/predict", files=upload(files[5:7])).json()
    assert labels == {"predictions": pipeline.predict([str(p) for p in files[5:7]]).tolist()}


def test_concurrent_requests_share_forward_passes(image_model, image_server):
    _, pipeline, files = image_model
    expected = pipeline.predict([str(p) for p in files]).tolist()
    before = httpx.get(f"{image_server}/metadata").json()

    def ask(i):
        return httpx.post(f"{image_server}/predict", files=upload([files[i]])).json()

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(ask, range(12)))
    assert [a["predictions"][0] for a in answers] == expected
    after = httpx.get(f"{image_server}/metadata").json()
    assert after["items"] - before["items"] == 12
    assert after["batches"] - before["batches"] < 12  # some requests shared a pass


@pytest.mark.parametrize(
    "files, status, message",
    [
        (
            [("files", ("notes.png", b"not an image at all"))],
            400,
            r"^upload 'notes.png' is not an image file Pillow can read$",
        ),
        ([("files", ("empty.png", b""))], 400, r"^upload 'empty.png' is empty \(0 bytes\)$"),
        (
            [("files", ("hello.wav", b"RIFF...."))],
            415,
            r"^upload 'hello.wav' is audio, but this model takes image files$",
        ),
        ([("files", ("big.png", b"0" * (1 << 20)))], 413, r"^the request has \d+ bytes; at most"),
        (
            [("files", (f"{i}.png", b"x")) for i in range(9)],
            413,
            r"^too many files in one request; at most 8$",
        ),
    ],
)
def test_bad_uploads_get_a_4xx_naming_the_problem(image_server, files, status, message):
    response = httpx.post(f"{image_server}/predict", files=files)
    assert response.status_code == status
    assert re.search(message, response.json()["error"])


def test_requests_of_the_wrong_kind_are_refused(image_server):
    response = httpx.post(f"{image_server}/predict", json={"texts": ["a shirt"]})
    assert response.status_code == 415
    assert (
        response.json()["error"]
        == "this model takes files: send them as multipart/form-data uploads"
    )
    assert httpx.get(f"{image_server}/predict").status_code == 405
    assert httpx.get(f"{image_server}/health").status_code == 200  # still serving


@pytest.fixture(scope="module")
def audio_model(tmp_path_factory, spoken_words):
    folder = tmp_path_factory.mktemp("audio")
    paths, labels = spoken_words
    pipeline = make_pipeline(
        AudioSpectralFeatures(), StandardScaler(), LogisticRegression(max_iter=1000)
    ).fit(paths, labels)
    path = folder / "audio.joblib"
    joblib.dump(pipeline, path)  # a plain pickle: the modality comes from its first step
    silent = folder / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    short = folder / "short.wav"
    sf.write(short, tone(440, seconds=0.01), SR)
    return path, pipeline, paths, silent, short


def test_a_bad_clip_fails_only_its_own_request(audio_model):
    path, pipeline, paths, silent, short = audio_model
    from pathlib import Path

    good = [Path(p) for p in paths[:6]]
    expected = pipeline.predict([str(p) for p in good]).tolist()
    with running(path, max_batch_size=16, max_wait_ms=200) as url:
        assert httpx.get(f"{url}/metadata").json()["modality"] == "audio"

        def ask(files):
            return httpx.post(f"{url}/predict", files=upload(files), timeout=60)

        requests = [[p] for p in good] + [[silent], [good[0], short]]
        with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
            answers = list(pool.map(ask, requests))
        assert [a.json()["predictions"][0] for a in answers[:6]] == expected
        assert answers[6].status_code == 422
        assert answers[6].json()["error"].startswith("clip 0 ('silent.wav'): silent: all 22050")
        assert answers[7].status_code == 422
        assert answers[7].json()["error"].startswith("clip 1 ('short.wav'): too short")
        corrupt = httpx.post(f"{url}/predict", files=[("files", ("x.wav", b"RIFF0000WAVEjunk"))])
        assert corrupt.status_code == 400
        assert corrupt.json()["error"].startswith("upload 'x.wav': cannot decode audio")
        assert ask(good[:1]).json()["predictions"] == expected[:1]  # still serving


@pytest.fixture(scope="module")
def text_model(tmp_path_factory):
    from sktransfer.datasets import load_polarity

    texts, labels = load_polarity()
    pipeline = make_pipeline(
        Word2VecEmbedder(pretrained="glove-6b-50d"), LogisticRegression(max_iter=1000)
    ).fit(texts[:120], labels[:120])
    path = save_model(tmp_path_factory.mktemp("text") / "text.joblib", pipeline, modality="text")
    return path, pipeline, texts[120:140]


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b'{"texts": ["a good film"', 400, r"^the body is not valid JSON"),
        (
            b'{"texts": ["a good film"], "lang": "en"}',
            400,
            r"^unknown field 'lang'; the only field is 'texts'$",
        ),
        (b'{"texts": []}', 400, r"'texts' must be a non-empty list of strings"),
        (b'{"texts": ["fine", 3]}', 400, r"^text 1 is int 3, not a string$"),
        (b'{"texts": ["fine", ""]}', 422, r"^document 1: empty, no tokens"),
    ],
)
def test_text_requests(text_model, body, status, message):
    path, pipeline, texts = text_model
    with running(path) as url:
        answer = httpx.post(f"{url}/predict_proba", json={"texts": texts}).json()
        np.testing.assert_allclose(
            answer["probabilities"], pipeline.predict_proba(texts), atol=1e-7
        )
        headers = {"content-type": "application/json"}
        response = httpx.post(f"{url}/predict", content=body, headers=headers)
        assert response.status_code == status
        assert re.search(message, response.json()["error"])


def test_a_sentence_encoder_model_is_served(tmp_path):
    from sktransfer import SentenceEmbedder
    from tests.text.tiny_bert import tiny_bert_folder

    texts = ["a great movie", "loved the film", "awful plot", "boring film"] * 3
    labels = ["pos", "pos", "neg", "neg"] * 3
    pipeline = make_pipeline(
        SentenceEmbedder(encoder=tiny_bert_folder()), LogisticRegression(max_iter=1000)
    ).fit(texts, labels)
    path = save_model(tmp_path / "sentences.joblib", pipeline, modality="text")
    with running(path) as url:
        answer = httpx.post(f"{url}/predict_proba", json={"texts": texts[:4]}).json()
        np.testing.assert_allclose(
            answer["probabilities"], pipeline.predict_proba(texts[:4]), atol=1e-6
        )
        response = httpx.post(f"{url}/predict", json={"texts": ["fine", ""]})
        assert response.status_code == 200  # an empty text is [CLS] [SEP]: a defined vector


def test_the_command_serves_a_model_file(image_model):
    path, pipeline, files = image_model
    port = free_port()
    command = [sys.executable, "-m", "sktransfer.cli", "serve", str(path), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}")
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", files=upload(files[:2])).json()
        assert answer["predictions"] == pipeline.predict([str(p) for p in files[:2]]).tolist()
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert "loaded" in output and "model ready: loaded in" in output
    assert "oneDNN" not in output


def test_a_client_that_goes_away_does_not_disturb_the_others(image_model, image_server):
    _, pipeline, files = image_model
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{image_server}/predict", files=upload(files[:8]), timeout=0.005)
    answer = httpx.post(f"{image_server}/predict", files=upload(files[8:10])).json()
    assert answer["predictions"] == pipeline.predict([str(p) for p in files[8:10]]).tolist()
