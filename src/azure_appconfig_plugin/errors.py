"""The Azure provider's errors, in the host kit's one hierarchy (``app_connections.errors``).

Each class declares its ``category``, suggested ``http_status`` and ``retryable`` (class
attributes; ``errors_markdown()`` is the table of every class of both packages, docs/errors.md).

Every error carries a message that says what to fix, plus fields a host can show:
``code`` (Azure's error code when there is one), ``field`` (the input at fault),
``correlation_id`` / ``trace_id`` (for a support ticket). Messages never contain
secrets, authorization codes or tokens.
"""

from __future__ import annotations

from app_connections.errors import AppConnectionError as AppConnectionError
from app_connections.errors import FieldError as FieldError
from app_connections.errors import InvalidInput as InvalidInput
from app_connections.errors import SettingsError as SettingsError
from app_connections.errors import UnknownAuthMethod as UnknownAuthMethod


class EndpointRejected(InvalidInput):
    """A store endpoint failed the safety rules; no token is ever sent to it."""

    category = "invalid_input"
    http_status = 400


class AuthError(AppConnectionError):
    """The Microsoft identity platform refused or failed a request.

    Which identity-platform codes raise which subclass is declared once, in
    ``auth.aad_errors.IDENTITY_ERRORS``; each class's ``codes`` is derived from that table.
    """

    category = "unauthenticated"
    http_status = 401
    codes: tuple[str, ...] = ()
    """The codes (``AADSTS7000215``, ``access_denied``, ...) that raise this class; set from the table."""


class InvalidClientSecret(AuthError):
    """Wrong or expired client secret."""


class AppNotFound(AuthError):
    """No app with that client ID in the tenant."""

    category = "not_found"
    http_status = 404


class TenantNotFound(AuthError):
    """Unknown tenant (also MSAL's ValueError at construction)."""

    category = "not_found"
    http_status = 404


class ConsentRequired(AuthError):
    """The user or an admin has not consented to the permissions."""

    category = "forbidden"
    http_status = 403


class RedirectUriMismatch(AuthError):
    """The redirect URI is not registered on the app."""

    category = "internal"  # the instance's app registration: the operator fixes it
    http_status = 500


class AuthorizationCodeInvalid(AuthError):
    """The authorization code expired or was already redeemed; start over."""

    category = "invalid_input"
    http_status = 400


class AccessDenied(AuthError):
    """The user declined the consent screen."""

    category = "forbidden"
    http_status = 403


class OAuthStateError(AuthError):
    """Unknown, reused or expired OAuth state: treated as a possible forgery."""

    category = "invalid_input"
    http_status = 400


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

    category = "internal"  # the host has no identity endpoint or the identity is not assigned to it
    http_status = 500


class IdentityServiceError(AuthError):
    """Throttling (429) or a server error (5xx) from the token endpoint; retry later."""

    category = "unavailable"
    http_status = 503
    retryable = True


class IdentityThrottled(IdentityServiceError):
    """The identity platform or an identity endpoint is throttling (HTTP 429, AADSTS90055, AADSTS50196)."""

    category = "throttled"
    http_status = 429


class CredentialsFileError(InvalidInput):
    """A credentials file that cannot be read, parsed or written safely."""


ERROR_PACKAGES = ("app_connections", "azure_appconfig_plugin")
"""The packages whose error classes docs/errors.md lists."""


def errors_markdown() -> str:
    """The table of every error class of the host kit and this provider (docs/errors.md)."""
    from app_connections.error_table import error_classes
    from app_connections.error_table import errors_markdown as table

    return table(error_classes(*ERROR_PACKAGES))
