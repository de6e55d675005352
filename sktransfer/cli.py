"""The ``sktransfer`` command line."""

import argparse
import sys

from . import __version__


def main(argv=None):
    """Entry point of the ``sktransfer`` command."""
    parser = argparse.ArgumentParser(
        prog="sktransfer", description="Transfer learning as a scikit-learn workflow."
    )
    parser.add_argument("--version", action="version", version=f"sktransfer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="train transfer pipelines and baselines on offline data, print a table"
    )
    demo.add_argument("--out", default="sktransfer-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--n-jobs", type=int, default=-1, help="parallel jobs (default: all cores)")
    demo.add_argument("--quiet", action="store_true", help="print only the results table")
    demo.add_argument("--small", action="store_true",
                      help="fewer labels, test items and repeats: about a minute, less precise")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from .demo import run_demo

        run_demo(args.out, small=args.small, n_jobs=args.n_jobs, verbose=0 if args.quiet else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
