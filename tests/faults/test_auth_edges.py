"""Edges of the auth package against the stand-in identity platform: proactive refresh times, answers
that are not JSON, the OAuth code exchange's failure paths, bounded caches and waits, flow storage."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_connections.flow_store import InMemoryFlowStore, PendingFlow
from app_connections.testing import fakes
from azure_appconfig_plugin.auth import msal_apps, oauth
from azure_appconfig_plugin.auth.aad_errors import remedy_for
from azure_appconfig_plugin.auth.credential import ClientSecretTokenCredential, OAuthTokenCredential
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import (
    AccessDenied,
    AuthError,
    IdentityServiceError,
    OAuthStateError,
)
from azure_appconfig_plugin.http.errors import ForeignHostRefused, HttpPolicyError
from azure_appconfig_plugin.http.limits import configure
from azure_appconfig_plugin.methods import ClientSecretMethod
from azure_appconfig_plugin.methods.oauth import OAuthCredentials, OAuthInput
from azure_appconfig_plugin.settings import CLIENT_ID_ENV, InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes

from .conftest import CANARY_SECRET, client_secret_input
from .standins import Answer, IdentityPlatform, Seen, StandIn, json_answer

SCOPE = "https://azconfig.io/.default"
DOMAIN = "contoso.example.com"
BUSY_FIX = "Retry in a minute; Azure is throttling or briefly unavailable."


def credential(secret: str = CANARY_SECRET) -> ClientSecretTokenCredential:
    return ClientSecretTokenCredential(ClientSecretMethod().parse(client_secret_input(secret)))


def token_check(report: Any) -> Any:
    return next(c for c in report.checks if c.name == "token")


@pytest.fixture
def settings() -> InstanceSettings:
    return InstanceSettings.from_env(azure_fakes.fake_instance_env())


def oauth_credentials() -> OAuthCredentials:
    return OAuthCredentials(
        tenant_id=fakes.FAKE_TENANT_ID, client_id=fakes.FAKE_INSTANCE_CLIENT_ID, refresh_token="rt-0"
    )


# --- proactive refresh (refresh_in) -----------------------------------------------------------------


def test_a_token_answer_with_refresh_in_gets_a_refresh_time_also_from_msal_cache(identity: IdentityPlatform) -> None:
    # MSAL turns the answer's refresh_in into refresh_on; it used to be dropped (refresh_on was always None),
    # so neither azure-core nor the shared token cache ever refreshed before expiry.
    identity.token_answer = lambda seen, tid: json_answer(
        {"token_type": "Bearer", "expires_in": 86399, "refresh_in": 43200, "access_token": "a.b.c"}
    )
    cred = credential()
    first = cred.get_token_info(SCOPE)
    assert first.refresh_on is not None and abs(first.refresh_on - (time.time() + 43200)) < 120
    assert first.refresh_on < first.expires_on
    again = cred.get_token_info(SCOPE)  # served by MSAL's cache: still has its refresh time
    assert len(identity.token_requests) == 1 and again.refresh_on is not None
    assert abs(again.refresh_on - first.refresh_on) < 120


def test_a_token_answer_without_refresh_in_has_no_refresh_time(identity: IdentityPlatform) -> None:
    assert credential().get_token_info(SCOPE).refresh_on is None


# --- answers that are not JSON, 5xx ------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 400])
def test_a_throttling_answer_that_is_not_json_is_not_called_unreachable(
    identity: IdentityPlatform, status: int
) -> None:
    identity.token_answer = lambda seen, tid: Answer(status, {"Content-Type": "text/html"}, b"<html>slow down</html>")
    with pytest.raises(HttpPolicyError if status == 400 else IdentityServiceError) as caught:
        credential().get_token(SCOPE)
    assert caught.value.code == "malformed_answer" and "not JSON" in str(caught.value)
    assert "unreachable" not in str(caught.value) and "network" not in str(caught.value)
    check = token_check(build_connection_type().validate(client_secret_input(), method="client-secret"))
    assert check.status.value == "failed" and check.code == "malformed_answer"
    if status == 429:  # MSAL parses the 429 body itself; the policy only checks 2xx and other 4xx answers
        assert check.remediation == BUSY_FIX


def test_a_5xx_from_the_token_endpoint_is_transient_with_the_retry_remedy(identity: IdentityPlatform) -> None:
    identity.token_answer = lambda seen, tid: Answer(503, {"Content-Type": "text/html"}, b"<html>busy</html>")
    check = token_check(build_connection_type().validate(client_secret_input(), method="client-secret"))
    assert check.code == "503" and "HTTP 503" in check.detail and check.remediation == BUSY_FIX


@pytest.mark.parametrize(
    ("field", "words"),
    [("clientSecret", "new client secret"), ("tenantId", "tenant ID"), ("clientId", "client ID")],
)
def test_an_error_naming_one_of_our_fields_gets_that_fields_remedy(field: str, words: str) -> None:
    # e.g. a plugin's method raising AuthError(field=...) with a code the identity table does not know
    remedy = remedy_for(AuthError("refused", code="plugin_specific", field=field))
    assert words in remedy and remedy != "Follow the message above; reconnect if it says so."


# --- the credential objects ----------------------------------------------------------------------------


def test_a_credential_is_its_own_context_manager_and_does_not_swallow_errors() -> None:
    cred = credential()
    with cred as entered:
        assert entered is cred
    with pytest.raises(KeyError), cred:
        raise KeyError("from the block")
    assert cred.close() is None


def test_oauth_credential_repr_names_the_connection_not_its_tokens(settings: InstanceSettings) -> None:
    text = repr(OAuthTokenCredential(oauth_credentials(), settings))
    assert fakes.FAKE_TENANT_ID in text and fakes.FAKE_INSTANCE_CLIENT_ID in text and "rt-0" not in text


def test_a_refresh_answer_without_a_new_refresh_token_keeps_the_old_one_and_rotates_nothing(
    identity: IdentityPlatform, settings: InstanceSettings
) -> None:
    identity.token_answer = lambda seen, tid: json_answer(
        {"token_type": "Bearer", "expires_in": 3599, "access_token": "at-1"}
    )
    rotated: list[OAuthCredentials] = []
    cred = OAuthTokenCredential(oauth_credentials(), settings, on_rotate=rotated.append)
    assert cred.get_token(SCOPE).token == "at-1"
    assert rotated == [] and cred.credentials.refresh_token == "rt-0" and cred.credentials.access_token == "at-1"


def test_a_refresh_token_that_is_not_a_string_is_refused(
    identity: IdentityPlatform, settings: InstanceSettings
) -> None:
    identity.token_answer = lambda seen, tid: json_answer(
        {"token_type": "Bearer", "expires_in": 3599, "access_token": "at-1", "refresh_token": 12345}
    )
    rotated: list[OAuthCredentials] = []
    cred = OAuthTokenCredential(oauth_credentials(), settings, on_rotate=rotated.append)
    with pytest.raises(IdentityServiceError) as caught:
        cred.get_token(SCOPE)
    assert caught.value.code == "malformed_answer" and "not a string" in str(caught.value)
    assert rotated == [] and cred.credentials.refresh_token == "rt-0"


# --- bounded caches and waits ------------------------------------------------------------------------


def discoveries(identity: IdentityPlatform) -> int:
    return sum(1 for s in identity.server.seen if s.path.endswith("/.well-known/openid-configuration"))


def test_the_app_cache_is_bounded_and_evicts_the_least_recently_used(
    identity: IdentityPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(msal_apps, "MAX_APPS", 2)
    for secret in ("secret-1", "secret-2", "secret-1"):  # secret-1 used again: now the most recent
        credential(secret).get_token(SCOPE)
    assert discoveries(identity) == 2
    credential("secret-3").get_token(SCOPE)  # evicts secret-2's app, keeps secret-1's
    credential("secret-1").get_token(SCOPE)
    assert discoveries(identity) == 3 and len(identity.token_requests) == 3
    credential("secret-2").get_token(SCOPE)  # rebuilt: discovery and token again
    assert discoveries(identity) == 4 and len(identity.token_requests) == 4


def test_waiting_for_another_request_of_the_same_token_is_bounded(identity: IdentityPlatform) -> None:
    configure(token_request_seconds=0.2)
    cred = credential()
    authority = cred.cloud.authority(fakes.FAKE_TENANT_ID)
    in_flight = msal_apps.single_flight(authority, fakes.FAKE_CLIENT_ID, cred.cloud.scope)  # another request
    with in_flight, pytest.raises(IdentityServiceError) as caught:
        cred.get_token(SCOPE)
    assert caught.value.code == "token_wait_timeout" and caught.value.retryable
    assert identity.server.seen == []  # the waiter sent nothing


# --- the OAuth flow ----------------------------------------------------------------------------------


def begin(identity: IdentityPlatform, settings: InstanceSettings, store: Any, tenant: str | None = DOMAIN) -> Any:
    request = oauth.begin(OAuthInput(tenant_id=tenant), settings=settings, flow_store=store)
    identity.pending_nonce = parse_qs(urlsplit(request.url).query)["nonce"][0]
    return request


def sign_in(identity: IdentityPlatform, settings: InstanceSettings, tenant: str | None = DOMAIN) -> Any:
    store = InMemoryFlowStore()
    request = begin(identity, settings, store, tenant)
    return oauth.complete({"code": "canary-code", "state": request.state}, settings=settings, flow_store=store)


@pytest.fixture
def domain(identity: IdentityPlatform) -> IdentityPlatform:
    identity.tenants = {DOMAIN: fakes.FAKE_TENANT_ID, fakes.FAKE_TENANT_ID: fakes.FAKE_TENANT_ID}
    return identity


def test_begin_without_a_prompt_sends_none(settings: InstanceSettings) -> None:
    request = oauth.begin(settings=settings, flow_store=InMemoryFlowStore(), prompt=None)
    assert "prompt" not in parse_qs(urlsplit(request.url).query)
    with_prompt = oauth.begin(settings=settings, flow_store=InMemoryFlowStore())
    assert parse_qs(urlsplit(with_prompt.url).query)["prompt"] == ["select_account"]


def test_settings_changed_during_sign_in_stops_before_any_request(
    domain: IdentityPlatform, settings: InstanceSettings
) -> None:
    store = InMemoryFlowStore()
    request = begin(domain, settings, store)
    changed = InstanceSettings.from_env({**azure_fakes.fake_instance_env(), CLIENT_ID_ENV: fakes.FAKE_CLIENT_ID})
    with pytest.raises(OAuthStateError) as caught:
        oauth.complete({"code": "canary-code", "state": request.state}, settings=changed, flow_store=store)
    assert caught.value.code == "settings_changed" and domain.server.seen == []


def test_a_token_endpoint_redirecting_the_code_elsewhere_is_refused(
    domain: IdentityPlatform, other_host: StandIn, settings: InstanceSettings
) -> None:
    domain.token_answer = lambda seen, tid: Answer(307, {"Location": f"{other_host.url}/{tid}/oauth2/v2.0/token"})
    with pytest.raises(ForeignHostRefused):
        sign_in(domain, settings)
    assert other_host.seen == []  # neither the code nor the client secret went there


def test_a_flow_store_handing_back_another_flow_is_a_state_mismatch(
    domain: IdentityPlatform, settings: InstanceSettings
) -> None:
    inner = InMemoryFlowStore()

    class WrongFlowStore:  # a host's store with a bug: take() returns some other pending flow
        def put(self, flow: PendingFlow) -> None:
            inner.put(flow)

        def take(self, state: str) -> PendingFlow | None:
            return inner.take(other.state)

    store = WrongFlowStore()
    mine = begin(domain, settings, store)
    other = begin(domain, settings, store)
    with pytest.raises(OAuthStateError) as caught:
        oauth.complete({"code": "canary-code", "state": mine.state}, settings=settings, flow_store=store)
    assert caught.value.code == "state_mismatch" and domain.token_requests == []


def test_a_code_exchange_answered_with_a_non_json_429_is_typed(
    domain: IdentityPlatform, settings: InstanceSettings
) -> None:
    domain.token_answer = lambda seen, tid: Answer(429, {"Content-Type": "text/html"}, b"<html>slow down</html>")
    with pytest.raises(IdentityServiceError) as caught:
        sign_in(domain, settings)
    assert caught.value.code == "malformed_answer" and "unreachable" not in str(caught.value)


def _with(identity: IdentityPlatform, change: Any) -> None:
    good = identity.good_token

    def answer(seen: Seen, tid: str) -> Answer:
        body = json.loads(good(seen, tid).body)
        change(body)
        return json_answer(body)

    identity.token_answer = answer


def test_a_code_exchange_answer_msal_chokes_on_is_typed(domain: IdentityPlatform, settings: InstanceSettings) -> None:
    _with(domain, lambda body: body.update(id_token=5))
    with pytest.raises(IdentityServiceError) as caught:
        sign_in(domain, settings)
    assert caught.value.code == "malformed_answer" and "MSAL could not use" in str(caught.value)


def test_a_code_exchange_without_a_refresh_token_says_offline_access(
    domain: IdentityPlatform, settings: InstanceSettings
) -> None:
    _with(domain, lambda body: body.pop("refresh_token"))
    with pytest.raises(AuthError) as caught:
        sign_in(domain, settings)
    assert caught.value.code == "no_refresh_token" and "offline_access" in str(caught.value)


def test_a_domain_tenant_discovered_as_no_tenant_id_is_refused(
    identity: IdentityPlatform, settings: InstanceSettings
) -> None:
    identity.tenants = {DOMAIN: "not-a-tenant-id"}
    with pytest.raises(OAuthStateError) as caught:
        sign_in(identity, settings)
    assert caught.value.code == "tenant_unknown" and DOMAIN in str(caught.value)


def test_an_id_token_without_a_tenant_is_refused(domain: IdentityPlatform, settings: InstanceSettings) -> None:
    domain.id_token_claims = {"tid": ...}  # removed from the ID token
    with pytest.raises(AuthError) as caught:
        sign_in(domain, settings)
    assert caught.value.code == "tenant_unknown" and "no tid" in str(caught.value)


# --- flow storage ----------------------------------------------------------------------------------


def test_a_full_flow_store_drops_the_flow_closest_to_expiry(settings: InstanceSettings) -> None:
    store = InMemoryFlowStore(max_flows=2)
    first = oauth.begin(settings=settings, flow_store=store, ttl_seconds=100)
    second = oauth.begin(settings=settings, flow_store=store, ttl_seconds=300)
    third = oauth.begin(settings=settings, flow_store=store, ttl_seconds=200)
    assert len(store) == 2
    with pytest.raises(OAuthStateError) as caught:
        oauth.complete({"state": first.state, "error": "access_denied"}, settings=settings, flow_store=store)
    assert caught.value.code == "state_unknown"
    for kept in (second, third):
        with pytest.raises(AccessDenied):
            oauth.complete({"state": kept.state, "error": "access_denied"}, settings=settings, flow_store=store)


def test_begin_and_complete_without_a_store_share_the_default_one(settings: InstanceSettings) -> None:
    request = oauth.begin(settings=settings)
    with pytest.raises(AccessDenied):  # not state_unknown: the flow was found in the same default store
        oauth.complete({"state": request.state, "error": "access_denied"}, settings=settings)
