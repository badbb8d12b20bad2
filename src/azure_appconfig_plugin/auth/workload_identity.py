"""``workload-identity``: the credentials record and the token credential (MSAL client assertion
read from the federated token file on every token request)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import attrs

from app_connections.text import quoted_value

from ..clouds import DEFAULT_CLOUD, get_cloud
from ..errors import InvalidFederatedToken
from . import msal_apps
from .credential import ConfidentialClientCredential

MAX_TOKEN_FILE_BYTES = 64 * 1024
"""A service account token is a few KB; anything larger is not one."""
EXPIRY_MARGIN_SECONDS = 30
_FIX = (
    "On AKS: label the pod azure.workload.identity/use=true and annotate its service account with "
    "azure.workload.identity/client-id, so the webhook mounts the token and sets AZURE_FEDERATED_TOKEN_FILE."
)


@attrs.frozen
class WorkloadIdentityCredentials:
    """An app registration (or user-assigned managed identity) that trusts a federated token. No secret."""

    tenant_id: str
    client_id: str
    token_file_path: str
    cloud: str = DEFAULT_CLOUD.slug
    method: str = attrs.field(default="workload-identity", init=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "tenantId": self.tenant_id,
            "clientId": self.client_id,
            "tokenFilePath": self.token_file_path,
            "cloud": self.cloud,
        }


def read_assertion(path: str, *, now: float | None = None) -> str:
    """The federated token in ``path``, checked: present, readable, a JWT, not expired.
    Raises ``InvalidFederatedToken`` (field ``tokenFilePath``) saying what is wrong."""
    from app_connections.tokens import jwt_claims

    def fail(what: str, code: str) -> InvalidFederatedToken:
        return InvalidFederatedToken(
            f"the federated token file {quoted_value(path)} {what}. {_FIX}", code=code, field="tokenFilePath"
        )

    try:
        with open(path, "rb") as f:
            data = f.read(MAX_TOKEN_FILE_BYTES + 1)
    except FileNotFoundError:
        raise fail("does not exist", "token_file_missing") from None
    except IsADirectoryError:
        raise fail("is a directory, not a file", "token_file_unreadable") from None
    except PermissionError:
        raise fail("cannot be read by this process (permission denied)", "token_file_unreadable") from None
    except OSError as exc:
        raise fail(f"cannot be read ({type(exc).__name__})", "token_file_unreadable") from None
    if len(data) > MAX_TOKEN_FILE_BYTES:
        raise fail(f"is larger than {MAX_TOKEN_FILE_BYTES} bytes: it is not a token", "token_file_invalid")
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise fail("does not hold a token (it is not text)", "token_file_invalid") from None
    if not token:
        raise fail("is empty", "token_file_invalid")
    claims = jwt_claims(token) if token.count(".") == 2 else None
    if not claims:
        raise fail("does not hold a JWT (header.payload.signature)", "token_file_invalid")
    exp = claims.get("exp")
    at = time.time() if now is None else now
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp - EXPIRY_MARGIN_SECONDS <= at:
        when = _utc(exp)
        raise fail(f"holds a token that expired at {when}; the platform should have rotated it", "token_file_expired")
    return token


def _utc(timestamp: float) -> str:
    """``timestamp`` as UTC text; a claim outside what the platform's clock can show is said so."""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))
    except (OverflowError, OSError, ValueError):  # e.g. exp = -1e300: no calendar date
        return "a time before any calendar date this platform can show"


class WorkloadIdentityTokenCredential(ConfidentialClientCredential):
    """Client-credentials grant whose client assertion is the federated token, re-read from the file
    each time MSAL asks for it (a new token request), so a rotated token is always the one sent.
    The token path is ``ConfidentialClientCredential``'s; the shared cache keys the token by the
    tenant, the client and the exact assertion read now (only a credential presenting the same
    federated token gets it; the assertion is never stored)."""

    stage = "federated"

    def __init__(self, credentials: WorkloadIdentityCredentials, *, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self.cloud = get_cloud(credentials.cloud)
        self._clock = clock

    def __repr__(self) -> str:
        c = self._credentials
        return (
            f"WorkloadIdentityTokenCredential(tenant_id={c.tenant_id!r}, client_id={c.client_id!r}, "
            f"token_file_path={c.token_file_path!r}, cloud={c.cloud!r})"
        )

    def _assertion(self) -> str:
        return read_assertion(self._credentials.token_file_path, now=self._clock())

    def _preflight(self) -> None:
        self._assertion()  # a missing or expired file is reported before any request

    def _app(self, authority: str) -> Any:
        c = self._credentials
        fingerprint = hashlib.sha256(f"federated:{c.token_file_path}".encode()).hexdigest()
        # MSAL calls the callable for each token request: the assertion is read then, never kept
        return msal_apps.get_app_for(
            authority, c.client_id, {"client_assertion": self._assertion}, fingerprint=fingerprint
        )

    def _token_key(self, authority: str) -> Any:
        from ..stores.token_cache import TokenKey

        return TokenKey.for_workload_identity(
            authority, self._credentials.client_id, self.cloud.scope, self._assertion()
        )
