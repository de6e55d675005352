"""Concurrent first use of the audio path never breaks numba's cache (numba issue 10128)."""

import json
import multiprocessing
import os
import shutil
import signal
import sys

import numpy as np
import pytest
import soundfile as sf

from ..conftest import SR, tone
from ..fresh_process import run_python
from . import _first_users as users

REPAIR_WARNING = "numba's cache of a guvectorize function had been written by two processes"


def _watched_run(clip, env, out):
    """``cache_uses_outside_the_lock`` in a new process: its uses and the process's result."""
    script = (
        "from tests.audio._first_users import cache_uses_outside_the_lock;"
        f"cache_uses_outside_the_lock([{str(clip)!r}], {str(out)!r})"
    )
    result = run_python("-c", script, env=env)
    return json.loads(out.read_text()), result


def _env(cache):
    return {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """A clip, and the numba cache that one watched run of the audio path compiled into."""
    folder = tmp_path_factory.mktemp("first-use")
    clip = folder / "clip.wav"
    sf.write(clip, tone(440, seconds=0.5), 16000)  # resampled to 22050 Hz on load
    uses, _ = _watched_run(clip, _env(folder / "numba-cache"), folder / "compiles.json")
    return clip, folder / "numba-cache", uses


def test_every_cache_load_and_save_of_the_audio_path_holds_the_lock(compiled, tmp_path):
    # Deterministic: a race needs luck to show, a load or save outside the lock does not.
    clip, cache, compiling = compiled
    loading, _ = _watched_run(clip, _env(cache), tmp_path / "loads.json")
    for uses, method in ((compiling, "save_overload"), (loading, "load_overload")):
        assert uses["outside"] == [], method
        names = " ".join(use for use in uses["inside"] if use.startswith(method))
        # librosa's guvectorize (at import), its lazily compiled jit, sktransfer's own
        for function in ("_pi_wrapper", "_localmax", "__window_ss_fill", "_median_filter_rows"):
            assert function in names, (method, function, uses["inside"])


TUNING = (
    "import librosa, numpy as np;"
    "print(librosa.estimate_tuning(y=np.sin(np.arange(22050) * 0.1), sr=22050))"
)
"""A plain librosa program that runs the guvectorize function ``pitch._pi_wrapper``."""


def test_a_cache_written_by_two_processes_is_repaired_on_import(compiled, tmp_path):
    clip, cache, _ = compiled
    broken = tmp_path / "numba-cache"
    shutil.copytree(cache, broken)
    # pitch._pi_wrapper's wrapper from a process whose symbols are numbered differently
    other = tmp_path / "other-cache"
    run_python(
        "-c",
        "import numba; [numba.njit(lambda x, i=i: x * 2 + i)(1.0) for i in range(7)];"
        "import librosa.core.pitch",
        env=_env(other),
    )
    wrappers = list(other.glob("*/guf-pitch._pi_wrapper-*"))
    assert len(wrappers) >= 2, wrappers  # its index, the code of each signature
    for wrapper in wrappers:
        shutil.copy(wrapper, broken / wrapper.parent.name)
    run_python("-c", TUNING, env=_env(broken), expect=-signal.SIGSEGV)  # issue 10128, for real

    uses, result = _watched_run(clip, _env(broken), tmp_path / "repairs.json")
    assert REPAIR_WARNING in result.stderr and "pitch._pi_wrapper" in result.stderr
    assert uses["outside"] == []
    assert any(use.startswith("save_overload <function _pi_wrapper") for use in uses["inside"])
    run_python("-c", TUNING, env=_env(broken))  # the repaired cache loads in any program


def test_processes_starting_together_leave_a_cache_every_later_process_loads(tmp_path, monkeypatch):
    cache = tmp_path / "numba-cache"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))  # empty: every process compiles
    # Under the lock no process ever finds a cache written by two: repairing one is an error.
    monkeypatch.setenv("PYTHONWARNINGS", f"error:{REPAIR_WARNING}:RuntimeWarning")
    paths = []
    for i, freq in enumerate((440, 523.25, 330, 392)):
        paths.append(str(tmp_path / f"clip{i}.wav"))
        sf.write(paths[-1], tone(freq, seconds=0.5, seed=i), SR)
    labels = [0, 1, 0, 1]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    processes = [
        context.Process(
            target=users.plain_user, args=(barrier, 0, paths[:1], tmp_path / "plain.npy")
        ),
        context.Process(target=users.grid_search_user, args=(barrier, 4, paths, labels)),
        context.Process(target=users.dask_user, args=(barrier, 8, paths[:1])),
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0, 0, 0]

    # A later process loads what they left, and gets the numbers this process computes.
    out = tmp_path / "later.npy"
    script = (
        "import sys, numpy as np; from tests.audio._first_users import features;"
        f"np.save({str(out)!r}, features({paths[:1]!r}))"
    )
    run_python("-c", script, env=_env(cache))
    expected = users.features(paths[:1])
    np.testing.assert_array_equal(np.load(out), expected)
    np.testing.assert_array_equal(np.load(tmp_path / "plain.npy"), expected)
