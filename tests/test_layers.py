"""Imports point down: command line > server, demo, distributed > ONNX export > heads > extractors > core.

An ``ast`` scan of every module of the package, every import at any depth
(module level, inside functions, under ``TYPE_CHECKING``), resolved to the
top-level part of ``sktransfer`` it reaches. A part may import its own modules
and any part of a lower layer; never a part of a higher layer (a climbing
import) nor another part of its own layer where the layer's parts are
independent (a sideways import, such as image importing text).
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sktransfer

PACKAGE = Path(sktransfer.__file__).parent

LAYERS = [
    ("command line", {"cli"}, True),
    ("applications", {"serve", "demo", "distributed"}, True),
    # The ONNX exporter and runtime reach the steps only through the export protocol and
    # the readers' class names (sktransfer._onnx), so they import from the core alone.
    ("ONNX export", {"onnx"}, True),
    ("heads", {"heads"}, True),
    ("extractors", {"audio", "image", "text"}, True),
    (
        "core",
        {
            "_extractor",
            "_extras",
            "_items",
            "_json",
            "_keras",
            "_modalities",
            "_model_file",
            "_numba_cache",
            "_onnx",
            "_source_models",
            "cache",
            "datasets",
            "plots",
            "",  # the package itself: ``from sktransfer import __version__``
        },
        False,
    ),
]
"""Top to bottom: (name, parts, whether the parts are independent of each other)."""

LEVEL = {part: level for level, (_, parts, _) in enumerate(LAYERS) for part in parts}


def module_name(path, root=PACKAGE):
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(name):
    """``"sktransfer.image._io"`` -> ``"image"``; the package itself -> ``""``; others: None."""
    if name != "sktransfer" and not name.startswith("sktransfer."):
        return None
    return name.split(".")[1] if "." in name else ""


def imported_parts(path, root=PACKAGE):
    """(line, imported module, part) of every import of sktransfer in the file at ``path``."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, part_of(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if target == "sktransfer":
                # ``from sktransfer import X``: the part that X comes from.
                for alias in node.names:
                    sub = sktransfer._SUBPACKAGE.get(alias.name, f".{alias.name}")
                    name = "sktransfer" if alias.name == "__version__" else f"sktransfer{sub}"
                    yield node.lineno, name, part_of(name)
            else:
                yield node.lineno, target, part_of(target)


def layering_violations(root=PACKAGE):
    """Every climbing or sideways import of the package at ``root``, as readable lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        here = part_of(module_name(path, root))
        if here == "":
            continue  # the package's facade, which loads every public name on first use
        for line, name, there in imported_parts(path, root):
            if there is None or there == here:
                continue
            where = f"{path.relative_to(root.parent)}:{line} imports {name}"
            if there not in LEVEL or here not in LEVEL:
                found.append(f"{where}: add {here or there!r} to a layer in tests/test_layers.py")
            elif LEVEL[there] < LEVEL[here]:
                found.append(
                    f"{where}: {LAYERS[LEVEL[here]][0]} must not import the higher layer "
                    f"{LAYERS[LEVEL[there]][0]}"
                )
            elif LEVEL[there] == LEVEL[here] and LAYERS[LEVEL[here]][2]:
                found.append(
                    f"{where}: {here} and {there} are independent {LAYERS[LEVEL[here]][0]}"
                )
    return found


def test_every_part_of_the_package_has_a_layer():
    parts = {part_of(module_name(path)) for path in PACKAGE.rglob("*.py")}
    assert parts <= set(LEVEL), f"parts without a layer: {sorted(parts - set(LEVEL))}"


def test_imports_point_down():
    assert layering_violations() == []


@pytest.mark.parametrize(
    ("module", "statement", "expected"),
    [
        # A function-level import that climbs, as image/_source_model.py once had.
        (
            "image/_features.py",
            "def f():\n    from ..heads import FineTuneImageClassifier\n",
            "extractors must not import the higher layer heads",
        ),
        ("text/_io.py", "from ..image import KerasImageFeatures\n", "independent extractors"),
        ("_source_models.py", "from .cli import main\n", "core must not import"),
        ("serve/_model.py", "import sktransfer.cli._labelled_data\n", "must not import"),
    ],
)
def test_a_climbing_or_sideways_import_is_found(tmp_path, module, statement, expected):
    copy = tmp_path / "sktransfer"
    for path in PACKAGE.rglob("*.py"):
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    broken = copy / module
    broken.write_text(broken.read_text() + "\n\n" + statement)
    found = layering_violations(copy)
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith(f"sktransfer/{module}:")


def test_the_extractors_load_no_head_command_line_or_server():
    script = (
        "import sys, sktransfer.image, sktransfer.text, sktransfer.audio; "
        "print([m for m in sys.modules if m.startswith(("
        "'sktransfer.heads', 'sktransfer.cli', 'sktransfer.serve'))])"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
