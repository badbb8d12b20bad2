"""One set of rules for the sync and the async paths: the rules are written once as coroutines that
await their I/O, and the sync path runs them with I/O that never suspends (``run_now``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


def run_now(coro: Coroutine[object, None, T]) -> T:
    """The result of a coroutine that never suspends (every await in it is sync work)."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value  # StopIteration.value is the coroutine's result
        return result
    coro.close()
    raise RuntimeError("run_now: the coroutine suspended; it must only await sync work")


def awaitable(func: Callable[P, T]) -> Callable[P, Coroutine[object, object, T]]:
    """``func`` as a coroutine function that runs it at once (for rules that ``run_now`` drives)."""

    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return func(*args, **kwargs)

    return call
