"""The identity-platform error table: every row is reachable and gives its class, field, code and remedy."""

from __future__ import annotations

import pytest

from azure_appconfig_plugin.auth.aad_errors import IDENTITY_ERRORS, IdentityError, error_from_result, remedy_for
from azure_appconfig_plugin.errors import AuthError, IdentityServiceError, ReconnectRequired

CODES_FROM_THE_ISSUE = {"interaction_required", "AADSTS50076", "AADSTS50196", "AADSTS90033"}


def _result(row: IdentityError) -> dict[str, object]:
    if isinstance(row.code, int):
        return {
            "error": "invalid_request",
            "error_codes": [row.code],
            "correlation_id": "00000000-0000-0000-0000-000000000001",
        }
    return {"error": row.code}


@pytest.mark.parametrize("row", IDENTITY_ERRORS, ids=[f"{r.label}-{r.error.__name__}" for r in IDENTITY_ERRORS])
def test_every_row_maps_to_its_class_field_and_remedy(row: IdentityError) -> None:
    stage = row.stages[0] if row.stages else "code"
    exc = error_from_result(
        _result(row), stage=stage, tenant="contoso.com", client_id="app-id", redirect_uri="https://x/cb"
    )
    assert type(exc) is row.error
    assert exc.field == row.field
    assert exc.code == (row.label if isinstance(row.code, int) else row.code)
    assert remedy_for(exc) == row.remedy
    assert "{" not in str(exc)  # every placeholder was filled
    assert row.label in row.error.codes


def test_the_issue_s_codes_are_in_the_table() -> None:
    assert {r.label for r in IDENTITY_ERRORS} >= CODES_FROM_THE_ISSUE


def test_refresh_stage_turns_dead_grants_into_reconnect() -> None:
    for code in (70008, 700082, 50173, 65001, 50076):
        assert isinstance(
            error_from_result({"error": "invalid_grant", "error_codes": [code]}, stage="refresh"), ReconnectRequired
        )


def test_throttling_codes_are_retryable() -> None:
    for code in (90055, 50196, 90033):
        exc = error_from_result({"error": "invalid_request", "error_codes": [code]}, stage="client-credentials")
        assert isinstance(exc, IdentityServiceError) and exc.retryable


def test_unknown_code_is_a_plain_auth_error() -> None:
    exc = error_from_result({"error": "invalid_request", "error_codes": [12345]}, stage="client-credentials")
    assert type(exc) is AuthError and exc.code == "AADSTS12345"


def test_network_failure_remedy_says_network_unreachable() -> None:
    from azure_appconfig_plugin.auth.aad_errors import error_from_exception

    exc = error_from_exception(ConnectionError("no route"), where="https://login.microsoftonline.com/t")
    assert "network unreachable" in str(exc) and "throttling" not in remedy_for(exc)
