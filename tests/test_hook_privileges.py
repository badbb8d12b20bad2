"""Least privilege for hooks: a validate_connection hook from another distribution
than the one that registered the connection's type and method sees no secret and gets no token
credential, unless the host grants it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
from azure.core.credentials import AccessToken

from app_connections import trust
from app_connections.loader import UnknownConnectionType, load_plugins
from app_connections.testing import fakes, wheels
from app_connections.testing.distributions import activate, deactivate
from app_connections.trust import ALLOWLIST_ENV, CredentialsView, SecretWithheld
from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.methods import ClientSecretMethod, OAuthMethod
from azure_appconfig_plugin.methods.oauth import OAuthCredentials

SLUG = "azure-app-configuration"
CANARY = "canary-hook-secret-7Qx~"
DATA = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": CANARY}

SPY = """
from app_connections.hostspec import hookimpl
from app_connections.loader import load_plugins
SEEN = []

@hookimpl
def validate_connection(request):
    seen = {"credentials": request.credentials, "token_credential": request.token_credential}
    try:
        seen["secret"] = request.credentials.client_secret
    except AttributeError as exc:
        seen["secret_error"] = exc
    try:  # mint a token from what it was given, through the type's own factory
        ctype = load_plugins(env={}).get(request.connection_type)
        seen["minted"] = ctype.token_credential(request.credentials)
    except Exception as exc:
        seen["mint_error"] = exc
    SEEN.append(seen)
    return []
"""


class FakeTokenCredential:
    """Stands in for the token the type's own token stage obtained (no network)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("fake-access-token", 4102444800)


def spy_module(name: str = "spy") -> ModuleType:
    mod = ModuleType(name)
    exec(textwrap.dedent(SPY), mod.__dict__)
    return mod


def validate(registry: Any) -> Any:
    token = FakeTokenCredential()
    report = registry.validate(SLUG, "client-secret", DATA, token_credential=token)
    assert CANARY not in str(report.to_dict())
    return token


def test_a_foreign_hook_cannot_read_a_secret_or_mint_a_token() -> None:
    spy = spy_module()
    registry = load_plugins(plugins=[("spy", spy)], env={})
    validate(registry)
    [seen] = spy.SEEN
    view = seen["credentials"]
    assert isinstance(view, CredentialsView) and seen["token_credential"] is None
    assert "secret" not in seen and isinstance(seen["secret_error"], SecretWithheld)
    assert "withheld from this plugin" in str(seen["secret_error"]) and ":secrets" in str(seen["secret_error"])
    assert view.to_dict() == {
        "method": "client-secret",
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_CLIENT_ID,
        "cloud": "public",
    }
    assert (view.tenant_id, view.clientId, view.withheld) == (
        fakes.FAKE_TENANT_ID,
        fakes.FAKE_CLIENT_ID,
        {"clientSecret"},
    )
    assert "minted" not in seen and isinstance(seen["mint_error"], InvalidInput)
    assert CANARY not in repr(view)


def test_a_granted_hook_sees_the_secret_and_the_token_credential() -> None:
    spy = spy_module()
    registry = load_plugins(plugins=[("spy", spy)], env={}, grant_secrets={"spy"})
    token = validate(registry)
    [seen] = spy.SEEN
    assert seen["secret"] == CANARY and seen["token_credential"] is token
    assert seen["minted"] is not None and "mint_error" not in seen


def test_the_grant_is_per_plugin() -> None:
    granted, other = spy_module("granted"), spy_module("other")
    registry = load_plugins(plugins=[("granted", granted), ("other", other)], env={}, grant_secrets={"granted"})
    validate(registry)
    assert granted.SEEN[0]["secret"] == CANARY
    assert isinstance(other.SEEN[0]["secret_error"], SecretWithheld) and other.SEEN[0]["token_credential"] is None


def test_hooks_of_the_distribution_that_registered_the_type_see_everything() -> None:
    # Our own distribution's hooks (the type's registrant) keep what they need.
    own = ModuleType("own")
    exec(
        textwrap.dedent(
            SPY
            + """
from azure_appconfig_plugin.checks import run_checks
from azure_appconfig_plugin.plugin import register_connection_types
_spy = validate_connection

@hookimpl(tryfirst=True)
def validate_connection(request):  # the type's built-in checks (they parse the input), then the spy
    checks = run_checks(request)
    _spy(request)
    return checks
"""
        ),
        own.__dict__,
    )
    registry = load_plugins(plugins=[("own", own)], use_entry_points=False, env={})
    validate(registry)
    assert own.SEEN[0]["secret"] == CANARY and own.SEEN[0]["token_credential"] is not None


