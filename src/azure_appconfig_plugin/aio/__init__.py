"""Async twins of the host-facing lifecycle (docs/async.md), declared to the kit in
``connection.build_connection_type`` (``AsyncCapabilities``) and imported only when used:

- ``credential``: ``AsyncTokenCredential`` over each method's token path (MSAL and file reads in
  the kit's bounded offload pool, concurrent requests shared);
- ``checks``: the built-in checks as a coroutine (token and store stages never block the loop);
- ``oauth``: ``begin`` / ``complete`` with sync or async flow stores;
- ``sync``: the sync destination's ``plan`` / ``push`` / ``import_secrets`` as coroutines.
"""

from __future__ import annotations

import importlib

WARM_MODULES = (
    "msal",
    "azure.core.pipeline.transport",
    "azure.appconfiguration",
    "azure.appconfiguration.aio",
    "azure_appconfig_plugin.auth.credential",
    "azure_appconfig_plugin.auth.oauth",
    "azure_appconfig_plugin.checks",
    "azure_appconfig_plugin.aio.checks",
    "azure_appconfig_plugin.aio.credential",
    "azure_appconfig_plugin.aio.oauth",
    "azure_appconfig_plugin.aio.probes",
    "azure_appconfig_plugin.aio.sync",
    "azure_appconfig_plugin.http.transport_aio",
)
"""What the async API imports: ``warm_up`` imports it off the loop."""

_warm = False


def _import_all() -> None:
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # aiohttp missing (no [aio] extra): the async client says so when it is made
            continue
    import contextlib

    from ..http import transport_aio

    with contextlib.suppress(transport_aio.AioUnavailable):
        transport_aio._build()


async def warm_up() -> None:
    """Import what the async API needs in the kit's offload pool, once per process (later calls return
    at once). The provider's coroutines call it first; a host may ``await`` it at start-up (an ASGI
    lifespan) so that no request pays for the imports (MSAL and the SDK take a few hundred ms)."""
    global _warm
    if _warm:
        return
    from app_connections.aio import offload

    await offload(_import_all)
    _warm = True
