"""Map Microsoft identity platform (AADSTS) errors to typed exceptions that say what to fix.

Azure's error code and correlation ID are kept; the request (secret, code, tokens) never is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from msal.exceptions import MsalError

from app_connections.text import clean

if TYPE_CHECKING:
    from app_connections.jsontypes import JSONInput
    from app_connections.records import AuthMethod

from ..errors import (
    AccessDenied,
    AppNotFound,
    AuthError,
    AuthorizationCodeInvalid,
    ConsentRequired,
    IdentityServiceError,
    IdentityThrottled,
    InvalidClientCertificate,
    InvalidClientSecret,
    InvalidFederatedToken,
    ReconnectRequired,
    RedirectUriMismatch,
    TenantNotFound,
)
from ..methods.common import TENANT, TOKEN_FILE_PATH
from ..settings import PERMISSIONS

TRANSPORT_ERRORS: tuple[type[Exception], ...] = (OSError, MsalError, ValueError)
"""What MSAL raises for network failures (requests' errors are OSErrors), 5xx answers
(MsalServiceError) and non-JSON bodies (ValueError)."""

_HTTP_STATUS = re.compile(r"HTTP Error: (\d{3})")
_PERMS = ", ".join(PERMISSIONS)


def aadsts_codes(result: Mapping[str, object]) -> list[int]:
    """AADSTS codes from the integer ``error_codes`` only (a list, or one value such as the callback's
    ``error_codes=7000215``); never from description text, which is the server's (or an attacker's) prose."""
    raw = result.get("error_codes")
    items = raw if isinstance(raw, (list, tuple)) else re.split(r"[\s,]+", str(raw)) if raw is not None else []
    codes = []
    for item in items[:20]:
        text = str(item).strip()
        if not isinstance(item, bool) and text.isascii() and text.isdigit() and len(text) <= 9:
            codes.append(int(text))
    return codes


def _summary(result: Mapping[str, object]) -> str:
    """Azure's description without the trailing trace/correlation/timestamp lines; bounded, control and
    bidi characters removed."""
    text = str(result.get("error_description") or result.get("error") or "")[:4000]
    return clean(text.split("\r\n")[0].split("\n")[0])


_ID = re.compile(r"^[0-9a-zA-Z-]{1,64}$")


def _id(value: object) -> str | None:
    """A correlation or trace ID as shown: only when it looks like one."""
    text = str(value).strip() if value is not None else ""
    return text if _ID.match(text) else None


class IdentityError:
    """One row of the identity-platform error table: an AADSTS code (integer) or an OAuth
    ``error`` string, the exception it raises, the input field at fault, what the message says,
    and the remedy shown by validation. ``stages`` limits the row to some flows."""

    __slots__ = ("code", "error", "field", "message", "remedy", "stages")

    def __init__(
        self,
        code: int | str,
        error: type[AuthError],
        field: str | None,
        message: str,
        remedy: str,
        stages: tuple[str, ...] = (),
    ) -> None:
        self.code, self.error, self.field, self.message, self.remedy, self.stages = (
            code,
            error,
            field,
            message,
            remedy,
            stages,
        )

    @property
    def label(self) -> str:
        """``AADSTS7000215`` for a numeric code, the error string otherwise (what ``exc.code`` holds)."""
        return f"AADSTS{self.code}" if isinstance(self.code, int) else self.code

    def matches(self, codes: list[int], error: str, stage: str) -> bool:
        """True when this row decides an answer with these AADSTS ``codes`` and ``error`` at ``stage``."""
        if self.stages and stage not in self.stages:
            return False
        return self.code in codes if isinstance(self.code, int) else self.code == error


_RECONNECT = (
    "the stored Azure authorization no longer works (expired, revoked, or consent withdrawn). "
    "Reconnect the connection to sign in again.{azure_says}"
)
_RECONNECT_FIX = "Reconnect the connection (sign in again) and save the new credentials."
_SECRET_FIX = "Create a new client secret and update the connection with its Value."
_BUSY = "the Microsoft identity platform is throttling or temporarily unavailable; retry in a minute.{azure_says}"
_BUSY_FIX = "Retry in a minute; Azure is throttling or briefly unavailable."
_CONSENT = (
    "consent is missing for the Azure App Configuration permissions ({permissions}). An administrator must "
    "grant admin consent under App registrations > API permissions, or the user must accept the consent prompt."
)
_CONSENT_FIX = "Grant admin consent for the app's App Configuration permissions, then connect again."
_CODE = "the authorization code expired or was already used. Start the connection again."
_MFA = (
    "multi-factor authentication or another interactive step is required. Reconnect the connection to sign in "
    "again interactively.{azure_says}"
)

_CERT_FIX = (
    "Upload the certificate (its public part, .cer/.pem) to the app registration under Certificates & secrets > "
    "Certificates, or use the key of a certificate listed there."
)
_CLOCK_FIX = "Set this machine's clock right (NTP); client assertions are valid for minutes only."
_FEDERATION_FIX = (
    "Add a federated identity credential to the app registration (Certificates & secrets > Federated "
    "credentials) whose issuer, subject and audience equal the token's (on AKS: the cluster's OIDC issuer "
    "URL, system:serviceaccount:<namespace>:<service account>, api://AzureADTokenExchange)."
)
_TOKEN_FILE_FIX = (
    "Check that the projected service account token is mounted and fresh (AKS: the pod has the label "
    "azure.workload.identity/use=true and its service account is annotated with the client ID)."
)

IDENTITY_ERRORS: tuple[IdentityError, ...] = (
    IdentityError(
        700027,
        InvalidClientCertificate,
        "certificate",
        "Microsoft Entra ID refused the certificate's signature for app {client_id}: the certificate is not "
        "uploaded to that app registration (or was removed, or has expired there). Upload its public part under "
        "App registrations > Certificates & secrets > Certificates.{azure_says}",
        _CERT_FIX,
        ("certificate",),
    ),
    IdentityError(
        7000274,
        InvalidClientCertificate,
        "certificate",
        "the client assertion was not signed by the key of a certificate registered on app {client_id}.{azure_says}",
        _CERT_FIX,
        ("certificate",),
    ),
    IdentityError(
        700024,
        InvalidClientCertificate,
        None,
        "the client assertion is not within its valid time range: this machine's clock is wrong.{azure_says}",
        _CLOCK_FIX,
        ("certificate",),
    ),
    IdentityError(
        700024,
        InvalidFederatedToken,
        TOKEN_FILE_PATH.name,
        "the federated token is expired or not yet valid; the platform rotates it, so the file is stale or "
        "this machine's clock is wrong.{azure_says}",
        _TOKEN_FILE_FIX,
        ("federated",),
    ),
    IdentityError(
        70021,
        InvalidFederatedToken,
        "clientId",
        "no federated identity credential on app {client_id} matches the token (issuer, subject and audience "
        "must all match).{azure_says}",
        _FEDERATION_FIX,
        ("federated",),
    ),
    IdentityError(
        700211,
        InvalidFederatedToken,
        "clientId",
        "no federated identity credential on app {client_id} has the token's issuer.{azure_says}",
        _FEDERATION_FIX,
        ("federated",),
    ),
    IdentityError(
        700212,
        InvalidFederatedToken,
        "clientId",
        "no federated identity credential on app {client_id} has the token's audience (use "
        "api://AzureADTokenExchange).{azure_says}",
        _FEDERATION_FIX,
        ("federated",),
    ),
    IdentityError(
        700213,
        InvalidFederatedToken,
        "clientId",
        "no federated identity credential on app {client_id} has the token's subject (the service "
        "account).{azure_says}",
        _FEDERATION_FIX,
        ("federated",),
    ),
    IdentityError(
        700027,
        InvalidFederatedToken,
        TOKEN_FILE_PATH.name,
        "the federated token's signature could not be verified against its issuer's keys.{azure_says}",
        _FEDERATION_FIX,
        ("federated",),
    ),
    IdentityError(
        7000215,
        InvalidClientSecret,
        "clientSecret",
        "the client secret is invalid. Create a new client secret for app {client_id} under App registrations > "
        "Certificates & secrets and enter its Value (not its Secret ID).",
        _SECRET_FIX,
    ),
    IdentityError(
        7000222,
        InvalidClientSecret,
        "clientSecret",
        "the client secret is expired. Create a new client secret for app {client_id} under App registrations > "
        "Certificates & secrets and enter its Value (not its Secret ID).",
        _SECRET_FIX,
    ),
    IdentityError(
        700016,
        AppNotFound,
        "clientId",
        "no application with client ID {client_id} exists in tenant {tenant}. Check the client ID, and that the "
        "app is registered in that tenant (or consented to by it).",
        "Correct the client ID, or register the app in this tenant.",
    ),
    *(  # AADSTS90002, and the OAuth error name some answers carry instead of a code
        IdentityError(
            code,
            TenantNotFound,
            TENANT.name,
            "tenant {tenant} was not found. Check the Tenant ID (Microsoft Entra ID > Overview) and that it belongs "
            "to the chosen Azure cloud.",
            "Correct the tenant ID (and the cloud).",
        )
        for code in (90002, "invalid_tenant")
    ),
    IdentityError(
        50011,
        RedirectUriMismatch,
        None,
        "the redirect URI is not registered on the instance's app registration. Add exactly {redirect_uri} as a "
        "Web redirect URI under App registrations > Authentication; `azure-appconfig doctor` prints it.",
        "Register the redirect URI that `azure-appconfig doctor` prints on the instance's app registration.",
    ),
    IdentityError("invalid_grant", ReconnectRequired, None, _RECONNECT, _RECONNECT_FIX, ("refresh",)),
    IdentityError("interaction_required", ReconnectRequired, None, _RECONNECT, _RECONNECT_FIX, ("refresh",)),
    IdentityError(70008, ReconnectRequired, None, _RECONNECT, _RECONNECT_FIX, ("refresh",)),
    IdentityError(700082, ReconnectRequired, None, _RECONNECT, _RECONNECT_FIX, ("refresh",)),
    IdentityError(50173, ReconnectRequired, None, _RECONNECT, _RECONNECT_FIX, ("refresh",)),
    IdentityError(65001, ReconnectRequired, None, _RECONNECT, _RECONNECT_FIX, ("refresh",)),
    IdentityError(50076, ReconnectRequired, None, _RECONNECT, _RECONNECT_FIX, ("refresh",)),
    IdentityError(65001, ConsentRequired, None, _CONSENT, _CONSENT_FIX),
    IdentityError("consent_required", ConsentRequired, None, _CONSENT, _CONSENT_FIX),
    IdentityError(70008, AuthorizationCodeInvalid, None, _CODE, "Start the connection again."),
    IdentityError(54005, AuthorizationCodeInvalid, None, _CODE, "Start the connection again."),
    IdentityError(
        "access_denied",
        AccessDenied,
        None,
        "the sign-in was cancelled or consent was declined. Start the connection again and accept the requested "
        "permissions ({permissions}).{azure_says}",
        "Start the connection again and accept the permissions.",
    ),
    IdentityError(50076, ReconnectRequired, None, _MFA, _RECONNECT_FIX),
    IdentityError("interaction_required", ReconnectRequired, None, _MFA, _RECONNECT_FIX),
    IdentityError("temporarily_unavailable", IdentityServiceError, None, _BUSY, _BUSY_FIX),
    IdentityError("server_error", IdentityServiceError, None, _BUSY, _BUSY_FIX),
    IdentityError(90055, IdentityThrottled, None, _BUSY, _BUSY_FIX),
    IdentityError(50196, IdentityThrottled, None, _BUSY, _BUSY_FIX),
    IdentityError(90033, IdentityServiceError, None, _BUSY, _BUSY_FIX),
)
"""Checked in order: the first row that matches decides. Classification uses only the integer
``error_codes`` and the ``error`` string, never the description text."""

for _cls in {row.error for row in IDENTITY_ERRORS}:
    _cls.codes = tuple(dict.fromkeys(row.label for row in IDENTITY_ERRORS if row.error is _cls))

_REMEDIES: dict[tuple[str, type[BaseException]], str] = {(row.label, row.error): row.remedy for row in IDENTITY_ERRORS}
NETWORK_REMEDY = (
    "Network unreachable: check this machine's network access (proxy, firewall, DNS) to the "
    "Microsoft identity platform, then validate again."
)


def identity_errors_markdown() -> str:
    """The table of identity-platform errors in docs/errors.md, derived from ``IDENTITY_ERRORS``."""
    rows = ["| code | raises | field | fix |", "| --- | --- | --- | --- |"]
    for row in IDENTITY_ERRORS:
        when = f" (on {', '.join(row.stages)})" if row.stages else ""
        rows.append(f"| `{row.label}`{when} | `{row.error.__name__}` | {row.field or ''} | {row.remedy} |")
    return "\n".join(rows)


_FIELD_REMEDIES = {
    TOKEN_FILE_PATH.name: _TOKEN_FILE_FIX,
    "certificate": "Use a current certificate (and its key) that is uploaded to the app registration.",
    "pkcs12": "Use a current PKCS#12 file whose certificate is uploaded to the app registration.",
    "privateKey": "Give the private key of the certificate uploaded to the app registration.",
    "passphrase": "Give the passphrase the key or PKCS#12 file was encrypted with.",
    "clientSecret": _SECRET_FIX,
    TENANT.name: "Correct the tenant ID.",
    "clientId": "Correct the client ID, or register the app in this tenant.",
}
"""Remedies by the field at fault, for errors the table does not name (the non-secret methods' own fields,
raised before any request; a plugin method's errors naming our fields)."""
_NOT_ON_AZURE = (
    "Run this on an Azure host with a managed identity (VM, App Service, Functions, Container Apps, AKS), or "
    "use another method (workload-identity, certificate, client-secret) elsewhere."
)
_CODE_REMEDIES = {
    "certificate_untrusted": (
        "Trust the CA that issued the certificate (a corporate proxy's, say): set REQUESTS_CA_BUNDLE to a PEM file "
        "holding it (docs/limits.md: Trusting a private CA), then validate again."
    ),
    "no_identity_endpoint": _NOT_ON_AZURE,
    "identity_endpoint_timeout": _NOT_ON_AZURE,
    "identity_not_found": (
        "Enable the system-assigned identity of this Azure resource (Identity > System assigned > On), "
        "or assign the user-assigned identity to it (Identity > User assigned > Add)."
    ),
}
"""Remedies of errors that carry no AADSTS code (managed identity endpoints)."""


def remedy_for(exc: BaseException, method: AuthMethod | None = None) -> str:
    """The validation remedy for a token-stage failure, from the table when the code is in it."""
    code = getattr(exc, "code", None)
    remedy = _REMEDIES.get((code, type(exc))) if isinstance(code, str) else None
    if remedy:
        return remedy
    if code == "unreachable":
        return NETWORK_REMEDY
    if isinstance(code, str) and code in _CODE_REMEDIES:
        return _CODE_REMEDIES[code]
    if getattr(exc, "retryable", False):
        return _BUSY_FIX
    field = getattr(exc, "field", None)
    if field in _FIELD_REMEDIES:
        return _FIELD_REMEDIES[field]
    if isinstance(exc, AuthError) or not isinstance(exc, Exception) or getattr(exc, "message", None) is not None:
        return "Follow the message above; reconnect if it says so."
    name = method.name if method is not None else "auth"
    return (
        f"The {name} method could not get a token: check the connection's credentials, "
        "or report it to the method's authors."
    )


def error_from_result(
    result: JSONInput,
    *,
    stage: str,
    tenant: str | None = None,
    client_id: str | None = None,
    redirect_uri: str | None = None,
) -> AuthError:
    """An exception for an MSAL error result or an OAuth callback error.

    ``stage`` is ``client-credentials``, ``authorize`` (callback error), ``code`` (code
    exchange) or ``refresh`` (refresh-token grant). The first matching row of ``IDENTITY_ERRORS``
    decides the class, field and message.
    """
    codes = aadsts_codes(result)
    error = clean(result.get("error") or "", 80)
    code = f"AADSTS{codes[0]}" if codes else (error or None)
    extra = {"code": code, "correlation_id": _id(result.get("correlation_id")), "trace_id": _id(result.get("trace_id"))}
    said = _summary(result)
    azure_says = f" Azure said: {said}" if said else ""
    context = {
        "client_id": client_id or "(client ID)",
        "tenant": tenant or "(tenant)",
        "redirect_uri": redirect_uri or "(SITE_URL + /organization/app-connections/azure/oauth/callback)",
        "permissions": _PERMS,
        "azure_says": azure_says,
    }
    for row in IDENTITY_ERRORS:
        if row.matches(codes, error, stage):
            return row.error(row.message.format(**context), field=row.field, **extra)
    if stage == "refresh" and error:
        return ReconnectRequired(
            "refreshing the Azure authorization failed; reconnect the connection." + azure_says, **extra
        )
    return AuthError(
        f"the Microsoft identity platform refused the request ({error or 'unknown error'}).{azure_says}", **extra
    )


def error_from_exception(exc: Exception, *, where: str) -> AuthError:
    """An exception for a transport failure or a 5xx/429 raised while talking to a login host."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    # msal 1.39 raises MsalServiceError("HTTP Error: 503") for 5xx, which has no response; a requests
    # HTTPError (raise_for_status on a raw response) carries it, and is read first.
    if status is None:  # pragma: no branch - msal's 5xx errors carry no response object
        match = _HTTP_STATUS.search(str(exc))
        status = int(match.group(1)) if match else None
    if status is not None:
        return (IdentityThrottled if status == 429 else IdentityServiceError)(
            f"the Microsoft identity platform answered HTTP {status} at {where}; retry later"
            + (" (throttled)" if status == 429 else ""),
            code=str(status),
        )
    if isinstance(exc, ValueError) and not isinstance(exc, OSError):  # MSAL parsing a body that is not JSON
        return IdentityServiceError(
            f"the Microsoft identity platform at {where} answered with a body that is not JSON (a throttling or "
            "error page, or a proxy's); retry later, and check that nothing between here and the login host rewrites "
            "answers",
            code="malformed_answer",
        )
    from ..http.answers import CERTIFICATE_UNTRUSTED, untrusted_certificate

    untrusted = untrusted_certificate(exc, f"the Microsoft identity platform's ({where})")
    if untrusted is not None:  # reachable, but not trusted here: not "unreachable", and not worth a retry
        return AuthError(untrusted, code=CERTIFICATE_UNTRUSTED)
    return IdentityServiceError(
        f"network unreachable: could not reach the Microsoft identity platform at {where} ({type(exc).__name__}); "
        "check network access to the login host",
        code="unreachable",
    )
