"""The CLI's credentials file: JSON, created with mode 0600, replaced atomically."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CredentialsFileError, FieldError

if TYPE_CHECKING:
    from app_connections.jsontypes import JSONObject

MAX_FILE_BYTES = 1024 * 1024
"""A credentials file is a few KB; anything larger is not one."""


def _file_error(target: Path, why: str) -> CredentialsFileError:
    from app_connections.text import clean

    return CredentialsFileError(errors=[FieldError("--credentials", f"{clean(str(target), 200)} {why}")])


def output_problem(path: str | os.PathLike[str]) -> str | None:
    """Why the credentials cannot be written to ``path`` (checked before any sign-in or validation), or None."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not str(path).strip():
        return "is empty; name the file to write"
    if target.is_dir():
        return "is a directory; name a file inside it"
    if not directory.is_dir():
        return f"cannot be created: the directory {directory} does not exist"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"cannot be created: the directory {directory} is not writable"
    if target.exists() and not os.access(target, os.W_OK):
        return "exists and is not writable"
    return None


def write_credentials(path: str | os.PathLike[str], data: JSONObject) -> Path:
    """Write ``data`` to ``path`` atomically; the file is never readable by others, even briefly.

    Raises ``CredentialsFileError`` (and leaves nothing behind) when it cannot be written.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    problem = output_problem(target)
    if problem:
        raise CredentialsFileError(errors=[FieldError("--output", f"{target} {problem}")])
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise CredentialsFileError(errors=[FieldError("--output", f"cannot write {target}: {exc.strerror}")]) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise CredentialsFileError(
                errors=[FieldError("--output", f"cannot write {target}: {exc.strerror}")]
            ) from None
        raise
    return target


def read_credentials(path: str | os.PathLike[str]) -> JSONObject:
    """The JSON object in the credentials file ``path``; ``CredentialsFileError`` when it is not one."""
    target = Path(path)
    try:
        with target.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _file_error(target, f"cannot be read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _file_error(target, f"is larger than {MAX_FILE_BYTES} bytes: not a credentials file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _file_error(
            target, f"is not valid UTF-8 (at byte {exc.start}); write it with `azure-appconfig connect`"
        ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise _file_error(target, "nests JSON too deeply: not a credentials file") from None
    except ValueError:
        raise _file_error(target, "is not JSON; write it with `azure-appconfig connect`") from None
    if not isinstance(data, dict):
        raise _file_error(target, "must hold a JSON object")
    return data


def is_private(path: str | os.PathLike[str]) -> bool:
    """True when neither group nor others can read the file."""
    mode = Path(path).stat().st_mode
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)
