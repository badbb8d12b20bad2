"""`azure-appconfig sync` files and streams: `--from -` (stdin, never echoed), `--format`, any file
name, `import --to` that never overwrites without `--force` and never writes an empty file, and an
import then push of hostile values that changes nothing."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values

from cli_helpers import run
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]

ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"
CANARY = "canary-stdin-secret-9Qz"


@pytest.fixture
def store(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    monkeypatch.setenv(ALLOW, standin.allow_list)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", standin.ca_path)
    return standin


@pytest.fixture
def creds(store: StandIn, tmp_path: Path) -> str:
    path = tmp_path / "akey.json"
    path.write_text(
        json.dumps(
            {
                "method": "access-key",
                "endpoint": store.endpoint,
                "id": "stream-key-id",
                "secret": base64.b64encode(b"stream-access-key-secret").decode(),
                "cloud": "public",
            }
        )
    )
    os.chmod(path, 0o600)
    return str(path)


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def _push(store: StandIn, creds: str, *args: str) -> tuple[int, str]:
    return run("sync", "push", "--endpoint", store.endpoint, "--credentials", creds, *args)


@pytest.mark.parametrize(
    ("fmt", "data"),
    [("env", f'A="{CANARY}"\nB=two\n'.encode()), ("json", json.dumps({"A": CANARY, "B": "two"}).encode())],
)
def test_push_from_stdin_with_a_format(
    store: StandIn, creds: str, monkeypatch: pytest.MonkeyPatch, capsys: Any, fmt: str, data: bytes
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(data))
    code, out = _push(store, creds, "--from", "-", "--format", fmt)
    err = capsys.readouterr().err
    assert code == 0 and store.store.entry("A")["value"] == CANARY and store.store.entry("B")["value"] == "two"
    assert CANARY not in out and CANARY not in err  # stdin is never echoed


def test_stdin_problems_name_the_line_never_the_value(
    store: StandIn, creds: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(f"A={CANARY}\nB='{CANARY}\n".encode()))
    code, out = _push(store, creds, "--from", "-", "--format", "env")
    err = capsys.readouterr().err
    assert code == 2 and "stdin:2: unterminated single quote" in err
    assert CANARY not in out + err and store.requests() == []


def test_stdin_needs_a_format_and_cannot_also_carry_the_client_secret(
    store: StandIn, creds: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(b"A=1\n"))
    code, _ = _push(store, creds, "--from", "-")
    assert code == 2 and "--format: --from - (stdin) needs --format json or --format env" in capsys.readouterr().err
    code, _ = run(
        "sync",
        "push",
        "--from",
        "-",
        "--format",
        "env",
        "--endpoint",
        store.endpoint,
        "--method",
        "client-secret",
        "--tenant-id",
        "t",
        "--client-id",
        "c",
        "--client-secret-stdin",
    )
    err = capsys.readouterr().err
    assert code == 2 and "--client-secret-stdin: stdin already carries --from -; use --client-secret-env VAR" in err
    assert store.requests() == []


def test_a_secrets_file_that_cannot_be_read_or_is_not_utf8_is_a_usage_error(
    store: StandIn, creds: str, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "latin1.env").write_bytes(b"A=caf\xe9\n")
    code, _ = _push(store, creds, "--from", str(tmp_path / "latin1.env"))
    assert code == 2 and "it is not UTF-8 text" in capsys.readouterr().err
    code, _ = _push(store, creds, "--from", str(tmp_path / "missing.env"))
    assert code == 2 and "No such file or directory" in capsys.readouterr().err
    from azure_appconfig_plugin.sync import secret_files

    monkeypatch.setattr(secret_files, "MAX_INPUT_BYTES", 8)
    (tmp_path / "big.json").write_text('{"A": "123456789"}')
    code, _ = _push(store, creds, "--from", str(tmp_path / "big.json"))
    assert code == 2 and "big.json is larger than 8 bytes" in capsys.readouterr().err
    assert store.requests() == []


@pytest.mark.parametrize(
    ("name", "extra"),
    [(".env.local", []), ("prod.env.local", []), ("secrets.dotenv", []), ("secrets.txt", ["--format", "env"])],
)
def test_any_file_name_is_read(store: StandIn, creds: str, tmp_path: Path, name: str, extra: list[str]) -> None:
    (tmp_path / name).write_text("A=1\n")
    code, _ = _push(store, creds, "--from", str(tmp_path / name), *extra)
    assert code == 0 and store.store.entry("A")["value"] == "1"


def test_a_name_that_does_not_say_the_format_asks_for_format(
    store: StandIn, creds: str, tmp_path: Path, capsys: Any
) -> None:
    (tmp_path / "secrets.txt").write_text("A=1\n")
    code, _ = _push(store, creds, "--from", str(tmp_path / "secrets.txt"))
    assert code == 2 and "give --format json or --format env" in capsys.readouterr().err
    assert store.requests() == []


def _import(store: StandIn, creds: str, *args: str) -> tuple[int, str]:
    return run("sync", "import", "--endpoint", store.endpoint, "--credentials", creds, *args)


def test_import_never_overwrites_a_file_without_force(store: StandIn, creds: str, tmp_path: Path, capsys: Any) -> None:
    store.store.put("A", "from-store")
    target = tmp_path / "out.env"
    target.write_text("KEEP=me\n")
    code, _ = _import(store, creds, "--to", str(target))
    assert code == 2 and f"--to: {target} exists; give --force to replace it" in capsys.readouterr().err
    assert target.read_text() == "KEEP=me\n" and store.requests() == []  # refused before any request
    code, _ = _import(store, creds, "--to", str(target), "--force")
    assert code == 0 and dotenv_values(target) == {"A": "from-store"}
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_a_file_that_appears_during_the_import_is_not_overwritten(
    store: StandIn, creds: str, tmp_path: Path, capsys: Any
) -> None:
    store.store.put("A", "from-store")
    target = tmp_path / "out.json"
    store.after_list.append(lambda _: target.write_text("{}"))  # someone writes it while the scope is listed
    code, _ = _import(store, creds, "--to", str(target))
    assert code == 2 and "exists; give --force to replace it" in capsys.readouterr().err
    assert target.read_text() == "{}" and sorted(p.name for p in tmp_path.iterdir()) == ["akey.json", "out.json"]


def test_an_import_that_finds_nothing_in_scope_says_so_and_writes_nothing(
    store: StandIn, creds: str, tmp_path: Path, capsys: Any
) -> None:
    store.store.put("A", "v", label="prod")
    target = tmp_path / "out.env"
    code, out = _import(store, creds, "--to", str(target), "--label", "prdo")  # a mistyped label
    err = capsys.readouterr().err
    assert code == 1 and "0 imported" in out
    assert f"Nothing written to {target}: no secret found in the scope" in err and not target.exists()


def test_an_import_whose_listing_failed_writes_nothing(store: StandIn, creds: str, tmp_path: Path, capsys: Any) -> None:
    store.store.put("A", "v")
    store.inject("GET", "/kv", 403)
    target = tmp_path / "out.env"
    code, _ = _import(store, creds, "--to", str(target))
    assert code == 1 and "the import did not complete" in capsys.readouterr().err and not target.exists()


def test_import_with_a_format_writes_any_file_name(store: StandIn, creds: str, tmp_path: Path) -> None:
    store.store.put("A", "1")
    code, _ = _import(store, creds, "--to", str(tmp_path / "secrets.txt"), "--format", "json")
    assert code == 0 and json.loads((tmp_path / "secrets.txt").read_text()) == {"A": "1"}


def test_import_then_push_of_hostile_values_changes_nothing_and_adds_no_secret(
    store: StandIn, creds: str, tmp_path: Path
) -> None:
    values = {
        "LS": 'x"\u2028EVIL=pwned\u2028Y="',
        "DOLLAR": "pa$$word$HOME\\$x",
        "PEM": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
        "HASH": "v # not a comment",
        "CR": "a\rb\r\nc",
    }
    for key, value in values.items():
        store.store.put(key, value)
    target = tmp_path / "round.env"
    assert _import(store, creds, "--to", str(target))[0] == 0
    assert dotenv_values(target) == values
    code, out = _push(store, creds, "--from", str(target), "--delete-missing", "--json")
    assert code == 0 and json.loads(out)["counts"]["unchanged"] == len(values)
    assert {k: v["value"] for (k, _), v in store.store.snapshot().items()} == values  # no EVIL, nothing changed
