"""A host pushes through the registry; an operator pushes a dotenv file with `azure-appconfig sync`."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from app_connections.loader import load_plugins
from app_connections.testing import fakes
from azure_appconfig_plugin.cli_common import ProgressLine
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from cli_helpers import client_secret_flags, run
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options, cli_env)

CANARY = "canary-cli-sync-secret-4Rk"
ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"


def connection() -> dict[str, Any]:
    return ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, fakes.FAKE_CLIENT_SECRET).to_dict()


def test_a_host_pushes_through_the_registry_api(azure_vcr: Any, standin: StandIn) -> None:
    registry = load_plugins(env={})
    destination: Any = registry.syncs["azure-app-configuration"]  # ours: parse_destination, push beyond the protocol
    assert destination.slug == "azure-app-configuration" and destination.name == "Azure App Configuration"
    assert registry.get(destination.connection_type).slug == "azure-app-configuration"
    config = destination.parse_destination(
        {"endpoint": standin.endpoint, "keyPrefix": "app/", "label": "prod"}, env={ALLOW: standin.allow_list}
    )
    options = {"env": {ALLOW: standin.allow_list}, "client_options": {"connection_verify": standin.ca_path}}
    with azure_vcr.use_cassette("client_secret_token.yaml", ignore_localhost=True) as cassette:
        report = destination.push(connection(), config, {"DB_PASSWORD": CANARY, "API_KEY": "k"}, **options)
    assert cassette.all_played and standin.bearer_tokens == {"fake-access-token"}
    assert report.ok and report.counts["created"] == 2 and report.requests == 3
    assert standin.store.entry("app/DB_PASSWORD", "prod")["value"] == CANARY
    assert CANARY not in repr(report) and CANARY not in json.dumps(report.to_dict())


def test_cli_plan_then_push_a_dotenv_file(azure_vcr: Any, cli_env: StandIn, tmp_path: Path, capsys: Any) -> None:
    cli_env.store.put("app/OLD", "stale")
    cli_env.store.put("app/SAME", "same")
    env_file = tmp_path / "secrets.env"
    env_file.write_text(f'DB_PASSWORD="{CANARY}"\nSAME=same\nexport API_KEY=k\n')
    args = [
        "--from",
        str(env_file),
        "--endpoint",
        cli_env.endpoint,
        "--key-prefix",
        "app/",
        "--delete-missing",
        "--json",
        "--method",
        "client-secret",
        *client_secret_flags(),
    ]
    with azure_vcr.use_cassette("client_secret_token.yaml", ignore_localhost=True):
        code, planned = run("sync", "plan", *args)
        assert code == 0 and cli_env.requests("PUT") == [] and cli_env.requests("DELETE") == []
        code, pushed = run("sync", "push", *args)
    plan, push = json.loads(planned), json.loads(pushed)
    assert code == 0 and push["ok"] is True and set(push) == {"ok", "counts", "changes", "requests"}
    assert (
        [(c["key"], c["action"]) for c in plan["changes"]]
        == [(c["key"], c["action"]) for c in push["changes"]]
        == [("app/DB_PASSWORD", "create"), ("app/SAME", "none"), ("app/API_KEY", "create"), ("app/OLD", "delete")]
    )
    assert (
        plan["counts"]
        == push["counts"]
        == {"created": 2, "updated": 0, "deleted": 1, "unchanged": 1, "skipped": 0, "conflicts": 0, "failed": 0}
    )
    assert push["requests"] == 1 + 3 and set(push["changes"][0]) == {"key", "label", "action", "status", "detail"}
    assert cli_env.store.entry("app/DB_PASSWORD")["value"] == CANARY and cli_env.store.get("app/OLD") is None
    assert CANARY not in planned + pushed + capsys.readouterr().err
    assert "[#" not in capsys.readouterr().err  # no progress bar when stderr is not a terminal


def test_cli_push_exits_1_on_a_conflict_and_prints_each_key(azure_vcr: Any, cli_env: StandIn, tmp_path: Path) -> None:
    cli_env.store.put("LOCKED", "old", locked=True)
    secrets = tmp_path / "s.json"
    secrets.write_text(json.dumps({"LOCKED": "new", "FREE": "x"}))
    with azure_vcr.use_cassette("client_secret_token.yaml", ignore_localhost=True):
        code, text = run(
            "sync",
            "push",
            "--from",
            str(secrets),
            "--endpoint",
            cli_env.endpoint,
            "--method",
            "client-secret",
            *client_secret_flags(),
        )
    assert code == 1
    assert (
        "1 created" in text
        and "1 conflicts" in text
        and "LOCKED [(no label)]  locked" in text
        and "FREE [(no label)]  applied" in text
    )


def test_cli_bad_input_exits_2_before_any_request(cli_env: StandIn, tmp_path: Path, capsys: Any) -> None:
    secrets = tmp_path / "s.env"
    secrets.write_text("A=1\n")
    base = [
        "sync",
        "push",
        "--from",
        str(secrets),
        "--endpoint",
        cli_env.endpoint,
        "--method",
        "client-secret",
        *client_secret_flags(),
    ]
    assert run(*base, "--label", "a*")[0] == 2
    assert "label: must not contain '*'" in capsys.readouterr().err
    assert run(*base, "--key-prefix", "p", "--key-template", "t/{secretKey}")[0] == 2
    assert run(*base, "--concurrency", "0")[0] == 2
    assert (
        run(
            "sync",
            "push",
            "--from",
            str(tmp_path / "missing.env"),
            "--endpoint",
            cli_env.endpoint,
            "--method",
            "client-secret",
            *client_secret_flags(),
        )[0]
        == 2
    )
    assert run("sync", "push", "--from", str(secrets), "--endpoint", cli_env.endpoint)[0] == 2
    assert "--credentials" in capsys.readouterr().err
    assert cli_env.requests() == []


def test_cli_import_writes_a_private_file(azure_vcr: Any, cli_env: StandIn, tmp_path: Path, capsys: Any) -> None:
    cli_env.store.put("app/A", CANARY, label="prod")
    cli_env.store.put(
        "app/REF",
        json.dumps({"uri": "https://kv1.vault.azure.net/secrets/s"}),
        label="prod",
        content_type="application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8",
    )
    out_file = tmp_path / "imported.env"
    with azure_vcr.use_cassette("client_secret_token.yaml", ignore_localhost=True):
        code, text = run(
            "sync",
            "import",
            "--endpoint",
            cli_env.endpoint,
            "--label",
            "prod",
            "--key-prefix",
            "app/",
            "--to",
            str(out_file),
            "--json",
            "--method",
            "client-secret",
            *client_secret_flags(),
        )
    report = json.loads(text)
    assert code == 0 and report["counts"]["imported"] == 2 and report["requests"] == 1
    assert out_file.read_text() == f'A="{CANARY}"\nREF="https://kv1.vault.azure.net/secrets/s"\n'
    assert oct(os.stat(out_file).st_mode & 0o777) == "0o600"
    err = capsys.readouterr().err
    assert "Key Vault references (written as their secret URI): REF" in err and CANARY not in text + err


def test_cli_says_when_the_destination_is_blocked(
    cli_env: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("APP_CONNECTIONS_BLOCKED_PLUGINS", "azure-app-configuration")
    (tmp_path / "s.env").write_text("A=1\n")
    assert (
        run(
            "sync",
            "push",
            "--from",
            str(tmp_path / "s.env"),
            "--endpoint",
            cli_env.endpoint,
            "--method",
            "client-secret",
            *client_secret_flags(),
        )[0]
        == 2
    )
    assert "no 'azure-app-configuration' sync destination is registered" in capsys.readouterr().err


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _Tty()
    bar = ProgressLine(stream, "push")
    for done in range(1, 101):
        bar(done, 100)
    text = stream.getvalue()
    assert text.startswith("\rpush [") and text.endswith(f"[{'#' * 30}] 100/100\n") and text.count("\r") < 20
    import argparse

    import azure_appconfig_plugin.cli_common as cli_common

    monkeypatch.setattr(sys, "stderr", stream)  # progress_line reads sys.stderr when called
    assert isinstance(cli_common.progress_line(argparse.Namespace(json=False), "push"), ProgressLine)
    assert cli_common.progress_line(argparse.Namespace(json=True), "push") is None
    assert cli_common.progress_line(argparse.Namespace(json=False), "push", io.StringIO()) is None  # not a terminal


def test_progress_line_shows_the_listing_and_throttled_waits_with_their_unit() -> None:
    stream, now = _Tty(), [0.0]
    line = ProgressLine(stream, "push", clock=lambda: now[0])
    line.status("listing the scope: 100 entries, 1 page")
    line.status("listing the scope: 200 entries, 2 pages")  # within 0.1 s: not redrawn
    line.status("throttled (429): asked to wait 5 s")  # a wait is always shown
    now[0] = 1.0
    line(1, 4)
    line.close()
    drawn = stream.getvalue().split("\r")[1:]
    assert [d.rstrip() for d in drawn] == [
        "push listing the scope: 100 entries, 1 page",
        "push throttled (429): asked to wait 5 s",
        f"push [{'#' * 7}{'.' * 23}] 1/4 throttled (429): asked to wait 5 s",
    ]
    assert stream.getvalue().endswith("\n")
    line.close()  # a closed line is not ended twice
    assert stream.getvalue().count("\n") == 1


def test_cli_push_with_an_access_key_credentials_file(cli_env: StandIn, tmp_path: Path) -> None:
    import base64
    import os

    creds = tmp_path / "akey.json"
    creds.write_text(
        json.dumps(
            {
                "method": "access-key",
                "endpoint": cli_env.endpoint,
                "id": "cli-key-id",
                "secret": base64.b64encode(b"cli-access-key-secret").decode(),
                "cloud": "public",
            }
        )
    )
    os.chmod(creds, 0o600)
    secrets = tmp_path / "s.json"
    secrets.write_text(json.dumps({"A": CANARY}))
    code, text = run(
        "sync", "push", "--from", str(secrets), "--endpoint", cli_env.endpoint, "--credentials", str(creds), "--json"
    )
    assert code == 0 and json.loads(text)["counts"]["created"] == 1 and CANARY not in text
    assert cli_env.hmac_credentials == {"cli-key-id"} and cli_env.bearer_tokens == set()
    assert cli_env.store.entry("A")["value"] == CANARY


def test_a_progress_line_closed_between_redraws_ends_with_its_last_state() -> None:
    stream, now = _Tty(), [0.0]
    line = ProgressLine(stream, "import", clock=lambda: now[0])
    line.status("listing the scope: 100 entries, 1 page")
    line.status("listing the scope: 150 entries, 2 pages")  # within 0.1 s: held back
    line.close()
    assert stream.getvalue().split("\r")[-1].rstrip() == "import listing the scope: 150 entries, 2 pages"
    assert stream.getvalue().endswith("\n")


def test_a_failure_cause_is_its_detail_without_its_own_key() -> None:
    from azure_appconfig_plugin.cli_sync import _cause
    from azure_appconfig_plugin.sync.report import Action, Change, Status

    def cause(key: str, detail: str) -> str:
        return _cause(Change(key, None, Action.CREATE, Status.FAILED, detail))

    assert (
        cause("a b/c", "ConnectionError: /kv/a%20b%2Fc?label=x refused") == "ConnectionError: /kv/<key>?label=x refused"
    )
    assert cause("", "") == "failed"  # no detail: the status is the cause; an empty key replaces nothing
    refused = "ServiceRequestError: <urllib3.connection.HTTPSConnection object at {}>: Connection refused"
    assert cause("A", refused.format("0x7f5ce4815110")) == cause("B", refused.format("0x7f5ce48151d0"))
