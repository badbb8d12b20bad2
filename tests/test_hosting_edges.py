"""The host kit's edges (hosting.py, registrars.py): registrars used outside the hooks, registrar
misuse by a plugin, wrappers that break pluggy's wrapper protocol, plugins a host registered
without the guard, a host that declares fewer hooks, and the lazily re-exported records."""

from __future__ import annotations

import textwrap
from types import ModuleType
from typing import Any

import pluggy
import pytest

from app_connections import hostspec
from app_connections.hosting import Catalog, collect, register_plugin
from app_connections.loader import BLOCKLIST_ENV, load_plugins, new_plugin_manager
from app_connections.records import ConnectionType
from azure_appconfig_plugin import plugin as our_plugin

SLUG = "azure-app-configuration"


def module(name: str, source: str) -> ModuleType:
    mod = ModuleType(name)
    exec(textwrap.dedent(source), mod.__dict__)
    return mod


def failures(catalog_or_registry: Any) -> list[tuple[str, str, str]]:
    return [(f.plugin, f.stage, f.error) for f in catalog_or_registry.failures]


# --- registrars ---------------------------------------------------------------------------------------


def test_a_host_registering_outside_the_hooks_is_applied_at_once() -> None:
    catalog = Catalog()
    register = catalog.type_registrar()
    register.add(ConnectionType("host-own", "Host's own", {}))
    assert list(catalog.types) == ["host-own"]  # not deferred: no collect() is running
    assert catalog.providers["host-own"].plugin == "(unknown plugin)"
    assert repr(register) == "ConnectionTypeRegistrar(plugin=None)"


REGISTRAR_MISUSE = """
from app_connections.hostspec import hookimpl
class NoSlug:
    name = "no slug"
    methods = {}
class NoMethodSlug:
    name = "x"
class NoName:
    slug = "nameless-sync"
    connection_type = "azure-app-configuration"
seen = []
@hookimpl
def register_connection_types(register):
    seen.append(repr(register))
    register.add(NoSlug())
@hookimpl
def register_auth_methods(register):
    register.add("azure-app-configuration", NoMethodSlug())
@hookimpl
def register_secret_syncs(register):
    register.add(NoName())
"""


def test_registrar_misuse_is_a_typed_failure_of_the_plugin_that_made_it() -> None:
    misuse = module("misuse", REGISTRAR_MISUSE)
    registry = load_plugins(plugins=[("misuse", misuse)], env={})
    assert misuse.seen == ["ConnectionTypeRegistrar(plugin='misuse')"]  # attributed while it registers
    got = {stage_error[2].split(",")[0] for stage_error in failures(registry)}
    assert got == {
        "TypeError: register.add() needs a ConnectionType with a slug and methods",
        "TypeError: auth method misuse.NoMethodSlug does not inherit app_connections.records.AuthMethod: "
        "its class must inherit AuthMethod (or app_connections.declared.DeclaredAuthMethod)",
        "TypeError: register.add() needs a sync destination with a name",
    }
    assert {(p, s) for p, s, _ in failures(registry)} == {("misuse", "register")}
    assert list(registry.types) == [SLUG] and list(registry.types[SLUG].methods) == list(
        load_plugins(env={}).get(SLUG).methods
    )
    assert list(registry.syncs) == [SLUG]


def test_an_in_process_plugin_on_the_blocklist_is_not_loaded() -> None:
    extra = module(
        "extra_blocked",
        """
        from app_connections.hostspec import hookimpl
        from app_connections.records import ConnectionType
        @hookimpl
        def register_connection_types(register):
            register.add(ConnectionType("extra-type", "Extra", {}))
        """,
    )
    registry = load_plugins(plugins=[("extra", extra)], env={BLOCKLIST_ENV: "extra"}, use_entry_points=False)
    assert registry.blocked == ["extra"] and registry.types == {} and not registry.failures
    assert registry.pm.get_plugin("extra") is None


# --- wrappers that break the wrapper protocol ---------------------------------------------------------

