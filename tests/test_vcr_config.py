"""Replay matching: volatile values do not break it; the path and api-version do."""

from __future__ import annotations

import pytest
import requests
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from app_connections.testing.vcr_config import stable_port_matcher, stable_query_matcher

READ = "https://contoso-appconfig.azconfig.io/kv?%24select=key&api-version=2023-11-01&key=azure-appconfig-plugin%2Fconnection-probe&label=%00"


def req(uri: str) -> Request:
    return Request("GET", uri, None, {})


def test_volatile_query_values_are_ignored() -> None:
    stable_query_matcher(
        req("https://h/x?a=1&state=abc&nonce=1&client-request-id=9"), req("https://h/x?a=1&state=zzz&nonce=2")
    )


@pytest.mark.parametrize("other", ["https://h/x?a=1&api-version=2019-07-01", "https://h/x?a=2&api-version=2023-11-01"])
def test_api_version_and_other_params_matter(other: str) -> None:
    with pytest.raises(AssertionError):
        stable_query_matcher(req("https://h/x?a=1&api-version=2023-11-01"), req(other))


def test_replay_rejects_another_api_version_or_path(azure_vcr) -> None:
    with azure_vcr.use_cassette("store_healthy.yaml"):
        for uri in (READ.replace("2023-11-01", "1.0"), READ.replace("/kv?", "/keys?")):
            with pytest.raises(CannotOverwriteExistingCassetteException):
                requests.get(uri, timeout=5)


def test_headers_and_request_ids_do_not_matter(azure_vcr) -> None:
    with azure_vcr.use_cassette("store_healthy.yaml", allow_playback_repeats=True):
        r = requests.get(READ, headers={"x-ms-client-request-id": "any", "User-Agent": "other"}, timeout=5)
    assert r.status_code == 200 and r.json() == {"items": []}


def test_network_is_blocked_outside_cassettes() -> None:
    from app_connections.testing.network import NetworkBlocked

    with pytest.raises((NetworkBlocked, requests.ConnectionError)):
        requests.get("https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration", timeout=5)


def test_ports_match_except_between_loopback_hosts() -> None:
    stable_port_matcher(
        Request("GET", "https://127.0.0.1:40001/token", None, {}),
        Request("GET", "https://localhost:51234/token", None, {}),
    )
    stable_port_matcher(
        Request("GET", "https://store.example.com/kv", None, {}),
        Request("GET", "https://store.example.com:443/kv", None, {}),
    )
    with pytest.raises(AssertionError, match="port differs: 443 != 8443"):
        stable_port_matcher(
            Request("GET", "https://store.example.com/kv", None, {}),
            Request("GET", "https://store.example.com:8443/kv", None, {}),
        )
