"""``python -m sktransfer.cli``: the same as the ``sktransfer`` command."""

import sys

from ._commands import main

sys.exit(main())
