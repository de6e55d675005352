"""Labelled folders of real files that the command-line tests train on."""

import csv

import numpy as np
import pytest
from gensim.test.utils import datapath
from PIL import Image

from sktransfer.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist, make_spoken_words


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """3 Fashion-MNIST classes x 12 real images, saved as 32x32 PNG files."""
    root = tmp_path_factory.mktemp("fashion")
    images, labels = load_fashion_mnist("test")
    for index in (1, 5, 7):  # trouser, sandal, sneaker
        folder = root / FASHION_MNIST_CLASSES[index]
        folder.mkdir()
        for k, i in enumerate(np.flatnonzero(labels == index)[:12]):
            Image.fromarray(images[i]).resize((32, 32)).save(folder / f"{k:02d}.png")
    return root


@pytest.fixture(scope="session")
def audio_folder(tmp_path_factory):
    """3 spoken words x 2 voices x 2 speeds, synthesized by espeak-ng."""
    root = tmp_path_factory.mktemp("words")
    make_spoken_words(
        root, words=("yes", "no", "stop"), voices=("en-us", "en-gb"), speeds=(120, 170)
    )
    return root


@pytest.fixture(scope="session")
def polarity(tmp_path_factory):
    """40 review sentences of gensim's polarity corpus, as .txt files per class and as a CSV."""
    root = tmp_path_factory.mktemp("polarity")
    with open(datapath("pang_lee_polarity.cor"), encoding="cp1252") as stream:
        lines = stream.read().splitlines()
    rows = [line.split(" ", 1) for line in lines[:20] + lines[-20:]]
    rows = [(text.strip(), label.removeprefix("__label__")) for label, text in rows]
    with open(root / "reviews.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    for i, (text, label) in enumerate(rows):
        (root / "folder" / label).mkdir(parents=True, exist_ok=True)
        (root / "folder" / label / f"{i:02d}.txt").write_text(text)
    return root
