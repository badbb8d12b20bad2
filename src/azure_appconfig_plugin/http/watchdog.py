"""The watchdog of the sync transport: ``Watch`` shuts every connection a request uses when its
deadline passes (so a server sending one byte every few seconds is cut off), and one daemon thread
(``Watchdog``) fires every expired watch."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

local = threading.local()
"""The request a thread is sending (``Watch``): the sync transport's own bookkeeping."""


class Watchdog:
    """One daemon thread that fires every expired ``Watch`` (a thread per request would cost ~0.5 ms each)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None

    def add(self, watch: Watch) -> None:
        """Fire ``watch`` when it expires (unless it is done by then); starts the thread on first use."""
        import heapq

        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (watch.expires, self._seq, watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="http-policy-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0][2] is watch:  # wake the thread only when it must fire earlier than planned
                self._cond.notify()

    def _run(self) -> None:
        import heapq

        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(5)
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                _, _, watch = heapq.heappop(self._heap)
            watch.fire()


WATCHDOG = Watchdog()


class Watch:
    """Shuts every connection a request uses when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + max(seconds, 0)
        self.expired = False
        self.done = False
        self._lock = threading.Lock()
        self._conns: list[object] = []

    def __enter__(self) -> Watch:
        local.watch = self
        WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.done = True
        local.watch = None

    def track(self, conn: object) -> None:
        """Shut ``conn`` with the others when the deadline passes (at once if it has)."""
        with self._lock:
            self._conns.append(conn)
            if self.expired:
                shut(conn)

    def fire(self) -> None:
        """The deadline passed: mark the request expired and shut its connections."""
        with self._lock:
            if self.done:
                return
            self.expired = True
            for conn in self._conns:
                shut(conn)


def shut(conn: object) -> None:
    """Shut ``conn``'s socket both ways (a blocked read returns), if it has one."""
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
