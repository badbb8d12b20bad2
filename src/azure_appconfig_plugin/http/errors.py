"""The HTTP policy's errors: ``HttpPolicyError`` and its kinds, and ``policy_error`` that finds one
inside an SDK exception. Both transports raise them."""

from __future__ import annotations

from ..errors import AppConnectionError


class HttpPolicyError(AppConnectionError):
    """A request stopped by the HTTP policy (never retried by the policy itself)."""

    category = "unavailable"  # the remote side gave no usable answer
    http_status = 502


class DeadlineExceeded(HttpPolicyError):
    """The answer did not arrive completely within the deadline, or the request was not sent
    because the deadline had already passed (``sent`` False). ``deadline`` names the limit that
    ran out (``validation_seconds``, ``store_request_seconds``, ...), ``budget`` is its length
    and ``elapsed`` the seconds since it started, both in seconds."""

    http_status = 504
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        deadline: str = "",
        budget: float = 0.0,
        elapsed: float = 0.0,
        sent: bool = True,
        code: str = "deadline_exceeded",
    ) -> None:
        super().__init__(message, code=code)
        self.deadline = deadline
        self.budget = budget
        self.elapsed = elapsed
        self.sent = sent


class ResponseTooLarge(HttpPolicyError):
    """The answer's body exceeded ``max_response_bytes``."""


class ForeignHostRefused(HttpPolicyError):
    """A response-directed URL (redirect, next link, Operation-Location) named another host, or an
    address that cannot be used (it is never the pinned host)."""


class RedirectRefused(ForeignHostRefused):
    """A redirect answer (``status``) whose Location is another host or an unusable address: refused
    as it arrived, before any library parsed the Location further. ``location_host`` is the
    Location's host as shown (bounded, control characters stripped, no user info)."""

    def __init__(self, message: str, *, status: int, location_host: str, code: str = "foreign_host") -> None:
        super().__init__(message, code=code)
        self.status = status
        self.location_host = location_host


class MalformedAnswer(HttpPolicyError):
    """An identity-platform answer that is not the JSON object it must be, or has a field of the wrong type."""


def policy_error(exc: BaseException | None) -> HttpPolicyError | None:
    """The ``HttpPolicyError`` behind ``exc`` (itself, its cause/context or an SDK's inner exception)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, HttpPolicyError):
            return exc
        seen.add(id(exc))
        exc = getattr(exc, "inner_exception", None) or exc.__cause__ or exc.__context__
    return None
