"""azure-core ``TokenCredential`` adapters for both auth methods.

Each credential asks for exactly one scope: the App Configuration audience of its cloud.
Any other scope is refused, so a token never reaches a resource it was not meant for.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TypeVar

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions

from app_connections.errors import RotationNotSaved
from app_connections.records import RotateCallback

from ..clouds import Cloud, get_cloud
from ..errors import AppConnectionError, AuthError, IdentityServiceError, ReconnectRequired
from ..http.answers import MAX_TOKEN_SECONDS
from ..http.errors import HttpPolicyError, policy_error
from ..settings import InstanceSettings
from . import msal_apps
from .aad_errors import TRANSPORT_ERRORS, error_from_exception, error_from_result

if TYPE_CHECKING:
    import msal

    from app_connections.jsontypes import JSONObject

    from ..methods.client_secret import ClientSecretCredentials
    from ..methods.oauth import OAuthCredentials
    from ..stores.token_cache import TokenKey

T = TypeVar("T")
_B = TypeVar("_B", bound="_Base")

logger = logging.getLogger("azure_appconfig_plugin.auth")

REFRESH_MARGIN_SECONDS = 300
"""A cached access token is reused until this many seconds before it expires."""


class ScopeNotAllowed(AuthError):
    """A caller asked for a token for something other than the store's audience."""

    category = "forbidden"
    http_status = 403


def _accept(cloud: Cloud, scopes: tuple[str, ...]) -> None:
    wanted = {cloud.scope, cloud.audience + "//.default"}
    if len(scopes) != 1 or scopes[0] not in wanted:
        raise ScopeNotAllowed(
            f"this credential only issues tokens for {cloud.scope}; refused {list(scopes)!r}",
            code="scope_not_allowed",
        )


def seconds_field(result: object, name: str, default: int = 0) -> int:
    """A token answer's ``expires_in``-like field as whole seconds; a typed error when it is not one."""
    value = result.get(name, default) if isinstance(result, dict) else default
    try:
        number = float(value)
    # http.answers.check_token_answer refuses a non-numeric seconds field before MSAL reads an answer;
    # MSAL's cached answers hold ints. Kept so a value that slips past both still ends typed.
    except (TypeError, ValueError, OverflowError):  # pragma: no cover - policy refuses non-numbers first
        number = float("nan")
    if not (0 <= number <= MAX_TOKEN_SECONDS):  # also false for nan and inf
        shown = "null" if value is None else type(value).__name__
        raise IdentityServiceError(
            f"the identity platform sent a token answer whose {name} is {shown}, not a number of seconds",
            code="malformed_answer",
        )
    return int(number)


MSAL_CHOKES: tuple[type[Exception], ...] = (TypeError, KeyError, AttributeError, OverflowError, RecursionError)
"""What MSAL raises when an answer has the wrong shape (a JSON list, a number where it wants a string)."""
IDENTITY_FAILURES: tuple[type[Exception], ...] = (
    AuthError,
    HttpPolicyError,
    *TRANSPORT_ERRORS,
    *MSAL_CHOKES,
)
"""Every exception ``typed_failure`` types."""


def typed_failure(exc: Exception, where: str) -> AppConnectionError:
    """The typed error for ``exc`` (one of ``IDENTITY_FAILURES``) raised by an MSAL call to ``where``."""
    if isinstance(exc, (AuthError, HttpPolicyError)):
        return exc
    if isinstance(exc, TRANSPORT_ERRORS):
        found = policy_error(exc)
        # requests and MSAL let the policy's own errors through unwrapped today; kept for a layer that wraps them.
        if found is not None:  # pragma: no cover - no layer wraps a policy error today
            return found
        return error_from_exception(exc, where=where)
    return IdentityServiceError(
        f"the identity platform at {where} sent an answer MSAL could not use ({type(exc).__name__}); "
        "check that the login host is the Microsoft identity platform",
        code="malformed_answer",
    )


def call_identity_platform(call: Callable[[], T], where: str) -> T:
    """Run an MSAL call; every failure (transport, policy, a malformed answer MSAL chokes on) ends typed."""
    try:
        return call()
    except IDENTITY_FAILURES as exc:
        typed = typed_failure(exc, where)
        if typed is exc:
            raise
        raise typed from None


