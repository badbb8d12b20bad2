"""What the command-line modules share: exit codes, JSON output, the registry the parser was built
from, the rotation writer and the progress line (the sub-command modules import this, never ``cli``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from app_connections.policy import HostPolicy

if TYPE_CHECKING:
    from app_connections.auth_method import Credentials, RotateCallback
    from app_connections.jsontypes import JSONValue
    from app_connections.loader import Registry

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CONNECTION_TYPE = "azure-app-configuration"
BAR_WIDTH = 30


def print_json(data: JSONValue, out: TextIO) -> None:
    """Write ``data`` to ``out`` as indented JSON and a newline."""
    json.dump(data, out, indent=2, sort_keys=False)
    out.write("\n")


def loaded_registry(args: argparse.Namespace) -> Registry:
    """The registry the parser was built from; loaded again (raising the typed error, e.g. a
    malformed allow-list) when plugins could not load then."""
    if getattr(args, "registry", None) is None:
        from app_connections.loader import load_plugins

        args.registry = load_plugins(policy=HostPolicy.operator())
    registry: Registry = args.registry
    return registry


def rotation_writer(path: str, err: TextIO) -> RotateCallback:
    """An ``on_rotate`` that saves rotated credentials to ``path`` (mode 0600) and says so on ``err``."""
    from .credentials_file import write_credentials

    def on_rotate(credentials: Credentials) -> None:
        write_credentials(path, credentials.to_dict())
        err.write(f"note: Azure rotated the refresh token; {path} was updated.\n")

    return on_rotate


class ProgressLine:
    """One line on stderr, redrawn at most ten times a second: the listing, writes done/total (a bar)
    and throttled waits (``asked to wait 5 s``). Only drawn on a terminal (``progress_line``)."""

    def __init__(self, stream: TextIO, label: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.label, self._clock = stream, label, clock
        self._last, self._width, self._bar, self._note = float("-inf"), 0, "", ""
        self._pending = False

    def __call__(self, done: int, total: int) -> None:
        """Writes (and deletes) done of ``total``."""
        filled = BAR_WIDTH * done // max(total, 1)
        self._bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}"
        self._draw(final=done >= total)

    def status(self, text: str) -> None:
        """A status (the listing's progress, a throttled wait) shown after the bar until the next one."""
        self._note = text
        self._draw(final=False, force=text.startswith(("throttled", "retrying")))

    def wait(self, seconds: float, status: int | None) -> None:
        """A retry wait of the store client (``http.retry.waits_reported``), shown with its unit."""
        if status in (429, 503):
            self.status(f"throttled ({status}): asked to wait {seconds:g} s")
        else:
            self.status(f"retrying in {seconds:.1f} s")

    def _draw(self, *, final: bool, force: bool = False) -> None:
        now = self._clock()
        if not (final or force) and now - self._last < 0.1:
            self._pending = True
            return
        self._last, self._pending = now, False
        line = " ".join(part for part in (self.label, self._bar, "" if final else self._note) if part)
        self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
        self._width = len(line)
        if final:
            self.stream.write("\n")
            self._width = 0
        self.stream.flush()

    def close(self) -> None:
        """End a line left open (a run that ended while listing or waiting), with its last state."""
        if self._pending:
            self._draw(final=False, force=True)
        if self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def progress_line(args: argparse.Namespace, label: str, stream: TextIO | None = None) -> ProgressLine | None:
    """A progress line on stderr, or None: with ``--json``, or when stderr is not a terminal."""
    err = stream or sys.stderr
    return ProgressLine(err, label) if not args.json and err.isatty() else None
