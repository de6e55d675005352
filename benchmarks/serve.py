"""``sktransfer serve`` under load, on loopback only: start-up, latency, throughput, soak.

For three models (EfficientNet-Lite0 images, the 193 spectral audio features,
GloVe text) the script starts the real command in a subprocess and measures
cold start to the first answer, the latency of single requests (p50, p99),
and the throughput of 16 concurrent clients against the same model's batch
throughput in this process. On the image model it then runs a soak (16
clients for ``--soak`` seconds: 5xx answers, growth of the server's resident
memory) and a load with 10% malformed requests (every good request must be
answered correctly). Every loop is bounded in count and in time, and every
request goes to 127.0.0.1.

    python benchmarks/serve.py            # about 8 minutes on 2 cores
    python benchmarks/serve.py --soak 20  # a shorter soak
    python benchmarks/serve.py --onnx --soak 20   # also the image model exported to ONNX

``--onnx`` adds the image model exported by ``sktransfer.onnx.to_onnx`` as a fourth model
(served by onnxruntime, without TensorFlow; its in-process column is the exported model's).
"""

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

HOST = "127.0.0.1"
CLIENTS = 16


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def add_onnx_model(models, folder):
    """The image model exported to ONNX, with its runtime as the in-process model."""
    from sktransfer.onnx import load, to_onnx

    _, pipeline, files = models["image"]
    path = to_onnx(pipeline, folder / "image.onnx", X_sample=[str(f) for f in files[:16]]).path
    models["image.onnx"] = (path, load(path), files)


def build_models(folder):
    """Three fitted model files and, per model, a list of request payloads with expected labels."""
    from PIL import Image
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sktransfer import AudioSpectralFeatures, KerasImageFeatures, Word2VecEmbedder
    from sktransfer.cli import save_model
    from sktransfer.datasets import (
        FASHION_MNIST_CLASSES,
        load_fashion_mnist,
        load_polarity,
        make_spoken_words,
    )

    models = {}
    X, y = load_fashion_mnist("train", n=300)
    image = make_pipeline(KerasImageFeatures(), LogisticRegression(max_iter=1000))
    image.fit(X, np.asarray(FASHION_MNIST_CLASSES)[y])
    files = []
    for i, pixels in enumerate(load_fashion_mnist("test", n=64)[0]):
        files.append(folder / f"image{i}.png")
        Image.fromarray(pixels).save(files[-1])
    models["image"] = (save_model(folder / "image.joblib", image, modality="image"), image, files)

    paths, labels = make_spoken_words(folder / "words", words=("yes", "no", "up", "down"))
    audio = make_pipeline(AudioSpectralFeatures(), StandardScaler(), LogisticRegression())
    audio.fit(paths, labels)
    models["audio"] = (
        save_model(folder / "audio.joblib", audio, modality="audio"),
        audio,
        [Path(p) for p in paths],
    )

    texts, labels = load_polarity()
    text = make_pipeline(Word2VecEmbedder(pretrained="glove-6b-50d"), LogisticRegression())
    text.fit(texts[:150], labels[:150])
    models["text"] = (save_model(folder / "text.joblib", text, modality="text"), text, texts[150:])
    return models


def payload(modality, item):
    if modality == "text":
        return {"json": {"texts": [item]}}
    return {"files": [("files", (item.name, item.read_bytes()))]}


def expected_label(pipeline, modality, item):
    return pipeline.predict([item if modality == "text" else str(item)])[0]


