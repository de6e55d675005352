"""Offline example data: spoken words synthesized with espeak-ng, instrument
notes rendered by fluidsynth from a General MIDI soundfont, Fashion-MNIST from
Debian's dataset-fashion-mnist package, and the labelled movie-review
sentences that come with gensim."""

import os
import shutil
import subprocess
from itertools import product
from pathlib import Path

from ._instrument_notes import INSTRUMENTS, make_instrument_notes

__all__ = [
    "load_fashion_mnist",
    "load_polarity",
    "make_instrument_notes",
    "make_spoken_words",
    "DIGITS",
    "INSTRUMENTS",
    "VOICES",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_DIR",
]

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
VOICES = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-029",
    "en-us+f2",
    "en-us+f4",
    "en+m3",
    "en+m7",
)


def make_spoken_words(directory, *, words=DIGITS, voices=VOICES, speeds=(140,), pitches=(50,)):
    """Synthesize each word (or phrase) in several voices into one folder per word.

    Every combination of word, voice, speed and pitch becomes one mono 16-bit
    WAV file at 22050 Hz, ``directory/<word>/<voice>_s<speed>_p<pitch>.wav``
    (spaces in a phrase become underscores in its folder name),
    a layout that ``sklearn.datasets.load_files``-style tools and the
    ``sktransfer`` command read as one class per folder. Files that already
    exist are kept, so a second call is free.

    Parameters
    ----------
    directory : str or path-like
        Where to write; created if missing.
    words : sequence of str, default=DIGITS
        The classes, "zero" to "nine" by default; phrases work too.
    voices : sequence of str, default=VOICES
        espeak-ng voice names, optionally with a ``+variant``.
    speeds : sequence of int, default=(140,)
        Words per minute.
    pitches : sequence of int, default=(50,)
        espeak-ng pitch, 0 to 99.

    Returns
    -------
    paths : list of str
    labels : list of str
        The word spoken in each file.

    Raises
    ------
    RuntimeError
        If the ``espeak-ng`` program is missing or fails.

    Examples
    --------
    >>> import tempfile
    >>> paths, labels = make_spoken_words(tempfile.mkdtemp(), words=("yes", "no"),
    ...                                   voices=("en-us", "en-gb"))
    >>> len(paths), sorted(set(labels))
    (4, ['no', 'yes'])
    """
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError(
            "the espeak-ng program is not installed; on Debian or Ubuntu run "
            "'apt-get install espeak-ng'"
        )
    paths, labels = [], []
    for word, voice, speed, pitch in product(words, voices, speeds, pitches):
        path = Path(
            directory, word.replace(" ", "_"), f"{voice.replace('+', '-')}_s{speed}_p{pitch}.wav"
        )
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial.wav")
            result = subprocess.run(
                [espeak, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(partial), word],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0 or not partial.exists():
                raise RuntimeError(
                    f"espeak-ng failed for word {word!r} with voice {voice!r}: "
                    f"{result.stderr.strip() or 'no output file'}"
                )
            os.replace(partial, path)
        paths.append(str(path))
        labels.append(word)
    _check_voices_differ(
        paths, labels, [v for _, v, _, _ in product(words, voices, speeds, pitches)]
    )
    return paths, labels


def _check_voices_differ(paths, labels, voices):
    """A ValueError if two voices gave byte-identical audio for the same word.

    espeak-ng silently falls back to the base voice for a variant it cannot
    apply (``en-gb+m3`` sounds as ``en-gb``), which would put the same clip
    under two voice names.
    """
    import hashlib

    seen = {}
    for path, word, voice in zip(paths, labels, voices):
        digest = hashlib.sha256(Path(path).read_bytes()).digest()
        other = seen.setdefault((word, digest), voice)
        if other != voice:
            raise ValueError(
                f"espeak-ng voices {other!r} and {voice!r} give identical audio for {word!r} "
                "(a voice variant it cannot apply falls back to the base voice); choose "
                "voices that differ, e.g. 'en+m3' rather than 'en-gb+m3'"
            )


FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _read_idx(path):
    import gzip

    import numpy as np

    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(subset="train", *, n=None, random_state=0, directory=FASHION_MNIST_DIR):
    """Fashion-MNIST images and labels, from Debian's ``dataset-fashion-mnist``.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        60,000 training or 10,000 test images.
    n : int or None, default=None
        A stratified random draw of ``n`` images (the classes in equal
        shares), as few-label experiments need; None: all of them.
    random_state : int, default=0
        Seeds the draw.
    directory : str or path-like
        Where the four ``*-idx?-ubyte.gz`` files are; Debian's package puts
        them in ``/usr/share/datasets/fashion-mnist``.

    Returns
    -------
    images : ndarray of shape (n, 28, 28), uint8
        Grayscale, 0 is background.
    labels : ndarray of shape (n,), uint8
        Class indices into ``FASHION_MNIST_CLASSES``.

    Raises
    ------
    FileNotFoundError
        If the files are missing, with the command that installs them.
    """
    prefix = {"train": "train", "test": "t10k"}[subset]
    images_path = Path(directory, f"{prefix}-images-idx3-ubyte.gz")
    labels_path = Path(directory, f"{prefix}-labels-idx1-ubyte.gz")
    for path in (images_path, labels_path):
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing; on Debian or Ubuntu run 'apt-get install dataset-fashion-mnist'"
            )
    images, labels = _read_idx(images_path), _read_idx(labels_path)
    if n is None or n >= len(labels):
        return images, labels
    from sklearn.model_selection import train_test_split

    images, _, labels, _ = train_test_split(
        images, labels, train_size=n, stratify=labels, random_state=random_state
    )
    return images, labels


def load_polarity(path=None):
    """Movie-review sentences labelled positive or negative, from gensim's test data.

    gensim ships ``pang_lee_polarity.cor``: 200 sentences of Pang and Lee's
    sentence polarity data (100 positive, 100 negative), one a line, each
    after a ``__label__pos`` or ``__label__neg`` tag, lower-cased and
    tokenized, encoded in cp1252.

    Parameters
    ----------
    path : str, path-like or None, default=None
        A file in that format; None: the one inside the installed gensim.

    Returns
    -------
    texts : list of str
    labels : list of str
        "pos" or "neg".

    Raises
    ------
    ValueError
        If a line lacks the ``__label__`` tag, naming the file and the line.

    Examples
    --------
    >>> texts, labels = load_polarity()
    >>> len(texts), labels.count("pos")
    (200, 100)
    >>> labels[0], texts[0]
    ('neg', 'simplistic , silly and tedious .')
    """
    if path is None:
        from gensim.test.utils import datapath

        path = datapath("pang_lee_polarity.cor")
    texts, labels = [], []
    with open(path, encoding="cp1252") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            tag, _, text = line.strip().partition(" ")
            if not tag.startswith("__label__") or not text:
                raise ValueError(
                    f"{path}, line {number}: expected '__label__<label> <text>', got {line[:40]!r}"
                )
            labels.append(tag.removeprefix("__label__"))
            texts.append(text)
    return texts, labels
