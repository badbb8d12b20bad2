"""Operation deadlines: ``operation_deadline(seconds)`` bounds every request made inside it, by this
thread or this asyncio task (the HTTP policy cuts off or refuses to send what would outlive it);
``Deadline`` keeps the real numbers (its length, when it started) so a report can say which
deadline passed and when. ``bounded_by(limit)`` runs a call inside the deadline of one of the
limits; ``deadline_exceeded`` is the error of a request a deadline stopped.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import time
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import attrs

from ..errors import AppConnectionError
from .errors import DeadlineExceeded
from .limits import LIMITS, configured_limits, current_limits
from .pin import host_port

_operation: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("operation_deadline", default=None)
# A context variable, not a thread-local: per thread for the sync clients and per task for the async
# ones (an asyncio task, or a thread an async host offloads to with the caller's context, sees its bounds).


@attrs.frozen
class Deadline:
    """One deadline: the limit it comes from (``name``; "" for one set by a caller), when it
    started (``time.monotonic()``), its length in seconds and the moment it passes."""

    name: str
    start: float
    seconds: float

    @property
    def at(self) -> float:
        """The moment it passes (``time.monotonic()``)."""
        return self.start + self.seconds

    def elapsed(self, now: float | None = None) -> float:
        """Seconds since it started, at ``now`` (``time.monotonic()`` by default)."""
        return (time.monotonic() if now is None else now) - self.start

    @property
    def title(self) -> str:
        """How messages name it: ``the validation deadline (validation_seconds)``."""
        titles = {
            "validation_seconds": "the validation deadline",
            "store_request_seconds": "the store deadline",
            "token_request_seconds": "the token deadline",
        }
        if not self.name:
            return "the operation's deadline"
        return f"{titles.get(self.name, 'the deadline')} ({self.name})"


def current_deadline() -> Deadline | None:
    """The ``operation_deadline`` in force here (the earliest of nested ones), or None."""
    return _operation.get()


def deadline_passed() -> Deadline | None:
    """The operation deadline in force when it has passed, else None (checks not run then
    are reported as inconclusive, with its numbers: ``deadline_note``)."""
    current = current_deadline()
    return current if current is not None and time.monotonic() >= current.at else None


def seconds_text(value: float) -> str:
    """Seconds as shown in messages: ``0.04``, ``1.5``, ``120`` (never a misleading ``0``)."""
    if value >= 10:
        return f"{round(value):g}"
    if value >= 1:
        return f"{round(value, 1):g}"
    return f"{max(round(value, 3), 0.001):g}"


def deadline_note(deadline: Deadline) -> str:
    """``the validation deadline (validation_seconds) of 1.5 s had passed (1.52 s elapsed)``."""
    elapsed = seconds_text(deadline.elapsed())
    return f"{deadline.title} of {seconds_text(deadline.seconds)} s had passed ({elapsed} s elapsed)"


@contextlib.contextmanager
def operation_deadline(seconds: float, *, name: str = "") -> Iterator[float]:
    """No request made inside the block (by this thread, or this asyncio task) outlives ``seconds``
    from now (nested: the earlier wins).

    ``name`` is the limit it comes from (``validation_seconds``), shown in deadline messages."""
    outer = _operation.get()
    mine = Deadline(name, time.monotonic(), seconds)
    chosen = mine if outer is None or mine.at < outer.at else outer
    token = _operation.set(chosen)
    try:
        yield chosen.at
    finally:
        _operation.reset(token)


def remaining(default: float) -> float:
    """Seconds left for a request that may take ``default``: bounded by any ``operation_deadline``."""
    deadline = current_deadline()
    return default if deadline is None else min(default, deadline.at - time.monotonic())


REQUEST_LIMIT = {
    "token": "token_request_seconds",
    "identity": "token_request_seconds",
    "store": "store_request_seconds",
}
"""The limit bounding one request of each kind of HTTP policy session."""


def binding_deadline(kind: str, budget: float) -> Deadline:
    """The deadline that bounds a ``kind`` request starting now: its own (``budget`` seconds) or the
    operation's, if that passes earlier."""
    now = time.monotonic()
    operation = current_deadline()
    if operation is not None and operation.at < now + budget:
        return operation
    return Deadline(REQUEST_LIMIT.get(kind, ""), now, budget)


def deadline_message(kind: str, where: str, seconds: float, binding: Deadline, *, sent: bool) -> str:
    """What a ``kind`` request to ``where`` (``host:port``) that had ``seconds`` left says when
    ``binding`` stopped it: cut off (``sent``) or never sent. The numbers are the real ones: the
    deadline's length and the time elapsed since it started, never the budget of another limit."""
    if not sent:
        message = f"the {kind} request to {where} was not sent: {deadline_note(binding)}"
    elif binding.name == REQUEST_LIMIT.get(kind):  # the request's own deadline (a store call's covers its retries)
        message = (
            f"{where} did not deliver its whole answer within {seconds_text(binding.seconds)} s (the {kind} deadline)"
        )
    else:
        message = (
            f"{where} did not deliver its whole answer within the {seconds_text(seconds)} s left of "
            f"{binding.title} ({seconds_text(binding.seconds)} s, {seconds_text(binding.elapsed())} s elapsed)"
        )
    cut = "; the request was cut off" if sent else ""
    return f"{message}{cut}. Retry later, or raise the limit (docs/limits.md)"


def deadline_exceeded(kind: str, url: str, seconds: float, binding: Deadline, *, sent: bool = True) -> DeadlineExceeded:
    """The error for a ``kind`` request to ``url`` cut off (``sent``) or never sent because ``binding`` had passed."""
    host, port = host_port(url)
    return DeadlineExceeded(
        deadline_message(kind, f"{host}:{port}", seconds, binding, sent=sent),
        deadline=binding.name,
        budget=binding.seconds,
        elapsed=binding.elapsed(),
        sent=sent,
    )


P = ParamSpec("P")
R = TypeVar("R")


def bounded_by(limit: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: the call runs inside ``operation_deadline(<limit> of current_limits())``."""
    if limit not in {lim.name for lim in LIMITS}:
        raise ValueError(f"unknown limit {limit!r}")

    def wrap(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def bounded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                limits = current_limits()
            except AppConnectionError:  # a malformed override: each request reports it; bound by the rest
                limits = configured_limits()
            with operation_deadline(float(getattr(limits, limit)), name=limit):
                return func(*args, **kwargs)

        return bounded

    return wrap
