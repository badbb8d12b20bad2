"""What the reference host takes from the host kit and the provider, in one module.

Every import of the host kit (loader, settings, flow store, errors) is here, so a rename is one
edit. The host is async; the provider's API is synchronous, so the calls that reach the network
or the flow store run in Starlette's thread pool behind the small functions below: once the
provider has an async API (``registry.avalidate``, ``ctype.abegin``/``acomplete`` with an async
flow store, ``sync.aplan``/``apush``), only this module changes.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.concurrency import run_in_threadpool

from app_connections.flow_store import InMemoryFlowStore as InMemoryFlowStore
from app_connections.loader import Registry as Registry
from app_connections.loader import load_plugins as load_plugins
from app_connections.policy import HostPolicy as HostPolicy
from azure_appconfig_plugin.errors import AppConnectionError as AppConnectionError
from azure_appconfig_plugin.errors import InvalidInput as InvalidInput
from azure_appconfig_plugin.settings import CALLBACK_PATH as CALLBACK_PATH
from azure_appconfig_plugin.settings import InstanceSettings as InstanceSettings

# This host's policy: many users create connections here, so it lends them neither its own identity
# (workload and managed identity are off) nor its disk (no path a form may name); its settings (the
# endpoint allow-list, Redis) come from its environment, which the sync calls below read too.
POLICY = HostPolicy.library(env=os.environ)


async def validate(registry: Registry, slug: str, credentials: Any, endpoint: str, **options: Any) -> Any:
    """Every ``validate_connection`` check of a credentials record against the store."""
    return await run_in_threadpool(lambda: registry.validate(slug, None, credentials, endpoint=endpoint, **options))


async def begin(registry: Registry, slug: str, method: str, sign_in_input: Any, **options: Any) -> Any:
    """Where to send the browser (``url``) and the flow's ``state``; the flow is put in the flow store."""
    return await run_in_threadpool(lambda: registry.get(slug).begin(method, sign_in_input, **options))


async def complete(registry: Registry, slug: str, method: str, params: dict[str, str], **options: Any) -> Any:
    """The OAuth callback: the code exchanged for credentials (raises ``AppConnectionError``)."""
    return await run_in_threadpool(lambda: registry.get(slug).complete(method, params, **options))


async def sync(action: str, dest: Any, *args: Any, **kw: Any) -> Any:
    """``dest.plan`` (what a push would change: lists the scope, writes nothing) or ``dest.push`` (make
    the destination's scope match the secrets) of ``(connection, destination, secrets)``, in this host's
    environment."""
    return await run_in_threadpool(lambda: (dest.push if action == "push" else dest.plan)(*args, env=POLICY.env, **kw))
