"""A stand-in store on 127.0.0.1 and an ephemeral port, trusted and allow-listed by the kit."""

from __future__ import annotations

import json
import os
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from azure_appconfig_plugin.endpoints import parse_endpoint
from azure_appconfig_plugin.errors import EndpointRejected

SEEN: list[dict[str, str]] = []


class StandInStore(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN.append({"path": self.path, "authorization": self.headers.get("Authorization", "")})
        body = json.dumps(
            {
                "items": [
                    {
                        "key": "app/color",
                        "label": None,
                        "value": "blue",
                        "content_type": None,
                        "etag": "e1",
                        "tags": {},
                        "locked": False,
                        "last_modified": "2026-11-27T09:00:00+00:00",
                    }
                ]
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


class StaticToken:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake-access-token", int(time.time()) + 600)


def test_a_stand_in_store_on_any_port_is_allow_listed_and_trusted(azure_https_server: Any) -> None:
    server = azure_https_server(StandInStore)
    assert server.url.startswith("https://127.0.0.1:") and not server.url.endswith(":443")
    endpoint = parse_endpoint(server.url)
    assert endpoint.allow_listed and endpoint.url == server.url
    assert requests.get(server.url + "/kv", timeout=5).json()["items"][0]["value"] == "blue"  # CA trusted via env


def test_the_sdk_client_reads_from_the_stand_in(azure_https_server: Any) -> None:
    from azure_appconfig_plugin.store import make_client

    server = azure_https_server(StandInStore)
    SEEN.clear()
    client = make_client(parse_endpoint(server.url), StaticToken())
    assert [(s.key, s.value) for s in client.list_configuration_settings()] == [("app/color", "blue")]
    assert SEEN and SEEN[0]["path"].startswith("/kv") and SEEN[0]["authorization"] == "Bearer fake-access-token"


def test_only_the_exact_port_is_allowed(azure_https_server: Any) -> None:
    server = azure_https_server(StandInStore)
    other_port = int(server.host_port.rsplit(":", 1)[1]) % 60000 + 1
    with pytest.raises(EndpointRejected, match="default https port"):
        parse_endpoint(f"https://127.0.0.1:{other_port}")
    with pytest.raises(EndpointRejected):
        parse_endpoint(server.url.replace("https://", "https://user:pw@"))


def test_without_allow_list_the_endpoint_is_rejected(azure_https_server: Any) -> None:
    server = azure_https_server(StandInStore, allow_list=False)
    assert server.host_port not in os.environ.get("INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS", "")
    with pytest.raises(EndpointRejected):
        parse_endpoint(server.url)
    assert requests.get(server.url + "/kv", timeout=5, verify=server.ca_bundle).status_code == 200


def test_two_servers_are_both_allow_listed(azure_https_server: Any) -> None:
    first, second = azure_https_server(StandInStore), azure_https_server(StandInStore)
    assert parse_endpoint(first.url).allow_listed and parse_endpoint(second.url).allow_listed
