"""Start TensorFlow without its start-up lines, for the ``sktransfer`` command.

Importing TensorFlow writes a few lines to the process's standard error from
C++ before any Python code can configure logging: absl's notice that it is not
initialized yet, the oneDNN notice of ``port.cc`` and the CPU instructions of
``cpu_feature_guard.cc``. ``TF_CPP_MIN_LOG_LEVEL`` hides only the last one, and
the oneDNN notice can only be turned off with oneDNN itself
(``TF_ENABLE_ONEDNN_OPTS=0``), which changes the numbers. So the command
imports Keras (and with it TensorFlow) once, up front, with file descriptor 2
sent through a filter that drops those known lines and passes on everything
else: warnings and errors of the import stay visible. Afterwards standard error
is the real one again, and ``TF_CPP_MIN_LOG_LEVEL=1`` keeps TensorFlow's later
info lines out but its warnings and errors in.

A ``TF_CPP_MIN_LOG_LEVEL`` that the user set is left alone, and so is
everything TensorFlow then prints.
"""

import os
import re
import signal
import subprocess
import sys
from contextlib import contextmanager, nullcontext

LOG_LEVEL = "1"
"""``TF_CPP_MIN_LOG_LEVEL`` of the command: TensorFlow's warnings and errors, not its info lines."""

_START_UP_LINE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} [\d:.]+ +\d+ port\.cc:\d+\] oneDNN custom operations are on\. .*"
    r"|I\d{4} [\d:.]+ +\d+ cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized .*"
)
# cpu_feature_guard.cc's message continues on a second line.
_CPU_FEATURES_LINE = re.compile(
    r"To enable the following instructions: .* rebuild TensorFlow with "
    r"the appropriate compiler flags\."
)


def _kept_lines(lines):
    """The lines that are not TensorFlow start-up lines, as they come."""
    after_cpu_guard = False
    for line in lines:
        bare = line.rstrip("\r\n")
        if _START_UP_LINE.fullmatch(bare):
            after_cpu_guard = "cpu_feature_guard.cc" in bare
            continue
        if after_cpu_guard and _CPU_FEATURES_LINE.fullmatch(bare):
            after_cpu_guard = False
            continue
        after_cpu_guard = False
        yield line


def drop_start_up_lines(text):
    """``text`` without TensorFlow's start-up lines.

    Examples
    --------
    >>> absl = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
    >>> print(drop_start_up_lines(
    ...     f"{absl}\\n"
    ...     "I0000 00:00:1.5   42 port.cc:153] oneDNN custom operations are on. You may see ...\\n"
    ...     "E0000 00:00:1.6   42 cuda.cc:1] a real error\\n"
    ... ), end="")
    E0000 00:00:1.6   42 cuda.cc:1] a real error
    """
    return "".join(_kept_lines(text.splitlines(keepends=True)))


@contextmanager
def _filtered_stderr():
    """Send file descriptor 2 (C++ and Python writes alike) through a filter process.

    The filter is this file run as a script, writing to the real standard error
    as lines come: should the import kill the process, it still writes out what
    was said before.
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


def start_keras():
    """Import Keras and its backend, without TensorFlow's start-up lines.

    When ``TF_CPP_MIN_LOG_LEVEL`` is set (the user's choice of what TensorFlow
    prints), imports Keras as it is. Otherwise sets it to ``LOG_LEVEL`` for this
    process and the processes it starts, and drops the start-up lines. Does
    nothing when TensorFlow is already imported.
    """
    if "tensorflow" in sys.modules:
        return
    user_level = "TF_CPP_MIN_LOG_LEVEL" in os.environ
    if not user_level:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = LOG_LEVEL
    with nullcontext() if user_level else _filtered_stderr():
        try:
            import keras  # noqa: F401  (imports the backend, TensorFlow by default)
        except ImportError:
            pass  # the command that needs it says so


if __name__ == "__main__":  # the filter of _filtered_stderr: standard input to standard output
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle
    lines = (line.decode(errors="surrogateescape") for line in sys.stdin.buffer)
    for kept in _kept_lines(lines):
        sys.stdout.buffer.write(kept.encode(errors="surrogateescape"))
        sys.stdout.buffer.flush()
