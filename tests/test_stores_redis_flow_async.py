"""``RedisAsyncFlowStore`` (``redis.asyncio``) against a real redis-server: the sync store's rules
(sealed, single use, a spent ticket refusing a replayed entry), and flows shared with the sync store."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from app_connections.aio import AsyncFlowStore
from app_connections.errors import FlowStateError
from app_connections.stores.errors import SharedStoreError, StoreUnavailable
from app_connections.stores.redis import RedisFlowStore
from app_connections.stores.redis_async import RedisAsyncFlowStore
from app_connections.testing.redis_server import LocalRedisServer
from test_stores_redis_flow import flow


def store_on(server: LocalRedisServer, seal_key: str) -> RedisAsyncFlowStore:
    return RedisAsyncFlowStore.from_url(server.url, keys=seal_key)


def test_put_then_take_once(redis_server: LocalRedisServer, redis_client: Any, seal_key: str) -> None:
    async def run() -> tuple[Any, Any]:
        store = store_on(redis_server, seal_key)
        assert isinstance(store, AsyncFlowStore)
        await store.put(flow())
        first, second = await store.take("canary-state-abc"), await store.take("canary-state-abc")
        await store.close()
        return first, second

    taken, again = asyncio.run(run())
    assert taken is not None and taken.code_verifier == flow().code_verifier and again is None
    assert redis_client.dbsize() == 0


def test_flows_cross_between_the_sync_and_the_async_store(
    redis_server: LocalRedisServer, redis_client: Any, seal_key: str
) -> None:
    sync = RedisFlowStore(redis_client, keys=seal_key)
    sync.put(flow("from-sync"))

    async def run() -> Any:
        store = store_on(redis_server, seal_key)
        taken = await store.take("from-sync")
        await store.put(flow("from-async"))
        await store.close()
        return taken

    assert asyncio.run(run()) is not None
    assert sync.take("from-async") is not None


def test_a_replayed_entry_is_refused_by_its_spent_ticket(
    redis_server: LocalRedisServer, redis_client: Any, seal_key: str
) -> None:
    async def run() -> None:
        store = store_on(redis_server, seal_key)
        await store.put(flow())
        key = store._rules.key_for("canary-state-abc")
        saved = redis_client.get(key)
        assert await store.take("canary-state-abc") is not None
        redis_client.set(key, saved)  # an attacker writes the consumed entry back
        try:
            await store.take("canary-state-abc")
        finally:
            await store.close()

    with pytest.raises(FlowStateError) as caught:
        asyncio.run(run())
    assert caught.value.code == "state_replayed"


def test_an_unreachable_server_is_store_unavailable(seal_key: str) -> None:
    async def run() -> None:
        store = RedisAsyncFlowStore.from_url("redis://127.0.0.1:1/0", keys=seal_key, connect_timeout=0.2, timeout=0.2)
        try:
            await store.take("x")
        finally:
            await store.close()

    with pytest.raises(StoreUnavailable):
        asyncio.run(run())


def test_an_unreachable_server_refuses_a_put_as_store_unavailable(seal_key: str) -> None:
    async def run() -> None:
        store = RedisAsyncFlowStore.from_url("redis://127.0.0.1:1/0", keys=seal_key, connect_timeout=0.2, timeout=0.2)
        assert repr(store) == "RedisAsyncFlowStore(Redis at 127.0.0.1:1/0)"
        try:
            await store.put(flow())
        finally:
            await store.close()

    with pytest.raises(StoreUnavailable):
        asyncio.run(run())


def test_a_url_of_another_scheme_or_no_redis_py_is_refused_before_connecting(
    seal_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SharedStoreError) as caught:
        RedisAsyncFlowStore.from_url("http://user:hunter2@127.0.0.1:6379", keys=seal_key)
    assert caught.value.code == "redis_url_invalid" and "hunter2" not in str(caught.value)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)  # what the import sees without redis-py
    with pytest.raises(SharedStoreError) as missing:
        RedisAsyncFlowStore.from_url("redis://127.0.0.1:6379/0", keys=seal_key)
    assert missing.value.code == "redis_missing"