class _Base:
    """What every token credential here shares: the host's environment, ``get_token`` and
    ``get_token_info`` over one ``_token(scopes, claims)``, and a no-op context manager."""

    cloud: Cloud
    _env: Mapping[str, str]
    """The host policy's environment when the credential was made (it names the shared stores)."""

    def __new__(cls: type[_B], *args: object, **kwargs: object) -> _B:
        from app_connections import policy as policies

        self = super().__new__(cls)
        self._env = policies.current().env  # captured here, so every subclass reads the host's, not os.environ
        return self

    def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: object
    ) -> AccessToken:
        """A token for the one scope this credential serves (``TokenCredential``)."""
        info = self._token(scopes, claims)
        return AccessToken(info.token, info.expires_on)

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        """A token with its refresh time for the one scope this credential serves (``SupportsTokenInfo``)."""
        claims = options.get("claims") if isinstance(options, dict) else None
        return self._token(scopes, claims)

    def _token(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release (``SupportsTokenInfo``)."""
        return None

    def __enter__(self: _B) -> _B:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def msal_answer(result: object, where: str) -> JSONObject:
    """An MSAL ``acquire_token_*`` result, which must be a dict (a token or an error answer)."""
    # msal 1.x returns a dict from every acquire_token_* path; on a body that is not a JSON object it raises
    # TypeError/AttributeError instead (typed by call_identity_platform). Kept against a change in MSAL.
    if not isinstance(result, dict):  # pragma: no cover - msal always returns a dict
        raise IdentityServiceError(f"{where} sent no token answer", code="malformed_answer")
    return result


def refresh_on(result: JSONObject, now: int, expires_in: int) -> int | None:
    """When to refresh proactively: MSAL turns the answer's ``refresh_in`` into an absolute ``refresh_on``
    (by its own clock); returned on the ``now`` clock, never later than expiry. None when the answer has none."""
    value = result.get("refresh_on")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return None
    return now + min(max(int(value - time.time()), 0), expires_in)


def token_info(
    result: object, authority: str, now: int, *, stage: str, tenant: str | None = None, client_id: str | None = None
) -> AccessTokenInfo:
    """An MSAL token answer as ``AccessTokenInfo``; an error answer typed by ``error_from_result``."""
    answer = msal_answer(result, f"the identity platform at {authority}")
    if "access_token" not in answer:
        raise error_from_result(answer, stage=stage, tenant=tenant, client_id=client_id)
    expires_in = seconds_field(answer, "expires_in")
    return AccessTokenInfo(
        str(answer["access_token"]), now + expires_in, refresh_on=refresh_on(answer, now, expires_in)
    )


class ClientIdentity(Protocol):
    """What ``ConfidentialClientCredential`` reads of its credentials: the tenant and the app."""

    @property
    def tenant_id(self) -> str:
        """The directory (tenant) ID the app signs in to."""

    @property
    def client_id(self) -> str:
        """The app registration's client ID."""


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

    _credentials: ClientIdentity
    _clock: Callable[[], float]

    def _preflight(self) -> None:
        """Refuse unusable material before any request (and before the shared cache)."""
        return None

    def _app(self, authority: str) -> msal.ConfidentialClientApplication:
        raise NotImplementedError

    def _token_key(self, authority: str) -> TokenKey:
        """The ``stores.token_cache.TokenKey`` of this credential."""
        raise NotImplementedError

    def _token(self, scopes: tuple[str, ...], claims: str | None) -> AccessTokenInfo:
        _accept(self.cloud, scopes)
        self._preflight()
        from ..stores.shared import shared_token_cache

        shared = shared_token_cache(self._env)  # None unless ..._REDIS_URL is set there
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

    _credentials: ClientSecretCredentials

    def __init__(self, credentials: ClientSecretCredentials, *, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self.cloud = get_cloud(credentials.cloud)
        self._clock = clock

    def __repr__(self) -> str:
        c = self._credentials
        return f"ClientSecretTokenCredential(tenant_id={c.tenant_id!r}, client_id={c.client_id!r}, cloud={c.cloud!r})"

    def _app(self, authority: str) -> msal.ConfidentialClientApplication:
        c = self._credentials
        return msal_apps.get_app(authority, c.client_id, c.client_secret)

    def _token_key(self, authority: str) -> TokenKey:
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
        self._saved_refresh = credentials.refresh_token
        """The refresh token the host holds (the one it gave, or the last ``on_rotate`` saved)."""
        self.rotation_error: RotationNotSaved | None = None
        """Why the last ``on_rotate`` call failed, until a later one succeeds (None: nothing unsaved)."""
        newest = unsaved_rotations.newest(credentials)
        if newest is not None:  # rotated in this process, never saved: continue from the newest tokens
            self._credentials, self._issued = newest, 1

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
                token = AccessTokenInfo(c.access_token, c.expires_on)
            else:
                token = self._refresh(c, now, claims)
        self._deliver_rotation()  # also a rotation not saved yet: the host's callback is tried again
        return token

    def _refresh(self, c: OAuthCredentials, now: int, claims: str | None) -> AccessTokenInfo:
        """Redeem the refresh token (under ``_lock``); a rotated one is kept, to be handed to ``on_rotate``."""
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
        result = msal_answer(result, f"the identity platform at {authority}")
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
        return AccessTokenInfo(access, expires_on)

    @property
    def rotation_pending(self) -> bool:
        """True while rotated credentials have not been saved by ``on_rotate``."""
        return self._on_rotate is not None and self._issued > self._delivered

    def save_rotation(self) -> None:
        """Hand unsaved rotated credentials to ``on_rotate`` now (nothing to do: returns at once).

        Raises ``RotationNotSaved`` when the callback raises again; the credentials stay in memory."""
        self._deliver_rotation()
        if self.rotation_pending and self.rotation_error is not None:
            raise self.rotation_error

    def _deliver_rotation(self) -> None:
        """Hand the newest rotated credentials to ``on_rotate``, in issue order.

        Runs outside the refresh lock (a slow callback does not hold up token requests) but under
        its own lock, and always delivers the newest credentials: an older refresh token can never
        overwrite a newer one, whatever the callbacks' timing. A callback that raises (the host's
        database is locked) loses nothing: the credentials stay here and in ``unsaved_rotations``
        (so a credential built again from the host's stored, older record continues from them), the
        failure is logged as ``RotationNotSaved`` and kept in ``rotation_error``, and the callback
        is called again on the next token request.
        """
        if self._on_rotate is None:
            return
        with self._rotate_lock:
            with self._lock:
                issued, latest = self._issued, self._credentials
            if issued <= self._delivered:
                return
            try:
                self._on_rotate(latest)
            except Exception as exc:  # the host's storage failed: keep the tokens, report, retry later
                self.rotation_error = rotation_not_saved(exc, latest)
                unsaved_rotations.keep(self._saved_refresh, latest)
                logger.error("%s", self.rotation_error)
                return
            unsaved_rotations.saved(self._saved_refresh, latest)
            self._saved_refresh = latest.refresh_token
            self._delivered = issued
            self.rotation_error = None


def rotation_not_saved(exc: Exception, latest: OAuthCredentials) -> RotationNotSaved:
    """The typed error for an ``on_rotate`` that raised: what it raised, with no token in it."""
    from app_connections.hosting import describe

    cause = describe(exc)
    for token in (latest.refresh_token, latest.access_token):
        if token:
            cause = cause.replace(token, "[REDACTED]")
    return RotationNotSaved(
        f"the rotated refresh token of app {latest.client_id} (tenant {latest.tenant_id}) was not saved: on_rotate "
        f"raised {cause}. It is kept in memory; on_rotate is called again on the next token request "
        "(or call save_rotation())",
        cause=cause,
    )


class UnsavedRotations:
    """Rotated OAuth credentials whose ``on_rotate`` failed, for this process's lifetime: keyed by a
    hash of the refresh token the host still holds, so any credential built from that (spent) record
    continues from the newest tokens instead of asking the user to sign in again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._newest: dict[str, OAuthCredentials] = {}

    @staticmethod
    def _key(client_id: str, refresh_token: str) -> str:
        import hashlib

        return hashlib.sha256(f"{client_id.lower()}\0{refresh_token}".encode()).hexdigest()

    def keep(self, held: str, latest: OAuthCredentials) -> None:
        """``latest`` replaces ``held`` (the host's refresh token) until it is saved."""
        with self._lock:
            self._newest[self._key(latest.client_id, held)] = latest

    def saved(self, held: str, latest: OAuthCredentials) -> None:
        """The host saved ``latest``: what was kept for ``held`` is no longer needed."""
        with self._lock:
            self._newest.pop(self._key(latest.client_id, held), None)

    def newest(self, credentials: OAuthCredentials) -> OAuthCredentials | None:
        """The unsaved newest credentials for a record the host holds, or None."""
        with self._lock:
            return self._newest.get(self._key(credentials.client_id, credentials.refresh_token))


unsaved_rotations = UnsavedRotations()
"""This process's rotated credentials not saved yet (``OAuthTokenCredential`` uses it)."""
