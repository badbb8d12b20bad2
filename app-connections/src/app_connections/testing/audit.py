"""Which files a block of code opens, seen through Python's audit hooks (``sys.addaudithook``).

An audit hook cannot be removed, so one is installed on first use for the whole process (a test
session) and does nothing while no block records. ``opened_files()`` records the ``open`` events
(``open()``, ``os.open``, ``io.open_code``) of the calling thread, or of every thread, that pass a
filter::

    with opened_files() as opened:
        ctype.parse("workload-identity", form, policy=policy)
    assert not [p for p in opened if not p.startswith(allowed)]
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

PathFilter = Callable[[str], bool]
_recorders: list[tuple[int | None, PathFilter | None, list[str]]] = []
_lock = threading.Lock()
_installed = False


# CPython runs audit hooks untraced (coverage cannot see this body when Python calls it); the
# tests call it directly as well, so what it records and what it skips is measured and asserted.
def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _recorders or not args:
        return
    target = args[0]
    if isinstance(target, int):  # os.open(..., dir_fd) or an fd: nothing to name
        return
    try:
        path = os.fsdecode(target)
    except (TypeError, ValueError):
        return
    me = threading.get_ident()
    with _lock:
        recorders = list(_recorders)
    for thread, keep, seen in recorders:
        if (thread is None or thread == me) and (keep is None or keep(path)):
            seen.append(path)


def install() -> None:
    """Install the process-wide hook (once; later calls do nothing)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    sys.addaudithook(_hook)


@contextlib.contextmanager
def opened_files(keep: PathFilter | None = None, *, all_threads: bool = False) -> Iterator[list[str]]:
    """The paths opened within the block (by this thread unless ``all_threads``), those for which
    ``keep(path)`` is true when a filter is given."""
    install()
    seen: list[str] = []
    entry = (None if all_threads else threading.get_ident(), keep, seen)
    with _lock:
        _recorders.append(entry)
    try:
        yield seen
    finally:
        with _lock:
            _recorders.remove(entry)
