"""Images in, fixed-size RGB pixel arrays out, with errors that name the item.

Items are file paths (anything Pillow reads: jpg, png, bmp, gif (first frame),
webp, tiff, ...), PIL images, or arrays (H, W), (H, W, 1), (H, W, 3) or
(H, W, 4) of raw pixels 0..255. Every item becomes an (h, w, 3) array at the
network's input size: uint8 when it came as 8-bit pixels, float32 otherwise.
Grayscale, palette, CMYK and 16-bit images become RGB, transparent pixels are
laid over white, and EXIF orientation is honoured.
"""

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .._items import as_items, check_items, describe_item

RESIZE_POLICIES = ("stretch", "center_crop", "pad")
_RESAMPLE = Image.Resampling.BILINEAR
# EXIF orientations that swap width and height.
_TRANSPOSING_ORIENTATIONS = {5, 6, 7, 8}


class ImageError(ValueError):
    """An unusable image; the message names it."""


def describe(index, item):
    """``image 3 ('photos/cat.jpg')`` or ``image 3 (array of shape (5, 5))``."""
    return describe_item("image", index, item)


def image_batch(X):
    """A numeric array as a batch of images: (N, H, W, C) or grayscale (N, H, W)."""
    if X.ndim == 4:
        if X.shape[3] not in (1, 3, 4):
            raise ValueError(
                f"X has shape {X.shape}: a 4-D array must be (n_images, height, width, "
                "channels) with 1, 3 or 4 channels"
            )
    elif X.ndim != 3:
        raise ValueError(
            f"X has shape {X.shape}: an array of images must be 4-D (n_images, height, "
            "width, channels) or 3-D (n_images, height, width) for grayscale"
        )
    if not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise ValueError(f"X has dtype {X.dtype}: pixels must be integers or floats")
    return X


def check_image_item(item):
    """ValueError unless ``item`` is a path, a PIL image or an array (nothing is read)."""
    if not isinstance(item, (str, os.PathLike, Image.Image, np.ndarray)):
        raise ValueError("expected a file path, a PIL image or an array")


def as_image_sequence(X):
    """Check the container ``X`` and return it as an indexable sequence of images.

    A 4-D array is a batch (N, H, W, C) and a 3-D array a grayscale batch
    (N, H, W); anything else must be a collection of items. No file is read.
    """
    items = as_items(X, "image", numeric=image_batch, single=(str, bytes, os.PathLike, Image.Image))
    check_items(items, "image", check_image_item)
    return items


def _scale_box(size, target, policy):
    """Source box and the size it is resized to, for ``policy``.

    Returns ``(box, resized_size)``: the region of the source (left, upper,
    right, lower) to resize and the (width, height) it becomes; "pad" then
    centres that on a black canvas of the target size.
    """
    w, h = size
    tw, th = target
    if policy == "stretch":
        return (0, 0, w, h), (tw, th)
    if policy == "center_crop":
        scale = max(tw / w, th / h)
        cw, ch = tw / scale, th / scale
        return ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2), (tw, th)
    scale = min(tw / w, th / h)  # pad
    return (0, 0, w, h), (max(1, min(tw, round(w * scale))), max(1, min(th, round(h * scale))))


