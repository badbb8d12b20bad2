"""What the reference host takes from the host kit and the provider, in one module.

Every import of the host kit (loader, policy, settings, async flow store, errors) and of the
provider is here, so a rename is one edit. The host calls the async API (``registry.avalidate``,
``ctype.abegin`` / ``acomplete``, the sync destination's ``aplan`` / ``apush``): nothing it awaits
blocks the event loop, and what must block (MSAL) runs in the kit's bounded offload pool.
"""

from __future__ import annotations

import os

from app_connections.aio import AsyncInMemoryFlowStore as AsyncInMemoryFlowStore
from app_connections.loader import Registry as Registry
from app_connections.loader import load_plugins as load_plugins
from app_connections.policy import HostPolicy as HostPolicy
from azure_appconfig_plugin.aio import warm_up as warm_up
from azure_appconfig_plugin.errors import AppConnectionError as AppConnectionError
from azure_appconfig_plugin.errors import InvalidInput as InvalidInput
from azure_appconfig_plugin.settings import CALLBACK_PATH as CALLBACK_PATH
from azure_appconfig_plugin.settings import InstanceSettings as InstanceSettings

# This host's policy: many users create connections here, so it lends them neither its own identity
# (workload and managed identity are off) nor its disk (no path a form may name); its settings (the
# endpoint allow-list, Redis) come from its environment, which the sync calls read too (``env=``).
POLICY = HostPolicy.library(env=os.environ)
