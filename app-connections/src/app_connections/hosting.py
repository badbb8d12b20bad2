"""What any ``app_connections`` host needs, whether it uses our loader or its own copy of the
hookspecs: the catalog the registrars fill, per-plugin failure isolation that still runs every
hook through pluggy, the contract-version check, and running a validation.

Import-light (standard library and pluggy only); ``loader.py`` adds entry-point discovery and the
blocklist on top of it. A host with its own hookspec module (same project name) does::

    pm = pluggy.PluginManager("app_connections"); pm.add_hookspecs(my_hostspec)
    catalog = Catalog()
    for name, plugin in my_plugins:
        register_plugin(pm, plugin, name, catalog)
    collect(pm, catalog)                       # runs the three register_* hooks through pm.hook
    report = run_validation(pm.hook.validate_connection, catalog.types[slug], method, data)

How isolation works with pluggy: ``register_plugin`` registers a *guarded view* of the plugin,
whose hook implementations are the plugin's own functions wrapped (same names, same hookimpl
options, same signatures through ``__wrapped__``). pluggy therefore orders and calls them as
usual (``tryfirst``/``trylast``, ``wrapper=True`` and old-style ``hookwrapper``), in one
``pm.hook.<name>(...)`` call; the guard only catches what the plugin's own code raises, reports it
against that plugin, and lets the call go on (a failed ``validate_connection`` becomes a failed
check named ``plugin:<name>``; a failed registration hook a ``PluginFailure``). The guard also
tells the registrar which plugin is registering, so registrations are attributed to their plugin.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import hostspec
from .frozen import _Frozen
from .jsontypes import JSONInput, JSONObject
from .registrars import (
    AuthMethodRegistrar,
    ConnectionTypeRegistrar,
    SecretSyncDestination,
    SecretSyncRegistrar,
    _Registrar,
)

if TYPE_CHECKING:
    import pluggy

    from .auth_method import AuthMethod
    from .records import ConnectionType
    from .reports import Check, ValidationReport

REGISTRATION_HOOKS = ("register_connection_types", "register_auth_methods", "register_secret_syncs")


class PluginFailure(_Frozen):
    """A plugin that failed: ``stage`` is ``load``, ``contract``, ``register``, ``duplicate``, ``wrapper``
    or ``trust`` (a loader refused it: not allowed, or a pin failed)."""

    __slots__ = ("plugin", "stage", "error", "distribution")
    _fields = __slots__
    plugin: str
    stage: str
    error: str
    distribution: str | None

    def __init__(self, plugin: str, stage: str, error: str, distribution: str | None = None) -> None:
        self._init(plugin=plugin, stage=stage, error=error, distribution=distribution)

    def to_dict(self) -> JSONObject:
        """The failure as JSON."""
        return {"plugin": self.plugin, "stage": self.stage, "error": self.error, "distribution": self.distribution}


class Provider(_Frozen):
    """Which plugin (and distribution) provided a connection type or sync destination."""

    __slots__ = ("plugin", "distribution")
    _fields = __slots__
    plugin: str
    distribution: str | None

    def __init__(self, plugin: str, distribution: str | None = None) -> None:
        self._init(plugin=plugin, distribution=distribution)


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, bounded, one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


class Catalog:
    """What the registration hooks produced: connection types (with added auth methods merged
    in), sync destinations, who provided each, and every plugin failure. It is the sink of the
    typed registrars (``type_registrar()``, ``method_registrar()``, ``sync_registrar()``)."""

    def __init__(self) -> None:
        self.types: dict[str, ConnectionType] = {}
        self.providers: dict[str, Provider] = {}
        self.method_providers: dict[tuple[str, str], Provider] = {}
        """(type slug, method slug) -> the plugin that added the method through ``register_auth_methods``
        (a method that came with its connection type is the type's provider's)."""
        self.syncs: dict[str, SecretSyncDestination] = {}
        self.sync_providers: dict[str, Provider] = {}
        self.failures: list[PluginFailure] = []
        self.distributions: dict[str, str | None] = {}
        self.type_owners: dict[str, str] = {}
        """Connection type slug -> the (normalised) distribution the host named its only owner; set
        by a loader before ``collect`` (our loader: ``:owns=<slug>`` in the allow-list)."""
        self.contested: dict[str, list[Provider]] = {}
        """Slugs registered by more than one owner and no owner named: used by none of them."""
        """Plugin name -> distribution, in the order plugins were registered."""
        self._pending: list[tuple[str | None, Callable[[], None]]] = []
        self.deferred = False
        """While True (during ``collect``), registrations wait for ``settle()``, which applies them in
        plugin registration order, so the first-registered plugin keeps a contested slug whatever
        order pluggy calls the implementations in (``tryfirst`` cannot steal a slug)."""

    def fail(self, plugin: str | None, stage: str, error: str) -> None:
        """Record that ``plugin`` failed at ``stage`` with ``error``."""
        name = plugin or "(unknown plugin)"
        self.failures.append(PluginFailure(name, stage, error, self.distributions.get(name)))

    # --- the registrars' sink -------------------------------------------------------------------

    def _defer(self, plugin: str | None, apply: Callable[[], None]) -> None:
        if self.deferred:
            self._pending.append((plugin, apply))
        else:
            apply()

    def settle(self) -> None:
        """Apply the deferred registrations in plugin registration order."""
        order = {name: i for i, name in enumerate(self.distributions)}
        pending, self._pending = self._pending, []
        for _, apply in sorted(pending, key=lambda item: order.get(item[0] or "", len(order))):
            apply()

    def add_connection_type(self, connection_type: ConnectionType, plugin: str | None) -> None:
        """Register ``connection_type`` for ``plugin`` (checked when the plugin's hook returns)."""
        self._defer(plugin, lambda: self._add_type(connection_type, plugin))

    def add_auth_method(self, type_slug: str, method: AuthMethod, plugin: str | None) -> None:
        """Register ``method`` on the type ``type_slug`` for ``plugin``."""
        self._defer(plugin, lambda: self._add_method(type_slug, method, plugin))

    def add_secret_sync(self, destination: SecretSyncDestination, plugin: str | None) -> None:
        """Register the sync ``destination`` for ``plugin``."""
        self._defer(plugin, lambda: self._add_sync(destination, plugin))

    def _add_type(self, connection_type: ConnectionType, plugin: str | None) -> None:
        """A slug belongs to one owner: the one the host named, else the only one registering it
        (two owners: neither is used, whatever the order). An owner registering it twice keeps its first."""
        slug = connection_type.slug
        provider = Provider(plugin or "(unknown plugin)", self.distributions.get(plugin or ""))
        named = self.type_owners.get(slug)
        if named is not None and _owner_key(provider) != ("distribution", named):
            self.fail(plugin, "duplicate", f"connection type {slug!r} belongs to {named} (its named owner); ignored")
            return
        if slug in self.contested:
            self.contested[slug].append(provider)
            self.fail(plugin, "duplicate", _contested_error(slug, self.contested[slug]))
            return
        if slug in self.types:
            first = self.providers[slug]
            if _owner_key(first) == _owner_key(provider):
                self.fail(
                    plugin, "duplicate", f"connection type {slug!r} is already registered by {first.plugin!r}; ignored"
                )
                return
            del self.types[slug], self.providers[slug]  # a second owner: the type is nobody's
            self.contested[slug] = [first, provider]
            error = _contested_error(slug, self.contested[slug])
            self.fail(first.plugin, "duplicate", error)
            self.fail(plugin, "duplicate", error)
            return
        self.types[slug] = connection_type
        self.providers[slug] = provider

    def _add_method(self, type_slug: str, method: AuthMethod, plugin: str | None) -> None:
        if type_slug not in self.types:
            self.fail(plugin, "register", f"no connection type {type_slug!r} to add method to")
            return
        try:
            self.types[type_slug] = self.types[type_slug].with_method(method)
        except (ValueError, AttributeError) as exc:
            self.fail(plugin, "duplicate", str(exc))
            return
        self.method_providers[(type_slug, method.slug)] = Provider(
            plugin or "(unknown plugin)", self.distributions.get(plugin or "")
        )

    def _add_sync(self, destination: SecretSyncDestination, plugin: str | None) -> None:
        slug = destination.slug
        if slug in self.syncs:
            owner = self.sync_providers[slug].plugin
            self.fail(plugin, "duplicate", f"sync destination {slug!r} is already registered by {owner!r}; ignored")
            return
        if destination.connection_type not in self.types:
            self.fail(
                plugin,
                "register",
                f"sync destination {slug!r} needs connection type "
                f"{destination.connection_type!r}, which is not registered",
            )
            return
        self.syncs[slug] = destination
        self.sync_providers[slug] = Provider(plugin or "(unknown plugin)", self.distributions.get(plugin or ""))

    def type_registrar(self) -> ConnectionTypeRegistrar:
        """The registrar ``register_connection_types`` hooks receive."""
        return ConnectionTypeRegistrar(self)

    def method_registrar(self) -> AuthMethodRegistrar:
        """The registrar ``register_auth_methods`` hooks receive."""
        return AuthMethodRegistrar(self)

    def sync_registrar(self) -> SecretSyncRegistrar:
        """The registrar ``register_secret_syncs`` hooks receive."""
        return SecretSyncRegistrar(self)


def _owner_key(provider: Provider) -> tuple[str, str]:
    """Who owns what a plugin registers: its distribution (normalised), else the plugin itself."""
    if provider.distribution:
        return ("distribution", re.sub(r"[-_.]+", "-", provider.distribution).lower())
    return ("plugin", provider.plugin)


def _contested_error(slug: str, providers: list[Provider]) -> str:
    who = " and ".join(f"{p.plugin!r}" + (f" ({p.distribution})" if p.distribution else "") for p in providers)
    return (
        f"connection type {slug!r} is registered by {who}: a type has one owner, so none of them is used; "
        f"name its owner in the allow-list (<distribution>:owns={slug})"
    )


# --- contract version ---------------------------------------------------------------------------


def contract_problem(plugin: object, host_contract: str = hostspec.CONTRACT_VERSION) -> str | None:
    """Why ``plugin`` is incompatible with a host implementing ``host_contract``, or None.
    A plugin declares its version as ``APP_CONNECTIONS_CONTRACT = "major.minor"``."""
    declared = getattr(plugin, hostspec.CONTRACT_ATTRIBUTE, None)
    if declared is None:
        return None
    if not isinstance(declared, str) or not declared.split(".")[0].isdigit():
        return f"{hostspec.CONTRACT_ATTRIBUTE} must be a version string such as '1.1', not {declared!r}"
    if declared.split(".")[0] != host_contract.split(".")[0]:
        return (
            f"plugin is built for app_connections contract {declared}, but this host implements contract "
            f"{host_contract} (major versions differ)"
        )
    return None


# --- isolation ------------------------------------------------------------------------------------

FailureHandler = Callable[[str, str, BaseException], "list[Check] | None"]
"""``on_failure(plugin, hook_name, exc)``: records the failure; returns a result to use in place of
the failed implementation's (e.g. a failed check), or None."""


class GuardedPlugin:
    """The view of a plugin that is registered with pluggy: its hook implementations, guarded."""

    def __init__(self, plugin: object, name: str) -> None:
        self.__wrapped__ = plugin
        self._name = name

    def __repr__(self) -> str:
        return f"<guarded plugin {self._name!r}: {self.__wrapped__!r}>"

    def __dir__(self) -> list[str]:
        """The guarded hook implementations only: what ``pm.register`` looks through (pluggy inspects
        every name ``dir`` lists statically, and the ~30 inherited ones cost ~0.5 ms per plugin)."""
        return [attr for attr in vars(self) if attr not in ("__wrapped__", "_name")]


def _registrar_in(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> _Registrar | None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, _Registrar):
            return value
    return None


def _guard_plain(fn: Callable[..., Any], hook: str, plugin: str, on_failure: FailureHandler) -> Callable[..., Any]:
    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        registrar = _registrar_in(args, kwargs)
        previous = registrar.plugin if registrar is not None else None
        if registrar is not None:
            registrar.plugin = plugin
        try:
            result = fn(*args, **kwargs)
            if hook == "validate_connection" and result is not None:  # a bad return value is this plugin's fault too
                from .reports import as_check

                result = [as_check(check) for check in result]
            return result
        except Exception as exc:
            return on_failure(plugin, hook, exc)
        finally:
            if registrar is not None:
                registrar.plugin = previous

    return guarded


def _guard_wrapper(fn: Callable[..., Any], hook: str, plugin: str, on_failure: FailureHandler) -> Callable[..., Any]:
    """A wrapper's own exceptions (before or after its ``yield``) and breaches of the wrapper
    protocol (returning before its ``yield``, yielding twice) are reported against it and the call
    goes on with the inner outcome; exceptions from inside the call pass through it as usual."""

    def broken(what: str) -> RuntimeError:
        return RuntimeError(f"wrapper of plugin {plugin!r} {what}")

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        gen = fn(*args, **kwargs)
        try:
            first = next(gen)
        except StopIteration:  # returned before its yield: the call goes on without it
            extra = on_failure(plugin, hook, broken("did not yield"))
            return _with_extra((yield), extra)
        except Exception as exc:  # failed before its yield: the call goes on without it, its failure reported
            extra = on_failure(plugin, hook, exc)
            return _with_extra((yield), extra)
        try:
            inner = yield first
        except BaseException as raised:  # new-style wrappers: the inner exception is thrown in
            try:
                gen.throw(raised)
            except StopIteration as stop:  # the wrapper handled it: its result is the outcome
                return stop.value
            except BaseException as out:
                if out is raised or not isinstance(out, Exception):
                    raise
                on_failure(plugin, hook, out)  # its own error while handling: reported; the inner one goes on
            else:
                gen.close()
                on_failure(plugin, hook, broken("yielded twice"))
            raise
        try:
            gen.send(inner)
        except StopIteration as stop:
            return stop.value
        except Exception as exc:
            return _with_extra(inner, on_failure(plugin, hook, exc))
        gen.close()
        return _with_extra(inner, on_failure(plugin, hook, broken("yielded twice")))

    return guarded


def _with_extra(inner: Any, extra: Any) -> Any:
    """The call's outcome with a failed wrapper's report (``validate_connection``: its failed check) added."""
    if extra and isinstance(inner, list):  # new-style wrapper: the outcome is the result list
        return [*inner, extra]
    if extra and callable(getattr(inner, "force_result", None)):  # old-style: a pluggy Result
        inner.force_result([*inner.get_result(), extra])
    return inner


def isolate(pm: pluggy.PluginManager, plugin: object, name: str, on_failure: FailureHandler) -> GuardedPlugin:
    """The guarded view of ``plugin`` to register with ``pm`` (see the module docstring)."""
    view = GuardedPlugin(plugin, name)
    for attr in dir(plugin):
        opts = pm.parse_hookimpl_opts(plugin, attr)
        if opts is None:
            continue
        fn = getattr(plugin, attr)
        if opts.get("hookwrapper") or opts.get("wrapper"):
            guarded = _guard_wrapper(fn, attr, name, on_failure)
        else:
            guarded = _guard_plain(fn, attr, name, on_failure)
        setattr(view, attr, guarded)
    return view


def failed_plugin_check(plugin: str, exc: BaseException) -> Check:
    """The failed check that stands for a ``validate_connection`` implementation that raised."""
    from .reports import Check, CheckStatus

    return Check(
        f"plugin:{plugin}",
        CheckStatus.FAILED,
        f"validator raised {describe(exc)}",
        "Report this to the plugin's authors; the other checks are unaffected.",
    )


def failure_handler(catalog: Catalog) -> FailureHandler:
    """Registration hooks: a ``PluginFailure``. ``validate_connection``: a failed check named after
    the plugin, in place of the implementation's checks."""

    def on_failure(plugin: str, hook: str, exc: BaseException) -> list[Check] | None:
        if hook == "validate_connection":
            return [failed_plugin_check(plugin, exc)]
        catalog.fail(plugin, "register" if hook in REGISTRATION_HOOKS else "wrapper", describe(exc))
        return None

    return on_failure


def register_plugin(
    pm: pluggy.PluginManager,
    plugin: object,
    name: str,
    catalog: Catalog,
    *,
    distribution: str | None = None,
    host_contract: str = hostspec.CONTRACT_VERSION,
) -> bool:
    """Check the plugin's contract version, register its guarded view, and ``check_pending()``.
    Every problem is a ``PluginFailure`` in ``catalog``; returns True when the plugin is in."""
    catalog.distributions.setdefault(name, distribution)
    problem = contract_problem(plugin, host_contract)
    if problem:
        catalog.fail(name, "contract", problem)
        return False
    if pm.get_plugin(name) is not None:
        catalog.fail(name, "duplicate", f"a plugin named {name!r} is already loaded")
        return False
    try:
        pm.register(isolate(pm, plugin, name, failure_handler(catalog)), name=name)
        pm.check_pending()
    except Exception as exc:  # PluginValidationError: bad or misspelled hookimpl
        if pm.get_plugin(name) is not None:
            pm.unregister(name=name)
        catalog.fail(name, "contract", describe(exc))
        return False
    return True


def collect(pm: pluggy.PluginManager, catalog: Catalog) -> Catalog:
    """Run the registration hooks through ``pm.hook`` with typed registrars: types, then auth
    methods (merged into their types), then sync destinations. Hooks the host did not declare
    are skipped."""
    registrars = (catalog.type_registrar(), catalog.method_registrar(), catalog.sync_registrar())
    for hook_name, registrar in zip(REGISTRATION_HOOKS, registrars, strict=True):
        caller = getattr(pm.hook, hook_name, None)
        if caller is None or getattr(caller, "spec", None) is None:  # the host declares no such hook
            continue
        catalog.deferred = True
        try:
            caller(register=registrar)
        except Exception as exc:  # only an unguarded plugin (registered without register_plugin) gets here
            catalog.fail(registrar.plugin, "register", describe(exc))
        finally:
            catalog.deferred = False
            catalog.settle()
    return catalog


# --- validation ------------------------------------------------------------------------------------


def _method_of(data: object) -> str | None:
    value = data.get("method") if isinstance(data, Mapping) else getattr(data, "method", None)
    return value if isinstance(value, str) else None


def run_validation(
    hook: Callable[..., Iterable[Iterable[Check | JSONInput] | None] | None],
    connection_type: ConnectionType,
    method: str | None,
    data: object,
    *,
    endpoint: str | None = None,
    **options: object,
) -> ValidationReport:
    """Validate ``data`` (form input, stored credentials or a record) of ``connection_type`` by
    calling ``hook(request=...)`` once (normally ``pm.hook.validate_connection``); returns the
    ``ValidationReport`` (checks added to the request first, then the returned ones in call order)."""
    from .reports import ValidationReport, ValidationRequest, as_check

    request = ValidationRequest(
        connection_type.slug,
        method or _method_of(data),
        None,
        endpoint,
        connection=connection_type,
        data=data,
        options=dict(options),
    )
    results = hook(request=request) or []
    returned = [as_check(check) for result in results if result is not None for check in result]
    return ValidationReport(request.checks + tuple(returned), request.credentials, request.token_credential)
