"""Cache keys: hashes of an item's content and of what shapes an extractor's output."""

import hashlib
import json
import os

import numpy as np


def hash_parts(*parts):
    """SHA-256 of byte strings, each prefixed with its length (so no two splits collide)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


def file_digest(path):
    """SHA-256 (32 bytes) of a file's content, read in blocks of 1 MiB."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def array_digest(arrays):
    """SHA-256 (hex) of arrays with their dtypes and shapes: a sequence, or a dict with its names.

    The one digest of arrays in the package: network weights, filter banks,
    a source model's weights. A dict is taken in sorted name order.

    Examples
    --------
    >>> import numpy as np
    >>> array_digest([np.zeros(2)]) == array_digest([np.zeros(2, dtype=np.float32)])
    False
    >>> array_digest({"a": np.ones(2)}) == array_digest({"b": np.ones(2)})
    False
    >>> len(array_digest([]))
    64
    """
    named = sorted(arrays.items()) if isinstance(arrays, dict) else [("", a) for a in arrays]
    digest = hashlib.sha256()
    for name, value in named:
        value = np.ascontiguousarray(value)
        digest.update(f"{name}{value.dtype.str}{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def item_digest(item, *, files=True):
    """Hash of one item's content, or None when it cannot be read.

    Parameters
    ----------
    item : path, str, bytes, ndarray, PIL image, sequence of str, or tuple of these
        With ``files=True`` a ``str`` or path-like is a file, hashed by its
        bytes; with ``files=False`` a ``str`` is text.
    files : bool, default=True

    Returns
    -------
    bytes or None
        32 bytes; None for a file that cannot be read (no row is cached for it).

    Examples
    --------
    >>> import numpy as np
    >>> item_digest(np.zeros(3)) == item_digest(np.zeros(3, dtype=np.float32))
    False
    >>> item_digest("good", files=False) == item_digest("good", files=False)
    True
    """
    if isinstance(item, (str, os.PathLike)) and (files or not isinstance(item, str)):
        try:
            return hash_parts(b"file", file_digest(item))
        except OSError:
            return None
    if isinstance(item, str):
        return hash_parts(b"text", item.encode("utf-8", "surrogatepass"))
    if isinstance(item, bytes):
        return hash_parts(b"bytes", item)
    if (
        isinstance(item, np.ndarray)
        or hasattr(item, "__array_interface__")
        and not hasattr(item, "mode")
    ):
        array = np.ascontiguousarray(item)
        if array.dtype.hasobject:
            return hash_parts(
                b"objects",
                *(item_digest(x, files=files) or b"?" for x in array.ravel()),
                str(array.shape).encode(),
            )
        return hash_parts(
            b"array", array.dtype.str.encode(), str(array.shape).encode(), array.tobytes()
        )
    if hasattr(item, "mode") and hasattr(item, "tobytes"):  # a PIL image
        return hash_parts(b"pil", item.mode.encode(), str(item.size).encode(), item.tobytes())
    if isinstance(item, (list, tuple)):
        parts = [item_digest(x, files=files) for x in item]
        return None if None in parts else hash_parts(b"sequence", *parts)
    return hash_parts(b"repr", type(item).__qualname__.encode(), repr(item).encode())


def module_versions(*modules):
    """``{"sktransfer": version, module: version, ...}``, for cache keys.

    The Keras backend's version is added when ``"keras"`` is asked for.
    """
    import importlib

    from .. import __version__

    if "keras" in modules:
        import keras

        modules = (*modules, keras.backend.backend())
    versions = {"sktransfer": __version__}
    for name in modules:
        versions[name] = getattr(importlib.import_module(name), "__version__", "unknown")
    return versions


def settings_digest(settings):
    """Hash of a JSON-able description of what shapes an extractor's output."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hash_parts(b"settings", text.encode())
