"""The workload-identity method: AKS-style defaults, the token file re-read on every token request,
clear errors for a missing/unreadable/expired file, federation errors from cassettes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from azure_appconfig_plugin.auth.workload_identity import UNUSABLE
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidFederatedToken, InvalidInput
from azure_appconfig_plugin.methods.workload_identity import WorkloadIdentityCredentials

CT = build_connection_type().with_policy(HostPolicy.operator())  # an operator's host: its own identity and disk
SCOPE = "https://azconfig.io/.default"
ENV_VARS = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE")
CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1767225600"}}}'


def federated_token(marker: str = "1", exp: float | None = None) -> str:
    """A service-account token as AKS projects it (unsigned fake: only its claims matter here)."""
    return fakes.fake_jwt(
        {
            "aud": ["api://AzureADTokenExchange"],
            "iss": "https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-0000000000aa/",
            "sub": "system:serviceaccount:default:workload-identity-sa",
            "exp": int(exp or time.time() + 3600),
            "iat": int(time.time()),
            "jti": f"canary-federated-{marker}",
        }
    )


@pytest.fixture(autouse=True)
def _no_aks_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "azure-identity-token"
    path.write_text(federated_token())
    return path


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import requests

    bodies: list[dict[str, Any]] = []
    post = requests.Session.post

    def spy(self: Any, url: str, data: Any = None, **kwargs: Any) -> Any:
        bodies.append(dict(data or {}))
        return post(self, url, data=data, **kwargs)

    monkeypatch.setattr(requests.Session, "post", spy)
    return bodies


def creds(path: Path | str) -> WorkloadIdentityCredentials:
    return CT.parse(
        "workload-identity",
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "tokenFilePath": str(path)},
    )


# --- parse / load -------------------------------------------------------------------------------


def test_explicit_fields_parse_and_round_trip(token_file: Path) -> None:
    c = creds(token_file)
    assert c.to_dict() == {
        "method": "workload-identity",
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_CLIENT_ID,
        "tokenFilePath": str(token_file),
        "cloud": "public",
    }
    assert CT.load(c.to_dict()) == c


def test_defaults_come_from_the_aks_environment_and_are_stored_resolved(
    monkeypatch: pytest.MonkeyPatch, token_file: Path
) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", fakes.FAKE_TENANT_ID)
    monkeypatch.setenv("AZURE_CLIENT_ID", fakes.FAKE_CLIENT_ID)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    c = CT.parse("workload-identity", {})
    assert (c.tenant_id, c.client_id, c.token_file_path) == (
        fakes.FAKE_TENANT_ID,
        fakes.FAKE_CLIENT_ID,
        str(token_file),
    )
    for var in ENV_VARS:
        monkeypatch.delenv(var)
    assert CT.load(c.to_dict()) == c  # stored credentials do not depend on the environment


@pytest.mark.parametrize(
    ("env", "field", "words"),
    [
        ({}, "tenantId", "AZURE_TENANT_ID"),
        ({"AZURE_TENANT_ID": fakes.FAKE_TENANT_ID}, "clientId", "AZURE_CLIENT_ID"),
        (
            {"AZURE_TENANT_ID": fakes.FAKE_TENANT_ID, "AZURE_CLIENT_ID": fakes.FAKE_CLIENT_ID},
            "tokenFilePath",
            "AZURE_FEDERATED_TOKEN_FILE",
        ),
        ({"AZURE_TENANT_ID": "not a tenant"}, "tenantId", "AZURE_TENANT_ID must be a tenant GUID"),
    ],
)
def test_a_missing_default_names_the_field_and_its_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], field: str, words: str
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(InvalidInput) as err:
        CT.parse("workload-identity", {})
    assert err.value.errors[0].field == field and words in err.value.errors[0].message


def test_a_host_that_does_not_lend_its_identity_takes_no_default_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, token_file: Path
) -> None:
    """A library host (many users): the AKS variables are the host's own, so a form that leaves a
    field out is refused, naming the field and why, even when the variable is set."""
    aks = {"AZURE_CLIENT_ID": fakes.FAKE_CLIENT_ID, "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
    for k, v in aks.items():
        monkeypatch.setenv(k, v)
    host = build_connection_type().with_policy(HostPolicy.library(allowed_dirs=[token_file.parent], env=aks))
    form = {"tenantId": fakes.FAKE_TENANT_ID, "tokenFilePath": str(token_file)}
    with pytest.raises(InvalidInput) as err:
        host.parse("workload-identity", form)
    assert [(e.field, e.message) for e in err.value.errors] == [
        ("clientId", "is required: this host does not lend its own identity, so the form gives every field")
    ]
    c = host.parse("workload-identity", {**form, "clientId": fakes.FAKE_CLIENT_ID})  # the whole form: accepted
    assert (c.client_id, c.token_file_path) == (fakes.FAKE_CLIENT_ID, str(token_file))


def test_token_file_path_must_be_absolute() -> None:
    with pytest.raises(InvalidInput) as err:
        creds("relative/token")
    assert err.value.field == "tokenFilePath"


def test_schema_marks_the_defaults_and_stores_them_required() -> None:
    m = CT.methods["workload-identity"]
    assert m.input_schema()["required"] == []
    assert "AZURE_FEDERATED_TOKEN_FILE" in m.input_schema()["properties"]["tokenFilePath"]["description"]
    assert m.stored_schema()["required"] == ["method", "tenantId", "clientId", "tokenFilePath"]


# --- tokens ----------------------------------------------------------------------------------------


def test_the_federated_token_is_the_client_assertion(azure_vcr, token_file: Path, sent: list[dict[str, Any]]) -> None:
    with azure_vcr.use_cassette("workload_identity_token.yaml") as cassette:
        token = CT.token_credential(creds(token_file)).get_token(SCOPE)
    assert token.token == fakes.FAKE_ACCESS_TOKEN and cassette.all_played
    assert sent[-1]["client_assertion"] == token_file.read_text()
    assert sent[-1]["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert b"REDACTED" in cassette.requests[1].body


def test_the_file_is_re_read_for_every_token_request(azure_vcr, token_file: Path, sent: list[dict[str, Any]]) -> None:
    credential = CT.token_credential(creds(token_file))
    with azure_vcr.use_cassette("workload_identity_token_twice.yaml") as cassette:
        first = credential.get_token(SCOPE)
        token_file.write_text(federated_token("2"))  # the kubelet rotated it
        second = credential.get_token(SCOPE, claims=CLAIMS)  # a claims challenge needs a new token
    assert (first.token, second.token) == (fakes.FAKE_ACCESS_TOKEN, "fake-access-token-2") and cassette.all_played
    assert [json.loads(fakes_claims(b["client_assertion"]))["jti"] for b in sent] == [
        "canary-federated-1",
        "canary-federated-2",
    ]


def fakes_claims(token: str) -> str:
    import base64

    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


@pytest.mark.parametrize(
    ("cassette", "code", "field", "words"),
    [
        ("workload_identity_no_match.yaml", "AADSTS70021", "clientId", "federated identity credential"),
        ("workload_identity_expired.yaml", "AADSTS700024", "tokenFilePath", "expired or not yet valid"),
    ],
)
def test_federation_errors_are_typed_and_say_what_to_fix(
    azure_vcr, token_file: Path, cassette: str, code: str, field: str, words: str
) -> None:
    with azure_vcr.use_cassette(cassette), pytest.raises(InvalidFederatedToken) as err:
        CT.token_credential(creds(token_file)).get_token(SCOPE)
    assert err.value.code == code and err.value.field == field and words in str(err.value)
    assert token_file.read_text() not in str(err.value) + repr(err.value.to_dict())


def _expired(path: Path) -> None:
    path.write_text(federated_token(exp=time.time() - 60))


def _directory(path: Path) -> None:
    path.mkdir()


def _not_a_jwt(path: Path) -> None:
    path.write_text("not a token\n")


def _empty(path: Path) -> None:
    path.write_text("")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (None, "ENOENT"),
        (_expired, "expired"),
        (_directory, "not a regular file"),
        (_not_a_jwt, "does not hold a JWT"),
        (_empty, "it is empty"),
    ],
)
def test_a_bad_token_file_is_one_generic_error_before_any_request(
    tmp_path: Path, make: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "token"
    if make:
        make(path)
    with pytest.raises(InvalidFederatedToken) as err:  # no cassette: a request would fail differently
        CT.token_credential(creds(path)).get_token(SCOPE)
    assert err.value.code == "token_file_unusable" and err.value.field == "tokenFilePath"
    assert err.value.message == UNUSABLE and str(path) not in str(err.value) and "AKS" in str(err.value)
    assert reason in caplog.text  # the reason is for the host's log only


def test_an_unreadable_token_file_is_the_same_generic_error(
    token_file: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    token_file.chmod(0)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # root reads any file: give it the answer others get
        real_open = os.open

        def denying(path: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(path) == token_file:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr("app_connections.paths.os.open", denying)
    with pytest.raises(InvalidFederatedToken) as err:
        CT.token_credential(creds(token_file)).get_token(SCOPE)
    assert err.value.message == UNUSABLE and "EACCES" in caplog.text


def test_validation_reaches_the_store(azure_vcr, token_file: Path) -> None:
    with azure_vcr.use_cassette("workload_identity_store_healthy.yaml"):
        report = CT.validate(
            creds(token_file),
            endpoint=fakes.FAKE_STORE_ENDPOINT,
            env={},
            client_options={"retry_backoff_factor": 0},
        )
    assert report.ok, report.to_dict()
    assert token_file.read_text() not in json.dumps(report.to_dict())


def test_validation_reports_a_missing_token_file_as_a_failed_token_check(tmp_path: Path) -> None:
    report = CT.validate(creds(tmp_path / "absent"), endpoint=fakes.FAKE_STORE_ENDPOINT, env={})
    token = next(c for c in report.checks if c.name == "token")
    assert token.status.value == "failed" and token.code == "token_file_unusable" and "AKS" in (token.remediation or "")
