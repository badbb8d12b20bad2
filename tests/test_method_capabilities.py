"""A third-party auth method on our connection type: the checks call the members ``AuthMethod``
declares (with their defaults, or the method's own), never probe the method or its record."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest

from app_connections.records import AuthMethod, ConnectionType
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.store import ProbeResult

STORE = "https://contoso.azconfig.io"


class Token:
    def __init__(self, token: str) -> None:
        self.token, self.expires_on = token, int(time.time()) + 600


class Record:
    """A record with only ``method`` and ``to_dict()``: no cloud, endpoint or tenant attributes."""

    def __init__(self, method: str, value: str) -> None:
        self.method, self.value = method, value

    def __repr__(self) -> str:
        return f"Record({self.method!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and other.to_dict() == self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "value": self.value}


class Minimal(AuthMethod):
    """The required members only; every optional one is AuthMethod's default."""

    slug, name = "minimal", "Minimal"

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object", "properties": {"value": {"type": "string"}}}

    def parse(self, data: Any) -> Record:
        return Record(self.slug, data["value"])

    def token_credential(self, credentials: Any, *, on_rotate: Any = None) -> Any:
        class Static:
            def get_token(self, *scopes: str, **kwargs: Any) -> Token:
                return Token("minimal-token")

        return Static()


class Signer:
    """What ``store.make_client`` signs with (a ``KeySigner``)."""

    used: ClassVar[list[str]] = []

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id, self.secret = key_id, secret

    def hmac_credential(self) -> tuple[Any, str]:
        from azure.core.credentials import AzureKeyCredential

        Signer.used.append(self.key_id)
        return AzureKeyCredential(self.secret), self.key_id


class VaultKey(AuthMethod):
    """A request-signing method whose record keeps its store and cloud under its own names."""

    slug, name = "vault-key", "Vault key"
    identity_provider = "the vault's key service"

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def parse(self, data: Any) -> Record:
        return Record(self.slug, data["keyId"])

    def token_credential(self, credentials: Any, **options: Any) -> Any:
        raise AssertionError("a signing method is never asked for a token")

    def request_credential(self, credentials: Any) -> object:
        return Signer(credentials.value, "c2VjcmV0LWZvci10ZXN0cw==")

    def principal(self, credentials: Any) -> str:
        return f"vault key {credentials.value}"

    def cloud_of(self, credentials: Any) -> str | None:
        return "usgov"

    def endpoint_of(self, credentials: Any) -> str | None:
        return "https://contoso.azconfig.azure.us"


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    from azure_appconfig_plugin import store

    clients: list[Any] = []

    def read(client: Any) -> ProbeResult:
        clients.append(client)
        return ProbeResult(200)

    monkeypatch.setattr(store, "probe_read", read)
    monkeypatch.setattr(store, "probe_write_precondition", lambda client: ProbeResult(412))
    monkeypatch.setattr(store, "probe_delete_precondition", lambda client: ProbeResult(412))
    return clients


def details(report: Any) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status.value, c.detail) for c in report.checks}


def test_a_method_with_only_the_required_members_validates_with_the_defaults(probes: list[Any]) -> None:
    ctype = build_connection_type().with_method(Minimal())  # type: ignore[arg-type]  # no base class, on purpose
    report = ctype.validate({"value": "v"}, method="minimal", endpoint=STORE, env={})
    found = details(report)
    assert report.ok, report.to_dict()
    assert found["endpoint"] == ("ok", f"{STORE} (Azure (global))")
    assert found["token"] == ("ok", "token issued for https://azconfig.io by the Minimal method")
    assert found["KeyValue.Read"] == ("ok", f"the identity of this Minimal connection has KeyValue.Read on {STORE}")
    method, creds = ctype.method("minimal"), ctype.parse("minimal", {"value": "v"})
    assert isinstance(method, AuthMethod) and method.request_credential(creds) is None  # type: ignore[arg-type]  # parse() returns object
    assert (method.cloud_of(creds), method.endpoint_of(creds), method.tenant_of(creds)) == (None, None, None)  # type: ignore[arg-type]  # parse() returns object
    assert ctype.load(creds.to_dict()) == creds  # the declared default load(): parse


def test_a_method_overriding_members_is_used_by_the_checks_and_the_client(probes: list[Any]) -> None:
    Signer.used.clear()
    ctype: ConnectionType = build_connection_type().with_method(VaultKey())
    report = ctype.validate({"keyId": "k1"}, method="vault-key", env={})  # no endpoint: the method's own
    found = details(report)
    assert report.ok, report.to_dict()
    assert found["endpoint"] == ("ok", "https://contoso.azconfig.azure.us (Azure US Government)")
    assert (
        found["token"][0] == "skipped"
        and "signs each request with the key (the vault's key service)" in (found["token"][1])
    )
    assert found["KeyValue.Read"] == ("ok", "vault key k1 has KeyValue.Read on https://contoso.azconfig.azure.us")
    assert Signer.used == ["k1"] and len(probes) == 1  # the store was probed with the method's signer
    other = details(ctype.validate({"keyId": "k1"}, method="vault-key", endpoint="https://other.azconfig.azure.us"))
    assert other["endpoint"][0] == "failed" and "its key signs requests for its own store only" in other["endpoint"][1]
