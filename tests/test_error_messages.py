"""Messages name real parameters: ``SentenceEmbedder(encoder=...)``, not ``(model=...)``.

Error messages, warnings and docstrings tell users what to pass, often as a
call spelling such as ``SentenceEmbedder(encoder='all-MiniLM-L6-v2')`` or as a
bare ``max_length=512``. A renamed parameter, or a message copied from another
estimator, leaves text that sends users to a keyword the class rejects, and no
other test notices: a message is only read when it is raised.

Every string literal of the package is read, f-strings included (their constant
parts, with each ``{...}`` standing for a value):

* ``Name(keyword=...)``, where ``Name`` is a class or function that a public
  ``__all__`` exports, must use keywords that ``Name`` takes;
* a bare ``keyword=...`` in a message (a string inside a function, not a
  docstring) of a module that defines estimators must be a parameter of one of
  them.

Parameters are read from the source with ``ast``, not with ``inspect``: importing
the estimators starts TensorFlow and Keras, seconds this test need not spend.
``test_the_source_reading_agrees_with_inspect`` checks the reading against
``inspect`` and ``get_params`` for every exported class already imported.
"""

import ast
import importlib
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sktransfer"
PLACEHOLDER = "_"  # stands for each {...} of an f-string
DOCTEST_PROMPT = re.compile(r"^[ \t]*(?:>>>|\.\.\.)[ \t]?", re.MULTILINE)
# ``name=`` not in ``==``, ``<=``, ``a.name=``, ``--flag=`` or a URL's ``?a=b&c=d``.
BARE_KEYWORD = re.compile(r"(?<![\w.=<>!?&-])([A-Za-z]\w*)=(?!=)")
NAMED_CALL = re.compile(r"(?<!\w)[A-Za-z]\w*\(")


@dataclass(frozen=True)
class Parameters:
    names: frozenset
    routed: bool  # takes ``prefix__name`` keywords through **kwargs (SciKeras routing)
    anything: bool = False  # a function's **kwargs: any keyword

    def accept(self, keyword):
        return self.anything or keyword in self.names or (self.routed and "__" in keyword)


class Source:
    """The package's modules, parsed once: trees, top-level definitions, exports."""

    def __init__(self, package):
        self.root = package.parent
        paths = sorted(package.rglob("*.py"))
        self.text = {path: path.read_text() for path in paths}
        self.tree = {path: ast.parse(text, filename=str(path)) for path, text in self.text.items()}
        self.defined = {}  # name: [(path, top-level ClassDef or FunctionDef)]
        for path, tree in self.tree.items():
            for node in tree.body:
                if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                    self.defined.setdefault(node.name, []).append((path, node))
        self.exported = {
            name
            for path, tree in self.tree.items()
            if path.name == "__init__.py" and not is_private(path.relative_to(package))
            for name in all_names(tree)
        }

    def definition(self, name):
        """The one top-level definition of ``name`` in the package, or None."""
        found = self.defined.get(name, [])
        return found[0][1] if len(found) == 1 else None

    def public_callables(self):
        """Exported names that the package defines as a class or function: their definitions."""
        return {name: node for name in self.exported if (node := self.definition(name)) is not None}

    def parameters(self, name):
        """The keywords that calling ``name`` accepts, or None where the source cannot say."""
        node = self.definition(name)
        if isinstance(node, ast.FunctionDef):
            return Parameters(argument_names(node.args), False, node.args.kwarg is not None)
        if isinstance(node, ast.ClassDef):
            return self._class_parameters(node)
        return None

    def _class_parameters(self, node):
        init = next((f for f in node.body if is_function(f, "__init__")), None)
        if init is not None:
            names = argument_names(init.args) - {"self"}
            if init.args.kwarg is None:
                return Parameters(names, False)
            # **kwargs goes to the base classes: theirs count too (SciKeras's ``loss``).
            inherited = [p for base in base_names(node) if (p := self.parameters(base))]
            return Parameters(names.union(*(p.names for p in inherited)), True)
        if is_dataclass(node):
            inherited = [self.parameters(base) for base in base_names(node)]
            if None in inherited:
                return None
            return Parameters(dataclass_fields(node).union(*(p.names for p in inherited)), False)
        bases = base_names(node)
        if not bases:
            return Parameters(frozenset(), False)
        # One base defined here: its ``__init__``. Several, or one from elsewhere
        # (``ValueError``): left to ``inspect``, which this test does not use.
        return self.parameters(bases[0]) if len(bases) == 1 else None

    def is_estimator(self, name):
        """Whether class ``name`` has scikit-learn's ``BaseEstimator`` among its ancestors."""
        node = self.definition(name)
        if not isinstance(node, ast.ClassDef):
            return False
        return any(base == "BaseEstimator" or self.is_estimator(base) for base in base_names(node))


