"""Contract v1: the lifecycle on ConnectionType for every method, a host with a copied hookspec
module, hooks through pluggy (wrappers, tryfirst, isolation), sync registrar, contract version."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
import pytest

from app_connections.hostspec import CONTRACT_VERSION
from app_connections.loader import load_plugins
from app_connections.policy import HostPolicy
from app_connections.records import is_interactive
from app_connections.registrars import InteractiveAuthMethod
from app_connections.testing import fakes
from azure_appconfig_plugin import plugin as our_plugin
from azure_appconfig_plugin.errors import InvalidInput
from builtin import BUILTIN_METHODS

sys.path.insert(0, str(Path(__file__).parent / "example_extension"))
import appconfig_policy_example as example

from cassettes_auth import OAUTH_TOKENS

SLUG = "azure-app-configuration"


def module(name: str, source: str) -> ModuleType:
    mod = ModuleType(name)
    exec(textwrap.dedent(source), mod.__dict__)
    return mod


@pytest.fixture
def registry() -> Any:
    return load_plugins(plugins=[("policy-example", example)], env={})


# --- lifecycle round trip, every method ---------------------------------------------------------------


def test_client_secret_lifecycle(registry: Any, azure_vcr: Any) -> None:
    ct = registry.get(SLUG)
    assert not ct.is_interactive("client-secret")
    creds = ct.parse(
        "client-secret",
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary-lifecycle-secret"},
    )
    stored = creds.to_dict()
    loaded = ct.load(stored)
    assert loaded == creds
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        assert ct.token_credential(loaded).get_token("https://azconfig.io/.default").token == fakes.FAKE_ACCESS_TOKEN
        report = registry.validate(SLUG, None, stored)
    assert report.ok and report.credentials == creds


def test_oauth_lifecycle(
    registry: Any, azure_vcr: Any, fake_instance_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app_connections.flow_store import InMemoryFlowStore

    ct = registry.get(SLUG)
    method = ct.methods["oauth"]
    assert ct.is_interactive("oauth") and is_interactive(method) and isinstance(method, InteractiveAuthMethod)
    form = ct.parse("oauth", {"tenantId": fakes.FAKE_TENANT_ID})
    with pytest.raises(InvalidInput, match="begin\\(\\) needs the record"):
        ct.begin("oauth", {"tenantId": fakes.FAKE_TENANT_ID})
    flows = InMemoryFlowStore()
    tokens = iter(OAUTH_TOKENS * 2)
    request = ct.begin(
        "oauth", form, settings=fake_instance_settings, flow_store=flows, token_factory=lambda: next(tokens)
    )
    with azure_vcr.use_cassette("oauth_complete_tenant.yaml"):
        creds = ct.complete(
            "oauth", {"code": "fake-code", "state": request.state}, settings=fake_instance_settings, flow_store=flows
        )
    loaded = ct.load(creds.to_dict())
    assert loaded == creds
    token = ct.token_credential(loaded, settings=fake_instance_settings).get_token("https://azconfig.io/.default")
    assert token.token  # the stored access token is still fresh: no request
    with pytest.raises(InvalidInput, match="OAuthCredentials, not OAuthInput"):
        ct.token_credential(form)


def test_example_extension_lifecycle(registry: Any) -> None:
    ct = registry.get(SLUG)
    expires = int(time.time()) + 600
    creds = ct.parse("static-token", {"accessToken": "fake-access-token", "expiresOn": expires})
    loaded = ct.load(creds.to_dict())
    assert loaded == creds and not ct.is_interactive("static-token")
    assert ct.token_credential(loaded).get_token("https://azconfig.io/.default").token == "fake-access-token"
    report = registry.validate(SLUG, None, creds.to_dict())
    assert {c.name: c.status.value for c in report.checks}["token"] == "ok"
    token = next(c for c in report.checks if c.name == "token")
    assert "a token obtained elsewhere" in token.detail and "login.microsoftonline.com" not in token.detail


@pytest.mark.parametrize("bad", [{"method": "client-secret"}, "text", None])
def test_dicts_and_wrong_records_are_invalid_input(registry: Any, bad: Any) -> None:
    ct = registry.get(SLUG)
    with pytest.raises(InvalidInput):
        ct.token_credential(bad)
    with pytest.raises(InvalidInput):
        ct.begin("client-secret", bad)
    if not isinstance(bad, dict):
        with pytest.raises(InvalidInput):
            ct.load(bad)


# --- a host with its own copy of the hookspecs -------------------------------------------------------

COPIED_HOSTSPEC = """
import pluggy
CONTRACT_VERSION = "3.0"
hookspec = pluggy.HookspecMarker("app_connections")

