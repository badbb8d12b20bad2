"""Instance settings from the environment."""

from __future__ import annotations

import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.errors import SettingsError
from azure_appconfig_plugin.settings import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    SITE_URL_ENV,
    InstanceSettings,
    redirect_uri_for,
)

CANARY = "canary-instance-secret-9x"


def env(**over: str) -> dict[str, str]:
    base = {
        CLIENT_ID_ENV: fakes.FAKE_INSTANCE_CLIENT_ID,
        CLIENT_SECRET_ENV: CANARY,
        SITE_URL_ENV: "https://secrets.example.com",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v != "-"}


@pytest.mark.parametrize(
    ("site", "redirect"),
    [
        (
            "https://secrets.example.com",
            "https://secrets.example.com/organization/app-connections/azure/oauth/callback",
        ),
        (
            "https://secrets.example.com/",
            "https://secrets.example.com/organization/app-connections/azure/oauth/callback",
        ),
        (
            "https://example.com/infisical/",
            "https://example.com/infisical/organization/app-connections/azure/oauth/callback",
        ),
        ("http://localhost:8080", "http://localhost:8080/organization/app-connections/azure/oauth/callback"),
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000/organization/app-connections/azure/oauth/callback"),
    ],
)
def test_redirect_uri_is_exact(site: str, redirect: str) -> None:
    s = InstanceSettings.from_env(env(SITE_URL=site))
    assert s.redirect_uri == redirect == redirect_uri_for(site)


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({SITE_URL_ENV: "http://secrets.example.com"}, SITE_URL_ENV, "https"),
        ({SITE_URL_ENV: "https://secrets.example.com/?x=1"}, SITE_URL_ENV, "query"),
        ({SITE_URL_ENV: "https://secrets.example.com/#top"}, SITE_URL_ENV, "fragment"),
        ({SITE_URL_ENV: "secrets.example.com"}, SITE_URL_ENV, "absolute https://"),
        ({SITE_URL_ENV: "ftp://secrets.example.com"}, SITE_URL_ENV, "absolute https://"),
        ({SITE_URL_ENV: "https://u:p@secrets.example.com"}, SITE_URL_ENV, "user name"),
        ({SITE_URL_ENV: "-"}, SITE_URL_ENV, "is not set"),
        ({CLIENT_ID_ENV: "my-app"}, CLIENT_ID_ENV, "GUID"),
        ({CLIENT_ID_ENV: "-"}, CLIENT_ID_ENV, "is not set"),
        ({CLIENT_SECRET_ENV: "-"}, CLIENT_SECRET_ENV, "is not set"),
    ],
)
def test_bad_settings_name_the_variable_and_the_fix(over: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(SettingsError) as err:
        InstanceSettings.from_env(env(**over))
    assert [e.field for e in err.value.errors] == [field]
    assert words in str(err.value) and CANARY not in str(err.value)


def test_all_problems_at_once() -> None:
    with pytest.raises(SettingsError) as err:
        InstanceSettings.from_env({})
    assert {e.field for e in err.value.errors} == {CLIENT_ID_ENV, CLIENT_SECRET_ENV, SITE_URL_ENV}


def test_settings_hide_the_secret() -> None:
    s = InstanceSettings.from_env(env())
    assert CANARY not in repr(s) and CANARY not in str(s)
