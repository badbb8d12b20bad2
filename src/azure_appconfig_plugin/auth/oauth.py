"""The OAuth 2.0 authorization-code flow (PKCE S256, state, nonce) for the instance's app.

``begin`` builds the authorization URL without any network call; ``complete`` checks the
callback against the stored flow (single use, expiring), exchanges the code with MSAL and returns
the ``Grant`` (``methods.oauth`` turns it into the credentials to store).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import attrs

from app_connections.errors import FlowStateError
from app_connections.flow_store import DEFAULT_FLOW_TTL_SECONDS, FlowStore, PendingFlow

from ..clouds import get_cloud
from ..errors import AuthError, OAuthStateError
from ..formats import is_guid
from ..methods.common import CLOUD
from ..settings import InstanceSettings
from ..stores.shared import default_flow_store

if TYPE_CHECKING:
    import msal

    from app_connections.jsontypes import JSONInput

    from ..methods.oauth import OAuthInput

RESERVED_SCOPES = ("offline_access", "openid", "profile")
ANY_WORK_ACCOUNT = "organizations"

TokenFactory = Callable[[], str]


def _random_token() -> str:
    return secrets.token_urlsafe(32)


def _nonce_hash(nonce: str) -> str:
    # MSAL sends sha256(nonce) in the request and compares it with the id_token's nonce claim.
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


def _code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@attrs.frozen
class AuthorizationRequest:
    """Where to send the user's browser, and the state that identifies the flow."""

    url: str
    state: str
    expires_at: float


@attrs.frozen
class Grant:
    """What the code exchange yields: the user's grant of the instance's app registration
    (``client_id``), its tokens (never in ``repr``) and the Unix time the access token expires."""

    tenant_id: str
    client_id: str
    refresh_token: str = attrs.field(repr=False)
    access_token: str = attrs.field(repr=False)
    expires_on: int
    cloud: str


def begin(
    oauth_input: OAuthInput | None = None,
    *,
    settings: InstanceSettings | None = None,
    flow_store: FlowStore | None = None,
    ttl_seconds: int = DEFAULT_FLOW_TTL_SECONDS,
    prompt: str | None = "select_account",
    token_factory: TokenFactory | None = None,
    clock: Callable[[], float] = time.time,
) -> AuthorizationRequest:
    """Start the flow: store its pending state in ``flow_store`` and return where to send the browser
    (``oauth_input`` None: any work account, the default cloud)."""
    store = flow_store if flow_store is not None else default_flow_store()
    flow, request = prepare(
        oauth_input, settings=settings, ttl_seconds=ttl_seconds, prompt=prompt, token_factory=token_factory, clock=clock
    )
    store.put(flow)
    return request


def prepare(
    oauth_input: OAuthInput | None = None,
    *,
    settings: InstanceSettings | None = None,
    ttl_seconds: int = DEFAULT_FLOW_TTL_SECONDS,
    prompt: str | None = "select_account",
    token_factory: TokenFactory | None = None,
    clock: Callable[[], float] = time.time,
) -> tuple[PendingFlow, AuthorizationRequest]:
    """The pending flow ``begin`` stores and the authorization request it returns (no I/O)."""
    settings = settings or InstanceSettings.from_env()
    cloud = get_cloud(oauth_input.cloud if oauth_input is not None else str(CLOUD.default))
    tenant = (oauth_input.tenant_id if oauth_input is not None else None) or ANY_WORK_ACCOUNT
    token = token_factory or _random_token
    state, nonce, verifier = token(), token(), token() + token()
    scopes = (cloud.scope, *RESERVED_SCOPES)
    flow = PendingFlow(
        state=state,
        nonce=nonce,
        code_verifier=verifier[:128],
        tenant=tenant,
        cloud=cloud.slug,
        redirect_uri=settings.redirect_uri,
        client_id=settings.client_id,
        scopes=scopes,
        expires_at=clock() + ttl_seconds,
    )
    query = {
        "client_id": settings.client_id,
        "response_type": "code",
        "redirect_uri": settings.redirect_uri,
        "response_mode": "query",
        "scope": " ".join(scopes),
        "state": state,
        "nonce": _nonce_hash(nonce),
        "code_challenge": _code_challenge(flow.code_verifier),
        "code_challenge_method": "S256",
    }
    if prompt:
        query["prompt"] = prompt
    url = f"{cloud.authority(tenant)}/oauth2/v2.0/authorize?{urlencode(query)}"
    return flow, AuthorizationRequest(url, state, flow.expires_at)