@hookspec
def register_connection_types(register): ...
@hookspec
def register_auth_methods(register): ...
@hookspec
def register_secret_syncs(register): ...
@hookspec
def validate_connection(request): ...
"""


def test_a_host_with_a_copied_hookspec_gets_what_the_reference_loader_gets(azure_vcr: Any) -> None:
    from app_connections.hosting import Catalog, collect, register_plugin, run_validation

    spec = module("host_spec", COPIED_HOSTSPEC)
    pm = pluggy.PluginManager("app_connections")
    pm.add_hookspecs(spec)
    catalog = Catalog()
    for name, plug in (("azure-app-configuration", our_plugin), ("policy-example", example)):
        assert register_plugin(pm, plug, name, catalog, host_contract=spec.CONTRACT_VERSION)
    collect(pm, catalog)
    reference = load_plugins(plugins=[("policy-example", example)], env={}, policy=HostPolicy.operator())
    assert list(catalog.types) == list(reference.types) and not catalog.failures
    ours, theirs = catalog.types[SLUG], reference.get(SLUG)
    assert list(ours.methods) == list(theirs.methods) == [*BUILTIN_METHODS, "static-token"]
    assert {s: m.input_schema() for s, m in ours.methods.items()} == {
        s: m.input_schema() for s, m in theirs.methods.items()
    }
    data = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary-host"}
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        mine = run_validation(
            pm.hook.validate_connection, ours, "client-secret", data, endpoint="https://other.azconfig.io/", env={}
        ).to_dict()
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        ref = reference.validate(SLUG, "client-secret", data, endpoint="https://other.azconfig.io/", env={}).to_dict()
    assert mine["checks"][-1]["name"] == "policy: store naming"  # plugin checks included
    assert mine == ref


def test_the_host_kit_does_not_need_the_loader() -> None:
    import subprocess

    code = textwrap.dedent(f"""
        import sys, types, pluggy
        spec = types.ModuleType("host_spec"); exec({COPIED_HOSTSPEC!r}, spec.__dict__)
        from azure_appconfig_plugin import plugin
        from app_connections.hosting import Catalog, collect, register_plugin
        pm = pluggy.PluginManager("app_connections"); pm.add_hookspecs(spec)
        catalog = Catalog()
        register_plugin(pm, plugin, "azure-app-configuration", catalog)
        collect(pm, catalog)
        assert list(catalog.types) == ["azure-app-configuration"] and not catalog.failures
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("attr", "attrs", "msal", "azure"))
        print("app_connections.loader" in sys.modules, heavy)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False []"


# --- through pluggy ---------------------------------------------------------------------------------------


