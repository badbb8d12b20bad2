"""One replica of a fleet, run as its own process by tests/redis_fixtures.Fleet.

``begin`` | ``complete STATE CASSETTE`` | ``token CALLS`` | ``workload TOKEN_FILE CASSETTE``; prints
one JSON line. HTTP is replayed from tests/cassettes (vcrpy, replay only: an unmatched request
fails). With ``WAIT_FOR_GO=1`` the worker says it is ready and waits until the test releases every
worker at once.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

import redis

from app_connections import policy as policies
from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from app_connections.testing.vcr_config import make_vcr
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import AppConnectionError
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.methods.oauth import OAuthInput
from cassettes_auth import OAUTH_TOKENS

CASSETTES = Path(__file__).resolve().parent / "cassettes"
POLICY = HostPolicy.operator()
"""A replica configured through its environment (app registration, Redis), lending its identity (workload identity)."""
CTYPE = build_connection_type().with_policy(POLICY)
SCOPE = "https://azconfig.io/.default"


def wait_for_go() -> None:
    if os.environ.get("WAIT_FOR_GO") != "1":
        return
    barrier = redis.Redis.from_url(
        os.environ["BARRIER_URL"], socket_timeout=None
    )  # REDIS_URL may be blanked: the unshared fleet
    barrier.rpush("test:ready", os.getpid())
    assert barrier.blpop("test:go", timeout=60), "never released"
    barrier.close()


def token_posts(cassette: Any) -> int:
    return sum(count for i, count in cassette.play_counts.items() if cassette.requests[i].method == "POST")


def main(role: str, *args: str) -> dict[str, Any]:
    if role == "begin":
        it = itertools.cycle(OAUTH_TOKENS)
        request = CTYPE.methods["oauth"].begin(OAuthInput(None), token_factory=lambda: next(it))
        return {"state": request.state, "url": request.url}
    vcr = make_vcr(CASSETTES)
    if role == "complete":
        state, cassette_name = args
        wait_for_go()
        with vcr.use_cassette(cassette_name):
            try:
                creds = CTYPE.methods["oauth"].complete({"code": "canary-code", "state": state})
            except AppConnectionError as exc:
                return {"error": type(exc).__name__, "code": exc.code}
        return {"tenant": creds.tenant_id}
    if role == "token":
        calls = int(args[0])
        creds = ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, os.environ["TEST_CLIENT_SECRET"])
        wait_for_go()
        with vcr.use_cassette("client_secret_token.yaml", allow_playback_repeats=True) as cassette:
            credential = CTYPE.token_credential(creds)
            tokens = {credential.get_token(SCOPE).token for _ in range(calls)}
        return {"tokens": sorted(tokens), "token_posts": token_posts(cassette)}
    if role == "workload":
        token_file, cassette_name = args
        form = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "tokenFilePath": token_file}
        with vcr.use_cassette(cassette_name) as cassette:
            credential = CTYPE.token_credential(CTYPE.parse("workload-identity", form))
            try:
                tokens = [credential.get_token(SCOPE).token]
            except AppConnectionError as exc:
                return {"tokens": [], "token_posts": token_posts(cassette), "error": type(exc).__name__}
        return {"tokens": tokens, "token_posts": token_posts(cassette)}
    raise SystemExit(f"unknown role {role}")


if __name__ == "__main__":
    with policies.use(POLICY):
        print(json.dumps(main(*sys.argv[1:])))
