"""The shared token cache when Redis fails at each step of a refresh (read, lock, re-read, write),
when another replica wins the race for the lock, and at the edges of what it keeps."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from azure.core.credentials import AccessTokenInfo

from azure_appconfig_plugin.stores import token_cache
from azure_appconfig_plugin.stores.token_cache import RedisTokenCache, TokenKey

SCOPE = "https://azconfig.io/.default"
KEY = TokenKey.for_client_secret("https://login.microsoftonline.com/t", "c", SCOPE, "canary-secret-tc")


class FlakyRedis:
    """The real client, except that the operations named in ``failing`` fail as a dropped
    connection does (``get``, ``write``: a plain SET, ``lock``: SET NX); ``before_lock`` runs just
    before a lock is taken (another replica acting in that moment)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.failing: set[str] = set()
        self.gets = 0
        self.before_lock: Callable[[], None] | None = None

    def register_script(self, script: str) -> Any:
        return self.client.register_script(script)

    def __getattr__(self, name: str) -> Any:  # every other command (the lock's release script) as is
        return getattr(self.client, name)

    def _maybe_fail(self, op: str) -> None:
        if op in self.failing:
            raise redis.ConnectionError("Connection reset by peer")

    def get(self, key: str) -> Any:
        self.gets += 1
        self._maybe_fail("get")
        return self.client.get(key)

    def set(self, key: str, value: Any, **kwargs: Any) -> Any:
        op = "lock" if kwargs.get("nx") else "write"
        self._maybe_fail(op)
        if op == "lock" and self.before_lock is not None:
            self.before_lock()
        return self.client.set(key, value, **kwargs)


class Fetch:
    def __init__(self, lifetime: int = 3600) -> None:
        self.calls = 0
        self.lifetime = lifetime

    def __call__(self) -> AccessTokenInfo:
        self.calls += 1
        return AccessTokenInfo(f"fetched-{self.calls}", int(time.time()) + self.lifetime)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "azure_appconfig_plugin.stores"]


@pytest.fixture
def flaky(redis_client: Any) -> FlakyRedis:
    return FlakyRedis(redis_client)


def make(flaky: FlakyRedis, seal_key: str, **kwargs: Any) -> RedisTokenCache:
    return RedisTokenCache(flaky, keys=seal_key, wait_seconds=0.2, poll_seconds=0.01, **kwargs)


def test_redis_failing_at_the_lock_serves_the_still_valid_token_without_asking(
    flaky: FlakyRedis, seal_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    now = [time.time()]
    cache = make(flaky, seal_key, clock=lambda: now[0])
    fetch = Fetch()
    assert cache.get_or_fetch(KEY, fetch).token == "fetched-1"
    now[0] += 3400  # in the refresh window, not yet expired
    flaky.failing = {"lock"}
    assert cache.get_or_fetch(KEY, fetch).token == "fetched-1" and fetch.calls == 1
    assert warnings(caplog) == []  # nothing was lost: no token request, no warning


def test_redis_failing_at_the_lock_without_a_token_asks_the_identity_platform(
    flaky: FlakyRedis, seal_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    flaky.failing = {"lock"}
    fetch = Fetch()
    assert make(flaky, seal_key).get_or_fetch(KEY, fetch).token == "fetched-1"
    (warning,) = warnings(caplog)
    assert "locking the shared token cache" in warning and "ConnectionError" in warning


def test_redis_failing_while_waiting_for_another_replica_asks_the_identity_platform(
    flaky: FlakyRedis, seal_key: str, redis_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    cache = make(flaky, seal_key)
    lock = cache._key(KEY).replace(":token:", ":token-lock:", 1)
    redis_client.set(lock, "other-replica", px=10_000)  # another replica is refreshing

    def sleep(seconds: float) -> None:
        flaky.failing = {"get"}  # Redis goes away while we wait

    cache._sleep = sleep
    fetch = Fetch()
    assert cache.get_or_fetch(KEY, fetch).token == "fetched-1" and fetch.calls == 1
    (warning,) = warnings(caplog)
    assert "reading the shared token cache" in warning


def test_a_token_another_replica_wrote_just_before_the_lock_is_used_not_fetched_again(
    flaky: FlakyRedis, seal_key: str
) -> None:
    cache, other = make(flaky, seal_key), RedisTokenCache(flaky.client, keys=seal_key)
    flaky.before_lock = lambda: other.put(KEY, AccessTokenInfo("from-other-replica", int(time.time()) + 3600))
    fetch = Fetch()
    assert cache.get_or_fetch(KEY, fetch).token == "from-other-replica" and fetch.calls == 0


def test_redis_failing_after_the_lock_is_taken_still_gets_a_token(
    flaky: FlakyRedis, seal_key: str, redis_client: Any
) -> None:
    cache = make(flaky, seal_key)

    def lose_reads() -> None:
        flaky.failing = {"get"}

    flaky.before_lock = lose_reads
    fetch = Fetch()
    assert cache.get_or_fetch(KEY, fetch).token == "fetched-1" and fetch.calls == 1
    flaky.failing = set()
    assert redis_client.get(cache._key(KEY)) is not None  # written for the others, lock released
    assert redis_client.keys("*token-lock*") == []


def test_an_already_expired_token_is_not_written(
    flaky: FlakyRedis, seal_key: str, redis_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    make(flaky, seal_key).put(KEY, AccessTokenInfo("expired", int(time.time()) - 10))
    assert redis_client.dbsize() == 0 and warnings(caplog) == []  # nothing to share; Redis never asked


def test_a_failed_write_warns_once_and_a_working_redis_rearms_the_warning(
    flaky: FlakyRedis, seal_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = make(flaky, seal_key)
    token = AccessTokenInfo("t", int(time.time()) + 3600)
    flaky.failing = {"write"}
    cache.put(KEY, token)  # never raises
    cache.put(KEY, token)
    assert len(warnings(caplog)) == 1 and "writing the shared token cache" in warnings(caplog)[0]
    flaky.failing = set()
    cache.put(KEY, token)  # Redis works again
    flaky.failing = {"write"}
    cache.put(KEY, token)
    assert len(warnings(caplog)) == 2  # a new outage is reported again


def test_what_a_process_remembers_is_bounded(flaky: FlakyRedis, seal_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_cache, "MEMO_MAX", 2)
    cache = make(flaky, seal_key)
    keys = [TokenKey.for_client_secret("https://login.microsoftonline.com/t", f"c{i}", SCOPE, "s") for i in range(3)]
    for key in keys:
        cache.get_or_fetch(key, Fetch())
    gets = flaky.gets
    cache.get_or_fetch(keys[2], Fetch())  # the latest is remembered: no round trip
    assert flaky.gets == gets
    cache.get_or_fetch(keys[0], Fetch())  # forgotten when the third filled the memo: read again
    assert flaky.gets == gets + 1


def test_the_cache_repr_names_its_prefix_and_no_key(redis_client: Any, seal_key: str) -> None:
    shown = repr(RedisTokenCache(redis_client, keys=seal_key, prefix="tenant-a:"))
    assert shown == "RedisTokenCache(prefix='tenant-a:')" and seal_key not in shown


@pytest.fixture(autouse=True)
def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="azure_appconfig_plugin.stores")
