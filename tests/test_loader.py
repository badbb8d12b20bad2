"""The reference loader: discovery, isolation of broken plugins, duplicates, blocklist, hooks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from types import ModuleType, SimpleNamespace
from typing import Any

import pluggy
import pytest

from app_connections import hostspec
from app_connections.loader import BLOCKLIST_ENV, load_plugins
from app_connections.policy import HostPolicy
from app_connections.records import ConnectionType
from app_connections.reports import Check
from azure_appconfig_plugin import plugin
from builtin import BUILTIN_METHODS

SLUG = "azure-app-configuration"


def module(name: str, source: str) -> ModuleType:
    mod = ModuleType(name)
    exec(textwrap.dedent(source), mod.__dict__)
    return mod


def test_discovers_our_plugin_through_its_real_entry_point() -> None:
    registry = load_plugins(env={})
    assert registry.providers[SLUG].distribution == "azure-appconfig-plugin"
    assert registry.providers[SLUG].plugin == "azure-app-configuration"
    ct = registry.get(SLUG)
    acts_as_host = ["workload-identity", "managed-identity"]  # off under the default (library) policy
    assert (ct.slug, ct.name, list(ct.methods)) == (
        SLUG,
        "Azure App Configuration",
        [m for m in BUILTIN_METHODS if m not in acts_as_host],
    )
    assert list(load_plugins(env={}, policy=HostPolicy.operator()).get(SLUG).methods) == BUILTIN_METHODS
    assert [s.env_var for s in ct.settings] == [
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_ID",
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_SECRET",
        "SITE_URL",
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_URL",  # optional: several replicas
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_REDIS_ENCRYPTION_KEY",
    ]
    assert not registry.failures


def test_a_broken_plugin_is_reported_and_the_rest_still_load(plugin_distributions: Any) -> None:
    plugin_distributions(
        "broken-plugin",
        entry_points={"app_connections": {"broken": "broken_plugin_mod"}},
        modules_src={"broken_plugin_mod.py": "raise ImportError('needs libfoo')\n"},
    )
    registry = load_plugins(env={})
    assert SLUG in registry.types
    failure = next(f for f in registry.failures if f.plugin == "broken")
    assert failure.stage == "load" and "needs libfoo" in failure.error and failure.distribution == "broken-plugin"


def test_a_plugin_whose_hook_raises_is_reported() -> None:
    bad = module(
        "bad",
        """
        from app_connections.hostspec import hookimpl
        @hookimpl
        def register_connection_types(register):
            raise RuntimeError("boom")
    """,
    )
    registry = load_plugins(plugins=[("bad", bad)], env={})
    assert SLUG in registry.types
    assert [(f.plugin, f.stage) for f in registry.failures] == [("bad", "register")]


def test_misspelled_hookimpl_fails_loudly() -> None:
    typo = module(
        "typo",
        """
        from app_connections.hostspec import hookimpl
        @hookimpl
        def register_conection_types(register):
            pass
    """,
    )
    registry = load_plugins(plugins=[("typo", typo)], env={})
    failure = registry.failures[0]
    assert failure.stage == "contract" and "register_conection_types" in failure.error
    assert registry.pm.get_plugin("typo") is None


def test_wrong_hook_arguments_are_rejected() -> None:
    wrong = module(
        "wrong",
        """
        from app_connections.hostspec import hookimpl
        @hookimpl
        def register_connection_types(registrar):
            pass
    """,
    )
    registry = load_plugins(plugins=[("wrong", wrong)], env={})
    assert registry.failures[0].stage == "contract"


def test_a_contested_slug_is_nobodys() -> None:
    dup = module(
        "dup",
        """
        from app_connections.hostspec import hookimpl
        from app_connections.records import ConnectionType
        @hookimpl
        def register_connection_types(register):
            register.add(ConnectionType(slug="azure-app-configuration", name="Impostor", methods={}))
    """,
    )
    registry = load_plugins(plugins=[("dup", dup)], env={})
    assert SLUG not in registry.types  # never "first wins": the impostor does not get it, nor do we
    errors: dict[str, tuple[str, str]] = {}
    for f in registry.failures:  # (our sync destination then fails too: it needs the type)
        errors.setdefault(f.plugin, (f.stage, f.error))
    expected = (
        "duplicate",
        f"connection type {SLUG!r} is registered by 'azure-app-configuration' (azure-appconfig-plugin) and "
        "'dup': a type has one owner, so none of them is used; name its owner in the allow-list "
        f"(<distribution>:owns={SLUG})",
    )
    assert errors["dup"] == errors["azure-app-configuration"] == expected


@pytest.mark.parametrize(
    "blocked", ["azure-app-configuration", "azure-appconfig-plugin", " other , azure-app-configuration "]
)
def test_blocklist(blocked: str) -> None:
    registry = load_plugins(env={BLOCKLIST_ENV: blocked})
    assert SLUG not in registry.types and "azure-app-configuration" in registry.blocked


def test_auth_methods_from_other_plugins() -> None:
    extra = module(
        "extra",
        """
        from app_connections.hostspec import hookimpl
        from app_connections.records import AuthMethod
        class M(AuthMethod):
            slug = "device-code"; name = "Device code"
            def input_schema(self): return {"type": "object"}
            def parse(self, data): return data
            def token_credential(self, c, *, on_rotate=None): raise NotImplementedError
        class Dup(M):
            slug = "oauth"
        @hookimpl
        def register_auth_methods(register):
            register.add("azure-app-configuration", M())
            register.add("azure-app-configuration", Dup())
            register.add("no-such-type", M())
    """,
    )
    registry = load_plugins(plugins=[("extra", extra)], env={}, policy=HostPolicy.operator())
    assert list(registry.get(SLUG).methods) == [*BUILTIN_METHODS, "device-code"]
    stages = sorted((f.stage, f.error.split(";")[0]) for f in registry.failures)
    assert stages == [
        ("duplicate", "'azure-app-configuration' already has an auth method 'oauth'"),
        ("register", "no connection type 'no-such-type' to add method to"),
    ]


def test_validate_connection_hooks_all_run_and_a_raising_one_is_contained() -> None:
    checks = module(
        "checks",
        """
        from app_connections.hostspec import hookimpl
        from app_connections.reports import Check
        @hookimpl
        def validate_connection(request):
            return [Check("policy: one", "ok", f"saw {request.connection_type}/{request.method}")]
    """,
    )
    raising = module(
        "raising",
        """
        from app_connections.hostspec import hookimpl
        @hookimpl
        def validate_connection(request):
            raise ValueError("policy engine down")
    """,
    )
    registry = load_plugins(plugins=[("checks", checks), ("raising", raising)], env={})
    report = registry.validate(SLUG, "client-secret", {"tenantId": "bad tenant"})
    names = {c.name: c for c in report.checks}
    assert names["policy: one"].detail == "saw azure-app-configuration/client-secret"
    assert names["plugin:raising"].status.value == "failed" and "policy engine down" in names["plugin:raising"].detail
    assert names["input"].status.value == "failed"


def test_a_host_with_its_own_hookspec_loads_our_plugin_unchanged() -> None:
    spec = pluggy.HookspecMarker("app_connections")

    class HostSpec:
        @spec
        def register_connection_types(self, register):  # type: ignore[no-untyped-def]  # a 1.0-style plugin, untyped on purpose
            """The host's own copy of the contract."""

    pm = pluggy.PluginManager("app_connections")
    pm.add_hookspecs(HostSpec)
    pm.register(plugin)
    pm.check_pending()
    found: list[ConnectionType] = []
    pm.hook.register_connection_types(register=SimpleNamespace(add=found.append))
    assert [t.slug for t in found] == [SLUG]


