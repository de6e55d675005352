"""Progress messages of the commands, on standard error unless ``--quiet``."""

import sys


def say(args, message):
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)