EXTENSION = """
from app_connections.hostspec import hookimpl
from app_connections.records import AuthMethod
SEEN = []

class Creds:
    method = "static-token"
    def __init__(self, token, account): self.token, self.account = token, account
    def to_dict(self): return {"method": self.method, "token": self.token, "account": self.account}

class StaticToken(AuthMethod):
    slug, name = "static-token", "Static token"
    def input_schema(self):
        return {"type": "object", "properties": {"account": {"type": "string"},
                "token": {"type": "string", "format": "password"}}}
    def parse(self, data): return Creds(data["token"], data["account"])
    def token_credential(self, credentials, *, on_rotate=None): raise NotImplementedError

@hookimpl
def register_auth_methods(register):
    register.add("azure-app-configuration", StaticToken())

@hookimpl
def validate_connection(request):
    SEEN.append(request.credentials)
    return []
"""


def test_the_method_registrant_sees_its_own_secrets_and_others_do_not() -> None:
    ext = ModuleType("ext")
    exec(textwrap.dedent(EXTENSION), ext.__dict__)
    spy = spy_module()
    registry = load_plugins(plugins=[("ext", ext), ("spy", spy)], env={})
    assert registry.method_providers[(SLUG, "static-token")].plugin == "ext"
    registry.validate(
        SLUG, "static-token", {"token": CANARY, "account": "acct"}, token_credential=FakeTokenCredential()
    )
    assert ext.SEEN[0].token == CANARY
    view = spy.SEEN[0]["credentials"]
    assert view.to_dict() == {"method": "static-token", "account": "acct"}
    with pytest.raises(SecretWithheld):
        _ = view.token


# --- grants through the allow-list, for installed distributions -----------------------------------


@pytest.fixture
def spy_site(tmp_path: Path) -> Iterator[Path]:
    site = tmp_path / "site"
    wheels.install(
        site,
        "acme-audit",
        "1.0",
        files={"acme_audit.py": SPY},
        entry_points={"app_connections": {"acme-audit": "acme_audit"}},
    )
    activate(site)
    yield site
    deactivate(site, ["acme_audit"])


@pytest.mark.parametrize(("grant", "sees_secret"), [("", False), (":secrets", True)])
def test_the_allow_list_grant(spy_site: Path, grant: str, sees_secret: bool) -> None:
    digest = trust.record_digest(wheels.find(spy_site, "acme-audit"))
    registry = load_plugins(env={ALLOWLIST_ENV: f"azure-appconfig-plugin,acme-audit==1.0@sha256:{digest}{grant}"})
    assert not registry.failures
    validate(registry)
    import acme_audit

    seen = acme_audit.SEEN[0]
    assert ("secret" in seen) is sees_secret and (seen["token_credential"] is not None) is sees_secret
    assert next(p for p in registry.trust.provenance if p.plugin == "acme-audit").secrets is sees_secret


# --- the pieces -------------------------------------------------------------------------------------


def test_secret_fields_come_from_the_schema() -> None:
    assert trust.secret_fields(ClientSecretMethod().input_schema()) == {"clientSecret"}
    assert trust.public_fields(ClientSecretMethod().input_schema()) == {"tenantId", "clientId", "cloud"}


def test_fields_a_method_stores_but_does_not_declare_are_withheld() -> None:
    creds = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, CANARY, "access-" + CANARY, 123)
    view = trust.credentials_view(creds, OAuthMethod().input_schema(), plugin="spy")
    assert view is not None and CANARY not in str(view.to_dict()) and CANARY not in repr(view)
    assert view.withheld == {"refreshToken", "accessToken", "expiresOn", "clientId"}
    with pytest.raises(SecretWithheld, match="'refresh_token' is withheld from spy"):
        _ = view.refresh_token
    with pytest.raises(AttributeError):
        _ = view.anything_else
    with pytest.raises(AttributeError, match="read-only"):
        view.tenant_id = "x"


def test_split_by_trust_for_a_pluggy_driven_host() -> None:
    owners = {trust.Principal.of("azure-app-configuration", "azure-appconfig-plugin")}
    split = trust.split_by_trust(
        {
            "azure-app-configuration": "azure-appconfig-plugin",
            "checks": "Azure_AppConfig.Plugin",
            "audit": "acme-audit",
            "local": None,
            "granted": None,
        },
        owners,
        grants={"granted"},
    )
    assert split.privileged == {"azure-app-configuration", "checks", "granted"}
    assert split.restricted == {"audit", "local"}


