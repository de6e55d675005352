"""The docs match the tree: named paths exist, named objects resolve, every parameter is documented.

The pages (README.md, docs/*.md) and the docstrings of the package, the
benchmarks, the examples and the scripts name repository files
(``sktransfer/_keras/_precision.py``, ``tests/test_layers.py``), relative links
between pages, and dotted names (``sktransfer.cache.FeatureCache``). A file
that moves or an object that is renamed without its mentions fails here,
naming the page and the mention.
"""

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import sktransfer

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SOURCES = [
    path
    for folder in ("sktransfer", "benchmarks", "examples", "scripts", "tests")
    for path in sorted((ROOT / folder).rglob("*.py"))
]
TOP_FOLDERS = ("sktransfer", "tests", "docs", "benchmarks", "examples", "scripts")
PATH = re.compile(
    r"(?<![\w/.-])(?:" + "|".join(TOP_FOLDERS) + r")/[\w./*-]*[\w*]"
    r"|(?<![\w/.-])(?:README|CHANGELOG|pyproject)\.(?:md|toml)\b"
)
LINK = re.compile(r"\]\(([^)\s]+)\)")
DOTTED = re.compile(r"(?<![\w.])sktransfer(?:\.[A-Za-z_]\w*)+")
FROM_IMPORT = re.compile(r"from (sktransfer[\w.]*) import (?:\(([^)]*)\)|([^\n#]*))")


def docstrings(path):
    """Every docstring of the module at ``path`` (module, classes, functions)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = [tree, *ast.walk(tree)]
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [doc for node in nodes if isinstance(node, kinds) and (doc := ast.get_docstring(node))]


def texts(pages=PAGES, sources=SOURCES):
    """(where, text, folder that relative links start from) of every page and docstring."""
    for page in pages:
        yield (
            page.name if page.parent != ROOT / "docs" else f"docs/{page.name}",
            page.read_text(),
            page.parent,
        )
    for path in sources:
        if path.name == Path(__file__).name:
            continue  # this file's examples are patterns, not mentions
        for doc in docstrings(path):
            yield str(path.relative_to(ROOT)), doc, None


def missing_paths(pages=PAGES, sources=SOURCES):
    """``"page: mention"`` of every named path or link that does not exist."""
    found = []
    for where, text, folder in texts(pages, sources):
        for mention in PATH.findall(text):
            mention = mention.rstrip(".")
            if not (list(ROOT.glob(mention)) if "*" in mention else (ROOT / mention).exists()):
                found.append(f"{where}: {mention}")
        if folder is None:
            continue
        for target in LINK.findall(text):
            target = target.split("#")[0]
            if not target or "://" in target or target.startswith("mailto:"):
                continue
            if not (folder / target).exists():
                found.append(f"{where}: link ({target})")
    return found


def resolves(dotted):
    """Whether ``sktransfer.a.b.C.d`` names a module or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_every_path_that_the_docs_name_exists():
    assert missing_paths() == []


def test_every_dotted_name_that_the_docs_use_resolves():
    names = {}
    for where, text, _ in texts():
        for dotted in DOTTED.findall(text):
            names.setdefault(dotted, where)
        for module, *imported in FROM_IMPORT.findall(text):
            for part in "".join(imported).split(","):
                name = (part.split() or [""])[0]  # "X as Y": X
                if name.isidentifier():
                    names.setdefault(f"{module}.{name}", where)
    unresolved = [f"{where}: {name}" for name, where in sorted(names.items()) if not resolves(name)]
    assert unresolved == []


def test_a_moved_file_or_renamed_object_is_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "See `sktransfer/_lite0.py`, `sktransfer/image/_lite0.py`, [the images page](images.md), "
        "`sktransfer.cache.FeatureCache` and `sktransfer.cache.FeatureStore`."
    )
    assert missing_paths([page], []) == [
        "page.md: sktransfer/_lite0.py",
        "page.md: link (images.md)",
    ]
    assert not resolves("sktransfer.cache.FeatureStore")
    assert resolves("sktransfer.cache.FeatureCache")


ESTIMATOR_PAGES = {
    "audio": "audio.md",
    "image": "images.md",
    "text": "text.md",
    "heads": "heads.md",
}


def public_estimators():
    for name in sktransfer.__all__:
        obj = getattr(sktransfer, name)
        if inspect.isclass(obj) and hasattr(obj, "get_params"):
            yield obj


@pytest.mark.parametrize("estimator", list(public_estimators()), ids=lambda cls: cls.__name__)
def test_every_parameter_is_documented(estimator):
    """Each parameter is in conventions.md's tables or on the estimator's own page.

    As `name`, `name=value` or `step__name` in backticks.
    """
    part = estimator.__module__.split(".")[1]
    pages = (ROOT / "docs" / "conventions.md", ROOT / "docs" / ESTIMATOR_PAGES[part])
    documented = "\n".join(page.read_text() for page in pages)
    undocumented = [
        name
        for name in estimator().get_params(deep=False)
        if not re.search(rf"(`|__){name}(`|=)", documented)
    ]
    assert undocumented == [], f"document {undocumented} in {[p.name for p in pages]}"
