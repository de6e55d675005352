"""The ``sktransfer`` command line (``fit``, ``predict``, ``evaluate``, ``demo``).

Its modules are private; the package exports ``main`` and the model-file
functions (``load_model``, ``save_model``) that read and write what ``fit``
saves. See ``docs/cli.md``.
"""

from .._model_file import ModelFileError, SavedModel, load_model, save_model
from ._commands import main

__all__ = ["ModelFileError", "SavedModel", "load_model", "main", "save_model"]