def test_restricted_request_keeps_everything_but_secrets() -> None:
    from app_connections.reports import Check, ValidationRequest

    request = ValidationRequest(
        SLUG,
        "client-secret",
        ClientSecretMethod().parse(DATA),
        "https://x.azconfig.io",
        (Check("input", "ok", "parsed"),),
        FakeTokenCredential(),
    )
    seen = trust.restricted_request(request, ClientSecretMethod().input_schema())
    assert (seen.connection_type, seen.method, seen.endpoint, seen.checks) == (
        request.connection_type,
        request.method,
        request.endpoint,
        request.checks,
    )
    assert seen.token_credential is None and "clientSecret" not in seen.credentials.to_dict()


def test_call_by_trust_calls_each_trust_group_through_pluggy() -> None:
    from app_connections.loader import new_plugin_manager
    from app_connections.reports import ValidationRequest

    owner, foreign = spy_module("owner"), spy_module("foreign")
    pm = new_plugin_manager()
    pm.register(owner, name="owner")
    pm.register(foreign, name="foreign")
    token = FakeTokenCredential()
    request = ValidationRequest(SLUG, "client-secret", ClientSecretMethod().parse(DATA), None, (), token)
    results = trust.call_by_trust(
        pm,
        "validate_connection",
        request,
        schema=ClientSecretMethod().input_schema(),
        owners={trust.Principal.of("owner", "azure-appconfig-plugin")},
        grants=(),
        distribution_of={"owner": "azure-appconfig-plugin", "foreign": "acme-audit"},
    )
    assert results == [[], []]
    assert owner.SEEN[0]["secret"] == CANARY and owner.SEEN[0]["token_credential"] is token
    assert isinstance(foreign.SEEN[0]["secret_error"], SecretWithheld) and foreign.SEEN[0]["token_credential"] is None


# --- the request shape of the contract rewrite: raw input, options, checks added in place ---------


def contract_request_class() -> Any:
    import attrs

    from app_connections.reports import Check

    @attrs.define
    class Request:  # the shape hosting.run_validation builds after the contract rewrite
        connection_type: str
        method: str | None
        credentials: Any = None
        endpoint: str | None = None
        checks: tuple[Check, ...] = ()
        token_credential: Any = None
        connection: Any = attrs.field(default=None, kw_only=True)
        data: Any = attrs.field(default=None, kw_only=True)
        options: dict[str, Any] = attrs.field(factory=dict, kw_only=True)

        def add(self, *checks: Check) -> None:
            self.checks = self.checks + tuple(checks)

    return Request


def test_restricted_request_withholds_raw_input_and_secret_options() -> None:
    Request = contract_request_class()
    settings = object()
    request = Request(
        SLUG,
        "client-secret",
        None,
        "https://x.azconfig.io",
        connection="the type",
        data=dict(DATA),
        options={
            "write_probe": True,
            "settings": settings,
            "env": {"X": CANARY},
            "token_credential": FakeTokenCredential(),
            "on_rotate": print,
        },
    )
    seen = trust.restricted_request(request, ClientSecretMethod().input_schema(), plugin="audit")
    assert seen.options == {"write_probe": True} and seen.connection == "the type"
    assert seen.data["tenantId"] == fakes.FAKE_TENANT_ID and seen.data.get("cloud") is None
    assert dict(seen.data) == {
        "method": "client-secret",
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_CLIENT_ID,
    }
    with pytest.raises(KeyError, match="'clientSecret' is withheld from audit"):
        seen.data["clientSecret"]
    with pytest.raises(SecretWithheld):
        seen.data.get("clientSecret")
    assert CANARY not in repr(seen) and CANARY not in repr(seen.data)
    assert request.data["clientSecret"] == CANARY  # the original is untouched


def test_call_by_trust_merges_checks_the_restricted_group_adds() -> None:
    from app_connections.loader import new_plugin_manager
    from app_connections.reports import Check

    Request = contract_request_class()
    adder = ModuleType("adder")
    exec(
        textwrap.dedent("""
        from app_connections.hostspec import hookimpl
        from app_connections.reports import Check
        @hookimpl
        def validate_connection(request):
            request.add(Check("audit", "ok", f"saw {sorted(request.data)}"))
    """),
        adder.__dict__,
    )
    pm = new_plugin_manager()
    pm.register(adder, name="adder")
    request = Request(SLUG, "client-secret", data=dict(DATA), checks=(Check("input", "ok", "parsed"),))
    trust.call_by_trust(
        pm,
        "validate_connection",
        request,
        schema=ClientSecretMethod().input_schema(),
        owners=(),
        grants=(),
        distribution_of={"adder": "acme-audit"},
    )
    assert [c.name for c in request.checks] == ["input", "audit"]
    assert request.checks[1].detail == "saw ['clientId', 'method', 'tenantId']"


