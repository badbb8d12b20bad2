"""Path-like input, read without an oracle and without blocking (standard library only).

A path a user gives is checked against the directories the host allows *before* any file-system
access, and refused with one message whatever the file is (``PATH_REFUSED``). A path inside them is
resolved (symbolic links included) and checked again, then opened without blocking and without
following a final link; only a regular file no larger than the cap is read, within the time left.
Whatever goes wrong then, the user gets one generic message (``PathUnusable``); the detail goes to
this module's logger (``app_connections.paths``), never the file's contents.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import time
from collections.abc import Iterable

from .errors import FieldError, PathRefused, PathUnusable

log = logging.getLogger(__name__)

PATH_REFUSED = "is not a path this host allows (the host's policy names the directories it may be in)"
"""The one message of a refused path: the same for a missing file, a directory, a secret file, a
relative path or a link."""
PATH_UNUSABLE = "names a file that cannot be used; the host's log says why"
_CHUNK = 64 * 1024


def lexically_within(path: str, roots: Iterable[str]) -> bool:
    """True when ``path`` is absolute, names no ``..`` and lies in one of ``roots``; touches no file."""
    if not isinstance(path, str) or not path or "\x00" in path or not os.path.isabs(path):
        return False
    if ".." in path.replace("\\", "/").split("/"):
        return False
    normal = os.path.normpath(path)
    return any(root == os.sep or normal == root or normal.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def refused(field: str) -> PathRefused:
    """The error of a path outside what the host allows (one message, no path in it)."""
    return PathRefused(errors=[FieldError(field, PATH_REFUSED)])


def check_path(field: str, path: str, roots: Iterable[str]) -> str:
    """``path`` resolved, when it and its resolution lie in ``roots`` (resolved directories); else
    ``PathRefused``. Outside ``roots`` nothing of the file system is touched; inside, the path's
    links are resolved (no file is opened)."""
    roots = tuple(roots)
    if not lexically_within(path, roots):
        raise refused(field)
    real = os.path.realpath(path)
    if not lexically_within(real, roots):
        log.info("%s: refused, its links lead out of the allowed directories", field)
        raise refused(field)
    return real


def read_path(
    field: str,
    path: str,
    roots: Iterable[str],
    *,
    max_bytes: int,
    seconds: float | None = None,
) -> bytes:
    """The content of the regular file ``path`` names (at most ``max_bytes``), read within
    ``seconds`` (None: no deadline). ``PathRefused`` outside ``roots``; ``PathUnusable`` (one
    message) when it cannot be used: missing, not a regular file (a FIFO or device is never
    waited on), too large, unreadable, or out of time. The reason is logged, not shown."""
    roots = tuple(roots)
    real = check_path(field, path, roots)
    start = time.monotonic()

    def unusable(reason: str) -> PathUnusable:
        log.warning("%s: the file cannot be used: %s", field, reason)
        return PathUnusable(errors=[FieldError(field, PATH_UNUSABLE)])

    if seconds is not None and seconds <= 0:
        raise unusable("no time left before the operation's deadline")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise unusable(_describe(exc)) from None
    try:
        opened = _opened_path(fd)  # a directory on the way swapped for a link after the check
        if opened is not None and not lexically_within(opened, roots):
            raise unusable("it was moved out of the allowed directories while it was opened")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise unusable("not a regular file (a directory, FIFO, socket or device)")
        if info.st_size > max_bytes:
            raise unusable(f"larger than {max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            if seconds is not None and time.monotonic() - start > seconds:
                raise unusable("the operation's deadline passed while reading")
            try:
                chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - size))
            except OSError as exc:
                raise unusable(_describe(exc)) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise unusable(f"larger than {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _opened_path(fd: int) -> str | None:
    """The path the kernel opened for ``fd`` (Linux: ``/proc/self/fd``), None where it does not say."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


def _describe(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return f"{name} ({os.strerror(exc.errno)})" if exc.errno else name
