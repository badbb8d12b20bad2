"""What the reference host takes from the host kit and the provider, in one module.

Every import of the host kit (loader, settings, flow store, errors) is here, so a rename is one
edit. The host is async; the provider's API is synchronous, so the calls that reach the network
or the flow store run in Starlette's thread pool behind the small functions below: once the
provider has an async API (``registry.avalidate``, ``ctype.abegin``/``acomplete`` with an async
flow store, ``sync.aplan``/``apush``), only this module changes.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from app_connections.flow_store import InMemoryFlowStore as InMemoryFlowStore
from app_connections.loader import Registry as Registry
from app_connections.loader import load_plugins as load_plugins
from azure_appconfig_plugin.errors import AppConnectionError as AppConnectionError
from azure_appconfig_plugin.errors import InvalidInput as InvalidInput
from azure_appconfig_plugin.settings import CALLBACK_PATH as CALLBACK_PATH
from azure_appconfig_plugin.settings import InstanceSettings as InstanceSettings


async def validate(registry: Registry, slug: str, credentials: Any, endpoint: str, **options: Any) -> Any:
    """Every ``validate_connection`` check of a credentials record against the store."""
    return await run_in_threadpool(lambda: registry.validate(slug, None, credentials, endpoint=endpoint, **options))


async def begin(registry: Registry, slug: str, method: str, sign_in_input: Any, **options: Any) -> Any:
    """Where to send the browser (``url``) and the flow's ``state``; the flow is put in the flow store."""
    return await run_in_threadpool(lambda: registry.get(slug).begin(method, sign_in_input, **options))


async def complete(registry: Registry, slug: str, method: str, params: dict[str, str], **options: Any) -> Any:
    """The OAuth callback: the code exchanged for credentials (raises ``AppConnectionError``)."""
    return await run_in_threadpool(lambda: registry.get(slug).complete(method, params, **options))


async def plan(sync: Any, connection: Any, destination: Any, secrets: dict[str, str], **options: Any) -> Any:
    """What a push would change (lists the scope, writes nothing)."""
    return await run_in_threadpool(lambda: sync.plan(connection, destination, secrets, **options))


async def push(sync: Any, connection: Any, destination: Any, secrets: dict[str, str], **options: Any) -> Any:
    """Make the destination's scope match the secrets."""
    return await run_in_threadpool(lambda: sync.push(connection, destination, secrets, **options))