class Server:
    """``sktransfer serve`` in a subprocess."""

    def __init__(self, model_path):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        command = [
            sys.executable,
            "-m",
            "sktransfer.cli",
            "serve",
            str(model_path),
            "--port",
            str(self.port),
            "--max-batch-size",
            "32",
            "--max-wait-ms",
            "5",
        ]
        self.start = time.perf_counter()
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def first_answer(self, request, timeout=180):
        """Seconds from the start of the process to the first successful answer."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                try:
                    if client.post(f"{self.url}/predict", **request).status_code == 200:
                        return time.perf_counter() - self.start
                except httpx.TransportError:
                    time.sleep(0.05)
        raise RuntimeError("the server did not answer in time")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def latencies(url, requests, count):
    times = []
    with httpx.Client(timeout=60) as client:
        for i in range(count):
            start = time.perf_counter()
            response = client.post(f"{url}/predict", **requests[i % len(requests)])
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text
    return np.percentile(times, 50) * 1000, np.percentile(times, 99) * 1000


async def _load(url, requests, *, seconds, max_requests, check=None):
    """CLIENTS concurrent clients, each sending one request after another; answers by status."""
    statuses, done = {}, [0]
    deadline = time.perf_counter() + seconds
    wrong = []

    async def client_loop(worker, client):
        i = worker
        while time.perf_counter() < deadline and done[0] < max_requests:
            request, want = requests[i % len(requests)]
            i += CLIENTS
            response = await client.post(f"{url}/predict", **request)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            done[0] += 1
            if want is not None and (
                response.status_code != 200 or response.json()["predictions"] != [want]
            ):
                wrong.append((response.status_code, response.text[:200]))

    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(w, client) for w in range(CLIENTS)))
        elapsed = time.perf_counter() - start
    return done[0] / elapsed, statuses, wrong


def in_process_throughput(pipeline, modality, items, batch_size=32, seconds=15):
    batch = [item if modality == "text" else str(item) for item in items[:batch_size]]
    pipeline.predict(batch)  # warm
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        pipeline.predict(batch)
        count += len(batch)
    return count / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soak", type=float, default=120, help="soak seconds (default: 120)")
    parser.add_argument("--load", type=float, default=20, help="seconds per load test")
    parser.add_argument("--latency-requests", type=int, default=100)
    parser.add_argument("--onnx", action="store_true", help="also the image model in ONNX")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        models = build_models(Path(folder))
        if args.onnx:
            add_onnx_model(models, Path(folder))
        rows = []
        for modality, (path, pipeline, items) in models.items():
            requests = [payload(modality, item) for item in items]
            expected = [expected_label(pipeline, modality, item) for item in items]
            server = Server(path)
            try:
                cold = server.first_answer(requests[0])
                p50, p99 = latencies(server.url, requests, args.latency_requests)
                served, statuses, wrong = asyncio.run(
                    _load(
                        server.url,
                        list(zip(requests, expected)),
                        seconds=args.load,
                        max_requests=20_000,
                    )
                )
                assert not wrong and set(statuses) == {200}, (statuses, wrong[:3])
                direct = in_process_throughput(pipeline, modality, items)
                rows.append((modality, cold, p50, p99, served, direct))
                if modality == "text":  # per-item work is microseconds: batch in the request
                    batches = [items[i : i + 32] for i in range(0, len(items) - 31, 32)]
                    bulk = [({"json": {"texts": batch}}, None) for batch in batches]
                    served, statuses, _ = asyncio.run(
                        _load(server.url, bulk, seconds=args.load, max_requests=20_000)
                    )
                    assert set(statuses) == {200}, statuses
                    rows.append(("text x32", cold, p50, p99, 32 * served, direct))
                if modality == "image":
                    soak = soak_and_malformed(server, requests, expected, args)
            finally:
                server.stop()
    print(
        f"\n{'model':8s} {'cold start s':>12s} {'p50 ms':>8s} {'p99 ms':>8s} "
        f"{'16 clients items/s':>19s} {'in-process/s':>13s} {'ratio':>6s}"
    )
    for modality, cold, p50, p99, served, direct in rows:
        print(
            f"{modality:8s} {cold:12.1f} {p50:8.1f} {p99:8.1f} {served:19.1f} {direct:13.1f} "
            f"{served / direct:6.2f}"
        )
    print(soak)


def soak_and_malformed(server, requests, expected, args):
    before = rss_mb(server.process.pid)
    rate, statuses, wrong = asyncio.run(
        _load(
            server.url,
            list(zip(requests, expected)),
            seconds=args.soak,
            max_requests=1_000_000,
        )
    )
    after = rss_mb(server.process.pid)
    five_xx = sum(n for status, n in statuses.items() if status >= 500)
    bad = [
        ({"files": [("files", ("broken.png", b"\x89PNG not really"))]}, None),
        ({"files": [("files", ("empty.png", b""))]}, None),
        ({"json": {"texts": ["not for an image model"]}}, None),
        ({"files": [("files", ("sound.wav", b"RIFF0000WAVE"))]}, None),
    ]
    mixed = []
    for i, (request, want) in enumerate(zip(requests, expected)):
        mixed.append((request, want))
        if i % 9 == 8:
            mixed.append(bad[(i // 9) % len(bad)])
    _, mixed_statuses, mixed_wrong = asyncio.run(
        _load(
            server.url,
            mixed,
            seconds=args.load,
            max_requests=20_000,
        )
    )
    good = sum(n for status, n in mixed_statuses.items() if status == 200)
    four_xx = sum(n for status, n in mixed_statuses.items() if 400 <= status < 500)
    return (
        f"\nsoak (image, {CLIENTS} clients, {args.soak:.0f} s): {sum(statuses.values())} requests "
        f"at {rate:.1f}/s, answers {dict(sorted(statuses.items()))}, 5xx: {five_xx}, wrong: "
        f"{len(wrong)}; server RSS {before:.0f} MB -> {after:.0f} MB "
        f"(growth {after - before:+.1f} MB)\n"
        f"10% malformed (image, {CLIENTS} clients, {args.load:.0f} s): {good} good requests all "
        f"answered correctly: {not mixed_wrong}; {four_xx} malformed answered 4xx; answers "
        f"{dict(sorted(mixed_statuses.items()))}"
    )


if __name__ == "__main__":
    main()
