"""The OAuth 2.0 authorization-code flow (PKCE S256, state, nonce) for the instance's app.

``begin`` builds the authorization URL without any network call; ``complete`` checks the
callback against the stored flow (single use, expiring) and exchanges the code with MSAL.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

import attrs

from ..clouds import get_cloud
from ..errors import AuthError, OAuthStateError
from ..formats import b64url_json, is_guid
from ..schema import OAuthCredentials, OAuthInput
from ..settings import InstanceSettings
from .flow_store import DEFAULT_FLOW_TTL_SECONDS, FlowStore, PendingFlow, default_flow_store

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
    oauth_input = oauth_input or OAuthInput()
    settings = settings or InstanceSettings.from_env()
    store = flow_store if flow_store is not None else default_flow_store()
    cloud = get_cloud(oauth_input.cloud)
    tenant = oauth_input.tenant_id or ANY_WORK_ACCOUNT
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
    store.put(flow)
    url = f"{cloud.authority(tenant)}/oauth2/v2.0/authorize?{urlencode(query)}"
    return AuthorizationRequest(url, state, flow.expires_at)


def _single(params: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            value = value[0] if value else ""
        out[str(key)] = str(value)
    return out


def complete(
    params: Mapping[str, Any],
    *,
    settings: InstanceSettings | None = None,
    flow_store: FlowStore | None = None,
    clock: Callable[[], float] = time.time,
) -> OAuthCredentials:
    """Finish the flow from the callback's query parameters and return the credentials to store."""
    from . import msal_apps
    from .aad_errors import TRANSPORT_ERRORS, error_from_exception, error_from_result

    params = _single(params)
    store = flow_store if flow_store is not None else default_flow_store()
    state = params.get("state", "")
    if not state:
        raise OAuthStateError("the callback has no state parameter: possible forgery; start the connection again", code="state_missing")
    flow = store.take(state)
    if flow is None:
        raise OAuthStateError(
            "unknown or already used OAuth state: possible forgery or a replayed callback; start the connection again",
            code="state_unknown",
        )
    if flow.expires_at <= clock():
        raise OAuthStateError("the sign-in took too long and the OAuth state expired; start the connection again", code="state_expired")
    settings = settings or InstanceSettings.from_env()
    if "error" in params:
        raise error_from_result(params, stage="authorize", tenant=flow.tenant, redirect_uri=flow.redirect_uri)
    if not params.get("code"):
        raise AuthError("the callback has neither a code nor an error; start the connection again", code="code_missing")
    if settings.client_id.lower() != flow.client_id.lower() or settings.redirect_uri != flow.redirect_uri:
        raise OAuthStateError("the instance's app registration or SITE_URL changed during sign-in; start again", code="settings_changed")

    cloud = get_cloud(flow.cloud)
    authority = cloud.authority(flow.tenant)
    app = msal_apps.get_app(authority, settings.client_id, settings.client_secret, user_grants=True)
    msal_flow = {
        "state": flow.state,
        "redirect_uri": flow.redirect_uri,
        "scope": list(flow.scopes),
        "code_verifier": flow.code_verifier,
        "nonce": flow.nonce,
    }
    try:
        result = app.acquire_token_by_auth_code_flow(msal_flow, params)
    except (ValueError, RuntimeError) as exc:  # state/nonce checks inside MSAL
        if "nonce" in str(exc).lower():
            raise OAuthStateError("the ID token's nonce does not match this flow: possible replay; start again", code="nonce_mismatch") from None
        if "state" in str(exc).lower():
            raise OAuthStateError("state mismatch; start the connection again", code="state_mismatch") from None
        raise error_from_exception(exc, where=authority) from None
    except TRANSPORT_ERRORS as exc:
        raise error_from_exception(exc, where=authority) from None
    if "access_token" not in result:
        raise error_from_result(result, stage="code", tenant=flow.tenant, redirect_uri=flow.redirect_uri)
    if not result.get("refresh_token"):
        raise AuthError(
            "Azure returned no refresh token; the offline_access permission was not granted. "
            "Add it under API permissions and connect again.",
            code="no_refresh_token",
        )
    tenant = _tenant_of(result)
    if is_guid(flow.tenant) and tenant and tenant.lower() != flow.tenant.lower():
        raise OAuthStateError(
            f"the sign-in completed in tenant {tenant}, not the requested tenant {flow.tenant}; start again",
            code="tenant_mismatch",
        )
    if not tenant:
        raise AuthError("the token response names no tenant (no tid claim or client_info)", code="tenant_unknown")
    now = int(clock())
    return OAuthCredentials(
        tenant_id=tenant,
        client_id=settings.client_id,
        refresh_token=result["refresh_token"],
        access_token=result["access_token"],
        expires_on=now + int(result.get("expires_in", 0)),
        cloud=cloud.slug,
    )


def _tenant_of(result: Mapping[str, Any]) -> str | None:
    claims = result.get("id_token_claims") or {}
    if claims.get("tid"):
        return str(claims["tid"])
    info = b64url_json(result.get("client_info") or "") or {}
    return str(info["utid"]) if info.get("utid") else None
