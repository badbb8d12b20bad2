"""The shared token cache on a real redis-server: one token request for a fleet, sealed, fault-tolerant."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from azure.core.credentials import AccessTokenInfo

from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from app_connections.testing.redis_server import LocalRedisServer
from azure_appconfig_plugin.auth import msal_apps
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.envvars import REDIS_KEY_ENV, REDIS_URL_ENV
from azure_appconfig_plugin.errors import AppConnectionError, InvalidClientSecret
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.stores.token_cache import RedisTokenCache, SharedTokenCache, TokenKey
from redis_fixtures import Fleet

CANARY = "canary-client-secret-Zq8~x"
SCOPE = "https://azconfig.io/.default"
CTYPE = build_connection_type().with_policy(HostPolicy.operator())  # an operator's host: its own identity and disk
KEY = TokenKey.for_client_secret("https://login.microsoftonline.com/t", "c", SCOPE, CANARY)


def creds(secret: str = CANARY) -> ClientSecretCredentials:
    return ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, secret)


def token_posts(cassette: Any) -> int:
    return sum(n for i, n in cassette.play_counts.items() if cassette.requests[i].method == "POST")


# -- a fleet of processes ---------------------------------------------------------------------------

FLEET = 4


@pytest.mark.parametrize("shared, expected_requests", [(True, 1), (False, FLEET)])
def test_a_fleet_asking_at_once_makes_one_token_request(fleet: Fleet, shared: bool, expected_requests: int) -> None:
    # Each worker replays client_secret_token.yaml with repeats allowed, so every worker *could* ask
    # the identity platform; the count of replayed token POSTs is what the fleet really asked.
    extra = {"WAIT_FOR_GO": "1", "TEST_CLIENT_SECRET": CANARY, **({} if shared else {REDIS_URL_ENV: ""})}
    fleet.start("token", "5", count=FLEET, extra_env=extra)
    fleet.release()
    results = fleet.results()
    assert sum(r["token_posts"] for r in results) == expected_requests
    assert {t for r in results for t in r["tokens"]} == {fakes.FAKE_ACCESS_TOKEN}


def test_a_fleet_hands_a_workload_token_only_to_the_same_assertion(fleet: Fleet, tmp_path: Any) -> None:
    from test_auth_workload_identity import federated_token

    good, forged = tmp_path / "good", tmp_path / "forged"
    good.write_text(federated_token("1"))
    forged.write_text(federated_token("attacker"))
    for path, cassette in ((good, "workload_identity_token.yaml"), (forged, "workload_identity_no_match.yaml")):
        fleet.start("workload", str(path), cassette)
    first, refused = fleet.results()
    assert first == {"tokens": [fakes.FAKE_ACCESS_TOKEN], "token_posts": 1}
    assert refused["token_posts"] == 1 and refused["tokens"] == [] and refused["error"] == "InvalidFederatedToken"
    fleet.procs.clear()
    fleet.start("workload", str(good), "workload_identity_token.yaml")
    (warm,) = fleet.results()
    assert warm == {"tokens": [fakes.FAKE_ACCESS_TOKEN], "token_posts": 0}  # the legitimate one is warm


def test_a_fleet_never_shares_a_token_between_two_secrets_of_one_client(fleet: Fleet) -> None:
    for secret in (CANARY, "another-secret-value-Zq8~"):
        fleet.start("token", "2", extra_env={"TEST_CLIENT_SECRET": secret})
        (result,) = fleet.results()
        fleet.procs.clear()
        assert result["token_posts"] == 1  # each secret asks the identity platform itself


# -- in this process -------------------------------------------------------------------------------


def test_a_new_process_is_served_from_redis(azure_vcr, redis_env: dict[str, str]) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml", allow_playback_repeats=True) as cassette:
        first = CTYPE.token_credential(creds()).get_token(SCOPE)
        msal_apps.reset()  # as if another replica: no MSAL app, no MSAL cache
        again = CTYPE.token_credential(creds()).get_token_info(SCOPE)
    assert first.token == again.token == fakes.FAKE_ACCESS_TOKEN
    assert again.expires_on == first.expires_on
    assert cassette.play_count == 2  # discovery and one token request, for both


def test_entries_are_sealed_and_keyed_by_a_hash(azure_vcr, redis_env: dict[str, str], redis_client: Any) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        CTYPE.token_credential(creds()).get_token(SCOPE)
    keys = redis_client.keys("*")
    assert len(keys) == 1 and keys[0].startswith(b"app-connections:token:")  # the lock is released
    value = redis_client.get(keys[0])
    for text in (fakes.FAKE_ACCESS_TOKEN, CANARY, fakes.FAKE_CLIENT_ID, fakes.FAKE_TENANT_ID):
        assert text.encode() not in value and text.encode() not in keys[0]
    ttl = redis_client.pttl(keys[0]) / 1000
    assert 3500 < ttl <= 3600  # expires with the token


def test_another_secret_never_gets_the_shared_token(azure_vcr, redis_env: dict[str, str]) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml", allow_playback_repeats=True) as cassette:
        CTYPE.token_credential(creds()).get_token(SCOPE)
        CTYPE.token_credential(creds("another-secret-value-Zq8~")).get_token(SCOPE)
    assert token_posts(cassette) == 2


def test_identity_errors_reach_the_caller_unchanged(azure_vcr, redis_env: dict[str, str], redis_client: Any) -> None:
    with azure_vcr.use_cassette("client_secret_invalid_secret.yaml"), pytest.raises(InvalidClientSecret):
        CTYPE.token_credential(creds()).get_token(SCOPE)
    assert redis_client.dbsize() == 0  # nothing cached, lock released


def test_a_certificate_token_is_served_to_another_process_from_redis(
    azure_vcr, redis_env: dict[str, str], redis_client: Any
) -> None:
    import certs

    form = {
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_CLIENT_ID,
        "privateKey": certs.key_pem(),
        "certificate": certs.cert_pem(),
    }
    with azure_vcr.use_cassette("certificate_token.yaml", allow_playback_repeats=True) as cassette:
        first = CTYPE.token_credential(CTYPE.parse("certificate", form)).get_token_info(SCOPE)
        msal_apps.reset()  # as if another replica: no MSAL app, no MSAL cache
        again = CTYPE.token_credential(CTYPE.parse("certificate", form)).get_token_info(SCOPE)
        assert token_posts(cassette) == 1  # the second credential asked Redis, not the identity platform
    assert first.token == again.token == fakes.FAKE_ACCESS_TOKEN and again.expires_on == first.expires_on
    keys = redis_client.keys("*")
    assert len(keys) == 1 and keys[0].startswith(b"app-connections:token:")
    value = redis_client.get(keys[0])
    for text in (fakes.FAKE_ACCESS_TOKEN, "PRIVATE KEY", certs.sha1(certs.cert())):
        assert text.encode() not in value and text.encode() not in keys[0]


def test_another_certificate_never_gets_the_shared_token(azure_vcr, redis_env: dict[str, str]) -> None:
    import certs

    base = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}
    with azure_vcr.use_cassette("certificate_token.yaml", allow_playback_repeats=True) as cassette:
        for name in ("leaf", "other"):
            form = {**base, "privateKey": certs.key_pem(name), "certificate": certs.cert_pem(certs.cert(name))}
            CTYPE.token_credential(CTYPE.parse("certificate", form)).get_token(SCOPE)
    assert token_posts(cassette) == 2


def test_a_workload_identity_token_is_shared_only_under_the_same_assertion(
    azure_vcr, redis_env: dict[str, str], redis_client: Any, tmp_path: Any
) -> None:
    from test_auth_workload_identity import federated_token

    files = []
    for pod in ("1", "2"):  # two pods of one workload: each has its own projected token file
        path = tmp_path / f"pod-{pod}"
        path.write_text(federated_token(pod))
        files.append(path)
    data = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}

    def credential(path: Any) -> Any:
        return CTYPE.token_credential(CTYPE.parse("workload-identity", {**data, "tokenFilePath": str(path)}))

    with azure_vcr.use_cassette("workload_identity_token.yaml", allow_playback_repeats=True) as cassette:
        token = credential(files[0]).get_token(SCOPE)
        msal_apps.reset()  # as if another replica
        assert credential(files[0]).get_token(SCOPE).token == token.token == fakes.FAKE_ACCESS_TOKEN
        assert token_posts(cassette) == 1  # the same assertion: served from Redis
        msal_apps.reset()
        second = credential(files[1])
        assert second.get_token(SCOPE).token == fakes.FAKE_ACCESS_TOKEN
        assert token_posts(cassette) == 2  # another assertion is the identity platform's to judge
    keys = redis_client.keys("*")
    assert len(keys) == 2
    for key in keys:
        stored = redis_client.get(key)
        for path in files:
            for part in (p for p in path.read_text().split(".") if len(p) > 8):
                assert part.encode() not in stored and part.encode() not in key
    files[1].unlink()  # a pod whose token file is gone gets a clear error, not the shared token
    with pytest.raises(AppConnectionError) as caught:
        second.get_token(SCOPE)
    assert caught.value.code == "token_file_unusable"


def test_a_refused_assertion_never_gets_the_warm_token_of_its_tenant_and_client(
    azure_vcr, redis_env: dict[str, str], tmp_path: Any
) -> None:
    from test_auth_workload_identity import federated_token

    good, forged = tmp_path / "good", tmp_path / "forged"
    good.write_text(federated_token("1"))
    forged.write_text(federated_token("attacker"))  # JWT-shaped, unexpired: locally it looks fine
    data = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}
    with azure_vcr.use_cassette("workload_identity_token.yaml"):
        warm = CTYPE.token_credential(CTYPE.parse("workload-identity", {**data, "tokenFilePath": str(good)}))
        assert warm.get_token(SCOPE).token == fakes.FAKE_ACCESS_TOKEN
    msal_apps.reset()
    with azure_vcr.use_cassette("workload_identity_no_match.yaml") as cassette:
        cold = CTYPE.token_credential(CTYPE.parse("workload-identity", {**data, "tokenFilePath": str(forged)}))
        with pytest.raises(AppConnectionError):
            cold.get_token(SCOPE)
        assert token_posts(cassette) == 1  # asked (and refused), never handed the warm token


def test_user_tokens_are_not_shared(azure_vcr, redis_env: dict[str, str], redis_client: Any) -> None:
    stored = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1", None, None)
    cred = CTYPE.methods["oauth"].token_credential(stored, settings=InstanceSettings.from_env())
    with azure_vcr.use_cassette("oauth_refresh_rotates.yaml"):
        assert cred.get_token(SCOPE).token == "fake-access-token-2"
    assert redis_client.dbsize() == 0


def test_a_claims_challenge_goes_to_the_identity_platform_and_replaces_the_shared_token(
    redis_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cred = CTYPE.token_credential(creds())
    asked: list[Any] = []

    def acquire(claims: str | None) -> AccessTokenInfo:
        asked.append(claims)
        return AccessTokenInfo(f"token-{len(asked)}", int(time.time()) + 3600)

    monkeypatch.setattr(cred, "_acquire", acquire)
    assert cred.get_token(SCOPE).token == "token-1"
    assert cred.get_token(SCOPE, claims='{"access_token":{}}').token == "token-2"
    msal_apps.reset()
    other = CTYPE.token_credential(creds())  # another replica: gets the post-challenge token from Redis
    monkeypatch.setattr(other, "_acquire", acquire)
    assert other.get_token(SCOPE).token == "token-2"
    assert asked == [None, '{"access_token":{}}']


# -- faults: the host's request never fails because of the cache ----------------------------------


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "azure_appconfig_plugin.stores" and r.levelno == logging.WARNING
    ]


def test_redis_down_falls_back_and_warns_once(
    azure_vcr, redis_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(REDIS_URL_ENV, f"redis://:hunter2@127.0.0.1:{port}/0")
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        started = time.monotonic()
        tokens = {CTYPE.token_credential(creds()).get_token(SCOPE).token for _ in range(3)}
        assert time.monotonic() - started < 10
    assert tokens == {fakes.FAKE_ACCESS_TOKEN}
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "hunter2" not in warnings[0] and "StoreUnavailable" not in warnings[0]


def test_redis_stalled_falls_back_within_the_timeouts(
    azure_vcr, redis_stall_env: dict[str, str], redis_server: LocalRedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        CTYPE.token_credential(creds()).get_token(SCOPE)
        from azure_appconfig_plugin.stores import shared

        shared.configured().token_cache._memo.clear()  # so the next call must ask Redis
        redis_server.pause()
        try:
            started = time.monotonic()
            assert CTYPE.token_credential(creds()).get_token(SCOPE).token == fakes.FAKE_ACCESS_TOKEN  # MSAL's own cache
            assert time.monotonic() - started < 3  # a few 0.2 s socket timeouts, plus slack
        finally:
            redis_server.resume()
    assert len(_warnings(caplog)) == 1


def test_url_without_key_serves_tokens_and_warns_once(
    azure_vcr,
    redis_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    redis_client: Any,
) -> None:
    monkeypatch.delenv(REDIS_KEY_ENV)
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        for _ in range(2):
            assert CTYPE.token_credential(creds()).get_token(SCOPE).token == fakes.FAKE_ACCESS_TOKEN
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and REDIS_KEY_ENV in warnings[0]
    assert redis_client.dbsize() == 0


def test_an_entry_that_does_not_open_is_refetched(
    redis_client: Any, seal_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    from app_connections.stores.sealing import Sealer, generate_key

    c = RedisTokenCache(redis_client, keys=seal_key)
    stranger = Sealer.from_setting(generate_key())  # sealed under the right Redis key, by another fleet
    redis_client.set(c._key(KEY), stranger.seal(b'{"token": "old"}', context=c._key(KEY).encode()), px=60_000)
    token = c.get_or_fetch(KEY, lambda: AccessTokenInfo("new", int(time.time()) + 3600))
    assert token.token == "new" and len(_warnings(caplog)) == 1


# -- coordination, with a controlled clock ----------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def cache(client: Any, key: str, clock: Clock, **kw: Any) -> RedisTokenCache:
    return RedisTokenCache(client, keys=key, clock=clock, sleep=clock.sleep, wait_seconds=1.0, poll_seconds=0.1, **kw)


class Fetcher:
    def __init__(self, clock: Clock, lifetime: int = 3600, refresh_in: int | None = None) -> None:
        self.calls = 0
        self.clock, self.lifetime, self.refresh_in = clock, lifetime, refresh_in

    def __call__(self) -> AccessTokenInfo:
        self.calls += 1
        now = int(self.clock())
        return AccessTokenInfo(
            f"token-{self.calls}", now + self.lifetime, refresh_on=now + self.refresh_in if self.refresh_in else None
        )


def lock_key_for(c: RedisTokenCache) -> str:
    return c._key(KEY).replace(":token:", ":token-lock:", 1)
    return entry_key().replace(":token:", ":token-lock:", 1)


def entry_key() -> str:
    from app_connections.stores.redis import DEFAULT_PREFIX, hashed

    return hashed(DEFAULT_PREFIX, "token", KEY.identity())


def test_protocol_and_hit(redis_client: Any, seal_key: str) -> None:
    clock = Clock()
    c, fetch = cache(redis_client, seal_key, clock), Fetcher(clock)
    assert isinstance(c, SharedTokenCache)
    assert c.get_or_fetch(KEY, fetch).token == "token-1"
    clock.now += 3000  # still more than 5 minutes left
    assert c.get_or_fetch(KEY, fetch).token == "token-1" and fetch.calls == 1
    clock.now += 400  # inside the refresh margin: refreshed
    assert c.get_or_fetch(KEY, fetch).token == "token-2"


def test_a_warm_process_makes_no_redis_round_trip_until_the_refresh_window(redis_client: Any, seal_key: str) -> None:
    clock = Clock()
    c, fetch = cache(redis_client, seal_key, clock), Fetcher(clock)
    c.get_or_fetch(KEY, fetch)
    other = cache(redis_client, seal_key, clock)  # another replica writes a newer token
    other.put(KEY, AccessTokenInfo("newer", int(clock.now) + 7200))
    assert c.get_or_fetch(KEY, fetch).token == "token-1"  # served from this process's memory
    clock.now += 3400  # its token needs refreshing: Redis has the newer one
    assert c.get_or_fetch(KEY, fetch).token == "newer" and fetch.calls == 1


def test_refresh_on_is_honoured(redis_client: Any, seal_key: str) -> None:
    clock = Clock()
    c, fetch = cache(redis_client, seal_key, clock), Fetcher(clock, lifetime=86400, refresh_in=43200)
    c.get_or_fetch(KEY, fetch)
    clock.now += 43201
    assert c.get_or_fetch(KEY, fetch).token == "token-2"


def test_while_another_replica_refreshes_the_old_token_is_served(redis_client: Any, seal_key: str) -> None:
    clock = Clock()
    c, fetch = cache(redis_client, seal_key, clock), Fetcher(clock)
    c.get_or_fetch(KEY, fetch)
    clock.now += 3400  # in the refresh window, still valid
    redis_client.set(lock_key_for(c), "other-replica", px=10_000)
    assert c.get_or_fetch(KEY, fetch).token == "token-1" and fetch.calls == 1


def test_waiters_get_the_token_the_lock_holder_writes(redis_client: Any, seal_key: str) -> None:
    clock = Clock()
    holder, fetch = cache(redis_client, seal_key, clock), Fetcher(clock)
    redis_client.set(lock_key_for(holder), "other-replica", px=10_000)

    def sleep(seconds: float) -> None:  # the other replica finishes while we wait
        clock.now += seconds
        if fetch.calls == 0:
            other = RedisTokenCache(redis_client, keys=seal_key, clock=clock)
            other._write_quietly(other._key(KEY), AccessTokenInfo("from-holder", int(clock.now) + 3600))

    waiter = RedisTokenCache(redis_client, keys=seal_key, clock=clock, sleep=sleep, wait_seconds=1.0, poll_seconds=0.1)
    assert waiter.get_or_fetch(KEY, fetch).token == "from-holder" and fetch.calls == 0


def test_a_stuck_lock_holder_costs_one_bounded_duplicate(redis_client: Any, seal_key: str) -> None:
    clock = Clock()
    c, fetch = cache(redis_client, seal_key, clock), Fetcher(clock)
    redis_client.set(lock_key_for(c), "stuck-replica", px=60_000)
    started = clock.now
    assert c.get_or_fetch(KEY, fetch).token == "token-1"
    assert fetch.calls == 1 and 1.0 <= clock.now - started <= 1.2  # waited wait_seconds, then fetched
    assert redis_client.get(lock_key_for(c)) == b"stuck-replica"  # never released someone else's lock


def test_a_failed_fetch_releases_the_lock(redis_client: Any, seal_key: str) -> None:
    c = cache(redis_client, seal_key, Clock())

    def fail() -> AccessTokenInfo:
        raise InvalidClientSecret("wrong secret")

    with pytest.raises(InvalidClientSecret):
        c.get_or_fetch(KEY, fail)
    assert redis_client.dbsize() == 0


def test_token_key_repr_hides_the_proof() -> None:
    assert KEY.proof not in repr(KEY) and CANARY.encode() not in KEY.identity()


def test_the_redis_key_is_a_keyed_hash_of_the_proof(redis_client: Any, seal_key: str) -> None:
    import hashlib

    from app_connections.stores.sealing import generate_key

    c = cache(redis_client, seal_key, Clock())
    other_fleet = cache(redis_client, generate_key(), Clock())
    assert c._key(KEY) != other_fleet._key(KEY)  # no fleet key, no way to compute (or guess) it
    assert hashlib.sha256(KEY.identity()).hexdigest() not in c._key(KEY)
    for secret in (CANARY, "another"):  # the proof is part of the key
        other = TokenKey.for_client_secret("https://login.microsoftonline.com/t", "c", SCOPE, secret)
        assert (c._key(other) == c._key(KEY)) is (secret == CANARY)


def test_the_refresh_lock_lives_lock_seconds_and_holds_no_secret(redis_client: Any, seal_key: str) -> None:
    import re

    clock = Clock()
    c = cache(redis_client, seal_key, clock, lock_seconds=2.5)
    held: dict[str, Any] = {}

    def fetch() -> AccessTokenInfo:
        held["ttl"], held["value"] = redis_client.pttl(lock_key_for(c)), redis_client.get(lock_key_for(c))
        return AccessTokenInfo("the-token", int(clock.now) + 3600)

    assert c.get_or_fetch(KEY, fetch).token == "the-token"
    assert 0 < held["ttl"] <= 2500 and re.fullmatch(rb"[0-9a-f]{32}", held["value"])  # a random token
    assert redis_client.get(lock_key_for(c)) is None and b"the-token" not in redis_client.get(c._key(KEY))


@pytest.mark.parametrize("lock_seconds", [0, 0.0005, -1.0, float("nan")])
def test_a_lock_that_would_never_expire_is_refused(redis_client: Any, seal_key: str, lock_seconds: float) -> None:
    with pytest.raises(ValueError, match=r"lock_seconds must be at least 0\.001"):
        cache(redis_client, seal_key, Clock(), lock_seconds=lock_seconds)
