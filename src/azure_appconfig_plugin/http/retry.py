"""The capped retry policy of every store client, sync and async: server-requested waits capped
(``retry_after_max_seconds``) and budgeted (``retry_wait_budget_seconds``), no retry past the
deadline, an untrusted certificate never retried; ``waits_reported`` tells a caller of each wait.
``retry_after_seconds`` is the one reader of a server's requested wait (the sync engine uses it too)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from .answers import untrusted_certificate
from .deadlines import operation_deadline, remaining
from .limits import Limits, current_limits

if TYPE_CHECKING:
    from azure.core.pipeline import PipelineRequest, PipelineResponse
    from azure.core.pipeline.policies import AsyncRetryPolicy, RetryPolicy
    from azure.core.pipeline.policies._retry import RetryPolicyBase  # the base both retry policies share
    from azure.core.pipeline.transport import AsyncHttpTransport, HttpTransport
    from azure.core.rest import AsyncHttpResponse, HttpRequest, HttpResponse

    from .pace import Pace

    _RulesBase = RetryPolicyBase
else:
    _RulesBase = object  # a mixin: azure-core's retry policies are its bases, imported on first use

RETRY_AFTER_HEADERS = (("retry-after-ms", "ms"), ("x-ms-retry-after-ms", "ms"), ("Retry-After", "s"))
"""The headers a server asks for a wait with, in the order they are read, and their units."""


class HeaderLookup(Protocol):
    """What ``retry_after_seconds`` reads: headers looked up by name (a mapping, an SDK's headers)."""

    def get(self, key: str, /) -> object:
        """The value of header ``key``, or None."""


class Answer(Protocol):
    """What the retry policy reads of an answer: its status and headers (azure-core's ``HttpResponse``)."""

    @property
    def status_code(self) -> int:
        """The HTTP status."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers."""


@runtime_checkable
class Answered(Protocol):
    """A pipeline response (azure-core's ``PipelineResponse``): what answered is its ``http_response``."""

    @property
    def http_response(self) -> Answer:
        """The answer."""


def retry_after_seconds(headers: HeaderLookup, *, now: Callable[[], float] = time.time) -> float | None:
    """The wait ``headers`` ask for, in seconds: ``retry-after-ms`` / ``x-ms-retry-after-ms``
    (milliseconds) or ``Retry-After`` (seconds, or an HTTP date: the time until it, at least 0).
    A value that does not parse, or is negative or NaN, is passed over; None when none is usable."""
    for name, unit in RETRY_AFTER_HEADERS:
        raw = headers.get(name)
        if raw is None:
            continue
        text = str(raw).strip()
        try:
            value = float(text) * (0.001 if unit == "ms" else 1.0)
        except ValueError:
            until = _seconds_until(text, now()) if unit == "s" else None
            if until is None:
                continue
            value = until
        if value >= 0:
            return value
    return None


def _seconds_until(http_date: str, now: float) -> float | None:
    """Seconds from ``now`` (a Unix time) to ``http_date`` (at least 0), or None when it is no HTTP date."""
    import datetime
    import email.utils

    try:
        moment = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # ``-0000``: UTC, as HTTP dates are
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, moment.timestamp() - now)


WaitReport = Callable[[float, "int | None"], None]
"""Told of a retry wait before it starts: its seconds, and the status that asked for it (429, 503) or None."""

_on_wait_var: contextvars.ContextVar[WaitReport | None] = contextvars.ContextVar("http_retry_on_wait", default=None)
# A context variable, not a thread-local: per thread for the sync clients and per task for the async
# ones (an asyncio task, or a thread an async host offloads to, sees the reporter of its caller).


@contextlib.contextmanager
def waits_reported(report: WaitReport) -> Iterator[None]:
    """Every retry wait the store clients make in this thread (or task) inside the block is told to
    ``report`` first (``azure-appconfig validate`` shows it on a terminal: ``asked to wait 5 s``)."""
    token = _on_wait_var.set(report)
    try:
        yield
    finally:
        _on_wait_var.reset(token)


