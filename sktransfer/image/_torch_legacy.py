"""Read a PyTorch state dict in the legacy (pre-1.6) file format, without torch.

The legacy format is a run of pickles followed by raw storage bytes:

1. the magic number, the protocol version (1001) and a dict of system info;
2. the state dict, whose tensors refer to storages by persistent id and are
   rebuilt by ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``;
3. the list of storage keys in the order their bytes follow;
4. for each storage, its element count (int64) and its raw little-endian data.

Unpickling runs code named by the file, so nothing here uses a plain
``pickle.load``: a restricted unpickler resolves only the globals a state dict
needs (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` and
torch's typed storages such as ``torch.FloatStorage``), each to a harmless
stand-in, and refuses everything else. Tensor views are checked against their
storage's bounds before numpy builds them.
"""

import collections
import pickle
import struct
import zipfile

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _TensorRef:
    """A tensor as the pickle describes it, before its storage bytes are read."""

    __slots__ = ("storage_key", "offset", "size", "stride")

    def __init__(self, storage_key, offset, size, stride):
        self.storage_key = storage_key
        self.offset = offset
        self.size = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None
):
    return _TensorRef(storage, int(storage_offset), size, stride)


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals a legacy state dict needs, to stand-ins."""

    def __init__(self, file, storages):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return np.dtype(_STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(
            f"refusing to load global {module}.{name}: not part of a tensor state dict"
        )

    def persistent_load(self, saved_id):
        # ("storage", storage type, key, location, element count, view metadata)
        if not (
            isinstance(saved_id, tuple)
            and len(saved_id) == 6
            and saved_id[0] == "storage"
            and saved_id[5] is None
        ):
            raise pickle.UnpicklingError(f"unexpected persistent id {saved_id!r}")
        _, dtype, key, _location, numel, _view = saved_id
        if not isinstance(dtype, np.dtype) or not isinstance(key, str):
            raise pickle.UnpicklingError(f"unexpected storage reference {saved_id!r}")
        if key in self._storages and self._storages[key] != (dtype, int(numel)):
            raise pickle.UnpicklingError(f"storage {key!r} is declared twice differently")
        self._storages[key] = (dtype, int(numel))
        return key


def _load_plain(file):
    """One pickle of plain data (numbers, strings, dicts): no global at all."""
    return _RestrictedUnpickler(file, {}).load()


def load_legacy_state_dict(path):
    """The tensors of a legacy-format ``.pth`` state dict, as numpy arrays.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    collections.OrderedDict of str -> ndarray
        In the file's order, with the shapes PyTorch gives them (for a
        convolution, ``(out, in, kh, kw)``). The arrays own their memory.

    Raises
    ------
    ValueError
        If the file is not a legacy PyTorch state dict, names anything but
        tensors, or is truncated.
    """
    if zipfile.is_zipfile(path):
        raise ValueError(
            f"{path}: a zip-format PyTorch file; only the legacy (pre-1.6) format is read"
        )
    with open(path, "rb") as f:
        try:
            if _load_plain(f) != MAGIC_NUMBER:
                raise ValueError(f"{path}: not a legacy PyTorch file (wrong magic number)")
            if _load_plain(f) != PROTOCOL_VERSION:
                raise ValueError(f"{path}: unsupported legacy PyTorch protocol version")
            sys_info = _load_plain(f)
            if not (isinstance(sys_info, dict) and sys_info.get("little_endian", True)):
                raise ValueError(f"{path}: big-endian PyTorch files are not supported")
            storages = {}
            state = _RestrictedUnpickler(f, storages).load()
            keys = _load_plain(f)
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as exc:
            if isinstance(exc, ValueError) and str(exc).startswith(str(path)):
                raise
            raise ValueError(
                f"{path}: not a PyTorch state dict this reader accepts ({exc})"
            ) from exc
        if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, _TensorRef) for k, v in state.items()
        ):
            raise ValueError(f"{path}: the file holds something other than a dict of tensors")
        if not isinstance(keys, list) or sorted(keys) != sorted(storages):
            raise ValueError(f"{path}: the storage list does not match the tensors")
        data = {}
        for key in keys:
            dtype, numel = storages[key]
            header = f.read(8)
            if len(header) != 8:
                raise ValueError(f"{path}: truncated before storage {key!r}")
            (count,) = struct.unpack("<q", header)
            if count != numel:
                raise ValueError(
                    f"{path}: storage {key!r} holds {count} elements, expected {numel}"
                )
            raw = f.read(count * dtype.itemsize)
            if len(raw) != count * dtype.itemsize:
                raise ValueError(f"{path}: truncated inside storage {key!r}")
            data[key] = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
    out = collections.OrderedDict()
    for name, ref in state.items():
        flat = data[ref.storage_key]
        if len(ref.size) != len(ref.stride) or any(s < 0 for s in ref.size + ref.stride):
            raise ValueError(f"{path}: tensor {name!r} has an invalid shape or stride")
        if 0 in ref.size:
            out[name] = np.zeros(ref.size, dtype=flat.dtype)
            continue
        last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
        if ref.offset < 0 or last >= flat.size:
            raise ValueError(f"{path}: tensor {name!r} reaches outside its storage")
        view = np.lib.stride_tricks.as_strided(
            flat[ref.offset :],
            shape=ref.size,
            strides=tuple(s * flat.itemsize for s in ref.stride),
            writeable=False,
        )
        out[name] = np.array(view, dtype=flat.dtype.newbyteorder("="))
    return out
