"""Entry-point target (group ``app_connections``): registers the Azure App Configuration type and
its built-in checks, through the same hooks any other plugin uses.

Importing this module must stay cheap: it imports pluggy and our stdlib-only records; the checks
and SDKs are imported when a validation runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app_connections.hostspec import CONTRACT_VERSION, hookimpl

from .connection import SLUG, build_connection_type

if TYPE_CHECKING:
    from collections.abc import Iterable

    from app_connections.registrars import ConnectionTypeRegistrar, SecretSyncRegistrar
    from app_connections.reports import Check, ValidationRequest

APP_CONNECTIONS_CONTRACT = CONTRACT_VERSION
"""The contract version this plugin is built for (checked by the host's loader)."""


@hookimpl
def register_connection_types(register: ConnectionTypeRegistrar) -> None:
    """Register the Azure App Configuration connection type with its built-in methods."""
    register.add(build_connection_type())


@hookimpl(tryfirst=True, optionalhook=True)  # optional: a host copy without this hookspec still loads us
def validate_connection(request: ValidationRequest) -> Iterable[Check] | None:
    """The built-in checks (input, instance settings, endpoint, token, store), first."""
    if request.connection_type != SLUG:
        return None
    from .checks import run_checks

    run_checks(request)  # it adds each check to the request as it is made
    return None


# optionalhook: a host whose copy of the contract predates register_secret_syncs still loads us.
@hookimpl(optionalhook=True)
def register_secret_syncs(register: SecretSyncRegistrar) -> None:
    """Register the ``azure-app-configuration`` sync destination."""
    from .sync.destination import AppConfigurationDestination

    register.add(AppConfigurationDestination())
