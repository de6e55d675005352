"""Keep TensorFlow's known harmless C++ log lines out of the ``sktransfer`` command's output.

TensorFlow writes some lines to the process's standard error from C++, where no
Python logging setting reaches them:

- at import, before any Python code can configure logging: absl's notice that
  it is not initialized yet, the oneDNN notice of ``port.cc`` and the CPU
  instructions of ``cpu_feature_guard.cc``. ``TF_CPP_MIN_LOG_LEVEL=1`` hides
  only the last one, and the oneDNN notice can only be turned off with oneDNN
  itself (``TF_ENABLE_ONEDNN_OPTS=0``), which changes the numbers;
- during training with op determinism on (SciKeras turns it on while it trains
  a head with a ``random_state``): ``node_def_util.cc`` reports, at error
  level, that the ``MapDataset`` op of Keras' input pipeline (a parallel map
  made sequential for determinism) carries an attribute,
  ``use_unbounded_threadpool``, that the op does not define, and that it is
  ignored. TensorFlow's Python and C++ halves of one release disagree there;
  hiding it with ``TF_CPP_MIN_LOG_LEVEL=3`` would hide every real error too.

So the command runs with file descriptor 2 sent through a filter process that
drops exactly those lines (each matched whole) and passes everything else on
as it comes, progress bars included: TensorFlow's warnings and errors, Python's
warnings and tracebacks stay visible. ``TF_CPP_MIN_LOG_LEVEL=1`` keeps
TensorFlow's info lines out.

A ``TF_CPP_MIN_LOG_LEVEL`` that the user set is left alone, and so is
everything TensorFlow then prints.
"""

import os
import re
import signal
import subprocess
import sys
from contextlib import contextmanager

LOG_LEVEL = "1"
"""``TF_CPP_MIN_LOG_LEVEL`` of the command: TensorFlow's warnings and errors, not its info lines."""

_LOG_PREFIX = r"[IWE]\d{4} [\d:.]+ +\d+ "
_KNOWN_LINE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rf"|{_LOG_PREFIX}port\.cc:\d+\] oneDNN custom operations are on\. .*"
    rf"|{_LOG_PREFIX}cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized .*"
    rf"|{_LOG_PREFIX}node_def_util\.cc:\d+\] NodeDef mentions attribute use_unbounded_threadpool "
    r"which is not in the op definition: Op<name=MapDataset; .*Unknown attributes will be "
    r"ignored\. NodeDef: \{\{node [\w/]+\}\}"
)
# cpu_feature_guard.cc's message continues on a second line.
_CPU_FEATURES_LINE = re.compile(
    r"To enable the following instructions: .* rebuild TensorFlow with "
    r"the appropriate compiler flags\."
)
_LOG_START = re.compile(r"[IWE]\d{0,4}( .*)?")
_TEXT_STARTS = ("WARNING: All log messages", "To enable the following instructions")


def _could_be_known(start):
    """Whether a line that starts with ``start`` may be a known line: it then waits for its end."""
    return _LOG_START.fullmatch(start) is not None or any(
        text.startswith(start) or start.startswith(text) for text in _TEXT_STARTS
    )


