"""The HTTP server, started for real on a loopback port and spoken to over HTTP.

Nothing here waits for a clock: a server listens on its socket before it starts, so a
request can be sent at once; a prediction request waits for the warm-up on the server's
side (as the server documents); the forward passes of a served model are recorded, and a
test that needs requests to arrive together holds a pass or the warm-up at a gate
(``threading.Event``) or sets a batch size that only they fill, with a wait far longer than
any test. Timeouts are only fail-safes, so that a broken server fails a test instead of
hanging it.
"""

import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import hashlib
import queue
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import joblib
import numpy as np
import pytest
import soundfile as sf
import uvicorn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sktransfer import AudioSpectralFeatures, KerasImageFeatures, Word2VecEmbedder
from sktransfer.cli import save_model
from sktransfer.serve import ServedModel, create_app
from sktransfer.serve._batcher import MicroBatcher

from ..conftest import SR, tone

TIMEOUT = 120  # seconds; a fail-safe against a broken server, never a synchronisation
FOREVER_MS = 3_600_000  # a batching wait that no test reaches: batches close when full


@dataclasses.dataclass
class RecordedModel(ServedModel):
    """A served model that records the items of each forward pass after its warm-up.

    ``warm_up_gate``, when given, holds the warm-up until it is set. ``hold()`` makes the
    next forward pass wait at a gate: ``entered`` is set when it arrives there, ``release()``
    lets it go on.
    """

    warm_up_gate: threading.Event | None = None

    def __post_init__(self):
        self.passes = []  # the items of each forward pass after the warm-up, in order
        self.warm_up_passes = 0
        self.warmed_up = False
        self.entered = threading.Event()
        self._gate = None

    @classmethod
    def of(cls, model, **fields):
        """A recording copy of ``model`` (a ``ServedModel``), sharing its pipeline."""
        values = {f.name: getattr(model, f.name) for f in dataclasses.fields(ServedModel)}
        return cls(**{**values, "timings": {**model.timings}, **fields})

    def warm_up(self, batch_sizes):
        if self.warm_up_gate is not None:
            assert self.warm_up_gate.wait(TIMEOUT)
        super().warm_up(batch_sizes)
        self.warmed_up = True

    def predict(self, items):
        if not self.warmed_up:
            self.warm_up_passes += 1
            return super().predict(items)
        self.passes.append(list(items))
        gate, self._gate = self._gate, None
        if gate is not None:
            self.entered.set()
            assert gate.wait(TIMEOUT)
        return super().predict(items)

    def hold(self):
        self.entered.clear()
        self._gate = threading.Event()
        return self._gate


def names_of(paths):
    """The upload names of the files of a forward pass (the server names them "<i>-<name>")."""
    return [Path(path).name.split("-", 1)[1] for path in paths]


