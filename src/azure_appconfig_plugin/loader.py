"""Reference host loader for ``app_connections`` plugins.

- a fresh plugin manager per call (no global state);
- each entry point loaded on its own: a broken plugin is reported (which one, why) and the
  rest still load;
- a plugin built for another contract major version is refused and reported;
- ``check_pending()`` after each plugin, so a misspelled hookimpl is reported against it;
- every hook runs through ``pm.hook`` (wrappers, ``tryfirst``/``trylast`` work), each plugin's
  implementations guarded so one that raises is reported against it (``hosting``);
- two connection types (or sync destinations) with one slug: the second is rejected and reported;
- ``APP_CONNECTIONS_BLOCKED_PLUGINS`` (comma-separated entry-point or distribution names)
  keeps named plugins from loading at all.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any, Iterable, Mapping

import attrs
import pluggy

from . import hostspec
from .errors import FieldError, InvalidInput
from .hosting import Catalog, PluginFailure, Provider, collect, describe, register_plugin, run_validation
from .records import ConnectionType
from .registrars import SecretSyncDestination
from .reports import ValidationReport

__all__ = ["BLOCKLIST_ENV", "PluginFailure", "Provider", "Registry", "UnknownConnectionType", "load_plugins",
           "new_plugin_manager"]

BLOCKLIST_ENV = "APP_CONNECTIONS_BLOCKED_PLUGINS"


class UnknownConnectionType(InvalidInput):
    pass


@attrs.define
class Registry:
    """What the loader found: connection types and sync destinations by slug, who provided them,
    failures and blocked plugins."""

    pm: pluggy.PluginManager = attrs.field(repr=False)
    catalog: Catalog = attrs.field(factory=Catalog, repr=False)
    blocked: list[str] = attrs.field(factory=list)

    @property
    def types(self) -> dict[str, ConnectionType]:
        return self.catalog.types

    @property
    def providers(self) -> dict[str, Provider]:
        return self.catalog.providers

    @property
    def syncs(self) -> dict[str, SecretSyncDestination]:
        """Sync destinations by slug (``register_secret_syncs``)."""
        return self.catalog.syncs

    @property
    def failures(self) -> list[PluginFailure]:
        return self.catalog.failures

    @property
    def distributions(self) -> dict[str, str | None]:
        return self.catalog.distributions

    def get(self, slug: str) -> ConnectionType:
        try:
            return self.types[slug]
        except KeyError:
            known = ", ".join(sorted(self.types)) or "none"
            raise UnknownConnectionType(
                errors=[FieldError("connectionType", f"unknown connection type {slug!r}; installed: {known}")]
            ) from None

    def validate(
        self,
        slug: str,
        method: str | None,
        data: Any,
        *,
        endpoint: str | None = None,
        **options: Any,
    ) -> ValidationReport:
        """Validate form input, stored credentials or a credentials record: every
        ``validate_connection`` implementation runs (the type's own checks first)."""
        return run_validation(self.pm.hook.validate_connection, self.get(slug), method, data,  # type: ignore[no-any-return]
                              endpoint=endpoint, **options)


def _blocked_names(env: Mapping[str, str]) -> set[str]:
    return {n.strip() for n in env.get(BLOCKLIST_ENV, "").split(",") if n.strip()}


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hostspec.PROJECT_NAME)
    pm.add_hookspecs(hostspec)
    return pm


def load_plugins(
    *,
    group: str = hostspec.PROJECT_NAME,
    plugins: Iterable[tuple[str, object]] = (),
    use_entry_points: bool = True,
    env: Mapping[str, str] | None = None,
) -> Registry:
    """Discover, load and register plugins; never raises for a plugin's fault."""
    env = os.environ if env is None else env
    blocked = _blocked_names(env)
    registry = Registry(pm=new_plugin_manager())

    candidates: list[tuple[str, str | None, Any]] = []
    if use_entry_points:
        for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name):
            dist = getattr(getattr(ep, "dist", None), "name", None)
            if ep.name in blocked or (dist and dist in blocked):
                registry.blocked.append(ep.name)
                continue
            candidates.append((ep.name, dist, ep))
    for name, obj in plugins:
        if name not in blocked:
            candidates.append((name, None, obj))
        else:
            registry.blocked.append(name)

    for name, dist, source in candidates:
        try:
            obj = source.load() if isinstance(source, metadata.EntryPoint) else source
        except Exception as exc:
            registry.catalog.distributions.setdefault(name, dist)
            registry.catalog.fail(name, "load", describe(exc))
            continue
        register_plugin(registry.pm, obj, name, registry.catalog, distribution=dist)
    collect(registry.pm, registry.catalog)
    return registry