def _fit(img, target, policy):
    """``img`` (a PIL image of any mode Pillow resizes) at ``target`` (w, h)."""
    if img.size == tuple(target):
        return img
    box, resized = _scale_box(img.size, target, policy)
    out = img.resize(resized, _RESAMPLE, box=box)
    if resized != tuple(target):
        canvas = Image.new(img.mode, tuple(target))
        canvas.paste(out, ((target[0] - resized[0]) // 2, (target[1] - resized[1]) // 2))
        out = canvas
    return out


def _over_white(rgb, alpha):
    """Lay float RGB over white, alpha 0..255."""
    a = alpha[..., None] / 255.0
    return rgb * a + 255.0 * (1.0 - a)


def _pil_to_rgb(img):
    """A PIL image of any mode as an 8-bit RGB image."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # 16-bit (and 32-bit integer) grayscale: scale 0..65535 to 0..255;
        # float images are taken as already 0..255.
        pixels = np.asarray(img, dtype=np.float64)
        if img.mode != "F":
            pixels = pixels / 257.0
        return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8)).convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _decode_pil(img, target, policy, is_file):
    orientation = img.getexif().get(0x0112, 1)
    if is_file and img.format == "JPEG":
        # Decode large JPEGs at a reduced scale (1/2, 1/4, 1/8) that still
        # covers what the resize needs: the same picture, several times faster.
        w, h = img.size
        if orientation in _TRANSPOSING_ORIENTATIONS:
            w, h = h, w
        box, resized = _scale_box((w, h), target, policy)
        need = (resized[0] * w / (box[2] - box[0]), resized[1] * h / (box[3] - box[1]))
        need = (int(np.ceil(need[0])), int(np.ceil(need[1])))
        if orientation in _TRANSPOSING_ORIENTATIONS:
            need = need[::-1]
        img.draft("RGB", need)
    img.load()
    if orientation != 1:  # exif_transpose copies the image even when upright
        img = ImageOps.exif_transpose(img)
    return np.asarray(_fit(_pil_to_rgb(img), target, policy), dtype=np.uint8)


def _open(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ImageError("no such file")
    if os.path.isdir(path):
        raise ImageError("is a directory, not an image file")
    if os.path.getsize(path) == 0:
        raise ImageError("the file is empty (0 bytes)")
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        raise ImageError("not an image file that Pillow can read") from None


def _decode_array(arr, target, policy):
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ImageError(
            "an image array must be (height, width) or (height, width, channels) "
            "with 1, 3 or 4 channels"
        )
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ImageError(f"pixels must be integers or floats, got dtype {arr.dtype}")
    if arr.dtype == np.uint8:
        if arr.shape[2] == 4:
            arr = np.rint(_over_white(arr[..., :3].astype(np.float32), arr[..., 3])).astype(
                np.uint8
            )
        elif arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
        if arr.shape[:2] == (target[1], target[0]):
            return np.ascontiguousarray(arr)
        return np.asarray(_fit(Image.fromarray(arr), target, policy))
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ImageError("has NaN or infinite pixels")
    if arr.shape[2] == 4:
        arr = _over_white(arr[..., :3], arr[..., 3]).astype(np.float32)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.shape[:2] == (target[1], target[0]):
        return arr
    return np.stack(
        [
            np.asarray(
                _fit(Image.fromarray(np.ascontiguousarray(arr[..., c]), mode="F"), target, policy)
            )
            for c in range(3)
        ],
        axis=-1,
    )


def decode(index, item, *, target, policy):
    """One item as an (h, w, 3) array at ``target`` (w, h).

    Raises
    ------
    ImageError
        Naming the item (its index, and its path for a file) and the problem.
    """
    try:
        if isinstance(item, Image.Image):
            if min(item.size) == 0:
                raise ImageError("the image is empty (0 pixels)")
            return _decode_pil(item.copy(), target, policy, is_file=False)
        if isinstance(item, np.ndarray):
            if min(item.shape[:2], default=0) == 0:
                raise ImageError("the image is empty (0 pixels)")
            return _decode_array(item, target, policy)
        with _open(item) as img:
            if min(img.size) == 0:
                raise ImageError("the image is empty (0 pixels)")
            return _decode_pil(img, target, policy, is_file=True)
    except ImageError as exc:
        raise ImageError(f"{describe(index, item)}: {exc}") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        # Truncated or corrupt data: Pillow says "image file is truncated",
        # "broken data stream", ...
        raise ImageError(f"{describe(index, item)}: cannot decode ({exc})") from None


def _batch_from_array(X, start, stop, target, policy):
    """Fast path for an array batch: slices, no per-image work when sizes match."""
    batch = X[start:stop]
    if batch.ndim == 3:
        batch = batch[..., None]
    if batch.shape[1:3] != (target[1], target[0]) or batch.shape[3] == 4:
        return None
    if batch.dtype != np.uint8:
        batch = batch.astype(np.float32, copy=False)
        finite = np.isfinite(batch).all(axis=(1, 2, 3))
        if not finite.all():
            return None  # the per-image path names the bad images
    if batch.shape[3] == 1:
        batch = np.repeat(batch, 3, axis=3)
    return np.ascontiguousarray(batch)


def iter_batches(
    items, *, target, policy, batch_size, n_workers, on_error="raise", prefetch=2, names=None
):
    """Decoded batches, in order, while later ones decode in background threads.

    When a batch is needed before the threads have decoded it (the first
    one, or any when decoding is slower than its consumer), the caller's
    thread decodes the images of it that no thread has started, from its end.

    ``names``, if given, holds the index each item is called by in error
    messages (its position in the caller's input); by default its position
    in ``items``.

    Yields
    ------
    start : int
        Index of the batch's first item.
    batch : ndarray of shape (b, h, w, 3), uint8 or float32
    failures : dict of int -> str
        Items (absolute index) that could not be decoded, with why; their
        slots in ``batch`` hold zeros. Always empty when ``on_error="raise"``,
        which raises the first failure instead.

    At most ``prefetch + 1`` batches are in memory at once, whatever the
    number of items.
    """
    n = len(items)
    starts = range(0, n, batch_size)
    is_array = isinstance(items, np.ndarray)

    def decode_or_message(index):
        try:
            name = index if names is None else int(names[index])
            return decode(name, items[index], target=target, policy=policy)
        except ImageError as exc:
            if on_error == "raise":
                raise
            return str(exc)

    def assemble(start, results):
        failures = {start + i: r for i, r in enumerate(results) if isinstance(r, str)}
        good = [r for r in results if not isinstance(r, str)]
        dtype = np.uint8 if all(r.dtype == np.uint8 for r in good) else np.float32
        batch = np.zeros((len(results), target[1], target[0], 3), dtype=dtype)
        for i, r in enumerate(results):
            if not isinstance(r, str):
                batch[i] = r
        return batch, failures

    pool = ThreadPoolExecutor(max_workers=max(1, n_workers), thread_name_prefix="sktransfer-decode")
    pending = deque()

    def submit(start):
        stop = min(n, start + batch_size)
        if is_array:
            fast = _batch_from_array(items, start, stop, target, policy)
            if fast is not None:
                pending.append((start, fast))
                return
        futures = [(i, pool.submit(decode_or_message, i)) for i in range(start, stop)]
        pending.append((start, futures))

    def decode_here(index):
        done = Future()
        try:
            done.set_result(decode_or_message(index))
        except ImageError as exc:
            done.set_exception(exc)
        return done

    def results(futures):
        # Rather than wait with a core to spare (the network is not running),
        # decode the images no thread has started yet, from the batch's end
        # while the threads work from its start; errors still come in order.
        here = {i: decode_here(i) for i, future in reversed(futures) if future.cancel()}
        return [here.get(i, future).result() for i, future in futures]

    try:
        queue = iter(starts)
        for start in queue:
            submit(start)
            if len(pending) > prefetch:
                break
        while pending:
            start, work = pending.popleft()
            nxt = next(queue, None)
            if nxt is not None:
                submit(nxt)
            if isinstance(work, np.ndarray):
                yield start, work, {}
            else:
                yield (start, *assemble(start, results(work)))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def synthetic_images(n, seed=0):
    """``n`` uint8 RGB images of several sizes: smooth colour fields with noise and edges.

    What an export compares the graph and the pipeline on when it is given no
    sample: varied enough that the network's features (and a classifier's
    probabilities) are not all alike, and of sizes that take the resizing path.

    Examples
    --------
    >>> [image.shape for image in synthetic_images(2)]
    [(48, 40, 3), (61, 75, 3)]
    """
    rng = np.random.default_rng(seed)
    images = []
    for i in range(n):
        height, width = 48 + 13 * (i % 5), 40 + 35 * (i % 3)
        rows = np.linspace(0, 1, height)[:, None, None]
        cols = np.linspace(0, 1, width)[None, :, None]
        colour = rng.uniform(0, 255, (2, 1, 1, 3))
        field = colour[0] * rows + colour[1] * (1 - cols)
        field[: height // 2, : width // 3] = rng.uniform(0, 255, 3)
        noise = rng.normal(0, 20, (height, width, 3))
        images.append(np.clip(np.rint(field / 2 + noise), 0, 255).astype(np.uint8))
    return images


class ImageReader:
    """Images in, batches of pixels at the network's size out: what an exported graph takes.

    The reading half of ``KerasImageFeatures`` without its network, for the
    ONNX runtime (no TensorFlow): the same ``X`` (paths, PIL images, arrays),
    the same decoding and resizing and the same errors and ``on_error``.

    Parameters
    ----------
    input_size : (height, width)
    resize : {"stretch", "center_crop", "pad"}
    batch_size, n_jobs, on_error
        As the extractor's.
    dtype : {"uint8", "float32"}
        The graph's pixel type. "uint8": float pixels must be whole numbers
        0..255 after decoding (an image that is not is an error naming it,
        since rounding it would change the features).
    """

    def __init__(self, *, input_size, resize, batch_size, n_jobs, on_error, dtype):
        self.input_size = tuple(input_size)
        self.resize = resize
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.on_error = on_error
        self.dtype = dtype

    @classmethod
    def __sktransfer_onnx_reader__(cls, settings, files):
        """The reader of an exported graph, from the settings the export recorded."""
        return cls(**settings)

    def batches(self, X):
        """``(start, batch, failures)`` as ``iter_batches`` yields them, for the graph."""
        from joblib import effective_n_jobs

        items = as_image_sequence(X)
        height, width = self.input_size
        batches = iter_batches(
            items,
            target=(width, height),
            policy=self.resize,
            batch_size=self.batch_size,
            n_workers=effective_n_jobs(self.n_jobs),
            on_error=self.on_error,
        )
        for start, batch, failures in batches:
            if self.dtype == "uint8" and batch.dtype != np.uint8:
                batch = self._as_uint8(items, start, batch, failures)
            yield start, batch.astype(self.dtype, copy=False), failures

    def _as_uint8(self, items, start, batch, failures):
        whole = (batch == np.rint(batch)).all(axis=(1, 2, 3)) & (batch >= 0).all(axis=(1, 2, 3))
        whole &= (batch <= 255).all(axis=(1, 2, 3))
        for position in np.flatnonzero(~whole):
            index = start + int(position)
            if index in failures:
                continue
            message = (
                f"{describe(index, items[index])}: has pixels that are not whole numbers in "
                "0..255 (after resizing to the network's size); the exported model takes 8-bit "
                "pixels: give uint8 images (np.rint, then astype(np.uint8)), or predict with "
                "the Python pipeline"
            )
            if self.on_error == "raise":
                raise ImageError(message)
            failures[index] = message
            batch[position] = 0
        return batch.astype(np.uint8)
