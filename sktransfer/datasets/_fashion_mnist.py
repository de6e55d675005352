"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package."""

from pathlib import Path

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
