"""A host with its own PluginManager (a copied hookspec module plus a platform-only hook) gets the
loader's isolation, trust and least privilege through ``Registry.from_plugin_manager``."""

from __future__ import annotations

import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pluggy
import pytest

from app_connections.loader import Registry
from app_connections.reports import ValidationRequest
from app_connections.trust import AllowListError

HERE = Path(__file__).parent / "example_provider"

COPIED_HOOKSPECS = """
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
@hookspec
def audit_connection(request):
    '''The platform's own hook: every plugin may look at a connection being saved.'''
"""

SNOOP = """
from app_connections.hostspec import hookimpl
from app_connections.trust import CredentialsView, SecretWithheld
SEEN = []

def _look(request, hook):
    creds = request.credentials
    try:
        pin = creds.pin
    except SecretWithheld:
        pin = "<withheld>"
    SEEN.append((hook, isinstance(creds, CredentialsView), pin, request.token_credential))

@hookimpl
def validate_connection(request):
    _look(request, "validate_connection")

@hookimpl
def audit_connection(request):
    _look(request, "audit_connection")
    return "audited"
"""


def module(name: str, source: str) -> types.ModuleType:
    mod = types.ModuleType(name)
    exec(compile(textwrap.dedent(source), name, "exec"), mod.__dict__)
    return mod


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    broker = module("acme_broker_copy", (HERE / "acme_broker.py").read_text())
    monkeypatch.setitem(sys.modules, "acme_broker_copy", broker)
    return [("acme-broker", broker), ("snoop", module("snoop", SNOOP))]


def host_pm() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("app_connections")
    pm.add_hookspecs(module("my_hostspec", COPIED_HOOKSPECS))
    return pm


def test_third_party_hooks_get_views_without_secrets_in_the_hosts_own_manager(plugins: Any) -> None:
    pm = host_pm()
    registry = Registry.from_plugin_manager(pm, plugins=plugins, use_entry_points=False, env={})
    assert registry.pm is pm and list(registry.types) == ["acme-broker"] and not registry.failures
    snoop = plugins[1][1]

    data = {"brokerUrl": "https://127.0.0.1:1", "user": "ann", "pin": "pin-canary-1234"}
    report = registry.validate("acme-broker", "pin", data)
    assert [c.name for c in report.checks][:2] == ["input", "token"]  # the broker is down: token failed
    assert snoop.SEEN == [("validate_connection", True, "<withheld>", None)]

    creds = registry.get("acme-broker").parse("pin", data)
    request = ValidationRequest("acme-broker", "pin", creds)
    assert registry.call_hook("audit_connection", request) == ["audited"]
    assert snoop.SEEN[-1] == ("audit_connection", True, "<withheld>", None)
    assert pm.hook.audit_connection(request=request) == ["audited"]  # the bypass the recipe used to teach
    assert snoop.SEEN[-1][1:3] == (False, "pin-canary-1234")


def test_the_hosts_manager_gets_the_allow_list_and_grants(plugins: Any) -> None:
    registry = Registry.from_plugin_manager(
        host_pm(), plugins=plugins, use_entry_points=False, env={}, grant_secrets={"snoop"}
    )
    creds = registry.get("acme-broker").parse("pin", {"brokerUrl": "https://127.0.0.1:1", "user": "a", "pin": "1234"})
    registry.call_hook("audit_connection", ValidationRequest("acme-broker", "pin", creds))
    assert plugins[1][1].SEEN[-1][1:3] == (False, "1234")
    with pytest.raises(AllowListError):
        Registry.from_plugin_manager(host_pm(), allow_list="not a valid == entry", env={})


def test_a_manager_without_hookspecs_gets_the_contracts() -> None:
    pm = pluggy.PluginManager("app_connections")
    registry = Registry.from_plugin_manager(pm, use_entry_points=False, env={})
    assert registry.pm is pm and pm.hook.validate_connection.has_spec()


def test_a_manager_of_another_project_or_with_part_of_the_contract_is_refused() -> None:
    with pytest.raises(ValueError, match=r"pluggy\.PluginManager\('app_connections'\)"):
        Registry.from_plugin_manager(pluggy.PluginManager("my_platform"), use_entry_points=False, env={})
    partial = pluggy.PluginManager("app_connections")
    partial.add_hookspecs(
        module(
            "partial",
            "import pluggy\nspec = pluggy.HookspecMarker('app_connections')\n"
            "@spec\ndef validate_connection(request): ...\n",
        )
    )
    with pytest.raises(ValueError, match="lack register_connection_types"):
        Registry.from_plugin_manager(partial, use_entry_points=False, env={})
