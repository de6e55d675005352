"""What users hold, as a list of items: one reading of ``X`` for every extractor.

Extractors take collections of items (clips, images, documents), not tables
of numbers, so scikit-learn's ``check_array`` does not fit them. This module
is their ``check_array``: a sequence, a numpy array, a pandas Series or a
one-column DataFrame all become an indexable sequence of items; a single item,
sparse input and empty input are refused with one wording; and every error
names the offending item the same way, ``image 3 ('cat.jpg'): ...``.
"""

import os

import numpy as np


class ItemError(ValueError):
    """An unusable item; the message names it (``describe_item``) and says why."""


def describe_item(noun, index, item, *, files=True):
    """How an error names an item: its kind, its index in ``X`` and what it is.

    Parameters
    ----------
    noun : str
        The item's kind, singular ("clip", "image", "document").
    index : int
        Its position in the caller's ``X``.
    item : object
    files : bool, default=True
        Whether a ``str`` item is a file path (else it is a text, not shown).

    Examples
    --------
    >>> import numpy as np
    >>> describe_item("image", 3, "photos/cat.jpg")
    "image 3 ('photos/cat.jpg')"
    >>> describe_item("clip", 0, np.zeros(5))
    'clip 0 (array of shape (5,))'
    >>> describe_item("document", 2, "a text", files=False)
    'document 2'
    """
    if isinstance(item, os.PathLike) or (files and isinstance(item, str)):
        return f"{noun} {index} ({os.fspath(item)!r})"
    if isinstance(item, np.ndarray):
        return f"{noun} {index} (array of shape {item.shape})"
    if hasattr(item, "mode") and hasattr(item, "size") and hasattr(item, "getexif"):
        return f"{noun} {index} (PIL image {item.mode} {item.size[0]}x{item.size[1]})"
    if isinstance(item, (str, bytes, list, tuple)):
        return f"{noun} {index}"
    return f"{noun} {index} ({type(item).__name__})"


def as_items(X, noun, *, numeric, single=(str, bytes, os.PathLike), what="X"):
    """``X`` as an indexable sequence of items; nothing is read or decoded.

    Parameters
    ----------
    X : sequence, ndarray, pandas Series or one-column DataFrame
    noun : str
        What an item is, singular ("clip", "image", "document").
    numeric : callable
        ``numeric(array)`` reads a numeric (not object or string) array the
        way this kind of item allows: it returns the items (a list, or the
        array itself for a batch) or raises a ``ValueError`` that says which
        shapes are allowed.
    single : tuple of types
        Types that are one item, never a collection of them.
    what : str, default="X"
        What errors call ``X``.

    Returns
    -------
    list or ndarray
        At least one item.

    Raises
    ------
    TypeError
        For sparse input.
    ValueError
        For a single item, an array of the wrong shape, a table of several
        columns, an object that is not a collection, or no items.

    Examples
    --------
    >>> import numpy as np
    >>> as_items(np.array([["a.wav"], ["b.wav"]], dtype=object), "clip", numeric=list)
    ['a.wav', 'b.wav']
    >>> as_items("a.wav", "clip", numeric=list)
    Traceback (most recent call last):
    ...
    ValueError: X must be a collection of clips, got a single str 'a.wav'; wrap it in a list
    """
    plural = f"{noun}s"
    if isinstance(X, single) or isinstance(X, np.ndarray) and X.ndim == 0:
        raise ValueError(
            f"{what} must be a collection of {plural}, got a single {type(X).__name__} "
            f"{str(X)[:40]!r}; wrap it in a list"
        )
    if hasattr(X, "tocsr"):  # scipy.sparse matrices and arrays
        raise TypeError(
            f"{what} is a sparse matrix, but {plural} are not sparse data: pass a sequence or a "
            "dense array"
        )
    if hasattr(X, "to_numpy"):  # a pandas Series or DataFrame
        X = X.to_numpy()
    elif hasattr(X, "__array__") and not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if isinstance(X, np.ndarray):
        items = _array_items(X, plural, numeric, what)
    else:
        try:
            items = list(X)
        except TypeError:
            raise ValueError(
                f"{what} must be a collection of {plural}, got {type(X).__name__}"
            ) from None
    if len(items) == 0:
        raise ValueError(f"{what} holds no {plural}: at least one is required")
    return items


def _array_items(X, plural, numeric, what):
    if X.dtype.kind not in "OUSV":
        return numeric(X)
    if X.ndim == 2 and X.shape[1] == 1:
        X = X[:, 0]
    if X.ndim != 1:
        raise ValueError(
            f"{what} must be a 1-D collection of {plural} (or a table of one column), got an array "
            f"of shape {X.shape} and dtype {X.dtype}"
        )
    return X.tolist() if X.dtype.kind in "US" else list(X)


def check_items(items, noun, check, *, files=True):
    """``check(item)`` for every item; the first failure is an ``ItemError`` naming it.

    ``check`` raises a ``ValueError`` saying what is wrong; nothing is read.
    """
    for index, item in enumerate(items):
        try:
            check(item)
        except ValueError as exc:
            raise ItemError(f"{describe_item(noun, index, item, files=files)}: {exc}") from None