MAX_PARAM_LENGTH = 8192
"""Longer callback values are cut (authorization codes are ~1-2 KB)."""


def _single(params: object) -> dict[str, str]:
    from ..errors import FieldError, InvalidInput

    if not isinstance(params, Mapping):
        raise InvalidInput(
            errors=[
                FieldError("params", f"the callback's query parameters must be a mapping, not {type(params).__name__}")
            ]
        )
    out: dict[str, str] = {}
    for key, value in list(params.items())[:100]:
        if isinstance(value, (list, tuple)):
            value = value[0] if value else ""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            value = ""
        out[str(key)[:100]] = str(value)[:MAX_PARAM_LENGTH]
    return out


def complete(
    params: Mapping[str, object],
    *,
    settings: InstanceSettings | None = None,
    flow_store: FlowStore | None = None,
    clock: Callable[[], float] = time.time,
) -> Grant:
    """Finish the flow from the callback's query parameters and return the grant the code exchange yields."""
    single = _single(params)
    store = flow_store if flow_store is not None else default_flow_store()
    state = callback_state(single)
    try:
        flow = store.take(state)
    except FlowStateError as exc:  # the kit's store saw a replay: the provider's state error, same code
        raise OAuthStateError(exc.message, code=exc.code) from None
    return finish(single, flow, settings=settings, clock=clock)


def callback_state(params: Mapping[str, str]) -> str:
    """The callback's ``state`` (``OAuthStateError`` when it has none)."""
    state = params.get("state", "")
    if not state:
        raise OAuthStateError(
            "the callback has no state parameter: possible forgery; start the connection again", code="state_missing"
        )
    return state


def finish(
    params: Mapping[str, str],
    flow: PendingFlow | None,
    *,
    settings: InstanceSettings | None = None,
    clock: Callable[[], float] = time.time,
) -> Grant:
    """``complete`` once the flow was taken from its store: check it, exchange the code (MSAL)."""
    from . import msal_apps
    from .aad_errors import error_from_result
    from .credential import IDENTITY_FAILURES, call_identity_platform, msal_answer, typed_failure

    if flow is None:
        raise OAuthStateError(
            "unknown or already used OAuth state: possible forgery or a replayed callback; start the connection again",
            code="state_unknown",
        )
    if flow.expires_at <= clock():
        raise OAuthStateError(
            "the sign-in took too long and the OAuth state expired; start the connection again", code="state_expired"
        )
    settings = settings or InstanceSettings.from_env()
    if "error" in params:
        raise error_from_result(params, stage="authorize", tenant=flow.tenant, redirect_uri=flow.redirect_uri)
    if not params.get("code"):
        raise AuthError("the callback has neither a code nor an error; start the connection again", code="code_missing")
    if settings.client_id.lower() != flow.client_id.lower() or settings.redirect_uri != flow.redirect_uri:
        raise OAuthStateError(
            "the instance's app registration or SITE_URL changed during sign-in; start again", code="settings_changed"
        )

    cloud = get_cloud(flow.cloud)
    authority = cloud.authority(flow.tenant)
    app = call_identity_platform(
        lambda: msal_apps.get_app(authority, settings.client_id, settings.client_secret, user_grants=True), authority
    )
    msal_flow = {
        "state": flow.state,
        "redirect_uri": flow.redirect_uri,
        "scope": list(flow.scopes),
        "code_verifier": flow.code_verifier,
        "nonce": flow.nonce,
    }
    try:
        result = app.acquire_token_by_auth_code_flow(msal_flow, params)
    except RuntimeError:  # MSAL's only RuntimeError in this flow: the ID token's nonce (no max_age is sent)
        raise OAuthStateError(
            "the ID token's nonce does not match this flow: possible replay; start again", code="nonce_mismatch"
        ) from None
    except IDENTITY_FAILURES as exc:
        if isinstance(exc, ValueError) and "state" in str(exc).lower():  # a host's FlowStore gave another flow
            raise OAuthStateError("state mismatch; start the connection again", code="state_mismatch") from None
        typed = typed_failure(exc, authority)
        if typed is exc:
            raise
        raise typed from None
    result = msal_answer(result, f"the identity platform at {authority}")
    if "access_token" not in result:
        raise error_from_result(result, stage="code", tenant=flow.tenant, redirect_uri=flow.redirect_uri)
    if not result.get("refresh_token"):
        raise AuthError(
            "Azure returned no refresh token; the offline_access permission was not granted. "
            "Add it under API permissions and connect again.",
            code="no_refresh_token",
        )
    tenant = _check_id_token(result, flow, settings, cloud.authority_base, _discovered_tenant(app, flow.tenant))
    from .credential import seconds_field

    now = int(clock())
    return Grant(
        tenant_id=tenant,
        client_id=settings.client_id,
        refresh_token=str(result["refresh_token"]),
        access_token=str(result["access_token"]),
        expires_on=now + seconds_field(result, "expires_in"),
        cloud=cloud.slug,
    )