def test_wrappers_tryfirst_and_isolation_of_validate_connection() -> None:
    plugins = module(
        "extra",
        """
        from app_connections.hostspec import hookimpl
        from app_connections.reports import Check
        class First:
            @hookimpl(tryfirst=True)
            def validate_connection(self, request):
                return [Check("first", "ok", "x")]
        class Last:
            @hookimpl(trylast=True)
            def validate_connection(self, request):
                return [Check("last", "ok", "saw " + ",".join(c.name for c in request.checks))]
        class Raising:
            @hookimpl
            def validate_connection(self, request):
                raise ValueError("policy engine down")
        class Garbage:
            @hookimpl
            def validate_connection(self, request):
                return [{"name": "half a check"}]
        class Wrapper:
            @hookimpl(wrapper=True)
            def validate_connection(self, request):
                results = yield
                return results + [[Check("wrapped", "ok", f"{len(results)} results")]]
        class BrokenWrapper:
            @hookimpl(wrapper=True)
            def validate_connection(self, request):
                yield
                raise RuntimeError("wrapper teardown bug")
        class BrokenOldStyle:
            @hookimpl(hookwrapper=True)
            def validate_connection(self, request):
                yield
                raise RuntimeError("old-style teardown bug")
        class EarlyBroken:
            @hookimpl(wrapper=True)
            def validate_connection(self, request):
                raise RuntimeError("set-up bug")
                yield
        class EarlyBrokenOldStyle:
            @hookimpl(hookwrapper=True)
            def validate_connection(self, request):
                raise RuntimeError("old-style set-up bug")
                yield
    """,
    )
    registry = load_plugins(
        plugins=[
            ("first", plugins.First()),
            ("last", plugins.Last()),
            ("raising", plugins.Raising()),
            ("garbage", plugins.Garbage()),
            ("wrapper", plugins.Wrapper()),
            ("broken-wrapper", plugins.BrokenWrapper()),
            ("broken-old", plugins.BrokenOldStyle()),
            ("early-broken", plugins.EarlyBroken()),
            ("early-broken-old", plugins.EarlyBrokenOldStyle()),
        ],
        env={},
    )
    report = registry.validate(SLUG, "client-secret", {"tenantId": "bad tenant"})
    names = [c.name for c in report.checks]
    assert names[0] == "input" and "wrapped" in names
    # a wrapper failing after or before its yield is reported; the call goes on without it
    broken = {"plugin:broken-wrapper", "plugin:broken-old", "plugin:early-broken", "plugin:early-broken-old"}
    assert broken <= set(names)
    early = next(c for c in report.checks if c.name == "plugin:early-broken")
    assert early.status.value == "failed" and "RuntimeError: set-up bug" in early.detail
    returned = names[names.index("token") + 1 :]
    assert returned[0] == "first" and "plugin:raising" in returned
    assert returned.index("last") < returned.index("wrapped")
    assert next(c for c in report.checks if c.name == "plugin:garbage").status.value == "failed"
    raising = next(c for c in report.checks if c.name == "plugin:raising")
    assert raising.status.value == "failed" and "ValueError: policy engine down" in raising.detail
    assert "input" in next(c for c in report.checks if c.name == "last").detail


def test_registration_wrapper_and_attribution() -> None:
    mods = module(
        "regs",
        """
        from app_connections.hostspec import hookimpl
        seen = []
        class Wrap:
            @hookimpl(wrapper=True)
            def register_connection_types(self, register):
                seen.append(type(register).__name__)
                return (yield)
        class Broken:
            @hookimpl(tryfirst=True)
            def register_connection_types(self, register):
                raise RuntimeError("boom")
        class Sync:
            slug = "azure-app-configuration-sync"
            name = "Azure App Configuration sync"
            connection_type = "azure-app-configuration"
        class Syncs:
            @hookimpl
            def register_secret_syncs(self, register):
                register.add(Sync())
                register.add(Sync())
    """,
    )
    registry = load_plugins(plugins=[("wrap", mods.Wrap()), ("broken", mods.Broken()), ("syncs", mods.Syncs())], env={})
    assert mods.seen == ["ConnectionTypeRegistrar"]
    assert SLUG in registry.types and list(registry.syncs) == [
        "azure-app-configuration",
        "azure-app-configuration-sync",
    ]  # ours, then the test plugin's
    assert sorted((f.plugin, f.stage) for f in registry.failures) == [("broken", "register"), ("syncs", "duplicate")]


@pytest.mark.parametrize(
    ("declared", "ok"), [("2.2", False), ("3.0", True), ("3.4", True), ("4.0", False), (None, True), ("x", False)]
)
def test_contract_major_version_check(declared: str | None, ok: bool) -> None:
    src = "from app_connections.hostspec import hookimpl\n@hookimpl\ndef register_auth_methods(register):\n    pass\n"
    if declared is not None:
        src = f"APP_CONNECTIONS_CONTRACT = {declared!r}\n" + src
    registry = load_plugins(plugins=[("versioned", module("versioned", src))], env={})
    failures = [f for f in registry.failures if f.plugin == "versioned"]
    assert (not failures) == ok
    if declared in ("2.2", "4.0"):
        error = failures[0].error
        assert failures[0].stage == "contract" and declared in error and CONTRACT_VERSION in error


