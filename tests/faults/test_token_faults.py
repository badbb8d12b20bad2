"""Against a stand-in identity platform: token deadlines, a
discovery document naming another host, single-flight token requests, malformed token answers
and rotation order."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.auth.credential import ClientSecretTokenCredential, OAuthTokenCredential
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import AppConnectionError
from azure_appconfig_plugin.http.errors import ForeignHostRefused
from azure_appconfig_plugin.http.limits import configure
from azure_appconfig_plugin.methods import ClientSecretMethod
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes

from .concurrency import tokens_at_once
from .conftest import CANARY_SECRET, client_secret_input, run_bounded
from .standins import Answer, IdentityPlatform, StandIn, json_answer

SCOPE = "https://azconfig.io/.default"


def credential() -> ClientSecretTokenCredential:
    return ClientSecretTokenCredential(ClientSecretMethod().parse(client_secret_input()))


def test_stand_in_identity_platform_issues_a_token(identity: IdentityPlatform) -> None:
    token = credential().get_token(SCOPE)
    assert token.token.count(".") == 2
    form = identity.token_requests[0].form
    assert form["client_secret"] == [CANARY_SECRET] and form["grant_type"] == ["client_credentials"]


# --- finding 2: the token stage has a deadline per answer ----------------------------------------


def test_a_token_endpoint_dripping_its_answer_is_cut_off(identity: IdentityPlatform) -> None:
    configure(token_request_seconds=0.3)
    body = b'{"token_type": "Bearer", "expires_in": 3599, "access_token": "' + b"a" * 200 + b'"}'
    identity.token_answer = lambda seen, tid: Answer(  # 13 s at one byte every 0.05 s
        200, {"Content-Type": "application/json"}, body, drip_seconds=0.05, drip_body=True
    )
    report, elapsed = run_bounded(
        lambda: build_connection_type().validate(client_secret_input(), method="client-secret"), 25
    )
    token = next(c for c in report.checks if c.name == "token")
    assert token.status.value == "inconclusive" and token.code == "deadline_exceeded"  # no whole answer to judge
    assert elapsed < 8


# --- finding 3: the client secret never goes to a host discovery names ------------------------------


def test_discovery_naming_a_foreign_token_endpoint_is_refused(identity: IdentityPlatform, other_host: StandIn) -> None:
    identity.discovery_override = lambda seen, tid: json_answer(
        {
            "token_endpoint": f"{other_host.url}/{tid}/oauth2/v2.0/token",
            "authorization_endpoint": f"{other_host.url}/{tid}/oauth2/v2.0/authorize",
            "issuer": f"{other_host.url}/{tid}/v2.0",
        }
    )
    with pytest.raises(ForeignHostRefused) as caught:
        credential().get_token(SCOPE)
    assert other_host.seen == []  # the client secret went nowhere
    assert CANARY_SECRET not in str(caught.value)


@pytest.mark.parametrize("status", [302, 307, 308])
def test_a_token_endpoint_redirecting_to_another_host_gets_no_secret(
    identity: IdentityPlatform, other_host: StandIn, status: int
) -> None:
    identity.token_answer = lambda seen, tid: Answer(status, {"Location": f"{other_host.url}/{tid}/oauth2/v2.0/token"})
    with pytest.raises(ForeignHostRefused):
        credential().get_token(SCOPE)
    assert other_host.seen == []  # a 307/308 would have re-sent the form with the client secret


# --- finding 4: one token request per (authority, client, scope) -----------------------------------


@pytest.mark.parametrize("shared", [True, False], ids=["one-credential", "one-per-thread"])
def test_sixteen_threads_on_a_cold_cache_make_one_token_request(identity: IdentityPlatform, shared: bool) -> None:
    identity.token_delay = 0.3
    one = credential()
    tokens, errors = tokens_at_once(lambda: one if shared else credential(), SCOPE)
    assert errors == []
    assert len(identity.token_requests) == 1
    assert len(set(tokens)) == 1 and len(tokens) == 16


def test_sixteen_parallel_validations_make_one_token_request(identity: IdentityPlatform) -> None:
    identity.token_delay = 0.3
    reports: list[Any] = []
    threads = [
        threading.Thread(
            target=lambda: reports.append(
                build_connection_type().validate(client_secret_input(), method="client-secret")
            )
        )
        for _ in range(16)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(r.ok for r in reports) and len(reports) == 16
    assert len(identity.token_requests) == 1


# --- finding 7: malformed token answers are typed ---------------------------------------------------


@pytest.mark.parametrize(
    "body, said",
    [
        (b'{"token_type": "Bearer", "expires_in": null, "access_token": "canary-token-xyz"}', "expires_in is null"),
        (b'{"token_type": "Bearer", "expires_in": 1e400, "access_token": "canary-token-xyz"}', "expires_in is inf"),
        (b'{"token_type": "Bearer", "expires_in": "soon", "access_token": "canary-token-xyz"}', "expires_in is str"),
        (b'{"token_type": "Bearer", "access_token": "canary-token-xyz", ', "not JSON"),
        (b"<html>canary-token-xyz</html>", "HTML"),
        (b'["canary-token-xyz"]', "JSON list"),
    ],
    ids=["null", "1e400", "string", "truncated", "html", "list"],
)
def test_a_malformed_token_answer_is_a_typed_error_saying_what_came(
    identity: IdentityPlatform, body: bytes, said: str
) -> None:
    identity.token_answer = lambda seen, tid: Answer(200, {"Content-Type": "application/json"}, body)
    with pytest.raises(AppConnectionError) as caught:
        credential().get_token(SCOPE)
    message = str(caught.value)
    assert said in message
    assert "could not reach" not in message and "canary-token-xyz" not in message and CANARY_SECRET not in message
    report = build_connection_type().validate(client_secret_input(), method="client-secret")
    token = next(c for c in report.checks if c.name == "token")
    assert token.status.value == "failed" and token.code == "malformed_answer"


# --- finding 12: rotations are applied in issue order --------------------------------------------


def test_a_slow_rotation_callback_never_leaves_an_older_refresh_token(
    identity: IdentityPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = InstanceSettings.from_env(azure_fakes.fake_instance_env())
    creds = OAuthCredentials(
        tenant_id=fakes.FAKE_TENANT_ID, client_id=fakes.FAKE_INSTANCE_CLIENT_ID, refresh_token="rt-0"
    )
    rng = random.Random(12)
    bad_rounds = 0
    for _ in range(6):
        saved: list[str] = []
        lock = threading.Lock()

        def on_rotate(c: OAuthCredentials, lock: threading.Lock = lock, saved: list[str] = saved) -> None:
            time.sleep(rng.uniform(0, 0.05))  # callbacks finish in a random order
            with lock:
                saved.append(c.refresh_token)

        cred = OAuthTokenCredential(creds, settings, on_rotate=on_rotate, clock=lambda: 0.0)
        # expires_in below the refresh margin: every call refreshes (and rotates)
        identity.token_answer = lambda seen, tid: json_answer(
            {
                "token_type": "Bearer",
                "expires_in": 10,
                "access_token": f"at-{len(identity.token_requests)}",
                "refresh_token": f"rt-{len(identity.token_requests)}",
            }
        )
        threads = [threading.Thread(target=cred.get_token, args=(SCOPE,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        if not saved or saved[-1] != cred.credentials.refresh_token:
            bad_rounds += 1
    assert bad_rounds == 0


def test_refresh_with_a_null_expires_in_is_typed(identity: IdentityPlatform) -> None:
    settings = InstanceSettings.from_env(azure_fakes.fake_instance_env())
    creds = OAuthCredentials(
        tenant_id=fakes.FAKE_TENANT_ID, client_id=fakes.FAKE_INSTANCE_CLIENT_ID, refresh_token="rt-0"
    )
    identity.token_answer = lambda seen, tid: json_answer(
        {"token_type": "Bearer", "expires_in": None, "access_token": "x", "refresh_token": "rt-1"}
    )
    with pytest.raises(AppConnectionError) as caught:
        OAuthTokenCredential(creds, settings).get_token(SCOPE)
    assert caught.value.code == "malformed_answer"