class CappedRetryRules(_RulesBase):
    """The retry rules of every store client, sync or async (mixed into azure-core's ``RetryPolicy``
    and ``AsyncRetryPolicy``): server-requested waits capped and budgeted, no retry past the deadline,
    an untrusted certificate never retried."""

    def __init__(self, limits: Limits | None = None, *, pace: Pace | None = None, **kwargs: Any) -> None:
        self.fixed_limits = limits
        self.pace = pace
        super().__init__(**kwargs)

    def _limits(self) -> Limits:
        """The limits in force: the fixed ones, else ``current_limits()``."""
        return self.fixed_limits or current_limits()

    def get_retry_after(self, response: Answered) -> float | None:
        """The wait the answer asks for (``retry_after_seconds``), in place of azure-core's own reader."""
        from azure.core.utils import case_insensitive_dict

        return retry_after_seconds(case_insensitive_dict(response.http_response.headers))

    def get_backoff_time(self, settings: dict[str, object]) -> float:  # azure-core's settings
        """azure-core's exponential back-off, jittered (0.5x to 1.5x): clients that failed together
        do not retry together."""
        import random

        return float(super().get_backoff_time(settings)) * random.uniform(0.5, 1.5)

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:  # azure-core's
        """azure-core's rule, for the statuses it retries (408, 429, 500, 502-504) only: a conflict
        (409, 412) or any other refusal is an answer, even with a ``Retry-After``."""
        status = response.http_response.status_code
        if status not in TRANSIENT_STATUSES:
            return False
        if self.pace is not None and status == 429:  # counted by the pace, whatever is left of retry_total
            return bool(self._is_method_retryable(settings, response.http_request, response=response.http_response))
        return bool(super().is_retry(settings, response))

    def _planned_wait(self, settings: dict[str, object], response: object) -> float:
        """The wait a server asked for, else the jittered back-off."""
        asked = self.get_retry_after(response) if isinstance(response, Answered) else None
        return asked if asked else self.get_backoff_time(settings)

    def increment(
        self,
        settings: dict[str, object],
        response: PipelineRequest[Any] | PipelineResponse[Any, Any] | None = None,  # azure-core's own typing
        error: Exception | None = None,
    ) -> bool:
        """azure-core's count of one more attempt, then: False (no retry) for an untrusted certificate,
        a wait over ``retry_after_max_seconds`` or the call's wait budget (a
        paced 429: the run's, ``Pace.may_retry_throttled``), or one that outlives the deadline."""
        if error is not None and untrusted_certificate(error) is not None:
            return False  # a certificate does not become trusted by waiting: never retried
        throttled = None if self.pace is None else self.pace.throttled_call(response)
        settings["policy_paused"] = throttled is not None  # its wait is the run's pause: ``sleep`` sleeps none
        if throttled is not None:  # a paced call's 429s are counted by its pace, not by retry_total
            settings["total"] = _count(settings, "total") + 1
            settings["status"] = _count(settings, "status") + 1
        if not super().increment(settings, response=response, error=error):
            return False
        limits = self._limits()
        paused = None if self.pace is None else self.pace.pause_of(response)
        wait = paused if paused is not None else self._planned_wait(settings, response)
        settings["policy_next_wait"] = wait  # what ``sleep`` waits: the jittered back-off drawn once
        if wait > limits.retry_after_max_seconds:
            return False
        if wait >= remaining(math.inf):
            if self.pace is not None:
                self.pace.out_of_time()
            return False
        if throttled is None or self.pace is None:
            return _seconds(settings, "policy_waited") + wait <= limits.retry_wait_budget_seconds
        # azure-core just recorded this answer in its history; a paced 429's pause is the run's, and
        # must not lengthen the back-off of a later failure of this call
        cast("list[object]", settings["history"]).pop()
        return self.pace.may_retry_throttled(throttled, wait)  # the run's budget (max_wait), not the call's

    def _call_deadline(self) -> contextlib.AbstractContextManager[float]:
        """The whole call (every attempt and every wait) within ``store_request_seconds``; a paced
        call within its run's deadline instead (its turns in the queue and its pauses are the run's,
        bounded by ``max_wait``), each attempt still within ``store_request_seconds`` (the transport's)."""
        if self.pace is None:
            return operation_deadline(float(self._limits().store_request_seconds), name="store_request_seconds")
        return operation_deadline(self.pace.deadline - time.monotonic(), name="timeout")

    def _next_wait(self, settings: dict[str, object], response: object) -> float:
        """The wait before the next attempt, counted against the budget and told to ``waits_reported``;
        returns the seconds to sleep here: none for a paced 429, whose next attempt the pace holds
        until the run's pause ends (in the queue for a slot, in its turn)."""
        wait = _seconds(settings, "policy_next_wait")
        report = _on_wait_var.get()
        if wait > 0 and report is not None:
            answer = response.http_response if isinstance(response, Answered) else None  # None: a transport error
            report(wait, None if answer is None else int(answer.status_code))
        if settings.get("policy_paused") is True:
            return 0.0
        settings["policy_waited"] = _seconds(settings, "policy_waited") + wait
        return wait


TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""The statuses a store call is retried on (azure-core's list)."""


def _count(settings: Mapping[str, object], name: str) -> int:
    value = settings.get(name, 0)
    return value if isinstance(value, int) else 0


def _seconds(settings: Mapping[str, object], name: str) -> float:
    """Seconds the rules keep in azure-core's retry settings: ``policy_waited`` (the waits so far)
    or ``policy_next_wait`` (the one ``increment`` planned)."""
    value = settings.get(name, 0.0)
    return float(value) if isinstance(value, (int, float)) else 0.0


@functools.cache
def retry_policy_class() -> Callable[..., RetryPolicy[HttpRequest, HttpResponse]]:
    """``CappedRetryPolicy``: azure-core's ``RetryPolicy`` with ``CappedRetryRules``, built on first use."""
    from azure.core.pipeline.policies import RetryPolicy

    class CappedRetryPolicy(CappedRetryRules, RetryPolicy["HttpRequest", "HttpResponse"]):
        """azure-core's retry policy with server-requested waits capped and budgeted."""

        def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, HttpResponse]:
            with self._call_deadline():
                return super().send(request)

        def sleep(
            self,
            settings: dict[str, object],
            transport: HttpTransport[HttpRequest, HttpResponse],
            response: PipelineResponse[HttpRequest, HttpResponse] | None = None,
        ) -> None:
            wait = self._next_wait(settings, response)
            if wait > 0:
                transport.sleep(wait)

    return CappedRetryPolicy


@functools.cache
def async_retry_policy_class() -> Callable[..., AsyncRetryPolicy[HttpRequest, AsyncHttpResponse]]:
    """``CappedAsyncRetryPolicy``: azure-core's ``AsyncRetryPolicy`` with the same ``CappedRetryRules``."""
    from azure.core.pipeline.policies import AsyncRetryPolicy

    class CappedAsyncRetryPolicy(CappedRetryRules, AsyncRetryPolicy["HttpRequest", "AsyncHttpResponse"]):
        """azure-core's async retry policy with the sync one's rules: waits capped and budgeted."""

        async def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, AsyncHttpResponse]:
            with self._call_deadline():
                return await super().send(request)

        async def sleep(
            self,
            settings: dict[str, object],
            transport: AsyncHttpTransport[HttpRequest, AsyncHttpResponse],
            response: PipelineResponse[HttpRequest, AsyncHttpResponse] | None = None,
        ) -> None:
            wait = self._next_wait(settings, response)
            if wait > 0:
                await transport.sleep(wait)

    return CappedAsyncRetryPolicy


def call_seconds(current: Limits, pace: Pace | None) -> float:
    """azure-core's absolute timeout of one call: ``store_request_seconds``, or for a paced call
    what is left of its run (``CappedRetryRules._call_deadline``)."""
    return current.store_request_seconds if pace is None else max(0.0, pace.deadline - time.monotonic())


RetryOption = float | str
"""The value of an azure-core ``retry_*`` keyword: a count, seconds, or ``retry_mode``'s name."""

RETRY_OPTIONS = (
    "retry_total",
    "retry_connect",
    "retry_read",
    "retry_status",
    "retry_backoff_factor",
    "retry_backoff_max",
    "retry_mode",
)


def retry_settings(current: Limits, retry_options: Mapping[str, RetryOption]) -> dict[str, RetryOption]:
    """azure-core ``retry_*`` keywords for a store client: the defaults, ``retry_options`` (a
    ``TypeError`` for any other keyword), and never more retries than ``retry_total``, of any kind
    (connection, read, status) or in all; each kind may use all of them unless given."""
    unknown = set(retry_options) - set(RETRY_OPTIONS)
    if unknown:
        raise TypeError(f"not retry options: {sorted(unknown)}")
    settings: dict[str, RetryOption] = {
        "retry_total": int(current.retry_total),
        "retry_backoff_factor": 0.8,
        "retry_backoff_max": min(30, current.retry_after_max_seconds),
    }
    settings.update(retry_options)
    total = settings["retry_total"] = min(int(settings["retry_total"]), int(current.retry_total))
    for kind in ("retry_connect", "retry_read", "retry_status"):  # azure-core's own default for each is 3
        settings[kind] = min(int(settings.get(kind, total)), total)
    return settings
