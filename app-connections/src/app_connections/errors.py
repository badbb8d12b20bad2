"""One error hierarchy for everything the host kit and its providers raise on purpose.

Every error carries a message that says what to fix, plus fields a host can show:
``code`` (the remote service's error code when there is one), ``field`` (the input at fault),
``correlation_id`` / ``trace_id`` (for a support ticket). Messages never contain
secrets, authorization codes or tokens.

Every class declares, once, as class attributes, what a host needs to answer for it:
``category`` (one of ``CATEGORIES``), the suggested ``http_status`` and ``retryable``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import attrs

from .jsontypes import JSONObject

CATEGORIES: dict[str, tuple[int, str]] = {
    "invalid_input": (400, "the input is wrong (a field, a file, an endpoint): the user fixes it"),
    "unauthenticated": (
        401,
        "the connection's credentials were refused or no longer work: the user signs in again or fixes them",
    ),
    "forbidden": (403, "the identity is known but not allowed (declined, no consent): someone must grant it"),
    "not_found": (404, "what the input names (tenant, app) does not exist"),
    "conflict": (409, "the request clashes with state: a one-time step already done, a guard that refuses"),
    "throttled": (429, "the service asked to slow down: retry after a wait"),
    "unavailable": (503, "a service did not answer usably (down, too slow, a bad or foreign answer)"),
    "internal": (500, "the host's own setup or a bug (missing settings, app registration): the operator fixes it"),
}
"""Each error category: its usual HTTP status and what it means (whose move it is)."""


class AppConnectionError(Exception):
    """Base class of every error this package raises on purpose."""

    category: ClassVar[str] = "internal"
    """What kind of failure it is, one of ``CATEGORIES``: how a host should answer it."""
    http_status: ClassVar[int] = 500
    """The HTTP status a host answering a request with this error should use."""
    retryable: ClassVar[bool] = False
    """True when the same request may succeed later without any change (throttling, outages, deadlines)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.category not in CATEGORIES:
            raise TypeError(f"{cls.__qualname__}.category must be one of {sorted(CATEGORIES)}, not {cls.category!r}")
        if not 400 <= cls.http_status <= 599:
            raise TypeError(f"{cls.__qualname__}.http_status must be an HTTP error status, not {cls.http_status!r}")

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        correlation_id: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.correlation_id = correlation_id
        self.trace_id = trace_id

    def __str__(self) -> str:
        extra = [f"{k}: {v}" for k, v in (("code", self.code), ("correlation ID", self.correlation_id)) if v]
        return self.message + (f" ({'; '.join(extra)})" if extra else "")

    def to_dict(self) -> JSONObject:
        """The error as JSON: type, message, category, HTTP status, retryable, and code, field and IDs when set."""
        out: JSONObject = {
            "error": type(self).__name__,
            "message": self.message,
            "category": self.category,
            "http_status": self.http_status,
            "retryable": self.retryable,
        }
        for key in ("code", "field", "correlation_id", "trace_id"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@attrs.frozen
class FieldError:
    """One field's problem: the field's name and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidInput(AppConnectionError):
    """Input that does not parse. ``errors`` lists every bad field, not just the first."""

    category = "invalid_input"
    http_status = 400

    def __init__(
        self, message: str | None = None, *, errors: Iterable[FieldError] = (), field: str | None = None
    ) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        if message is None:
            message = "invalid input: " + "; ".join(str(e) for e in self.errors)
        if field is None and len(self.errors) == 1:
            field = self.errors[0].field
        super().__init__(message, field=field)

    def to_dict(self) -> JSONObject:
        """The error as JSON, each field's problem listed under ``errors``."""
        out = super().to_dict()
        if self.errors:
            out["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return out


class UnknownAuthMethod(InvalidInput):
    """The connection type has no auth method of that slug."""


class FlowStateError(AppConnectionError):
    """A flow store refused an OAuth flow: its one-time ticket was already spent (a replay)."""

    category = "conflict"
    http_status = 409


class SettingsError(InvalidInput):
    """Instance settings (environment variables) are missing or malformed."""

    category = "internal"  # the operator's settings, not the user's input
    http_status = 500


class RotationNotSaved(AppConnectionError):
    """The host's ``on_rotate`` raised: the rotated credentials were not saved. The credential keeps
    them in memory and calls ``on_rotate`` again on its next token request (or ``save_rotation()``);
    ``cause`` is what the callback raised (``Type: message``, no token in it)."""

    retryable = True

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message, code="rotation_not_saved")
        self.cause = cause


class MethodDisabled(UnknownAuthMethod):
    """The host's policy disabled this auth method (``HostPolicy``); the message says how the host enables it."""


class PathRefused(InvalidInput):
    """A path-like field names a path outside the directories the host's policy allows (one message,
    whatever the file is)."""


class PathUnusable(InvalidInput):
    """A path-like field names an allowed path whose file cannot be used (one message; the reason is
    in the host's log)."""
