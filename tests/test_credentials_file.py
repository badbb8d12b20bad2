"""The CLI's credentials file: every way it can fail to be written or read is a typed error naming the file and the
fix, and a failed write leaves nothing behind (credentials_file.py)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from azure_appconfig_plugin import credentials_file
from azure_appconfig_plugin.credentials_file import (
    MAX_FILE_BYTES,
    is_private,
    output_problem,
    read_credentials,
    write_credentials,
)
from azure_appconfig_plugin.errors import CredentialsFileError

DATA = {"method": "client-secret", "tenant_id": "t", "client_id": "c", "client_secret": "s3cret"}


def _only_message(exc: CredentialsFileError) -> str:
    assert len(exc.errors) == 1
    return str(exc.errors[0])


def test_an_empty_output_name_is_refused() -> None:
    assert output_problem("") == "is empty; name the file to write"


def test_a_directory_as_output_is_refused(tmp_path: Path) -> None:
    assert output_problem(tmp_path) == "is a directory; name a file inside it"


def test_an_output_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert output_problem(missing / "creds.json") == f"cannot be created: the directory {missing} does not exist"


def test_an_output_in_an_unwritable_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # os.access answers True for root whatever the mode bits, so the refusal is driven through os.access itself
    monkeypatch.setattr(credentials_file.os, "access", lambda path, mode: Path(path) != tmp_path)
    assert output_problem(tmp_path / "creds.json") == f"cannot be created: the directory {tmp_path} is not writable"


def test_an_existing_unwritable_output_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "creds.json"
    target.write_text("{}")
    monkeypatch.setattr(credentials_file.os, "access", lambda path, mode: Path(path) != target)
    assert output_problem(target) == "exists and is not writable"
    with pytest.raises(CredentialsFileError) as caught:
        write_credentials(target, DATA)
    assert _only_message(caught.value) == f"--output: {target} exists and is not writable"
    assert target.read_text() == "{}"


def test_a_relative_output_name_is_written_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert output_problem("creds.json") is None
    written = write_credentials("creds.json", DATA)
    assert written == Path("creds.json")
    assert json.loads((tmp_path / "creds.json").read_text()) == DATA
    assert is_private(tmp_path / "creds.json")
    assert stat.S_IMODE((tmp_path / "creds.json").stat().st_mode) == 0o600


def test_a_temporary_file_that_cannot_be_created_is_a_typed_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: Any) -> tuple[int, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(credentials_file.tempfile, "mkstemp", refuse)
    target = tmp_path / "creds.json"
    with pytest.raises(CredentialsFileError) as caught:
        write_credentials(target, DATA)
    assert _only_message(caught.value) == f"--output: cannot write {target}: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_is_a_typed_error_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(credentials_file.os, "fsync", full_disk)
    target = tmp_path / "creds.json"
    with pytest.raises(CredentialsFileError) as caught:
        write_credentials(target, DATA)
    assert _only_message(caught.value) == f"--output: cannot write {target}: No space left on device"
    assert "s3cret" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "creds.json"
    write_credentials(target, {"old": True})

    def refuse_replace(src: str, dst: Path) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(credentials_file.os, "replace", refuse_replace)
    with pytest.raises(CredentialsFileError):
        write_credentials(target, DATA)
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["creds.json"]


def test_an_interrupted_write_is_not_converted_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(credentials_file.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_credentials(tmp_path / "creds.json", DATA)
    assert list(tmp_path.iterdir()) == []


def test_data_that_is_not_json_is_not_written(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_credentials(tmp_path / "creds.json", {"when": object()})
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    target = tmp_path / "missing.json"
    with pytest.raises(CredentialsFileError) as caught:
        read_credentials(target)
    assert _only_message(caught.value) == f"--credentials: {target} cannot be read: No such file or directory"


def test_a_file_too_large_to_be_credentials_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "big.json"
    target.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(CredentialsFileError) as caught:
        read_credentials(target)
    assert _only_message(caught.value).endswith(f"is larger than {MAX_FILE_BYTES} bytes: not a credentials file")


def test_a_file_exactly_at_the_size_cap_is_read(tmp_path: Path) -> None:
    target = tmp_path / "padded.json"
    body = b'{"a": 1}'
    target.write_bytes(body + b" " * (MAX_FILE_BYTES - len(body)))
    assert read_credentials(target) == {"a": 1}


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not json", "is not JSON; write it with `azure-appconfig connect`"),
        (b"[" * 100_000 + b"]" * 100_000, "nests JSON too deeply: not a credentials file"),
        (b'["a list"]', "must hold a JSON object"),
        (b'"a string"', "must hold a JSON object"),
    ],
    ids=["not-json", "too-deep", "list", "string"],
)
def test_a_file_that_is_not_a_json_object_is_refused(tmp_path: Path, content: bytes, why: str) -> None:
    target = tmp_path / "creds.json"
    target.write_bytes(content)
    with pytest.raises(CredentialsFileError) as caught:
        read_credentials(target)
    assert _only_message(caught.value) == f"--credentials: {target} {why}"


def test_control_characters_in_the_file_name_are_not_echoed(tmp_path: Path) -> None:
    target = tmp_path / "bad\x1b[31mname.json"
    with pytest.raises(CredentialsFileError) as caught:
        read_credentials(target)
    assert "\x1b" not in str(caught.value)


def test_a_group_readable_file_is_not_private(tmp_path: Path) -> None:
    target = write_credentials(tmp_path / "creds.json", DATA)
    assert is_private(target)
    os.chmod(target, 0o640)
    assert not is_private(target)
