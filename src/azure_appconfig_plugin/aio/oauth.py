"""The ``oauth`` method's ``begin`` / ``complete`` as coroutines (``AsyncCapabilities.sign_in``).

The flow store is awaited when it is an ``AsyncFlowStore`` (``RedisAsyncFlowStore`` on
``redis.asyncio``, ``AsyncInMemoryFlowStore``); a sync ``FlowStore`` (or the default one,
``stores.shared.default_flow_store``) runs in the kit's offload pool. The code exchange (MSAL,
sync-only) runs there too: the event loop is never blocked. Cancelling ``complete`` while the code is
exchanged returns at once; the flow was already taken (single use), so the sign-in starts again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from app_connections.aio import is_async_flow_store, offload
from app_connections.errors import FlowStateError

from ..auth import oauth
from ..errors import OAuthStateError
from ..methods.oauth import credentials_from_grant

if TYPE_CHECKING:
    from app_connections.aio import AsyncFlowStore
    from app_connections.flow_store import FlowStore

    from ..methods.oauth import OAuthCredentials, OAuthInput
    from ..settings import InstanceSettings


def _default_store() -> FlowStore:
    from ..stores.shared import default_flow_store

    return default_flow_store()  # reads the environment, may connect to Redis: offloaded


async def begin(
    sign_in_input: OAuthInput | None = None,
    *,
    flow_store: FlowStore | AsyncFlowStore | None = None,
    **options: Any,
) -> oauth.AuthorizationRequest:
    """``OAuthMethod.begin`` as a coroutine: the flow is stored in ``flow_store`` (awaited, or offloaded)."""
    store = await offload(_default_store) if flow_store is None else flow_store
    flow, request = oauth.prepare(sign_in_input, **options)  # options: ``prepare``'s keywords, checked there
    if is_async_flow_store(store):
        await store.put(flow)
    else:
        await offload(store.put, flow)
    return request


async def complete(
    params: Mapping[str, str],
    *,
    settings: InstanceSettings | None = None,
    flow_store: FlowStore | AsyncFlowStore | None = None,
    clock: Callable[[], float] = time.time,
) -> OAuthCredentials:
    """``OAuthMethod.complete`` as a coroutine: take the flow (awaited, or offloaded), then exchange
    the code in the offload pool; the same checks and errors as the sync one."""
    single = oauth._single(params)
    state = oauth.callback_state(single)
    store = await offload(_default_store) if flow_store is None else flow_store
    try:
        flow = await store.take(state) if is_async_flow_store(store) else await offload(store.take, state)
    except FlowStateError as exc:  # the kit's store saw a replay: the provider's state error, same code
        raise OAuthStateError(exc.message, code=exc.code) from None
    return credentials_from_grant(await offload(oauth.finish, single, flow, settings=settings, clock=clock))
