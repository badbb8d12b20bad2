"""The pytest kit's fixtures, as plugin authors use them."""

from __future__ import annotations

from typing import Any

from app_connections.testing import fakes
from azure_appconfig_plugin import plugin
from builtin import LIBRARY_METHODS

SLUG = "azure-app-configuration"


def test_registry_fixture_loads_only_the_named_plugins(app_connections_registry: Any) -> None:
    empty = app_connections_registry()
    assert empty.types == {}
    ours = app_connections_registry([("azure-app-configuration", plugin)])
    assert list(ours.types) == ["azure-app-configuration"]
    assert ours.pm is not app_connections_registry([("azure-app-configuration", plugin)]).pm


def test_registry_fixture_can_use_entry_points(app_connections_registry: Any) -> None:
    assert "azure-app-configuration" in app_connections_registry(use_entry_points=True).types


def test_fake_values(
    fake_instance_env: dict[str, str],
    fake_instance_settings: Any,
    fake_client_secret_credentials: Any,
    azure_test_values: Any,
    azure_record_mode: str,
) -> None:
    import os

    assert azure_record_mode == "none"
    assert os.environ["SITE_URL"] == fakes.FAKE_SITE_URL == fake_instance_settings.site_url
    assert fake_client_secret_credentials.tenant_id == azure_test_values.tenant_id == fakes.FAKE_TENANT_ID
    assert fakes.FAKE_CLIENT_SECRET not in repr(fake_client_secret_credentials)


def test_record_mode_option_is_validated() -> None:
    import pytest

    from app_connections.testing.recording import record_mode

    assert record_mode({"APP_CONNECTIONS_RECORD_MODE": "once"}) == "once"
    assert record_mode({"AZURE_APPCONFIG_RECORD_MODE": "once"}, env_name="AZURE_APPCONFIG_RECORD_MODE") == "once"
    assert record_mode({}, option="all") == "all"
    with pytest.raises(ValueError, match="APP_CONNECTIONS_RECORD_MODE"):
        record_mode({"APP_CONNECTIONS_RECORD_MODE": "sometimes"})


def test_placeholders_for_a_recording_session() -> None:
    from azure_appconfig_plugin.testing.recording import real_to_placeholder

    mapping = real_to_placeholder(
        {
            "AZURE_TENANT_ID": "9c1e7b5a-1d2e-4f3a-8b6c-0a1b2c3d4e5f",
            "AZURE_APPCONFIG_ENDPOINT": "https://prod-config.azconfig.io",
        }
    )
    assert mapping["9c1e7b5a-1d2e-4f3a-8b6c-0a1b2c3d4e5f"] == fakes.FAKE_TENANT_ID
    assert mapping["prod-config"] == fakes.FAKE_STORE_NAME


def _example_extension() -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent / "example_extension" / "appconfig_policy_example.py"
    spec = importlib.util.spec_from_file_location("appconfig_policy_example_kit", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_registry_fixture_loads_the_base_type_for_an_extension(app_connections_registry: Any) -> None:
    ext = _example_extension()
    registry = app_connections_registry([("my-ext", ext)])
    assert registry.failures == []
    assert list(registry.get("azure-app-configuration").methods) == [*LIBRARY_METHODS, "static-token"]
    assert registry.providers["azure-app-configuration"].plugin == "azure-app-configuration"


def test_registry_fixture_base_flag_can_be_forced_either_way(app_connections_registry: Any) -> None:
    ext = _example_extension()
    alone = app_connections_registry([("my-ext", ext)], with_base=False)
    assert alone.types == {} and [f.plugin for f in alone.failures] == ["my-ext"]  # nothing to add to
    assert list(app_connections_registry(with_base=True, base_types=[SLUG]).types) == ["azure-app-configuration"]
    assert list(app_connections_registry(with_base=True).types) == []  # no type asked for, none extended
    # our own plugin listed explicitly is not loaded twice
    twice = app_connections_registry([("azure-app-configuration", plugin)], with_base=True)
    assert twice.failures == [] and list(twice.types) == ["azure-app-configuration"]


def test_registry_fixture_leaves_unrelated_plugins_alone(app_connections_registry: Any) -> None:
    from types import ModuleType

    other = ModuleType("other_plugin")
    assert app_connections_registry([("other", other)]).types == {}


def test_extension_probe_sees_the_types_a_plugin_adds_methods_to() -> None:
    from types import SimpleNamespace

    from app_connections.testing.registry import adds_methods_to

    typed = SimpleNamespace(register_auth_methods=lambda register: register.add("azure-app-configuration", object()))
    other = SimpleNamespace(register_auth_methods=lambda register: register.add("other-type", object()))
    broken = SimpleNamespace(register_auth_methods=lambda register: 1 / 0)
    assert adds_methods_to(typed, SLUG)
    assert (
        not adds_methods_to(other, SLUG) and not adds_methods_to(broken, SLUG) and not adds_methods_to(object(), SLUG)
    )


def test_plugin_distributions_takes_modules_and_its_former_name(plugin_distributions: Any) -> None:
    import importlib
    from importlib import metadata

    import pytest

    plugin_distributions(
        "kit-dist-a",
        entry_points={"app_connections": {"kit-a": "kit_mod_a"}},
        modules={"kit_mod_a.py": "VALUE = 'a'\n"},
    )
    plugin_distributions(
        "kit-dist-b",
        entry_points={"app_connections": {"kit-b": "kit_mod_b"}},
        modules_src={"kit_mod_b.py": "VALUE = 'b'\n"},
    )
    names = {ep.name for ep in metadata.entry_points(group="app_connections")}
    assert {"kit-a", "kit-b"} <= names
    assert importlib.import_module("kit_mod_a").VALUE == "a" and importlib.import_module("kit_mod_b").VALUE == "b"
    with pytest.raises(TypeError, match="not both"):
        plugin_distributions("kit-dist-c", entry_points={}, modules={}, modules_src={})


def test_every_kit_fixture_has_a_docstring(pytestconfig: Any) -> None:
    import inspect

    from app_connections.testing import pytest_plugin as kit_plugin
    from azure_appconfig_plugin.testing import pytest_plugin as azure_plugin

    checked = 0
    for module in (kit_plugin, azure_plugin):
        for name, obj in vars(module).items():
            wrapped = getattr(obj, "__wrapped__", None) or getattr(obj, "_get_wrapped_function", lambda: None)()
            if name.startswith(("azure_", "app_", "plugin_", "fake_", "connections_")) and wrapped is not None:
                assert inspect.getdoc(wrapped), f"fixture {name} has no docstring"
                checked += 1
    assert checked >= 20


def test_the_operator_policy_fixture_lends_the_host_identity_for_the_test(azure_operator_policy: Any) -> None:
    import os

    from app_connections import policy as policies
    from azure_appconfig_plugin.connection import build_connection_type

    assert policies.current() is azure_operator_policy and azure_operator_policy.env is os.environ
    assert build_connection_type().parse("managed-identity", {}).method == "managed-identity"
