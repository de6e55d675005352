"""Spoken words synthesized offline with espeak-ng, one folder per word."""

import os
import shutil
import subprocess
from itertools import product
from pathlib import Path

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
