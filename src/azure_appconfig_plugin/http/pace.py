"""One run's pacing of a store client's requests, as pipeline policies beside the capped retry: an
adaptive concurrency limit (halved on 429, grown back one by one), one pause for every request when
the store asks for a wait, one budget of throttling waits for the whole run, and a count of requests.

A sync run gives its ``Pace`` to the client (``store.make_client(pace=...)``); every attempt, first
or retried, goes through ``pace_policy`` (or its async twin), and ``CappedRetryRules`` asks the pace
whether a 429 may be retried. A caller sends each call inside ``counted(tries)`` and reads from its
``Tries`` what became of it.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import attrs

from .retry import retry_after_seconds

if TYPE_CHECKING:
    import asyncio

    from azure.core.pipeline import PipelineRequest, PipelineResponse
    from azure.core.pipeline.policies import AsyncHTTPPolicy, HTTPPolicy
    from azure.core.rest import AsyncHttpResponse, HttpRequest, HttpResponse

    from .retry import HeaderLookup

DEFAULT_CONCURRENCY = 32
MAX_CONCURRENCY = 128
THROTTLE_ATTEMPTS = 8
"""Attempts of one call the store may throttle (429) before it gives up; other failures are
retried ``retry_total`` times (``Limits``)."""
MAX_SINGLE_WAIT = 30.0
"""The longest pause one 429 imposes on the run."""
DEFAULT_MAX_WAIT = 120.0
DEFAULT_RETRY_AFTER = 1.0
"""The pause of a 429 that names no wait."""
BACKOFF_FACTOR = 0.125
"""azure-core's back-off factor for the sync's transient retries: 0 s, then 0.25, 0.5, 1 s (jittered)."""
BACKOFF_MAX = 8.0
HALVE_INTERVAL = 1.0
"""At most one halving per second: a burst of 429s answering requests sent together is one signal."""

StatusLine = Callable[[str], None]
"""A one-line status for an operator (``throttled (429): asked to wait 5 s``)."""


class AdaptiveLimit:
    """A concurrency limit that halves on 429 (once per burst: only for a request granted since the
    last halving, and at most once per ``halve_interval``) and grows by one after ``limit``
    successes; a 429 also holds every new request until the server's retry-after has passed.
    Waiters are threads (``acquire``) or tasks of one event loop (``aacquire``)."""

    def __init__(
        self, maximum: int, *, clock: Callable[[], float] = time.monotonic, halve_interval: float = HALVE_INTERVAL
    ) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.lowest = self.maximum
        self._active = 0
        self._streak = 0
        self._epoch = 0
        self._resume_at = 0.0
        self._halved_at = float("-inf")
        self._halve_interval = halve_interval
        self._clock = clock
        self._cond = threading.Condition()
        self._event: asyncio.Event | None = None

    def acquire(self, deadline: float) -> int | None:
        """Wait for a slot; the epoch the slot was granted in, or None when the deadline passed."""
        with self._cond:
            while True:
                granted, wake = self.try_acquire(deadline)
                if granted is not None or wake is None:
                    return granted
                self._cond.wait(timeout=wake)

    async def aacquire(self, deadline: float) -> int | None:
        """``acquire`` for a task: it awaits a change instead of blocking its thread."""
        import asyncio
        import contextlib

        while True:
            with self._cond:
                granted, wake = self.try_acquire(deadline)
                if self._event is None:
                    self._event = asyncio.Event()
                event = self._event
            if granted is not None or wake is None:
                return granted
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), wake)

    def try_acquire(self, deadline: float) -> tuple[int | None, float | None]:
        """A slot now: (its epoch, None); else (None, seconds to wait before asking again), or (None,
        None) once the deadline passed. Call it holding the lock (``acquire`` does)."""
        now = self._clock()
        if now >= deadline:
            return None, None
        if self._active < self.limit and now >= self._resume_at:
            self._active += 1
            return self._epoch, None
        wake = min(deadline, self._resume_at if now < self._resume_at else deadline) - now
        return None, max(0.001, min(wake, 0.5))

    def _changed(self) -> None:
        """Wake every waiter (the limit or the pause changed); called holding the lock."""
        self._cond.notify_all()
        if self._event is not None:  # the tasks waiting now; later ones wait on a new event
            self._event.set()
            self._event = None

    def release(self, *, success: bool) -> None:
        """Give a slot back; ``limit`` successes in a row grow the limit by one."""
        with self._cond:
            self._active -= 1
            if success:
                self._streak += 1
                if self._streak >= self.limit and self.limit < self.maximum:
                    self.limit += 1
                    self._streak = 0
            self._changed()

    def extension(self, wait: float) -> float:
        """How much longer than now planned a pause of ``wait`` seconds from now would hold everyone."""
        with self._cond:
            now = self._clock()
            return wait if self._resume_at <= now else max(0.0, now + wait - self._resume_at)

    def throttled(self, epoch: int, wait: float) -> None:
        """A 429 on a request granted in ``epoch``: halve once per epoch, pause everyone for ``wait``."""
        with self._cond:
            now = self._clock()
            if epoch == self._epoch and now - self._halved_at >= self._halve_interval:
                self._halved_at = now
                self.limit = max(1, self.limit // 2)
                self.lowest = min(self.lowest, self.limit)
                self._epoch += 1
            self._streak = 0
            self._resume_at = max(self._resume_at, now + wait)
            self._changed()


@attrs.define
class Tries:
    """What became of one call's attempts: how many were sent, and how many the store throttled."""

    attempts: int = 0
    throttled: int = 0
    out_of_time: bool = False
    """The retries stopped because the next wait would outlast the deadline."""
    epoch: int = 0
    """The adaptive limit's epoch of the last attempt's slot."""
    answered: int = 0
    """Attempts the store answered (any status)."""

    @property
    def retried(self) -> bool:
        """More than one attempt was sent."""
        return self.attempts > 1

    @property
    def only_throttled(self) -> bool:
        """Every attempt sent was answered 429: the store applied none of them."""
        return self.attempts == self.answered == self.throttled


