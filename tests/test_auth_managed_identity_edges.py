"""Edges of the managed-identity method against a loopback identity endpoint that answers whatever a
test scripts (raw bodies too): every platform named in messages, answers that are not an identity
endpoint's, the client cache's bound, and the proactive refresh time MSAL derives for long tokens."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from azure_appconfig_plugin.auth import msal_apps
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import IdentityServiceError, ManagedIdentityUnavailable
from azure_appconfig_plugin.methods.managed_identity import ManagedIdentityCredentials
from builtin import clear_ambient_identity
from standins.identity import IdentityEndpoint

CT = build_connection_type().with_policy(HostPolicy.operator())  # an operator's host: its own identity and disk
SCOPE = "https://azconfig.io/.default"
HEADER = "canary-identity-header-Zt3"


@pytest.fixture(autouse=True)
def _no_identity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_ambient_identity(monkeypatch)


@pytest.fixture
def imds(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityEndpoint]:
    endpoint = IdentityEndpoint()
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", endpoint.url)
    endpoint.body = {
        "access_token": fakes.FAKE_ACCESS_TOKEN,
        "expires_in": "86399",
        "expires_on": str(int(time.time()) + 86399),
        "resource": "https://azconfig.io",
        "token_type": "Bearer",
    }
    yield endpoint
    endpoint.close()


@pytest.fixture
def app_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[IdentityEndpoint]:
    endpoint = IdentityEndpoint()
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", HEADER)
    yield endpoint
    endpoint.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token(data: dict[str, Any] | None = None) -> Any:
    return CT.token_credential(CT.parse("managed-identity", data or {})).get_token_info(SCOPE)


# --- the platform named in messages ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "platform"),
    [
        ({"MSI_ENDPOINT": "{url}/msi/token", "MSI_SECRET": HEADER}, "Azure Machine Learning"),
        ({"IDENTITY_ENDPOINT": "{url}/metadata/identity/oauth2/token", "IMDS_ENDPOINT": "{url}"}, "Azure Arc"),
    ],
    ids=["machine-learning", "arc"],
)
def test_an_unanswered_endpoint_names_its_platform(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], platform: str
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(url=url))
    with pytest.raises(ManagedIdentityUnavailable) as err:
        token()
    assert err.value.code == "no_identity_endpoint" and platform in str(err.value) and url in str(err.value)
    assert HEADER not in str(err.value)


def test_an_endpoint_with_an_impossible_port_is_a_plain_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:99999/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", HEADER)
    with pytest.raises(ManagedIdentityUnavailable) as err:
        token()
    assert err.value.code == "identity_endpoint_unusable" and "127.0.0.1:99999" in str(err.value)


# --- answers that are not an identity endpoint's -----------------------------------------------------


def test_an_html_page_where_the_endpoint_should_be_says_so(app_service: IdentityEndpoint) -> None:
    app_service.status, app_service.body = 404, b"<html>Not Found</html>"
    with pytest.raises(ManagedIdentityUnavailable) as err:
        token()
    assert err.value.code == "no_identity_endpoint" and "not as a managed identity endpoint" in str(err.value)


def test_a_json_answer_of_the_wrong_shape_is_typed(app_service: IdentityEndpoint) -> None:
    app_service.status, app_service.body = 403, "forbidden"  # a JSON string, not an object
    with pytest.raises(IdentityServiceError) as err:
        token()
    assert err.value.code == "malformed_answer" and "MSAL could not use" in str(err.value)


def test_another_refusal_is_an_identity_error_with_the_endpoints_words(imds: IdentityEndpoint) -> None:
    # IMDS passes its error through as is: neither a status MSAL maps nor an error saying "not found"
    imds.status, imds.body = 403, {"error": "access_denied", "error_description": "canary-refusal-text"}
    with pytest.raises(ManagedIdentityUnavailable) as err:
        token({"clientId": fakes.FAKE_CLIENT_ID})
    assert err.value.code == "identity_error" and "canary-refusal-text" in str(err.value)
    assert fakes.FAKE_CLIENT_ID in str(err.value)


# --- the credential --------------------------------------------------------------------------------------


def test_repr_names_the_identity_and_no_header(app_service: IdentityEndpoint) -> None:
    text = repr(CT.token_credential(CT.parse("managed-identity", {"clientId": fakes.FAKE_CLIENT_ID})))
    assert fakes.FAKE_CLIENT_ID in text and "user-assigned" in text and HEADER not in text


def test_a_long_lived_token_gets_msals_proactive_refresh_time(imds: IdentityEndpoint) -> None:
    info = token()
    assert info.token == fakes.FAKE_ACCESS_TOKEN
    # MSAL sets refresh_in to half of a lifetime of 2 h or more; it was dropped before (refresh_on None)
    assert info.refresh_on is not None and abs(info.refresh_on - (time.time() + 43199)) < 120


def test_the_identity_client_cache_is_bounded(imds: IdentityEndpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(msal_apps, "MAX_APPS", 2)
    first = {"clientId": fakes.FAKE_CLIENT_ID}
    for data in (first, {}, first):  # cached: one request each for two identities
        token(data)
    assert len(imds.requests) == 2
    token({"objectId": fakes.FAKE_OBJECT_ID})  # a third identity evicts the least recently used (system)
    token(first)
    assert len(imds.requests) == 3
    token({})  # its client (and token cache) was dropped: asked again
    assert len(imds.requests) == 4


@pytest.mark.parametrize("expires_on", ["1000", "99999999999"], ids=["past", "centuries-ahead"])
def test_an_app_service_token_expiring_out_of_range_is_refused(app_service: IdentityEndpoint, expires_on: str) -> None:
    # MSAL turns App Service's expires_on into expires_in itself (the policy checks only expires_in-like fields)
    app_service.body = {
        "access_token": "canary-mi-token",
        "expires_on": expires_on,
        "resource": "https://azconfig.io",
        "token_type": "Bearer",
    }
    with pytest.raises(IdentityServiceError) as err:
        token()
    assert err.value.code == "malformed_answer" and "expires_in" in str(err.value)
    assert "canary-mi-token" not in str(err.value)


def test_a_record_built_by_the_host_reads_the_policy_in_effect_for_its_endpoint(app_service: IdentityEndpoint) -> None:
    # parsed records carry the policy's environment; one a host builds itself has none, and the token
    # credential then asks the policy in effect (here an operator's: this process's environment)
    app_service.body = {"access_token": fakes.FAKE_ACCESS_TOKEN, "expires_on": str(int(time.time()) + 3600)}
    record = ManagedIdentityCredentials(client_id=fakes.FAKE_CLIENT_ID)
    assert record.env is None
    credential = CT.token_credential(record)
    assert credential.get_token(SCOPE).token == fakes.FAKE_ACCESS_TOKEN
    path, query, headers = app_service.requests[0]
    assert (
        path == "/msi/token" and query["client_id"] == [fakes.FAKE_CLIENT_ID] and headers["X-IDENTITY-HEADER"] == HEADER
    )


# --- the host policy's environment and MSAL's ------------------------------------------------------------


def test_an_identity_endpoint_msal_would_not_ask_is_refused_before_any_request(app_service: IdentityEndpoint) -> None:
    """MSAL reads the process's environment: a policy naming another endpoint would have MSAL ask one
    the session is not pinned to, so the credential is refused when made, naming both."""
    elsewhere = {"MSI_ENDPOINT": "http://127.0.0.1:9/msi/token", "MSI_SECRET": "canary-msi-secret-Q7"}
    ct = build_connection_type().with_policy(HostPolicy.operator(elsewhere))
    with pytest.raises(ManagedIdentityUnavailable) as caught:
        ct.token_credential(ct.parse("managed-identity", {}))
    message = caught.value.message
    assert caught.value.code == "identity_environment_mismatch"
    assert "Azure Machine Learning (http://127.0.0.1:9/msi/token)" in message
    assert f"App Service / Functions / Container Apps ({app_service.url}/msi/token)" in message
    assert "canary-msi-secret-Q7" not in message and HEADER not in message
    assert app_service.requests == []
    # the same environment in both: made, and it asks the process's endpoint
    same = build_connection_type().with_policy(HostPolicy.operator())
    same.token_credential(same.parse("managed-identity", {}))


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("http://localhost:abc/msi/token", "its port is not a number from 1 to 65535"),
        ("ftp://127.0.0.1/msi/token", "its scheme is neither https nor http"),
        ("http:///msi/token", "it names no host"),
    ],
)
def test_an_unusable_identity_endpoint_is_refused_naming_it_before_any_request(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, why: str
) -> None:
    env = {"IDENTITY_ENDPOINT": endpoint, "IDENTITY_HEADER": "canary-identity-header-V3"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ct = build_connection_type().with_policy(HostPolicy.operator(env))
    with pytest.raises(ManagedIdentityUnavailable) as caught:
        ct.token_credential(ct.parse("managed-identity", {}))
    assert caught.value.code == "identity_endpoint_unusable"
    assert f"which is not a usable address ({why})" in caught.value.message
    assert "IDENTITY_ENDPOINT" in caught.value.message and "canary-identity-header-V3" not in caught.value.message
