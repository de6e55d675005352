"""Labelled examples from disk: a folder with one subfolder per class, or a CSV file.

The layouts that the ``sktransfer`` command reads (see ``docs/cli.md``):

- a folder whose subfolders are the classes, each holding image, audio or
  text files (one document per ``.txt`` file), at any depth;
- a CSV file with a header row and the columns ``path`` and ``label`` (image
  or audio files; relative paths start at the CSV file's folder), or ``text``
  and ``label`` (one document per row).

The modality (image, audio or text) follows from the file extensions. Files
and folders whose names start with a dot are ignored; any other file that is
not a known image, audio or text file is an error that names it.
"""

import csv
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .._modalities import EXTENSIONS, MODALITIES


class LabelledDataError(ValueError):
    """Unusable data on disk; the message names the offending file, folder or row."""


@dataclass
class LabelledData:
    """Examples and their labels, as read from ``source``.

    Attributes
    ----------
    items : list of str
        File paths (image, audio) or documents (text).
    labels : list of str
    modality : {"image", "audio", "text"}
    source : pathlib.Path
        The folder or CSV file they were read from.
    names : list of str
        How reports name each item: its path, or ``row N`` of a CSV of texts.
    """

    items: list
    labels: list
    modality: str
    source: Path
    names: list

    @property
    def classes(self):
        """The sorted distinct labels."""
        return sorted(set(self.labels))

    def describe(self):
        """``36 image files in 3 classes from 'data'``."""
        kind = "texts" if self.modality == "text" else f"{self.modality} files"
        return f"{len(self.items)} {kind} in {len(self.classes)} classes from '{self.source}'"


def modality_of(path):
    """The modality of a file from its extension; ``LabelledDataError`` if unknown.

    Examples
    --------
    >>> modality_of("cats/tabby.JPG"), modality_of("yes/en-us.wav"), modality_of("a.txt")
    ('image', 'audio', 'text')
    """
    suffix = Path(path).suffix.lower()
    for modality, extensions in EXTENSIONS.items():
        if suffix in extensions:
            return modality
    known = ", ".join(ext for extensions in EXTENSIONS.values() for ext in extensions)
    raise LabelledDataError(
        f"'{path}' is not a supported file: its extension {suffix or '(none)'!r} is none of {known}"
    )


def check_modality(paths, modality=None, *, where):
    """The one modality of ``paths``; an error naming a file of another one.

    ``modality`` given: every file must be of it. None: all files must share
    the modality of the first. ``where`` names the data (or the model) in messages.
    """
    first = None
    for path in paths:
        found = modality_of(path)
        if modality is None:
            modality, first = found, path
        elif found != modality:
            expected = (
                f"'{first}' in {where} is {_a(modality)} file"
                if first is not None
                else f"{where} takes {modality} files"
            )
            raise LabelledDataError(
                f"'{path}' is {_a(found)} file, but {expected}; keep to one modality"
            )
    return modality


def _a(modality):
    return f"an {modality}" if modality[0] in "aeiou" else f"a {modality}"


def visible_files(folder):
    """Files under ``folder`` at any depth, sorted, skipping dot-files and dot-folders."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root, name) for name in sorted(files) if not name.startswith("."))
    return found


def read_text_file(path):
    """A UTF-8 text file's content; ``LabelledDataError`` naming it if it is not UTF-8."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LabelledDataError(
            f"'{path}' is not UTF-8 text: {exc.reason} at byte {exc.start}"
        ) from None


def read_labelled_data(path, modality=None):
    """Read labelled examples from a class-per-subfolder folder or a CSV file.

    Parameters
    ----------
    path : path-like
        The folder or the ``.csv`` file.
    modality : {"image", "audio", "text"} or None, default=None
        The expected modality; None detects it from the file extensions (or,
        for a CSV, from its columns and paths).

    Returns
    -------
    LabelledData
        Items in a stable order: by class folder then file path, or by CSV row.

    Raises
    ------
    LabelledDataError
        If ``path`` does not exist, holds no examples, or holds a file that is
        not a supported image, audio or text file or is of another modality;
        for a CSV, if the header or a row is malformed or a listed file is
        missing. The message names the offending item.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label, text in [("pos", "great fun"), ("neg", "dull"), ("pos", "lovely")]:
    ...     folder = root / label
    ...     folder.mkdir(exist_ok=True)
    ...     _ = (folder / f"{text.split()[0]}.txt").write_text(text)
    >>> data = read_labelled_data(root)
    >>> data.modality, data.items, data.labels
    ('text', ['dull', 'great fun', 'lovely'], ['neg', 'pos', 'pos'])
    """
    if modality is not None and modality not in MODALITIES:
        raise LabelledDataError(
            f"unknown modality {modality!r}; choose from {', '.join(MODALITIES)}"
        )
    path = Path(path)
    if not path.exists():
        raise LabelledDataError(f"'{path}' does not exist")
    if path.is_dir():
        return _read_folder(path, modality)
    if path.suffix.lower() == ".csv":
        return _read_csv(path, modality)
    raise LabelledDataError(
        f"'{path}' is neither a folder with one subfolder per class nor a .csv file"
    )


