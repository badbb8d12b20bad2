"""The HTTP policy's limits as data: defaults, environment overrides, configure, and its errors."""

from __future__ import annotations

import pytest

from azure_appconfig_plugin import http_policy
from azure_appconfig_plugin.errors import AppConnectionError, SettingsError


@pytest.fixture(autouse=True)
def _reset() -> None:
    http_policy.configure(None)
    yield
    http_policy.configure(None)


def test_environment_overrides_and_rejects_nonsense() -> None:
    env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_VALIDATION_SECONDS": "15"}
    assert http_policy.current_limits(env).validation_seconds == 15
    for bad in ("0", "-1", "x", "nan", "inf"):
        with pytest.raises(SettingsError) as caught:
            http_policy.current_limits({"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_MAX_RESPONSE_BYTES": bad})
        assert "MAX_RESPONSE_BYTES" in str(caught.value)


def test_configure_then_environment() -> None:
    http_policy.configure(token_request_seconds=5)
    assert http_policy.current_limits({}).token_request_seconds == 5
    env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_TOKEN_REQUEST_SECONDS": "7"}
    assert http_policy.current_limits(env).token_request_seconds == 7


def test_operation_deadlines_nest_and_the_earlier_wins() -> None:
    assert http_policy.remaining(10) == 10
    with http_policy.operation_deadline(3):
        assert 2 < http_policy.remaining(10) <= 3
        with http_policy.operation_deadline(100):
            assert http_policy.remaining(10) <= 3
    assert http_policy.remaining(10) == 10


def test_a_pinned_session_refuses_another_host_before_connecting() -> None:
    session = http_policy.session("127.0.0.1", 1, kind="store")
    with pytest.raises(http_policy.ForeignHostRefused) as caught:
        session.get("https://127.0.0.2:1/kv", headers={"Authorization": "Bearer canary-token"})
    assert "127.0.0.2:1" in str(caught.value) and "canary-token" not in str(caught.value)
    assert isinstance(caught.value, AppConnectionError)


def test_policy_error_is_found_inside_sdk_errors() -> None:
    from azure.core.exceptions import ServiceRequestError

    inner = http_policy.DeadlineExceeded("late", code="deadline_exceeded")
    outer = ServiceRequestError("wrapped", error=inner)
    assert http_policy.policy_error(outer) is inner
    assert http_policy.policy_error(ValueError("x")) is None


def test_client_kwargs_refuses_unknown_retry_options_and_caps_retry_total() -> None:
    with pytest.raises(TypeError):
        http_policy.client_kwargs("h", retry_forever=True)
    kwargs = http_policy.client_kwargs("h", retry_total=50)
    assert kwargs["retry_policy"].total_retries == 3


@pytest.mark.parametrize(
    "body", [b"", b"<html>", b"[1]", b'{"expires_in": null}', b'{"expires_in": 1e400}', b'{"refresh_in": true}']
)
def test_token_answer_check_refuses(body: bytes) -> None:
    with pytest.raises(http_policy.MalformedAnswer):
        http_policy.check_token_answer(body, None, "login:443")


def test_token_answer_check_accepts() -> None:
    http_policy.check_token_answer(
        b'{"access_token": "a", "expires_in": "3599", "ext_expires_in": 3599}', None, "login:443"
    )
    http_policy.check_token_answer(b'{"error": "invalid_client", "error_codes": [7000215]}', None, "login:443")


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
