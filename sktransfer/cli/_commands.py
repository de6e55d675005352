"""The ``sktransfer`` command line: ``fit``, ``predict``, ``evaluate``, ``serve``, ``export``, ``demo``.

See ``docs/cli.md``. Problems with the user's files (missing paths, unsupported
or mixed files, too few examples, unusable model files) end the command with a
one-line message naming the item and exit status 1; usage errors exit with 2.
The arguments are in ``_parser``, the checks argparse cannot make in
``_checks``, the commands in ``_fit`` and ``_use``.
"""

import sys

from .._extras import MissingExtraError
from ._fit import fit_command
from ._parser import build_parser
from ._quiet import quiet_tensorflow
from ._use import evaluate_command, export_command, predict_command, serve_command


def main(argv=None):
    """Entry point of the ``sktransfer`` command."""
    args = build_parser().parse_args(argv)
    # .onnx models are served without Keras (and TensorFlow): nothing to import first.
    needs_keras = not (args.command == "serve" and args.model.lower().endswith(".onnx"))
    with quiet_tensorflow(import_keras=needs_keras):  # first: TensorFlow's known lines out
        return _run(args)


def _run(args):
    if args.command == "demo":
        from ..demo import run_demo

        run_demo(args.out, small=args.small, n_jobs=args.n_jobs, verbose=0 if args.quiet else 1)
        return 0
    run = {
        "fit": fit_command,
        "predict": predict_command,
        "evaluate": evaluate_command,
        "serve": serve_command,
        "export": export_command,
    }[args.command]
    try:
        run(args)
    except (ValueError, OSError, MissingExtraError) as exc:  # named in the message
        print(f"sktransfer {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return 0