def is_private(init):
    """Whether the package of ``init`` (relative to the top package) is private."""
    return any(part.startswith("_") for part in init.parent.parts)


def all_names(tree):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    return []


def is_function(node, name):
    return isinstance(node, ast.FunctionDef) and node.name == name


def argument_names(args):
    return frozenset(a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs])


def base_names(node):
    """Names of the classes ``node`` derives from (``a.B`` as ``B``)."""
    names = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
    return names


def decorator_name(node):
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)


def is_dataclass(node):
    return any(decorator_name(d) == "dataclass" for d in node.decorator_list)


def dataclass_fields(node):
    """The ``__init__`` keywords of a dataclass: its annotated fields, less ``init=False``."""

    def in_init(field):
        if "ClassVar" in ast.unparse(field.annotation):
            return False
        value = field.value
        return not (
            isinstance(value, ast.Call)
            and decorator_name(value) == "field"
            and any(k.arg == "init" and ast.literal_eval(k.value) is False for k in value.keywords)
        )

    return frozenset(
        field.target.id
        for field in node.body
        if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
        if in_init(field)
    )


# -- strings --------------------------------------------------------------------------


def string_text(node):
    """The text of a string literal; for an f-string, PLACEHOLDER for each ``{...}``."""
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else PLACEHOLDER for part in node.values
        )
    return node.value


def strings(tree):
    """Every string literal (ast node) of ``tree``; an f-string whole, not its parts."""
    parts = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        if id(node) in parts:
            continue
        if isinstance(node, ast.JoinedStr) or (
            isinstance(node, ast.Constant) and isinstance(node.value, str)
        ):
            yield node


def docstring_nodes(tree):
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, kinds)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def messages(tree):
    """The string literals inside functions that are not docstrings: what the code says."""
    docstrings = docstring_nodes(tree)
    in_functions = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function)
    }
    said = in_functions - docstrings
    return [node for node in strings(tree) if id(node) in said]


def closing(text, opening):
    """Index just past the parenthesis that closes ``text[opening]`` (or the text's end)."""
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    return len(text)


def call_keywords(spelling):
    """The keywords of ``Name(a, b=1, c=...)``; prose values (``b=<a model>``) are allowed."""
    try:
        call = ast.parse(spelling, mode="eval").body
    except SyntaxError:
        call = None
    if isinstance(call, ast.Call):
        return [keyword.arg for keyword in call.keywords if keyword.arg is not None]
    # Not Python: the ``name=`` just inside the call's own parentheses, not a nested call's.
    return [
        match[1]
        for match in re.finditer(r"[(,]\s*(\w+)\s*=(?!=)", spelling)
        if depth(spelling, match.start(1)) == 1
    ]


def depth(text, index):
    """How many parentheses are open at ``text[index]``."""
    return text.count("(", 0, index) - text.count(")", 0, index)


def call_spellings(text, names):
    """``(name, keywords)`` of each ``name(...)`` in ``text``.

    Also after a module path: ``sktransfer.text.SentenceEmbedder(...)``.
    """
    text = DOCTEST_PROMPT.sub("", text)
    pattern = re.compile(r"(?<![\w.])(?:sktransfer(?:\.\w+)*\.)?(" + "|".join(names) + r")\(")
    for match in pattern.finditer(text):
        spelling = text[match.start(1) : closing(text, match.end() - 1)]
        yield match[1], call_keywords(spelling)


