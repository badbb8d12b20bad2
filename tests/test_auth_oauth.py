"""The OAuth authorization-code flow: begin, complete, refresh and rotation."""

from __future__ import annotations

import base64
import hashlib
import itertools
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_connections import policy as policies
from app_connections.flow_store import InMemoryFlowStore, PendingFlow
from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from app_connections.testing.sanitize import Sanitizer
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import (
    AccessDenied,
    AuthorizationCodeInvalid,
    ConsentRequired,
    OAuthStateError,
    ReconnectRequired,
    RedirectUriMismatch,
    SettingsError,
)
from azure_appconfig_plugin.methods.oauth import OAuthCredentials, OAuthInput
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes
from cassettes_auth import NONCE_HASH, OAUTH_STATE, OAUTH_TOKENS, REDIRECT_URI

CANARY_CODE = "canary-auth-code-0xq"
SCOPE = "https://azconfig.io/.default"
OAUTH = build_connection_type().methods["oauth"]


def fixed_tokens() -> Any:
    it = itertools.cycle(OAUTH_TOKENS)
    return lambda: next(it)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SpySanitizer(Sanitizer):
    """Sees each request as sent (before sanitizing) so a test can check the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def request(self, request: Any) -> Any:
        self.seen.append(request)  # vcrpy also passes the cassette's own requests through here
        return super().request(request)


@pytest.fixture
def settings() -> InstanceSettings:
    return InstanceSettings.from_env(azure_fakes.fake_instance_env())


def start(
    settings: InstanceSettings, store: InMemoryFlowStore, tenant: str | None = None, clock: Clock | None = None
) -> Any:
    return OAUTH.begin(
        OAuthInput(tenant),
        settings=settings,
        flow_store=store,
        token_factory=fixed_tokens(),
        **({"clock": clock} if clock else {}),
    )


def test_begin_builds_the_authorization_url(settings: InstanceSettings) -> None:
    store = InMemoryFlowStore()
    request = OAUTH.begin(settings=settings, flow_store=store)
    url = urlsplit(request.url)
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "login.microsoftonline.com",
        "/organizations/oauth2/v2.0/authorize",
    )
    assert q["client_id"] == fakes.FAKE_INSTANCE_CLIENT_ID
    assert q["redirect_uri"] == "https://secrets.example.com/organization/app-connections/azure/oauth/callback"
    assert q["response_type"] == "code" and q["response_mode"] == "query"
    assert q["scope"].split() == [SCOPE, "offline_access", "openid", "profile"]
    assert q["state"] == request.state and len(request.state) >= 32
    assert q["code_challenge_method"] == "S256"
    # The secret half stays server-side; the URL carries only its derivatives.
    flow = store.take(request.state)
    assert flow is not None
    expected_challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(flow.code_verifier.encode()).digest()).rstrip(b"=").decode()
    )
    assert q["code_challenge"] == expected_challenge
    assert q["nonce"] == hashlib.sha256(flow.nonce.encode()).hexdigest()
    assert flow.code_verifier not in request.url and flow.nonce not in request.url
    assert 43 <= len(flow.code_verifier) <= 128


def test_begin_pins_a_given_tenant_and_uses_random_state(settings: InstanceSettings) -> None:
    store = InMemoryFlowStore()
    a = OAUTH.begin(OAUTH.parse({"tenantId": "contoso.onmicrosoft.com"}), settings=settings, flow_store=store)
    b = OAUTH.begin(OAUTH.parse({"tenantId": "contoso.onmicrosoft.com"}), settings=settings, flow_store=store)
    assert urlsplit(a.url).path == "/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
    assert a.state != b.state and len(store) == 2


def test_begin_with_no_arguments_reads_the_host_policy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = azure_fakes.fake_instance_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError):  # the library policy's environment is empty: os.environ is not read unasked
        OAUTH.begin()
    with policies.use(HostPolicy.library(env=env)):
        request = OAUTH.begin()
    assert "client_id=" + fakes.FAKE_INSTANCE_CLIENT_ID in request.url


def test_begin_without_instance_settings_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in azure_fakes.fake_instance_env():
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(SettingsError) as err:
        OAUTH.begin()
    assert "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_ID" in str(err.value)
    assert {e.field for e in err.value.errors} == set(azure_fakes.fake_instance_env())


def test_complete_exchanges_the_code_with_pkce(azure_vcr, settings: InstanceSettings) -> None:
    store, clock = InMemoryFlowStore(), Clock()
    request = start(settings, store, clock=clock)
    spy = SpySanitizer()
    v = azure_vcr
    v.before_record_request = spy.request
    with v.use_cassette("oauth_complete_organizations.yaml") as cassette:
        result = OAUTH.complete(
            {"code": CANARY_CODE, "state": request.state, "session_state": "x"},
            settings=settings,
            flow_store=store,
            clock=clock,
        )
    assert cassette.all_played
    assert isinstance(result, OAuthCredentials)
    assert result.tenant_id == fakes.FAKE_TENANT_ID  # from the token response, not "organizations"
    assert result.refresh_token == "fake-refresh-token-1" and result.access_token == "fake-access-token-1"
    assert result.expires_on == int(clock.now) + 4651
    assert result.client_id == fakes.FAKE_INSTANCE_CLIENT_ID
    token_post = [r for r in spy.seen if r.method == "POST"][-1]  # the live one comes after the loaded ones
    form = {k: v[0] for k, v in parse_qs(token_post.body.decode()).items()}
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == CANARY_CODE
    assert form["code_verifier"] == OAUTH_TOKENS[2] + OAUTH_TOKENS[3]
    assert form["redirect_uri"] == REDIRECT_URI
    assert form["client_secret"] == fakes.FAKE_INSTANCE_CLIENT_SECRET
    assert CANARY_CODE not in repr(result) and "fake-refresh-token-1" not in repr(result)


def test_complete_with_pinned_tenant(azure_vcr, settings: InstanceSettings) -> None:
    store = InMemoryFlowStore()
    request = start(settings, store, tenant=fakes.FAKE_TENANT_ID)
    assert request.state == OAUTH_STATE
    with azure_vcr.use_cassette("oauth_complete_tenant.yaml") as cassette:
        result = OAUTH.complete({"code": CANARY_CODE, "state": [request.state]}, settings=settings, flow_store=store)
    assert cassette.all_played and result.tenant_id == fakes.FAKE_TENANT_ID
    assert NONCE_HASH in request.url


def test_state_is_single_use(azure_vcr, settings: InstanceSettings) -> None:
    store = InMemoryFlowStore()
    request = start(settings, store, tenant=fakes.FAKE_TENANT_ID)
    with azure_vcr.use_cassette("oauth_complete_tenant.yaml"):
        OAUTH.complete({"code": CANARY_CODE, "state": request.state}, settings=settings, flow_store=store)
    with pytest.raises(OAuthStateError) as err:
        OAUTH.complete({"code": CANARY_CODE, "state": request.state}, settings=settings, flow_store=store)
    assert err.value.code == "state_unknown" and "forgery" in str(err.value)
    assert CANARY_CODE not in str(err.value)


@pytest.mark.parametrize("params", [{"code": CANARY_CODE}, {"code": CANARY_CODE, "state": "forged-state"}])
def test_unknown_or_missing_state_is_rejected_without_any_request(
    settings: InstanceSettings, params: dict[str, str]
) -> None:
    store = InMemoryFlowStore()
    start(settings, store)
    with pytest.raises(OAuthStateError) as err:
        OAUTH.complete(params, settings=settings, flow_store=store)
    assert "possible forgery" in str(err.value) and CANARY_CODE not in str(err.value)


def test_state_expires_after_ten_minutes(settings: InstanceSettings) -> None:
    store, clock = InMemoryFlowStore(), Clock()
    request = start(settings, store, clock=clock)
    clock.now += 601
    with pytest.raises(OAuthStateError) as err:
        OAUTH.complete({"code": CANARY_CODE, "state": request.state}, settings=settings, flow_store=store, clock=clock)
    assert err.value.code == "state_expired"


def test_in_memory_store_purges_expired_flows() -> None:
    clock = Clock()
    store = InMemoryFlowStore(clock=clock)
    old = PendingFlow("a", "n", "v", "t", "public", "r", "c", ("s",), clock.now + 1)
    store.put(old)
    clock.now += 5
    store.put(PendingFlow("b", "n", "v", "t", "public", "r", "c", ("s",), clock.now + 600))
    assert len(store) == 1 and store.take("a") is None
    assert "'n'" not in repr(old) and "'v'" not in repr(old)
    assert PendingFlow.from_dict(old.to_dict()) == old


def test_nonce_mismatch_is_rejected(azure_vcr, settings: InstanceSettings) -> None:
    store = InMemoryFlowStore()
    request = start(settings, store, tenant=fakes.FAKE_TENANT_ID)
    with azure_vcr.use_cassette("oauth_complete_wrong_nonce.yaml"), pytest.raises(OAuthStateError) as err:
        OAUTH.complete({"code": CANARY_CODE, "state": request.state}, settings=settings, flow_store=store)
    assert err.value.code == "nonce_mismatch"


@pytest.mark.parametrize(
    ("params", "error", "words"),
    [
        (
            {"error": "access_denied", "error_description": "AADSTS65004: User declined to consent to access the app."},
            AccessDenied,
            "declined",
        ),
        (
            {
                "error": "consent_required",
                "error_description": "AADSTS65001: The user or administrator has not consented to use the application.",
            },
            ConsentRequired,
            "KeyValue.Read, KeyValue.Write, KeyValue.Delete",
        ),
        (
            {
                "error": "invalid_request",
                "error_codes": "50011",
                "error_description": "AADSTS50011: The redirect URI does not match.",
            },
            RedirectUriMismatch,
            REDIRECT_URI,
        ),
    ],
)
def test_callback_errors_are_typed(settings: InstanceSettings, params: dict[str, str], error: type, words: str) -> None:
    store = InMemoryFlowStore()
    request = start(settings, store)
    with pytest.raises(error) as err:
        OAUTH.complete({**params, "state": request.state}, settings=settings, flow_store=store)
    assert words in str(err.value)


@pytest.mark.parametrize(
    ("cassette", "error", "code"),
    [
        ("oauth_code_redeemed.yaml", AuthorizationCodeInvalid, "AADSTS54005"),
        ("oauth_code_expired.yaml", AuthorizationCodeInvalid, "AADSTS70008"),
        ("oauth_code_consent_required.yaml", ConsentRequired, "AADSTS65001"),
        ("oauth_code_redirect_mismatch.yaml", RedirectUriMismatch, "AADSTS50011"),
    ],
)
def test_code_exchange_errors(azure_vcr, settings: InstanceSettings, cassette: str, error: type, code: str) -> None:
    store = InMemoryFlowStore()
    request = start(settings, store, tenant=fakes.FAKE_TENANT_ID)
    with azure_vcr.use_cassette(cassette), pytest.raises(error) as err:
        OAUTH.complete({"code": CANARY_CODE, "state": request.state}, settings=settings, flow_store=store)
    exc = err.value
    assert exc.code == code and exc.correlation_id
    for secret in (CANARY_CODE, fakes.FAKE_INSTANCE_CLIENT_SECRET, OAUTH_TOKENS[2]):
        assert secret not in str(exc) and secret not in repr(exc.to_dict())


def stored(access: str | None = None, expires_on: int | None = None) -> OAuthCredentials:
    return OAuthCredentials(
        fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1", access, expires_on
    )


def test_refresh_rotates_and_reaches_the_callback(azure_vcr, settings: InstanceSettings) -> None:
    rotated: list[OAuthCredentials] = []
    cred = OAUTH.token_credential(stored(), on_rotate=rotated.append, settings=settings)
    with azure_vcr.use_cassette("oauth_refresh_rotates.yaml") as cassette:
        token = cred.get_token(SCOPE)
        again = cred.get_token(SCOPE)  # served from memory: no second refresh
    assert token.token == again.token == "fake-access-token-2"
    assert cassette.play_count == 2
    assert [c.refresh_token for c in rotated] == ["fake-refresh-token-2"]
    assert rotated[0].tenant_id == fakes.FAKE_TENANT_ID
    assert cred.credentials.refresh_token == "fake-refresh-token-2"


def test_refresh_uses_tenant_specific_authority(azure_vcr, settings: InstanceSettings) -> None:
    cred = OAUTH.token_credential(stored(), settings=settings)
    with azure_vcr.use_cassette("oauth_refresh_rotates.yaml") as cassette:
        cred.get_token(SCOPE)
    assert all(f"/{fakes.FAKE_TENANT_ID}/" in r.uri for r in cassette.requests)


def test_a_fresh_stored_access_token_is_used_without_any_request(settings: InstanceSettings) -> None:
    import time

    cred = OAUTH.token_credential(stored("fake-access-token-1", int(time.time()) + 3600), settings=settings)
    assert cred.get_token(SCOPE).token == "fake-access-token-1"


@pytest.mark.parametrize(
    ("cassette", "code"),
    [
        ("oauth_refresh_expired.yaml", "AADSTS700082"),
        ("oauth_refresh_code_expired.yaml", "AADSTS70008"),
        ("oauth_refresh_consent_revoked.yaml", "AADSTS65001"),
        ("oauth_refresh_revoked.yaml", "AADSTS50173"),
    ],
)
def test_dead_grants_require_reconnect(azure_vcr, settings: InstanceSettings, cassette: str, code: str) -> None:
    rotated: list[Any] = []
    cred = OAUTH.token_credential(stored(), on_rotate=rotated.append, settings=settings)
    with azure_vcr.use_cassette(cassette), pytest.raises(ReconnectRequired) as err:
        cred.get_token(SCOPE)
    assert err.value.code == code and "Reconnect" in str(err.value)
    assert "fake-refresh-token-1" not in str(err.value) and not rotated


def test_changed_instance_app_requires_reconnect(settings: InstanceSettings) -> None:
    other = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, "fake-refresh-token-1")
    with pytest.raises(ReconnectRequired):
        OAUTH.token_credential(other, settings=settings)


def test_connection_type_token_credential_dispatches_by_method(
    settings: InstanceSettings, fake_instance_env: dict[str, str]
) -> None:
    ct = build_connection_type().with_policy(HostPolicy.library(env=fake_instance_env))
    assert type(ct.token_credential(stored())).__name__ == "OAuthTokenCredential"
