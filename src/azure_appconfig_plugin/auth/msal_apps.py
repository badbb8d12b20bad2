"""Process-wide cache of MSAL ``ConfidentialClientApplication`` objects.

One app per (authority, client ID, secret fingerprint, purpose), reused across calls so that
MSAL's token cache and its cached tenant discovery are reused too. Guarded by a lock;
``reset()`` empties it for tests.

Every app talks HTTP only through ``http.transport.session(login host, kind="token")``: pinned to
the authority's host (a discovery document naming another token endpoint is refused), each
answer bounded in time and size.

``single_flight(key)`` is the seam for token reuse under concurrency: callers asking for the
same (authority, client, scope) token take turns, so on a cold cache the first one fetches and
the others find its token in the cache beneath (MSAL's, or a shared one plugged in there).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

import msal

from ..errors import IdentityServiceError, TenantNotFound
from ..http import transport
from ..http.deadlines import remaining
from ..http.limits import current_limits
from ..http.pin import host_port
from ..methods.common import TENANT
from .aad_errors import TRANSPORT_ERRORS, error_from_exception

if TYPE_CHECKING:
    import requests

    from app_connections.jsontypes import JSONObject

MAX_APPS = 256

_CORRELATION = re.compile(r'"correlation_id"\s*:\s*"([0-9a-fA-F-]{36})"')
_lock = threading.Lock()
_apps: OrderedDict[tuple[str, str, str, str], msal.ConfidentialClientApplication] = OrderedDict()


class _NoStoreCache(msal.TokenCache):  # type: ignore[misc]  # msal is untyped: its TokenCache is Any
    """A token cache that keeps nothing.

    Used for OAuth (user) grants: the host stores the refresh token, our credential object
    keeps the access token, and nothing user-specific accumulates in process-wide state.
    """

    def add(self, event: JSONObject, **kwargs: object) -> None:
        """Keep nothing of the token event (MSAL calls this after each token answer)."""
        return None


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def get_app(
    authority: str, client_id: str, client_secret: str, *, user_grants: bool = False
) -> msal.ConfidentialClientApplication:
    """The cached app for this authority and client, built on first use.

    ``user_grants=True`` selects an app whose token cache stores nothing (see ``_NoStoreCache``).
    Raises ``TenantNotFound`` when MSAL cannot discover the tenant.
    """
    return get_app_for(
        authority, client_id, client_secret, fingerprint=_fingerprint(client_secret), user_grants=user_grants
    )


def get_app_for(
    authority: str,
    client_id: str,
    client_credential: str | Mapping[str, object],
    *,
    fingerprint: str,
    user_grants: bool = False,
) -> msal.ConfidentialClientApplication:
    """Like ``get_app`` for any MSAL ``client_credential`` (a secret, or a dict with a certificate's
    ``private_key``/``thumbprint`` or a ``client_assertion`` callable); ``fingerprint`` identifies
    the credential in the cache key (a hash, never the secret itself)."""
    key = (authority.lower(), client_id.lower(), fingerprint, "user" if user_grants else "app")
    with _lock:
        app = _apps.get(key)
        if app is not None:
            _apps.move_to_end(key)
            return app
        try:
            app = msal.ConfidentialClientApplication(
                client_id,
                client_credential=client_credential,
                authority=authority,
                instance_discovery=False,
                http_client=transport.session(*host_port(authority), kind="token"),
                token_cache=_NoStoreCache() if user_grants else None,
            )
        except ValueError as exc:
            tenant = authority.rstrip("/").rsplit("/", 1)[-1]
            found = _CORRELATION.search(f"{exc} {exc.__context__}")  # MSAL wraps the discovery error
            raise TenantNotFound(
                f"tenant {tenant!r} was not found at {authority.rsplit('/', 1)[0]}: check the tenant ID "
                "(Microsoft Entra ID > Overview > Tenant ID) and that it belongs to the chosen Azure cloud",
                code="AADSTS90002",
                field=TENANT.name,
                correlation_id=found.group(1) if found else None,
            ) from None
        except TRANSPORT_ERRORS as exc:  # network failure or 5xx during tenant discovery (policy errors pass through)
            raise error_from_exception(exc, where=authority) from None
        _apps[key] = app
        while len(_apps) > MAX_APPS:
            _apps.popitem(last=False)
        return app


_flights_lock = threading.Lock()
_flights: dict[tuple[str, ...], threading.Lock] = {}


@contextlib.contextmanager
def single_flight(*key: str) -> Iterator[None]:
    """One caller at a time per ``key`` (e.g. authority, client ID, scope); the others wait, bounded.

    Inside the block a caller first looks in the token cache, then fetches: so the first caller
    fetches and the ones that waited find its token. The wait is bounded by the token deadline;
    when it passes, the waiter gets ``IdentityServiceError`` instead of a second request.
    """
    norm = tuple(k.lower() for k in key)
    with _flights_lock:
        lock = _flights.setdefault(norm, threading.Lock())
    wait = remaining(current_limits().token_request_seconds * 2)
    if not lock.acquire(timeout=max(wait, 0)):
        raise IdentityServiceError(
            f"another request for the same token ({norm[0]}) did not finish within {max(wait, 0):.0f} s; retry later",
            code="token_wait_timeout",
        )
    try:
        yield
    finally:
        lock.release()


_mi_clients: OrderedDict[tuple[str, str, tuple[float, float], str], msal.ManagedIdentityClient] = OrderedDict()


def get_managed_identity_client(
    field: str | None,
    value: str | None,
    http_client: Callable[[], requests.Session],
    timeout: tuple[float, float],
    *,
    endpoint: str = "",
) -> msal.ManagedIdentityClient:
    """The cached ``msal.ManagedIdentityClient`` of the system-assigned identity (``field`` None) or
    of a user-assigned one (``clientId`` / ``resourceId`` / ``objectId``), so its token cache is shared.
    ``endpoint`` (the identity endpoint its ``http_client`` is pinned to) is part of the key."""
    key = (field or "system", value or "", timeout, endpoint)
    with _lock:
        client = _mi_clients.get(key)
        if client is not None:
            _mi_clients.move_to_end(key)  # least recently used goes first, as for the apps
        else:
            if field is None:
                identity: msal.SystemAssignedManagedIdentity | msal.UserAssignedManagedIdentity = (
                    msal.SystemAssignedManagedIdentity()
                )
            else:
                kind = {"clientId": "client_id", "resourceId": "resource_id", "objectId": "object_id"}[field]
                identity = msal.UserAssignedManagedIdentity(**{kind: value})
            client = _mi_clients[key] = msal.ManagedIdentityClient(identity, http_client=http_client())
            while len(_mi_clients) > MAX_APPS:
                _mi_clients.popitem(last=False)
        return client


def reset() -> None:
    """Forget every cached app (tests use this between cases)."""
    with _lock:
        _apps.clear()
        _mi_clients.clear()
    with _flights_lock:
        _flights.clear()