_counted: contextvars.ContextVar[Tries | None] = contextvars.ContextVar("pace_tries", default=None)
# A context variable: per thread for the sync clients, per task for the async ones; a paced client's
# policies read the ``Tries`` of the call their thread or task is making.


@contextlib.contextmanager
def counted(tries: Tries) -> Iterator[Tries]:
    """The paced call made inside the block (by this thread, or this task) counts its attempts in ``tries``."""
    token = _counted.set(tries)
    try:
        yield tries
    finally:
        _counted.reset(token)


def _current() -> Tries:
    """The ``Tries`` of the call being made, or a fresh one for a call nobody counts."""
    return _counted.get() or Tries()


def throttled_text(wait: float) -> str:
    """The status line of a throttled wait, with its unit."""
    return f"throttled (429): asked to wait {wait:g} s"


def throttle_wait(headers: HeaderLookup) -> float:
    """The pause a 429 with ``headers`` imposes: the wait it asks for (``DEFAULT_RETRY_AFTER`` when it
    names none), at most ``MAX_SINGLE_WAIT``."""
    return min(MAX_SINGLE_WAIT, retry_after_seconds(headers) or DEFAULT_RETRY_AFTER)


class Pace:
    """One run's pacing, shared by all its requests: the adaptive limit, the run's ``deadline``
    (``time.monotonic()``), ``max_wait`` seconds of throttling waits in all, the requests sent."""

    def __init__(
        self,
        concurrency: int = DEFAULT_CONCURRENCY,
        *,
        deadline: float,
        max_wait: float = DEFAULT_MAX_WAIT,
        status: StatusLine | None = None,
        throttle_attempts: int = THROTTLE_ATTEMPTS,
    ) -> None:
        self.concurrency = max(1, min(MAX_CONCURRENCY, int(concurrency)))
        self.limit = AdaptiveLimit(self.concurrency)
        self.deadline = deadline
        self.max_wait = max_wait
        self.status = status
        self.throttle_attempts = throttle_attempts
        self.waited = 0.0
        self.throttles = 0
        self.requests = 0
        self.lock = threading.Lock()
        """Held while the status line or a caller's progress is drawn, so they never interleave."""

    def retry_options(self) -> dict[str, float]:
        """The azure-core ``retry_*`` keywords of a paced client: short jittered back-off."""
        return {"retry_backoff_factor": BACKOFF_FACTOR, "retry_backoff_max": BACKOFF_MAX}

    def may_retry_throttled(self, tries: Tries, wait: float) -> bool:
        """Whether a call throttled ``tries.throttled`` times may wait ``wait`` seconds and retry:
        fewer than ``throttle_attempts`` throttles, and the time its wait adds to the run's pause
        within what is left of ``max_wait`` (429s answered together share one pause, counted once).
        Then the whole run pauses, and a new pause (or one made a second longer) is told to
        ``status``; a 429 not retried pauses nobody. Either way the limit halves (once per burst)."""
        with self.lock:
            added = self.limit.extension(wait)
            if tries.throttled >= self.throttle_attempts or self.waited + added > self.max_wait:
                self.limit.throttled(tries.epoch, 0.0)
                return False
            self.waited += added
            if added >= min(wait, 1.0) and self.status is not None:  # a new pause, or one a second longer
                self.status(throttled_text(wait))
            self.limit.throttled(tries.epoch, wait)
        return True

    def throttled_call(self, response: object) -> Tries | None:
        """The ``Tries`` of the call ``response`` (a pipeline response) answers with a 429, else None."""
        return None if _throttled(response) is None else _counted.get() or Tries(attempts=1, throttled=1)

    def out_of_time(self) -> None:
        """Note on the current call's ``Tries`` that its retries stopped because the next wait
        would outlast the deadline."""
        _current().out_of_time = True

    def pause_of(self, response: object) -> float | None:
        """The run's pause for ``response`` when it is a 429 (``throttle_wait``), else None."""
        from azure.core.utils import case_insensitive_dict

        answer = _throttled(response)
        return None if answer is None else throttle_wait(case_insensitive_dict(answer.http_response.headers))

    def sent(self, tries: Tries, epoch: int) -> None:
        """Count one attempt of a call, sent in a slot of ``epoch``, in the run's requests and in its ``tries``."""
        with self.lock:
            self.requests += 1
        tries.attempts += 1
        tries.epoch = epoch

    def answered(self, tries: Tries, status: int) -> bool:
        """Count the answer (and a 429) in the call's ``tries`` and the run's; True when the attempt succeeded."""
        tries.answered += 1
        if status == 429:
            tries.throttled += 1
            with self.lock:
                self.throttles += 1
        return status < 300

    def too_late(self, tries: Tries) -> Exception:
        """The error of an attempt the run's deadline stopped before it was sent."""
        from .errors import DeadlineExceeded

        message = (
            "the run's deadline (timeout) passed before the request could be sent"
            if not tries.attempts
            else f"the run's deadline (timeout) passed before attempt {tries.attempts + 1} could be sent; "
            "an earlier attempt may have been applied (push again to re-plan)"
        )
        return DeadlineExceeded(message, deadline="timeout", sent=False)


