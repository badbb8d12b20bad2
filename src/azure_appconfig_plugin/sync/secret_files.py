"""Secrets files for the CLI: JSON (an object of name -> string) or dotenv, from a file or stdin.

The format is ``--format json|env``, else the file's name (``*.json``; ``*.env``, ``.env*``,
``*.env.*`` such as ``prod.env.local``). Dotenv is read and written exactly as python-dotenv reads
it (its grammar, ported here: quotes, escapes, ``#`` comments, ``export``, multi-line quoted values,
lines ended by ``\\n``, ``\\r\\n`` or ``\\r`` only, never by other Unicode line breaks); what it
would read differently (``${NAME}`` interpolation, a statement it skips, a name given twice) is
refused, naming the line. Written files hold secret values: mode 0600, replaced atomically, and an
existing file only with ``force``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from app_connections.text import shown_value

from ..errors import FieldError, InvalidInput

STDIN = "-"
"""``--from -``: the secrets come from stdin."""
FORMATS = ("json", "env")
"""The formats ``--format`` names: a JSON object of name -> string, or dotenv."""
MAX_INPUT_BYTES = 16 * 1024 * 1024
"""A secrets file or stdin larger than this is refused (a store holds far less)."""

# python-dotenv's grammar (dotenv/parser.py), the same regular expressions
_NEWLINE = re.compile(r"(\r\n|\n|\r)")
_MULTILINE_WHITESPACE = re.compile(r"\s*", re.MULTILINE)
_WHITESPACE = re.compile(r"[^\S\r\n]*")
_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_SINGLE_QUOTED_KEY = re.compile(r"'([^']+)'")
_UNQUOTED_KEY = re.compile(r"([^=\#\s]+)")
_EQUAL_SIGN = re.compile(r"(=[^\S\r\n]*)")
_SINGLE_QUOTED_VALUE = re.compile(r"'((?:\\.|[^'\\])*)'", re.DOTALL)
_DOUBLE_QUOTED_VALUE = re.compile(r'"((?:\\.|[^"\\])*)"', re.DOTALL)
_UNQUOTED_VALUE = re.compile(r"([^\r\n]*)")
_COMMENT = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_END_OF_LINE = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_REST_OF_LINE = re.compile(r"[^\r\n]*(?:\r|\n|\r\n)?")
_DOUBLE_QUOTE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
_SINGLE_QUOTE_ESCAPES = re.compile(r"\\[\\']")
_ESCAPED = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_VARIABLE = re.compile(r"\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}")
"""What python-dotenv expands (``${NAME}``, ``${NAME:-default}``) in every value, quoted or not."""
_INTERPOLATED = "holds ${{{name}}}, which python-dotenv replaces from the environment; put this value in a JSON file"


def file_format(path: str | os.PathLike[str], flag: str, given: str | None = None) -> str:
    """``json`` or ``env``: ``given`` (``--format``), else what the file's name says."""
    if given is not None:
        return given
    name = Path(path).name.lower()
    if str(path) == STDIN:
        raise InvalidInput(errors=[FieldError("--format", f"{flag} - (stdin) needs --format json or --format env")])
    if name.endswith(".json"):
        return "json"
    if name.endswith((".env", ".dotenv")) or name.startswith(".env") or ".env." in name:
        return "env"
    raise InvalidInput(
        errors=[
            FieldError(
                flag,
                f"{Path(path).name}: the name does not say the format; name a .json or .env file, "
                "or give --format json or --format env",
            )
        ]
    )


class _Statement(Exception):
    """A statement python-dotenv could not parse (it would skip it with a warning): why."""

    def __init__(self, why: str = "is not NAME=value") -> None:
        super().__init__(why)
        self.why = why


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0
        self.line = 1

    def more(self) -> bool:
        return self.at < len(self.text)

    def peek(self) -> str:
        return self.text[self.at : self.at + 1]

    def read(self, pattern: re.Pattern[str]) -> tuple[str, ...]:
        match = pattern.match(self.text, self.at)
        if match is None:
            raise _Statement
        self.line += len(_NEWLINE.findall(self.text, self.at, match.end()))
        self.at = match.end()
        return match.groups()


def _decode(pattern: re.Pattern[str], value: str) -> str:
    return pattern.sub(lambda m: _ESCAPED[m.group(0)[1]], value)