def test_each_load_builds_a_fresh_plugin_manager() -> None:
    a, b = load_plugins(env={}), load_plugins(env={})
    assert a.pm is not b.pm and a.types[SLUG] is not b.types[SLUG]


def test_unknown_type_is_a_clear_error() -> None:
    from app_connections.loader import UnknownConnectionType

    with pytest.raises(UnknownConnectionType, match="installed: azure-app-configuration"):
        load_plugins(env={}).get("aws-parameter-store")


def test_registration_is_import_light() -> None:
    code = textwrap.dedent("""
        import sys
        from app_connections.loader import load_plugins
        registry = load_plugins(env={})
        ct = registry.get("azure-app-configuration")
        for m in ct.methods.values():
            m.input_schema()
        roots = ("msal", "azure", "requests", "urllib3", "cryptography", "jwt", "aiohttp", "asyncio", "redis")
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in roots)
        print(",".join(heavy))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_registration_compiles_no_text_pattern_until_text_is_cleaned() -> None:
    # Compiling app_connections.text's patterns at import was 1.4 ms of registration (about a quarter).
    code = textwrap.dedent("""
        import sys
        from importlib.metadata import entry_points
        from types import SimpleNamespace
        found = []
        for ep in entry_points(group="app_connections"):
            ep.load().register_connection_types(SimpleNamespace(add=found.append))
        from app_connections import text
        lazy = [v for v in vars(text).values() if isinstance(v, text._Lazy)]
        print(len(found), len(lazy), sum(p._compiled is not None for p in lazy), "unicodedata" in sys.modules)
        assert text.redact_secrets("https://u:p@h/?sig=abc\\x1b[2J") == "https://***@h/?sig=***"
        assert text.looks_secret("Endpoint=https://x;Secret=y")
        assert text.holds_private_key("-----BEGIN PRIVATE KEY-----")
        print(sum(p._compiled is not None for p in lazy))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, after = result.stdout.split("\n")[:2]
    assert first == "1 8 0 False"
    assert int(after) >= 4  # compiled on first use, and still working


def test_hostspec_is_the_contract() -> None:
    assert hostspec.PROJECT_NAME == "app_connections"
    names = {n for n in dir(hostspec) if n.startswith(("register_", "validate_"))}
    assert names == {
        "register_connection_types",
        "register_auth_methods",
        "register_secret_syncs",
        "validate_connection",
    }
    assert isinstance(Check("a", "ok", "b"), Check)


def test_a_bare_pluggy_host_loading_us_imports_no_attrs_or_sdk() -> None:
    # Keeps the start-up budget honest: attrs alone costs more than 10 ms to import here.
    code = textwrap.dedent("""
        import sys, pluggy
        from importlib.metadata import entry_points
        spec = pluggy.HookspecMarker("app_connections")
        class Spec:
            @spec
            def register_connection_types(self, register): pass
        pm = pluggy.PluginManager("app_connections"); pm.add_hookspecs(Spec)
        for ep in entry_points(group="app_connections"):
            pm.register(ep.load(), name=ep.name)
        from types import SimpleNamespace
        found = []
        pm.hook.register_connection_types(register=SimpleNamespace(add=found.append))
        assert [t.slug for t in found] == ["azure-app-configuration"]
        roots = ("attr", "attrs", "msal", "azure", "requests", "urllib3")
        print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in roots)))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
