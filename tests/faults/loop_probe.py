"""Measuring an event loop while async work runs: heartbeat lag and the threads in use."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

import attrs

T = TypeVar("T")
BEAT_SECONDS = 0.005


@attrs.define
class Probe:
    """What the heartbeat saw: its worst lag and the most threads alive (the stand-ins' own excluded)."""

    max_lag: float = 0.0
    max_threads: int = 0
    beats: int = 0


def client_threads() -> int:
    """Threads of this process that are not a stand-in server's (one per connection it serves)."""
    return sum(
        1
        for t in threading.enumerate()
        if "process_request_thread" not in t.name and t.name != "local-https" and "serve_forever" not in t.name
    )


async def _beat(probe: Probe, stop: asyncio.Event) -> None:
    while not stop.is_set():
        start = time.monotonic()
        await asyncio.sleep(BEAT_SECONDS)
        probe.max_lag = max(probe.max_lag, time.monotonic() - start - BEAT_SECONDS)
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
