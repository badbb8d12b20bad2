"""The access-key method and ConnectionType.client: HMAC-SHA256 signing by the Azure SDK, the
connection string's endpoint held to the endpoint rules, probes that show a read-only key."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import EndpointRejected, InvalidInput
from azure_appconfig_plugin.methods.access_key import AccessKeyCredentials

CT = build_connection_type()
SECRET = base64.b64encode(b"canary-access-key-secret-Hq3!").decode()
KEY_ID = "Ab12-l0-s0:canaryId"
CONNECTION_STRING = f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id={KEY_ID};Secret={SECRET}"
OPTIONS = {"env": {}, "client_options": {"retry_backoff_factor": 0}}


def parse(**data: Any) -> AccessKeyCredentials:
    return CT.parse("access-key", data)  # type: ignore[no-any-return]  # parse() returns the method's record


# --- parse / load -------------------------------------------------------------------------------


def test_connection_string_and_parts_give_the_same_credentials() -> None:
    a = parse(connectionString=f"  {CONNECTION_STRING}\n")
    b = parse(endpoint=fakes.FAKE_STORE_ENDPOINT + "/", id=KEY_ID, secret=SECRET)
    assert a == b == AccessKeyCredentials(fakes.FAKE_STORE_ENDPOINT, KEY_ID, SECRET)
    assert CT.load(a.to_dict()) == a
    assert SECRET not in repr(a) and SECRET not in str(a)


@pytest.mark.parametrize(
    "segments",
    [
        f"Secret={SECRET};Id={KEY_ID};Endpoint={fakes.FAKE_STORE_ENDPOINT}",
        f"Endpoint={fakes.FAKE_STORE_ENDPOINT}; Id={KEY_ID}; Secret={SECRET}",
    ],
)
def test_segments_in_any_order(segments: str) -> None:
    assert parse(connectionString=segments).secret == SECRET


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"connectionString": f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id={KEY_ID}"}, "connectionString"),
        ({"connectionString": f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id={KEY_ID};Id={SECRET}"}, "connectionString"),
        ({"connectionString": f"Endpoint=http://x.azconfig.io;Id={KEY_ID};Secret={SECRET}"}, "connectionString"),
        (
            {"connectionString": f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id={KEY_ID};Secret=not base64!"},
            "connectionString",
        ),
        ({"endpoint": fakes.FAKE_STORE_ENDPOINT, "id": KEY_ID}, "secret"),
        ({"connectionString": CONNECTION_STRING, "secret": SECRET}, "secret"),
        ({}, "connectionString"),
    ],
)
def test_bad_input_names_the_field_and_never_the_secret(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        CT.parse("access-key", data)
    assert err.value.errors[0].field == field
    assert SECRET not in str(err.value) and SECRET not in repr(err.value.to_dict())


def test_no_token_but_a_client() -> None:
    creds = parse(connectionString=CONNECTION_STRING)
    with pytest.raises(InvalidInput, match=r"ConnectionType\.client"):
        CT.token_credential(creds)
    client = CT.client(creds)
    assert client._impl._config.endpoint == fakes.FAKE_STORE_ENDPOINT  # where the SDK keeps it


# --- the endpoint rules hold for the connection string's endpoint ----------------------------------


@pytest.mark.parametrize("endpoint", ["https://evil.example.com", "https://10.0.0.5"])
def test_the_connection_string_endpoint_must_pass_the_endpoint_rules(endpoint: str) -> None:
    creds = parse(connectionString=f"Endpoint={endpoint};Id={KEY_ID};Secret={SECRET}")
    with pytest.raises(EndpointRejected):
        CT.client(creds, env={})
    report = build_connection_type().validate(creds, **OPTIONS)
    assert [c.status.value for c in report.checks][:2] == ["ok", "failed"] and report.checks[1].name == "endpoint"
    assert all(c.status.value in ("ok", "failed") or c.detail.startswith("not checked") for c in report.checks)


def test_an_allow_listed_custom_domain_is_accepted() -> None:
    creds = parse(connectionString=f"Endpoint=https://config.contoso.com;Id={KEY_ID};Secret={SECRET}")
    env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS": "config.contoso.com"}
    assert CT.client(creds, env=env) is not None


def test_a_key_is_never_sent_to_another_store() -> None:
    creds = parse(connectionString=CONNECTION_STRING)
    with pytest.raises(InvalidInput, match="its own store"):
        CT.client(creds, "https://other-store.azconfig.io")
    report = build_connection_type().validate(creds, endpoint="https://other-store.azconfig.io", **OPTIONS)
    endpoint = next(c for c in report.checks if c.name == "endpoint")
    assert endpoint.status.value == "failed" and "own store" in endpoint.detail


# --- cassettes: signed by the SDK --------------------------------------------------------------------


@pytest.fixture
def sent_headers(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The headers of each request as the SDK sends them (cassettes drop Authorization)."""
    from azure.core.pipeline.transport import RequestsTransport

    seen: list[dict[str, str]] = []
    send = RequestsTransport.send

    def spy(self: Any, request: Any, **kwargs: Any) -> Any:
        seen.append(dict(request.headers))
        return send(self, request, **kwargs)

    monkeypatch.setattr(RequestsTransport, "send", spy)
    return seen


