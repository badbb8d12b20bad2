"""azure-core ``TokenCredential`` adapters for both auth methods.

Each credential asks for exactly one scope: the App Configuration audience of its cloud.
Any other scope is refused, so a token never reaches a resource it was not meant for.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from azure.core.credentials import AccessToken, AccessTokenInfo

from ..clouds import Cloud, get_cloud
from ..errors import AuthError, ReconnectRequired
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


class ClientSecretTokenCredential(_Base):
    """Client-credentials grant; MSAL's cache serves the token until shortly before expiry."""

    def __init__(self, credentials: ClientSecretCredentials, *, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self.cloud = get_cloud(credentials.cloud)
        self._clock = clock

    def __repr__(self) -> str:
        c = self._credentials
        return f"ClientSecretTokenCredential(tenant_id={c.tenant_id!r}, client_id={c.client_id!r}, cloud={c.cloud!r})"

    def _token(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        _accept(self.cloud, scopes)
        from ..stores.shared import shared_token_cache
        from ..stores.token_cache import TokenKey

        shared = shared_token_cache()  # None unless ..._REDIS_URL is set
        if shared is None:
            return self._acquire(claims)
        c = self._credentials
        key = TokenKey.for_client_secret(self.cloud.authority(c.tenant_id), c.client_id, self.cloud.scope, c.client_secret)
        if claims is None:
            return shared.get_or_fetch(key, lambda: self._acquire(None))
        token = self._acquire(claims)  # a claims challenge always goes to the identity platform,
        shared.put(key, token)  # and its token replaces the one the resource rejected, fleet-wide
        return token

    def _acquire(self, claims: str | None) -> AccessTokenInfo:
        """A token from MSAL (its in-process cache, else the identity platform)."""
        c = self._credentials
        authority = self.cloud.authority(c.tenant_id)
        app = msal_apps.get_app(authority, c.client_id, c.client_secret)
        try:
            result = app.acquire_token_for_client(scopes=[self.cloud.scope], claims_challenge=claims)
        except TRANSPORT_ERRORS as exc:
            raise error_from_exception(exc, where=authority) from None
        if "access_token" not in result:
            raise error_from_result(result, stage="client-credentials", tenant=c.tenant_id, client_id=c.client_id)
        now = int(self._clock())
        return AccessTokenInfo(
            result["access_token"],
            now + int(result.get("expires_in", 0)),
            refresh_on=now + int(result["refresh_in"]) if result.get("refresh_in") else None,
        )


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
            app = msal_apps.get_app(authority, self._settings.client_id, self._settings.client_secret, user_grants=True)
            try:
                result = app.acquire_token_by_refresh_token(
                    c.refresh_token, scopes=[self.cloud.scope], **({"data": {"claims": claims}} if claims else {})
                )
            except TRANSPORT_ERRORS as exc:
                raise error_from_exception(exc, where=authority) from None
            if "access_token" not in result:
                raise error_from_result(result, stage="refresh", tenant=c.tenant_id, client_id=c.client_id)
            expires_on = now + int(result.get("expires_in", 0))
            new_refresh = result.get("refresh_token") or c.refresh_token
            self._credentials = c.with_tokens(new_refresh, result["access_token"], expires_on)
            rotated = new_refresh != c.refresh_token
            updated = self._credentials
        if rotated and self._on_rotate is not None:
            self._on_rotate(updated)
        return AccessTokenInfo(result["access_token"], expires_on)
