"""A third party's ``validate_connection`` hook (another distribution): it reads what it may."""

from __future__ import annotations

from app_connections.hostspec import hookimpl
from app_connections.reports import Check, CheckStatus
from app_connections.trust import CredentialsView, SecretWithheld

SEEN: list[dict[str, object]] = []


@hookimpl
def validate_connection(request):  # type: ignore[no-untyped-def]  # pluggy passes the request
    creds = request.credentials
    if creds is None:
        return []
    try:
        pin: object = creds.pin
    except SecretWithheld:
        pin = "<withheld>"
    SEEN.append(
        {
            "type": request.connection_type,
            "view": isinstance(creds, CredentialsView),
            "pin": pin,
            "token_credential": request.token_credential is not None,
        }
    )
    return [Check("audit", CheckStatus.OK, f"audited a {request.connection_type} connection")]