def test_a_method_whose_schema_breaks_withholds_everything() -> None:
    class Broken:
        methods: ClassVar[dict[str, Any]] = {"m": type("M", (), {"input_schema": lambda self: 1 / 0})()}

    assert trust.method_schema(Broken(), "m") == {} and trust.method_schema(Broken(), "other") == {}
    view = trust.credentials_view({"method": "m", "tenantId": "t", "token": CANARY}, {})
    assert view is not None and view.to_dict() == {"method": "m"} and view.withheld == {"tenantId", "token"}


def test_a_declared_public_field_left_out_reads_as_none() -> None:
    from azure_appconfig_plugin.methods.oauth import OAuthInput

    view = trust.credentials_view(OAuthInput(), OAuthMethod().input_schema())
    assert view is not None and view.tenant_id is None and view.to_dict() == {"method": "oauth", "cloud": "public"}
    with pytest.raises(AttributeError):
        _ = view.not_a_field


# --- a type belongs to its owner: the slug hijack -------------------------------------------------

HIJACK = """
from app_connections.hostspec import hookimpl
from app_connections.records import ConnectionType
SEEN = []

@hookimpl(tryfirst=True)
def register_connection_types(register):
    register.add(ConnectionType(slug="azure-app-configuration", name="Impostor", methods={}))

@hookimpl
def validate_connection(request):
    for source in (request.data, request.credentials):
        try:
            SEEN.append(source["clientSecret"])
        except Exception as exc:
            SEEN.append(type(exc).__name__)
    return []
"""


@pytest.fixture
def hijack_site(tmp_path: Path) -> Iterator[Path]:
    site = tmp_path / "site"
    wheels.install(  # its entry point sorts before ours
        site,
        "aaa-hijack",
        "1.0",
        files={"aaa_hijack.py": HIJACK},
        entry_points={"app_connections": {"aaa-hijack": "aaa_hijack"}},
    )
    activate(site)
    yield site
    deactivate(site, ["aaa_hijack"])


def test_a_hijacked_slug_is_nobodys_and_no_secret_is_seen(hijack_site: Path) -> None:
    digest = trust.record_digest(wheels.find(hijack_site, "aaa-hijack"))
    registry = load_plugins(env={ALLOWLIST_ENV: f"azure-appconfig-plugin,aaa-hijack==1.0@sha256:{digest}"})
    assert SLUG not in registry.types and SLUG not in registry.providers
    errors = [f.error for f in registry.failures if f.stage == "duplicate"]
    assert errors[0].startswith(
        f"connection type {SLUG!r} is registered by 'aaa-hijack' (aaa-hijack) and "
        "'azure-app-configuration' (azure-appconfig-plugin): a type has one owner, so none of them is used"
    )
    with pytest.raises(UnknownConnectionType):
        registry.validate(SLUG, "client-secret", DATA)
    import aaa_hijack

    assert aaa_hijack.SEEN == []


def test_the_allow_list_names_the_owner_and_the_impostor_sees_no_secret(hijack_site: Path) -> None:
    digest = trust.record_digest(wheels.find(hijack_site, "aaa-hijack"))
    env = {ALLOWLIST_ENV: f"azure-appconfig-plugin:owns={SLUG},aaa-hijack==1.0@sha256:{digest}"}
    registry = load_plugins(env=env)
    assert registry.get(SLUG).name == "Azure App Configuration"
    assert registry.providers[SLUG].distribution == "azure-appconfig-plugin"
    assert [(f.plugin, f.error) for f in registry.failures] == [
        ("aaa-hijack", f"connection type {SLUG!r} belongs to azure-appconfig-plugin (its named owner); ignored")
    ]
    validate(registry)
    import aaa_hijack

    assert aaa_hijack.SEEN == ["SecretWithheld", "SecretWithheld"] and CANARY not in str(aaa_hijack.SEEN)


def test_a_third_registrant_of_a_contested_slug_is_reported_too() -> None:
    from app_connections.hosting import Catalog
    from app_connections.records import ConnectionType

    catalog = Catalog()
    for name in ("one", "two", "three"):
        catalog.distributions[name] = name
        catalog.add_connection_type(ConnectionType(slug="x", name="X", methods={}), name)
    assert "x" not in catalog.types and [p.plugin for p in catalog.contested["x"]] == ["one", "two", "three"]
    assert [f.plugin for f in catalog.failures] == ["one", "two", "three"]
    catalog.distributions["solo"] = "one"  # another plugin of an owner: the owner's first registration stands
    catalog.add_connection_type(ConnectionType(slug="y", name="Y", methods={}), "one")
    catalog.add_connection_type(ConnectionType(slug="y", name="Y2", methods={}), "solo")
    assert catalog.types["y"].name == "Y" and "already registered by 'one'" in catalog.failures[-1].error
