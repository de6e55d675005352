"""JSON of results that hold numpy values: the one ``default`` for ``json.dumps``."""

import numpy as np


def json_default(value):
    """``value`` (a numpy scalar or array) as plain Python, for ``json.dumps(default=...)``.

    Examples
    --------
    >>> import json
    >>> json.dumps({"accuracy": np.float32(0.5), "counts": np.arange(2)}, default=json_default)
    '{"accuracy": 0.5, "counts": [0, 1]}'
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
