"""Round trips with the real Azure clients, against the HTTPS stand-in: what push writes, the
``azure-appconfiguration`` SDK lists and ``azure-appconfiguration-provider``'s ``load()`` reads
(prefix trimming, label selection, a Key Vault ``secret_resolver``); what the SDK writes (feature
flags, references, tags, locks, nested keys, other labels), import, plan and push respect."""

from __future__ import annotations

import json
from typing import Any

import pytest

from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from azure_appconfig_plugin.sync.entries import Secret
from azure_appconfig_plugin.sync.scope import KEY_VAULT_REF_CONTENT_TYPE
from standins.appconfig import StandIn
from standins.fixtures import FakeTokenCredential

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

D = AppConfigurationDestination()
VAULT_URI = "https://contoso-vault.vault.azure.net/secrets/db-password"
OTHER_VAULT_URI = "https://contoso-vault.vault.azure.net/secrets/theirs"
SECRETS: dict[str, Any] = {
    "DB_PASSWORD": VAULT_URI,
    "API_KEY": "k & + # % ? = / \u00fc",
    "MULTI": "line one\nline two",
    "TAGGED": Secret("t", tags={"team": "payments"}),
}
LABEL, PREFIX = "prod & co", "my app/"


def sdk_client(s: StandIn) -> Any:
    from azure.appconfiguration import AzureAppConfigurationClient

    return AzureAppConfigurationClient(s.endpoint, FakeTokenCredential(), connection_verify=s.ca_path, retry_total=0)


def pushed(s: StandIn, options: dict[str, Any]) -> dict[str, Any]:
    d = {"endpoint": s.endpoint, "label": LABEL, "keyPrefix": PREFIX}
    report = D.push(None, d, SECRETS, **options)
    assert report.ok and report.counts["created"] == len(SECRETS), report.to_dict()
    return d


def test_what_push_writes_the_sdk_lists(standin: StandIn, sync_options: dict[str, Any]) -> None:
    from azure.appconfiguration import SecretReferenceConfigurationSetting

    pushed(standin, sync_options)
    with sdk_client(standin) as client:
        listed = {s.key: s for s in client.list_configuration_settings(key_filter=PREFIX + "*", label_filter=LABEL)}
    assert set(listed) == {PREFIX + n for n in SECRETS}
    ref = listed[PREFIX + "DB_PASSWORD"]
    assert isinstance(ref, SecretReferenceConfigurationSetting) and ref.secret_id == VAULT_URI
    assert ref.content_type == KEY_VAULT_REF_CONTENT_TYPE
    assert listed[PREFIX + "API_KEY"].value == SECRETS["API_KEY"] and listed[PREFIX + "API_KEY"].label == LABEL
    assert listed[PREFIX + "TAGGED"].tags == {"team": "payments"}


def test_what_push_writes_the_provider_loads(standin: StandIn, sync_options: dict[str, Any]) -> None:
    from azure.appconfiguration.provider import SettingSelector, load

    pushed(standin, sync_options)
    standin.store.put(PREFIX + "API_KEY", "the other label's", label="dev")
    resolved: list[str] = []

    def resolver(uri: str) -> str:
        resolved.append(uri)
        return "resolved secret"

    config = load(
        endpoint=standin.endpoint,
        credential=FakeTokenCredential(),
        selects=[SettingSelector(key_filter=PREFIX + "*", label_filter=LABEL)],
        trim_prefixes=[PREFIX],
        secret_resolver=resolver,
        replica_discovery_enabled=False,
        connection_verify=standin.ca_path,
        retry_total=0,
    )
    assert dict(config) == {
        "DB_PASSWORD": "resolved secret",
        "API_KEY": SECRETS["API_KEY"],
        "MULTI": "line one\nline two",
        "TAGGED": "t",
    }
    assert resolved == [VAULT_URI]


@pytest.fixture
def sdk_written(standin: StandIn) -> dict[str, Any]:
    """What other people wrote with the SDK next to (and inside) the sync's scope."""
    from azure.appconfiguration import (
        ConfigurationSetting,
        FeatureFlagConfigurationSetting,
        SecretReferenceConfigurationSetting,
    )

    with sdk_client(standin) as client:
        client.add_configuration_setting(FeatureFlagConfigurationSetting("beta", enabled=True, label=LABEL))
        client.add_configuration_setting(
            SecretReferenceConfigurationSetting(PREFIX + "THEIR_REF", OTHER_VAULT_URI, label=LABEL)
        )
        client.add_configuration_setting(
            ConfigurationSetting(key=PREFIX + "TAGGED", value="t", label=LABEL, tags={"owner": "ops"})
        )
        client.add_configuration_setting(ConfigurationSetting(key=PREFIX + "LOCKED", value="old", label=LABEL))
        client.set_read_only(client.get_configuration_setting(PREFIX + "LOCKED", label=LABEL), True)
        client.add_configuration_setting(ConfigurationSetting(key=PREFIX + "sub/nested", value="n", label=LABEL))
        client.add_configuration_setting(ConfigurationSetting(key=PREFIX + "has:colon", value="c", label=LABEL))
        client.add_configuration_setting(ConfigurationSetting(key=PREFIX + "API_KEY", value="dev's", label="dev"))
        client.add_configuration_setting(ConfigurationSetting(key=PREFIX + "GONE", value="g", label=LABEL))
    return {"endpoint": standin.endpoint, "label": LABEL, "keyPrefix": PREFIX, "deleteMissing": True}