class _LineFilter:
    """Drops the known lines from a byte stream fed in pieces, passing the rest on at once.

    A piece of a line is written as soon as it cannot be the start of a known
    line, so that a progress bar (redrawn after ``\\r``, without a newline)
    shows as it moves.
    """

    def __init__(self):
        self.pending = b""  # the start of a line that may be a known line
        self.in_line = False  # a piece of the current line has been passed on
        self.after_cpu_guard = False

    def feed(self, data):
        """The part of ``data`` (bytes) to pass on now."""
        out = []
        self.pending += data
        while self.pending:
            end = self.pending.find(b"\n")
            if self.in_line:  # the rest of a line already passed on
                cut = len(self.pending) if end < 0 else end + 1
                out.append(self.pending[:cut])
                self.pending = self.pending[cut:]
                self.in_line = end < 0
                continue
            if end < 0:  # a known line never holds a carriage return (a redrawn bar does)
                start = self.pending.decode(errors="surrogateescape")
                if "\r" in start or not _could_be_known(start):
                    out.append(self.pending)
                    self.pending, self.in_line = b"", True
                break
            line, self.pending = self.pending[: end + 1], self.pending[end + 1 :]
            if not self._known(line.decode(errors="surrogateescape").rstrip("\r\n")):
                out.append(line)
        return b"".join(out)

    def close(self):
        """What is still held back when the stream ends."""
        rest, self.pending = self.pending, b""
        if rest and self._known(rest.decode(errors="surrogateescape")):
            return b""
        return rest

    def _known(self, line):
        if _KNOWN_LINE.fullmatch(line):
            self.after_cpu_guard = "cpu_feature_guard.cc" in line
            return True
        known = self.after_cpu_guard and _CPU_FEATURES_LINE.fullmatch(line) is not None
        self.after_cpu_guard = False
        return known


def drop_known_lines(text):
    """``text`` without TensorFlow's known harmless lines.

    Examples
    --------
    >>> absl = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
    >>> print(drop_known_lines(
    ...     f"{absl}\\n"
    ...     "I0000 00:00:1.5   42 port.cc:153] oneDNN custom operations are on. You may see ...\\n"
    ...     "E0000 00:00:1.6   42 cuda.cc:1] a real error\\n"
    ...     "bar:  50%|#####     | 1/2\\rbar: 100%|##########| 2/2\\n"
    ... ), end="")
    E0000 00:00:1.6   42 cuda.cc:1] a real error
    bar:  50%|#####     | 1/2\rbar: 100%|##########| 2/2
    """
    line_filter = _LineFilter()
    data = text.encode(errors="surrogateescape")
    kept = line_filter.feed(data) + line_filter.close()
    return kept.decode(errors="surrogateescape")


@contextmanager
def _filtered_stderr():
    """Send file descriptor 2 (C++ and Python writes alike) through a filter process.

    The filter is this file run as a script, writing to the real standard error
    as data comes: should the command crash, it still writes out what was said
    before.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
        filter_process = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__], stdin=subprocess.PIPE, stdout=saved
        )
    except (OSError, ValueError):  # no standard error or no interpreter: no filtering
        yield
        return
    try:
        os.dup2(filter_process.stdin.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        filter_process.stdin.close()
        filter_process.wait()


@contextmanager
def quiet_tensorflow(import_keras=True):
    """Run the command inside: Keras imported (unless ``import_keras`` is false, for
    commands that never use it), TensorFlow's known harmless lines dropped.

    When ``TF_CPP_MIN_LOG_LEVEL`` is set (the user's choice of what TensorFlow
    prints), imports Keras as it is and filters nothing. Otherwise sets it to
    ``LOG_LEVEL`` for this process and the processes it starts, and keeps the
    filter, until the block ends.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        if import_keras:
            _import_keras()
        yield
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = LOG_LEVEL
    try:
        with _filtered_stderr():
            if import_keras:
                _import_keras()
            yield
    finally:  # a command run in-process (main(argv)) leaves its caller's environment as it was
        del os.environ["TF_CPP_MIN_LOG_LEVEL"]


def _import_keras():
    try:
        import keras  # noqa: F401  (imports the backend, TensorFlow by default)
    except ImportError:
        pass  # the command that needs it says so


def _run_filter():
    """Standard input to standard output, without the known lines."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle
    line_filter = _LineFilter()
    while data := os.read(0, 65536):
        _write_all(line_filter.feed(data))
    _write_all(line_filter.close())


def _write_all(data):
    while data:
        data = data[os.write(1, data) :]


if __name__ == "__main__":  # the filter of _filtered_stderr
    _run_filter()
