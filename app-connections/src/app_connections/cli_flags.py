"""Command-line flags derived from a method's declared input fields (``fields.Field``), for any
host's or provider's CLI: ``add_flags(parser, fields)`` declares them, ``read_flags(args, fields)``
turns the parsed arguments into the method's form input. Standard library only.

Derivation rules (one place, here):

- the flag is the field name in kebab case (``tenantId`` -> ``--tenant-id``); its help is the
  field's title and description; an ``enum`` gives the choices;
- a field that is not secret and not multiline: ``--name VALUE`` (an ``integer`` field's value is
  checked as a whole number; a ``boolean`` field is ``--name`` / ``--no-name``);
- a multiline field (PEM or base64 blocks): ``--name-file PATH``, read up to ``max_file_bytes``;
  a field declared ``encoding="base64"`` (binary content, e.g. a PKCS#12 file) is read as bytes
  and base64-encoded, any other as UTF-8 text;
- a secret field never takes its value on the command line (it would show in ``ps`` and the
  shell history): ``--name-env VAR`` (an environment variable) or ``--name-stdin`` (the first line
  of stdin; all of stdin, up to the cap, for a multiline field), plus ``--name-file PATH`` when
  multiline; at most one flag of a command reads stdin;
- a flag the parser already has (a host option such as ``--endpoint``) is shared when it is a
  plain ``--name VALUE`` option with the same destination, and otherwise left out (the field is
  then given through the host's JSON input).

Bad flag input raises ``InvalidInput`` whose ``FieldError`` names the flag and the fix; a value
read for a secret field is never repeated. ``FlagParser`` is the parser for such a command line:
no abbreviated flags, and usage errors that repeat no argument value.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NoReturn, TextIO

from .fields import Field, OneOf
from .jsontypes import JSONObject, JSONValue
from .text import clean, shown_value

if TYPE_CHECKING:
    from .errors import FieldError, InvalidInput

MAX_FILE_BYTES = 256 * 1024
"""The most a ``--name-file`` (or a multiline ``--name-stdin``) reads; a larger input is refused."""
MAX_LINE_BYTES = 64 * 1024
"""The most a single-line ``--name-stdin`` reads."""
STATE_DEST = "app_connections_flag_fields"
"""The namespace attribute where ``add_flags`` records which fields have flags of their own
(``"own"``), share a host option (``"shared"``) or have none (``"skipped"``)."""


def kebab(name: str) -> str:
    """``tenantId`` -> ``tenant-id`` (``sendCertificateChain`` -> ``send-certificate-chain``)."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("-")
        out.append("-" if ch == "_" else ch.lower())
    return "".join(out)


def flags_of(field: Field) -> dict[str, str]:
    """The flags ``field`` is given by, each with how it is read: ``value``, ``bool``, ``env``,
    ``stdin`` or ``file`` (declaration order: what a message suggests first comes first)."""
    base = "--" + kebab(field.name)
    if field.type == "boolean" and not field.secret:
        return {base: "bool"}
    flags: dict[str, str] = {}
    if not field.secret and not field.multiline:
        flags[base] = "value"
    if field.secret:
        flags[base + "-env"] = "env"
    if field.multiline:
        flags[base + "-file"] = "file"
    if field.secret:
        flags[base + "-stdin"] = "stdin"
    return flags


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


def _help(text: str) -> str:
    return text.replace("%", "%%")  # argparse formats help with %


def _describe(field: Field, how: str) -> str:
    if how == "env":
        return _help(f"{field.title}, from environment variable VAR: {field.description}")
    if how == "stdin":
        part = "all of stdin" if field.multiline else "the first line of stdin"
        return _help(f"{field.title}, from {part}")
    if how == "file":
        kind = "its bytes, base64-encoded for you" if field.encoding == "base64" else "text"
        return _help(f"{field.title}, from file PATH ({kind}): {field.description}")
    return _help(f"{field.title}: {field.description}")


def _state(parser: argparse.ArgumentParser) -> dict[str, str]:
    found = parser.get_default(STATE_DEST)
    state: dict[str, str] = dict(found) if isinstance(found, Mapping) else {}
    return state


