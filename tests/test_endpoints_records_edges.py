"""Endpoint rules for URLs that do not parse or name no host; the cloud records' store endpoints; the records'
``to_dict`` for optional fields; a message-only ``InvalidInput``."""

from __future__ import annotations

import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.clouds import CLOUDS
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.endpoints import parse_endpoint
from azure_appconfig_plugin.errors import EndpointRejected, FieldError, InvalidInput
from azure_appconfig_plugin.methods import OAuthMethod
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from cli_helpers import client_secret_flags, run


@pytest.mark.parametrize("endpoint", ["https://contoso.azconfig.io:99999", "https://[contoso.azconfig.io"])
def test_an_endpoint_that_does_not_parse_is_rejected_not_raised(endpoint: str) -> None:
    with pytest.raises(EndpointRejected) as caught:
        parse_endpoint(endpoint)
    assert caught.value.errors == (FieldError("endpoint", "it is not a valid URL (check the host and port)"),)


@pytest.mark.parametrize("endpoint", ["https://", "https:///", "https://:443"])
def test_an_endpoint_without_a_host_is_rejected(endpoint: str) -> None:
    with pytest.raises(EndpointRejected) as caught:
        parse_endpoint(endpoint)
    assert caught.value.errors == (FieldError("endpoint", "it has no host name"),)


def test_validate_refuses_an_unparsable_endpoint_before_any_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZ_SECRET", fakes.FAKE_CLIENT_SECRET)
    code, text = run(
        "validate",
        "--method",
        "client-secret",
        *client_secret_flags("--endpoint", "https://contoso.azconfig.io:99999"),
    )
    assert code == 2
    assert "it is not a valid URL (check the host and port)" in text
    assert "token: not checked: no token is sent to a rejected endpoint" in text


@pytest.mark.parametrize("slug", sorted(CLOUDS))
def test_each_clouds_store_endpoint_passes_the_endpoint_rules_for_that_cloud(slug: str) -> None:
    cloud = CLOUDS[slug]
    url = cloud.store_endpoint("contoso-appconfig")
    assert url == f"https://contoso-appconfig.{cloud.store_suffix}"
    parsed = parse_endpoint(url, cloud=slug)
    assert (parsed.url, parsed.cloud, parsed.allow_listed) == (url, cloud, False)


def test_oauth_sign_in_input_names_the_tenant_only_when_given() -> None:
    assert OAuthMethod().parse({"tenantId": fakes.FAKE_TENANT_ID, "cloud": "usgov"}).to_dict() == {
        "method": "oauth",
        "cloud": "usgov",
        "tenantId": fakes.FAKE_TENANT_ID,
    }
    assert OAuthMethod().parse({}).to_dict() == {"method": "oauth", "cloud": "public"}


def test_oauth_credentials_without_an_access_token_store_and_load_without_one() -> None:
    creds = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, fakes.FAKE_REFRESH_TOKEN)
    stored = creds.to_dict()
    assert stored == {
        "method": "oauth",
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_INSTANCE_CLIENT_ID,
        "refreshToken": fakes.FAKE_REFRESH_TOKEN,
        "cloud": "public",
    }
    assert build_connection_type().load(stored) == creds
    with_token = creds.with_tokens(fakes.FAKE_REFRESH_TOKEN, fakes.FAKE_ACCESS_TOKEN, 1767229200)
    assert with_token.to_dict()["accessToken"] == fakes.FAKE_ACCESS_TOKEN
    assert with_token.to_dict()["expiresOn"] == 1767229200


def test_a_message_only_invalid_input_serializes_without_an_errors_list() -> None:
    error = InvalidInput("say which method: oauth, client-secret", field="method")
    assert error.to_dict() == {
        "error": "InvalidInput",
        "message": "say which method: oauth, client-secret",
        "category": "invalid_input",
        "http_status": 400,
        "retryable": False,
        "field": "method",
    }
    listed = InvalidInput(errors=[FieldError("tenantId", "is required")])
    assert listed.to_dict()["errors"] == [{"field": "tenantId", "message": "is required"}]
    assert listed.field == "tenantId" and str(listed) == "invalid input: tenantId: is required"
