import logging
import os
from dataclasses import dataclass
from pathlib import Path

import boto3
import numpy as np
import pytest
import soundfile as sf
from moto.server import ThreadedMotoServer
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import AudioSpectralFeatures, FeatureCache
from sktransfer.datasets import (
    FASHION_MNIST_CLASSES,
    load_fashion_mnist,
    load_polarity,
    make_spoken_words,
)

SR = 22050


@pytest.fixture
def row_keys(monkeypatch):
    """``row_keys(extractor, items)``: the feature cache keys ``extractor.transform`` gives ``items``.

    Nothing is looked up or computed; ``extractor`` must have a cache.
    """

    class Recorded(Exception):
        pass

    def keys_of(extractor, items):
        seen = []

        def record(cache, keys, compute):
            seen.append(keys)
            raise Recorded

        with monkeypatch.context() as patched:
            patched.setattr(FeatureCache, "_rows_for", record)
            with pytest.raises(Recorded):
                extractor.transform(items)
        return seen[0]

    return keys_of


@pytest.fixture
def counting():
    """``counting(Extractor)``: a subclass that counts the items reaching its ``_extract``.

    The count (``extracted``, a class attribute, so clones share it) starts at 0
    in every test. Rows are cached under the parent class's name, so a counting
    extractor shares the parent's rows.
    """

    def subclass(extractor_class):
        def _extract(self, items, indices, *args):
            type(self).extracted += len(indices)
            return extractor_class._extract(self, items, indices, *args)

        name = f"Counting{extractor_class.__name__}"
        return type(name, (extractor_class,), {"extracted": 0, "_extract": _extract})

    return subclass


@pytest.fixture(scope="session")
def spoken_words(tmp_path_factory):
    """48 real spoken words: 4 words x 6 voices x 2 speeds, synthesized by espeak-ng."""
    paths, labels = make_spoken_words(
        tmp_path_factory.mktemp("words"),
        words=("yes", "no", "up", "down"),
        voices=("en-us", "en-gb", "en-gb-scotland", "en-029", "en-us+f2", "en+m3"),
        speeds=(120, 170),
    )
    return paths, labels


@dataclass(frozen=True)
class FashionPNGs:
    """Real Fashion-MNIST test images as 28x28 PNG files, ``root/<class name>/<k:02d>.png``.

    A class's name is its folder's: Fashion-MNIST's, with "/" as "-" ("T-shirt-top").
    """

    root: Path
    per_class: int

    def files(self, classes=range(10), per_class=None, offset=0):
        """``(paths, labels)``: ``per_class`` files of each class from the ``offset``-th, as
        lists of ``pathlib.Path`` and an array of class names, class after class."""
        per_class = self.per_class - offset if per_class is None else per_class
        assert offset + per_class <= self.per_class, "ask the fixture for more images"
        paths, labels = [], []
        for c in classes:
            name = _folder_name(c)
            paths += [self.root / name / f"{k:02d}.png" for k in range(offset, offset + per_class)]
            labels += [name] * per_class
        return paths, np.asarray(labels)

    def folder(self, destination, classes, per_class):
        """A folder of its own with ``per_class`` files of each class, one folder per class
        (hard links: the files are not copied)."""
        paths, labels = self.files(classes, per_class)
        for path, label in zip(paths, labels):
            (Path(destination) / label).mkdir(parents=True, exist_ok=True)
            os.link(path, Path(destination) / label / path.name)
        return Path(destination)


def _folder_name(c):
    return FASHION_MNIST_CLASSES[c].replace("/", "-")


@pytest.fixture(scope="session")
def fashion_pngs(tmp_path_factory):
    """The first 20 Fashion-MNIST test images of each class, as PNG files (``FashionPNGs``)."""
    root = tmp_path_factory.mktemp("fashion-png")
    images, labels = load_fashion_mnist("test")
    for c in range(10):
        name = _folder_name(c)
        (root / name).mkdir()
        for k, i in enumerate(np.flatnonzero(labels == c)[:20]):
            Image.fromarray(images[i]).save(root / name / f"{k:02d}.png")
    return FashionPNGs(root, 20)


@pytest.fixture(scope="session")
def polarity():
    """The 200 labelled movie-review sentences shipped with gensim: texts (a list) and
    labels ("neg" or "pos", an array), as ``sktransfer.datasets.load_polarity`` gives them."""
    texts, labels = load_polarity()
    return list(texts), np.asarray(labels)


@pytest.fixture(scope="session")
def clips36(spoken_words):
    """36 of the spoken words (9 of each word) and their labels: the grid searches' data."""
    return spoken_words[0][:36], spoken_words[1][:36]


@pytest.fixture(scope="session")
def clip_search():
    """``clip_search(cache, **params)``: a 3-fold grid search of 3 candidates over spectral features.

    3 folds x 3 candidates (each a training and a held-out pass) and the refit:
    10 passes over the clips, each clip extracted once when ``cache`` works.
    ``params`` go to ``GridSearchCV`` (``n_jobs``); a failed fit raises, never a NaN score.
    """

    def search(cache, **params):
        pipeline = make_pipeline(
            AudioSpectralFeatures(cache=cache), StandardScaler(), LogisticRegression(max_iter=500)
        )
        grid = {"logisticregression__C": [0.1, 1.0, 10.0]}
        return GridSearchCV(pipeline, grid, cv=3, error_score="raise", **params)

    return search


@pytest.fixture(scope="session")
def spoken_word_features(spoken_words):
    """The 193 spectral features of the spoken words, standardised, with their labels."""
    paths, labels = spoken_words
    X = AudioSpectralFeatures(n_jobs=2).fit_transform(paths)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, np.asarray(labels)


def tone(freq, seconds=1.0, sr=SR, noise=0.01, seed=0):
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    y = 0.4 * np.sin(2 * np.pi * freq * t) + noise * rng.standard_normal(t.size)
    return y.astype(np.float32)


@pytest.fixture(scope="session")
def audio_files(tmp_path_factory):
    """Real files in several formats and layouts, named by what they test."""
    root = tmp_path_factory.mktemp("audio")
    files = {}

    def write(name, y, sr=SR, **kw):
        path = root / name
        sf.write(path, y, sr, **kw)
        files[name] = str(path)

    write("a440.wav", tone(440))
    write("a440_44k.flac", tone(440, sr=44100), sr=44100)
    write("c523.ogg", tone(523.25, seed=1))
    write("e330.mp3", tone(329.6, seed=2))
    write("stereo.wav", np.stack([tone(440), tone(660, seed=3)], axis=1))
    write("silent.wav", np.zeros(SR, dtype=np.float32))
    write("short.wav", tone(440, seconds=0.05))
    write("empty.wav", np.zeros(0, dtype=np.float32))
    corrupt = root / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(40)))
    files["corrupt.wav"] = str(corrupt)
    files["missing.wav"] = str(root / "missing.wav")
    return files


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible server on a loopback port, its bucket, and the options to reach it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": f"http://{host}:{port}", "region_name": "us-east-1"},
        "skip_instance_cache": True,
    }
    boto3.client(
        "s3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **options["client_kwargs"],
    ).create_bucket(Bucket="features")
    yield options
    server.stop()
