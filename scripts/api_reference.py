"""Render the public API's signatures and docstrings into docs/api.md.

The public API: everything in ``sktransfer.__all__`` and the public functions
of ``sktransfer.datasets``, ``sktransfer.plots``, ``sktransfer.cli``, ``sktransfer.serve``,
``sktransfer.onnx`` and ``sktransfer.distributed`` (its classes too). Run it after changing a
docstring or signature::

    .venv/bin/python scripts/api_reference.py

``--check`` exits with status 1, changing nothing, when docs/api.md is out of date.
"""

import argparse
import inspect
import sys
from pathlib import Path

API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _signature(name, obj):
    try:
        return f"{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        return name


def _is_underline(line, title):
    return (
        bool(title.strip())
        and set(line.strip()) == {"-"}
        and len(line.strip()) == len(title.strip())
    )


def _markdown(doc):
    """A numpy docstring as Markdown: the summary as text, each section a titled code block."""
    lines = doc.splitlines()
    out, in_section, i = [], False, 0
    while i < len(lines):
        if i + 1 < len(lines) and _is_underline(lines[i + 1], lines[i]):
            while in_section and out and not out[-1].strip():
                out.pop()
            out += ["```", ""] if in_section else []
            out += [f"**{lines[i].strip()}**", "", "```text"]
            in_section, i = True, i + 2
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out + (["```"] if in_section else []))


def _section(qualified, obj, level):
    doc = _markdown(inspect.getdoc(obj) or "(no docstring)")
    return [
        f"{'#' * level} `{qualified}`",
        "",
        "```python",
        _signature(qualified, obj),
        "```",
        "",
        doc,
        "",
    ]


def _public_functions(module):
    """The functions and classes a module exports (its ``__all__``), in that order."""
    return [
        (name, getattr(module, name))
        for name in module.__all__
        if inspect.isfunction(getattr(module, name)) or inspect.isclass(getattr(module, name))
    ]


def render():
    """The Markdown text of docs/api.md."""
    import sktransfer
    from sktransfer import cli, datasets, distributed, onnx, plots, serve

    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `scripts/api_reference.py`; do not edit by hand.",
        f"sktransfer {sktransfer.__version__}.",
        "",
        "## Estimators",
        "",
    ]
    for name in sorted(n for n in sktransfer.__all__ if not n.startswith("__")):
        obj = getattr(sktransfer, name)
        lines += _section(f"sktransfer.{name}", obj, 3)
        methods = [  # its own and those it inherits from sktransfer's base classes
            (m, f)
            for m, f in inspect.getmembers(obj, inspect.isfunction)
            if not m.startswith("_") and f.__module__.startswith("sktransfer") and f.__doc__
        ]
        for method, function in methods:
            lines += _section(f"{name}.{method}", function, 4)
    for module in (datasets, plots, cli, serve, onnx, distributed):
        lines += [f"## `{module.__name__}`", "", inspect.getdoc(module), ""]
        for name, function in _public_functions(module):
            lines += _section(f"{module.__name__}.{name}", function, 3)
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check that docs/api.md is current"
    )
    args = parser.parse_args(argv)
    text = render()
    current = API_PAGE.read_text() if API_PAGE.exists() else ""
    if args.check:
        if current != text:
            print(
                f"{API_PAGE} is out of date: run python scripts/api_reference.py", file=sys.stderr
            )
            return 1
        return 0
    API_PAGE.write_text(text)
    print(f"wrote {API_PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
