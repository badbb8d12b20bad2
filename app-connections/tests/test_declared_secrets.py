"""Secret rules derived from declarations, and the kit registry's base discovery, at their edges."""

from __future__ import annotations

import re
import types
from typing import Any

import pytest

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import Field
from app_connections.records import AuthMethod, ConnectionType
from app_connections.testing import registry as kit_registry
from app_connections.testing.declared import declared_secret_rules, installed_secret_rules


class Broken(AuthMethod):
    slug, name = "broken", "Broken"

    def input_schema(self) -> dict[str, Any]:
        raise RuntimeError("no schema today")


class Odd(AuthMethod):
    slug, name = "odd", "Odd"

    def input_schema(self) -> dict[str, Any]:
        return {"properties": ["not", "a", "mapping"]}


class Token(DeclaredAuthMethod):
    slug, name, connection_type = "token", "Token", "t"
    input_fields = (Field("apiKey", title="Key", description="The key.", secret=True, header="X-Api-Key"),)
    stored_fields = (
        Field("apiKey", title="Key", description="The key.", secret=True, header="X-Api-Key"),
        Field("refreshToken", title="Refresh", description="Stored only.", secret=True),
        Field("user", title="User", description="Public."),
    )


def test_declared_rules_take_input_and_stored_secrets_and_skip_what_cannot_be_read() -> None:
    ctype = ConnectionType("t", "T", {"token": Token(), "broken": Broken(), "odd": Odd()})  # type: ignore[dict-item]  # protocol stand-ins
    rules = declared_secret_rules([ctype])
    assert rules.fields == ("apiKey", "refreshToken") and rules.headers == ("X-Api-Key",)


def test_a_malformed_allow_list_gives_no_declared_rules() -> None:
    assert (
        installed_secret_rules({"APP_CONNECTIONS_ALLOWED_PLUGINS": "not a valid == entry"})
        == type(declared_secret_rules([]))()
    )


def test_type_probes_survive_plugins_without_or_with_raising_hooks() -> None:
    def boom(register: Any) -> None:
        raise RuntimeError("boom")

    bare, raising = (
        types.SimpleNamespace(),
        types.SimpleNamespace(register_connection_types=boom, register_auth_methods=boom),
    )
    for plugin in (bare, raising):
        assert kit_registry.registers_types(plugin) == set() and kit_registry.extended_types(plugin) == set()
    typed = types.SimpleNamespace(
        register_connection_types=lambda register: register.add(types.SimpleNamespace(slug="x"))
    )
    assert kit_registry.registers_types(typed) == {"x"}
    assert kit_registry.base_plugins([]) == []
    assert kit_registry.base_plugins(["no-such-type"]) == []  # installed plugins register other types
    assert kit_registry.needs_base(
        [("ext", types.SimpleNamespace(register_auth_methods=lambda register: register.add("x", 1)))], "x"
    )


def test_a_provider_that_fails_to_load_is_no_base(monkeypatch: pytest.MonkeyPatch) -> None:
    class EP:
        name = "bad"

        def load(self) -> object:
            raise ImportError("gone")

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [EP()])
    assert kit_registry.base_plugins(["x"]) == []


class TestRecordingSession:
    """The kit's fixtures in a recording session (``--record-mode all``): stubbed, never online."""

    @pytest.fixture
    def connections_record_mode(self) -> str:
        return "all"

    def test_the_sanitizer_takes_the_recording_environment(
        self, connections_sanitizer: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert connections_sanitizer.replacements == {}

    def test_the_vcr_records_into_the_cassette_dir(
        self, connections_vcr: Any, connections_cassette_dir: Any, pytestconfig: pytest.Config
    ) -> None:
        assert connections_vcr.record_mode == "all"
        assert str(connections_cassette_dir).endswith(str(pytestconfig.getini("connections_cassette_dir")))


def test_the_https_server_extends_an_existing_allow_list(
    connections_https_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    from http.server import BaseHTTPRequestHandler

    monkeypatch.setenv("ACME_ALLOWED_HOSTS", "broker.example.com")
    server = connections_https_server(BaseHTTPRequestHandler, allow_list_env="ACME_ALLOWED_HOSTS")
    assert os.environ["ACME_ALLOWED_HOSTS"] == f"broker.example.com,{server.host_port}"
    assert os.environ["REQUESTS_CA_BUNDLE"] == server.ca_bundle


class TestReplaying:
    """The kit's network guard in a replaying session (``--record-mode none``, the default)."""

    @pytest.fixture
    def connections_record_mode(self) -> str:
        return "none"

    def test_only_loopback_is_reachable(self, connections_network_blocked: None) -> None:
        import socket

        from app_connections.testing.network import NetworkBlocked

        with pytest.raises(NetworkBlocked, match=re.escape("lookup of 'example.com'")):
            socket.getaddrinfo("example.com", 443)
        with socket.socket() as sock, pytest.raises(NetworkBlocked, match=re.escape("connection to '192.0.2.1'")):
            sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before any packet is sent
        assert socket.getaddrinfo("127.0.0.1", 443, type=socket.SOCK_STREAM)[0][4][0] == "127.0.0.1"