def add_flags(parser: argparse.ArgumentParser, fields: Iterable[Field]) -> None:
    """Declare the flags of ``fields`` on ``parser`` (a field already declared by an earlier call,
    e.g. for another method with the same field, is not declared twice). A secret field needs a
    parser without abbreviations (``FlagParser``): argparse's message for an ambiguous prefix
    repeats the value given with it (``--client-sec=VALUE``), so ``ValueError`` otherwise."""
    fields = tuple(fields)
    if parser.allow_abbrev and any(field.secret for field in fields):
        raise ValueError(
            "secret fields need a parser without abbreviated flags: use app_connections.cli_flags.FlagParser "
            "(or argparse.ArgumentParser(allow_abbrev=False))"
        )
    state = _state(parser)
    existing: Mapping[str, argparse.Action] = parser._option_string_actions
    for field in fields:
        if field.name in state:
            continue
        flags = flags_of(field)
        taken = [f for f in flags if f in existing]
        if taken:
            action = existing[taken[0]]
            plain = isinstance(action, argparse._StoreAction) and action.nargs is None
            share = len(flags) == 1 and flags[taken[0]] == "value" and plain and action.dest == _dest(taken[0])
            state[field.name] = "shared" if share else "skipped"
            continue
        state[field.name] = "own"
        for flag, how in flags.items():
            if how == "bool":
                parser.add_argument(
                    flag, action=argparse.BooleanOptionalAction, default=None, help=_describe(field, how)
                )
            elif how == "stdin":
                parser.add_argument(flag, action="store_true", default=None, help=_describe(field, how))
            else:
                metavar = {"env": "VAR", "file": "PATH"}.get(how, kebab(field.name).upper().replace("-", "_"))
                choices = [str(e) for e in field.enum if e is not None] if field.enum and how == "value" else None
                parser.add_argument(
                    flag, metavar=None if choices else metavar, choices=choices, help=_describe(field, how)
                )
        bare = f"--{kebab(field.name)}"
        if field.secret and bare not in existing:  # refused by name, on every Python's argparse
            parser.add_argument(
                bare,
                action=_SecretOnCommandLine,
                instead=" or ".join(flags),
                nargs="?",
                dest=argparse.SUPPRESS,
                default=argparse.SUPPRESS,
                help=argparse.SUPPRESS,
            )
    parser.set_defaults(**{STATE_DEST: state})


class _SecretOnCommandLine(argparse.Action):
    """``--<secret field>``, hidden: always a usage error naming the flags that take the secret (a
    value on the command line shows in the process list and the shell's history); never echoes it."""

    def __init__(self, option_strings: list[str], dest: str, instead: str, nargs: str, default: str, help: str) -> None:
        super().__init__(option_strings, dest, nargs=nargs, default=default, help=help)
        self.instead = instead

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            f"{option_string} is not accepted: a secret is never a command-line value (it would show in the "
            f"process list and shell history); use {self.instead}"
        )


def _invalid(errors: list[FieldError]) -> InvalidInput:
    from .errors import InvalidInput  # lazily: the errors module imports attrs, declaring flags needs none

    return InvalidInput(errors=errors)


def _error(flag: str, message: str) -> InvalidInput:
    from .errors import FieldError

    return _invalid([FieldError(flag, message)])