def _value(reader: _Reader) -> str:
    char = reader.peek()
    if char in ("'", '"'):
        single = char == "'"
        try:
            (value,) = reader.read(_SINGLE_QUOTED_VALUE if single else _DOUBLE_QUOTED_VALUE)
        except _Statement:
            raise _Statement(f"unterminated {'single' if single else 'double'} quote") from None
        return _decode(_SINGLE_QUOTE_ESCAPES if single else _DOUBLE_QUOTE_ESCAPES, value)
    if char in ("", "\n", "\r"):
        return ""
    (part,) = reader.read(_UNQUOTED_VALUE)
    return re.sub(r"\s+#.*", "", part).rstrip()


def _binding(reader: _Reader) -> tuple[str, str | None] | None:
    """One statement, as python-dotenv's ``parse_binding`` reads it: (name, value), value None for
    a name with no ``=``, None for a comment or blank space. Raises ``_Statement`` where it fails."""
    reader.read(_MULTILINE_WHITESPACE)
    if not reader.more():
        return None
    reader.read(_EXPORT)
    if reader.peek() == "#":
        reader.read(_COMMENT)
        reader.read(_END_OF_LINE)
        return None
    (key,) = reader.read(_SINGLE_QUOTED_KEY if reader.peek() == "'" else _UNQUOTED_KEY)
    reader.read(_WHITESPACE)
    value: str | None = None
    if reader.peek() == "=":
        (equal_sign,) = reader.read(_EQUAL_SIGN)
        value = "" if len(equal_sign) > 1 and reader.peek() == "#" else _value(reader)
    reader.read(_COMMENT)
    try:
        reader.read(_END_OF_LINE)
    except _Statement:
        raise _Statement("has text after its value (quote the whole value)") from None
    return key, value


def parse_dotenv(text: str, source: str = "FILE") -> dict[str, str]:
    """The names and values python-dotenv reads from ``text`` (without interpolation, which is
    refused), every problem named by ``source:line``. ``text`` is a file's text as Python's
    universal newlines read it, or stdin's."""
    text = text.removeprefix("\ufeff")
    out: dict[str, str] = {}
    errors: list[FieldError] = []
    reader = _Reader(text)
    while reader.more():
        reader.read(_MULTILINE_WHITESPACE)  # always matches: problems are named by the statement's first line
        line = reader.line
        try:
            found = _binding(reader)
        except _Statement as exc:
            reader.read(_REST_OF_LINE)
            errors.append(FieldError(f"{source}:{line}", f"{exc.why} (python-dotenv would skip it)"))
            continue
        if found is None:
            continue
        name, value = found
        where = f"{source}:{line}"
        if value is None:
            errors.append(FieldError(where, f"{name} has no '=' (python-dotenv reads no value)"))
        elif name in out:
            errors.append(FieldError(where, f"{name} is defined twice"))
        elif (variable := _VARIABLE.search(value)) is not None:
            errors.append(FieldError(where, f"{name} {_INTERPOLATED.format(name=variable['name'])}"))
        else:
            out[name] = value
    if errors:
        raise InvalidInput(errors=errors)
    return out


def _read_bytes(stream: BinaryIO, flag: str, shown: str) -> bytes:
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InvalidInput(errors=[FieldError(flag, f"{shown} is larger than {MAX_INPUT_BYTES} bytes")])
    return data


