"""``workload-identity``: the token credential (MSAL client assertion read from the federated token
file on every token request) and the checks of the token file."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..clouds import get_cloud
from ..errors import InvalidFederatedToken
from ..methods.common import TOKEN_FILE_PATH
from . import msal_apps
from .credential import ConfidentialClientCredential

if TYPE_CHECKING:
    from app_connections.policy import HostPolicy

    from ..methods.workload_identity import WorkloadIdentityCredentials

MAX_TOKEN_FILE_BYTES = 64 * 1024
"""A service account token is a few KB; anything larger is not one."""
READ_SECONDS = 5.0
"""The most a read of the token file may take (less when the operation's deadline is nearer)."""
EXPIRY_MARGIN_SECONDS = 30
HOST_TOKEN_FILE_ENV = "AZURE_FEDERATED_TOKEN_FILE"
_FIX = (
    "On AKS: label the pod azure.workload.identity/use=true and annotate its service account with "
    "azure.workload.identity/client-id, so the webhook mounts the token and sets AZURE_FEDERATED_TOKEN_FILE."
)
UNUSABLE = f"the federated token file ({TOKEN_FILE_PATH.name}) cannot be used; the host's log says why. " + _FIX
"""The one message of a token file that cannot be used, whatever the reason (no oracle)."""
log = logging.getLogger(__name__)


def _own_dirs(path: str) -> tuple[str, ...]:
    """The directory of the host's own file, as named and as resolved (a projected volume rotates
    the token by swapping a link inside it)."""
    named = os.path.dirname(os.path.normpath(path)) if os.path.isabs(path) else ""
    return tuple(dict.fromkeys(d for d in (named, os.path.realpath(named) if named else "") if d))


def token_file_scope(path: str, policy: HostPolicy) -> tuple[str, ...]:
    """Where ``path`` may be read from under ``policy``, or ``PathRefused`` (one message, before any
    file-system access): the host's own file when the policy lends the host's identity, else a
    path in the policy's directories whose links stay inside them."""
    from app_connections.paths import check_path, refused

    host_file = policy.env.get(HOST_TOKEN_FILE_ENV, "").strip() if policy.ambient_identity else ""
    if host_file and path == host_file:  # the host's own file (from its environment, or named as such)
        return _own_dirs(path)
    if not policy.allows_path(path):
        raise refused(TOKEN_FILE_PATH.name)
    check_path(TOKEN_FILE_PATH.name, path, policy.allowed_dirs)  # its links must stay inside too
    return policy.allowed_dirs


def read_assertion(path: str, *, now: float | None = None, allowed_dirs: tuple[str, ...] | None = None) -> str:
    """The federated token in ``path``, checked: in ``allowed_dirs`` (default: its own directory), a
    regular file (never a FIFO or device: opened without blocking), at most
    ``MAX_TOKEN_FILE_BYTES``, read within the operation's deadline, a JWT, not expired. Raises
    ``InvalidFederatedToken`` (field ``tokenFilePath``) with one message whatever is wrong; the
    reason goes to the log (``azure_appconfig_plugin.auth.workload_identity``), never the token."""
    from app_connections.errors import PathRefused, PathUnusable
    from app_connections.paths import read_path
    from app_connections.tokens import jwt_claims

    from ..http.deadlines import remaining

    def unusable(reason: str | None) -> InvalidFederatedToken:
        if reason:
            log.warning("%s: the federated token file cannot be used: %s", TOKEN_FILE_PATH.name, reason)
        return InvalidFederatedToken(UNUSABLE, code="token_file_unusable", field=TOKEN_FILE_PATH.name)

    dirs = _own_dirs(path) if allowed_dirs is None else allowed_dirs
    try:
        data = read_path(
            TOKEN_FILE_PATH.name, path, dirs, max_bytes=MAX_TOKEN_FILE_BYTES, seconds=remaining(READ_SECONDS)
        )
    except PathRefused:
        raise InvalidFederatedToken(
            f"the federated token file ({TOKEN_FILE_PATH.name}) is not a path this host allows. " + _FIX,
            code="token_file_refused",
            field=TOKEN_FILE_PATH.name,
        ) from None
    except PathUnusable:
        raise unusable(None) from None  # read_path logged why
    try:
        token = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise unusable("it does not hold a token (it is not text)") from None
    if not token:
        raise unusable("it is empty")
    claims = jwt_claims(token) if token.count(".") == 2 else None
    if not claims:
        raise unusable("it does not hold a JWT (header.payload.signature)")
    exp = claims.get("exp")
    at = time.time() if now is None else now
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and exp - EXPIRY_MARGIN_SECONDS <= at:
        raise unusable(f"its token expired at {_utc(exp)}; the platform should have rotated it")
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
    _credentials: WorkloadIdentityCredentials

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
        c = self._credentials
        dirs = c.allowed_dirs if c.allowed_dirs is not None else _own_dirs(c.token_file_path)
        return read_assertion(c.token_file_path, now=self._clock(), allowed_dirs=dirs)

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
