"""The record path: record against a local HTTPS server full of canary secrets, check the
written cassette holds none of them, then replay it offline."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests

from app_connections.testing import fakes
from app_connections.testing.local_server import serve_https
from app_connections.testing.network import block_network
from app_connections.testing.secret_scan import scan_paths
from app_connections.testing.vcr_config import make_vcr
from azure_appconfig_plugin.testing.recording import sanitizer_from_env

pytest_plugins = ["pytester"]

REAL_TENANT = "9c1e7b5a-1d2e-4f3a-8b6c-0a1b2c3d4e5f"
REAL_CLIENT = "7d8e9f0a-1b2c-4d3e-9f5a-6b7c8d9e0f1a"
REAL_STORE = "canarystore-prod"
CANARIES = {
    "secret": "CANARY-client-secret-9f8e7d",
    "refresh": "CANARY-refresh-token-1a2b3c",
    "code": "CANARY-auth-code-4d5e6f",
    "verifier": "CANARY-pkce-verifier-7a8b9c",
    "assertion": "CANARY-client-assertion-0d1e",
    "cookie": "CANARY-cookie-value-2f3a",
    "bearer": "CANARY-bearer-in-header-4b5c",
    "setcookie": "CANARY-set-cookie-6d7e",
    "value": "CANARY-config-value-8f9a",
    "telemetry": "CANARY-telemetry-1b2c",
}
ENV = {
    "AZURE_TENANT_ID": REAL_TENANT,
    "AZURE_CLIENT_ID": REAL_CLIENT,
    "AZURE_CLIENT_SECRET": CANARIES["secret"],
    "AZURE_APPCONFIG_ENDPOINT": f"https://{REAL_STORE}.azconfig.io",
}


def b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def signed_jwt(claims: dict[str, Any]) -> str:
    return f"{b64({'typ': 'JWT', 'alg': 'RS256', 'kid': 'canary-kid'})}.{b64(claims)}.Q0FOQVJZLXNpZ25hdHVyZS1ieXRlcw"


ACCESS = signed_jwt({"aud": "https://azconfig.io", "tid": REAL_TENANT, "oid": "canary-oid", "exp": 1999999999})
ID_TOKEN = signed_jwt(
    {
        "aud": REAL_CLIENT,
        "tid": REAL_TENANT,
        "name": "Canary Person",
        "preferred_username": "canary@contoso.com",
        "nonce": "n1",
        "iss": f"https://login.microsoftonline.com/{REAL_TENANT}/v2.0",
        "exp": 1999999999,
    }
)
CLIENT_INFO = b64({"uid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "utid": REAL_TENANT})


class Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, body: dict[str, Any], ctype: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Set-Cookie", f"fpc={CANARIES['setcookie']}; path=/; secure; HttpOnly")
        self.send_header("x-ms-request-id", "6bb6aa70-c6cb-4705-a554-de618c90b600")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # token endpoint
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 4651,
                "ext_expires_in": 4651,
                "access_token": ACCESS,
                "refresh_token": CANARIES["refresh"] + "-rotated",
                "id_token": ID_TOKEN,
                "client_info": CLIENT_INFO,
                "scope": "https://azconfig.io/.default",
            },
            "application/json; charset=utf-8",
        )

    def do_GET(self) -> None:  # App Configuration list
        self._send(
            200,
            {
                "items": [
                    {
                        "etag": "e1",
                        "key": "app/db-password",
                        "label": REAL_STORE,
                        "content_type": None,
                        "value": CANARIES["value"],
                        "tags": {},
                        "locked": False,
                        "last_modified": "2026-11-27T09:00:00+00:00",
                    }
                ]
            },
            "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8",
        )

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with serve_https(Handler, tmp_path) as server:
        yield server.url, Path(server.ca_bundle)


def traffic(
    base: str, tenant: str, client: str, store: str, secrets: dict[str, str], verify: Any
) -> list[requests.Response]:
    form = {
        "client_id": client,
        "grant_type": "refresh_token",
        "client_info": "1",
        "client_secret": secrets["secret"],
        "refresh_token": secrets["refresh"],
        "code": secrets["code"],
        "code_verifier": secrets["verifier"],
        "client_assertion": secrets["assertion"],
        "scope": "https://azconfig.io/.default offline_access",
    }
    headers = {
        "Authorization": f"Bearer {secrets['bearer']}",
        "Cookie": f"fpc={secrets['cookie']}",
        "client-request-id": "3f2e1d0c-9b8a-4765-a4b3-c2d1e0f9a8b7",
        "x-client-current-telemetry": f"4|{secrets['telemetry']}|",
    }
    with requests.Session() as s:
        token = s.post(f"{base}/{tenant}/oauth2/v2.0/token", data=form, headers=headers, verify=verify)
        kv = s.get(
            f"{base}/kv",
            params={"key": "app/*", "label": store, "api-version": "2023-11-01"},
            headers={"Authorization": f"Bearer {secrets['bearer']}"},
            verify=verify,
        )
    return [token, kv]


def test_record_then_replay(https_server: tuple[str, Path], tmp_path: Path) -> None:
    base, cert = https_server
    cassettes = tmp_path / "cassettes"
    recorder = make_vcr(cassettes, record_mode="all", sanitizer=sanitizer_from_env(ENV))
    with recorder.use_cassette("recorded.yaml"):
        live = traffic(base, REAL_TENANT, REAL_CLIENT, REAL_STORE, CANARIES, str(cert))
    assert live[0].json()["access_token"] == ACCESS  # the test itself saw real values

    written = (cassettes / "recorded.yaml").read_text()
    for name, canary in CANARIES.items():
        assert canary not in written, f"canary {name} leaked into the cassette"
    for real in (
        REAL_TENANT,
        REAL_CLIENT,
        REAL_STORE,
        ACCESS.split(".")[1],
        ID_TOKEN.split(".")[2],
        CLIENT_INFO,
        "Canary Person",
        "canary@contoso.com",
    ):
        assert real.lower() not in written.lower(), real
    assert fakes.FAKE_TENANT_ID in written and fakes.FAKE_STORE_NAME in written
    assert scan_paths([cassettes]) == []

    # Replay offline, as CI does, with the placeholders a replaying test uses.
    with block_network():
        replayer = make_vcr(cassettes, record_mode="none")
        fake_secrets = {k: "fake-" + k for k in CANARIES}
        with replayer.use_cassette("recorded.yaml") as cassette:
            token, kv = traffic(
                base, fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, fakes.FAKE_STORE_NAME, fake_secrets, str(cert)
            )
        assert cassette.all_played
    body = token.json()
    assert body["refresh_token"].startswith("fake-refresh-token-")
    claims = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[1] + "=="))
    assert claims["tid"] == fakes.FAKE_TENANT_ID and claims["nonce"] == "n1" and claims["aud"] == fakes.FAKE_CLIENT_ID
    info = json.loads(base64.urlsafe_b64decode(body["client_info"] + "=="))
    assert info["utid"] == fakes.FAKE_TENANT_ID
    at = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert at["aud"] == "https://azconfig.io" and at["tid"] == fakes.FAKE_TENANT_ID
    assert kv.json()["items"][0]["value"] == "sanitized-value"


def test_value_sanitizing_follows_the_configured_key_prefixes() -> None:
    from app_connections.testing.sanitize import Sanitizer

    s = Sanitizer(value_prefixes=("secrets/",))
    body = {"items": [{"key": "secrets/db", "value": "CANARY"}, {"key": "public/color", "value": "blue"}]}
    out = s.response(
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": json.dumps(body).encode()},
        }
    )
    items = json.loads(out["body"]["string"])["items"]
    assert [i["value"] for i in items] == ["sanitized-value", "blue"]


def test_a_recording_sanitizer_scrubs_the_recordings_secrets_of_any_length_and_the_session_rules() -> None:
    from vcr.request import Request

    from app_connections.testing.rules import RuleTable, SecretRules

    env = {
        **ENV,
        "AZURE_CLIENT_SECRET": "s3c",
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_SECRET": "Zq8~instance",
    }
    session = RuleTable.of(SecretRules(headers=["X-Contoso-Key"]))
    sanitizer = sanitizer_from_env(env, rules=session)
    body = "note=s3c-and-Zq8~instance"
    clean = sanitizer.request(
        Request("POST", "https://h.example/x", body, {"X-Contoso-Key": "k-real", "Content-Type": "text/plain"})
    )
    assert clean.headers["X-Contoso-Key"] == "REDACTED"
    assert "s3c" not in clean.body.decode() and "Zq8~instance" not in clean.body.decode()


def test_recording_mode_fixtures_use_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_inner="""
        def test_inner(azure_sanitizer, azure_test_values, azure_record_mode):
            from vcr.request import Request
            assert azure_record_mode == "once" and azure_test_values.tenant_id == "9c1e7b5a-1d2e-4f3a-8b6c-0a1b2c3d4e5f"
            uri = "https://h.example/9c1e7b5a-1d2e-4f3a-8b6c-0a1b2c3d4e5f?x=Zq8~real"
            clean = azure_sanitizer.request(Request("GET", uri, None, {}))
            assert clean.uri == "https://h.example/11111111-1111-1111-1111-111111111111?x=REDACTED", clean.uri
    """
    )
    monkeypatch.setenv("AZURE_TENANT_ID", REAL_TENANT)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "Zq8~real")
    pytester.runpytest("-q", "-p", "no:cacheprovider", "--azure-record-mode=once").assert_outcomes(passed=1)


def _json_response(body: object, content_type: str = "application/json") -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": [content_type], "Content-Length": [str(len(raw))]},
        "body": {"string": raw},
    }


def test_a_secret_named_field_holding_structure_is_redacted_leaf_by_leaf() -> None:
    from app_connections.testing.sanitize import Sanitizer

    body = {"client_secret": {"current": "CANARY-1", "old": ["CANARY-2", "", 3, True, None]}, "n": 1}
    out = Sanitizer().response(_json_response(body))
    assert json.loads(out["body"]["string"]) == {
        "client_secret": {"current": "REDACTED", "old": ["REDACTED", "", 3, True, None]},
        "n": 1,
    }
    assert out["headers"]["Content-Length"] == [str(len(out["body"]["string"]))]


def test_a_body_that_is_not_utf8_is_left_alone() -> None:
    from app_connections.testing.sanitize import Sanitizer

    raw = b"\xff\xfe\x00binary"
    out = Sanitizer().response(_json_response(raw, "application/octet-stream"))
    assert out["body"]["string"] == raw


def test_a_truncated_json_body_is_still_scrubbed_as_text() -> None:
    from app_connections.testing.sanitize import Sanitizer

    s = Sanitizer(replacements={"contoso-real-tenant": "TENANT"})
    out = s.response(_json_response(b'{"tenant": "contoso-real-tenant", "items": ['))
    assert out["body"]["string"] == b'{"tenant": "TENANT", "items": ['


def test_an_access_token_that_only_looks_like_a_jwt_gets_an_opaque_fake() -> None:
    from app_connections.testing.sanitize import Sanitizer

    s = Sanitizer()
    body = {"access_token": "not.a.jwt", "refresh_token": "rt-real", "token_type": "Bearer"}
    first = json.loads(s.response(_json_response(body))["body"]["string"])
    assert first["access_token"] == "fake-access-token-1"
    assert first["refresh_token"] == "fake-refresh-token-1"
    again = json.loads(s.response(_json_response(body))["body"]["string"])
    assert again == first  # the same real token always maps to the same fake


def test_client_info_that_does_not_decode_is_replaced_by_the_fake_identity() -> None:
    from app_connections.testing.sanitize import Sanitizer

    out = Sanitizer().response(_json_response({"client_info": "%%%-not-base64-json"}))
    assert json.loads(out["body"]["string"]) == {"client_info": fakes.fake_client_info()}


def test_placeholder_guids_are_kept_as_they_are() -> None:
    from app_connections.testing.sanitize import Sanitizer

    placeholder = fakes.PLACEHOLDER_GUID_PREFIX + "0123456789ab"
    real = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    out = Sanitizer().response(_json_response({"correlation_id": placeholder, "trace_id": real}))
    data = json.loads(out["body"]["string"])
    assert data["correlation_id"] == placeholder
    assert data["trace_id"] != real and fakes.is_placeholder_guid(data["trace_id"])
