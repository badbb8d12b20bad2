"""``AsyncFlowStore`` on ``redis.asyncio``: ``RedisFlowStore``'s rules (sealed, expiring on the
server, single use with a one-time ticket), each command awaited instead of blocking a thread.

Needs the ``redis`` extra (redis-py 4.2+ ships ``redis.asyncio``). Flows stored by either store are
taken by the other: the same keys, sealing and ticket.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..flow_store import DEFAULT_FLOW_TTL_SECONDS, PendingFlow
from .errors import SharedStoreError
from .redis import (
    COMMAND_TIMEOUT_SECONDS,
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_PREFIX,
    KeyRing,
    RedisFlowStore,
    describe_client,
    make_sealer,
    redact_url,
    unavailable,
    url_problem,
)

if TYPE_CHECKING:
    import redis.asyncio


def connect_async(
    url: str, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS, timeout: float = COMMAND_TIMEOUT_SECONDS
) -> redis.asyncio.Redis:
    """A ``redis.asyncio.Redis`` client for ``url`` with the bounded timeouts of ``redis.connect``."""
    problem = url_problem(url)
    if problem:
        raise SharedStoreError(f"Redis URL {redact_url(url)} {problem}", code="redis_url_invalid")
    try:
        import redis.asyncio as aredis
    except ImportError:
        raise SharedStoreError(
            'the Redis stores need redis-py: pip install "azure-appconfig-plugin[redis]"', code="redis_missing"
        ) from None
    return aredis.Redis.from_url(url.strip(), socket_connect_timeout=connect_timeout, socket_timeout=timeout)


class RedisAsyncFlowStore:
    """``AsyncFlowStore`` on a ``redis.asyncio`` client (``put`` / ``take`` are coroutines)."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        keys: KeyRing,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int = DEFAULT_FLOW_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        # the sync store's rules (keys, sealing, ticket) on this client: its script is the async one
        rules_client: Any = client  # the rules use only its script registration (an async script here)
        self._rules = RedisFlowStore(
            rules_client, keys=make_sealer(keys), prefix=prefix, ttl_seconds=ttl_seconds, clock=clock
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        keys: KeyRing,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int = DEFAULT_FLOW_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        timeout: float = COMMAND_TIMEOUT_SECONDS,
    ) -> RedisAsyncFlowStore:
        """A store on a new ``redis.asyncio`` client for ``url``, sealing with ``keys``."""
        client = connect_async(url, connect_timeout=connect_timeout, timeout=timeout)
        return cls(client, keys=keys, prefix=prefix, ttl_seconds=ttl_seconds, clock=clock)

    def __repr__(self) -> str:
        return f"RedisAsyncFlowStore({describe_client(self._client)})"

    async def put(self, flow: PendingFlow) -> None:
        """Store ``flow`` sealed, expiring on the server; ``StoreUnavailable`` if it was not stored."""
        import redis

        keys, args = self._rules.sealed(flow)
        try:
            stored = await self._rules._put_flow(keys=keys, args=args)
        except redis.RedisError as exc:
            raise unavailable(self._client, exc, "storing an OAuth flow") from None
        self._rules.check_stored(stored)

    async def take(self, state: str) -> PendingFlow | None:
        """Remove and return the flow (``GETDEL``), spending its one-time ticket (``state_replayed`` if spent)."""
        import redis

        try:
            blob = await self._client.getdel(self._rules.key_for(state))
            if blob is None:
                return None
            data, ticket_key = self._rules.opened(state, blob)
            spent = await self._client.delete(ticket_key)
        except redis.RedisError as exc:
            raise unavailable(self._client, exc, "taking an OAuth flow") from None
        return self._rules.flow_of(data, spent)

    async def close(self) -> None:
        """Close the client's connections."""
        await self._client.aclose()