def _throttled(response: object) -> PipelineResponse[object, HttpResponse | AsyncHttpResponse] | None:
    """``response`` when it is a pipeline response with a 429, else None."""
    from azure.core.pipeline import PipelineResponse

    if isinstance(response, PipelineResponse) and response.http_response.status_code == 429:
        return response
    return None


def pace_policy(pace: Pace) -> HTTPPolicy[HttpRequest, HttpResponse]:
    """The per-retry policy that runs each attempt of a sync client under ``pace``."""
    from azure.core.pipeline.policies import HTTPPolicy

    class PacePolicy(HTTPPolicy["HttpRequest", "HttpResponse"]):
        """Waits for a slot of the adaptive limit, sends, and tells the limit how it went."""

        def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, HttpResponse]:
            tries = _current()
            epoch = pace.limit.acquire(pace.deadline)
            if epoch is None:
                raise pace.too_late(tries)
            success = False
            try:
                pace.sent(tries, epoch)
                response = self.next.send(request)
                success = pace.answered(tries, response.http_response.status_code)
                return response
            finally:
                pace.limit.release(success=success)

    return PacePolicy()


def async_pace_policy(pace: Pace, *, starts_per_pass: int = 4) -> AsyncHTTPPolicy[HttpRequest, AsyncHttpResponse]:
    """``pace_policy`` for the aio client: tasks await their slot, and at most ``starts_per_pass``
    requests start in one pass of the event loop (``Pacer``)."""
    from azure.core.pipeline.policies import AsyncHTTPPolicy

    pacer = Pacer(starts_per_pass)

    class AsyncPacePolicy(AsyncHTTPPolicy["HttpRequest", "AsyncHttpResponse"]):
        """``PacePolicy`` on an event loop."""

        async def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, AsyncHttpResponse]:
            tries = _current()
            epoch = await pace.limit.aacquire(pace.deadline)
            if epoch is None:
                raise pace.too_late(tries)
            success = False
            try:
                await pacer.turn()
                pace.sent(tries, epoch)
                response = await self.next.send(request)
                success = pace.answered(tries, response.http_response.status_code)
                return response
            finally:
                pace.limit.release(success=success)

    return AsyncPacePolicy()


class Pacer:
    """At most ``per_pass`` request starts in one pass of the event loop: when many writers are ready at
    once (a page of answers arriving together), their CPU (pipeline, TLS handshake) is spread over
    several passes, so the loop's other tasks (a host's requests) wait milliseconds, not a burst."""

    def __init__(self, per_pass: int = 4) -> None:
        self.per_pass = per_pass
        self._used = 0
        self._reset_planned = False

    async def turn(self) -> None:
        """Wait for a pass with a start left, and take it."""
        import asyncio

        while self._used >= self.per_pass:
            await asyncio.sleep(0)
        self._used += 1
        if not self._reset_planned:
            self._reset_planned = True
            asyncio.get_running_loop().call_soon(self._reset)

    def _reset(self) -> None:
        self._used = 0
        self._reset_planned = False
