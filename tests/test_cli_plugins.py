"""``azure-appconfig plugins pin`` and the provenance in ``azure-appconfig types``."""

from __future__ import annotations

import io
import json

import pytest

from app_connections import trust
from app_connections.loader import load_plugins
from app_connections.trust import ALLOWLIST_ENV
from azure_appconfig_plugin.cli import main
from trust_sites import Site

SLUG = "azure-app-configuration"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def pin_line(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    code, text = run("plugins", "pin")
    assert code == 0
    [line] = text.splitlines()
    return line, capsys.readouterr().err


def test_pin_round_trips_into_allow_list_mode(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site.install("acme-policy", "2.1")
    site.install("zeta-tools", "0.3")
    monkeypatch.delenv(ALLOWLIST_ENV, raising=False)
    line, err = pin_line(capsys)
    name, _, value = line.partition("=")
    assert name == ALLOWLIST_ENV
    assert value.split(",") == [
        "acme-policy==2.1@sha256:" + site.digest("acme-policy"),
        # The test venv installs us editable (or finds src/*.egg-info first): version only, and says why.
        "azure-appconfig-plugin==0.1.0",
        "zeta-tools==0.3@sha256:" + site.digest("zeta-tools"),
    ]
    assert err.startswith("note: azure-appconfig-plugin ") and err.endswith(
        ": pinned by version only\n" if "no RECORD" in err else "(its RECORD does not cover its source)\n"
    )

    registry = load_plugins(env={ALLOWLIST_ENV: value})
    assert registry.trust.mode == "allow-list" and not registry.failures and not registry.trust.notices
    assert sorted(registry.types) == ["acme-policy-type", SLUG, "zeta-tools-type"]
    assert {p.status for p in registry.trust.provenance} == {"allowed"}
    # The same line is a pin, not just a list: another version of one plugin is refused.
    site.install("zeta-tools", "0.4", module="zeta_tools_mod_2")
    (site.root / "zeta_tools-0.3.dist-info").rename(site.root.parent / "old-dist-info")
    registry = load_plugins(env={ALLOWLIST_ENV: value})
    assert {f.plugin: f.error for f in registry.failures} == {
        "zeta-tools": "refused: zeta-tools 0.4 is installed; 0.3 is pinned"
    }


def test_pin_keeps_the_grants_of_the_current_allow_list(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site.install("acme-policy")
    monkeypatch.setenv(ALLOWLIST_ENV, "azure-appconfig-plugin:owns=azure-app-configuration,acme-policy:secrets")
    line, _ = pin_line(capsys)
    entries = line.split("=", 1)[1].split(",")
    assert f"acme-policy==1.0@sha256:{site.digest('acme-policy')}:secrets" in entries
    assert "azure-appconfig-plugin==0.1.0:owns=azure-app-configuration" in entries
    parsed = trust.parse_allow_list(line.split("=", 1)[1])
    assert parsed.secret_grants == {"acme-policy"}
    assert parsed.type_owners == {"azure-app-configuration": "azure-appconfig-plugin"}


def test_pin_refuses_an_install_that_no_longer_matches_its_record(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site.install("acme-policy")
    (site.root / "acme_policy_mod" / "helpers.py").write_text("VALUE = 666\n")
    monkeypatch.delenv(ALLOWLIST_ENV, raising=False)
    code, text = run("plugins", "pin")
    err = capsys.readouterr().err
    assert code == 1 and text == ""
    assert (
        "acme-policy 1.0 does not match its own RECORD, refusing to pin it: acme_policy_mod/helpers.py changed" in err
    )


def test_pin_with_a_malformed_current_allow_list_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ALLOWLIST_ENV, "acme=1")
    code, text = run("plugins", "pin")
    assert code == 2 and text == "" and "entry 'acme=1'" in capsys.readouterr().err


def test_types_json_shows_provenance_and_verdicts(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("acme-policy")
    site.install("zeta-tools", "0.3")
    monkeypatch.setenv(
        ALLOWLIST_ENV, f"azure-appconfig-plugin,acme-policy==1.0@sha256:{site.digest('acme-policy')},zeta-tools==9"
    )
    code, text = run("types", "--json")
    data = json.loads(text)
    assert code == 1  # a listed plugin was refused: the JSON is printed, the exit status says so
    assert data["trust"]["mode"] == "allow-list"
    plugins = {p["plugin"]: p for p in data["trust"]["plugins"]}
    assert {k: p["status"] for k, p in plugins.items()} == {
        "acme-policy": "allowed",
        SLUG: "allowed",
        "zeta-tools": "refused",
    }
    zeta = plugins["zeta-tools"]
    assert zeta["reason"] == "zeta-tools 0.3 is installed; 9 is pinned"
    assert zeta["recordDigest"] == "sha256:" + site.digest("zeta-tools")
    assert zeta["location"] == str(site.root / "zeta_tools_mod" / "__init__.py")  # where it would load from
    assert set(zeta) == {
        "plugin",
        "distribution",
        "version",
        "recordDigest",
        "location",
        "status",
        "reason",
        "secretsGranted",
    }
    assert {f["plugin"]: f["stage"] for f in data["failures"]} == {"zeta-tools": "trust"}
    assert site.imported() == ["acme_policy_mod"]


def test_types_text_says_the_mode_and_why(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("zeta-tools", "0.3")
    monkeypatch.setenv(ALLOWLIST_ENV, "azure-appconfig-plugin")
    code, text = run("types")
    assert code == 0
    assert "plugin trust: allow-list mode (1 entry), from APP_CONNECTIONS_ALLOWED_PLUGINS" in text
    assert f"plugin zeta-tools: BLOCKED: zeta-tools is not listed in {ALLOWLIST_ENV}\n" in text
    assert f"  distribution: zeta-tools 0.3 (RECORD sha256:{site.digest('zeta-tools')})\n" in text
    monkeypatch.setenv(ALLOWLIST_ENV, "")
    code, text = run("types")
    assert f"notice: {ALLOWLIST_ENV} is set but empty: no plugin is loaded" in text
    assert "No connection types found" in text


def test_types_with_a_malformed_allow_list_fails_closed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ALLOWLIST_ENV, "azure-appconfig-plugin,acme-policy==1.0@sha256:abc")
    code, text = run("types", "--json")
    assert code == 2 and text == ""
    assert "entry 'acme-policy==1.0@sha256:abc' has a digest of 3 hex digits" in capsys.readouterr().err


def test_pin_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("plugins", "pin", "--help")
    assert code == 0 and "RECORD" in capsys.readouterr().out


# --- doctor ------------------------------------------------------------------------------------------


def doctor_plugins(monkeypatch: pytest.MonkeyPatch, allowed: str | None) -> tuple[int, dict[str, str]]:
    from azure_appconfig_plugin.testing import fakes as azure_fakes

    for key, value in azure_fakes.fake_instance_env().items():
        monkeypatch.setenv(key, value)
    if allowed is None:
        monkeypatch.delenv(ALLOWLIST_ENV, raising=False)
    else:
        monkeypatch.setenv(ALLOWLIST_ENV, allowed)
    code, text = run("doctor", "--json")
    return code, next(c for c in json.loads(text)["checks"] if c["name"] == "plugins")


def test_doctor_reports_open_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    code, check = doctor_plugins(monkeypatch, None)
    assert (
        code == 0 and check["status"] == "ok" and check["detail"].startswith("open mode: every installed plugin loads")
    )


def test_doctor_reports_allow_list_mode_and_refused_plugins(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("acme-policy")
    site.install("zeta-tools", "0.3")
    code, check = doctor_plugins(
        monkeypatch, f"azure-appconfig-plugin,acme-policy==1.0@sha256:{site.digest('acme-policy')}"
    )
    assert code == 0 and check["status"] == "warning"
    assert check["detail"] == (
        f"allow-list mode (2 entries): not loaded: zeta-tools (blocked: zeta-tools is not listed in {ALLOWLIST_ENV})"
    )
    code, check = doctor_plugins(monkeypatch, "azure-appconfig-plugin,acme-policy,zeta-tools")
    assert (code, check["status"]) == (0, "ok") and check[
        "detail"
    ] == "allow-list mode (3 entries): every installed plugin is allowed"
    assert site.imported() == ["acme_policy_mod", "zeta_tools_mod"]


@pytest.mark.parametrize(
    ("allowed", "detail"),
    [
        ("", "this package is not loaded: APP_CONNECTIONS_ALLOWED_PLUGINS is set but empty"),
        (
            "azure-appconfig-plugin==0.0.1",
            "this package is not loaded: azure-appconfig-plugin 0.1.0 is installed; 0.0.1 is pinned",
        ),
        ("azure-appconfig-plugin,acme>=2", "entry 'acme>=2' uses a version range"),
    ],
)
def test_doctor_is_not_ready_when_the_allow_list_keeps_this_package_out(
    monkeypatch: pytest.MonkeyPatch, allowed: str, detail: str
) -> None:
    code, check = doctor_plugins(monkeypatch, allowed)
    assert code == 1 and check["status"] == "invalid" and detail in check["detail"]


# --- a refused plugin fails types and doctor ------------------------------------------------------


def test_a_tampered_pinned_plugin_fails_types_and_doctor(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site.install("acme-policy")
    allowed = f"azure-appconfig-plugin,{site.pin('acme-policy')}"
    (site.root / "acme_policy_mod" / "helpers.py").write_text("VALUE = 666\n")  # changed after pinning
    monkeypatch.setenv(ALLOWLIST_ENV, allowed)
    capsys.readouterr()
    code, text = run("types")
    assert code == 1 and "plugin acme-policy: REFUSED: tampered: acme_policy_mod/helpers.py changed" in text
    assert SLUG in text  # the rest is listed as usual
    assert "error: plugin trust refused 1 plugin (acme-policy)" in capsys.readouterr().err
    code, text = run("types", "--json")
    assert code == 1 and {p["plugin"]: p["status"] for p in json.loads(text)["trust"]["plugins"]}["acme-policy"] == (
        "refused"
    )
    code, check = doctor_plugins(monkeypatch, allowed)
    assert code == 1 and check["status"] == "invalid"
    assert "not loaded: acme-policy (refused: tampered: acme_policy_mod/helpers.py changed" in check["detail"]
    assert site.imported() == []


def test_a_plugin_kept_out_by_the_allow_list_is_not_a_failure(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("acme-policy")
    monkeypatch.setenv(ALLOWLIST_ENV, "azure-appconfig-plugin")
    code, _ = run("types", "--json")
    assert code == 0  # blocked is the policy working, not something wrong with what is installed
    code, check = doctor_plugins(monkeypatch, "azure-appconfig-plugin")
    assert code == 0 and check["status"] == "warning"
