"""azure-core ``TokenCredential`` adapters for both auth methods.

Each credential asks for exactly one scope: the App Configuration audience of its cloud.
Any other scope is refused, so a token never reaches a resource it was not meant for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo

from .. import http_policy
from ..clouds import Cloud, get_cloud
from ..errors import AuthError, IdentityServiceError, ReconnectRequired
from ..records import RotateCallback
from ..schema import ClientSecretCredentials, OAuthCredentials
from ..settings import InstanceSettings
from . import msal_apps
from .aad_errors import TRANSPORT_ERRORS, error_from_exception, error_from_result

REFRESH_MARGIN_SECONDS = 300
"""A cached access token is reused until this many seconds before it expires."""


class ScopeNotAllowed(AuthError):
    """A caller asked for a token for something other than the store's audience."""


def _accept(cloud: Cloud, scopes: tuple[str, ...]) -> None:
    wanted = {cloud.scope, cloud.audience + "//.default"}
    if len(scopes) != 1 or scopes[0] not in wanted:
        raise ScopeNotAllowed(
            f"this credential only issues tokens for {cloud.scope}; refused {list(scopes)!r}",
            code="scope_not_allowed",
        )


def seconds_field(result: Any, name: str, default: int = 0) -> int:
    """A token answer's ``expires_in``-like field as whole seconds; a typed error when it is not one."""
    value = result.get(name, default) if isinstance(result, dict) else default
    if value is None and name == "refresh_in":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = float("nan")
    if not (0 <= number <= http_policy.MAX_TOKEN_SECONDS):  # also false for nan and inf
        shown = "null" if value is None else type(value).__name__
        raise IdentityServiceError(
            f"the identity platform sent a token answer whose {name} is {shown}, not a number of seconds",
            code="malformed_answer",
        )
    return int(number)


def call_identity_platform(call: Callable[[], Any], where: str) -> Any:
    """Run an MSAL call; every failure (transport, policy, a malformed answer MSAL chokes on) ends typed."""
    try:
        return call()
    except AuthError:
        raise
    except http_policy.HttpPolicyError:
        raise
    except TRANSPORT_ERRORS as exc:
        found = http_policy.policy_error(exc)
        if found is not None:
            raise found from None
        raise error_from_exception(exc, where=where) from None
    except (TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        raise IdentityServiceError(
            f"the identity platform at {where} sent an answer MSAL could not use ({type(exc).__name__}); "
            "check that the login host is the Microsoft identity platform",
            code="malformed_answer",
        ) from None


class _Base:
    cloud: Cloud

    def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: Any
    ) -> AccessToken:
        info = self._token(scopes, claims)
        return AccessToken(info.token, info.expires_on)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        claims = (options or {}).get("claims") if isinstance(options, dict) else None
        return self._token(scopes, claims)

    def _token(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *args: Any) -> None:
        return None


def token_info(result: Any, authority: str, now: int, **context: Any) -> AccessTokenInfo:
    """An MSAL token answer as ``AccessTokenInfo``; an error answer typed by ``error_from_result(**context)``."""
    if not isinstance(result, dict):
        raise IdentityServiceError(
            f"the identity platform at {authority} sent no token answer", code="malformed_answer"
        )
    if "access_token" not in result:
        raise error_from_result(result, **context)
    refresh_in = seconds_field(result, "refresh_in")
    return AccessTokenInfo(
        str(result["access_token"]),
        now + seconds_field(result, "expires_in"),
        refresh_on=now + refresh_in if refresh_in else None,
    )


