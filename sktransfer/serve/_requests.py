"""A request's items, checked before they reach the model, or a 4xx answer naming the problem.

Images and audio come as ``multipart/form-data`` uploads (any field name, one
file per part, in order), texts as a JSON object ``{"texts": [...]}``. Each
upload is written to a private temporary folder and given to the pipeline by
path, so that it is decoded exactly as ``sktransfer predict`` decodes files.
Whatever can be told before the model runs is told here: an empty upload, a
file of another modality, a file that does not decode, malformed JSON, an
unknown field, too many items, a request over the size limit.
"""

import io
import json
import os
import re
from pathlib import Path

from .._modalities import EXTENSIONS


class RequestError(Exception):
    """A request that cannot be answered; ``status`` is the HTTP status, the message why."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _safe_name(name, index):
    """A file name for upload ``index`` that keeps its extension and cannot leave the folder."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name or "").name) or "upload"
    return f"{index}-{base}"


def _modality_of_name(name):
    suffix = Path(name).suffix.lower()
    return next((m for m, extensions in EXTENSIONS.items() if suffix in extensions), None)


def _check_decodes(modality, data, name):
    """RequestError unless ``data`` decodes as ``modality`` (an image or an audio file)."""
    if modality == "image":
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except UnidentifiedImageError:
            raise RequestError(
                400, f"upload {name!r} is not an image file Pillow can read"
            ) from None
        except Exception as exc:
            raise RequestError(400, f"upload {name!r}: cannot decode the image ({exc})") from None
    else:
        import soundfile

        try:
            soundfile.info(io.BytesIO(data))
        except Exception as exc:
            reason = str(exc).split(": ", 1)[-1] if str(exc).startswith("Error opening") else exc
            raise RequestError(400, f"upload {name!r}: cannot decode audio ({reason})") from None


def check_upload(modality, name, data):
    """RequestError unless ``data`` (uploaded as ``name``) is a usable file of ``modality``."""
    if not data:
        raise RequestError(400, f"upload {name!r} is empty (0 bytes)")
    found = _modality_of_name(name)
    if found is not None and found != modality:
        raise RequestError(
            415, f"upload {name!r} is {found}, but this model takes {modality} files"
        )
    _check_decodes(modality, data, name)


def write_uploads(uploads, folder):
    """Write ``(name, bytes)`` pairs into ``folder``; their paths, and path -> name for messages."""
    paths, names = [], {}
    for index, (name, data) in enumerate(uploads):
        path = os.path.join(folder, _safe_name(name, index))
        with open(path, "wb") as stream:
            stream.write(data)
        paths.append(path)
        names[path] = name
    return paths, names


def parse_texts(body, max_items):
    """The texts of a JSON body ``{"texts": [...]}``; RequestError for anything else."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"the body is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise RequestError(400, 'the body must be a JSON object {"texts": [...]}')
    unknown = sorted(set(payload) - {"texts"})
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]!r}; the only field is 'texts'")
    texts = payload.get("texts")
    if not isinstance(texts, list) or not texts:
        raise RequestError(400, "'texts' must be a non-empty list of strings")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise RequestError(
                400, f"text {index} is {type(text).__name__} {json.dumps(text)[:40]}, not a string"
            )
    if len(texts) > max_items:
        raise RequestError(413, f"{len(texts)} texts in one request; at most {max_items}")
    return texts


def rename_items(message, names):
    """``message`` with each temporary path replaced by the upload's own name."""
    for path, name in names.items():
        message = message.replace(path, name)
    return message
