"""Files that cannot be served wrong: every cache file carries the SHA-256 of its contents.

A stored file is one header line, ``ckatools-sha256 <hex digest>``, then the bytes of
``torch.save``; it is written to a temporary file and renamed into place, so a reader never sees
half a file. Reading checks the digest before anything is unpickled, then unpickles with
``weights_only=True`` (tensors, numbers, strings, lists, tuples and dicts only), so a file from
someone else's shared folder cannot run code.

Two kinds of failure are kept apart. :class:`CorruptFile` means the bytes are wrong (flipped,
truncated, another format): the caller may discard the file and recompute it. An ``OSError``
(permission denied, an I/O error, a full disk) is a problem of the environment: it is raised
with the path, and nothing is deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

__all__ = ["CorruptFile", "save", "write_bytes", "load", "loads", "writable", "locked", "busy"]

MAGIC = b"ckatools-sha256 "


class CorruptFile(ValueError):
    """A stored file whose bytes do not match its checksum or format."""

    def __init__(self, path: Path, reason: str, *, legacy: bool = False):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.legacy = legacy  # a plain torch file of an older ckatools: unverifiable, not wrong


def save(obj, path: Path) -> None:
    """Serialize ``obj`` with its checksum, atomically. On an ``OSError`` (a full disk, say) the
    temporary file is removed and the error re-raised with the path."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    write_bytes(MAGIC + digest + b"\n" + payload, path)


def write_bytes(data: bytes, path: Path) -> None:
    """Write ``data`` (a stored file's bytes, header included) to ``path`` atomically: through a
    temporary file renamed into place, removed on an ``OSError``, which is re-raised with the
    path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise OSError(error.errno, f"could not write {path}: {error.strerror or error}") from error


def load(path: Path, *, map_location="cpu"):
    """The object stored at ``path``, after checking its checksum.

    Raises :class:`CorruptFile` when the bytes are wrong and ``OSError`` (with the path) when
    the file cannot be read.
    """
    path = Path(path)
    data = path.read_bytes()  # OSError (missing, permission, I/O) propagates with the path
    return loads(data, path, map_location=map_location)


def loads(data: bytes, path, *, map_location="cpu"):
    """The object a stored file's bytes hold, after checking its checksum; ``path`` names the
    file in errors (:class:`CorruptFile` when the bytes are wrong)."""
    header, newline, payload = data.partition(b"\n")
    if not header.startswith(MAGIC) or not newline:
        legacy = data.startswith(b"PK")  # a zip: torch.save's format, without our header
        raise CorruptFile(
            path, "no ckatools checksum header (written by an older ckatools?)", legacy=legacy
        )
    expected = header[len(MAGIC) :].decode("ascii", errors="replace")
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise CorruptFile(path, f"checksum mismatch (stored {expected[:12]}…, read {actual[:12]}…)")
    try:
        return torch.load(io.BytesIO(payload), map_location=map_location, weights_only=True)
    except Exception as error:  # right bytes, but not a plain-data torch file
        raise CorruptFile(path, f"not a plain-data torch file ({error})") from error


def writable(folder: Path) -> None:
    """Raise ``PermissionError`` naming ``folder`` unless files can be created in it."""
    folder = Path(folder)
    probe = folder / f".write-test.{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise PermissionError(
            error.errno,
            f"the cache folder {folder} is not writable ({error.strerror or error}); "
            "set CKATOOLS_CACHE to a folder you can write",
        ) from error


@contextlib.contextmanager
def locked(folder: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the lock file of ``folder`` (one writer per cache entry, across processes).

    When another process holds it, ``on_wait`` is called once and this one waits. On a file
    system without locks (some network drives) it warns and goes on unlocked.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        yield
        return
    with open(folder / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError as error:
            warnings.warn(
                f"cannot lock {folder} ({error}); two processes may train it twice",
                RuntimeWarning,
                stacklevel=3,
            )
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def busy(folder: Path) -> bool:
    """Whether another process holds the lock of ``folder`` (it is training that entry)."""
    try:
        import fcntl
    except ImportError:
        return False
    lock = Path(folder) / ".lock"
    if not lock.exists():
        return False
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