class ConfidentialClientCredential(_Base):
    """The one token path of every non-interactive MSAL confidential-client method (client secret,
    certificate, workload identity): subclasses say how to check their material (``_preflight``),
    build their MSAL app (``_app``) and key the shared cache (``_token_key``); the rest is here.

    - ``msal_apps.single_flight(authority, client, scope)``: one request per token under concurrency;
    - ``call_identity_platform``: every MSAL failure typed, every request bounded by the policy;
    - the shared token cache (Redis, when ``..._REDIS_URL`` is set): one token for the fleet, keyed
      by a fingerprint of the credential (``TokenKey``), holding only the access token.
    """

    stage = "client-credentials"
    """The ``error_from_result`` stage of this grant (names the field to fix)."""

    _credentials: Any
    _clock: Callable[[], float]

    def _preflight(self) -> None:
        """Refuse unusable material before any request (and before the shared cache)."""
        return None

    def _app(self, authority: str) -> Any:
        raise NotImplementedError

    def _token_key(self, authority: str) -> Any:
        """The ``stores.token_cache.TokenKey`` of this credential."""
        raise NotImplementedError

    def _token(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        _accept(self.cloud, scopes)
        self._preflight()
        from ..stores.shared import shared_token_cache

        shared = shared_token_cache()  # None unless ..._REDIS_URL is set
        if shared is None:
            return self._acquire(claims)
        key = self._token_key(self.cloud.authority(self._credentials.tenant_id))
        if claims is None:
            shared_token: AccessTokenInfo = shared.get_or_fetch(key, lambda: self._acquire(None))
            return shared_token
        token = self._acquire(claims)  # a claims challenge always goes to the identity platform,
        shared.put(key, token)  # and its token replaces the one the resource rejected, fleet-wide
        return token

    def _acquire(self, claims: str | None) -> AccessTokenInfo:
        """A token from MSAL (its in-process cache, else the identity platform)."""
        c = self._credentials
        authority = self.cloud.authority(c.tenant_id)
        # One token request per (authority, client, scope) at a time: on a cold cache the first
        # caller fetches, the others wait and then find its token in MSAL's cache.
        with msal_apps.single_flight(authority, c.client_id, self.cloud.scope):
            app = call_identity_platform(lambda: self._app(authority), authority)
            result = call_identity_platform(
                lambda: app.acquire_token_for_client(scopes=[self.cloud.scope], claims_challenge=claims), authority
            )
        return token_info(
            result, authority, int(self._clock()), stage=self.stage, tenant=c.tenant_id, client_id=c.client_id
        )


class ClientSecretTokenCredential(ConfidentialClientCredential):
    """Client-credentials grant; MSAL's cache serves the token until shortly before expiry."""

    def __init__(self, credentials: ClientSecretCredentials, *, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self.cloud = get_cloud(credentials.cloud)
        self._clock = clock

    def __repr__(self) -> str:
        c = self._credentials
        return f"ClientSecretTokenCredential(tenant_id={c.tenant_id!r}, client_id={c.client_id!r}, cloud={c.cloud!r})"

    def _app(self, authority: str) -> Any:
        c = self._credentials
        return msal_apps.get_app(authority, c.client_id, c.client_secret)

    def _token_key(self, authority: str) -> Any:
        from ..stores.token_cache import TokenKey

        c = self._credentials
        return TokenKey.for_client_secret(authority, c.client_id, self.cloud.scope, c.client_secret)


class OAuthTokenCredential(_Base):
    """Refresh-token grant for a user connection; hands every rotated refresh token to ``on_rotate``."""

    def __init__(
        self,
        credentials: OAuthCredentials,
        settings: InstanceSettings,
        *,
        on_rotate: RotateCallback | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if settings.client_id.lower() != credentials.client_id.lower():
            raise ReconnectRequired(
                "this connection was authorized for app registration "
                f"{credentials.client_id}, but the instance now uses {settings.client_id}; reconnect it",
                code="client_changed",
            )
        self.cloud = get_cloud(credentials.cloud)
        self._credentials = credentials
        self._settings = settings
        self._on_rotate = on_rotate
        self._clock = clock
        self._lock = threading.Lock()
        self._rotate_lock = threading.Lock()
        self._issued = 0
        """How many refresh tokens this object has received (issue order)."""
        self._delivered = 0
        """The issue number of the last rotation handed to ``on_rotate``."""

    def __repr__(self) -> str:
        c = self._credentials
        return f"OAuthTokenCredential(tenant_id={c.tenant_id!r}, client_id={c.client_id!r}, cloud={c.cloud!r})"

    @property
    def credentials(self) -> OAuthCredentials:
        """The current credentials, including any rotated refresh token."""
        return self._credentials

    def _token(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        _accept(self.cloud, scopes)
        with self._lock:
            c = self._credentials
            now = int(self._clock())
            if claims is None and c.access_token and c.expires_on and c.expires_on - now > REFRESH_MARGIN_SECONDS:
                return AccessTokenInfo(c.access_token, c.expires_on)
            authority = self.cloud.authority(c.tenant_id)
            s = self._settings
            app = call_identity_platform(
                lambda: msal_apps.get_app(authority, s.client_id, s.client_secret, user_grants=True), authority
            )
            result = call_identity_platform(
                lambda: app.acquire_token_by_refresh_token(
                    c.refresh_token, scopes=[self.cloud.scope], **({"data": {"claims": claims}} if claims else {})
                ),
                authority,
            )
            if not isinstance(result, dict):
                raise IdentityServiceError(
                    f"the identity platform at {authority} sent no token answer", code="malformed_answer"
                )
            if "access_token" not in result:
                raise error_from_result(result, stage="refresh", tenant=c.tenant_id, client_id=c.client_id)
            expires_on = now + seconds_field(result, "expires_in")
            new_refresh = result.get("refresh_token") or c.refresh_token
            if not isinstance(new_refresh, str):
                raise IdentityServiceError(
                    "the identity platform sent a refresh token that is not a string", code="malformed_answer"
                )
            access = str(result["access_token"])
            self._credentials = c.with_tokens(new_refresh, access, expires_on)
            if new_refresh != c.refresh_token:
                self._issued += 1
        self._deliver_rotation()
        return AccessTokenInfo(access, expires_on)

    def _deliver_rotation(self) -> None:
        """Hand the newest rotated credentials to ``on_rotate``, in issue order.

        Runs outside the refresh lock (a slow callback does not hold up token requests) but under
        its own lock, and always delivers the newest credentials: an older refresh token can never
        overwrite a newer one, whatever the callbacks' timing.
        """
        if self._on_rotate is None:
            return
        with self._rotate_lock:
            with self._lock:
                issued, latest = self._issued, self._credentials
            if issued > self._delivered:
                self._on_rotate(latest)
                self._delivered = issued
