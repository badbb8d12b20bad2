"""Reference host loader for ``app_connections`` plugins.

- a fresh plugin manager per call (no global state);
- each entry point loaded on its own: a broken plugin is reported (which one, why) and the
  rest still load;
- ``check_pending()`` after each plugin, so a misspelled hookimpl is reported against it;
- two connection types with one slug: the second is rejected and reported;
- ``APP_CONNECTIONS_BLOCKED_PLUGINS`` (comma-separated entry-point or distribution names)
  keeps named plugins from loading at all.
"""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any, Iterable, Mapping, cast

import attrs
import pluggy

from . import hostspec
from .errors import AppConnectionError, InvalidInput, FieldError
from .records import AuthMethod, ConnectionType, Credentials
from .reports import Check, CheckStatus, ValidationReport, ValidationRequest

BLOCKLIST_ENV = "APP_CONNECTIONS_BLOCKED_PLUGINS"


@attrs.frozen
class PluginFailure:
    plugin: str
    stage: str
    """``load``, ``contract``, ``register`` or ``duplicate``."""
    error: str
    distribution: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Provider:
    plugin: str
    distribution: str | None


class UnknownConnectionType(InvalidInput):
    pass


@attrs.define
class Registry:
    """What the loader found: connection types by slug, who provided them, and failures."""

    pm: pluggy.PluginManager = attrs.field(repr=False)
    types: dict[str, ConnectionType] = attrs.field(factory=dict)
    providers: dict[str, Provider] = attrs.field(factory=dict)
    failures: list[PluginFailure] = attrs.field(factory=list)
    blocked: list[str] = attrs.field(factory=list)
    distributions: dict[str, str | None] = attrs.field(factory=dict, repr=False)
    syncs: dict[str, Any] = attrs.field(factory=dict)
    """Secret sync destinations by slug (``register_secret_syncs``)."""

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
        method: str,
        data: Mapping[str, Any] | Credentials,
        *,
        endpoint: str | None = None,
        **options: Any,
    ) -> ValidationReport:
        """Validate with the type's own checks, then every ``validate_connection`` hook."""
        ctype = self.get(slug)
        report = ctype.validate(data, method=method, endpoint=endpoint, **options)
        request = ValidationRequest(
            connection_type=slug,
            method=method,
            credentials=report.credentials if report.credentials is not None else (data if isinstance(data, Credentials) else None),
            endpoint=endpoint,
            checks=report.checks,
            token_credential=report.token_credential,
        )
        extra: list[Check] = []
        for impl in self.pm.hook.validate_connection.get_hookimpls():
            try:
                produced = cast("Iterable[Any]", impl.function(request=request) or ())
                for check in produced:
                    extra.append(check if isinstance(check, Check) else Check(**dict(check)))
            except Exception as exc:  # a plugin's bug must not abort validation
                extra.append(
                    Check(f"plugin:{impl.plugin_name}", CheckStatus.FAILED, f"validator raised {type(exc).__name__}: {exc}")
                )
        return report.with_checks(extra)


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
        _register_one(registry, name, dist, source)
    _collect_types(registry)
    _collect_methods(registry)
    _collect_syncs(registry)
    return registry


def _register_one(registry: Registry, name: str, dist: str | None, source: Any) -> None:
    pm = registry.pm
    try:
        obj = source.load() if isinstance(source, metadata.EntryPoint) else source
    except Exception as exc:
        registry.failures.append(PluginFailure(name, "load", f"{type(exc).__name__}: {exc}", dist))
        return
    if pm.get_plugin(name) is not None:
        registry.failures.append(PluginFailure(name, "duplicate", f"a plugin named {name!r} is already loaded", dist))
        return
    try:
        pm.register(obj, name=name)
        pm.check_pending()
    except Exception as exc:  # PluginValidationError: bad or misspelled hookimpl
        if pm.get_plugin(name) is not None:
            pm.unregister(name=name)
        registry.failures.append(PluginFailure(name, "contract", f"{type(exc).__name__}: {exc}", dist))
        return
    registry.distributions[name] = dist


def _call_each(registry: Registry, hook: Any, make_register: Any) -> None:
    """Call each plugin's implementation on its own, with a ``register`` bound to that plugin,
    so whatever it registers is attributed to it and its exception is reported, not raised."""
    for impl in hook.get_hookimpls():
        plugin, dist = impl.plugin_name, registry.distributions.get(impl.plugin_name)
        try:
            impl.function(register=make_register(plugin, dist))
        except Exception as exc:
            registry.failures.append(PluginFailure(plugin, "register", f"{type(exc).__name__}: {exc}", dist))


def _collect_types(registry: Registry) -> None:
    def make_register(plugin: str, dist: str | None) -> Any:
        def register(ctype: ConnectionType) -> None:
            slug = getattr(ctype, "slug", None)
            if not isinstance(slug, str) or not slug or not isinstance(getattr(ctype, "methods", None), Mapping):
                raise TypeError(f"register() needs a ConnectionType with a slug and methods, got {ctype!r}")
            if slug in registry.types:
                owner = registry.providers[slug].plugin
                registry.failures.append(
                    PluginFailure(plugin, "duplicate", f"connection type {slug!r} is already registered by {owner!r}; ignored", dist)
                )
                return
            registry.types[slug] = ctype
            registry.providers[slug] = Provider(plugin, dist)

        return register

    _call_each(registry, registry.pm.hook.register_connection_types, make_register)


def _collect_methods(registry: Registry) -> None:
    def make_register(plugin: str, dist: str | None) -> Any:
        def register(slug: str, method: AuthMethod) -> None:
            if slug not in registry.types:
                registry.failures.append(PluginFailure(plugin, "register", f"no connection type {slug!r} to add method to", dist))
                return
            try:
                registry.types[slug] = registry.types[slug].with_method(method)
            except (ValueError, AttributeError, AppConnectionError) as exc:
                registry.failures.append(PluginFailure(plugin, "duplicate", str(exc), dist))

        return register

    _call_each(registry, registry.pm.hook.register_auth_methods, make_register)


def _collect_syncs(registry: Registry) -> None:
    def make_register(plugin: str, dist: str | None) -> Any:
        def register(destination: Any) -> None:
            slug = getattr(destination, "slug", None)
            if not isinstance(slug, str) or not slug or not isinstance(getattr(destination, "connection_type", None), str):
                raise TypeError(f"register() needs a sync destination with a slug and a connection_type, got {destination!r}")
            if slug in registry.syncs:
                registry.failures.append(PluginFailure(plugin, "duplicate", f"sync destination {slug!r} is already registered; ignored", dist))
                return
            registry.syncs[slug] = destination

        register.add = register  # type: ignore[attr-defined]  # the typed-registrar spelling, register.add(destination)
        return register

    _call_each(registry, registry.pm.hook.register_secret_syncs, make_register)
