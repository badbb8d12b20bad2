"""The validator: offline checks, token, and store permissions, replayed from cassettes."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from app_connections.reports import Check
from app_connections.testing import fakes
from azure_appconfig_plugin.checks.store import interpret
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from azure_appconfig_plugin.store import ProbeResult
from azure_appconfig_plugin.testing import fakes as azure_fakes
from cassettes_store import PROBE_LABEL

CANARY = "canary-secret-for-validation-7Hq"
ENDPOINT = fakes.FAKE_STORE_ENDPOINT
FAST = {"retry_backoff_factor": 0}


def creds(cloud: str = "public") -> ClientSecretCredentials:
    return ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, CANARY, cloud)


def statuses(report: Any) -> dict[str, str]:
    return {c.name: c.status.value for c in report.checks}


def run(azure_vcr: Any, cassette: str, *, sp: ClientSecretCredentials | None = None, **kw: Any) -> Any:
    with azure_vcr.use_cassette(cassette) as c:
        report = build_connection_type().validate(
            sp or creds(kw.pop("cloud", "public")),
            endpoint=kw.pop("endpoint", ENDPOINT),
            env={},
            client_options=FAST,
            **kw,
        )
    assert c.all_played, f"not every interaction of {cassette} was used"
    text = repr(report.to_dict())
    secret = (sp or creds()).client_secret
    assert secret not in text and "fake-access-token" not in text
    return report


@pytest.fixture
def sp(azure_test_values: Any, azure_record_mode: str) -> ClientSecretCredentials:
    """Real service principal while recording (--azure-record-mode), placeholders and a canary otherwise."""
    v = azure_test_values
    return ClientSecretCredentials(v.tenant_id, v.client_id, v.client_secret if azure_record_mode != "none" else CANARY)


def test_healthy_store(azure_vcr, sp: ClientSecretCredentials, azure_test_values: Any) -> None:
    # Recordable: with a principal that is App Configuration Data Owner on AZURE_APPCONFIG_ENDPOINT.
    report = run(azure_vcr, "store_healthy.yaml", sp=sp, endpoint=azure_test_values.store_endpoint)
    assert report.ok
    assert statuses(report) == {
        "input": "ok",
        "endpoint": "ok",
        "token": "ok",
        "KeyValue.Read": "ok",
        "KeyValue.Write": "ok",
        "KeyValue.Delete": "ok",
    }
    assert "nothing changed" in next(c for c in report.checks if c.name == "KeyValue.Write").detail


def test_read_only_principal(azure_vcr) -> None:
    report = run(azure_vcr, "store_read_only.yaml")
    assert not report.ok
    s = statuses(report)
    assert (s["KeyValue.Read"], s["KeyValue.Write"], s["KeyValue.Delete"]) == ("ok", "failed", "failed")
    write = next(c for c in report.checks if c.name == "KeyValue.Write")
    assert "App Configuration Data Owner" in write.remediation and "15 minutes" in write.remediation
    assert fakes.FAKE_CLIENT_ID in write.remediation and write.code == "403"


def test_no_data_role(azure_vcr) -> None:
    report = run(azure_vcr, "store_no_role.yaml")
    read = next(c for c in report.checks if c.name == "KeyValue.Read")
    assert read.status.value == "failed" and "Data Reader" in read.remediation
    assert statuses(report)["KeyValue.Delete"] == "failed"


def test_wrong_tenant(azure_vcr) -> None:
    report = run(azure_vcr, "store_wrong_tenant.yaml")
    read = next(c for c in report.checks if c.name == "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "401"
    assert f"not in tenant {fakes.FAKE_TENANT_ID}" in read.detail
    assert "Authorization token failed validation" in read.detail
    assert "tenant ID" in read.remediation
    assert statuses(report)["KeyValue.Write"] == "skipped"


def test_wrong_audience_is_named() -> None:
    check = interpret(
        "KeyValue.Read",
        ProbeResult(401, None, 'Bearer error="invalid_token"'),
        url=ENDPOINT,
        principal="p",
        tenant=fakes.FAKE_TENANT_ID,
        audience="https://azconfig.io",
        claims={"aud": "https://management.azure.com", "tid": fakes.FAKE_TENANT_ID},
    )
    assert "audience is https://management.azure.com, expected https://azconfig.io" in check.detail


def test_store_not_found(azure_vcr, monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *a: Any, **k: Any) -> Any:
        if host == "contoso-appconfig.azconfig.io":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with azure_vcr.use_cassette("store_token_only.yaml", ignore_hosts=["contoso-appconfig.azconfig.io"]) as c:
        report = build_connection_type().validate(creds(), endpoint=ENDPOINT, env={}, client_options=FAST)
    assert c.all_played
    read = next(x for x in report.checks if x.name == "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "unreachable"
    assert "DNS has no address" in read.detail and "no store by that name exists" in read.detail
    assert statuses(report)["KeyValue.Write"] == "skipped"


def test_throttled_then_successful(azure_vcr) -> None:
    report = run(azure_vcr, "store_throttled_then_ok.yaml")
    assert report.ok


def test_throttled_until_retries_run_out_is_inconclusive(azure_vcr) -> None:
    report = run(azure_vcr, "store_throttled_exhausted.yaml")
    read = next(c for c in report.checks if c.name == "KeyValue.Read")
    assert read.status.value == "inconclusive" and "429" in read.detail and "10" in read.detail
    assert not report.ok


def test_write_probe_writes_and_cleans_up(azure_vcr) -> None:
    report = run(azure_vcr, "store_write_probe.yaml", write_probe=True, probe_label=PROBE_LABEL)
    assert report.ok and statuses(report)["cleanup"] == "ok"


def test_write_probe_cleans_up_when_the_delete_fails_once(azure_vcr) -> None:
    report = run(azure_vcr, "store_write_probe_delete_fails_once.yaml", write_probe=True, probe_label=PROBE_LABEL)
    assert report.ok
    cleanup = next(c for c in report.checks if c.name == "cleanup")
    assert cleanup.status.value == "ok" and "after 2 attempts" in cleanup.detail


def test_write_probe_without_write_permission_writes_nothing(azure_vcr) -> None:
    report = run(azure_vcr, "store_write_probe_write_denied.yaml", write_probe=True, probe_label=PROBE_LABEL)
    s = statuses(report)
    assert s["KeyValue.Write"] == "failed" and s["KeyValue.Delete"] == "skipped" and "cleanup" not in s


def test_write_probe_reports_what_it_could_not_clean_up(azure_vcr) -> None:
    report = run(azure_vcr, "store_write_probe_delete_denied.yaml", write_probe=True, probe_label=PROBE_LABEL)
    cleanup = next(c for c in report.checks if c.name == "cleanup")
    assert cleanup.status.value == "failed" and PROBE_LABEL in cleanup.remediation


def test_us_government_store(azure_vcr) -> None:
    report = run(
        azure_vcr, "store_usgov_healthy.yaml", cloud="usgov", endpoint="https://contoso-appconfig.azconfig.azure.us"
    )
    assert report.ok


def test_token_failure_skips_the_store(azure_vcr) -> None:
    report = run(azure_vcr, "client_secret_invalid_secret.yaml")
    token = next(c for c in report.checks if c.name == "token")
    assert token.status.value == "failed" and token.code == "AADSTS7000215" and "new client secret" in token.remediation
    assert statuses(report)["KeyValue.Read"] == "skipped"


def test_no_endpoint_checks_the_token_only(azure_vcr) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        report = build_connection_type().validate(creds(), env={})
    assert report.ok and statuses(report)["KeyValue.Read"] == "skipped"


class NoHTTP:
    def __init__(self) -> None:
        self.calls = 0


@pytest.fixture
def no_http(monkeypatch: pytest.MonkeyPatch) -> NoHTTP:
    import requests

    spy = NoHTTP()

    def send(self: Any, *a: Any, **k: Any) -> Any:
        spy.calls += 1
        raise AssertionError("no HTTP request may be made")

    monkeypatch.setattr(requests.Session, "send", send)
    return spy


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://contoso-appconfig.azconfig.io",
        "https://evil.example.com",
        "https://1.2.3.4",
        "https://contoso-appconfig.azconfig.io/kv?x",
        "https://u:p@contoso-appconfig.azconfig.io",
        "https://contoso-appconfig.azconfig.io#f",
        "https://contoso-appconfig.azconfig.azure.cn",
    ],
)
def test_rejected_endpoint_makes_no_request(no_http: NoHTTP, endpoint: str) -> None:
    report = build_connection_type().validate(creds(), endpoint=endpoint, env={})
    assert no_http.calls == 0
    s = statuses(report)
    assert s["endpoint"] == "failed" and s["token"] == "skipped" and s["KeyValue.Read"] == "skipped"


def test_bad_input_is_reported_not_raised(no_http: NoHTTP) -> None:
    report = build_connection_type().validate({"tenantId": "x"}, method="client-secret", endpoint=ENDPOINT, env={})
    check = report.checks[0]
    assert check.name == "input" and check.status.value == "failed"
    assert "clientId" in check.detail and "clientSecret" in check.detail


def test_oauth_without_instance_settings(no_http: NoHTTP) -> None:
    stored = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1")
    report = build_connection_type().validate(stored, env={})
    assert statuses(report)["instance settings"] == "failed"


def test_oauth_connection_validates_with_refresh(azure_vcr) -> None:
    stored = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1")
    rotated: list[Any] = []
    with azure_vcr.use_cassette("oauth_refresh_rotates.yaml"):
        report = build_connection_type().validate(stored, env=azure_fakes.fake_instance_env(), on_rotate=rotated.append)
    assert report.ok and rotated[0].refresh_token == "fake-refresh-token-2"


def test_checks_serialize() -> None:
    c = Check("x", "failed", "d", "r", code="403")
    assert c.to_dict() == {"name": "x", "status": "failed", "detail": "d", "remediation": "r", "code": "403"}
