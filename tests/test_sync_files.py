"""Secrets files of `azure-appconfig sync`: what a bad --from file and an unwritable --to path get
(exit 2, the flag and the problem named, nothing sent or left behind)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.sync.secret_files import write_secrets
from cli_helpers import client_secret_flags, run
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options, cli_env)

ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"


_TRAILING_COMMA = '{"A": "1",}'


def _json_error(text: str) -> str:
    """The json module's own words for ``text`` (they differ between Python versions)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc.msg
    raise AssertionError(f"{text!r} is valid JSON")


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("s.env", "A=1\nB='open\n", "s.env:2: unterminated single quote"),
        ("s.json", _TRAILING_COMMA, f"s.json is not JSON ({_json_error(_TRAILING_COMMA)} at line 1)"),
        ("s.json", '["A", "1"]', "s.json must hold a JSON object of name -> string"),
    ],
    ids=["dotenv-open-quote", "json-syntax", "json-not-an-object"],
)
def test_a_bad_secrets_file_exits_2_naming_the_problem_before_any_request(
    cli_env: StandIn, tmp_path: Path, capsys: Any, name: str, text: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    code, out = run(
        "sync",
        "push",
        "--from",
        str(path),
        "--endpoint",
        cli_env.endpoint,
        "--method",
        "client-secret",
        *client_secret_flags(),
    )
    err = capsys.readouterr().err
    assert code == 2 and out == "" and problem in err
    if name.endswith(".json"):
        assert err.startswith("error: ") and "--from: " in err
    assert cli_env.requests() == []


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("out.env/", "it is a folder; name a file in it"),
        ("missing/out.env", "folder {tmp}/missing does not exist"),
    ],
    ids=["a-folder", "in-a-missing-folder"],
)
def test_import_to_a_path_that_cannot_be_written_exits_2_before_any_request(
    cli_env: StandIn, tmp_path: Path, capsys: Any, target: str, problem: str
) -> None:
    cli_env.store.put("A", "v")
    if target.endswith("/"):
        (tmp_path / target).mkdir()
    path = tmp_path / target.rstrip("/")
    args = ["sync", "import", "--endpoint", cli_env.endpoint, "--method", "client-secret", *client_secret_flags()]
    code, _ = run(*args, "--to", str(path))  # no cassette: a token request would fail differently
    err = capsys.readouterr().err
    assert code == 2 and err == f"error: invalid input: --to: cannot write {path}: {problem.format(tmp=tmp_path)}\n"
    assert cli_env.requests() == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == (["out.env"] if target.endswith("/") else [])


def test_a_folder_that_is_not_writable_is_refused_before_any_request(
    cli_env: StandIn, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    real_access = os.access
    # root may write anywhere; ask os.access the way a normal user's run would be answered
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == folder else real_access(p, mode))
    args = ["sync", "import", "--endpoint", cli_env.endpoint, "--method", "client-secret", *client_secret_flags()]
    code, _ = run(*args, "--to", str(folder / "out.json"))
    err = capsys.readouterr().err
    assert (
        code == 2
        and err == f"error: invalid input: --to: cannot write {folder / 'out.json'}: folder {folder} is not writable\n"
    )
    assert cli_env.requests() == [] and list(folder.iterdir()) == []


def test_a_target_that_turns_into_a_folder_after_the_check_still_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "out.env"
    folder.mkdir()  # the write itself, too, refuses it (the check ran earlier, before the import)
    with pytest.raises(InvalidInput) as info:
        write_secrets(folder, {"A": "1"}, flag="--to")
    (error,) = info.value.errors
    assert error.field == "--to" and error.message.startswith(f"cannot write {folder}: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.env"] and list(folder.iterdir()) == []


def test_writing_into_a_missing_folder_names_the_flag(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "out.json"
    with pytest.raises(InvalidInput) as info:
        write_secrets(target, {"A": "1"}, flag="--to")
    (error,) = info.value.errors
    assert error.field == "--to" and error.message == f"cannot write {target}: No such file or directory"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("force", "move"), [(True, "replace"), (False, "link")], ids=["force", "new-file"])
def test_an_interrupted_write_leaves_no_file_and_is_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, force: bool, move: str
) -> None:
    import os

    def interrupted(src: Any, dst: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C between writing the temporary file and moving it into place

    monkeypatch.setattr(os, move, interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_secrets(tmp_path / "out.env", {"A": "1"}, force=force)
    assert list(tmp_path.iterdir()) == []
