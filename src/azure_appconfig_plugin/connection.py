"""Builds the ``azure-app-configuration`` connection type (import-light)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from app_connections.records import ConnectionType

from .clients import async_capabilities, built_in_methods, store_client
from .envvars import INSTANCE_SETTINGS
from .methods.names import CONNECTION_TYPE

if TYPE_CHECKING:
    from app_connections.reports import ValidationRequest

SLUG = CONNECTION_TYPE
NAME = "Azure App Configuration"


def _checks(request: ValidationRequest) -> None:
    from .checks import run_checks

    return run_checks(request)


async def _achecks(request: ValidationRequest) -> None:
    from .aio import warm_up

    await warm_up()  # the first validation imports the SDKs off the loop
    from .aio.checks import arun_checks

    return await arun_checks(request)


def build_connection_type() -> ConnectionType:
    """Our connection type: the built-in methods, the store client and the checks, each with its async twin."""
    methods = built_in_methods()
    return ConnectionType(
        slug=SLUG,
        name=NAME,
        methods=methods,
        settings=INSTANCE_SETTINGS,
        checks=_checks,
        client_factory=store_client,
        aio=async_capabilities(methods, checks=_achecks),
    )


def policy_bound_type(env: Mapping[str, str] | None = None) -> ConnectionType:
    """Our connection type bound to the host policy in effect, with ``env`` (when given) as its environment."""
    from app_connections import policy as policies

    return build_connection_type().with_policy(policies.effective(None, env))
