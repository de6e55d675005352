"""Worker processes (Dask, Ray) import the sktransfer that the tests import; shared images."""

import os
from pathlib import Path

import pytest
from PIL import Image

import sktransfer
from sktransfer.datasets import load_fashion_mnist


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


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """40 Fashion-MNIST images, as an array and as PNG files, with their labels."""
    X, y = load_fashion_mnist(n=40)
    root = tmp_path_factory.mktemp("png")
    paths = []
    for i, image in enumerate(X):
        paths.append(str(root / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    return X, paths, y