def named_call_spans(text):
    """``(start, end)`` of every ``Name(...)`` in ``text``."""
    return [(m.start(), closing(text, m.end() - 1)) for m in NAMED_CALL.finditer(text)]


def bare_keywords(text):
    """``name`` of each ``name=`` in ``text`` outside a ``Name(...)`` call spelling."""
    spans = named_call_spans(text)
    for match in BARE_KEYWORD.finditer(text):
        if not any(start <= match.start() < end for start, end in spans):
            yield match[1]


def is_placeholder_made(keyword):
    """Whether a keyword is glued to an f-string's ``{...}`` (``{prefix}_size=``)."""
    return keyword.startswith(PLACEHOLDER) or keyword.endswith(PLACEHOLDER)


def line_of(source, node, needle, nth=0):
    """The line of the ``nth`` ``needle`` in the source of string ``node``."""
    segment = ast.get_source_segment(source, node) or ""
    position = -1
    for _ in range(nth + 1):
        position = segment.find(needle, position + 1)
        if position < 0:
            return node.lineno
    return node.lineno + segment.count("\n", 0, position)


def where(source, path, node, needle, nth=0):
    """``(file, line)`` of the ``nth`` ``needle`` in string ``node`` of ``path``."""
    return path.relative_to(source.root).as_posix(), line_of(source.text[path], node, needle, nth)


def report(found):
    """``"file:line: message"`` for each ``(file, line, message)``, in file and line order."""
    return [f"{file}:{line}: {message}" for file, line, message in sorted(found)]


def suggestion(keyword, parameters):
    close = [name for name in sorted(parameters.names) if keyword in name or name in keyword]
    return f" (did you mean {' or '.join(close)}?)" if close else ""


# -- findings -------------------------------------------------------------------------


def wrong_call_keywords(source):
    """``"file:line: Name(keyword=...) ..."`` for each call spelling with a keyword Name lacks."""
    parameters = {name: source.parameters(name) for name in source.public_callables()}
    names = sorted((name for name in parameters if parameters[name] is not None), key=len)[::-1]
    found = []
    for path, tree in source.tree.items():
        for node in strings(tree):
            seen = {}
            for name, keywords in call_spellings(string_text(node), names):
                nth = seen[name] = seen.get(name, -1) + 1
                for keyword in keywords:
                    if not is_placeholder_made(keyword) and not parameters[name].accept(keyword):
                        found.append(
                            (
                                *where(source, path, node, name + "(", nth),
                                f"{name}({keyword}=...): {name} has no parameter {keyword!r}"
                                + suggestion(keyword, parameters[name]),
                            )
                        )
    return report(found)


def estimators_by_module(source):
    """{path: [estimator class names]} of the modules that define estimators."""
    modules = {}
    for name in source.exported:
        if source.is_estimator(name):
            path = source.defined[name][0][0]
            modules.setdefault(path, []).append(name)
    return modules


def wrong_bare_keywords(source):
    """``"file:line: keyword=..."`` for each bare keyword no estimator of its module takes."""
    found = []
    for path, estimators in sorted(estimators_by_module(source).items()):
        taken = [source.parameters(name) for name in sorted(estimators)]
        for node in messages(source.tree[path]):
            seen = {}
            for keyword in bare_keywords(DOCTEST_PROMPT.sub("", string_text(node))):
                nth = seen[keyword] = seen.get(keyword, -1) + 1
                if is_placeholder_made(keyword) or any(p.accept(keyword) for p in taken):
                    continue
                found.append(
                    (
                        *where(source, path, node, keyword + "=", nth),
                        f"{keyword}=...: no parameter of {' or '.join(sorted(estimators))}",
                    )
                )
    return report(found)


SOURCE = Source(PACKAGE)


# -- tests ----------------------------------------------------------------------------


def test_call_spellings_in_the_package_use_real_parameters():
    found = wrong_call_keywords(SOURCE)
    assert found == [], "messages spell calls with keywords the callable does not take:\n" + (
        "\n".join(found)
    )


