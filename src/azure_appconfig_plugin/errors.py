"""One error hierarchy for everything this package raises on purpose.

Every error carries a message that says what to fix, plus fields a host can show:
``code`` (Azure's error code when there is one), ``field`` (the input at fault),
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


class EndpointRejected(InvalidInput):
    """A store endpoint failed the safety rules; no token is ever sent to it."""


class SettingsError(InvalidInput):
    """Instance settings (environment variables) are missing or malformed."""


class AuthError(AppConnectionError):
    """The Microsoft identity platform refused or failed a request.

    Which identity-platform codes raise which subclass is declared once, in
    ``auth.aad_errors.IDENTITY_ERRORS``; each class's ``codes`` is derived from that table.
    """

    transient = False
    """True when retrying later may succeed (throttling, outages)."""
    codes: tuple[str, ...] = ()
    """The codes (``AADSTS7000215``, ``access_denied``, ...) that raise this class; set from the table."""


class InvalidClientSecret(AuthError):
    """Wrong or expired client secret."""


class AppNotFound(AuthError):
    """No app with that client ID in the tenant."""


class TenantNotFound(AuthError):
    """Unknown tenant (also MSAL's ValueError at construction)."""


class ConsentRequired(AuthError):
    """The user or an admin has not consented to the permissions."""


class RedirectUriMismatch(AuthError):
    """The redirect URI is not registered on the app."""


class AuthorizationCodeInvalid(AuthError):
    """The authorization code expired or was already redeemed; start over."""


class AccessDenied(AuthError):
    """The user declined the consent screen."""


class OAuthStateError(AuthError):
    """Unknown, reused or expired OAuth state: treated as a possible forgery."""


class ReconnectRequired(AuthError):
    """The stored grant no longer works (``invalid_grant``); the user must reconnect."""


class InvalidClientCertificate(AuthError):
    """AADSTS700027 and kin: the certificate's signature was refused (not uploaded, another key,
    expired on Azure's side)."""


class InvalidFederatedToken(AuthError):
    """Workload identity: the federated token file is missing, unreadable or expired, or no federated
    identity credential on the app matches it (AADSTS70021, AADSTS700211/700212/700213, AADSTS700024)."""


class ManagedIdentityUnavailable(AuthError):
    """Managed identity: no identity endpoint answers here, or the identity is not assigned to this host."""


class IdentityServiceError(AuthError):
    """Throttling (429) or a server error (5xx) from the token endpoint; retry later."""

    transient = True


class CredentialsFileError(InvalidInput):
    """A credentials file that cannot be read, parsed or written safely."""