def test_import_respects_what_the_sdk_wrote(standin: StandIn, sync_options: dict[str, Any], sdk_written: Any) -> None:
    back = D.import_secrets(None, sdk_written, **sync_options)
    assert back.imported == {"THEIR_REF": OTHER_VAULT_URI, "TAGGED": "t", "LOCKED": "old", "GONE": "g"}
    assert back.references == frozenset({"THEIR_REF"})
    skipped = {c.key: c.code for c in back.changes if c.status.value == "skipped"}
    assert skipped == {PREFIX + "sub/nested": "not_a_secret_name", PREFIX + "has:colon": "not_a_secret_name"}


def test_plan_and_push_respect_what_the_sdk_wrote(
    standin: StandIn, sync_options: dict[str, Any], sdk_written: Any
) -> None:
    before = standin.store.snapshot()
    secrets = {"TAGGED": "t", "LOCKED": "new", "NEW": "n"}
    plan = D.plan(None, sdk_written, secrets, **sync_options)
    report = D.push(None, sdk_written, secrets, max_deletes=1, **sync_options)
    assert [(c.key, c.action.value) for c in plan.changes] == [(c.key, c.action.value) for c in report.changes]
    statuses = {c.key: c.status.value for c in report.changes}
    assert statuses == {
        PREFIX + "sub/nested": "skipped",
        PREFIX + "has:colon": "skipped",
        PREFIX + "TAGGED": "unchanged",  # the SDK's tag is someone else's: kept, and nothing differs
        PREFIX + "LOCKED": "locked",
        PREFIX + "NEW": "applied",
        PREFIX + "THEIR_REF": "skipped",  # a reference the sync did not write
        PREFIX + "GONE": "not-run",  # the locked write holds every delete back
    }
    after = standin.store.snapshot()
    assert {k: v for k, v in after.items() if k != (PREFIX + "NEW", LABEL)} == before
    assert after[(".appconfig.featureflag/beta", LABEL)] == before[(".appconfig.featureflag/beta", LABEL)]


def test_after_unlocking_the_deletes_run_and_the_sdk_sees_the_result(
    standin: StandIn, sync_options: dict[str, Any], sdk_written: Any
) -> None:
    with sdk_client(standin) as client:
        client.set_read_only(client.get_configuration_setting(PREFIX + "LOCKED", label=LABEL), False)
    report = D.push(None, sdk_written, {"TAGGED": "t2", "LOCKED": "new"}, max_deletes=1, **sync_options)
    assert report.ok and report.counts == {
        "created": 0,
        "updated": 2,
        "deleted": 1,
        "unchanged": 0,
        "skipped": 3,
        "conflicts": 0,
        "failed": 0,
    }
    with sdk_client(standin) as client:
        tagged = client.get_configuration_setting(PREFIX + "TAGGED", label=LABEL)
        assert tagged.value == "t2" and tagged.tags == {"owner": "ops"}
        keys = {(s.key, s.label) for s in client.list_configuration_settings(key_filter="*", label_filter="*")}
    assert (PREFIX + "GONE", LABEL) not in keys and (PREFIX + "API_KEY", "dev") in keys
    assert {(PREFIX + "THEIR_REF", LABEL), (".appconfig.featureflag/beta", LABEL)} <= keys


def test_a_reference_the_sdk_wrote_imports_and_pushes_back_unchanged(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    from azure.appconfiguration import SecretReferenceConfigurationSetting

    with sdk_client(standin) as client:
        client.add_configuration_setting(SecretReferenceConfigurationSetting("app/REF", VAULT_URI))
    d = {"endpoint": standin.endpoint, "keyPrefix": "app/"}
    back = D.import_secrets(None, d, **sync_options)
    assert back.imported == {"REF": VAULT_URI} and back.references == frozenset({"REF"})
    again = D.push(None, d, dict(back.imported), **sync_options)
    assert {c.key: c.status.value for c in again.changes} == {"app/REF": "skipped"}
    assert json.loads(standin.store.entry("app/REF")["value"]) == {"uri": VAULT_URI}


HOSTILE_VALUES = {
    "LS": 'x"\u2028EVIL=pwned\u2028Y="',
    "CRLF": "a\r\nb\rc\n",
    "NUL": "a\x00b",
    "EMOJI": "\U0001f600 \u00fc",
    "DOLLAR": "$HOME ${X} \\$",
    "HASH": "# not a comment",
    "QUOTES": "\"'`",
    "EMPTY": "",
    "SPACES": "  padded  ",
    "JSONISH": '{"uri": "https://contoso-vault.vault.azure.net/secrets/x"}',
}


def test_an_import_then_push_of_any_value_round_trips_exactly(standin: StandIn, sync_options: dict[str, Any]) -> None:
    for name, value in HOSTILE_VALUES.items():
        standin.store.put("app/" + name, value, label="prod")
    d = {"endpoint": standin.endpoint, "keyPrefix": "app/", "label": "prod", "deleteMissing": True}
    back = D.import_secrets(None, d, **sync_options)
    assert back.imported == HOSTILE_VALUES
    again = D.push(None, d, dict(back.imported), **sync_options)
    assert {c.status.value for c in again.changes} == {"unchanged"} and again.requests == 1


def test_an_imported_value_that_cannot_be_pushed_is_refused_not_changed(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    from azure_appconfig_plugin.errors import InvalidInput

    standin.store.put("app/BAD", "lone \ud800 surrogate", label="prod")
    d = {"endpoint": standin.endpoint, "keyPrefix": "app/", "label": "prod"}
    back = D.import_secrets(None, d, **sync_options)
    with pytest.raises(InvalidInput, match="lone surrogate"):
        D.push(None, d, dict(back.imported), **sync_options)
    assert standin.requests("PUT") == []
