"""Optional dependencies: an import that names the extra to install when it fails.

Examples
--------
>>> import_extra("json", "serve", "sktransfer serve").__name__
'json'
>>> import_extra("no_such_module_here", "serve", "sktransfer serve")
Traceback (most recent call last):
...
sktransfer._extras.MissingExtraError: sktransfer serve needs no_such_module_here, which is not installed; install it with: pip install "sktransfer[serve]"
"""

import importlib


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def import_extra(module, extra, needed_by):
    """``importlib.import_module(module)``, or a ``MissingExtraError`` naming ``extra``.

    ``needed_by`` names what needs the module (a command, a function, a setting).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or module
        raise MissingExtraError(
            f"{needed_by} needs {missing}, which is not installed; "
            f'install it with: pip install "sktransfer[{extra}]"'
        ) from exc
