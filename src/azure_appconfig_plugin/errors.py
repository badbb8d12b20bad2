"""The Azure provider's errors, in the host kit's one hierarchy (``app_connections.errors``).

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