def test_a_method_whose_class_does_not_inherit_auth_method_fails_its_plugin_naming_the_fix() -> None:
    """Contract 3.0: the optional members' defaults come from ``AuthMethod``, so a method class must
    inherit it; one that does not fails its plugin's registration, and the host goes on."""
    old = module(
        "old",
        """
        from app_connections.hostspec import hookimpl
        class M:
            slug = "legacy"; name = "Legacy"
            def input_schema(self): return {"type": "object"}
            def parse(self, data): raise AssertionError("never parsed")
            def token_credential(self, c, *, on_rotate=None): raise AssertionError("never asked")
        @hookimpl
        def register_auth_methods(register):
            register.add("azure-app-configuration", M())
    """,
    )
    registry = load_plugins(plugins=[("old", old)], env={})
    (failure,) = [f for f in registry.failures if f.plugin == "old"]
    assert failure.stage == "register" and "old.M does not inherit app_connections.records.AuthMethod" in failure.error
    assert "inherit AuthMethod (or app_connections.declared.DeclaredAuthMethod)" in failure.error
    assert "legacy" not in registry.get(SLUG).methods and "client-secret" in registry.get(SLUG).methods


def test_a_method_without_field_declarations_has_every_value_hidden_in_its_token_failure() -> None:
    """No field says which value is secret: every one but ``method`` and ``cloud`` is redacted."""
    plain = module(
        "plain_fields",
        """
        from app_connections.hostspec import hookimpl
        from app_connections.records import AuthMethod
        class Creds:
            method = "undeclared"
            def __init__(self, key): self.key = key
            def to_dict(self): return {"method": "undeclared", "apiKey": self.key, "cloud": "public"}
        class M(AuthMethod):
            slug = "undeclared"; name = "Undeclared"
            def input_schema(self): return {"type": "object"}
            def parse(self, data): return Creds(data["apiKey"])
            def token_credential(self, c, *, on_rotate=None):
                raise RuntimeError(f"the service refused key {c.key}")
        @hookimpl
        def register_auth_methods(register):
            register.add("azure-app-configuration", M())
    """,
    )
    registry = load_plugins(plugins=[("plain_fields", plain)], env={})
    report = registry.validate(SLUG, "undeclared", {"apiKey": "canary-undeclared-key-4Tq"})
    token = next(c for c in report.checks if c.name == "token")
    assert token.status.value == "failed" and "the service refused key [REDACTED]" in token.detail
    assert "canary-undeclared-key-4Tq" not in str(report.to_dict())


# --- the token stage: any exception is a failed check ---------------------------------------------------

FAILING_METHOD = """
from app_connections.fields import Field
from app_connections.hostspec import hookimpl
from app_connections.declared import DeclaredAuthMethod

class Creds:
    method = "failing"
    def __init__(self, key): self.key = key
    def to_dict(self): return {"method": "failing", "apiKey": self.key}

class Cred:
    def __init__(self, creds): self.creds = creds
    def get_token(self, *scopes, **kw):
        from azure.core.exceptions import ClientAuthenticationError
        raise ClientAuthenticationError(message=f"key {self.creds.key} was refused by the vault")

class Failing(DeclaredAuthMethod):
    slug, name, connection_type = "failing", "Failing key", "azure-app-configuration"
    identity_provider = "Example Vault"
    input_fields = (Field("apiKey", title="API key", description="A key.", required=True, secret=True),)
    def credentials_from(self, values): return Creds(values["api_key"])
    def token_credential(self, credentials, *, on_rotate=None, **_): return Cred(credentials)

@hookimpl
def register_auth_methods(register):
    register.add("azure-app-configuration", Failing())

seen = []
@hookimpl
def validate_connection(request):
    seen.append(request.token_credential)
"""