def test_bare_keywords_in_estimator_messages_are_parameters():
    found = wrong_bare_keywords(SOURCE)
    assert found == [], "estimator messages name keywords that are not parameters:\n" + (
        "\n".join(found)
    )


def test_the_checks_see_what_the_package_defines():
    callables = SOURCE.public_callables()
    assert {"SentenceEmbedder", "DenseHeadClassifier", "to_onnx"} <= set(callables)
    assert "encoder" in SOURCE.parameters("SentenceEmbedder").names
    # DenseHeadClassifier's **kwargs reach SciKeras's parameters.
    assert {"loss", "callbacks"} <= SOURCE.parameters("DenseHeadClassifier").names
    assert SOURCE.parameters("DenseHeadClassifier").accept("optimizer__momentum")
    modules = {path.relative_to(ROOT).as_posix() for path in estimators_by_module(SOURCE)}
    assert {"sktransfer/text/_sentence.py", "sktransfer/heads/_dense.py"} <= modules
    assert "sktransfer/cache/_feature_cache.py" not in modules  # FeatureCache: no estimator


def test_a_wrong_keyword_is_found(tmp_path):
    """The original bug, and the spellings around it, in a throwaway package."""
    package = tmp_path / "sktransfer"
    package.mkdir()
    (package / "__init__.py").write_text('__all__ = ["Embedder", "convert"]\n')
    (package / "_embedder.py").write_text(
        textwrap.dedent(
            '''
            class BaseEstimator:
                pass


            class Embedder(BaseEstimator):
                """Embed texts.

                >>> Embedder(
                ...     encoder="x", max_length=8)
                """

                def __init__(self, *, encoder="m", max_length=None):
                    self.encoder = encoder
                    self.max_length = max_length

                def fit(self):
                    name = "m"
                    raise ImportError(
                        f"Embedder(model={name!r}) needs a package; "
                        f"or pass sktransfer.Embedder(encoder=<a folder>, max_len=4)"
                    )

                def check(self):
                    raise ValueError(
                        f"max_length={self.max_length} is too long; set max_len=512, "
                        f"{type(self).__name__}(size=1), or LogisticRegression(C=1)"
                    )


            def convert(model, *, opset=None):
                return "convert(model, opset=17, target=1)"
            '''
        )
    )
    source = Source(package)
    assert wrong_call_keywords(source) == [
        "sktransfer/_embedder.py:20: Embedder(model=...): Embedder has no parameter 'model'",
        "sktransfer/_embedder.py:21: Embedder(max_len=...): Embedder has no parameter "
        "'max_len' (did you mean max_length?)",
        "sktransfer/_embedder.py:32: convert(target=...): convert has no parameter 'target'",
    ]
    assert wrong_bare_keywords(source) == [
        "sktransfer/_embedder.py:26: max_len=...: no parameter of Embedder",
        "sktransfer/_embedder.py:27: size=...: no parameter of Embedder",
    ]


def test_the_source_reading_agrees_with_inspect():
    """For each exported class whose module is imported (the cheap ones are imported here)."""
    for module in ("sktransfer.cache", "sktransfer.cli", "sktransfer.distributed"):
        importlib.import_module(module)
    compared = []
    for name in sorted(SOURCE.public_callables()):
        path = SOURCE.defined[name][0][0]
        module = sys.modules.get(".".join(path.relative_to(ROOT).with_suffix("").parts))
        cls = getattr(module, name, None)
        parameters = SOURCE.parameters(name)
        if not inspect.isclass(cls) or parameters is None:
            continue
        if hasattr(cls, "get_params"):
            expected = set(cls().get_params(deep=False))
        else:
            signature = inspect.signature(cls)
            expected = {
                p.name
                for p in signature.parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            }
        assert set(parameters.names) == expected, f"{name}: read {sorted(parameters.names)}"
        compared.append(name)
    assert {"FeatureCache", "SavedModel", "BatchTransformer"} <= set(compared)
