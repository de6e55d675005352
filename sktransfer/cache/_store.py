"""Where a feature cache keeps its files: a local folder, or any fsspec URL.

The cache needs seven operations on named blobs (read, write so that no reader
ever sees half of it, create only if absent, delete, refresh the time of last
use, list with sizes and times, and a check that the place can be reached).
A local folder does them with ``os`` calls, the fast path that most users take;
an object store (``s3://``, ``gs://``, ``abfs://``) or any other fsspec file
system does them through fsspec, so that workers on other machines share the
rows. Names are relative (``rows/ab/ab12....row``); each store joins them to
its root.
"""

import datetime
import os
import uuid
from pathlib import Path


def _temporary_name(name):
    head, _, tail = name.rpartition("/")
    prefix = f"{head}/" if head else ""
    return f"{prefix}.{tail}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"


class LocalStore:
    """Blobs as files under a local folder (or one that every process mounts)."""

    def __init__(self, root):
        self.root = Path(root)

    def _path(self, name):
        return self.root / name

    def check(self):
        """OSError naming the folder when it cannot be created or written."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self._path(_temporary_name("probe"))
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OSError(
                f"the feature cache folder {str(self.root)!r} cannot be written: {exc}. "
                "Give a folder this process may create and write"
            ) from exc

    def read(self, name):
        try:
            return self._path(name).read_bytes()
        except OSError:
            return None

    def write(self, name, data):
        """Write to a temporary file, then rename it into place (atomic on POSIX)."""
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path(_temporary_name(name))
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def create(self, name, data):
        """Write ``data`` only if ``name`` does not exist; True when this call created it."""
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path(_temporary_name(name))
        temporary.write_bytes(data)
        try:
            os.link(temporary, path)  # atomic, and fails if the name exists: whole or absent
        except FileExistsError:
            return False
        finally:
            temporary.unlink()
        return True

    def delete(self, name):
        self._path(name).unlink(missing_ok=True)

    def touch(self, name):
        try:
            os.utime(self._path(name))
        except OSError:
            pass

    def listing(self, folder, suffix):
        """``(name, size, time)`` of every file under ``folder`` whose name ends with ``suffix``."""
        found = []
        for directory, _, files in os.walk(self._path(folder)):
            for file in files:
                if not file.endswith(suffix) or file.startswith("."):
                    continue
                path = os.path.join(directory, file)
                try:
                    stat = os.stat(path)
                except FileNotFoundError:  # deleted by another process meanwhile
                    continue
                name = os.path.relpath(path, self.root).replace(os.sep, "/")
                found.append((name, stat.st_size, stat.st_mtime))
        return found


def _timestamp(info):
    """Seconds since the epoch of an fsspec ``info`` dict's modification time, or 0."""
    for field in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(field)
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


class FsspecStore:
    """Blobs as objects under an fsspec URL (``s3://bucket/prefix``, ``memory://name``, ...).

    A reader never finds half a row: object stores (S3, GCS, Azure Blob) and
    the memory file system make one upload visible whole or not at all, so a
    row is written in one request; on other file systems (SFTP, HDFS, ...) it is
    written to a temporary name and then moved to its own. ``create`` is a
    conditional write (S3's ``If-None-Match``) where the file system supports
    exclusive mode ``"xb"``.
    """

    _ATOMIC_UPLOADS = {"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "memory"}

    def __init__(self, url, storage_options):
        import fsspec

        self.url = url
        self.fs, self.root = fsspec.core.url_to_fs(url, **(storage_options or {}))
        self.root = self.root.rstrip("/")

    def _path(self, name):
        return f"{self.root}/{name}"

    def check(self):
        """OSError naming the URL when it cannot be reached or written (network, credentials)."""
        probe = self._path(_temporary_name("probe"))
        try:
            self.fs.pipe_file(probe, b"")
            self.fs.rm_file(probe)
        except Exception as exc:  # botocore, aiohttp and gcsfs raise their own types
            raise OSError(
                f"the feature cache {self.url!r} cannot be reached or written: "
                f"{type(exc).__name__}: {exc}. Check the URL, that the bucket exists, the "
                "credentials (environment or storage_options) and the network"
            ) from exc

    def read(self, name):
        try:
            return self.fs.cat_file(self._path(name))
        except (FileNotFoundError, OSError):
            return None

    def write(self, name, data):
        protocols = self.fs.protocol
        protocols = {protocols} if isinstance(protocols, str) else set(protocols)
        if protocols & self._ATOMIC_UPLOADS:
            self.fs.pipe_file(self._path(name), data)
            return
        temporary = self._path(_temporary_name(name))
        self.fs.pipe_file(temporary, data)
        self.fs.mv(temporary, self._path(name))

    def create(self, name, data):
        try:
            with self.fs.open(self._path(name), "xb") as f:
                f.write(data)
        except FileExistsError:
            return False
        except ValueError:  # no exclusive mode here: check, then write (a narrow race)
            if self.fs.exists(self._path(name)):
                return False
            self.fs.pipe_file(self._path(name), data)
        return True

    def delete(self, name):
        try:
            self.fs.rm_file(self._path(name))
        except FileNotFoundError:
            pass

    def touch(self, name):
        try:
            self.fs.touch(self._path(name), truncate=False)
        except (NotImplementedError, ValueError, OSError):
            pass  # objects keep their upload time: eviction goes by time written

    def listing(self, folder, suffix):
        try:
            found = self.fs.find(self._path(folder), detail=True)
        except FileNotFoundError:
            return []
        prefix = len(self.root) + 1
        return [
            (path[prefix:], info.get("size", 0), _timestamp(info))
            for path, info in found.items()
            if path.endswith(suffix) and not path.rpartition("/")[2].startswith(".")
        ]


def open_store(location, storage_options):
    """The store for a local folder (a path) or an fsspec URL (a string with ``://``)."""
    if isinstance(location, str) and "://" in location:
        return FsspecStore(location, storage_options)
    return LocalStore(location)
