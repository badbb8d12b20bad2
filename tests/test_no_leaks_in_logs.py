"""Secrets, codes and tokens never reach logs, even at DEBUG (ours, MSAL's or azure-core's)."""

from __future__ import annotations

import logging

import pytest

from azure_appconfig_plugin.auth.flow_store import InMemoryFlowStore
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import AppConnectionError
from azure_appconfig_plugin.schema import ClientSecretCredentials, OAuthCredentials
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.testing import fakes
from azure_appconfig_plugin.validation import validate_credentials

SECRET = "canary-log-secret-Xy7"
CODE = "canary-log-code-Qp2"
INSTANCE_SECRET = "canary-log-instance-secret-Lm4"


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged except vcrpy's own replay chatter (it echoes the cassette, which holds only fakes)."""
    return "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records if not r.name.startswith("vcr"))


@pytest.mark.parametrize("cassette", ["store_healthy.yaml", "client_secret_invalid_secret.yaml"])
def test_client_secret_paths_log_no_secret(azure_vcr, caplog: pytest.LogCaptureFixture, cassette: str) -> None:
    caplog.set_level(logging.DEBUG)
    with azure_vcr.use_cassette(cassette):
        validate_credentials(ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, SECRET),
                             endpoint=fakes.FAKE_STORE_ENDPOINT, env={}, client_options={"retry_backoff_factor": 0})
    text = logged(caplog)
    assert "msal" in text and "urllib3" in text, "expected DEBUG logging from the libraries"
    assert SECRET not in text


def test_oauth_paths_log_no_code_or_tokens(azure_vcr, caplog: pytest.LogCaptureFixture) -> None:
    import itertools

    from cassettes_auth import OAUTH_TOKENS

    caplog.set_level(logging.DEBUG)
    settings = InstanceSettings.from_env({**fakes.fake_instance_env(), "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_SECRET": INSTANCE_SECRET})
    oauth = build_connection_type().methods["oauth"]
    store = InMemoryFlowStore()
    it = itertools.cycle(OAUTH_TOKENS)
    request = oauth.begin({"tenantId": fakes.FAKE_TENANT_ID}, settings=settings, flow_store=store, token_factory=lambda: next(it))
    with azure_vcr.use_cassette("oauth_complete_tenant.yaml"):
        creds = oauth.complete({"code": CODE, "state": request.state}, settings=settings, flow_store=store)
    stored = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1")
    with azure_vcr.use_cassette("oauth_refresh_expired.yaml"), pytest.raises(AppConnectionError):
        oauth.token_credential(stored, settings=settings).get_token("https://azconfig.io/.default")
    for value in (CODE, INSTANCE_SECRET, OAUTH_TOKENS[2], creds.refresh_token, creds.access_token, "fake-refresh-token-1"):
        assert value not in logged(caplog), value
