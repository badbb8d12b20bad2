"""Measuring an event loop while async work runs: heartbeat lag and the threads in use."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs

T = TypeVar("T")
BEAT_SECONDS = 0.005
TRACED = "coverage" in sys.modules
"""Measured by coverage.py (CI's run): its tracer about doubles the CPU of every Python line."""
MAX_LAG = 0.02 * (2 if TRACED else 1)
"""The most CPU the loop's thread may spend between two beats: no code ran on the loop longer
(20 ms; twice that under coverage's tracer)."""
MAX_STALL = 0.1
"""The most a beat may be late by the clock. The machine is shared: an idle loop here lags up to
~20 ms (other processes hold the cores), so the clock alone cannot show 20 ms; a request waited for on
the loop (the stand-ins answer in 0.2-0.3 s) lags more than this, every time."""
ATTEMPTS = 3


@attrs.define
class Probe:
    """What the heartbeat saw: its worst lag and the most threads alive (the stand-ins' own excluded)."""

    max_lag: float = 0.0
    """The latest beat, by the clock."""
    max_busy: float = 0.0
    """The most CPU the loop's thread spent between two beats (``time.thread_time``)."""
    max_threads: int = 0
    beats: int = 0

    @property
    def ok(self) -> bool:
        """Never busy for ``MAX_LAG``, never stalled for ``MAX_STALL``."""
        return self.max_busy < MAX_LAG and self.max_lag < MAX_STALL


def client_threads() -> int:
    """Threads of this process that are not a stand-in server's (one per connection it serves)."""
    return sum(
        1
        for t in threading.enumerate()
        if "process_request_thread" not in t.name and t.name != "local-https" and "serve_forever" not in t.name
    )


async def _beat(probe: Probe, stop: asyncio.Event) -> None:
    while not stop.is_set():
        start, cpu = time.monotonic(), time.thread_time()
        await asyncio.sleep(BEAT_SECONDS)
        probe.max_lag = max(probe.max_lag, time.monotonic() - start - BEAT_SECONDS)
        probe.max_busy = max(probe.max_busy, time.thread_time() - cpu)
        probe.max_threads = max(probe.max_threads, client_threads())
        probe.beats += 1


async def watched(work: Awaitable[T]) -> tuple[T, Probe]:
    """``await work`` with a heartbeat every 5 ms beside it."""
    probe, stop = Probe(), asyncio.Event()
    beat = asyncio.ensure_future(_beat(probe, stop))
    await asyncio.sleep(0)
    try:
        return await work, probe
    finally:
        stop.set()
        await beat


async def cancelled_after(work: Awaitable[Any], delay: float) -> float:
    """Start ``work``, cancel it after ``delay``; the monotonic time of the cancel (``work`` has ended)."""
    task = asyncio.ensure_future(work)
    await asyncio.sleep(delay)
    task.cancel()
    at = time.monotonic()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return at


def least_lag(run: Callable[[], tuple[T, Probe]]) -> tuple[T, Probe]:
    """``run()`` (an ``asyncio.run`` of ``watched(...)``) until its probe is ``ok``, at most ``ATTEMPTS``
    times (a busy neighbour can stall one run; blocking on the loop stalls every run); the best one."""
    best: tuple[T, Probe] | None = None
    for _ in range(ATTEMPTS):
        result = run()
        if best is None or (result[1].max_busy, result[1].max_lag) < (best[1].max_busy, best[1].max_lag):
            best = result
        if best[1].ok:
            break
    assert best is not None
    return best
