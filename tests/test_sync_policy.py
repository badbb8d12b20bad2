"""The sync as a citizen of the package: every auth method through ``ConnectionType.client``, every
request through the one HTTP policy (its refusals reported per key or listing, with their code)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest

from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.http.limits import configure
from azure_appconfig_plugin.http.pace import Pace
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from standins.appconfig import StandIn
from standins.fixtures import FakeTokenCredential

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

D = AppConfigurationDestination()
KEY_ID = "0-l0-s0:AbCdEfGhIjKlMnOp"
KEY_SECRET = base64.b64encode(b"not-a-real-access-key-secret-32b").decode()


def access_key(s: StandIn, endpoint: str | None = None) -> dict[str, Any]:
    return {
        "method": "access-key",
        "endpoint": endpoint or s.endpoint,
        "id": KEY_ID,
        "secret": KEY_SECRET,
        "cloud": "public",
    }


@pytest.fixture
def plain_options(sync_options: dict[str, Any]) -> dict[str, Any]:
    """The stand-in's allow-list and CA, but no token credential: the connection's own method is used."""
    return {k: v for k, v in sync_options.items() if k != "token_credential"}


@pytest.fixture
def small_limits() -> Iterator[None]:
    yield
    configure(None)


def test_an_access_key_connection_syncs_with_signed_requests_and_no_token(
    standin: StandIn, plain_options: dict[str, Any]
) -> None:
    report = D.push(
        access_key(standin), {"endpoint": standin.endpoint, "keyPrefix": "app/"}, {"A": "1", "B": "2"}, **plain_options
    )
    assert report.ok and report.counts["created"] == 2 and report.requests == 3
    assert standin.store.entry("app/A", None)["value"] == "1"
    assert standin.hmac_credentials == {KEY_ID} and standin.bearer_tokens == set()
    imported = D.import_secrets(
        access_key(standin), {"endpoint": standin.endpoint, "keyPrefix": "app/"}, **plain_options
    )
    assert imported.imported == {"A": "1", "B": "2"}


def test_the_stand_in_refuses_an_unsigned_or_malformed_authorization(standin: StandIn) -> None:
    from standins.appconfig import hmac_credential

    headers = {
        "x-ms-date": "Sat, 28 Nov 2026 06:00:00 GMT",
        "x-ms-content-sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    }
    good = f"HMAC-SHA256 Credential={KEY_ID}&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=abc+/="
    assert hmac_credential(good, headers) == KEY_ID
    assert hmac_credential(good, {"x-ms-date": headers["x-ms-date"]}) is None
    assert hmac_credential(good.replace("x-ms-date;", ""), headers) is None
    assert hmac_credential(f"HMAC-SHA256 Credential={KEY_ID}&Signature=abc", headers) is None
    import requests

    shaped = {**headers, "Authorization": good.replace("&Signature=", "&Sig=")}
    answer = requests.get(f"{standin.endpoint}/kv", headers=shaped, verify=standin.ca_path, timeout=10)
    assert answer.status_code == 401


def test_an_access_key_for_another_store_is_refused_before_any_request(
    standin: StandIn, plain_options: dict[str, Any]
) -> None:
    other = StandIn()
    with other:
        env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS": f"{standin.allow_list},{other.allow_list}"}
        with pytest.raises(InvalidInput, match="the access key belongs to"):
            D.push(access_key(other), {"endpoint": standin.endpoint}, {"A": "1"}, **{**plain_options, "env": env})
    assert standin.requests() == [] and other.requests() == []


def test_the_run_uses_the_connection_type_it_is_given(standin: StandIn, plain_options: dict[str, Any]) -> None:
    from azure_appconfig_plugin.connection import build_connection_type

    real = build_connection_type()
    calls: list[str] = []

    class Spy:
        """The registry's connection type: the sync must open its client through its ``client``."""

        methods = real.methods

        def method(self, slug: str) -> Any:
            return real.method(slug)

        def load(self, stored: Any) -> Any:
            return real.load(stored)

        def client(self, credentials: Any, endpoint: Any = None, **options: Any) -> Any:
            calls.append(credentials.method)
            assert options["pool_maxsize"] == 4 and isinstance(options["pace"], Pace)
            return real.client(credentials, endpoint, **options)

    report = D.push(
        access_key(standin),
        {"endpoint": standin.endpoint},
        {"A": "1"},
        connection_type=Spy(),
        concurrency=4,
        **plain_options,
    )
    assert report.ok and calls == ["access-key"]


def test_a_write_the_policy_refuses_is_reported_per_key_with_its_code(
    standin: StandIn, sync_options: dict[str, Any], small_limits: None
) -> None:
    configure(max_response_bytes=120)  # the empty listing fits; an entry's answer does not
    report = D.push(
        None,
        {"endpoint": standin.endpoint, "keyPrefix": "a-rather-long-prefix-for-the-entry/"},
        {"A" * 40: "1", "B" * 40: "2"},
        **sync_options,
    )
    assert not report.ok and report.counts["failed"] == 2
    assert {c.code for c in report.changes} == {"response_too_large"}
    assert all(c.detail.startswith("response_too_large: ") for c in report.changes)
    assert report.to_dict()["changes"][0]["code"] == "response_too_large"
    assert len(standin.requests("PUT")) == 2  # refused answers are never retried