def test_a_plugin_method_s_client_authentication_error_is_a_failed_token_check() -> None:
    failing = module("failing", FAILING_METHOD)
    registry = load_plugins(plugins=[("failing", failing)], env={})
    report = registry.validate(
        SLUG, "failing", {"apiKey": "canary-api-key-77"}, endpoint="https://contoso-x.azconfig.io"
    )
    checks = {c.name: c for c in report.checks}
    token = checks["token"]
    assert token.status.value == "failed" and token.code == "ClientAuthenticationError"
    assert "ClientAuthenticationError" in token.detail and "refused by the vault" in token.detail
    assert "canary-api-key-77" not in repr(report.to_dict())
    assert [checks[n].status.value for n in ("KeyValue.Read", "KeyValue.Write", "KeyValue.Delete")] == ["skipped"] * 3
    assert report.token_credential is None and failing.seen == [None]


def test_check_texts_name_the_method_s_identity_provider(azure_vcr: Any, registry: Any) -> None:
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        report = registry.validate(
            SLUG,
            "client-secret",
            {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary"},
        )
    token = next(c for c in report.checks if c.name == "token")
    assert f"login.microsoftonline.com (tenant {fakes.FAKE_TENANT_ID})" in token.detail


def test_begin_takes_the_record_parse_returns_not_a_form(fake_instance_settings: Any) -> None:
    from app_connections.flow_store import InMemoryFlowStore
    from azure_appconfig_plugin.methods import OAuthMethod

    with pytest.raises(InvalidInput, match="needs the OAuthInput that parse") as caught:
        OAuthMethod().begin({}, settings=fake_instance_settings, flow_store=InMemoryFlowStore())
    assert caught.value.errors[0].field == "input"


IDS_FOR_OAUTH = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}


def test_token_credential_refuses_settings_of_another_type() -> None:
    from azure_appconfig_plugin.methods import OAuthMethod

    stored = {"method": "oauth", **IDS_FOR_OAUTH, "refreshToken": "fake-refresh-token"}
    creds = OAuthMethod().load(stored)
    with pytest.raises(InvalidInput, match="must be InstanceSettings") as caught:
        OAuthMethod().token_credential(creds, settings={"clientId": "x"})
    assert caught.value.errors[0].field == "settings"


def test_declared_cloud_slugs_are_the_clouds() -> None:
    from azure_appconfig_plugin.clouds import CLOUDS
    from azure_appconfig_plugin.methods.common import CLOUD, CLOUD_SLUGS

    assert CLOUD_SLUGS == tuple(CLOUDS) == CLOUD.enum


def test_registration_problems_a_plugin_author_can_cause_are_failures_not_crashes() -> None:
    mods = module(
        "author_bugs",
        """
        from app_connections.hostspec import hookimpl
        class Early:
            @hookimpl(wrapper=True)
            def register_connection_types(self, register):
                raise RuntimeError("wrapper setup bug")
                yield
        class Orphan:
            slug = "orphan-sync"
            name = "Orphan"
            connection_type = "no-such-type"
        class Syncs:
            @hookimpl
            def register_secret_syncs(self, register):
                register.add(Orphan())
        class Twin:
            @hookimpl
            def register_auth_methods(self, register):
                pass
    """,
    )
    registry = load_plugins(
        plugins=[("early", mods.Early()), ("orphan", mods.Syncs()), ("twin", mods.Twin()), ("twin", mods.Twin())],
        env={},
    )
    assert SLUG in registry.types  # the call went on without the broken wrapper
    assert list(registry.syncs) == ["azure-app-configuration"]
    failures = sorted((f.plugin, f.stage, f.error) for f in registry.failures)
    assert failures == [
        ("early", "register", "RuntimeError: wrapper setup bug"),
        (
            "orphan",
            "register",
            "sync destination 'orphan-sync' needs connection type 'no-such-type', which is not registered",
        ),
        ("twin", "duplicate", "a plugin named 'twin' is already loaded"),
    ]
