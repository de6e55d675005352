"""Code that Dask worker processes import by name: instrumented extractors and a plugin.

Worker processes unpickle classes and functions by reference, so what the
tests send them lives in this importable module rather than in a test file.
"""

import os
import warnings
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from sktransfer import AudioSpectralFeatures

UNPICKLED = []  # one entry per estimator unpickled in this process


class DamagedRowsAreErrors(WorkerPlugin):
    """Make a worker raise where it would warn of a damaged cache row (a half-written one).

    A warning inside a worker reaches no one: the row is deleted, recomputed,
    and the run succeeds. As an error it fails the task and the test. A
    plugin, so that a worker started after a crash gets it too.
    """

    def setup(self, worker):
        warnings.filterwarnings("error", message="feature cache file .* is damaged")


class UnpickleCountingFeatures(AudioSpectralFeatures):
    """Spectral features that record each time they are unpickled in a process."""

    def __setstate__(self, state):
        UNPICKLED.append(os.getpid())
        super().__setstate__(state)


def unpickled():
    """How many estimators this worker process unpickled."""
    return len(UNPICKLED)


def _in_worker():
    try:
        get_worker()
    except ValueError:
        return False
    return True


class StallingFeatures(AudioSpectralFeatures):
    """Spectral features of which the first extraction on a worker stalls until killed.

    The stalled worker first writes its process id to the FIFO ``hold/started``
    next to the cache (blocking until the test reads it), then opens the FIFO
    ``hold/never`` for reading, which no one ever opens for writing. It holds
    the claims of the rows it was computing meanwhile. Later extractions
    (on any worker) run normally.
    """

    def _extract(self, items, indices, weights):
        hold = Path(self.cache.directory) / "hold"
        if _in_worker():
            try:
                os.close(os.open(hold / "taken", os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass
            else:
                with open(hold / "started", "w") as started:
                    started.write(str(os.getpid()))
                with open(hold / "never", "rb") as never:
                    never.read()
        return super()._extract(items, indices, weights)
