"""The shared stores the environment asks for (``..._REDIS_URL``), one per process.

When ``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_URL`` is set, ``begin()``/``complete()``
without a ``flow_store`` use ``RedisFlowStore`` and client-secret credentials use
``RedisTokenCache``, both on that server and sealed with the keys in
``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_ENCRYPTION_KEY``. A URL without a key is a
configuration error: ``begin()`` raises ``SealKeyError`` (nothing unsealed is ever written), and
the token path logs a warning once and asks the identity platform directly.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from app_connections.flow_store import FlowStore, InMemoryFlowStore
from app_connections.stores.sealing import Sealer

from ..envvars import REDIS_KEY_ENV, REDIS_URL_ENV
from ..errors import AppConnectionError
from .seal_key import policy_env, sealer_from_env

if TYPE_CHECKING:
    from .token_cache import RedisTokenCache

logger = logging.getLogger("azure_appconfig_plugin.stores")

_lock = threading.Lock()
_cached: dict[tuple[str, str], SharedStores] = {}
_warned_config = False


class SharedStores:
    """The flow store and the token cache on one Redis client."""

    def __init__(self, url: str, sealer: Sealer) -> None:
        from app_connections.stores.redis import RedisFlowStore, connect, redact_url

        from .token_cache import RedisTokenCache

        self.display_url = redact_url(url)
        self.client = connect(url)
        self.flow_store = RedisFlowStore(self.client, keys=sealer)
        self.token_cache = RedisTokenCache(self.client, keys=sealer)

    def __repr__(self) -> str:
        return f"SharedStores({self.display_url})"


def configured(env: Mapping[str, str] | None = None) -> SharedStores | None:
    """The process's shared stores, or None when ``..._REDIS_URL`` is unset in ``env`` (default: the
    host policy's environment). Raises on a bad setting."""
    env = policy_env() if env is None else env
    url = env.get(REDIS_URL_ENV, "").strip()
    if not url:
        return None
    key_setting = env.get(REDIS_KEY_ENV, "")
    with _lock:
        stores = _cached.get((url, key_setting))
        if stores is None:
            stores = SharedStores(url, sealer_from_env(env))
            _cached.clear()  # settings changed: forget the old client
            _cached[(url, key_setting)] = stores
        return stores


def shared_token_cache(env: Mapping[str, str] | None = None) -> RedisTokenCache | None:
    """The shared token cache, or None (unset, or misconfigured: then a warning is logged once)."""
    global _warned_config
    try:
        stores = configured(env)
    except AppConnectionError as exc:
        if not _warned_config:
            _warned_config = True
            logger.warning("shared token cache disabled, asking the identity platform directly: %s", exc)
        return None
    return stores.token_cache if stores is not None else None


_default_store: InMemoryFlowStore | None = None
_default_lock = threading.Lock()


def default_flow_store() -> FlowStore:
    """The store used when a caller passes none.

    With ``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_URL`` set, the Redis flow store every
    replica shares; otherwise a process-wide in-memory one.
    """
    global _default_store
    shared = configured()
    if shared is not None:
        return shared.flow_store
    with _default_lock:
        if _default_store is None:
            _default_store = InMemoryFlowStore()
        return _default_store


def reset_default_flow_store() -> None:
    """Forget the in-memory default flow store and the shared stores (tests use this between cases)."""
    global _default_store
    with _default_lock:
        _default_store = None
    reset()


def reset() -> None:
    """Forget the process's shared stores (tests use this between cases)."""
    global _warned_config
    with _lock:
        for stores in _cached.values():
            with contextlib.suppress(Exception):  # closing is best effort
                stores.client.close()
        _cached.clear()
        _warned_config = False
