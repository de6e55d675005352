"""Worker processes (Dask, Ray) import the sktransfer that the tests import."""

import os
from pathlib import Path

import pytest

import sktransfer


@pytest.fixture(scope="session", autouse=True)
def workers_import_this_sktransfer():
    """Put this sktransfer's folder first on the PYTHONPATH that worker processes inherit."""
    root = str(Path(sktransfer.__file__).resolve().parent.parent)
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, previous]))
    yield
    if previous is None:
        del os.environ["PYTHONPATH"]
    else:
        os.environ["PYTHONPATH"] = previous
