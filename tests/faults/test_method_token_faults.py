"""Single-flight token requests for the certificate and workload-identity methods: they take the client-secret
credential's token path (single flight, typed errors, policy deadlines), so 16 threads on a cold
cache make one token request, and a stalled token endpoint is cut off by the token deadline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import certs
from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.http.errors import DeadlineExceeded, HttpPolicyError
from azure_appconfig_plugin.http.limits import configure

from .concurrency import tokens_at_once
from .standins import Answer, IdentityPlatform

SCOPE = "https://azconfig.io/.default"
CT = build_connection_type().with_policy(HostPolicy.operator())  # an operator's host: its own identity and disk
BASE = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}


def certificate_credential(_: Path) -> Any:
    return CT.token_credential(
        CT.parse("certificate", {**BASE, "privateKey": certs.key_pem(), "certificate": certs.cert_pem()})
    )


def workload_identity_credential(tmp_path: Path) -> Any:
    path = tmp_path / "azure-identity-token"
    if not path.exists():
        path.write_text(
            fakes.fake_jwt({"sub": "system:serviceaccount:default:sa", "exp": 4102444800, "jti": "canary-federated"})
        )
    return CT.token_credential(CT.parse("workload-identity", {**BASE, "tokenFilePath": str(path)}))


METHODS = {"certificate": certificate_credential, "workload-identity": workload_identity_credential}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shared", [True, False], ids=["one-credential", "one-per-thread"])
def test_sixteen_threads_on_a_cold_cache_make_one_token_request(
    identity: IdentityPlatform, tmp_path: Path, method: str, shared: bool
) -> None:
    make: Callable[[Path], Any] = METHODS[method]
    identity.token_delay = 0.3
    one = make(tmp_path)
    tokens, errors = tokens_at_once(lambda: one if shared else make(tmp_path), SCOPE)
    assert errors == []
    assert len(identity.token_requests) == 1
    grant = identity.token_requests[0].form
    assert grant["grant_type"] == ["client_credentials"] and "client_assertion" in grant
    assert len(set(tokens)) == 1 and len(tokens) == 16


@pytest.mark.parametrize("method", METHODS)
def test_a_dripping_token_endpoint_is_cut_off_by_the_token_deadline(
    identity: IdentityPlatform, tmp_path: Path, method: str
) -> None:
    configure(token_request_seconds=0.3)
    body = b'{"token_type": "Bearer", "expires_in": 3599, "access_token": "' + b"a" * 200 + b'"}'
    identity.token_answer = lambda seen, tid: Answer(  # 13 s at one byte every 0.05 s
        200, {"Content-Type": "application/json"}, body, drip_seconds=0.05, drip_body=True
    )
    with pytest.raises(DeadlineExceeded):
        METHODS[method](tmp_path).get_token(SCOPE)


@pytest.mark.parametrize("method", METHODS)
def test_a_malformed_token_answer_is_typed(identity: IdentityPlatform, tmp_path: Path, method: str) -> None:
    body = b'{"token_type": "Bearer", "expires_in": null, "access_token": "canary-token-xyz"}'
    identity.token_answer = lambda seen, tid: Answer(200, {"Content-Type": "application/json"}, body)
    with pytest.raises(HttpPolicyError) as caught:
        METHODS[method](tmp_path).get_token(SCOPE)
    assert caught.value.code == "malformed_answer" and "canary-token-xyz" not in str(caught.value)
