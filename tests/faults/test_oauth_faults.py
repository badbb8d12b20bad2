"""complete() input, the callback's text and a forged identity platform."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_connections.flow_store import InMemoryFlowStore
from azure_appconfig_plugin.auth import oauth
from azure_appconfig_plugin.errors import (
    AppConnectionError,
    AuthError,
    InvalidClientSecret,
    InvalidInput,
    OAuthStateError,
)
from azure_appconfig_plugin.methods.oauth import OAuthCredentials, OAuthInput, OAuthMethod, credentials_from_grant
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes

from .standins import IdentityPlatform, Seen, json_answer

TENANT_A = "aaaaaaaa-0000-4000-8000-00000000000a"
TENANT_B = "bbbbbbbb-0000-4000-8000-00000000000b"
DOMAIN = "contoso.example.com"


@pytest.fixture
def settings() -> InstanceSettings:
    return InstanceSettings.from_env(azure_fakes.fake_instance_env())


def sign_in(identity: IdentityPlatform, settings: InstanceSettings, tenant: str | None = DOMAIN) -> Any:
    store = InMemoryFlowStore()
    request = oauth.begin(OAuthInput(tenant_id=tenant), settings=settings, flow_store=store)
    query = parse_qs(urlsplit(request.url).query)
    identity.pending_nonce = query["nonce"][0]
    return oauth.complete({"code": "canary-code", "state": request.state}, settings=settings, flow_store=store)


@pytest.fixture
def forged(identity: IdentityPlatform) -> IdentityPlatform:
    identity.tenants = {DOMAIN: TENANT_A, TENANT_A: TENANT_A, TENANT_B: TENANT_B, "organizations": TENANT_B}
    return identity


def test_a_domain_tenant_sign_in_pins_the_discovered_tenant(
    forged: IdentityPlatform, settings: InstanceSettings
) -> None:
    credentials = sign_in(forged, settings)
    assert credentials.tenant_id == TENANT_A


def test_the_exchange_yields_a_grant_that_the_method_stores(
    forged: IdentityPlatform, settings: InstanceSettings
) -> None:
    grant = sign_in(forged, settings)
    assert isinstance(grant, oauth.Grant)
    assert grant.refresh_token.startswith("rotated-refresh-token-") and grant.access_token
    assert credentials_from_grant(grant) == OAuthCredentials(
        tenant_id=TENANT_A,
        client_id=settings.client_id,
        refresh_token=grant.refresh_token,
        access_token=grant.access_token,
        expires_on=grant.expires_on,
        cloud="public",
    )
    store = InMemoryFlowStore()
    method = OAuthMethod()
    request = method.begin(OAuthInput(tenant_id=DOMAIN), settings=settings, flow_store=store)
    forged.pending_nonce = parse_qs(urlsplit(request.url).query)["nonce"][0]
    stored = method.complete({"code": "canary-code", "state": request.state}, settings=settings, flow_store=store)
    assert isinstance(stored, OAuthCredentials) and stored.tenant_id == TENANT_A
    assert stored.refresh_token.startswith("rotated-refresh-token-") and stored.refresh_token != grant.refresh_token


def test_a_grant_repr_shows_no_token() -> None:
    grant = oauth.Grant(
        tenant_id=TENANT_A,
        client_id="client",
        refresh_token="canary-refresh-token",
        access_token="canary-access-token",
        expires_on=1,
        cloud="public",
    )
    shown = repr(grant)
    assert "canary-refresh-token" not in shown and "canary-access-token" not in shown
    assert TENANT_A in shown and "client" in shown and "public" in shown


def test_a_domain_tenant_refuses_a_token_issued_by_another_tenant(
    forged: IdentityPlatform, settings: InstanceSettings
) -> None:
    forged.id_token_claims = {"tid": TENANT_B, "iss": forged.issuer(TENANT_B)}
    with pytest.raises(OAuthStateError) as caught:
        sign_in(forged, settings)
    assert caught.value.code == "tenant_mismatch" and TENANT_A in str(caught.value)


def test_a_token_answer_without_an_id_token_is_refused(forged: IdentityPlatform, settings: InstanceSettings) -> None:
    good = forged.good_token

    def no_id_token(seen: Seen, tid: str) -> Any:
        answer = good(seen, tid)
        body = json.loads(answer.body)
        body.pop("id_token", None)
        return json_answer(body)

    forged.token_answer = no_id_token
    with pytest.raises(OAuthStateError) as caught:
        sign_in(forged, settings)
    assert caught.value.code == "id_token_missing"


@pytest.mark.parametrize(
    "claims, code",
    [
        ({"aud": "99999999-9999-9999-9999-999999999999"}, "audience_mismatch"),
        ({"iss": "https://login.attacker.example/" + TENANT_A + "/v2.0"}, "issuer_mismatch"),
        ({"nonce": "0" * 64}, "nonce_mismatch"),
        ({"nonce": ...}, "nonce_mismatch"),
    ],
    ids=["audience", "issuer", "nonce", "no-nonce"],
)
def test_the_id_token_is_checked(
    forged: IdentityPlatform, settings: InstanceSettings, claims: dict[str, Any], code: str
) -> None:
    forged.id_token_claims = claims
    with pytest.raises(OAuthStateError) as caught:
        sign_in(forged, settings)
    assert caught.value.code == code


# --- finding 5: complete() with what is not a mapping --------------------------------------------


@pytest.mark.parametrize("params", [None, "code=abc&state=x", ["code", "state"], 42])
def test_complete_with_a_non_mapping_is_invalid_input(params: Any, settings: InstanceSettings) -> None:
    with pytest.raises(InvalidInput):
        oauth.complete(params, settings=settings, flow_store=InMemoryFlowStore())


# --- finding 8: callback text is bounded, stripped, and never decides the class -------------------

HOSTILE = "\x1b[31mred\x1b[0m\rOVERWRITE\x07bell\u202eevil\u2066" + "A" * 1_000_000


def _callback(settings: InstanceSettings, extra: dict[str, Any]) -> AppConnectionError:
    store = InMemoryFlowStore()
    request = oauth.begin(OAuthInput(), settings=settings, flow_store=store)
    with pytest.raises(AppConnectionError) as caught:
        oauth.complete({"state": request.state, **extra}, settings=settings, flow_store=store)
    return caught.value


@pytest.mark.parametrize("field", ["error", "error_description", "correlation_id"])
def test_callback_text_is_bounded_and_stripped(settings: InstanceSettings, field: str) -> None:
    params = {"error": "access_denied", "error_description": "declined", field: HOSTILE}
    exc = _callback(settings, params)
    shown = str(exc) + json.dumps(exc.to_dict())
    assert len(shown) < 3000
    for bad in ("\x1b", "\r", "\x07", "\u202e", "\u2066"):
        assert bad not in str(exc) and bad not in (exc.code or "") and bad not in (exc.correlation_id or "")


def test_description_text_never_decides_the_error_class(settings: InstanceSettings) -> None:
    exc = _callback(
        settings, {"error": "invalid_request", "error_description": "AADSTS7000215: Invalid client secret provided."}
    )
    assert type(exc) is AuthError and exc.code == "invalid_request"


def test_integer_error_codes_decide_the_class(settings: InstanceSettings) -> None:
    exc = _callback(settings, {"error": "invalid_client", "error_codes": "7000215", "error_description": "something"})
    assert isinstance(exc, InvalidClientSecret) and exc.code == "AADSTS7000215"
