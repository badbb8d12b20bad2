"""Clouds: login hosts, audiences and scopes, and client-secret tokens in each cloud."""

from __future__ import annotations

import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.clouds import CLOUDS, cloud_for_host, get_cloud
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.settings import InstanceSettings


@pytest.mark.parametrize(
    ("slug", "login", "scope", "suffix"),
    [
        ("public", "login.microsoftonline.com", "https://azconfig.io/.default", "azconfig.io"),
        ("usgov", "login.microsoftonline.us", "https://azconfig.azure.us/.default", "azconfig.azure.us"),
        ("china", "login.partner.microsoftonline.cn", "https://azconfig.azure.cn/.default", "azconfig.azure.cn"),
    ],
)
def test_cloud_values(slug: str, login: str, scope: str, suffix: str) -> None:
    cloud = get_cloud(slug)
    assert (cloud.login_host, cloud.scope, cloud.store_suffix) == (login, scope, suffix)
    assert cloud.authority(fakes.FAKE_TENANT_ID) == f"https://{login}/{fakes.FAKE_TENANT_ID}"
    assert cloud_for_host(f"store.{suffix}") is cloud


def test_default_and_unknown_cloud() -> None:
    assert get_cloud(None).slug == "public" and set(CLOUDS) == {"public", "usgov", "china"}
    with pytest.raises(InvalidInput, match="cloud"):
        get_cloud("germany")
    assert cloud_for_host("store.example.com") is None


@pytest.mark.parametrize(
    ("cloud", "cassette", "host", "scope"),
    [
        ("usgov", "client_secret_usgov.yaml", "login.microsoftonline.us", "https://azconfig.azure.us/.default"),
        ("china", "client_secret_china.yaml", "login.partner.microsoftonline.cn", "https://azconfig.azure.cn/.default"),
    ],
)
def test_client_secret_token_in_each_cloud(azure_vcr, cloud: str, cassette: str, host: str, scope: str) -> None:
    creds = ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, "fake-client-secret", cloud)
    cred = build_connection_type().token_credential(creds)
    with azure_vcr.use_cassette(cassette) as c:
        assert cred.get_token(scope).token == fakes.FAKE_ACCESS_TOKEN
    assert c.all_played and all(r.uri.startswith(f"https://{host}/{fakes.FAKE_TENANT_ID}/") for r in c.requests)
    with pytest.raises(Exception, match="only issues tokens for"):
        cred.get_token("https://azconfig.io/.default")  # never the public audience from another cloud


def test_oauth_begin_uses_the_cloud_login_host(fake_instance_settings: InstanceSettings) -> None:
    from app_connections.flow_store import InMemoryFlowStore

    oauth = build_connection_type().methods["oauth"]
    request = oauth.begin(
        oauth.parse({"cloud": "china"}), settings=fake_instance_settings, flow_store=InMemoryFlowStore()
    )
    assert request.url.startswith("https://login.partner.microsoftonline.cn/organizations/oauth2/v2.0/authorize?")
    assert "scope=https%3A%2F%2Fazconfig.azure.cn%2F.default+offline_access" in request.url
