"""Map Microsoft identity platform (AADSTS) errors to typed exceptions that say what to fix.

Azure's error code and correlation ID are kept; the request (secret, code, tokens) never is.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..errors import (
    AccessDenied,
    AppNotFound,
    AuthError,
    AuthorizationCodeInvalid,
    ConsentRequired,
    IdentityServiceError,
    InvalidClientSecret,
    ReconnectRequired,
    RedirectUriMismatch,
    TenantNotFound,
)
from ..settings import PERMISSIONS
from ..text import clean

from msal.exceptions import MsalError

TRANSPORT_ERRORS: tuple[type[Exception], ...] = (OSError, MsalError, ValueError)
"""What MSAL raises for network failures (requests' errors are OSErrors), 5xx answers
(MsalServiceError) and non-JSON bodies (ValueError)."""

_HTTP_STATUS = re.compile(r"HTTP Error: (\d{3})")
_PERMS = ", ".join(PERMISSIONS)


def aadsts_codes(result: Mapping[str, Any]) -> list[int]:
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


def _summary(result: Mapping[str, Any]) -> str:
    """Azure's description without the trailing trace/correlation/timestamp lines; bounded, control and bidi characters removed."""
    text = str(result.get("error_description") or result.get("error") or "")[:4000]
    return clean(text.split("\r\n")[0].split("\n")[0])


_ID = re.compile(r"^[0-9a-zA-Z-]{1,64}$")


def _id(value: Any) -> str | None:
    """A correlation or trace ID as shown: only when it looks like one."""
    text = str(value).strip() if value is not None else ""
    return text if _ID.match(text) else None


def error_from_result(
    result: Mapping[str, Any],
    *,
    stage: str,
    tenant: str | None = None,
    client_id: str | None = None,
    redirect_uri: str | None = None,
) -> AuthError:
    """An exception for an MSAL error result or an OAuth callback error.

    ``stage`` is ``client-credentials``, ``authorize`` (callback error), ``code`` (code
    exchange) or ``refresh`` (refresh-token grant).
    """
    codes = aadsts_codes(result)
    error = clean(result.get("error") or "", 80)
    code = f"AADSTS{codes[0]}" if codes else (error or None)
    extra = {"code": code, "correlation_id": _id(result.get("correlation_id")), "trace_id": _id(result.get("trace_id"))}
    said = _summary(result)
    azure_says = f" Azure said: {said}" if said else ""

    def has(*wanted: int) -> bool:
        return any(c in codes for c in wanted)

    if has(7000215, 7000222):
        what = "expired" if has(7000222) else "invalid"
        return InvalidClientSecret(
            f"the client secret is {what}. Create a new client secret for app {client_id or '(client ID)'} "
            "under App registrations > Certificates & secrets and enter its Value (not its Secret ID).",
            field="clientSecret",
            **extra,
        )
    if has(700016):
        return AppNotFound(
            f"no application with client ID {client_id or '(client ID)'} exists in tenant {tenant or '(tenant)'}. "
            "Check the client ID, and that the app is registered in that tenant (or consented to by it).",
            field="clientId",
            **extra,
        )
    if has(90002) or error == "invalid_tenant":
        return TenantNotFound(
            f"tenant {tenant or '(tenant)'} was not found. Check the Tenant ID (Microsoft Entra ID > Overview) "
            "and that it belongs to the chosen Azure cloud.",
            field="tenantId",
            **extra,
        )
    if has(50011):
        return RedirectUriMismatch(
            "the redirect URI is not registered on the instance's app registration. Add exactly "
            f"{redirect_uri or '(SITE_URL + /organization/app-connections/azure/oauth/callback)'} as a Web "
            "redirect URI under App registrations > Authentication; `azure-appconfig doctor` prints it.",
            **extra,
        )
    if stage == "refresh" and (error in ("invalid_grant", "interaction_required") or has(70008, 700082, 50173, 65001, 50076)):
        return ReconnectRequired(
            "the stored Azure authorization no longer works (expired, revoked, or consent withdrawn). "
            "Reconnect the connection to sign in again." + azure_says,
            **extra,
        )
    if has(65001) or error == "consent_required":
        return ConsentRequired(
            "consent is missing for the Azure App Configuration permissions "
            f"({_PERMS}). An administrator must grant admin consent under App registrations > "
            "API permissions, or the user must accept the consent prompt.",
            **extra,
        )
    if has(70008, 54005):
        return AuthorizationCodeInvalid(
            "the authorization code expired or was already used. Start the connection again.", **extra
        )
    if error == "access_denied":
        return AccessDenied(
            "the sign-in was cancelled or consent was declined. Start the connection again and accept "
            f"the requested permissions ({_PERMS})." + azure_says,
            **extra,
        )
    if error in ("temporarily_unavailable", "server_error") or has(90055, 50196, 90033):
        return IdentityServiceError(
            "the Microsoft identity platform is throttling or temporarily unavailable; retry in a minute."
            + azure_says,
            **extra,
        )
    if stage == "refresh" and error:
        return ReconnectRequired(
            "refreshing the Azure authorization failed; reconnect the connection." + azure_says, **extra
        )
    return AuthError(f"the Microsoft identity platform refused the request ({error or 'unknown error'}).{azure_says}", **extra)


def error_from_exception(exc: Exception, *, where: str) -> AuthError:
    """An exception for a transport failure or a 5xx/429 raised while talking to a login host."""
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is None:  # MSAL raises MsalServiceError("HTTP Error: 503") for 5xx
        match = _HTTP_STATUS.search(str(exc))
        status = int(match.group(1)) if match else None
    if status is not None:
        return IdentityServiceError(
            f"the Microsoft identity platform answered HTTP {status} at {where}; retry later"
            + (" (throttled)" if status == 429 else ""),
            code=str(status),
        )
    return IdentityServiceError(
        f"could not reach the Microsoft identity platform at {where} ({type(exc).__name__}); "
        "check network access to the login host",
        code="unreachable",
    )
