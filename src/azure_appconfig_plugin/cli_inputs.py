"""How ``validate``, ``connect`` and ``sync`` take a connection: ``--credentials FILE``, or
``--method M`` with the flags derived from M's declared input fields
(``app_connections.cli_flags``), or ``--input FILE``. No method has flag code of its own here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from app_connections.text import shown_value

from .errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from app_connections.auth_method import Credentials
    from app_connections.cross_field import OneOf
    from app_connections.fields import Field
    from app_connections.jsontypes import JSONInput, JSONObject
    from app_connections.loader import Registry
    from app_connections.records import ConnectionType

FIELDS_DEST = "connection_fields"
"""The namespace attribute holding ``{method slug: input fields}`` of the methods the parser has flags for."""
CHOICES_DEST = "connection_choices"
"""The namespace attribute holding ``{method slug: its OneOf declarations}`` (declared methods only)."""


def connection_type(registry: Registry | None) -> ConnectionType:
    """Our connection type in ``registry`` (plugin methods included), else our own declaration."""
    from .cli_common import CONNECTION_TYPE

    found = registry.types.get(CONNECTION_TYPE) if registry is not None else None
    if found is None:
        from .connection import build_connection_type

        found = build_connection_type()
    return found


def method_fields(registry: Registry | None, *, interactive: bool = False) -> dict[str, tuple[Field, ...]]:
    """``{slug: input fields}`` of each method (interactive ones only when asked)."""
    ctype = connection_type(registry)
    return {
        slug: tuple(method.input_fields)
        for slug, method in ctype.methods.items()
        if interactive or not method.interactive  # declared: no policy check while building the parser
    }


def method_choices(registry: Registry | None) -> dict[str, tuple[OneOf, ...]]:
    """``{slug: OneOf declarations}`` of each declared method (``DeclaredAuthMethod.input_choices``)."""
    from app_connections.declared import DeclaredAuthMethod

    ctype = connection_type(registry)
    return {
        slug: tuple(method.input_choices) if isinstance(method, DeclaredAuthMethod) else ()
        for slug, method in ctype.methods.items()
    }


def _union(by_method: Mapping[str, tuple[Field, ...]]) -> tuple[Field, ...]:
    seen: dict[str, Field] = {}
    for fields in by_method.values():
        for field in fields:
            seen.setdefault(field.name, field)
    return tuple(seen.values())


def add_input_flags(
    p: argparse.ArgumentParser, by_method: Mapping[str, tuple[Field, ...]], choices: Mapping[str, tuple[OneOf, ...]]
) -> None:
    """``--input FILE`` and every derived flag of the methods in ``by_method`` (``choices``: their ``OneOf``s)."""
    from app_connections.cli_flags import add_flags

    p.add_argument(
        "--input", metavar="FILE", help="form input of the method as a JSON object (instead of the method's flags)"
    )
    for fields in by_method.values():
        add_flags(p, fields)
    p.set_defaults(**{FIELDS_DEST: dict(by_method), CHOICES_DEST: dict(choices)})


def add_connection_flags(p: argparse.ArgumentParser, registry: Registry | None, *, stored: str) -> None:
    """``--method``, ``--credentials FILE`` (help: ``stored``), ``--input FILE`` and the derived flags
    of every non-interactive method."""
    by_method = method_fields(registry)
    p.add_argument(
        "--method",
        choices=list(method_fields(registry, interactive=True)),
        help="auth method (plugin-added ones included); implied by --credentials",
    )
    p.add_argument("--credentials", metavar="FILE", help=stored)
    add_input_flags(p, by_method, method_choices(registry))


def read_json_file(path: str, flag: str) -> JSONObject:
    """The JSON object in ``path``; else ``InvalidInput`` naming ``flag``."""
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deeply
        raise InvalidInput(
            errors=[FieldError(flag, f"cannot read {shown_value(path)}: {type(exc).__name__}")]
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(errors=[FieldError(flag, f"{shown_value(path)} must hold a JSON object")])
    return data


def form_input(args: argparse.Namespace, method: str, *, stdin_taken: str | None = None) -> JSONInput:
    """Method ``method``'s form input: ``--input FILE``, or its derived flags (a flag of another
    method is refused, naming the flag)."""
    from app_connections.cli_flags import own_flags_given, read_flags

    by_method: Mapping[str, tuple[Field, ...]] = getattr(args, FIELDS_DEST, None) or {}
    offered = _union(by_method)
    fields = by_method.get(method, ())
    if args.input:
        given = own_flags_given(args, offered)
        if given:
            raise InvalidInput(
                errors=[FieldError(given[0], "give the form input as flags or in --input FILE, not both")]
            )
        return read_json_file(args.input, "--input")
    if not fields:
        raise InvalidInput(
            errors=[
                FieldError(
                    "--input",
                    f"{method} reads its form input from --input FILE (a JSON object; "
                    f"see `azure-appconfig schema --method {method}`)",
                )
            ]
        )
    choices = (getattr(args, CHOICES_DEST, None) or {}).get(method, ())
    return read_flags(
        args, fields, offered=offered, choices=choices, method=method, stdin=sys.stdin, stdin_taken=stdin_taken
    )


def stored_connection(args: argparse.Namespace, ctype: ConnectionType, *, stdin_taken: str | None = None) -> JSONInput:
    """The connection as stored credentials (``to_dict()`` with ``method``): from ``--credentials
    FILE`` as is, else parsed from ``--method`` and its form input."""
    from .credentials_file import is_private, read_credentials

    if args.credentials:
        from app_connections.cli_flags import own_flags_given

        given = own_flags_given(args, _union(getattr(args, FIELDS_DEST, None) or {}))
        if given or args.input:
            flag = given[0] if given else "--input"
            raise InvalidInput(
                errors=[FieldError(flag, "give the connection in --credentials FILE or as flags, not both")]
            )
        data = read_credentials(args.credentials)
        if not is_private(args.credentials):
            sys.stderr.write(f"warning: {args.credentials} is readable by other users; run chmod 600 on it\n")
        return data
    check_method(args.method, ctype)
    form = form_input(args, args.method, stdin_taken=stdin_taken)
    credentials = parse_credentials(ctype, args.method, form, args=args)
    stored: JSONObject = dict(credentials.to_dict())
    stored.setdefault("method", args.method)
    return stored


def check_method(method: str | None, ctype: ConnectionType) -> None:
    """Refuse a missing ``--method``, or an interactive one (its credentials come from ``connect``)."""
    if not method:
        raise InvalidInput(
            errors=[
                FieldError(
                    "--method",
                    f"say which method ({', '.join(ctype.methods)}) or pass --credentials FILE",
                )
            ]
        )
    if ctype.is_interactive(method):
        raise InvalidInput(
            errors=[
                FieldError(
                    "--credentials",
                    f"{method} needs the credentials file written by `azure-appconfig connect {method}`",
                )
            ]
        )


def parse_credentials(
    ctype: ConnectionType, method: str, data: JSONInput, *, args: argparse.Namespace | None = None
) -> Credentials:
    """``ctype.parse`` for a non-interactive ``method``: its credentials record (the ``AuthMethod``
    contract: ``parse`` returns ``Credentials`` unless the method signs in). With ``args`` (the
    form came from the method's flags), a bad field is named by the flag that gave it."""
    from app_connections.cli_flags import named_by_flags

    try:
        return cast("Credentials", ctype.parse(method, data))
    except InvalidInput as exc:
        if args is None or args.input:
            raise
        fields: Mapping[str, tuple[Field, ...]] = getattr(args, FIELDS_DEST, None) or {}
        raise named_by_flags(exc, args, fields.get(method, ())) from None
