"""Secrets files for the CLI: JSON (an object of name -> string) or dotenv, chosen by extension.

Written files hold secret values: they are created with mode 0600 and replaced atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..errors import FieldError, InvalidInput

DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*=\s*(.*?)\s*$")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


def file_format(path: str | os.PathLike[str], flag: str) -> str:
    name = Path(path).name.lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith((".env", ".dotenv")) or name.startswith(".env"):
        return "dotenv"
    raise InvalidInput(
        errors=[
            FieldError(flag, f"{Path(path).name}: use a .json file (object of name -> string) or a .env (dotenv) file")
        ]
    )


def _unquote(raw: str, where: str, errors: list[FieldError]) -> str:
    if raw[:1] == '"':
        if len(raw) < 2 or not raw.endswith('"'):
            errors.append(FieldError(where, "unterminated double quote"))
            return ""
        out, i, body = [], 0, raw[1:-1]
        while i < len(body):
            c = body[i]
            if c == "\\" and i + 1 < len(body):
                out.append(_ESCAPES.get(body[i + 1], "\\" + body[i + 1]))
                i += 2
            else:
                out.append(c)
                i += 1
        return "".join(out)
    if raw[:1] == "'":
        if len(raw) < 2 or not raw.endswith("'"):
            errors.append(FieldError(where, "unterminated single quote"))
            return ""
        return raw[1:-1]
    return re.sub(r"\s+#.*$", "", raw)  # an unquoted value ends at an inline comment


def parse_dotenv(text: str, source: str = "FILE") -> dict[str, str]:
    out: dict[str, str] = {}
    errors: list[FieldError] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = DOTENV_LINE.match(line)
        where = f"{source}:{n}"
        if not m:
            errors.append(FieldError(where, "is not NAME=value"))
            continue
        if m.group(1) in out:
            errors.append(FieldError(where, f"{m.group(1)} is defined twice"))
            continue
        out[m.group(1)] = _unquote(m.group(2), where, errors)
    if errors:
        raise InvalidInput(errors=errors)
    return out


def read_secrets(path: str | os.PathLike[str], flag: str = "--from") -> dict[str, str]:
    fmt = file_format(path, flag)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            errors=[FieldError(flag, f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")]
        ) from None
    if fmt == "dotenv":
        return parse_dotenv(text, Path(path).name)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(errors=[FieldError(flag, f"{path} is not JSON ({exc.msg} at line {exc.lineno})")]) from None
    if not isinstance(data, dict):
        raise InvalidInput(errors=[FieldError(flag, f"{path} must hold a JSON object of name -> string")])
    bad = [
        FieldError(f"{Path(path).name}[{k!r}]", "must be a string") for k, v in data.items() if not isinstance(v, str)
    ]
    if bad:
        raise InvalidInput(errors=bad)
    return data


def _dotenv_value(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("$", "\\$")
    )
    return f'"{escaped}"'


def check_writable(path: str | os.PathLike[str], flag: str = "--to") -> str:
    """Refuse, before any request, a ``--to`` that :func:`write_secrets` could not write: a name
    that is not a .json/.env file, a folder, or a path in a folder that is missing or not
    writable. Returns the file's format. (The write itself still reports what changes later.)"""
    fmt = file_format(path, flag)
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InvalidInput(errors=[FieldError(flag, f"cannot write {path}: it is a folder; name a file in it")])
    if not folder.is_dir():
        raise InvalidInput(errors=[FieldError(flag, f"cannot write {path}: folder {folder} does not exist")])
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(errors=[FieldError(flag, f"cannot write {path}: folder {folder} is not writable")])
    return fmt


def write_secrets(path: str | os.PathLike[str], secrets: Mapping[str, str], flag: str = "--to") -> Path:
    fmt = file_format(path, flag)
    if fmt == "json":
        text = json.dumps(dict(secrets), indent=2) + "\n"
    else:
        text = "".join(f"{k}={_dotenv_value(v)}\n" for k, v in secrets.items())
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent if str(target.parent) else "."
        )
    except OSError as exc:  # e.g. the folder does not exist or is not writable
        raise _cannot_write(flag, path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:  # nothing half-written is left behind: not the target, not the temporary file
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # e.g. the target is a folder
            raise _cannot_write(flag, path, exc) from None
        raise
    return target


def _cannot_write(flag: str, path: str | os.PathLike[str], exc: OSError) -> InvalidInput:
    return InvalidInput(errors=[FieldError(flag, f"cannot write {path}: {exc.strerror or exc}")])
