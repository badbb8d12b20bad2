"""The HTTP policy's limits as data: defaults, environment overrides, configure, and its errors."""

from __future__ import annotations

import email.utils
from types import SimpleNamespace

import pytest

from azure_appconfig_plugin.errors import AppConnectionError, SettingsError
from azure_appconfig_plugin.http import transport
from azure_appconfig_plugin.http.answers import check_token_answer
from azure_appconfig_plugin.http.deadlines import operation_deadline, remaining
from azure_appconfig_plugin.http.errors import DeadlineExceeded, ForeignHostRefused, MalformedAnswer, policy_error
from azure_appconfig_plugin.http.limits import configure, current_limits
from azure_appconfig_plugin.http.retry import retry_after_seconds, retry_policy_class


@pytest.fixture(autouse=True)
def _reset() -> None:
    configure(None)
    yield
    configure(None)


def test_environment_overrides_and_rejects_nonsense() -> None:
    env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_VALIDATION_SECONDS": "15"}
    assert current_limits(env).validation_seconds == 15
    for bad in ("0", "-1", "x", "nan", "inf"):
        with pytest.raises(SettingsError) as caught:
            current_limits({"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_MAX_RESPONSE_BYTES": bad})
        assert "MAX_RESPONSE_BYTES" in str(caught.value)


def test_configure_then_environment() -> None:
    configure(token_request_seconds=5)
    assert current_limits({}).token_request_seconds == 5
    env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_TOKEN_REQUEST_SECONDS": "7"}
    assert current_limits(env).token_request_seconds == 7


def test_operation_deadlines_nest_and_the_earlier_wins() -> None:
    assert remaining(10) == 10
    with operation_deadline(3):
        assert 2 < remaining(10) <= 3
        with operation_deadline(100):
            assert remaining(10) <= 3
    assert remaining(10) == 10


def test_a_pinned_session_refuses_another_host_before_connecting() -> None:
    session = transport.session("127.0.0.1", 1, kind="store")
    with pytest.raises(ForeignHostRefused) as caught:
        session.get("https://127.0.0.2:1/kv", headers={"Authorization": "Bearer canary-token"})
    assert "127.0.0.2:1" in str(caught.value) and "canary-token" not in str(caught.value)
    assert isinstance(caught.value, AppConnectionError)


def test_policy_error_is_found_inside_sdk_errors() -> None:
    from azure.core.exceptions import ServiceRequestError

    inner = DeadlineExceeded("late", code="deadline_exceeded")
    outer = ServiceRequestError("wrapped", error=inner)
    assert policy_error(outer) is inner
    assert policy_error(ValueError("x")) is None


def test_client_kwargs_refuses_unknown_retry_options_and_caps_retry_total() -> None:
    with pytest.raises(TypeError):
        transport.client_kwargs("h", retry_forever=True)
    kwargs = transport.client_kwargs("h", retry_total=50)
    assert kwargs["retry_policy"].total_retries == 3


@pytest.mark.parametrize(
    "body", [b"", b"<html>", b"[1]", b'{"expires_in": null}', b'{"expires_in": 1e400}', b'{"refresh_in": true}']
)
def test_token_answer_check_refuses(body: bytes) -> None:
    with pytest.raises(MalformedAnswer):
        check_token_answer(body, None, "login:443")


def test_token_answer_check_accepts() -> None:
    check_token_answer(b'{"access_token": "a", "expires_in": "3599", "ext_expires_in": 3599}', None, "login:443")
    check_token_answer(b'{"error": "invalid_client", "error_codes": [7000215]}', None, "login:443")


def test_a_malformed_limit_is_reported_by_validation_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from app_connections.testing import fakes
    from azure_appconfig_plugin.connection import build_connection_type

    monkeypatch.setenv("INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_TOKEN_REQUEST_SECONDS", "soon")
    report = build_connection_type().validate(
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary-x"},
        method="client-secret",
    )
    token = next(c for c in report.checks if c.name == "token")
    assert token.status.value == "failed" and "TOKEN_REQUEST_SECONDS" in token.detail


# --- the one Retry-After reader (the store clients' retry policy and the sync engine) -----------------


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "250", "Retry-After": "2"}, 0.25),  # the milliseconds win: the finer figure
        ({"Retry-After": "not a date"}, None),
        ({"retry-after-ms": "soon", "Retry-After": "3"}, 3.0),  # milliseconds are never a date
        ({}, None),
        ({"retry-after-ms": "-5", "Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "nan", "x-ms-retry-after-ms": "-1", "Retry-After": "-3"}, None),
    ],
)
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(headers) == seconds


def test_retry_after_reads_an_http_date_as_the_time_until_it() -> None:
    date = "Fri, 27 Nov 2026 09:00:00 GMT"
    at = email.utils.parsedate_to_datetime(date).timestamp()
    assert retry_after_seconds({"Retry-After": date}, now=lambda: at - 7.5) == 7.5
    assert retry_after_seconds({"Retry-After": date}, now=lambda: at + 60) == 0.0  # passed: no wait
    assert retry_after_seconds({"Retry-After": "Fri, 27 Nov 2026 09:00:00 -0000"}, now=lambda: at - 1) == 1.0


def test_the_retry_policy_reads_a_wait_with_the_same_reader() -> None:
    policy = retry_policy_class()(None, retry_total=1)
    answer = SimpleNamespace(http_response=SimpleNamespace(headers={"RETRY-AFTER-MS": "250", "Retry-After": "x"}))
    assert policy.get_retry_after(answer) == 0.25  # header names compare case-insensitively
    bad = SimpleNamespace(http_response=SimpleNamespace(headers={"Retry-After": "Fri, 99 Nov 2026 09:00:00 GMT"}))
    assert policy.get_retry_after(bad) is None  # a date that does not parse asks for no wait
