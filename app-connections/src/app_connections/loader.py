"""Reference host loader for ``app_connections`` plugins.

- a fresh plugin manager per call (no global state);
- each entry point loaded on its own: a broken plugin is reported (which one, why) and the
  rest still load;
- a plugin built for another contract major version is refused and reported;
- ``check_pending()`` after each plugin, so a misspelled hookimpl is reported against it;
- every hook runs through ``pm.hook`` (wrappers, ``tryfirst``/``trylast`` work), each plugin's
  implementations guarded so one that raises is reported against it (``hosting``);
- a connection type slug has one owner: registered by two distributions (or in-process plugins),
  neither is used and both are reported, unless the allow-list names its owner (``:owns=<slug>``);
  two sync destinations with one slug: the second is rejected and reported;
- ``APP_CONNECTIONS_BLOCKED_PLUGINS`` (comma-separated entry-point or distribution names)
  keeps named plugins from loading at all;
- ``APP_CONNECTIONS_ALLOWED_PLUGINS`` (or ``allowed_plugins=``) loads only pinned distributions,
  and hooks see secrets only of connections their distribution registered (see ``trust``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

import attrs
import pluggy

from . import hostspec, trust
from .errors import FieldError, InvalidInput
from .hosting import Catalog, PluginFailure, Provider, collect, describe, register_plugin, run_validation
from .policy import HostPolicy
from .records import ConnectionType
from .registrars import SecretSyncDestination
from .reports import ValidationReport, ValidationRequest
from .text import quoted_value
from .trust import ALLOWED, OPEN_MODE, AllowList, AllowListError, normalize_name

__all__ = [
    "BLOCKLIST_ENV",
    "PluginFailure",
    "Provider",
    "Registry",
    "UnknownConnectionType",
    "doctor_status",
    "load_plugins",
    "new_plugin_manager",
]

BLOCKLIST_ENV = "APP_CONNECTIONS_BLOCKED_PLUGINS"


class UnknownConnectionType(InvalidInput):
    """No connection type of that slug is registered (or its plugin was refused)."""


@attrs.define
class Registry:
    """What the loader found: connection types and sync destinations by slug, who provided them,
    failures and blocked plugins."""

    pm: pluggy.PluginManager = attrs.field(repr=False)
    catalog: Catalog = attrs.field(factory=Catalog, repr=False)
    blocked: list[str] = attrs.field(factory=list)
    trust: trust.TrustReport = attrs.field(factory=trust.TrustReport, repr=False)
    """Allow-list mode, grants, provenance and verdict of every plugin."""
    policy: HostPolicy = attrs.field(factory=HostPolicy.library)
    """The host policy the connection types are bound to (``ConnectionType.with_policy``)."""

    @property
    def method_providers(self) -> dict[tuple[str, str], Provider]:
        """(type slug, method slug) -> who added the method through ``register_auth_methods``."""
        return self.catalog.method_providers

    @property
    def types(self) -> dict[str, ConnectionType]:
        """Connection types by slug."""
        return self.catalog.types

    @property
    def providers(self) -> dict[str, Provider]:
        """Providers (a type with its plugin's hooks) by type slug."""
        return self.catalog.providers

    @property
    def syncs(self) -> dict[str, SecretSyncDestination]:
        """Sync destinations by slug (``register_secret_syncs``)."""
        return self.catalog.syncs

    @property
    def failures(self) -> list[PluginFailure]:
        """Plugins that failed to load or register, and why."""
        return self.catalog.failures

    @property
    def distributions(self) -> dict[str, str | None]:
        """The distribution each plugin came from (None when not from one)."""
        return self.catalog.distributions

    def get(self, slug: str) -> ConnectionType:
        """The connection type ``slug``; a typed error naming the installed types when there is none."""
        try:
            return self.types[slug]
        except KeyError:
            known = ", ".join(sorted(self.types)) or "none"
            message = f"unknown connection type {quoted_value(slug)}; installed: {known}"
            raise UnknownConnectionType(errors=[FieldError("connectionType", message)]) from None

    def validate(
        self,
        slug: str,
        method: str | None,
        data: object,
        *,
        endpoint: str | None = None,
        **options: object,
    ) -> ValidationReport:
        """Validate form input, stored credentials or a credentials record: every
        ``validate_connection`` implementation runs (the type's own checks first).

        Least privilege (``trust.hooks``): implementations of other distributions than the ones that
        registered the connection type and the method see the credentials without secret fields and
        no token credential, unless the host granted them secrets."""
        from . import policy as policies

        ctype = self.get(slug)

        def hook(*, request: Any) -> list[Any]:
            return self.call_hook("validate_connection", request)

        with policies.use(ctype.policy or self.policy):
            return run_validation(hook, ctype, method, data, endpoint=endpoint, **options)

    async def avalidate(
        self,
        slug: str,
        method: str | None,
        data: object,
        *,
        endpoint: str | None = None,
        **options: object,
    ) -> ValidationReport:
        """``validate`` as a coroutine that never blocks the event loop: the type's own checks run as
        its provider's coroutine (``aio.checks``; else its sync ``checks`` in the bounded offload pool,
        ``app_connections.aio``), then the other plugins' ``validate_connection`` implementations
        (sync, so offloaded; skipped when there are none), with the same least privilege."""
        from . import aio
        from . import policy as policies

        ctype = self.get(slug)
        owner = self.providers.get(slug)
        # the owner's implementation is the type's own checks (the contract): run once, as a coroutine
        exclude = [owner.plugin] if owner is not None and ctype.checks is not None else []
        impls = self.pm.hook.validate_connection.get_hookimpls()
        others = [impl for impl in impls if impl.plugin_name not in exclude]

        def hook(*, request: Any) -> list[Any]:
            return self.call_hook("validate_connection", request, exclude=exclude)

        with policies.use(ctype.policy or self.policy):  # as validate: the host's policy, its environment
            return await aio.run_validation(
                hook if others else None,
                ctype,
                method,
                data,
                endpoint=endpoint,
                owner=owner.plugin if owner is not None else None,
                **options,
            )

    def call_hook(self, hook: str, request: ValidationRequest, *, exclude: Iterable[str] = ()) -> list[object]:
        """Call ``hook(request=...)`` (``validate_connection``, or a host's own hook taking a
        ``ValidationRequest``) with least privilege: implementations of other distributions than
        the ones that registered the request's connection type and method get a view of the
        credentials without secrets and no token credential, unless the host granted them secrets."""
        slug = request.connection_type
        registrants = (self.providers.get(slug), self.method_providers.get((slug, request.method or "")))
        owners = {trust.Principal.of(p.plugin, p.distribution) for p in registrants if p}
        return trust.call_by_trust(
            self.pm,
            hook,
            request,
            schema=trust.method_schema(self.get(slug), request.method),
            owners=owners,
            grants=self.trust.grants,
            distribution_of=self.distributions,
            exclude=tuple(exclude),
        )

    @classmethod
    def from_plugin_manager(
        cls,
        pm: pluggy.PluginManager,
        *,
        allow_list: str | AllowList | None = None,
        grant_secrets: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        group: str = hostspec.PROJECT_NAME,
        plugins: Iterable[tuple[str, object]] = (),
        use_entry_points: bool = True,
        policy: HostPolicy | None = None,
    ) -> Registry:
        """Load plugins into a host's own ``PluginManager`` (its own copy of the hookspecs, its own
        extra hooks) with the loader's isolation, plugin trust and least privilege; the same
        arguments as ``load_plugins`` (``allow_list`` is its ``allowed_plugins``). Call the host's
        own hooks that take a ``ValidationRequest`` through ``registry.call_hook``."""
        return load_plugins(
            group=group,
            plugins=plugins,
            use_entry_points=use_entry_points,
            env=env,
            allowed_plugins=allow_list,
            grant_secrets=grant_secrets,
            pm=pm,
            policy=policy,
        )


def _blocked_names(env: Mapping[str, str]) -> set[str]:
    return {n.strip() for n in env.get(BLOCKLIST_ENV, "").split(",") if n.strip()}


CONTRACT_HOOKS = ("register_connection_types", "register_auth_methods", "register_secret_syncs", "validate_connection")
"""The hooks of the contract (``hostspec``): a host's own copy of the hookspecs must specify all of them."""


def new_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager for the ``app_connections`` project with the contract's hookspecs."""
    pm = pluggy.PluginManager(hostspec.PROJECT_NAME)
    pm.add_hookspecs(hostspec)
    return pm


def _host_plugin_manager(pm: pluggy.PluginManager) -> pluggy.PluginManager:
    """``pm`` checked for the contract: the project name plugins mark their hooks with, and every
    contract hook specified (the contract's hookspecs are added when the host specified none)."""
    if pm.project_name != hostspec.PROJECT_NAME:
        raise ValueError(
            f"the plugin manager's project is {pm.project_name!r}; plugins mark their hooks for "
            f"{hostspec.PROJECT_NAME!r}: create it as pluggy.PluginManager({hostspec.PROJECT_NAME!r})"
        )
    relay = vars(pm.hook)
    specified = {name for name in CONTRACT_HOOKS if name in relay and relay[name].has_spec()}
    if not specified:
        pm.add_hookspecs(hostspec)
    elif len(specified) < len(CONTRACT_HOOKS):
        missing = ", ".join(n for n in CONTRACT_HOOKS if n not in specified)
        raise ValueError(f"the host's hookspecs lack {missing}: copy every hook of app_connections.hostspec")
    return pm


def load_plugins(
    *,
    group: str = hostspec.PROJECT_NAME,
    plugins: Iterable[tuple[str, object]] = (),
    use_entry_points: bool = True,
    env: Mapping[str, str] | None = None,
    allowed_plugins: str | trust.AllowList | None = None,
    grant_secrets: Iterable[str] = (),
    pm: pluggy.PluginManager | None = None,
    policy: HostPolicy | None = None,
) -> Registry:
    """Discover, load and register plugins; never raises for a plugin's fault.

    ``policy``: the host policy (default ``HostPolicy.library()``: no ambient identity, no
    directories, an empty environment); the registry's connection types are bound to it, so the
    methods it disables are absent from ``types``, schemas and forms. ``env`` configures loading
    only (the block- and allow-lists), not the connections.

    ``pm``: the host's own plugin manager (see ``Registry.from_plugin_manager``); default a fresh one.

    ``allowed_plugins`` overrides ``APP_CONNECTIONS_ALLOWED_PLUGINS``; ``grant_secrets`` names
    distributions (or in-process plugins) whose hooks see secrets of connections they do not own.
    A malformed allow-list raises ``trust.AllowListError`` (fail closed, before anything loads).
    """
    env = os.environ if env is None else env
    blocked = _blocked_names(env)
    manager = new_plugin_manager() if pm is None else _host_plugin_manager(pm)
    if policy is not None and not isinstance(policy, HostPolicy):
        raise TypeError(f"policy= takes a HostPolicy, not {type(policy).__name__}")
    registry = Registry(
        pm=manager,
        trust=trust.TrustReport.start(env, allowed_plugins, grant_secrets),
        policy=HostPolicy.library() if policy is None else policy,
    )
    if registry.trust.allow_list is not None:  # ":owns=<slug>": the one distribution a type may come from
        registry.catalog.type_owners.update(registry.trust.allow_list.type_owners)

    candidates: list[tuple[str, str | None, Any]] = []
    if use_entry_points:
        trust.GUARD.set_pins(())  # this load decides afresh where modules come from (the old pins steer find_spec)
        listed = trust.group_entry_points(group)  # one broken distribution costs only itself
        eps = sorted(listed.entry_points, key=lambda e: e.name)
        registry.trust.expect(eps, listed.duplicates)
        for item in listed.unreadable:  # none of its entry points is known: nothing of it is imported
            verdict = registry.trust.unreadable(item, group)
            name = trust.identify(item.dist).name or None
            registry.failures.append(PluginFailure(item.label, "trust", f"{verdict.status}: {verdict.reason}", name))
        for ep in eps:
            found = getattr(ep, "dist", None)
            dist = (trust.identify(found).name or None) if found is not None else None  # unreadable: None
            if ep.name in blocked or (dist and dist in blocked):
                registry.blocked.append(ep.name)
                registry.trust.blocked(ep, f"listed in {BLOCKLIST_ENV}")
                continue
            verdict = registry.trust.admit(ep)  # decided before anything of the plugin is imported
            if verdict.status != trust.ALLOWED:
                registry.failures.append(PluginFailure(ep.name, "trust", f"{verdict.status}: {verdict.reason}", dist))
                continue
            candidates.append((ep.name, dist, ep))
    for name, obj in plugins:
        if name not in blocked:
            candidates.append((name, None, obj))
            registry.trust.in_process(name, obj)
        else:
            registry.blocked.append(name)

    if use_entry_points:  # from now on a digest-pinned plugin imports only what its RECORD lists
        trust.GUARD.set_pins(registry.trust.pins)
    for name, dist, source in candidates:
        try:
            obj = source.load() if isinstance(source, metadata.EntryPoint) else source
        except trust.ImportRefused as exc:  # the guard: a module that is not the pinned file
            registry.catalog.distributions.setdefault(name, dist)
            registry.trust.refuse_import(name, str(exc))
            registry.catalog.fail(name, "trust", str(exc))
            continue
        except Exception as exc:
            registry.catalog.distributions.setdefault(name, dist)
            registry.catalog.fail(name, "load", describe(exc))
            continue
        register_plugin(registry.pm, obj, name, registry.catalog, distribution=dist)
    collect(registry.pm, registry.catalog)
    for slug, ctype in list(registry.catalog.types.items()):  # the host's policy decides which methods are offered
        registry.catalog.types[slug] = ctype.with_policy(registry.policy)
    return registry


def doctor_status(env: Mapping[str, str], *, own_distribution: str = "azure-appconfig-plugin") -> tuple[str, str]:
    """``(status, detail)`` for ``azure-appconfig doctor``: the mode and every plugin not loaded.

    ``invalid`` when the allow-list is malformed or keeps this package out (the instance then has
    no connection type), or when a plugin is refused (another version or digest than pinned,
    tampered or unpinned files, metadata or entry points that cannot be read); ``warning`` for
    plugins the allow-list or blocklist keeps out and for allow-list notices.
    """
    try:
        registry = load_plugins(env=env)
    except AllowListError as exc:
        return "invalid", str(exc)
    report: trust.TrustReport = registry.trust
    out = [p for p in report.provenance if p.status != ALLOWED]
    ours = [p for p in out if p.distribution and normalize_name(p.distribution) == normalize_name(own_distribution)]
    listed = ", ".join(f"{p.plugin} ({p.status}: {p.reason})" for p in out)
    if report.mode == OPEN_MODE:
        loaded = (
            ", ".join(sorted({p.distribution or p.plugin for p in report.provenance if p.status == ALLOWED})) or "none"
        )
        detail = f"open mode: every installed plugin loads ({loaded}); pin them with `azure-appconfig plugins pin`"
        if not out:
            return "ok", detail
        return ("invalid" if report.refused else "warning"), f"{detail}; not loaded: {listed}"
    head = report.mode_text
    if ours:
        return (
            "invalid",
            f"{head}: this package is not loaded: {ours[0].reason}; add the line `azure-appconfig plugins pin` prints",
        )
    problems = list(report.notices)
    if out:
        problems.append(f"not loaded: {listed}")
    if report.refused:
        return "invalid", f"{head}: " + "; ".join(problems)
    if problems:
        return "warning", f"{head}: " + "; ".join(problems)
    return "ok", f"{head}: every installed plugin is allowed"