def _utf8(data: bytes, flag: str, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _error(flag, f"{where} is not valid UTF-8 text") from None


def _read_stdin(stdin: TextIO, flag: str, whole: bool, cap: int) -> str:
    where = "stdin" if whole else "the first line of stdin"
    buffer = getattr(stdin, "buffer", None)
    try:
        if buffer is not None:
            raw: bytes = buffer.read(cap + 1) if whole else buffer.readline(MAX_LINE_BYTES)
            text = _utf8(raw, flag, where)
        else:  # a host's decoding reader without a byte buffer
            text = stdin.read(cap + 1) if whole else stdin.readline(MAX_LINE_BYTES)
            text.encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise _error(flag, f"{where} is not valid UTF-8 text") from None
    if whole and len(text) > cap:
        raise _error(flag, f"stdin holds more than {cap} bytes; give a smaller input")
    return text if whole else text.rstrip("\r\n")


def _read_file(path: str, flag: str, field: Field, cap: int) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(cap + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _error(flag, f"cannot read {shown_value(path)}: {reason}") from None
    if len(data) > cap:
        raise _error(flag, f"{shown_value(path)} is larger than {cap} bytes")
    if field.encoding == "base64":
        return base64.b64encode(data).decode("ascii")
    return _utf8(data, flag, shown_value(path))


def _read_env(name: str, flag: str, environ: Mapping[str, str]) -> str:
    shown = clean(name, 100)
    if name not in environ:
        raise _error(flag, f"environment variable {shown} is not set; export it first")
    value = environ[name]
    try:
        value.encode("utf-8")  # os.environ keeps undecodable bytes as lone surrogates
    except UnicodeEncodeError:
        raise _error(flag, f"environment variable {shown} is not valid UTF-8 text") from None
    return value


def _typed(field: Field, flag: str, text: str) -> JSONValue:
    if field.type == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise _error(flag, f"must be a whole number, e.g. {flag} 3") from None
    if field.type == "boolean":
        word = text.strip().lower()
        if word not in ("true", "false"):
            raise _error(flag, "must be true or false")
        return word == "true"
    return text


def given_flags(args: argparse.Namespace, field: Field) -> list[str]:
    """The flags of ``field`` set in ``args`` (a flag the parser left out counts as not given)."""
    state = getattr(args, STATE_DEST, None) or {}
    if state.get(field.name, "skipped") == "skipped":
        return []
    return [f for f in flags_of(field) if getattr(args, _dest(f), None) is not None]


def own_flags_given(args: argparse.Namespace, fields: Iterable[Field]) -> list[str]:
    """The flags of ``fields`` set in ``args`` that belong to no host option (a shared one is not counted)."""
    state = getattr(args, STATE_DEST, None) or {}
    return [flag for field in fields if state.get(field.name) == "own" for flag in given_flags(args, field)]


def named_by_flags(error: InvalidInput, args: argparse.Namespace, fields: Iterable[Field]) -> InvalidInput:
    """``error`` (a method's ``parse`` of what ``read_flags`` returned) as a command-line user reads
    it: each field given by a flag is named by that flag (``tenantId`` -> ``--tenant-id``), any other
    as it was; the messages are unchanged. An error it cannot rename whole (a subclass such as
    ``MethodDisabled``, or one with a message of its own) is returned as it is."""
    from .errors import FieldError, InvalidInput

    named = {field.name: flags[0] for field in fields if (flags := given_flags(args, field))}
    derived = "invalid input: " + "; ".join(str(e) for e in error.errors)
    if type(error) is not InvalidInput or error.message != derived or not any(e.field in named for e in error.errors):
        return error  # a subclass, a message of its own, or nothing given by a flag: as it was
    return _invalid([FieldError(named.get(e.field, e.field), e.message) for e in error.errors])


def _elsewhere(field: Field, given: set[str], choices: Iterable[OneOf]) -> bool:
    """Whether a field of another group of ``field``'s choice was given."""
    for choice in choices:
        groups = [set(g) for g in choice.groups]
        if any(field.name in g for g in groups):
            return any(given & g for g in groups if field.name not in g)
    return False


def read_flags(
    args: argparse.Namespace,
    fields: Iterable[Field],
    *,
    offered: Iterable[Field] = (),
    choices: Iterable[OneOf] = (),
    method: str = "this method",
    stdin: TextIO | None = None,
    stdin_taken: str | None = None,
    environ: Mapping[str, str] | None = None,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> JSONObject:
    """The form input ``{field name: value}`` of the fields whose flags were given. ``offered``:
    the fields of every method the parser has flags for; a flag of one that ``fields`` lacks is
    refused as not used by ``method``. ``choices``: the method's ``OneOf`` declarations; a host
    option shared with a field (``--endpoint``) fills it only when no field of another group of
    its choice was given (the host's ``--endpoint`` beside a connection string names the store
    checked, not a second way to give it). ``stdin_taken`` names what already reads stdin (e.g.
    ``--from -``). Raises ``InvalidInput`` naming the flag; reads nothing after a bad flag."""
    fields = tuple(fields)
    names = {f.name for f in fields}
    state = getattr(args, STATE_DEST, None) or {}
    errors: list[tuple[str, str]] = []
    for other in offered:
        if other.name not in names and state.get(other.name) == "own":
            errors.extend((f, f"is not used by {method}") for f in given_flags(args, other))
    chosen: list[tuple[Field, str]] = []
    for field in fields:
        flags = given_flags(args, field)
        if len(flags) > 1:
            errors.append((flags[1], f"give {field.name} once: {' or '.join(flags)}, not both"))
        elif flags:
            chosen.append((field, flags[0]))
    given = {field.name for field, _ in chosen if state.get(field.name) == "own"}
    chosen = [(f, flag) for f, flag in chosen if state.get(f.name) != "shared" or not _elsewhere(f, given, choices)]
    readers = [flag for field, flag in chosen if flags_of(field)[flag] == "stdin"]
    if stdin_taken and readers:
        instead = readers[0][: -len("-stdin")] + "-env"
        errors.append((readers[0], f"stdin already carries {stdin_taken}; use {instead} VAR"))
    elif len(readers) > 1:
        errors.append((readers[1], f"stdin can carry one value only ({readers[0]}); use {readers[1][:-6]}-env VAR"))
    if errors:
        from .errors import FieldError

        raise _invalid([FieldError(flag, message) for flag, message in errors])
    env = os.environ if environ is None else environ
    values: JSONObject = {}
    for field, flag in chosen:
        how = flags_of(field)[flag]
        raw = getattr(args, _dest(flag))
        if how == "bool":
            values[field.name] = bool(raw)
            continue
        if how == "env":
            text = _read_env(raw, flag, env)
        elif how == "stdin":
            text = _read_stdin(stdin or sys.stdin, flag, field.multiline, max_file_bytes)
            if field.encoding == "base64" and field.multiline:
                text = text.strip()
        elif how == "file":
            text = _read_file(raw, flag, field, max_file_bytes)
        else:
            text = raw
        values[field.name] = _typed(field, flag, text)
    return values


READS = {"value": "the value given", "env": "environment variable VAR", "file": "file PATH"}


def flags_markdown(fields: Iterable[Field]) -> str:
    """A Markdown table of the flags ``fields`` derive (flag, field, what it reads) for a method's docs."""
    rows = ["| flag | field | reads |", "| --- | --- | --- |"]
    for field in fields:
        for flag, how in flags_of(field).items():
            shown = {"env": f"{flag} VAR", "file": f"{flag} PATH", "value": f"{flag} VALUE"}.get(how, flag)
            if how == "value" and field.enum:
                shown = f"{flag} {{{','.join(str(e) for e in field.enum)}}}"
            reads = READS.get(how, "")
            if how == "bool":
                reads = f"`{flag}` sets true, `--no-{flag[2:]}` false"
            elif how == "file" and field.encoding == "base64":
                reads = "file PATH (its bytes, base64-encoded)"
            elif how == "stdin":
                reads = "all of stdin" if field.multiline else "the first line of stdin"
            rows.append(f"| `{shown}` | `{field.name}` | {reads} |")
    return "\n".join(rows)


SHORT_WORD = r"[a-z][a-z-]{0,15}"
"""A quoted value of this shape is shown in a usage error (a mistyped word); longer ones may be secrets."""

FLAG_SHAPE = r"--[a-z][a-z0-9-]{0,40}|-[a-zA-Z]"
"""An unrecognized argument of this shape is shown by its name (a mistyped flag); anything else
(``-pSecret``, ``--Secret123``, a value) is shown as ``***``."""

QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
"""A value argparse quotes in a message (``repr``: single quotes, or double ones around a value
holding a single quote)."""


def shown_argument(argument: str) -> str:
    """An unrecognized argument as a usage error shows it: a flag by its name, never a value
    (``--name=value`` shows ``--name=***``; a token not shaped like a flag shows ``***``)."""
    import re

    flag, eq, _ = argument.partition("=")
    if not re.fullmatch(FLAG_SHAPE, flag):
        return "***"
    return f"{flag}=***" if eq else flag


class FlagParser(argparse.ArgumentParser):
    """argparse for a command line that may be handed secrets: no abbreviated flags (a prefix is an
    unknown flag, so a flag added later never changes what a command line means), and usage errors
    that repeat no argument value but the parser's own words (a secret pasted in the wrong place)."""

    @property
    def allow_abbrev(self) -> bool:
        """Always False (for every subparser too): a prefix of a flag is an unrecognized argument."""
        return False

    @allow_abbrev.setter
    def allow_abbrev(self, value: bool) -> None:
        """What argparse's constructor sets is ignored: abbreviations stay off."""

    def error(self, message: str) -> NoReturn:
        """The usage error, its values redacted: unrecognized arguments by their flags only, a quoted
        value only when this parser declares it or it looks like a mistyped word (never the value
        of an "ignored explicit argument")."""
        import ast
        import re

        from .text import redact_secrets

        prefix = "unrecognized arguments: "
        if message.startswith(prefix):  # values of unknown flags may be anything: show the flags only
            message = prefix + " ".join(shown_argument(a) for a in message[len(prefix) :].split(" "))
        declared = self.declared_words()
        explicit = "ignored explicit argument" in message

        def shown(match: re.Match[str]) -> str:
            try:
                value = ast.literal_eval(match.group(0))
            except (ValueError, SyntaxError):
                return "'***'"
            if explicit or not isinstance(value, str):
                return "'***'"
            return match.group(0) if value in declared or re.fullmatch(SHORT_WORD, value) else "'***'"

        super().error(redact_secrets(re.sub(QUOTED, shown, message), 500))

    def declared_words(self) -> frozenset[str]:
        """What this parser itself declares: its flags and every choice (commands included)."""
        words: set[str] = set()
        for action in self._actions:
            words.update(action.option_strings)
            words.update(str(choice) for choice in action.choices or ())
        return frozenset(words)
