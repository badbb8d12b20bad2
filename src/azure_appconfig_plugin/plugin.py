"""Entry-point target (group ``app_connections``): registers the Azure App Configuration type.

Importing this module must stay cheap: it imports attrs, pluggy and our records only.
"""

from __future__ import annotations

from typing import Callable

from .connection import build_connection_type
from .hostspec import hookimpl
from .records import ConnectionType
from .sync.destination import AppConfigurationDestination


@hookimpl
def register_connection_types(register: Callable[[ConnectionType], None]) -> None:
    register(build_connection_type())


# optionalhook: a host whose copy of the contract predates register_secret_syncs still loads us.
@hookimpl(optionalhook=True)
def register_secret_syncs(register: Callable[[AppConfigurationDestination], None]) -> None:
    add = getattr(register, "add", register)  # a typed registrar (register.add) or a plain callable
    add(AppConfigurationDestination())
