"""The ``app_connections`` host contract: markers and hook specifications.

This module is the whole contract between a host and connection-provider plugins.
It imports nothing but pluggy and typing, so hosts and plugins can import it freely.

A host that defines the same hookspecs itself (same project name, same hook and
argument names) loads plugins written against this module unchanged: pluggy matches
implementations by the project name ``app_connections``, not by object identity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .records import AuthMethod, ConnectionType
    from .reports import Check, ValidationRequest
    from .sync.destination import AppConfigurationDestination as SecretSyncDestination

CONTRACT_VERSION = "1.1"
"""Semantic version of this contract (hook names and arguments, registrars, records). A change that
breaks a plugin or host written against an earlier version bumps the major number; additions bump
the minor number. ``CHANGELOG.md`` records each change."""

PROJECT_NAME = "app_connections"
"""pluggy project name and the entry-point group plugins are published under."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_connection_types(register: Callable[[ConnectionType], None]) -> None:
    """Register connection types.

    Call ``register(connection_type)`` once per type this plugin provides.
    Slugs are unique across all plugins; a second type with a taken slug is rejected
    and reported by the loader.
    """


@hookspec
def register_auth_methods(register: Callable[[str, AuthMethod], None]) -> None:
    """Add auth methods to connection types that other plugins registered.

    Call ``register(connection_type_slug, auth_method)`` once per method. The type must
    exist and the method slug must be new for that type; otherwise the loader reports it.
    """


@hookspec
def validate_connection(request: ValidationRequest) -> Iterable[Check] | None:
    """Contribute checks to a connection's validation report.

    Every implementation runs (this is not a first-result hook). Return the checks to add
    (an empty list or ``None`` when the request is not yours, e.g. another connection type).
    ``request`` carries the connection type slug, method slug, the parsed credentials
    (secrets hidden from repr), the store endpoint if any, and the checks run so far.
    An implementation that raises is reported as a failed check named after its plugin;
    it never aborts the validation.
    """


@hookspec
def register_secret_syncs(register: Callable[[SecretSyncDestination], None]) -> None:
    """Register secret sync destinations.

    Call ``register(destination)`` once per destination. A destination has ``slug``, ``name``,
    ``connection_type`` (the connection type slug it syncs for), ``destination_schema()``,
    ``parse_destination(data)`` and the operations ``plan``, ``push``, ``import_secrets`` and
    ``remove``. Slugs are unique across plugins; a second destination with a taken slug is rejected
    and reported by the loader.
    """
