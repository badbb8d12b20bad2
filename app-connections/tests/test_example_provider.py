"""A provider written against app_connections only (tests/example_provider/acme_broker.py, no Azure):
it loads through a real entry point, validates with least privilege, and records and replays with
the test kit, its declared secret fields (a PIN header, a broker token) sanitized and scanned."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from app_connections.loader import load_plugins
from app_connections.testing.rules import RuleTable
from app_connections.testing.secret_scan import scan_paths
from app_connections.testing.vcr_config import make_vcr

HERE = Path(__file__).parent / "example_provider"
PIN = "pin-4711-canary"
BROKER_TOKEN = "brk-canary-9f8e7d6c5b4a"
CALLS: list[str] = []


def source(name: str) -> str:
    return (HERE / f"{name}.py").read_text()


class Broker(BaseHTTPRequestHandler):
    """The Acme broker on loopback: a token for the right PIN."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        CALLS.append(self.path)
        ok = self.headers.get("X-Acme-Pin") == PIN
        body = json.dumps({"broker_token": BROKER_TOKEN, "expires_in": 300} if ok else {"error": "bad pin"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def acme(plugin_distributions: Callable[..., Path]) -> Iterator[Any]:
    """The example provider and a third party's audit hook, installed as two distributions."""
    plugin_distributions(
        "acme-broker-provider",
        entry_points={"app_connections": {"acme-broker": "acme_broker"}},
        modules={"acme_broker.py": source("acme_broker")},
    )
    plugin_distributions(
        "acme-audit",
        entry_points={"app_connections": {"acme-audit": "acme_audit"}},
        modules={"acme_audit.py": source("acme_audit")},
    )
    import acme_audit

    acme_audit.SEEN.clear()
    CALLS.clear()
    yield acme_audit


def form(url: str, pin: str = PIN) -> dict[str, str]:
    return {"brokerUrl": url, "user": "ann", "pin": pin}


def test_the_provider_loads_through_its_entry_point(acme: Any) -> None:
    registry = load_plugins(env={})
    assert "acme-broker" in registry.types and not [f for f in registry.failures if f.plugin.startswith("acme")]
    assert registry.providers["acme-broker"].distribution == "acme-broker-provider"
    schema = registry.get("acme-broker").method("pin").input_schema()
    assert schema["properties"]["pin"]["writeOnly"] is True and schema["properties"]["pin"]["x-header"] == "X-Acme-Pin"


def test_validation_gives_a_third_party_a_view_without_secrets(
    acme: Any, connections_https_server: Callable[..., Any]
) -> None:
    server = connections_https_server(Broker)
    report = load_plugins(env={}).validate("acme-broker", "pin", form(server.url))
    assert report.ok, report.to_dict()
    assert [c.name for c in report.checks] == ["input", "token", "audit"]
    assert acme.SEEN == [{"type": "acme-broker", "view": True, "pin": "<withheld>", "token_credential": False}]
    failed = load_plugins(env={}).validate("acme-broker", "pin", form(server.url, pin="0000-wrong"))
    assert not failed.ok and PIN not in json.dumps(failed.to_dict())


def test_a_granted_third_party_sees_the_secrets(acme: Any, connections_https_server: Callable[..., Any]) -> None:
    server = connections_https_server(Broker)
    load_plugins(env={}, grant_secrets={"acme-audit"}).validate("acme-broker", "pin", form(server.url))
    assert acme.SEEN[0]["view"] is False and acme.SEEN[0]["pin"] == PIN


def test_recording_sanitizes_the_declared_secrets_and_replays(
    acme: Any,
    tmp_path: Path,
    connections_https_server: Callable[..., Any],
    connections_sanitizer: Any,
    connections_secret_scan: Callable[..., list[Any]],
) -> None:
    server = connections_https_server(Broker)
    registry = load_plugins(env={})
    recorder = make_vcr(tmp_path, record_mode="all", sanitizer=connections_sanitizer)
    with recorder.use_cassette("acme.yaml"):
        assert registry.validate("acme-broker", "pin", form(server.url)).ok
    cassette = (tmp_path / "acme.yaml").read_text()
    assert PIN not in cassette and BROKER_TOKEN not in cassette  # declared secret: no SecretRules restated
    assert "X-Acme-Pin" in cassette and len(CALLS) == 1
    assert connections_secret_scan(tmp_path / "acme.yaml") == []

    replayer = make_vcr(tmp_path, record_mode="none", sanitizer=connections_sanitizer)
    with replayer.use_cassette("acme.yaml") as played:
        assert registry.validate("acme-broker", "pin", form(server.url)).ok
    assert played.play_count == 1 and len(CALLS) == 1  # answered from the cassette, not the broker
    elsewhere = connections_https_server(Broker)  # the next run's server: another ephemeral port
    assert elsewhere.url != server.url
    with replayer.use_cassette("acme.yaml") as played:
        assert registry.validate("acme-broker", "pin", form(elsewhere.url)).ok
    assert played.play_count == 1 and len(CALLS) == 1


def test_the_scan_flags_declared_secrets_left_in_a_cassette(
    acme: Any, tmp_path: Path, connections_secret_scan: Callable[..., list[Any]]
) -> None:
    leaked = tmp_path / "leaked.yaml"
    leaked.write_text(
        'interactions:\n- request:\n    body: \'{"user": "ann"}\'\n    headers:\n      X-Acme-Pin:\n      - '
        + PIN
        + "\n    method: POST\n    uri: https://127.0.0.1:8443/token\n  response:\n    body:\n      string: '"
        + json.dumps({"broker_token": BROKER_TOKEN})
        + "'\n    headers: {}\n    status:\n      code: 200\n      message: OK\nversion: 1\n"
    )
    found = {f.rule for f in connections_secret_scan(leaked)}
    assert any("x-acme-pin" in r.lower() for r in found), found
    assert not any("x-acme-pin" in r.lower() for r in (f.rule for f in scan_paths([leaked], RuleTable.of([]))))


def test_with_the_azure_provider_both_load_and_one_pinned_allow_list_covers_both(acme: Any) -> None:
    pytest.importorskip("azure_appconfig_plugin")
    import contextlib
    import io

    from app_connections.cli import main

    out = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["plugins", "pin"], out=out) == 0
    line = out.getvalue().strip()
    assert line.startswith("APP_CONNECTIONS_ALLOWED_PLUGINS=")
    pinned = line.split("=", 1)[1]
    registry = load_plugins(env={}, allowed_plugins=pinned)
    assert {"acme-broker", "azure-app-configuration"} <= set(registry.types)
    assert registry.trust.mode != "open" and not [f for f in registry.failures if f.stage == "trust"]
