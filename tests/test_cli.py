"""The `azure-appconfig` console script, run in-process."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import stat
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.settings import CLIENT_SECRET_ENV
from azure_appconfig_plugin.testing import fakes as azure_fakes
from builtin import BUILTIN_METHODS
from cassettes_auth import OAUTH_TOKENS
from cli_helpers import client_secret_flags, run

CANARY = "canary-cli-secret-Q8~zz"


# --- types / schema / doctor -------------------------------------------------------------------


def test_types_lists_our_plugin_from_its_entry_point() -> None:
    code, text = run("types", "--json")
    data = json.loads(text)
    ours = next(t for t in data["types"] if t["slug"] == "azure-app-configuration")
    assert code == 0 and ours["name"] == "Azure App Configuration"
    assert [m["slug"] for m in ours["methods"]] == BUILTIN_METHODS
    assert ours["distribution"] == "azure-appconfig-plugin"
    code, text = run("types")
    assert "azure-app-configuration: Azure App Configuration" in text


def test_schema_without_method_is_keyed_by_method() -> None:
    code, text = run("schema")
    data = json.loads(text)
    assert code == 0 and set(data) == set(BUILTIN_METHODS)
    code, text = run("schema", "--method", "client-secret", "--json")
    assert json.loads(text)["required"] == ["tenantId", "clientId", "clientSecret"]


def test_unknown_method_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("schema", "--method", "password")
    assert code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [["types"], ["schema"], ["doctor"], ["validate"], ["connect"], ["connect", "oauth"], ["connect", "client-secret"]],
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(*command, "--help")
    assert code == 0 and "usage: azure-appconfig" in capsys.readouterr().out


def test_doctor_ready(fake_instance_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLIENT_SECRET_ENV, CANARY)
    code, text = run("doctor", "--json")
    data = json.loads(text)
    assert code == 0 and data["ready"] is True
    assert data["redirectUri"] == "https://secrets.example.com/organization/app-connections/azure/oauth/callback"
    assert data["permissions"] == ["KeyValue.Read", "KeyValue.Write", "KeyValue.Delete"]
    assert {c["status"] for c in data["checks"]} == {"ok"}
    assert all(set(c) == {"name", "status", "detail"} for c in data["checks"])
    code, human = run("doctor")
    assert code == 0 and "READY" in human and data["redirectUri"] in human
    assert CANARY not in text and CANARY not in human


def test_doctor_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in azure_fakes.fake_instance_env():
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SITE_URL", "http://secrets.example.com/?a=b")
    monkeypatch.setenv(CLIENT_SECRET_ENV, " " + CANARY)
    code, text = run("doctor", "--json")
    data = json.loads(text)
    statuses = {c["name"]: c["status"] for c in data["checks"]}
    assert code == 1 and data["ready"] is False and data["redirectUri"] is None
    assert statuses == {
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_ID": "missing",
        "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_CLIENT_SECRET": "invalid",
        "SITE_URL": "invalid",
        "plugins": "ok",
    }
    code, human = run("doctor")
    assert "NOT READY" in human and "Fix SITE_URL" in human
    assert CANARY not in text and CANARY not in human


def test_doctor_warns_about_a_secret_id_and_loopback(
    monkeypatch: pytest.MonkeyPatch, fake_instance_env: dict[str, str]
) -> None:
    monkeypatch.setenv(CLIENT_SECRET_ENV, fakes.FAKE_OBJECT_ID)
    monkeypatch.setenv("SITE_URL", "http://localhost:8080/")
    code, text = run("doctor", "--json")
    data = json.loads(text)
    assert code == 0 and data["ready"]
    assert data["redirectUri"] == "http://localhost:8080/organization/app-connections/azure/oauth/callback"
    assert [c["status"] for c in data["checks"]].count("warning") == 2
    assert fakes.FAKE_OBJECT_ID not in text


# --- validate -------------------------------------------------------------------------------


def test_validate_client_secret_json(
    azure_vcr, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZ_SECRET", CANARY)
    with azure_vcr.use_cassette("store_healthy.yaml"):
        code, text = run(
            "validate",
            "--method",
            "client-secret",
            *client_secret_flags("--endpoint", fakes.FAKE_STORE_ENDPOINT + "/", "--json"),
        )
    data = json.loads(text)
    assert code == 0 and data["ok"] is True
    assert [c["name"] for c in data["checks"]] == [
        "input",
        "endpoint",
        "token",
        "KeyValue.Read",
        "KeyValue.Write",
        "KeyValue.Delete",
    ]
    assert CANARY not in text + capsys.readouterr().err


def test_validate_text_report_tells_what_to_fix(azure_vcr, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZ_SECRET", CANARY)
    with azure_vcr.use_cassette("store_read_only.yaml"):
        code, text = run(
            "validate", "--method", "client-secret", *client_secret_flags("--endpoint", fakes.FAKE_STORE_ENDPOINT)
        )
    assert code == 1
    assert "does NOT work yet" in text and "[      FAILED] KeyValue.Write" in text
    assert "fix: Assign the role App Configuration Data Owner" in text
    assert CANARY not in text


def test_validate_secret_from_stdin(azure_vcr, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(CANARY + "\n"))
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        code, text = run(
            "validate",
            "--method",
            "client-secret",
            "--tenant-id",
            fakes.FAKE_TENANT_ID,
            "--client-id",
            fakes.FAKE_CLIENT_ID,
            "--client-secret-stdin",
            "--json",
        )
    assert code == 0 and json.loads(text)["ok"]


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "--method", "client-secret", "--tenant-id", "not a tenant"],
        ["validate", "--method", "client-secret", *client_secret_flags("--endpoint", "http://evil.example.com")],
        ["validate", "--method", "oauth"],
        ["validate", "--method", "client-secret", "--client-secret-env", "NOT_SET_ANYWHERE"],
    ],
)
def test_validate_bad_input_exits_2(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZ_SECRET", CANARY)
    code, text = run(*argv)
    assert code == 2
    assert CANARY not in text + capsys.readouterr().err


def test_validate_oauth_credentials_file_is_rewritten_on_rotation(
    azure_vcr, tmp_path: Path, fake_instance_env: dict[str, str]
) -> None:
    path = tmp_path / "conn.json"
    path.write_text(
        json.dumps(
            {
                "method": "oauth",
                "tenantId": fakes.FAKE_TENANT_ID,
                "clientId": fakes.FAKE_INSTANCE_CLIENT_ID,
                "refreshToken": "fake-refresh-token-1",
                "cloud": "public",
            }
        )
    )
    os.chmod(path, 0o600)
    with azure_vcr.use_cassette("oauth_refresh_rotates.yaml"):
        code, text = run("validate", "--method", "oauth", "--credentials", str(path), "--json")
    assert code == 0, text
    saved = json.loads(path.read_text())
    assert saved["refreshToken"] == "fake-refresh-token-2"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "fake-refresh-token" not in text
    assert [p.name for p in tmp_path.iterdir()] == ["conn.json"]  # no temp files left


# --- connect ----------------------------------------------------------------------------------


def test_connect_client_secret_writes_a_private_file(
    azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZ_SECRET", CANARY)
    target = tmp_path / "conn.json"
    with azure_vcr.use_cassette("store_healthy.yaml"):
        code, text = run(
            "connect",
            "client-secret",
            *client_secret_flags("--endpoint", fakes.FAKE_STORE_ENDPOINT, "--output", str(target)),
        )
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["clientSecret"] == CANARY
    assert CANARY not in text + capsys.readouterr().err


def test_connect_prints_secrets_only_with_stdout_flag(azure_vcr, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZ_SECRET", CANARY)
    with azure_vcr.use_cassette("client_secret_token.yaml"):
        code, text = run("connect", "client-secret", *client_secret_flags("--stdout"))
    assert code == 0 and json.loads(text)["clientSecret"] == CANARY


def test_connect_saves_nothing_when_validation_fails(
    azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AZ_SECRET", CANARY)
    target = tmp_path / "conn.json"
    with azure_vcr.use_cassette("client_secret_invalid_secret.yaml"):
        code, _ = run("connect", "client-secret", *client_secret_flags("--output", str(target)))
    assert code == 1 and not target.exists()
    assert "Nothing was saved" in capsys.readouterr().err


def test_connect_requires_an_output_choice(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("connect", "client-secret", *client_secret_flags())
    assert code == 2 and "--output" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    import itertools

    it = itertools.cycle(OAUTH_TOKENS)
    monkeypatch.setattr("azure_appconfig_plugin.auth.oauth._random_token", lambda: next(it))


def test_connect_oauth_with_loopback_callback(
    azure_vcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_instance_env: dict[str, str]
) -> None:
    port = _free_port()
    monkeypatch.setenv("SITE_URL", f"http://127.0.0.1:{port}")
    _deterministic(monkeypatch)
    target = tmp_path / "oauth.json"
    out = io.StringIO()
    result: dict[str, Any] = {}
    with azure_vcr.use_cassette("oauth_complete_tenant.yaml", ignore_localhost=True):
        worker = threading.Thread(
            target=lambda: result.setdefault(
                "code",
                main(
                    [
                        "connect",
                        "oauth",
                        "--tenant-id",
                        fakes.FAKE_TENANT_ID,
                        "--no-browser",
                        "--timeout",
                        "20",
                        "--output",
                        str(target),
                    ],
                    out=out,
                ),
            )
        )
        worker.start()
        deadline = time.time() + 10
        while "state=" not in out.getvalue() and time.time() < deadline:
            time.sleep(0.01)
        url = out.getvalue().strip().splitlines()[0]
        q = parse_qs(urlsplit(url).query)
        assert q["redirect_uri"] == [f"http://127.0.0.1:{port}/organization/app-connections/azure/oauth/callback"]
        with urllib.request.urlopen(f"{q['redirect_uri'][0]}?code=fake-code&state={q['state'][0]}") as resp:
            assert b"You can close this window" in resp.read()
        worker.join(20)
    assert result["code"] == 0
    saved = json.loads(target.read_text())
    assert saved["tenantId"] == fakes.FAKE_TENANT_ID and saved["refreshToken"] == "fake-refresh-token-1"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_connect_oauth_with_pasted_callback(
    azure_vcr, monkeypatch: pytest.MonkeyPatch, fake_instance_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _deterministic(monkeypatch)
    state = OAUTH_TOKENS[0]
    monkeypatch.setattr(
        "sys.stdin",
        io.StringIO(
            f"https://secrets.example.com/organization/app-connections/azure/oauth/callback?code=fake-code&state={state}&session_state=x\n"
        ),
    )
    with azure_vcr.use_cassette("oauth_complete_organizations.yaml"):
        code, text = run("connect", "oauth", "--no-browser", "--stdout")
    assert code == 0
    assert json.loads(text)["refreshToken"] == "fake-refresh-token-1"  # stdout holds only the credentials
    err = capsys.readouterr().err
    assert "paste the full URL" in err
    assert "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?" in err


def test_connect_oauth_forged_state_is_rejected(
    monkeypatch: pytest.MonkeyPatch, fake_instance_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("https://secrets.example.com/cb?code=c&state=forged\n"))
    code, _ = run("connect", "oauth", "--no-browser", "--stdout")
    assert code == 1 and "possible forgery" in capsys.readouterr().err


def test_version_names_the_package_and_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    from app_connections.hostspec import CONTRACT_VERSION
    from azure_appconfig_plugin import __version__

    assert main(["--version"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == f"azure-appconfig-plugin {__version__} (app_connections contract {CONTRACT_VERSION})"
    assert re.fullmatch(r"\d+\.\d+", CONTRACT_VERSION)


def test_types_names_a_blocked_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_CONNECTIONS_BLOCKED_PLUGINS", "azure-app-configuration")
    code, text = run("types")
    assert code == 0
    assert "blocked: azure-app-configuration (listed in APP_CONNECTIONS_BLOCKED_PLUGINS)\n" in text
    assert "azure-app-configuration: Azure App Configuration" not in text


def test_an_interrupted_command_exits_130_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure_appconfig_plugin import cli

    def interrupted(args: Any, out: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_types", interrupted)
    out, err = io.StringIO(), io.StringIO()
    assert main(["types"], out=out, err=err) == 130
    assert err.getvalue() == "interrupted\n" and out.getvalue() == ""


def test_a_closed_output_pipe_ends_the_command_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from azure_appconfig_plugin import cli

    def reader_gone(args: Any, out: Any) -> int:  # e.g. `azure-appconfig schema | head -1`
        raise BrokenPipeError

    monkeypatch.setattr(cli, "cmd_types", reader_gone)
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main() replaces it with /dev/null; restored after the test
    err = io.StringIO()
    assert main(["types"], out=io.StringIO(), err=err) == 0
    assert err.getvalue() == ""
    assert sys.stdout.name == os.devnull
    sys.stdout.close()


@pytest.mark.parametrize("raised", [RuntimeError("a bug in the command"), SystemExit(3)])
def test_a_bug_or_an_exit_in_a_command_is_not_reported_as_a_library_panic(
    monkeypatch: pytest.MonkeyPatch, raised: BaseException
) -> None:
    """Only a library's panic becomes "a library failed on this input"; a bug in a command keeps
    its traceback (and an exit its code), unchanged and with nothing written for it."""
    from azure_appconfig_plugin import cli

    def failing(args: Any, out: Any) -> int:
        raise raised

    monkeypatch.setattr(cli, "cmd_types", failing)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(type(raised)) as info:
        main(["types"], out=out, err=err)
    assert info.value is raised
    assert err.getvalue() == "" and out.getvalue() == ""
