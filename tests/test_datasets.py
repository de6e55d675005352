"""The offline data: spoken words, instrument notes, Fashion-MNIST, the polarity corpus and the
fortune topics."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from sktransfer import AudioSpectrogramImages
from sktransfer.datasets import (
    DIGITS,
    VOICES,
    load_fashion_mnist,
    load_fortune_topics,
    make_instrument_notes,
    make_spoken_words,
)


def test_every_default_voice_sounds_different(tmp_path):
    paths, labels = make_spoken_words(tmp_path, words=("seven",))
    assert labels == ["seven"] * len(VOICES)
    digests = {hashlib.sha256(Path(p).read_bytes()).digest() for p in paths}
    assert len(digests) == len(VOICES) == 8
    assert len(DIGITS) == 10


def test_a_voice_variant_espeak_cannot_apply_is_refused(tmp_path):
    # espeak-ng ignores "+m3" on "en-gb": both would be the same recording.
    with pytest.raises(ValueError, match=r"voices 'en-gb' and 'en-gb\+m3' give identical audio"):
        make_spoken_words(tmp_path, words=("yes",), voices=("en-gb", "en-gb+m3"))


def test_fashion_mnist_is_the_real_data():
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert sorted(set(labels.tolist())) == list(range(10))


def test_instrument_notes_look_different(tmp_path):
    paths, labels = make_instrument_notes(
        tmp_path, instruments=("flute", "cello"), pitches=(60,), durations=(0.3,)
    )
    assert labels == ["flute", "cello"]
    images = AudioSpectrogramImages(n_mels=32, n_frames=32).fit_transform(paths)
    assert images.shape == (2, 32, 32, 3) and images.max() == 255.0
    assert np.abs(images[0] - images[1]).mean() > 10  # in pixel levels, out of 255


def test_fortune_topics_read_a_folder_of_topic_files_and_name_what_is_wrong(tmp_path):
    (tmp_path / "food").write_text("Eat your greens.\n%\nA pickle\n  in   time.\n%\nShared.\n")
    (tmp_path / "sports").write_text("Run.\n%\nShared.\n")
    texts, labels = load_fortune_topics(tmp_path, topics=("food", "sports"))
    # Lines joined, white space folded; a text filed under two topics left out.
    assert list(zip(texts, labels)) == [
        ("Eat your greens.", "food"),
        ("A pickle in time.", "food"),
        ("Run.", "sports"),
    ]
    assert load_fortune_topics(tmp_path, topics=("food",), max_words=3)[0] == [
        "Eat your greens.",
        "Shared.",
    ]
    with pytest.raises(FileNotFoundError, match="apt-get install fortunes"):
        load_fortune_topics(tmp_path, topics=("law",))
    (tmp_path / "law").write_bytes(b"fine\n%\nbad \xff byte\n")
    with pytest.raises(ValueError, match=r"law, line 3: not UTF-8"):
        load_fortune_topics(tmp_path, topics=("law",))
