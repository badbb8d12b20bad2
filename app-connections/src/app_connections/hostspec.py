"""The ``app_connections`` host contract: markers and hook specifications.

This module is the whole contract between a host and connection-provider plugins.
It imports nothing but pluggy and typing, so hosts and plugins can import it freely.

A host that defines the same hookspecs itself (same project name, same hook and
argument names) loads plugins written against this module unchanged: pluggy matches
implementations by the project name ``app_connections``, not by object identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .registrars import AuthMethodRegistrar, ConnectionTypeRegistrar, SecretSyncRegistrar
    from .reports import Check, ValidationRequest

CONTRACT_VERSION = "3.0"
"""Semantic version of this contract (hook names and arguments, registrars, records). A change that
breaks a plugin or host written against an earlier version bumps the major number; additions bump
the minor number. ``CHANGELOG.md`` records each change."""

CONTRACT_ATTRIBUTE = "APP_CONNECTIONS_CONTRACT"
"""A plugin declares the contract version it was built for as a module (or object) attribute of
this name, e.g. ``APP_CONNECTIONS_CONTRACT = "3.0"``. A host refuses (and reports) a plugin whose
major version differs from its own; a plugin that declares nothing is treated as compatible."""

PROJECT_NAME = "app_connections"
"""pluggy project name and the entry-point group plugins are published under."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_connection_types(register: ConnectionTypeRegistrar) -> None:
    """Register connection types.

    Call ``register.add(connection_type)`` once per type this plugin provides.
    Slugs are unique across all plugins; a second type with a taken slug is rejected
    and reported by the loader.
    """


@hookspec
def register_auth_methods(register: AuthMethodRegistrar) -> None:
    """Add auth methods to connection types that other plugins registered.

    Call ``register.add(connection_type_slug, auth_method)`` once per method. The type must exist
    and the method slug must be new for that type; otherwise the loader reports it.
    """


@hookspec
def register_secret_syncs(register: SecretSyncRegistrar) -> None:
    """Register secret-sync destinations.

    Call ``register.add(destination)`` once per destination. A destination has ``slug``, ``name``
    and ``connection_type`` (the slug of the connection type it syncs through); this package's
    also has ``destination_schema()``, ``parse_destination(data)`` and the operations ``plan``,
    ``push``, ``import_secrets`` and ``remove``. Slugs are unique; the loader reports a duplicate.
    """


@hookspec
def validate_connection(request: ValidationRequest) -> Iterable[Check] | None:
    """Contribute checks to a connection's validation report.

    Every implementation runs (this is not a first-result hook), through the plugin manager,
    so ``wrapper=True``, ``tryfirst`` and ``trylast`` work. Return the checks to add (an empty
    list or ``None`` when the request is not yours, e.g. another connection type), or add them
    with ``request.add(check)`` so that implementations running later see them in
    ``request.checks``. A connection type's own checks are an implementation too (``tryfirst``):
    they parse the input (``request.credentials``), and set ``request.token_credential`` only
    once a token was issued. An implementation that raises is reported as a failed check named
    after its plugin; it never aborts the validation.
    """