WRAPPERS = """
from app_connections.hostspec import hookimpl
from app_connections.reports import Check
class NoYield:
    @hookimpl(wrapper=True)
    def register_connection_types(self, register):
        if True:
            return None
        yield
class NoYieldOld:
    @hookimpl(hookwrapper=True)
    def register_connection_types(self, register):
        return
        yield
class TwiceAfterSend:
    @hookimpl(wrapper=True)
    def register_connection_types(self, register):
        result = yield
        yield result
class ValidatorNoYield:
    @hookimpl(wrapper=True)
    def validate_connection(self, request):
        return None
        yield
class ValidatorTwice:
    @hookimpl(wrapper=True)
    def validate_connection(self, request):
        results = yield
        yield results
"""


@pytest.mark.parametrize("wrapper", ["NoYield", "NoYieldOld", "TwiceAfterSend"])
def test_a_wrapper_breaking_the_protocol_is_reported_and_the_others_still_register(wrapper: str) -> None:
    mods = module("wrappers", WRAPPERS)
    registry = load_plugins(plugins=[("bad-wrapper", getattr(mods, wrapper)())], env={})
    assert SLUG in registry.types  # our type was registered all the same
    what = "yielded twice" if wrapper == "TwiceAfterSend" else "did not yield"
    assert failures(registry) == [("bad-wrapper", "register", f"RuntimeError: wrapper of plugin 'bad-wrapper' {what}")]


@pytest.mark.parametrize(
    ("wrapper", "what"), [("ValidatorNoYield", "did not yield"), ("ValidatorTwice", "yielded twice")]
)
def test_a_validation_wrapper_breaking_the_protocol_is_a_failed_check(wrapper: str, what: str) -> None:
    mods = module("wrappers", WRAPPERS)
    registry = load_plugins(plugins=[("bad-wrapper", getattr(mods, wrapper)())], env={})
    report = registry.validate(SLUG, "client-secret", {"tenantId": "bad tenant"})  # does not raise
    names = [c.name for c in report.checks]
    assert names[0] == "input" and "token" in names  # our checks ran
    check = next(c for c in report.checks if c.name == "plugin:bad-wrapper")
    assert check.status.value == "failed"
    assert check.detail == f"validator raised RuntimeError: wrapper of plugin 'bad-wrapper' {what}"


# --- a host that registers a plugin without the guard -------------------------------------------------

UNGUARDED = """
from app_connections.hostspec import hookimpl
class Raising:
    @hookimpl
    def register_connection_types(self, register):
        raise ValueError("unguarded bug")
class Recovering:
    @hookimpl(wrapper=True)
    def register_connection_types(self, register):
        try:
            return (yield)
        except ValueError:
            seen.append("recovered")
            return []
class PassingOn:
    @hookimpl(wrapper=True)
    def register_connection_types(self, register):
        seen.append("passing on")
        return (yield)
class Replacing:
    @hookimpl(wrapper=True)
    def register_connection_types(self, register):
        try:
            return (yield)
        except ValueError:
            raise KeyError("wrapper's own bug") from None
class Twice:
    @hookimpl(wrapper=True)
    def register_connection_types(self, register):
        try:
            yield
        except ValueError:
            yield
seen = []
"""


def _host_with_unguarded(wrapper: str) -> tuple[Catalog, ModuleType]:
    mods = module("unguarded", UNGUARDED)
    pm = new_plugin_manager()
    catalog = Catalog()
    pm.register(mods.Raising(), name="unguarded")  # the host bypassed register_plugin for this one
    assert register_plugin(pm, our_plugin, "ours", catalog)  # registered later: called before it
    assert register_plugin(pm, getattr(mods, wrapper)(), "wrapper", catalog)
    return collect(pm, catalog), mods


def test_a_wrapper_that_handles_an_unguarded_plugin_s_error_ends_the_call_normally() -> None:
    catalog, mods = _host_with_unguarded("Recovering")
    assert mods.seen == ["recovered"] and not catalog.failures
    assert SLUG in catalog.types


