"""The CLI's credentials file: JSON, created with mode 0600, replaced atomically."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from .errors import CredentialsFileError, FieldError


def write_credentials(path: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """Write ``data`` to ``path`` atomically; the file is never readable by others, even briefly."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def read_credentials(path: str | os.PathLike[str]) -> dict[str, Any]:
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsFileError(errors=[FieldError("--credentials", f"cannot read {target}: {exc.strerror}")]) from None
    try:
        data = json.loads(text)
    except ValueError:
        raise CredentialsFileError(errors=[FieldError("--credentials", f"{target} is not JSON; write it with `azure-appconfig connect`")]) from None
    if not isinstance(data, dict):
        raise CredentialsFileError(errors=[FieldError("--credentials", f"{target} must hold a JSON object")])
    return data


def is_private(path: str | os.PathLike[str]) -> bool:
    """True when neither group nor others can read the file."""
    mode = Path(path).stat().st_mode
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)
