"""`azure-appconfig doctor`, `types` and `plugins pin` where plugin trust is unusual: a malformed allow-list,
a group with nothing installed, a plugin granted secrets."""

from __future__ import annotations

import pytest

from app_connections.trust import ALLOWLIST_ENV
from cli_helpers import run
from trust_sites import Site


def test_doctor_text_still_explains_the_settings_when_the_allow_list_is_malformed(
    fake_instance_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOWLIST_ENV, "azure-appconfig-plugin,acme>=2")
    code, text = run("doctor")
    assert code == 1 and "NOT READY" in text
    assert "[invalid] plugins: " in text and "entry 'acme>=2' uses a version range" in text
    # our own declaration answers what the methods need: the registry cannot load
    assert "instance setup (oauth method)" in text
    assert "Only the oauth method needs these settings" in text


def test_pin_with_no_plugin_of_the_group_installed_allows_none(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run("plugins", "pin", "--group", "no_such_group_9z")
    assert code == 0 and text == f"{ALLOWLIST_ENV}=\n"
    assert "note: no no_such_group_9z plugin is installed; this line allows none" in capsys.readouterr().err


def test_types_text_says_which_plugin_is_granted_secrets(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("acme-policy")
    monkeypatch.setenv(ALLOWLIST_ENV, "azure-appconfig-plugin,acme-policy:secrets")
    code, text = run("types")
    assert code == 0
    acme = text[text.index("plugin acme-policy: ALLOWED") :]
    acme = acme[: acme.index("\nplugin ")] if "\nplugin " in acme else acme
    assert "\n  granted: secrets of connections it does not own" in acme
    ours = text[text.index("plugin azure-app-configuration: ALLOWED") :]
    ours = ours[: ours.index("\nplugin ")] if "\nplugin " in ours else ours
    assert "granted:" not in ours
