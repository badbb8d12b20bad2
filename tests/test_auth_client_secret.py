"""Client-secret (service principal) tokens, replayed from cassettes."""

from __future__ import annotations

import time

import pytest
from azure.core.credentials import TokenCredential

from app_connections.testing import fakes, recording
from azure_appconfig_plugin.auth.credential import ScopeNotAllowed
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import (
    AppNotFound,
    IdentityServiceError,
    InvalidClientSecret,
    TenantNotFound,
)
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from cassettes_auth import UNKNOWN_TENANT

CANARY = "canary-client-secret-Zq8~x"
SCOPE = "https://azconfig.io/.default"


def creds(tenant: str = fakes.FAKE_TENANT_ID, secret: str = CANARY, cloud: str = "public") -> ClientSecretCredentials:
    return ClientSecretCredentials(tenant, fakes.FAKE_CLIENT_ID, secret, cloud)


def credential(c: ClientSecretCredentials) -> TokenCredential:
    return build_connection_type().token_credential(c)


@pytest.fixture
def sp(azure_test_values: recording.TestValues, azure_record_mode: str) -> ClientSecretCredentials:
    """The service principal: real while recording (--azure-record-mode), placeholders with a canary otherwise."""
    v = azure_test_values
    secret = v.client_secret if azure_record_mode != "none" else CANARY
    return ClientSecretCredentials(v.tenant_id, v.client_id, secret)


def test_token_for_app_configuration(azure_vcr, sp: ClientSecretCredentials) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml") as cassette:
        token = credential(sp).get_token(SCOPE)
    assert token.token == fakes.FAKE_ACCESS_TOKEN
    assert 3500 < token.expires_on - time.time() <= 3600
    assert cassette.all_played
    token_request = cassette.requests[1]
    assert token_request.uri == f"https://login.microsoftonline.com/{fakes.FAKE_TENANT_ID}/oauth2/v2.0/token"
    assert token_request.method == "POST" and b"client_secret=REDACTED" in token_request.body


def test_token_info_is_supported(azure_vcr, sp: ClientSecretCredentials) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        info = credential(sp).get_token_info(SCOPE)
    assert info.token == fakes.FAKE_ACCESS_TOKEN and info.token_type == "Bearer"


def test_token_is_reused_across_credentials_and_calls(azure_vcr, sp: ClientSecretCredentials) -> None:
    # One discovery + one token request serve every later call for the same tenant/client/scope,
    # even from a new credential object: the MSAL app and its cache are shared.
    with azure_vcr.use_cassette("client_secret_token.yaml") as cassette:
        first = credential(sp).get_token(SCOPE)
        for _ in range(5):
            again = credential(sp).get_token(SCOPE)
            assert again.token == first.token
    assert cassette.play_count == 2


def test_token_reuse_is_thread_safe(azure_vcr, sp: ClientSecretCredentials) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with azure_vcr.use_cassette("client_secret_token.yaml") as cassette:
        credential(sp).get_token(SCOPE)
        with ThreadPoolExecutor(8) as pool:
            tokens = list(pool.map(lambda _: credential(sp).get_token(SCOPE).token, range(32)))
    assert set(tokens) == {fakes.FAKE_ACCESS_TOKEN}
    assert cassette.play_count == 2


def test_authority_is_tenant_specific_without_instance_discovery(azure_vcr, sp: ClientSecretCredentials) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml") as cassette:
        credential(sp).get_token(SCOPE)
    hosts_paths = [r.uri for r in cassette.requests]
    assert not any("discovery/instance" in u or "/common/" in u for u in hosts_paths)


@pytest.mark.parametrize("scope", ["https://management.azure.com/.default", "https://vault.azure.net/.default"])
def test_refuses_other_scopes_without_any_request(scope: str) -> None:
    with pytest.raises(ScopeNotAllowed) as err:
        credential(creds()).get_token(scope)
    assert CANARY not in str(err.value)


@pytest.mark.parametrize(
    ("cassette", "error", "code", "words"),
    [
        ("client_secret_invalid_secret.yaml", InvalidClientSecret, "AADSTS7000215", "Value (not its Secret ID)"),
        ("client_secret_expired_secret.yaml", InvalidClientSecret, "AADSTS7000222", "expired"),
        ("client_secret_app_not_found.yaml", AppNotFound, "AADSTS700016", fakes.FAKE_CLIENT_ID),
        ("client_secret_throttled.yaml", IdentityServiceError, "AADSTS90055", "retry"),
    ],
)
def test_identity_errors_are_typed_and_say_what_to_fix(
    azure_vcr, cassette: str, error: type, code: str, words: str
) -> None:
    with azure_vcr.use_cassette(cassette), pytest.raises(error) as err:
        credential(creds()).get_token(SCOPE)
    exc = err.value
    assert exc.code == code
    assert words in str(exc)
    assert exc.correlation_id and exc.correlation_id.startswith(fakes.PLACEHOLDER_GUID_PREFIX)
    assert CANARY not in str(exc) and CANARY not in repr(exc) and CANARY not in repr(exc.to_dict())


def test_server_error_is_retryable(azure_vcr) -> None:
    with azure_vcr.use_cassette("client_secret_server_error.yaml"), pytest.raises(IdentityServiceError) as err:
        credential(creds()).get_token(SCOPE)
    assert err.value.code == "503" and err.value.retryable
    assert CANARY not in str(err.value)


def test_unknown_tenant_fails_at_discovery(azure_vcr) -> None:
    with (
        azure_vcr.use_cassette("client_secret_tenant_not_found.yaml") as cassette,
        pytest.raises(TenantNotFound) as err,
    ):
        credential(creds(tenant=UNKNOWN_TENANT)).get_token(SCOPE)
    assert err.value.code == "AADSTS90002" and err.value.field == "tenantId"
    assert UNKNOWN_TENANT in str(err.value) and err.value.correlation_id
    assert cassette.play_count == 1  # no token request was sent


def test_repr_hides_secret() -> None:
    c = creds()
    assert CANARY not in repr(c) and CANARY not in str(c)
    assert CANARY not in repr(credential(c))
