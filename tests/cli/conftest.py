"""Labelled folders of real files that the command-line tests train on."""

import csv

import pytest

from sktransfer.datasets import make_spoken_words


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory, fashion_pngs):
    """3 Fashion-MNIST classes x 12 real images as PNG files, one folder per class."""
    return fashion_pngs.folder(tmp_path_factory.mktemp("fashion"), (1, 5, 7), 12)


@pytest.fixture(scope="session")
def audio_folder(tmp_path_factory):
    """3 spoken words x 2 voices x 2 speeds, synthesized by espeak-ng."""
    root = tmp_path_factory.mktemp("words")
    make_spoken_words(
        root, words=("yes", "no", "stop"), voices=("en-us", "en-gb"), speeds=(120, 170)
    )
    return root


@pytest.fixture(scope="session")
def polarity_files(tmp_path_factory, polarity):
    """40 review sentences of gensim's polarity corpus, as .txt files per class and as a CSV."""
    root = tmp_path_factory.mktemp("polarity")
    texts, labels = polarity
    rows = [(texts[i].strip(), labels[i]) for i in [*range(20), *range(180, 200)]]
    with open(root / "reviews.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    for i, (text, label) in enumerate(rows):
        (root / "folder" / label).mkdir(parents=True, exist_ok=True)
        (root / "folder" / label / f"{i:02d}.txt").write_text(text)
    return root
