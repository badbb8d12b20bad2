"""The Redis flow store against a real redis-server: sealed, expiring, single use across processes."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest

from app_connections.errors import FlowStateError
from app_connections.flow_store import FlowStore, PendingFlow
from app_connections.stores.errors import SealError, SealKeyError, SharedStoreError, StoreUnavailable
from app_connections.stores.redis import RedisFlowStore, redact_url
from app_connections.stores.sealing import generate_key
from app_connections.testing import fakes
from app_connections.testing.redis_server import LocalRedisServer
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.envvars import REDIS_KEY_ENV, REDIS_URL_ENV
from azure_appconfig_plugin.errors import OAuthStateError
from azure_appconfig_plugin.methods.oauth import OAuthInput
from azure_appconfig_plugin.stores.shared import default_flow_store
from cassettes_auth import OAUTH_STATE
from redis_fixtures import Fleet

OAUTH = build_connection_type().methods["oauth"]
VERIFIER = "canary-verifier-" + "v" * 40
NONCE = "canary-nonce-" + "n" * 20


def flow(state: str = "canary-state-abc", ttl: float = 600.0) -> PendingFlow:
    return PendingFlow(
        state=state,
        nonce=NONCE,
        code_verifier=VERIFIER,
        tenant="organizations",
        cloud="public",
        redirect_uri="https://secrets.example.com/cb",
        client_id="c",
        scopes=("s",),
        expires_at=time.time() + ttl,
    )


def test_put_then_take_once(redis_client: Any, seal_key: str) -> None:
    store = RedisFlowStore(redis_client, keys=seal_key)
    assert isinstance(store, FlowStore)
    store.put(flow())
    original = flow()
    store.put(flow("another-state"))
    taken = store.take("canary-state-abc")
    assert taken is not None
    assert {**taken.to_dict(), "expires_at": 0} == {**original.to_dict(), "expires_at": 0}
    assert taken.code_verifier == VERIFIER and taken.nonce == NONCE
    assert store.take("canary-state-abc") is None  # replay
    assert store.take("never-issued") is None


def test_redis_holds_a_hash_of_the_state_and_nothing_readable(redis_client: Any, seal_key: str) -> None:
    store = RedisFlowStore(redis_client, keys=seal_key, prefix="app1:")
    store.put(flow())
    (key,) = redis_client.keys("app1:flow:*")
    assert key.decode() == "app1:flow:" + hashlib.sha256(b"canary-state-abc").hexdigest()
    raw = redis_client.get(key)
    for secret in (b"canary-state-abc", VERIFIER.encode(), NONCE.encode(), b"organizations", b"secrets.example.com"):
        assert secret not in raw
    assert 0 < redis_client.pttl(key) <= 600_000  # the server expires it


def test_server_side_expiry(redis_client: Any, seal_key: str) -> None:
    store = RedisFlowStore(redis_client, keys=seal_key)
    store.put(flow(ttl=0.15))
    time.sleep(0.3)
    assert redis_client.dbsize() == 0
    assert store.take("canary-state-abc") is None


def test_the_store_ttl_caps_the_flow_ttl(redis_client: Any, seal_key: str) -> None:
    RedisFlowStore(redis_client, keys=seal_key, ttl_seconds=5).put(flow(ttl=600))
    assert 0 < redis_client.pttl(redis_client.keys("*")[0]) <= 5000


def test_a_state_is_never_overwritten(redis_client: Any, seal_key: str) -> None:
    store = RedisFlowStore(redis_client, keys=seal_key)
    store.put(flow())
    with pytest.raises(SharedStoreError):
        store.put(flow())


def test_rotated_keys_still_open_flows_in_flight(redis_client: Any) -> None:
    old, new = generate_key(), generate_key()
    RedisFlowStore(redis_client, keys=old).put(flow())
    assert RedisFlowStore(redis_client, keys=f"{new},{old}").take("canary-state-abc") is not None


def test_a_replica_without_the_key_gets_a_typed_error(redis_client: Any) -> None:
    RedisFlowStore(redis_client, keys=generate_key()).put(flow())
    with pytest.raises(SealError, match="same key list"):
        RedisFlowStore(redis_client, keys=generate_key()).take("canary-state-abc")


def test_an_entry_moved_to_another_state_does_not_open(redis_client: Any, seal_key: str) -> None:
    store = RedisFlowStore(redis_client, keys=seal_key)
    store.put(flow("state-one"))
    redis_client.set(store.key_for("state-two"), redis_client.get(store.key_for("state-one")))
    with pytest.raises(SealError):
        store.take("state-two")


def test_from_url(redis_server: LocalRedisServer, redis_client: Any, seal_key: str) -> None:
    store = RedisFlowStore.from_url(redis_server.url, keys=seal_key, prefix="p:", ttl_seconds=60)
    store.put(flow())
    assert store.take("canary-state-abc") is not None
    assert "p:" in repr(store) and seal_key not in repr(store)


def test_from_url_rejects_other_schemes(seal_key: str) -> None:
    with pytest.raises(SharedStoreError, match="redis:// or rediss://"):
        RedisFlowStore.from_url("http://user:hunter2@127.0.0.1:6379", keys=seal_key)


def test_redact_url_never_shows_the_password() -> None:
    assert redact_url("rediss://:hunter2@cache.example.com:6380/1") == "rediss://***@cache.example.com:6380/1"
    assert redact_url("redis://u:hunter2@[::1]:6379") == "redis://***@[::1]:6379"
    assert redact_url("redis://cache:6379/0") == "redis://cache:6379/0"


# -- the environment selects the Redis store for begin()/complete() --------------------------------


def test_the_url_setting_selects_the_redis_store(redis_env: dict[str, str]) -> None:
    assert isinstance(default_flow_store(), RedisFlowStore)
    assert default_flow_store() is default_flow_store()


def test_url_without_key_fails_before_any_url_is_handed_out(
    redis_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, redis_client: Any
) -> None:
    monkeypatch.delenv(REDIS_KEY_ENV)
    with pytest.raises(SealKeyError, match=REDIS_KEY_ENV) as err:
        OAUTH.begin()
    assert err.value.field == REDIS_KEY_ENV and redis_client.dbsize() == 0


def test_a_malformed_key_is_named(redis_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REDIS_KEY_ENV, generate_key() + ",not-a-key")
    with pytest.raises(SealKeyError, match="key #2"):
        OAUTH.begin()


def test_begin_in_one_process_complete_in_another(fleet: Fleet, redis_client: Any) -> None:
    fleet.start("begin")
    (begun,) = fleet.results()
    assert begun["state"] == OAUTH_STATE and "login.microsoftonline.com" in begun["url"]
    assert redis_client.dbsize() == 2  # the sealed flow and its one-time ticket
    fleet.procs.clear()
    fleet.start("complete", begun["state"], "oauth_complete_organizations.yaml")
    (done,) = fleet.results()
    assert done == {"tenant": fakes.FAKE_TENANT_ID}
    assert redis_client.dbsize() == 0


def test_two_processes_completing_the_same_state_exactly_one_wins(fleet: Fleet, redis_env: dict[str, str]) -> None:
    request = OAUTH.begin(OAuthInput(None), token_factory=iter_tokens())  # this process begins
    fleet.start("complete", request.state, "oauth_complete_organizations.yaml", count=2, extra_env={"WAIT_FOR_GO": "1"})
    fleet.release()
    results = fleet.results()
    winners = [r for r in results if "tenant" in r]
    losers = [r for r in results if "error" in r]
    assert len(winners) == 1 and losers == [{"error": "OAuthStateError", "code": "state_unknown"}]


def test_complete_here_after_begin_here_replays_nothing(redis_env: dict[str, str]) -> None:
    request = OAUTH.begin(OAuthInput(None), token_factory=iter_tokens())
    assert default_flow_store().take(request.state) is not None
    with pytest.raises(OAuthStateError) as err:
        OAUTH.complete({"code": "x", "state": request.state})
    assert err.value.code == "state_unknown"


def iter_tokens() -> Any:
    import itertools

    from cassettes_auth import OAUTH_TOKENS

    it = itertools.cycle(OAUTH_TOKENS)
    return lambda: next(it)


# -- faults ---------------------------------------------------------------------------------------


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_redis_down_begin_fails_fast_with_a_typed_error(
    redis_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REDIS_URL_ENV, f"redis://:hunter2@127.0.0.1:{_closed_port()}/0")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as err:
        OAUTH.begin()
    assert time.monotonic() - started < 5
    assert "hunter2" not in str(err.value) and "127.0.0.1" in str(err.value)
    assert err.value.retryable


def test_redis_stalled_begin_and_complete_fail_within_the_timeouts(
    redis_server: LocalRedisServer, redis_stall_env: dict[str, str]
) -> None:
    default_flow_store()  # connect while the server answers
    redis_server.pause()
    try:
        for call in (lambda: OAUTH.begin(), lambda: OAUTH.complete({"code": "x", "state": "s"})):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                call()
            assert time.monotonic() - started < 3  # 2 x (0.2 s connect + 0.2 s reply) at most, plus slack
    finally:
        redis_server.resume()
    OAUTH.begin()  # and it recovers


def test_timeouts_are_bounded_by_default_and_the_url_may_override_them() -> None:
    from app_connections.stores.redis import connect

    default = connect("redis://127.0.0.1:6379/0").connection_pool.connection_kwargs
    assert (default["socket_connect_timeout"], default["socket_timeout"]) == (1.0, 1.0)
    tuned = connect("redis://127.0.0.1:6379/0?socket_timeout=2.5").connection_pool.connection_kwargs
    assert tuned["socket_timeout"] == 2.5


def test_a_replayed_entry_is_refused_by_its_spent_ticket(redis_client: Any, seal_key: str) -> None:
    store = RedisFlowStore(redis_client, keys=seal_key)
    store.put(flow())
    key = store.key_for("canary-state-abc")
    captured = redis_client.get(key)  # someone with write access keeps the sealed value
    assert store.take("canary-state-abc") is not None
    redis_client.set(key, captured)  # and writes it back after the flow was used
    with pytest.raises(FlowStateError) as caught:
        store.take("canary-state-abc")
    assert caught.value.code == "state_replayed"
    assert redis_client.dbsize() == 0  # the replayed value was taken too: it cannot be tried again


def test_the_ticket_expires_with_the_flow(redis_client: Any, seal_key: str) -> None:
    store = RedisFlowStore(redis_client, keys=seal_key, prefix="app1:")
    store.put(flow(ttl=60))
    tickets = redis_client.keys("app1:flow-ticket:*")
    assert len(tickets) == 1 and 0 < redis_client.pttl(tickets[0]) <= 60_000


def test_redis_failing_while_the_ticket_is_spent_is_a_typed_error(redis_client: Any, seal_key: str) -> None:
    import redis

    class DeleteFails:
        """The real client, except that spending the ticket fails."""

        def __getattr__(self, name: str) -> Any:
            return getattr(redis_client, name)

        def delete(self, *keys: str) -> int:
            raise redis.ConnectionError("gone")

    store = RedisFlowStore(DeleteFails(), keys=seal_key)
    store.put(flow())
    with pytest.raises(StoreUnavailable, match="taking an OAuth flow"):
        store.take("canary-state-abc")


def _plant(redis_client: Any, seal_key: str, state: str, plain: bytes, ticket: str | None = None) -> RedisFlowStore:
    """A store, and an entry under ``state`` sealed with the store's own key (so it opens) but
    holding ``plain``: what another program or version could have written under this prefix."""
    from app_connections.stores.redis import hashed, make_sealer

    store = RedisFlowStore(redis_client, keys=seal_key, prefix="planted:")
    key = store.key_for(state)
    redis_client.set(key, make_sealer(seal_key).seal(plain, context=key.encode("utf-8")))
    if ticket is not None:
        redis_client.set(hashed("planted:", "flow-ticket", ticket), "1")
    return store


@pytest.mark.parametrize(
    "plain",
    [b"not json at all", b"[" * 100_000, b'["a list"]', b'{"flow": {}}'],
    ids=["not-json", "too-deep", "not-an-object", "no-ticket"],
)
def test_an_opened_entry_not_in_this_format_is_a_typed_error(redis_client: Any, seal_key: str, plain: bytes) -> None:
    store = _plant(redis_client, seal_key, "canary-state-planted", plain)
    with pytest.raises(SharedStoreError, match="not in this package's format") as caught:
        store.take("canary-state-planted")
    assert caught.value.code == "redis_reply_invalid" and "canary-state-planted" not in str(caught.value)
    assert redis_client.dbsize() == 0  # taken all the same: a broken entry is not retried forever


@pytest.mark.parametrize(
    "flow_value",
    ["a string", {"scopes": ["s"]}, {**flow().to_dict(), "unexpected": 1}, {"state": "s"}],
    ids=["string", "fields-missing", "unknown-field", "no-scopes"],
)
def test_an_entry_whose_flow_is_malformed_is_a_typed_error(redis_client: Any, seal_key: str, flow_value: Any) -> None:
    import json

    plain = json.dumps({"ticket": "canary-ticket-1", "flow": flow_value}).encode()
    store = _plant(redis_client, seal_key, "canary-state-bad-flow", plain, ticket="canary-ticket-1")
    with pytest.raises(SharedStoreError) as caught:
        store.take("canary-state-bad-flow")
    assert caught.value.code == "redis_reply_invalid" and "canary-ticket" not in str(caught.value)
    assert redis_client.dbsize() == 0  # the ticket was spent: the entry cannot be replayed either