def bind_socket():
    """A listening loopback socket: connections queue on it before the server runs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextlib.contextmanager
def running(model, **options):
    """A real uvicorn server for ``model`` (a ``ServedModel``) in a thread; yields its URL.

    It yields at once: the socket already listens, and prediction requests wait for the
    warm-up on the server's side.
    """
    sock = bind_socket()
    config = uvicorn.Config(create_app(model, **options), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=TIMEOUT)
        sock.close()


def get(url, **kwargs):
    return httpx.get(url, timeout=TIMEOUT, **kwargs)


def post(url, **kwargs):
    return httpx.post(url, timeout=TIMEOUT, **kwargs)


def upload(paths):
    return [("files", (p.name, p.read_bytes())) for p in paths]


def raw_request(url, path, headers, body=b""):
    """Send a request over a plain socket; the answer's status line, headers and body.

    Raises ``TimeoutError`` if the server sends nothing for ``TIMEOUT`` seconds.
    """
    port = int(url.rsplit(":", 1)[1])
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: test\r\n{head}\r\n".encode() + body)
        answer = b""
        while chunk := sock.recv(65536):  # until the whole answer is in, or the server closes
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            if _ and length and len(body) >= int(length[1]):
                break
    return answer.decode("latin-1")


# -- an image model ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_model(fashion_pngs, tmp_path_factory):
    """A Lite0 pipeline on 60 Fashion-MNIST PNG files as a model file, 12 other files."""
    paths, labels = fashion_pngs.files(per_class=6)
    pipeline = make_pipeline(
        KerasImageFeatures(input_size=32), LogisticRegression(max_iter=500)
    ).fit([str(p) for p in paths], labels)
    path = save_model(tmp_path_factory.mktemp("image") / "image.joblib", pipeline, modality="image")
    files = fashion_pngs.files(per_class=2, offset=6)[0][:12]
    return path, pipeline, files, ServedModel.load(path)


@pytest.fixture(scope="module")
def image_server(image_model):
    model = RecordedModel.of(image_model[3])
    with running(model, max_batch_size=8, max_wait_ms=5, max_request_bytes=1 << 20) as url:
        yield url, model


def test_health_and_metadata_describe_the_warmed_model(image_model, image_server):
    path, pipeline, files, _ = image_model
    url, model = image_server
    assert post(f"{url}/predict", files=upload(files[:1])).status_code == 200
    health = get(f"{url}/health").json()
    assert health["status"] == "ready" and health["timings"]["warm_up_s"] > 0
    assert model.warm_up_passes == 2  # batch sizes 1 and 8
    meta = get(f"{url}/metadata").json()
    assert meta["modality"] == "image" and meta["classes"] == pipeline.classes_.tolist()
    assert meta["model_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert meta["saved_by_sktransfer"] and meta["versions"]["sktransfer"]
    assert (meta["max_batch_size"], meta["max_wait_ms"], meta["max_request_bytes"]) == (
        8,
        5,
        1 << 20,
    )


def test_answers_equal_the_pipeline_in_request_order(image_model, image_server):
    _, pipeline, files, _ = image_model
    url, _ = image_server
    expected = pipeline.predict_proba([str(p) for p in files[:5]])
    answer = post(f"{url}/predict_proba", files=upload(files[:5])).json()
    assert answer["classes"] == pipeline.classes_.tolist()
    np.testing.assert_allclose(answer["probabilities"], expected, rtol=1e-5, atol=1e-7)
    assert answer["predictions"] == pipeline.classes_[expected.argmax(axis=1)].tolist()
    labels = post(f"{url}/predict", files=upload(files[5:7])).json()
    assert labels == {"predictions": pipeline.predict([str(p) for p in files[5:7]]).tolist()}


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
    url, model = image_server
    passes = len(model.passes)
    response = post(f"{url}/predict", files=files)
    assert response.status_code == status
    assert re.search(message, response.json()["error"])
    assert len(model.passes) == passes  # refused before the model


def test_requests_of_the_wrong_kind_are_refused(image_server):
    url, _ = image_server
    response = post(f"{url}/predict", json={"texts": ["a shirt"]})
    assert response.status_code == 415
    assert (
        response.json()["error"]
        == "this model takes files: send them as multipart/form-data uploads"
    )
    assert get(f"{url}/predict").status_code == 405
    assert get(f"{url}/health").status_code == 200  # still serving


def test_a_client_that_goes_away_does_not_disturb_the_others(image_model, image_server):
    _, pipeline, files, _ = image_model
    url, model = image_server
    assert post(f"{url}/predict", files=upload(files[:1])).status_code == 200  # warmed up
    request = httpx.Request("POST", f"{url}/predict", files=upload(files[:3]))
    body = request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    gate = model.hold()
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(f"POST /predict HTTP/1.1\r\nHost: test\r\n{head}\r\n".encode() + body)
        assert model.entered.wait(TIMEOUT)  # its items are in the model
    # The client has gone; another request arrives while the pass runs.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        other = pool.submit(post, f"{url}/predict", files=upload(files[8:10]))
        gate.set()
        answer = other.result()
    assert answer.json()["predictions"] == pipeline.predict([str(p) for p in files[8:10]]).tolist()
    assert names_of(model.passes[-2]) == [p.name for p in files[:3]]
    assert get(f"{url}/health").status_code == 200


# -- micro-batching ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def text_model(tmp_path_factory, polarity):
    """GloVe + logistic regression on 120 review sentences, as a model file; 20 others."""
    texts, labels = polarity
    train = np.r_[0:60, 140:200]
    pipeline = make_pipeline(
        Word2VecEmbedder(pretrained="glove-6b-50d"), LogisticRegression(max_iter=1000)
    ).fit([texts[i] for i in train], labels[train])
    path = save_model(tmp_path_factory.mktemp("text") / "text.joblib", pipeline, modality="text")
    return path, pipeline, texts[60:80], ServedModel.load(path)


@pytest.fixture(scope="module")
def batching_server(text_model):
    """The text model, batching 6 items with no deadline: a batch closes when it is full."""
    model = RecordedModel.of(text_model[3])
    with running(model, max_batch_size=6, max_wait_ms=FOREVER_MS) as url:
        yield url, model


def ask_together(url, requests):
    """Send the text requests at once, from one thread each; their answers in order."""
    with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(lambda texts: post(f"{url}/predict", json={"texts": texts}), requests))


def test_concurrent_requests_share_one_forward_pass(text_model, batching_server):
    _, pipeline, texts, _ = text_model
    url, model = batching_server
    model.passes.clear()
    before = get(f"{url}/metadata").json()
    answers = ask_together(url, [[text] for text in texts[:6]])
    assert [a.json()["predictions"] for a in answers] == [[p] for p in pipeline.predict(texts[:6])]
    assert len(model.passes) == 1 and sorted(model.passes[0]) == sorted(texts[:6])
    after = get(f"{url}/metadata").json()
    assert (after["batches"] - before["batches"], after["items"] - before["items"]) == (1, 6)


def test_a_bad_item_fails_only_its_own_request(text_model, batching_server):
    """The shared pass fails; each request runs again alone; only the bad one gets 422."""
    _, pipeline, texts, _ = text_model
    url, model = batching_server
    model.passes.clear()
    requests = [[texts[0]], [texts[1], texts[2]], [""], [texts[3], ""]]
    answers = ask_together(url, requests)
    assert answers[0].json()["predictions"] == pipeline.predict(texts[:1]).tolist()
    assert answers[1].json()["predictions"] == pipeline.predict(texts[1:3]).tolist()
    assert answers[2].status_code == answers[3].status_code == 422
    assert answers[2].json()["error"].startswith("document 0: empty, no tokens")
    # Its index in its own request, not in the shared pass:
    assert answers[3].json()["error"].startswith("document 1: empty, no tokens")
    assert sorted(model.passes[0]) == sorted(sum(requests, []))  # all six in one pass
    assert sorted(model.passes[1:]) == sorted(requests)  # then each request alone


def test_a_request_is_never_split_across_batches(text_model):
    """Queued requests fill batches in order; one that does not fit waits for the next."""
    _, pipeline, texts, served = text_model
    passes = []
    in_model, gate = threading.Event(), threading.Event()

    def predict(items):
        passes.append(list(items))
        if len(passes) == 1:  # the first pass holds the model while the others queue
            in_model.set()
            assert gate.wait(TIMEOUT)
        return served.predict(items)

    sizes = [3, 3, 1, 2, 2, 4]
    requests = []
    for size in sizes:
        requests.append(texts[sum(len(r) for r in requests) :][:size])

    async def scenario():
        batcher = MicroBatcher(predict, max_batch_size=4, max_wait_ms=0, on_error=None)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(["a first request"]))
        await asyncio.get_running_loop().run_in_executor(None, in_model.wait, TIMEOUT)
        queued = [asyncio.ensure_future(batcher.submit(r)) for r in requests]
        await asyncio.sleep(0)  # one turn of the loop: each request is queued, in order
        assert batcher._queue.qsize() == len(requests)
        gate.set()
        answers = await asyncio.wait_for(asyncio.gather(first, *queued), TIMEOUT)
        await batcher.stop()
        return answers

    answers = asyncio.run(scenario())
    r = requests
    assert passes[1:] == [r[0], r[1] + r[2], r[3] + r[4], r[5]]
    for request, (labels, proba) in zip(requests, answers[1:]):
        assert labels == pipeline.predict(request).tolist()
        np.testing.assert_allclose(proba, pipeline.predict_proba(request), atol=1e-7)


def test_a_request_cancelled_in_a_pass_does_not_disturb_its_batch(text_model):
    _, pipeline, texts, served = text_model
    in_model, gate = threading.Event(), threading.Event()
    passes = []

    def predict(items):
        passes.append(list(items))
        if len(passes) == 1:
            in_model.set()
            assert gate.wait(TIMEOUT)
        return served.predict(items)

    async def scenario():
        batcher = MicroBatcher(predict, max_batch_size=4, max_wait_ms=FOREVER_MS, on_error=None)
        batcher.start()
        leaving = asyncio.ensure_future(batcher.submit(texts[:2]))
        staying = asyncio.ensure_future(batcher.submit(texts[2:4]))
        await asyncio.get_running_loop().run_in_executor(None, in_model.wait, TIMEOUT)
        leaving.cancel()  # its client went away while its items were in the model
        gate.set()
        kept = await asyncio.wait_for(staying, TIMEOUT)
        later = await asyncio.wait_for(batcher.submit(texts[4:8]), TIMEOUT)
        await batcher.stop()
        return leaving, kept, later

    leaving, kept, later = asyncio.run(scenario())
    assert leaving.cancelled() and passes == [texts[:4], texts[4:8]]
    assert kept[0] == pipeline.predict(texts[2:4]).tolist()
    assert later[0] == pipeline.predict(texts[4:8]).tolist()


# -- texts, limits and warm-up -------------------------------------------------------------


@pytest.fixture(scope="module")
def text_server(text_model):
    model = RecordedModel.of(text_model[3])
    with running(model, max_request_bytes=4096) as url:
        yield url, model


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
        (
            b'{"texts": ["x"], "pad": "' + b"x" * 4096 + b'"}',
            413,
            r"^the request has 4123 bytes; at most 4096$",
        ),
    ],
)
def test_text_requests(text_model, text_server, body, status, message):
    _, pipeline, texts, _ = text_model
    url, _ = text_server
    answer = post(f"{url}/predict_proba", json={"texts": texts}).json()
    np.testing.assert_allclose(answer["probabilities"], pipeline.predict_proba(texts), atol=1e-7)
    headers = {"content-type": "application/json"}
    response = post(f"{url}/predict", content=body, headers=headers)
    assert response.status_code == status
    assert re.search(message, response.json()["error"])


def test_a_huge_request_is_refused_before_its_body_is_read(text_server):
    """A request that announces a gigabyte and sends nothing is answered 413 at once."""
    url, _ = text_server
    headers = {"Content-Type": "application/json", "Content-Length": str(10**9)}
    answer = raw_request(url, "/predict", headers)  # TimeoutError if the server reads first
    assert answer.startswith("HTTP/1.1 413 ")
    assert '"the request has 1000000000 bytes; at most 4096"' in answer


def test_a_request_without_content_length_is_refused(text_server):
    url, model = text_server
    passes = len(model.passes)
    chunked = iter([b'{"texts": ', b'["a good film"]}'])  # sent with Transfer-Encoding: chunked
    response = post(f"{url}/predict", content=chunked, headers={"content-type": "application/json"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 411
    assert response.json() == {"error": "a Content-Length header is required"}
    assert len(model.passes) == passes


def test_files_sent_to_a_text_model_are_refused(text_server, tmp_path):
    url, model = text_server
    passes = len(model.passes)
    sf.write(tmp_path / "hello.wav", tone(440, seconds=0.05), SR)
    response = post(f"{url}/predict", files=upload([tmp_path / "hello.wav"]))
    assert response.status_code == 415
    assert response.json() == {"error": 'this model takes texts: send JSON {"texts": [...]}'}
    assert len(model.passes) == passes


@pytest.fixture(scope="module")
def svm_model(tmp_path_factory, polarity):
    """TF-IDF and a linear SVM, which has no predict_proba, saved with joblib.dump."""
    texts, labels = polarity
    pipeline = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(texts, labels)
    path = tmp_path_factory.mktemp("svm") / "svm.joblib"
    joblib.dump(pipeline, path)
    return pipeline, ServedModel.load(path, modality="text"), texts[:5]


def test_predict_proba_of_a_model_without_it_is_refused(svm_model):
    pipeline, served, texts = svm_model
    with running(RecordedModel.of(served)) as url:
        assert post(f"{url}/predict", json={"texts": texts}).json() == {
            "predictions": pipeline.predict(texts).tolist()
        }
        response = post(f"{url}/predict_proba", json={"texts": texts})
        assert response.status_code == 400
        assert response.json() == {"error": "this model has no predict_proba; use /predict"}
        assert get(f"{url}/metadata").json()["has_predict_proba"] is False


def test_503_while_warming_up_and_requests_wait_for_it(svm_model):
    pipeline, served, texts = svm_model
    model = RecordedModel.of(served, warm_up_gate=threading.Event())
    with running(model, max_batch_size=4) as url:
        health = get(f"{url}/health")
        assert (health.status_code, health.json()) == (503, {"status": "warming up"})
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(post, f"{url}/predict", json={"texts": texts[:2]})
            assert get(f"{url}/health").status_code == 503
            assert not waiting.done()  # it cannot be answered while the warm-up is held
            model.warm_up_gate.set()
            answer = waiting.result()
        assert answer.json() == {"predictions": pipeline.predict(texts[:2]).tolist()}
        assert model.warm_up_passes == 2 and model.passes == [texts[:2]]  # after the warm-up
        assert get(f"{url}/health").json()["status"] == "ready"


def test_a_failed_warm_up_is_reported(tmp_path):
    """A pipeline of numbers served as an image model: its warm-up on a PNG file fails."""
    rng = np.random.default_rng(0)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression())
    pipeline.fit(rng.normal(size=(20, 3)), np.arange(20) % 2)
    joblib.dump(pipeline, tmp_path / "numbers.joblib")
    served = ServedModel.load(tmp_path / "numbers.joblib", modality="image")
    model = RecordedModel.of(served, warm_up_gate=threading.Event())
    png = tmp_path / "x.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(png)
    with running(model) as url:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(post, f"{url}/predict", files=upload([png]))
            model.warm_up_gate.set()
            answer = waiting.result()  # a request waiting for the warm-up learns it failed
        assert answer.status_code == 503
        assert re.match(
            r"the model failed to start: ValueError: .*'.*warm-up\.png'", answer.json()["error"]
        )
        health = get(f"{url}/health")
        assert health.status_code == 503 and health.json()["status"] == "failed"
        assert health.json()["error"] == answer.json()["error"].removeprefix(
            "the model failed to start: "
        )
        assert model.passes == []
        again = post(f"{url}/predict", files=upload([png]))  # later requests are told at once
        assert again.status_code == 503 and again.json() == answer.json()


@pytest.mark.parametrize("fine_tune", [False, "contrastive"])
def test_a_sentence_encoder_model_is_served(fine_tune, tmp_path):
    from sktransfer import SentenceEmbedder
    from tests.text.tiny_bert import tiny_bert_folder

    texts = ["a great movie", "loved the film", "awful plot", "boring film"] * 3
    labels = ["pos", "pos", "neg", "neg"] * 3
    embedder = SentenceEmbedder(encoder=tiny_bert_folder(), fine_tune=fine_tune, random_state=0)
    pipeline = make_pipeline(embedder, LogisticRegression(max_iter=1000)).fit(texts, labels)
    path = save_model(tmp_path / "sentences.joblib", pipeline, modality="text")
    with running(ServedModel.load(path)) as url:
        answer = post(f"{url}/predict_proba", json={"texts": texts[:4]}).json()
        np.testing.assert_allclose(
            answer["probabilities"], pipeline.predict_proba(texts[:4]), atol=1e-6
        )
        response = post(f"{url}/predict", json={"texts": ["fine", ""]})
        assert response.status_code == 200  # an empty text is [CLS] [SEP]: a defined vector


# -- audio ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audio_model(tmp_path_factory):
    """Spectral features of 12 tones of two pitches, saved with joblib.dump; a silent and a
    too-short clip."""
    folder = tmp_path_factory.mktemp("audio")
    paths, labels = [], []
    for i in range(12):
        label = ["low", "high"][i % 2]
        paths.append(folder / f"{label}{i}.wav")
        sf.write(paths[-1], tone([220, 880][i % 2] * (1 + i / 100), seed=i), SR)
        labels.append(label)
    pipeline = make_pipeline(
        AudioSpectralFeatures(), StandardScaler(), LogisticRegression(max_iter=1000)
    ).fit([str(p) for p in paths], labels)
    path = folder / "audio.joblib"
    joblib.dump(pipeline, path)  # a plain pickle: the modality comes from its first step
    silent = folder / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    short = folder / "short.wav"
    sf.write(short, tone(440, seconds=0.01), SR)
    return path, pipeline, paths, silent, short


def test_a_bad_clip_fails_only_its_own_request(audio_model):
    path, pipeline, paths, silent, short = audio_model
    good = paths[:4]
    model = RecordedModel.of(ServedModel.load(path))
    requests = [[good[0]], [good[1], good[2]], [silent], [good[3], short]]
    with running(model, max_batch_size=6, max_wait_ms=FOREVER_MS) as url:
        assert get(f"{url}/metadata").json()["modality"] == "audio"
        with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
            answers = list(pool.map(lambda r: post(f"{url}/predict", files=upload(r)), requests))
        assert answers[0].json()["predictions"] == pipeline.predict([str(good[0])]).tolist()
        assert (
            answers[1].json()["predictions"]
            == pipeline.predict([str(p) for p in good[1:3]]).tolist()
        )
        assert answers[2].status_code == 422
        assert answers[2].json()["error"].startswith("clip 0 ('silent.wav'): silent: all 22050")
        assert answers[3].status_code == 422
        assert answers[3].json()["error"].startswith("clip 1 ('short.wav'): too short")
        passes = [names_of(items) for items in model.passes]
        requested = [[p.name for p in r] for r in requests]
        assert sorted(passes[0]) == sorted(sum(requested, []))
        assert sorted(passes[1:]) == sorted(requested)
        corrupt = post(f"{url}/predict", files=[("files", ("x.wav", b"RIFF0000WAVEjunk"))])
        assert corrupt.status_code == 400
        assert corrupt.json()["error"].startswith("upload 'x.wav': cannot decode audio")


# -- the command ---------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_command_passes_its_limits_to_the_server(svm_model, tmp_path):
    pipeline, served, texts = svm_model
    path = save_model(tmp_path / "svm.joblib", served.pipeline, modality="text")
    port = free_port()
    command = [
        *(sys.executable, "-m", "sktransfer.cli", "serve", str(path), "--port", str(port)),
        *("--max-batch-size", "2", "--max-wait-ms", "250", "--max-request-mb", "0.001"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    output = []
    try:
        seen = collections.Counter()
        while not (seen["listening"] and seen["ready"]):
            output.append(lines.get(timeout=TIMEOUT))  # queue.Empty: the server never started
            seen["listening"] += "Uvicorn running on" in output[-1]
            seen["ready"] += "model ready: loaded in" in output[-1]
            assert "warm-up failed" not in output[-1], "".join(output)
        url = f"http://127.0.0.1:{port}"
        meta = get(f"{url}/metadata").json()
        assert (meta["max_batch_size"], meta["max_wait_ms"], meta["max_request_bytes"]) == (
            2,
            250.0,
            1048,
        )
        answer = post(f"{url}/predict", json={"texts": texts[:2]})
        assert answer.json() == {"predictions": pipeline.predict(texts[:2]).tolist()}
        too_many = post(f"{url}/predict", json={"texts": texts[:3]})
        assert too_many.status_code == 413
        assert too_many.json()["error"] == "3 texts in one request; at most 2"
        body = '{"texts": ["%s"]}' % ("x" * 1100)
        too_big = post(f"{url}/predict", content=body, headers={"content-type": "application/json"})
        assert too_big.status_code == 413
        assert too_big.json()["error"] == "the request has 1115 bytes; at most 1048"
    finally:
        process.terminate()
        process.wait(timeout=TIMEOUT)
    output = "".join(output)
    assert "loaded" in output and "oneDNN" not in output