def test_a_read_write_key_validates_with_hmac_signed_requests(
    azure_vcr, sent_headers: list[dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with azure_vcr.use_cassette("access_key_store_healthy.yaml") as cassette:
        report = build_connection_type().validate(
            {"connectionString": CONNECTION_STRING}, method="access-key", **OPTIONS
        )
    assert report.ok, report.to_dict()
    checks = {c.name: c for c in report.checks}
    assert checks["token"].status.value == "skipped" and "HMAC-SHA256" in checks["token"].detail
    assert "instance settings" not in checks and cassette.all_played
    assert (
        all(
            h["Authorization"].startswith(
                f"HMAC-SHA256 Credential={KEY_ID}&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature="
            )
            for h in sent_headers
        )
        and len(sent_headers) == 3
    )
    assert all("x-ms-content-sha256" in h and "x-ms-date" in h for h in sent_headers)
    recorded = json.dumps([dict(r.headers) for r in cassette.requests])
    text = json.dumps(report.to_dict()) + "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("vcr")
    )
    for secret in (SECRET, CONNECTION_STRING):
        assert secret not in text and secret not in recorded


def test_a_read_only_key_shows_as_such(azure_vcr) -> None:
    with azure_vcr.use_cassette("access_key_read_only.yaml"):
        report = build_connection_type().validate(parse(connectionString=CONNECTION_STRING), **OPTIONS)
    checks = {c.name: c for c in report.checks}
    assert checks["KeyValue.Read"].status.value == "ok"
    for name in ("KeyValue.Write", "KeyValue.Delete"):
        assert checks[name].status.value == "failed" and "read-only key" in checks[name].detail
        assert "Read-write keys" in (checks[name].remediation or "")


def test_a_rejected_key_says_regenerated_or_local_auth_disabled(azure_vcr) -> None:
    with azure_vcr.use_cassette("access_key_rejected.yaml"):
        report = build_connection_type().validate(parse(connectionString=CONNECTION_STRING), **OPTIONS)
    read = next(c for c in report.checks if c.name == "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "401"
    assert "regenerated" in read.detail and "access keys are disabled" in read.detail
    assert "Microsoft Entra ID" in (read.remediation or "")
    assert [c.status.value for c in report.checks if c.name in ("KeyValue.Write", "KeyValue.Delete")] == ["skipped"] * 2


def test_client_of_a_token_method_uses_its_token_credential(azure_vcr) -> None:
    creds = CT.parse(
        "client-secret",
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary-client-secret"},
    )
    with (
        azure_vcr.use_cassette("store_healthy.yaml"),
        CT.client(creds, fakes.FAKE_STORE_ENDPOINT, retry_backoff_factor=0) as client,
    ):
        items = list(
            client.list_configuration_settings(
                key_filter="azure-appconfig-plugin/connection-probe", label_filter="\0", fields=["key"]
            )
        )
    assert items == []


def test_client_needs_an_endpoint_for_token_methods() -> None:
    creds = CT.parse(
        "client-secret",
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary-client-secret"},
    )
    with pytest.raises(InvalidInput) as err:
        CT.client(creds)
    assert err.value.field == "endpoint"


def test_client_factory_survives_added_methods_and_a_type_without_one_says_so() -> None:
    from app_connections.records import AuthMethod, ConnectionType

    class Extra(AuthMethod):
        slug, name = "extra", "Extra"

        def input_schema(self) -> dict[str, Any]:
            return {}

        def parse(self, data: Any) -> Any:
            return data

        def token_credential(self, credentials: Any, **_: Any) -> Any:
            return None

    creds = parse(connectionString=CONNECTION_STRING)
    assert CT.with_method(Extra()).client(creds) is not None  # type: ignore[arg-type]  # a minimal method, on purpose
    bare = ConnectionType(CT.slug, CT.name, CT.methods, CT.settings)
    with pytest.raises(InvalidInput, match="no client_factory"):
        bare.client(creds)


def test_validation_of_a_type_built_without_a_client_factory_still_reaches_the_store(azure_vcr) -> None:
    from app_connections.records import ConnectionType

    bare = ConnectionType(CT.slug, CT.name, CT.methods, CT.settings, checks=CT.checks)
    with azure_vcr.use_cassette("access_key_store_healthy.yaml"):
        report = bare.validate({"connectionString": CONNECTION_STRING}, method="access-key", **OPTIONS)
    assert report.ok, report.to_dict()


@pytest.mark.parametrize(
    ("endpoint", "cloud"),
    [
        ("https://gov-store.azconfig.azure.us", "usgov"),
        ("https://cn-store.azconfig.azure.cn", "china"),
        (fakes.FAKE_STORE_ENDPOINT, "public"),
        ("https://config.contoso.com", "public"),
    ],
)
def test_the_cloud_defaults_to_the_endpoint_s(endpoint: str, cloud: str) -> None:
    creds = parse(connectionString=f"Endpoint={endpoint};Id={KEY_ID};Secret={SECRET}")
    assert creds.cloud == cloud and CT.load(creds.to_dict()) == creds
    assert parse(connectionString=f"Endpoint={endpoint};Id={KEY_ID};Secret={SECRET}", cloud="china").cloud == "china"
