"""One error hierarchy for everything the host kit and its providers raise on purpose.

Every error carries a message that says what to fix, plus fields a host can show:
``code`` (the remote service's error code when there is one), ``field`` (the input at fault),
``correlation_id`` / ``trace_id`` (for a support ticket). Messages never contain
secrets, authorization codes or tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs


class AppConnectionError(Exception):
    """Base class of every error this package raises on purpose."""

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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        for key in ("code", "field", "correlation_id", "trace_id"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@attrs.frozen
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidInput(AppConnectionError):
    """Input that does not parse. ``errors`` lists every bad field, not just the first."""

    def __init__(
        self, message: str | None = None, *, errors: Iterable[FieldError] = (), field: str | None = None
    ) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        if message is None:
            message = "invalid input: " + "; ".join(str(e) for e in self.errors)
        if field is None and len(self.errors) == 1:
            field = self.errors[0].field
        super().__init__(message, field=field)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.errors:
            out["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return out


class UnknownAuthMethod(InvalidInput):
    """The connection type has no auth method of that slug."""


class FlowStateError(AppConnectionError):
    """A flow store refused an OAuth flow: its one-time ticket was already spent (a replay)."""


class SettingsError(InvalidInput):
    """Instance settings (environment variables) are missing or malformed."""


class MethodDisabled(UnknownAuthMethod):
    """The host's policy disabled this auth method (``HostPolicy``); the message says how the host enables it."""


class PathRefused(InvalidInput):
    """A path-like field names a path outside the directories the host's policy allows (one message,
    whatever the file is)."""


class PathUnusable(InvalidInput):
    """A path-like field names an allowed path whose file cannot be used (one message; the reason is
    in the host's log)."""
