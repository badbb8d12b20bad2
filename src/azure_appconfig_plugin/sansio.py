"""One set of rules for the sync and the async paths: the rules are written once as coroutines that
await their I/O, and the sync path runs them with I/O that never suspends (``run_now``)."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TypeVar

T = TypeVar("T")


def run_now(coro: Coroutine[object, None, T]) -> T:
    """The result of a coroutine that never suspends (every await in it is sync work)."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value  # StopIteration.value is the coroutine's result
        return result
    coro.close()
    raise RuntimeError("run_now: the coroutine suspended; it must only await sync work")