def read_secrets(
    path: str | os.PathLike[str], flag: str = "--from", *, fmt: str | None = None, stdin: BinaryIO | None = None
) -> dict[str, str]:
    """The secrets of a JSON or dotenv file, or of stdin when ``path`` is ``-`` (never echoed:
    problems name the line or the name, never a value)."""
    fmt = file_format(path, flag, fmt)
    shown = "stdin" if str(path) == STDIN else shown_value(Path(path).name)
    try:
        if str(path) == STDIN:
            data = _read_bytes(stdin if stdin is not None else sys.stdin.buffer, flag, shown)
        else:
            with open(path, "rb") as fh:
                data = _read_bytes(fh, flag, shown)
        # python-dotenv opens files in text mode: universal newlines (\r\n and \r read as \n)
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or ("it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc)
        raise InvalidInput(errors=[FieldError(flag, f"cannot read {shown_value(str(path))}: {why}")]) from None
    if fmt == "env":
        return parse_dotenv(text, shown)
    try:
        data_json = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(errors=[FieldError(flag, f"{shown} is not JSON ({exc.msg} at line {exc.lineno})")]) from None
    except RecursionError:  # nesting deeper than the interpreter's stack: not a file of secrets
        raise InvalidInput(errors=[FieldError(flag, f"{shown} nests JSON too deeply: not a file of secrets")]) from None
    if not isinstance(data_json, dict):
        raise InvalidInput(errors=[FieldError(flag, f"{shown} must hold a JSON object of name -> string")])
    bad = [FieldError(f"{shown}[{k!r}]", "must be a string") for k, v in data_json.items() if not isinstance(v, str)]
    if bad:
        raise InvalidInput(errors=bad)
    return data_json


def _dotenv_value(value: str) -> str:
    """``value`` double-quoted so python-dotenv reads it back exactly: only ``\\``, ``"``, CR and LF
    are escaped (``$`` and other characters are written as they are: python-dotenv keeps a
    backslash before them)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def dotenv_text(secrets: Mapping[str, str], flag: str = "--to") -> str:
    """The dotenv text of ``secrets``; a value python-dotenv would not read back exactly
    (``${NAME}``, a lone surrogate) is refused, naming it."""
    from .scope import secret_name_problem

    errors = []
    for name, value in secrets.items():
        variable = _VARIABLE.search(value)
        if (problem := secret_name_problem(name)) is not None:
            errors.append(FieldError(f"{flag}[{name!r}]", problem))
        elif variable is not None:
            errors.append(FieldError(f"{flag}[{name!r}]", _INTERPOLATED.format(name=variable["name"])))
        elif any("\ud800" <= ch <= "\udfff" for ch in value):
            errors.append(FieldError(f"{flag}[{name!r}]", "holds a lone surrogate, which UTF-8 cannot encode"))
    if errors:
        raise InvalidInput(errors=errors)
    return "".join(f"{k}={_dotenv_value(v)}\n" for k, v in secrets.items())


def check_writable(
    path: str | os.PathLike[str], flag: str = "--to", *, fmt: str | None = None, force: bool = False
) -> str:
    """Refuse, before any request, a ``--to`` that :func:`write_secrets` could not write: a name
    whose format is unknown, a folder, an existing file (unless ``force``), or a path in a folder
    that is missing or not writable. Returns the file's format."""
    fmt = file_format(path, flag, fmt)
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InvalidInput(errors=[FieldError(flag, f"cannot write {path}: it is a folder; name a file in it")])
    if not force and (target.exists() or target.is_symlink()):
        raise InvalidInput(errors=[FieldError(flag, f"{path} exists; give --force to replace it")])
    if not folder.is_dir():
        raise InvalidInput(errors=[FieldError(flag, f"cannot write {path}: folder {folder} does not exist")])
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(errors=[FieldError(flag, f"cannot write {path}: folder {folder} is not writable")])
    return fmt


def write_secrets(
    path: str | os.PathLike[str],
    secrets: Mapping[str, str],
    flag: str = "--to",
    *,
    fmt: str | None = None,
    force: bool = False,
) -> Path:
    """Write ``secrets`` (mode 0600, atomically); an existing file is replaced only with ``force``."""
    fmt = file_format(path, flag, fmt)
    text = json.dumps(dict(secrets), indent=2) + "\n" if fmt == "json" else dotenv_text(secrets, flag)
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent if str(target.parent) else "."
        )
    except OSError as exc:  # e.g. the folder does not exist or is not writable
        raise _cannot_write(flag, path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, target)
        else:  # never over a file that appeared since the check: a link fails when the name exists
            os.link(tmp, target)
    except BaseException as exc:  # nothing half-written is left behind: not the target, not the temporary file
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, FileExistsError) and not target.is_dir():
            raise InvalidInput(errors=[FieldError(flag, f"{path} exists; give --force to replace it")]) from None
        if isinstance(exc, OSError):  # e.g. the target is a folder
            raise _cannot_write(flag, path, exc) from None
        raise
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # the link made the file; the temporary name goes
    return target


def _cannot_write(flag: str, path: str | os.PathLike[str], exc: OSError) -> InvalidInput:
    return InvalidInput(errors=[FieldError(flag, f"cannot write {path}: {exc.strerror or exc}")])
