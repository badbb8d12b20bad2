"""The managed-identity method against loopback stand-ins of the identity endpoints MSAL supports
through documented environment variables: App Service (IDENTITY_ENDPOINT + IDENTITY_HEADER) and
the VM's IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST). Off Azure: a plain error, quickly."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import IdentityServiceError, InvalidInput, ManagedIdentityUnavailable
from azure_appconfig_plugin.methods.managed_identity import ManagedIdentityCredentials
from builtin import clear_ambient_identity
from faults.concurrency import tokens_at_once
from standins.identity import IdentityEndpoint

CT = build_connection_type().with_policy(HostPolicy.operator())  # an operator's host: its own identity and disk
SCOPE = "https://azconfig.io/.default"
HEADER = "canary-identity-header-Vb6"
MI_CLIENT_ID = "66666666-6666-6666-6666-666666666666"
RESOURCE_ID = (
    "/subscriptions/77777777-7777-7777-7777-777777777777/resourceGroups/rg/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/app-id"
)


@pytest.fixture(autouse=True)
def _no_identity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_ambient_identity(monkeypatch)


@pytest.fixture
def stand_in() -> Iterator[IdentityEndpoint]:
    s = IdentityEndpoint()
    yield s
    s.close()


@pytest.fixture
def app_service(stand_in: IdentityEndpoint, monkeypatch: pytest.MonkeyPatch) -> IdentityEndpoint:
    monkeypatch.setenv("IDENTITY_ENDPOINT", stand_in.url + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", HEADER)
    stand_in.body = {
        "access_token": fakes.FAKE_ACCESS_TOKEN,
        "expires_on": str(int(time.time()) + 3600),
        "resource": "https://azconfig.io",
        "token_type": "Bearer",
        "client_id": MI_CLIENT_ID,
    }
    return stand_in


@pytest.fixture
def imds(stand_in: IdentityEndpoint, monkeypatch: pytest.MonkeyPatch) -> IdentityEndpoint:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", stand_in.url)
    stand_in.body = {
        "access_token": fakes.FAKE_ACCESS_TOKEN,
        "expires_in": "3599",
        "expires_on": str(int(time.time()) + 3599),
        "resource": "https://azconfig.io",
        "token_type": "Bearer",
    }
    return stand_in


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- parse / load -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ManagedIdentityCredentials()),
        ({"clientId": f" {MI_CLIENT_ID} "}, ManagedIdentityCredentials(client_id=MI_CLIENT_ID)),
        ({"resourceId": RESOURCE_ID}, ManagedIdentityCredentials(resource_id=RESOURCE_ID)),
        (
            {"objectId": fakes.FAKE_OBJECT_ID, "cloud": "usgov"},
            ManagedIdentityCredentials(object_id=fakes.FAKE_OBJECT_ID, cloud="usgov"),
        ),
    ],
)
def test_system_or_one_user_assigned_identity_round_trips(
    data: dict[str, Any], expected: ManagedIdentityCredentials
) -> None:
    creds = CT.parse("managed-identity", data)
    assert creds == expected and CT.load(creds.to_dict()) == creds


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"clientId": MI_CLIENT_ID, "objectId": fakes.FAKE_OBJECT_ID}, "objectId"),
        ({"resourceId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/app"}, "resourceId"),
        ({"clientId": "app-name"}, "clientId"),
    ],
)
def test_at_most_one_well_formed_identity(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        CT.parse("managed-identity", data)
    assert err.value.errors[0].field == field


# --- App Service stand-in ------------------------------------------------------------------------------


def test_app_service_system_assigned_token(app_service: IdentityEndpoint) -> None:
    token = CT.token_credential(CT.parse("managed-identity", {})).get_token(SCOPE)
    assert token.token == fakes.FAKE_ACCESS_TOKEN and 3500 < token.expires_on - time.time() <= 3600
    path, query, headers = app_service.requests[0]
    assert (
        path == "/msi/token" and query["resource"] == ["https://azconfig.io"] and query["api-version"] == ["2019-08-01"]
    )
    assert headers["X-IDENTITY-HEADER"] == HEADER and "client_id" not in query


def test_app_service_user_assigned_by_client_id_and_token_cached(app_service: IdentityEndpoint) -> None:
    credential = CT.token_credential(CT.parse("managed-identity", {"clientId": MI_CLIENT_ID}))
    credential.get_token(SCOPE)
    again = CT.token_credential(CT.parse("managed-identity", {"clientId": MI_CLIENT_ID})).get_token(SCOPE)
    assert again.token == fakes.FAKE_ACCESS_TOKEN and len(app_service.requests) == 1  # MSAL's cache, shared
    assert app_service.requests[0][1]["client_id"] == [MI_CLIENT_ID]


def test_app_service_unknown_user_assigned_identity_says_assign_it(app_service: IdentityEndpoint) -> None:
    app_service.status, app_service.body = (
        400,
        {
            "statusCode": 400,
            "message": (
                "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId."
            ),
            "correlationId": "00000000-0000-0000-0000-000000000009",
        },
    )
    with pytest.raises(ManagedIdentityUnavailable) as err:
        CT.token_credential(CT.parse("managed-identity", {"resourceId": RESOURCE_ID})).get_token(SCOPE)
    assert (
        err.value.code == "identity_not_found"
        and RESOURCE_ID in str(err.value)
        and "No User Assigned" in str(err.value)
    )
    assert HEADER not in str(err.value)


def test_app_service_server_error_is_transient(app_service: IdentityEndpoint) -> None:
    app_service.status, app_service.body = 500, {"statusCode": 500, "message": "busy"}
    with pytest.raises(IdentityServiceError) as err:
        CT.token_credential(CT.parse("managed-identity", {})).get_token(SCOPE)
    assert err.value.retryable and err.value.code == "500"


# --- IMDS stand-in ---------------------------------------------------------------------------------------


def test_imds_token_for_a_user_assigned_object_id(imds: IdentityEndpoint) -> None:
    token = CT.token_credential(CT.parse("managed-identity", {"objectId": fakes.FAKE_OBJECT_ID})).get_token(SCOPE)
    assert token.token == fakes.FAKE_ACCESS_TOKEN
    path, query, headers = imds.requests[0]
    assert path == "/metadata/identity/oauth2/token" and headers["Metadata"] == "true"
    assert query["object_id"] == [fakes.FAKE_OBJECT_ID] and query["resource"] == ["https://azconfig.io"]


def test_imds_without_that_identity(imds: IdentityEndpoint) -> None:
    imds.status, imds.body = 400, {"error": "invalid_request", "error_description": "Identity not found"}
    with pytest.raises(ManagedIdentityUnavailable) as err:
        CT.token_credential(CT.parse("managed-identity", {})).get_token(SCOPE)
    assert err.value.code == "identity_not_found" and "system-assigned" in str(err.value)


def test_an_endpoint_that_never_answers_is_a_bounded_timeout(imds: IdentityEndpoint) -> None:
    imds.hang = True
    credential = CT.methods["managed-identity"].token_credential(CT.parse("managed-identity", {}), timeout=(0.5, 0.5))
    with pytest.raises(ManagedIdentityUnavailable) as err:
        credential.get_token(SCOPE)
    assert err.value.code == "identity_endpoint_timeout" and "did not answer within 0.5 s" in str(err.value)


@pytest.mark.parametrize("timeout", [5.0, (1.0,), "2,3"])
def test_a_timeout_that_is_not_a_pair_of_seconds_is_invalid_input(timeout: object) -> None:
    method = CT.methods["managed-identity"]
    with pytest.raises(InvalidInput) as err:
        method.token_credential(CT.parse("managed-identity", {}), timeout=timeout)
    assert err.value.errors[0].field == "timeout" and "two numbers of seconds" in str(err.value)


def test_sixteen_threads_on_a_cold_cache_make_one_identity_request(imds: IdentityEndpoint) -> None:
    imds.delay = 0.3
    tokens, errors = tokens_at_once(lambda: CT.token_credential(CT.parse("managed-identity", {})), SCOPE)
    assert errors == [] and tokens == [fakes.FAKE_ACCESS_TOKEN] * 16
    assert len(imds.requests) == 1


def test_the_identity_endpoint_answer_is_size_capped_and_its_host_pinned(imds: IdentityEndpoint) -> None:
    from azure_appconfig_plugin.http.errors import ForeignHostRefused, ResponseTooLarge
    from azure_appconfig_plugin.http.limits import configure

    configure(max_response_bytes=2048)
    try:
        imds.body = {**imds.body, "access_token": "a" * 4096}
        with pytest.raises(ResponseTooLarge):
            CT.token_credential(CT.parse("managed-identity", {})).get_token(SCOPE)
    finally:
        configure(None)
    session = managed_identity_session(imds.url + "/metadata/identity/oauth2/token")
    assert session.trust_env is False  # no proxy ever sees the identity request
    with pytest.raises(ForeignHostRefused):
        session.get("http://127.0.0.2:1/metadata/identity/oauth2/token")


def managed_identity_session(endpoint: str) -> Any:
    from azure_appconfig_plugin.auth.managed_identity import _http_client

    return _http_client(endpoint, (1.0, 1.0))


# --- off Azure -------------------------------------------------------------------------------------------


def test_off_azure_validation_says_so_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens where IMDS would be: exactly what a laptop or a non-Azure server sees.
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{closed_port()}")
    report = CT.validate({}, method="managed-identity", endpoint=fakes.FAKE_STORE_ENDPOINT, env={})
    token = next(c for c in report.checks if c.name == "token")
    assert token.status.value == "failed" and token.code == "no_identity_endpoint"
    assert "not running on an Azure host with a managed identity" in token.detail
    assert "Azure host with a managed identity" in (token.remediation or "")
    assert [c.status.value for c in report.checks if c.name.startswith("KeyValue")] == ["skipped"] * 3


def test_the_default_connect_timeout_is_short() -> None:
    from azure_appconfig_plugin.auth import managed_identity

    assert managed_identity.CONNECT_TIMEOUT_SECONDS <= 2 and managed_identity.READ_TIMEOUT_SECONDS <= 15
    assert managed_identity.identity_source({})[1] == "http://169.254.169.254/metadata/identity/oauth2/token"


def test_validation_with_an_identity_reaches_the_store(app_service: IdentityEndpoint, azure_vcr) -> None:
    # The store answers from the cassette; the identity endpoint is the live loopback stand-in.
    with azure_vcr.use_cassette("access_key_store_healthy.yaml", ignore_localhost=True):
        report = CT.validate(
            {"clientId": MI_CLIENT_ID},
            method="managed-identity",
            endpoint=fakes.FAKE_STORE_ENDPOINT,
            env={},
            client_options={"retry_backoff_factor": 0},
        )
    assert report.ok, report.to_dict()
    checks = {c.name: c for c in report.checks}
    assert MI_CLIENT_ID in checks["KeyValue.Read"].detail and "managed identity" in checks["token"].detail
