"""The built-in check stages at their edges (checks/__init__.py): a record of another method than
the one named, a plugin method whose parser has a bug, and instance settings passed by the host."""

from __future__ import annotations

import textwrap
from types import ModuleType
from typing import Any

import pytest

from app_connections.loader import load_plugins
from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes

SLUG = "azure-app-configuration"


def statuses(report: Any) -> dict[str, str]:
    return {c.name: c.status.value for c in report.checks}


def test_a_record_of_another_method_than_the_one_named_is_invalid_input() -> None:
    record = ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, "canary-other-method")
    report = build_connection_type().validate(record, method="oauth", endpoint="https://x.azconfig.io", env={})
    first = report.checks[0]
    assert (first.name, first.status.value, first.code) == ("input", "failed", "invalid_input")
    assert "the credentials are for method 'client-secret', not 'oauth'" in first.detail
    assert all(s == "skipped" for name, s in statuses(report).items() if name != "input")


BUGGY_METHOD = """
from app_connections.hostspec import hookimpl
from app_connections.records import AuthMethod
class Buggy(AuthMethod):
    slug = "buggy"; name = "Buggy"
    def input_schema(self): return {"type": "object"}
    def parse(self, data): return data["missing"]
    def token_credential(self, c, *, on_rotate=None): raise AssertionError("never reached")
@hookimpl
def register_auth_methods(register):
    register.add("azure-app-configuration", Buggy())
"""


def test_a_plugin_method_whose_parser_raises_is_a_failed_input_check_naming_the_authors() -> None:
    mod = ModuleType("buggy_method")
    exec(textwrap.dedent(BUGGY_METHOD), mod.__dict__)
    registry = load_plugins(plugins=[("buggy", mod)], env={})
    report = registry.validate(SLUG, "buggy", {"x": 1}, env={})  # does not raise
    first = report.checks[0]
    assert (first.name, first.status.value, first.code) == ("input", "failed", "plugin_error")
    assert first.detail == "the input could not be read: KeyError: 'missing'"
    assert first.remediation == "Report this to the auth method's authors."
    assert statuses(report)["token"] == "skipped"


INTERRUPTED_METHOD = """
from app_connections.hostspec import hookimpl
from app_connections.records import AuthMethod
class Interrupted(AuthMethod):
    slug = "interrupted"; name = "Interrupted"
    def input_schema(self): return {"type": "object"}
    def parse(self, data): raise {raised}
    def token_credential(self, c, *, on_rotate=None): raise AssertionError("never reached")
@hookimpl
def register_auth_methods(register):
    register.add("azure-app-configuration", Interrupted())
"""


@pytest.mark.parametrize("raised", ["KeyboardInterrupt", "SystemExit(2)"])
def test_an_interrupt_or_exit_while_the_input_is_read_ends_the_validation_not_a_check(raised: str) -> None:
    """Only what a library raises on bad input (an ``Exception``, a panic) is a failed ``input``
    check; Ctrl-C or an exit while a method reads the input stops the validation, as anywhere else."""
    mod = ModuleType("interrupted_method")
    exec(textwrap.dedent(INTERRUPTED_METHOD.replace("{raised}", raised)), mod.__dict__)
    registry = load_plugins(plugins=[("interrupted", mod)], env={})
    with pytest.raises(KeyboardInterrupt if raised == "KeyboardInterrupt" else SystemExit):
        registry.validate(SLUG, "interrupted", {"x": 1}, env={})


def test_an_interrupt_while_the_token_is_requested_ends_the_validation_before_the_store() -> None:
    """Ctrl-C while the method gets its token is not reported as a failed ``token`` check (and the
    store is never probed): it reaches the caller."""
    calls: list[tuple[str, ...]] = []

    class Interrupting:
        def get_token(self, *scopes: str, **_: Any) -> Any:
            calls.append(scopes)
            raise KeyboardInterrupt

    form = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary-cs-int"}
    with pytest.raises(KeyboardInterrupt):
        build_connection_type().validate(
            form, method="client-secret", endpoint="https://x.azconfig.io", token_credential=Interrupting()
        )
    assert calls == [("https://azconfig.io/.default",)]  # the token stage ran, and was interrupted there


def test_instance_settings_the_host_passes_are_used_instead_of_the_environment(azure_vcr: Any) -> None:
    stored = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1")
    settings = InstanceSettings.from_env(azure_fakes.fake_instance_env())
    with azure_vcr.use_cassette("oauth_refresh_rotates.yaml"):
        report = build_connection_type().validate(stored, env={}, settings=settings)  # nothing in the environment
    assert report.ok, report.to_dict()
    check = next(c for c in report.checks if c.name == "instance settings")
    assert check.detail == f"app registration {settings.client_id}, redirect URI {settings.redirect_uri}"
