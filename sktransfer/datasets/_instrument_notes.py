"""Instrument notes rendered offline: a General MIDI soundfont played by fluidsynth.

A second real audio task beside the spoken digits, made from Debian packages
only: each note is written as a one-note standard MIDI file and rendered to a
WAV file by the ``fluidsynth`` program with the sampled instruments of a
General MIDI soundfont (``timgm6mb-soundfont``, or ``fluid-soundfont-gm``).
Which instrument plays is the label; pitch, loudness and length vary, so a
model can be scored on pitches it never heard.
"""

import os
import shutil
import struct
import subprocess
from itertools import product
from pathlib import Path

INSTRUMENTS = {
    "piano": 0,
    "vibraphone": 11,
    "organ": 19,
    "guitar": 24,
    "bass": 32,
    "violin": 40,
    "cello": 42,
    "trumpet": 56,
    "saxophone": 65,
    "flute": 73,
}
"""Instrument name to General MIDI program number (0-based)."""
SOUNDFONTS = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
)
"""Where Debian's General MIDI soundfont packages put their files, in order of preference."""
TICKS_PER_SECOND = 960  # 480 ticks per quarter note at the default 120 beats per minute
RELEASE_SECONDS = 0.3  # the track ends 0.3 s after the note-off; fluidsynth renders the decay


def _variable_length(value):
    """A MIDI variable-length quantity: 7 bits a byte, high bit set on all but the last."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def one_note_midi(program, pitch, velocity, seconds):
    """A format-0 standard MIDI file playing one note on ``program``.

    Examples
    --------
    >>> data = one_note_midi(40, 60, 100, 0.5)
    >>> data[:4], len(data)
    (b'MThd', 39)
    """
    hold = int(round(seconds * TICKS_PER_SECOND))
    release = int(round(RELEASE_SECONDS * TICKS_PER_SECOND))
    track = b"".join(
        [
            b"\x00" + bytes([0xC0, program]),
            b"\x00" + bytes([0x90, pitch, velocity]),
            _variable_length(hold) + bytes([0x80, pitch, 0]),
            _variable_length(release) + b"\xff\x2f\x00",
        ]
    )
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def find_soundfont():
    """The first General MIDI soundfont installed, or a RuntimeError saying what to install."""
    for path in SOUNDFONTS:
        if os.path.exists(path):
            return path
    raise RuntimeError(
        "no General MIDI soundfont found; on Debian or Ubuntu run "
        "'apt-get install timgm6mb-soundfont' (or fluid-soundfont-gm)"
    )


def _render(midi_path, wav_path, *, fluidsynth, soundfont, sr):
    result = subprocess.run(
        [fluidsynth, "-ni", "-q", "-g", "0.8", "-R", "0", "-C", "0", "-r", str(sr)]
        + ["-F", str(wav_path)]
        + [soundfont, str(midi_path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not Path(wav_path).exists():
        raise RuntimeError(
            f"fluidsynth failed on {midi_path}: {result.stderr.strip() or 'no output file'}"
        )


def make_instrument_notes(
    directory,
    *,
    instruments=tuple(INSTRUMENTS),
    pitches=(48, 55, 60, 67, 72),
    velocities=(100,),
    durations=(0.5,),
    sr=22050,
    soundfont=None,
):
    """Render every instrument, pitch, velocity and duration into one folder per instrument.

    Each note becomes a stereo 16-bit WAV file at ``sr`` Hz,
    ``directory/<instrument>/p<pitch>_v<velocity>_d<milliseconds>.wav``:
    the note held for its duration, then its release until fluidsynth's
    voices fall silent (about 3 to 4.5 s in all with TimGM6mb). Files that
    already exist are kept, so a second call is free.

    Parameters
    ----------
    directory : str or path-like
        Where to write; created if missing.
    instruments : sequence of str, default=all of ``INSTRUMENTS``
        The classes: names of ``INSTRUMENTS``.
    pitches : sequence of int, default=(48, 55, 60, 67, 72)
        MIDI note numbers (60 is middle C).
    velocities : sequence of int, default=(100,)
        MIDI velocities, 1 to 127: how hard each note is struck.
    durations : sequence of float, default=(0.5,)
        Seconds each note is held.
    sr : int, default=22050
        Sampling rate of the files.
    soundfont : str, path-like or None, default=None
        A General MIDI ``.sf2`` file; None: the first of ``SOUNDFONTS`` installed.

    Returns
    -------
    paths : list of str
    labels : list of str
        The instrument of each file.

    Raises
    ------
    RuntimeError
        If the ``fluidsynth`` program or a soundfont is missing, or rendering fails.
    ValueError
        For an unknown instrument name.

    Examples
    --------
    >>> import tempfile
    >>> paths, labels = make_instrument_notes(tempfile.mkdtemp(), instruments=("flute", "cello"),
    ...                                       pitches=(60,))
    >>> [p.split("/")[-2:] for p in paths], labels
    ([['flute', 'p60_v100_d500.wav'], ['cello', 'p60_v100_d500.wav']], ['flute', 'cello'])
    """
    unknown = [name for name in instruments if name not in INSTRUMENTS]
    if unknown:
        raise ValueError(f"unknown instruments {unknown}; choose from {tuple(INSTRUMENTS)}")
    fluidsynth = shutil.which("fluidsynth")
    if fluidsynth is None:
        raise RuntimeError(
            "the fluidsynth program is not installed; on Debian or Ubuntu run "
            "'apt-get install fluidsynth timgm6mb-soundfont'"
        )
    soundfont = os.fspath(soundfont) if soundfont is not None else find_soundfont()
    paths, labels = [], []
    for name, pitch, velocity, seconds in product(instruments, pitches, velocities, durations):
        path = Path(directory, name, f"p{pitch}_v{velocity}_d{int(round(seconds * 1000))}.wav")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            midi = path.with_suffix(".mid")
            midi.write_bytes(one_note_midi(INSTRUMENTS[name], pitch, velocity, seconds))
            partial = path.with_suffix(".partial.wav")
            _render(midi, partial, fluidsynth=fluidsynth, soundfont=soundfont, sr=sr)
            midi.unlink()
            os.replace(partial, path)
        paths.append(str(path))
        labels.append(name)
    return paths, labels
