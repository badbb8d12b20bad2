"""The identity-platform rows added for the certificate and workload-identity methods: each code,
in its stage, raises its class with its field, and validation shows its remedy."""

from __future__ import annotations

import pytest

from azure_appconfig_plugin.auth.aad_errors import (
    IDENTITY_ERRORS,
    error_from_result,
    identity_errors_markdown,
    remedy_for,
)
from azure_appconfig_plugin.errors import InvalidClientCertificate, InvalidFederatedToken

ROWS = [
    ("certificate", 700027, InvalidClientCertificate, "certificate", "not uploaded"),
    ("certificate", 7000274, InvalidClientCertificate, "certificate", "not signed by the key"),
    ("certificate", 700024, InvalidClientCertificate, None, "clock"),
    ("federated", 700024, InvalidFederatedToken, "tokenFilePath", "expired or not yet valid"),
    ("federated", 70021, InvalidFederatedToken, "clientId", "issuer, subject and audience"),
    ("federated", 700211, InvalidFederatedToken, "clientId", "token's issuer"),
    ("federated", 700212, InvalidFederatedToken, "clientId", "api://AzureADTokenExchange"),
    ("federated", 700213, InvalidFederatedToken, "clientId", "subject"),
    ("federated", 700027, InvalidFederatedToken, "tokenFilePath", "signature"),
]


@pytest.mark.parametrize(("stage", "code", "error", "field", "words"), ROWS)
def test_method_rows(stage: str, code: int, error: type, field: str | None, words: str) -> None:
    result = {
        "error": "invalid_client",
        "error_codes": [code],
        "error_description": f"AADSTS{code}: text\r\nTrace ID: x",
        "correlation_id": "00000000-0000-0000-0000-000000000001",
    }
    exc = error_from_result(result, stage=stage, tenant="t", client_id="22222222-2222-2222-2222-222222222222")
    assert type(exc) is error and exc.field == field and exc.code == f"AADSTS{code}" and words in str(exc)
    assert "Azure said: AADSTS" in str(exc)
    assert remedy_for(exc) != "Follow the message above; reconnect if it says so."
    assert f"`AADSTS{code}` (on {stage})" in identity_errors_markdown()


def test_every_method_row_is_tested() -> None:
    method_rows = {
        (r.stages[0], r.code) for r in IDENTITY_ERRORS if r.stages and r.stages[0] in ("certificate", "federated")
    }
    assert method_rows == {(stage, code) for stage, code, *_ in ROWS}


def test_a_client_secret_flow_never_gets_a_method_row() -> None:
    exc = error_from_result({"error": "invalid_client", "error_codes": [700027]}, stage="client-credentials")
    assert type(exc) not in (InvalidClientCertificate, InvalidFederatedToken)