def _discovered_tenant(app: msal.ConfidentialClientApplication, requested: str) -> str | None:
    """The tenant ID the authority resolved to (MSAL reads it from the discovered token endpoint).

    None for ``organizations`` (any work account may sign in); for a GUID tenant, that GUID; for a
    domain tenant, the GUID its discovery document names.
    """
    if requested.lower() == ANY_WORK_ACCOUNT:
        return None
    if is_guid(requested):
        return requested
    found = str(getattr(getattr(app, "authority", None), "tenant", "") or "")
    if not is_guid(found):
        raise OAuthStateError(
            f"the identity platform did not resolve tenant {requested} to a tenant ID; start again",
            code="tenant_unknown",
        )
    return found


def _check_id_token(
    result: JSONInput, flow: PendingFlow, settings: InstanceSettings, authority_base: str, pinned: str | None
) -> str:
    """Require the ID token and check it: nonce, audience, issuer, and the tenant pin. Returns the tenant ID."""
    claims = result.get("id_token_claims")
    if not result.get("id_token") or not isinstance(claims, Mapping) or not claims:
        raise OAuthStateError(
            "the token response has no ID token, so the sign-in cannot be tied to this flow (nonce); start again",
            code="id_token_missing",
        )
    # MSAL compares the ID token's nonce first and raises RuntimeError (nonce_mismatch in complete()); this
    # check is kept so the flow's replay protection does not rest on MSAL alone.
    if claims.get("nonce") != _nonce_hash(flow.nonce):  # pragma: no cover - MSAL refuses a wrong nonce first
        raise OAuthStateError(
            "the ID token's nonce does not match this flow: possible replay; start again", code="nonce_mismatch"
        )
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not any(isinstance(a, str) and a.lower() == settings.client_id.lower() for a in audiences):
        raise OAuthStateError(
            f"the ID token was issued to another application, not {settings.client_id}; start again",
            code="audience_mismatch",
        )
    tenant = claims.get("tid")
    if not isinstance(tenant, str) or not is_guid(tenant):
        raise AuthError("the ID token names no tenant (no tid claim); start again", code="tenant_unknown")
    if pinned is not None and tenant.lower() != pinned.lower():
        raise OAuthStateError(
            f"the sign-in completed in tenant {tenant}, not the requested tenant {flow.tenant} ({pinned}); start again",
            code="tenant_mismatch",
        )
    issuer = f"{authority_base}/{tenant}/v2.0"
    if str(claims.get("iss", "")).rstrip("/").lower() != issuer.lower():
        raise OAuthStateError(
            f"the ID token's issuer is not {issuer}: it was not issued by the identity platform "
            f"for tenant {tenant}; start again",
            code="issuer_mismatch",
        )
    return tenant