def test_a_listing_the_policy_refuses_is_reported_with_its_code(
    standin: StandIn, sync_options: dict[str, Any], small_limits: None
) -> None:
    for i in range(5):
        standin.store.put(f"K{i}", "v" * 100)
    configure(max_response_bytes=200)
    report = D.push(None, {"endpoint": standin.endpoint}, {"A": "1"}, **sync_options)
    assert [(c.key, c.status.value, c.code) for c in report.changes] == [("A", "failed", "response_too_large")]
    assert "listing the scope failed (response_too_large: " in report.changes[0].detail
    assert standin.requests("PUT") == [] and len(standin.requests("GET")) == 1


def test_a_next_link_to_another_host_is_coded_foreign_host(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.page_size = 1
    standin.store.put("K0", "v")
    standin.store.put("K1", "v")
    standin.link_host = "attacker.example.com"
    report = D.import_secrets(None, {"endpoint": standin.endpoint}, **sync_options)
    assert [c.code for c in report.changes] == ["foreign_host"]


def test_a_slow_write_is_cut_at_the_runs_deadline_by_the_policy(standin: StandIn, sync_options: dict[str, Any]) -> None:
    def slow_after_listing(_: Any) -> None:
        standin.latency = 10.0

    standin.after_list.append(slow_after_listing)
    started = time.monotonic()
    report = D.push(None, {"endpoint": standin.endpoint}, {"A": "1"}, timeout=0.6, **sync_options)
    assert time.monotonic() - started < 4
    assert [(c.status.value, c.code) for c in report.changes] == [("failed", "deadline_exceeded")], report.changes
    # Cut by the policy's watchdog or by the socket timeout it set from the time left, whichever fires first.
    detail = report.changes[0].detail
    assert "did not deliver its whole answer" in detail or "Read timed out" in detail, detail


def test_a_listing_slower_than_the_run_is_cut_with_its_code(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.latency = 5.0
    started = time.monotonic()
    report = D.push(None, {"endpoint": standin.endpoint}, {"A": "1"}, timeout=0.5, **sync_options)
    assert time.monotonic() - started < 4 and "did not deliver its whole answer" in report.changes[0].detail
    assert [(c.status.value, c.code) for c in report.changes] == [("failed", "deadline_exceeded")], report.changes


def test_the_ca_bundle_named_by_the_environment_is_trusted(
    standin: StandIn, fake_token: FakeTokenCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", standin.ca_path)
    env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS": standin.allow_list}
    report = D.push(None, {"endpoint": standin.endpoint}, {"A": "1"}, token_credential=fake_token, env=env)
    assert report.ok and report.counts["created"] == 1


class _AsyncOnly:
    """An ``AsyncTokenCredential``: its ``get_token`` is a coroutine function."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("a sync run must not ask an async credential for a token")


@pytest.mark.parametrize("with_connection", [False, True])
def test_an_async_token_credential_given_to_a_sync_run_is_invalid_input_before_any_request(
    standin: StandIn, plain_options: dict[str, Any], with_connection: bool
) -> None:
    connection = access_key(standin) if with_connection else None
    with pytest.raises(InvalidInput) as raised:
        D.push(connection, {"endpoint": standin.endpoint}, {"A": "1"}, token_credential=_AsyncOnly(), **plain_options)
    assert raised.value.errors[0].field == "token_credential" and "apush" in raised.value.errors[0].message
    assert standin.log == []


def test_a_token_credential_that_is_not_one_is_invalid_input_before_any_request(
    standin: StandIn, plain_options: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput) as raised:
        D.push(None, {"endpoint": standin.endpoint}, {"A": "1"}, token_credential="not-a-credential", **plain_options)
    assert raised.value.errors[0].field == "token_credential" and "has no get_token" in raised.value.errors[0].message
    assert standin.log == []


@pytest.mark.parametrize("given", [_AsyncOnly(), "not-a-credential"], ids=["async", "not-a-credential"])
def test_validate_reports_a_token_credential_it_cannot_use_as_a_failed_token_check(
    standin: StandIn, plain_options: dict[str, Any], given: object
) -> None:
    from azure_appconfig_plugin.connection import build_connection_type

    form = {"tenantId": "00000000-0000-0000-0000-000000000001", "clientId": "00000000-0000-0000-0000-000000000002"}
    report = build_connection_type().validate(
        {**form, "clientSecret": "canary-cs-tc"},
        method="client-secret",
        endpoint=standin.endpoint,
        token_credential=given,
        env=plain_options["env"],
    )
    checks = {c.name: c for c in report.checks}
    assert checks["token"].status.value == "failed" and "token_credential" in checks["token"].detail
    assert checks["KeyValue.Read"].status.value == "skipped" and standin.log == []
    if isinstance(given, _AsyncOnly):
        assert "avalidate" in checks["token"].detail
