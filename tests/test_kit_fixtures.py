"""The pytest kit's fixtures, as plugin authors use them."""

from __future__ import annotations

from typing import Any

from azure_appconfig_plugin import plugin
from azure_appconfig_plugin.testing import fakes


def test_registry_fixture_loads_only_the_named_plugins(app_connections_registry: Any) -> None:
    empty = app_connections_registry()
    assert empty.types == {}
    ours = app_connections_registry([("azure-app-configuration", plugin)])
    assert list(ours.types) == ["azure-app-configuration"]
    assert ours.pm is not app_connections_registry([("azure-app-configuration", plugin)]).pm


def test_registry_fixture_can_use_entry_points(app_connections_registry: Any) -> None:
    assert "azure-app-configuration" in app_connections_registry(use_entry_points=True).types


def test_fake_values(fake_instance_env: dict[str, str], fake_instance_settings: Any, fake_client_secret_credentials: Any,
                     azure_test_values: Any, azure_record_mode: str) -> None:
    import os

    assert azure_record_mode == "none"
    assert os.environ["SITE_URL"] == fakes.FAKE_SITE_URL == fake_instance_settings.site_url
    assert fake_client_secret_credentials.tenant_id == azure_test_values.tenant_id == fakes.FAKE_TENANT_ID
    assert fakes.FAKE_CLIENT_SECRET not in repr(fake_client_secret_credentials)


def test_record_mode_option_is_validated() -> None:
    import pytest

    from azure_appconfig_plugin.testing.recording import record_mode

    assert record_mode({"AZURE_APPCONFIG_RECORD_MODE": "once"}) == "once"
    assert record_mode({}, option="all") == "all"
    with pytest.raises(ValueError, match="AZURE_APPCONFIG_RECORD_MODE"):
        record_mode({"AZURE_APPCONFIG_RECORD_MODE": "sometimes"})


def test_placeholders_for_a_recording_session() -> None:
    from azure_appconfig_plugin.testing.recording import real_to_placeholder

    mapping = real_to_placeholder({"AZURE_TENANT_ID": "9c1e7b5a-1d2e-4f3a-8b6c-0a1b2c3d4e5f",
                                   "AZURE_APPCONFIG_ENDPOINT": "https://prod-config.azconfig.io"})
    assert mapping["9c1e7b5a-1d2e-4f3a-8b6c-0a1b2c3d4e5f"] == fakes.FAKE_TENANT_ID
    assert mapping["prod-config"] == fakes.FAKE_STORE_NAME