def test_an_unguarded_plugin_s_error_passes_through_wrappers_and_is_reported() -> None:
    catalog, mods = _host_with_unguarded("PassingOn")
    assert mods.seen == ["passing on"]
    assert failures(catalog) == [("(unknown plugin)", "register", "ValueError: unguarded bug")]


def test_a_wrapper_raising_its_own_error_on_the_way_out_is_reported_against_it() -> None:
    catalog, _ = _host_with_unguarded("Replacing")
    assert failures(catalog) == [
        ("wrapper", "register", 'KeyError: "wrapper\'s own bug"'),
        ("(unknown plugin)", "register", "ValueError: unguarded bug"),  # the inner outcome goes on
    ]


def test_a_wrapper_yielding_again_after_an_error_is_reported_against_it() -> None:
    catalog, _ = _host_with_unguarded("Twice")
    assert failures(catalog) == [
        ("wrapper", "register", "RuntimeError: wrapper of plugin 'wrapper' yielded twice"),
        ("(unknown plugin)", "register", "ValueError: unguarded bug"),
    ]


# --- a host that declares fewer hooks ---------------------------------------------------------------------

OLD_HOSTSPEC = """
import pluggy
hookspec = pluggy.HookspecMarker("app_connections")
@hookspec
def register_connection_types(register): ...
@hookspec
def register_auth_methods(register): ...
"""


def test_hooks_the_host_did_not_declare_are_skipped() -> None:
    spec = module("old_host_spec", OLD_HOSTSPEC)
    pm = pluggy.PluginManager(hostspec.PROJECT_NAME)
    pm.add_hookspecs(spec)
    catalog = Catalog()
    assert register_plugin(pm, our_plugin, "ours", catalog, host_contract="3.0")
    collect(pm, catalog)
    assert list(catalog.types) == [SLUG] and not catalog.failures
    assert catalog.syncs == {}  # register_secret_syncs is not this host's hook: not called


# --- records: readable reprs ---------------------------------------------------------------------------


def test_a_connection_type_s_repr_names_it_and_its_settings_only() -> None:
    ct = load_plugins(env={}).get(SLUG)
    text = repr(ct)
    assert text.startswith(
        "ConnectionType(slug='azure-app-configuration', name='Azure App Configuration', settings=(InstanceSetting("
    )
    assert "env_var='INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_SECRET'" in text
    assert "methods" not in text and "client_factory" not in text


POLICY = """
from app_connections.hostspec import hookimpl
from app_connections.reports import Check
@hookimpl
def validate_connection(request):
    return [Check("policy", "ok", "seen " + str(request.connection_type))]
"""


def test_a_connection_type_validates_through_the_host_s_hook_when_given_one() -> None:
    registry = load_plugins(plugins=[("policy", module("policy_plugin", POLICY))], env={})
    ct = registry.get(SLUG)
    data = {"tenantId": "bad tenant"}
    with_hook = ct.validate(data, method="client-secret", hook=registry.pm.hook.validate_connection, env={})
    own_only = ct.validate(data, method="client-secret", env={})
    assert [c.name for c in with_hook.checks][-1] == "policy"  # every plugin's checks, the type's own first
    assert "policy" not in [c.name for c in own_only.checks]
    assert [c.name for c in with_hook.checks][:-1] == [c.name for c in own_only.checks]


def test_the_registered_view_lists_only_its_guarded_hooks() -> None:
    # pluggy inspects every name dir() lists (a static lookup each); the view's inherited names cost
    # about half a millisecond per plugin at host start-up.
    from app_connections.hosting import GuardedPlugin, isolate

    pm = new_plugin_manager()
    view = isolate(pm, our_plugin, "azure-app-configuration", lambda *a: None)
    assert isinstance(view, GuardedPlugin) and view.__wrapped__ is our_plugin
    assert dir(view) == ["register_connection_types", "register_secret_syncs", "validate_connection"]
    pm.register(view, name="azure-app-configuration")
    assert {impl.function.__name__ for h in pm.get_hookcallers(view) or () for impl in h.get_hookimpls()} >= set(
        dir(view)
    )
    catalog = collect(pm, Catalog())
    assert list(catalog.types) == ["azure-app-configuration"] and not catalog.failures
