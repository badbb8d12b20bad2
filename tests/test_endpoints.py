"""Store endpoint rules: rejected endpoints never receive a token (or any request)."""

from __future__ import annotations

import pytest

from azure_appconfig_plugin.endpoints import parse_endpoint
from azure_appconfig_plugin.errors import EndpointRejected
from azure_appconfig_plugin.settings import ENDPOINT_ALLOWLIST_ENV


@pytest.mark.parametrize(
    ("endpoint", "cloud", "url"),
    [
        ("https://contoso-appconfig.azconfig.io", "public", "https://contoso-appconfig.azconfig.io"),
        ("https://Contoso-AppConfig.azconfig.io/", "public", "https://contoso-appconfig.azconfig.io"),
        ("https://contoso-appconfig.azconfig.io:443", "public", "https://contoso-appconfig.azconfig.io"),
        ("https://store1.azconfig.azure.us", "usgov", "https://store1.azconfig.azure.us"),
        ("https://store1.azconfig.azure.cn/", "china", "https://store1.azconfig.azure.cn"),
    ],
)
def test_accepted_endpoints(endpoint: str, cloud: str, url: str) -> None:
    parsed = parse_endpoint(endpoint, cloud=cloud, env={})
    assert parsed.url == url and parsed.cloud.slug == cloud


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [
        ("http://contoso-appconfig.azconfig.io", "https"),
        ("https://user:pw@contoso-appconfig.azconfig.io", "user name or password"),
        ("https://contoso-appconfig.azconfig.io/kv", "path"),
        ("https://contoso-appconfig.azconfig.io/?x=1", "query"),
        ("https://contoso-appconfig.azconfig.io/#frag", "fragment"),
        ("https://contoso-appconfig.azconfig.io:8443", "port"),
        ("https://20.1.2.3", "IP address"),
        ("https://[::1]", "IP address"),
        ("https://evil.example.com", "not an App Configuration host"),
        ("https://contoso-appconfig.azconfig.io.evil.example.com", "not an App Configuration host"),
        ("https://a.b.azconfig.io", "not a store name"),
        ("https://azconfig.io", "not an App Configuration host"),
        ("https://store1.azconfig.azure.us", "US Government"),
        ("https://contoso-appconfig.azconfig.io.", "dot"),
        ("", "empty"),
        ("https://contoso appconfig.azconfig.io", "whitespace"),
    ],
)
def test_rejected_endpoints_name_the_fix(endpoint: str, words: str) -> None:
    with pytest.raises(EndpointRejected) as err:
        parse_endpoint(endpoint, cloud="public", env={})
    assert words in str(err.value)
    assert err.value.field == "endpoint"


def test_custom_domain_needs_the_allow_list() -> None:
    env = {ENDPOINT_ALLOWLIST_ENV: "config.contoso.com, 10.0.0.5"}
    assert parse_endpoint("https://config.contoso.com/", env=env).allow_listed
    assert parse_endpoint("https://10.0.0.5", env=env).url == "https://10.0.0.5"
    with pytest.raises(EndpointRejected):
        parse_endpoint("https://config.contoso.com", env={})
    with pytest.raises(EndpointRejected, match="path"):
        parse_endpoint("https://config.contoso.com/x", env=env)
    with pytest.raises(EndpointRejected, match="https"):
        parse_endpoint("http://config.contoso.com", env=env)


@pytest.mark.parametrize(
    ("entry", "endpoint", "url"),
    [
        ("127.0.0.1:8443", "https://127.0.0.1:8443", "https://127.0.0.1:8443"),
        ("localhost:50123", "https://LOCALHOST:50123/", "https://localhost:50123"),
        ("[::1]:8443", "https://[::1]:8443", "https://[::1]:8443"),
        ("fd00::5", "https://[fd00::5]", "https://[fd00::5]"),
        ("[fd00::5]", "https://[fd00::5]:443", "https://[fd00::5]"),
        ("config.contoso.com:443", "https://config.contoso.com", "https://config.contoso.com"),
    ],
)
def test_allow_list_host_port_entries(entry: str, endpoint: str, url: str) -> None:
    parsed = parse_endpoint(endpoint, env={ENDPOINT_ALLOWLIST_ENV: entry})
    assert parsed.url == url and parsed.allow_listed


@pytest.mark.parametrize(
    ("entry", "endpoint", "words"),
    [
        ("127.0.0.1:8443", "https://127.0.0.1:9443", "port"),  # the port must match exactly
        ("127.0.0.1:8443", "https://127.0.0.1", "IP address"),  # a port entry does not allow 443
        ("127.0.0.1", "https://127.0.0.1:8443", "port"),  # a bare host allows only 443
        ("127.0.0.1:8443", "http://127.0.0.1:8443", "https"),
        ("127.0.0.1:8443", "https://u:p@127.0.0.1:8443", "user name"),
        ("127.0.0.1:8443", "https://127.0.0.1:8443/kv", "path"),
        ("127.0.0.1:8443", "https://127.0.0.1:8443/?sig=x", "query"),
        ("mystore.azconfig.io:8443", "https://mystore.azconfig.io:8443/x", "path"),
    ],
)
def test_allow_list_host_port_entries_do_not_loosen_other_rules(entry: str, endpoint: str, words: str) -> None:
    with pytest.raises(EndpointRejected, match=words):
        parse_endpoint(endpoint, env={ENDPOINT_ALLOWLIST_ENV: entry})


def test_malformed_allow_list_entries_are_reported_each_by_name_not_ignored() -> None:
    from azure_appconfig_plugin.errors import SettingsError

    with pytest.raises(SettingsError) as info:
        parse_endpoint("https://ok:1", env={ENDPOINT_ALLOWLIST_ENV: "not a host:1, :5, host:99999, user@host:1, ok:1"})
    assert [e.field for e in info.value.errors] == [ENDPOINT_ALLOWLIST_ENV] * 4
    assert [e.message.split("'")[1] for e in info.value.errors] == ["not a host:1", ":5", "host:99999", "user@host:1"]
    assert "is not a host, IP address or host:port" in str(info.value)
    assert parse_endpoint("https://ok:1", env={ENDPOINT_ALLOWLIST_ENV: "ok:1, [fd00::5]"}).allow_listed


def test_store_hosts_still_need_the_default_port_without_an_entry() -> None:
    with pytest.raises(EndpointRejected, match=r"allow-list mystore\.azconfig\.io:8443"):
        parse_endpoint("https://mystore.azconfig.io:8443", env={})