def _read_folder(folder, modality):
    loose = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    if loose:
        raise LabelledDataError(
            f"'{loose[0]}' lies directly in '{folder}': put each example in the subfolder "
            "named after its class"
        )
    paths, labels = [], []
    for class_dir in sorted(
        p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        files = visible_files(class_dir)
        paths.extend(files)
        labels.extend([class_dir.name] * len(files))
    if not paths:
        raise LabelledDataError(
            f"'{folder}' holds no examples: expected one subfolder per class with image, "
            "audio or text files in it"
        )
    modality = check_modality(paths, modality, where=f"'{folder}'")
    names = [str(p) for p in paths]
    items = [read_text_file(p) for p in paths] if modality == "text" else names
    return LabelledData(items, labels, modality, folder, names)


def _read_csv(csv_path, modality):
    with open(csv_path, newline="", encoding="utf-8-sig") as stream:
        try:
            rows = list(csv.reader(stream))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise LabelledDataError(
                f"'{csv_path}' is not a readable UTF-8 CSV file: {exc}"
            ) from None
    if not rows:
        raise LabelledDataError(
            f"'{csv_path}' is empty: expected a header row 'path,label' or 'text,label'"
        )
    header = [name.strip().lower() for name in rows[0]]
    if "label" not in header or ("path" in header) == ("text" in header):
        raise LabelledDataError(
            f"'{csv_path}' has the header {','.join(rows[0])!r}: expected the columns "
            "'path,label' (image or audio files) or 'text,label' (one document per row)"
        )
    column = "path" if "path" in header else "text"
    item_at, label_at = header.index(column), header.index("label")
    items, labels = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise LabelledDataError(
                f"'{csv_path}', line {line}: {len(row)} fields where the header has {len(header)}"
            )
        item, label = row[item_at], row[label_at].strip()
        if not label:
            raise LabelledDataError(f"'{csv_path}', line {line}: the label is empty")
        items.append(item)
        labels.append(label)
    if not items:
        raise LabelledDataError(f"'{csv_path}' holds no examples: only a header row")
    if column == "text":
        if modality not in (None, "text"):
            raise LabelledDataError(
                f"'{csv_path}' holds texts (a 'text' column), not {modality} files"
            )
        return LabelledData(
            items, labels, "text", csv_path, [f"row {i}" for i in range(1, len(items) + 1)]
        )
    paths = [csv_path.parent / item.strip() for item in items]
    for line, path in enumerate(paths, start=2):
        if not path.is_file():
            raise LabelledDataError(f"'{csv_path}', line {line}: the file '{path}' does not exist")
    modality = check_modality(paths, modality, where=f"'{csv_path}'")
    if modality == "text":
        raise LabelledDataError(
            f"'{csv_path}' lists text files; give texts in a 'text' column, or use a folder "
            "with one subfolder per class"
        )
    names = [str(p) for p in paths]
    return LabelledData(names, labels, modality, csv_path, names)


def check_enough_examples(data, min_per_class, *, why):
    """``LabelledDataError`` unless ``data`` has two classes and ``min_per_class`` of each.

    ``why`` ends the message: what needs that many examples.
    """
    counts = Counter(data.labels)
    if len(counts) < 2:
        raise LabelledDataError(
            f"'{data.source}' holds a single class ({next(iter(counts))!r}): a classifier needs "
            "at least two"
        )
    rare, n = min(sorted(counts.items()), key=lambda item: item[1])
    if n < min_per_class:
        raise LabelledDataError(
            f"class {rare!r} in '{data.source}' has only {n} example{'s' * (n != 1)}: "
            f"{why} needs at least {min_per_class} per class"
        )


def collect_inputs(arguments, modality):
    """The items to classify from command-line arguments, and how to name each.

    Every argument is a file or a folder (scanned at any depth, dot-files
    skipped), and every file must be of ``modality``. For text, a file given
    directly holds one document per non-empty line (named ``path:line``), a
    ``.txt`` file found in a folder is one document (as in training), and an
    argument that is no existing path is itself a document, unless it ends
    with a known file extension (then it is a missing file).

    Returns
    -------
    items : list of str
        Paths (image, audio) or documents (text).
    names : list of str

    Raises
    ------
    LabelledDataError
        For a missing path, a file of another modality or an unsupported file,
        or when nothing is left to classify.
    """
    items, names = [], []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files = visible_files(path)
            check_modality(files, modality, where=f"{_a(modality)} model")
            for file in files:
                items.append(read_text_file(file) if modality == "text" else str(file))
                names.append(str(file))
        elif path.is_file():
            check_modality([path], modality, where=f"{_a(modality)} model")
            if modality == "text":
                for number, line in enumerate(read_text_file(path).splitlines(), start=1):
                    if line.strip():
                        items.append(line)
                        names.append(f"{path}:{number}")
            else:
                items.append(str(path))
                names.append(str(path))
        elif modality == "text" and path.suffix.lower() not in {
            ext for extensions in EXTENSIONS.values() for ext in extensions
        }:
            items.append(argument)
            names.append(argument)
        else:
            raise LabelledDataError(f"'{argument}' does not exist")
    if not items:
        raise LabelledDataError(f"no {modality} inputs found in {', '.join(map(repr, arguments))}")
    return items, names
