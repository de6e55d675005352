"""Concurrent first use of the audio path never breaks numba's cache (numba issue 10128)."""

import multiprocessing
import os
import subprocess
import sys

import numpy as np
import soundfile as sf

from ..conftest import SR, tone
from . import _first_users as users


def test_processes_starting_together_leave_a_cache_every_later_process_loads(tmp_path, monkeypatch):
    cache = tmp_path / "numba-cache"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))  # empty: every process compiles
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
    later = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert later.returncode == 0, later.stderr
    expected = users.features(paths[:1])
    np.testing.assert_array_equal(np.load(out), expected)
    np.testing.assert_array_equal(np.load(tmp_path / "plain.npy"), expected)
