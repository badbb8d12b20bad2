"""``app-connections``: the host kit's command line for every installed provider (``types``,
``schema``, ``plugins pin``, ``validate --input``). Argument parsing and printing only."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from . import policy as policies
from .errors import AppConnectionError, FieldError, InvalidInput
from .loader import Registry
from .policy import HostPolicy

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_INPUT_BYTES = 1 << 20
"""``validate --input`` reads at most this much: a form input is a small JSON object."""


def print_json(data: object, out: TextIO) -> None:
    """``data`` as indented JSON and a newline."""
    json.dump(data, out, indent=2, sort_keys=False)
    out.write("\n")


def _registry() -> Registry:
    from .loader import load_plugins

    return load_plugins(policy=HostPolicy.operator())  # an operator's own tool
    # (a malformed allow-list raises its typed error: reported, exit 2)


def cmd_types(args: argparse.Namespace, out: TextIO) -> int:
    """The connection types, their methods and who provides them, then the trust report; exit 1
    when plugin trust refused a plugin."""
    from .cli_plugins import refused_status, trust_json, write_trust_text

    registry = _registry()
    failures = [f.to_dict() for f in registry.failures]
    if args.json:
        types = [
            {
                "slug": ct.slug,
                "name": ct.name,
                "methods": [{"slug": m.slug, "name": m.name} for m in ct.methods.values()],
                "distribution": registry.providers[slug].distribution,
                "plugin": registry.providers[slug].plugin,
            }
            for slug, ct in sorted(registry.types.items())
        ]
        print_json(
            {"types": types, "failures": failures, "blocked": registry.blocked, "trust": trust_json(registry)}, out
        )
        return refused_status(registry, args.err)
    if not registry.types:
        out.write("No connection types found (is any app_connections plugin installed?).\n")
    for slug, ct in sorted(registry.types.items()):
        provider = registry.providers[slug]
        methods = ", ".join(f"{m.slug} ({m.name})" for m in ct.methods.values())
        out.write(
            f"{slug}: {ct.name}\n  methods: {methods}\n  provided by: {provider.distribution or provider.plugin}\n"
        )
    for name in registry.blocked:
        out.write(f"blocked: {name} (listed in APP_CONNECTIONS_BLOCKED_PLUGINS)\n")
    for f in failures:
        out.write(f"FAILED plugin {f['plugin']} ({f['stage']}): {f['error']}\n")
    write_trust_text(registry, out)
    return refused_status(registry, args.err)


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    """The JSON Schema of one method's form input, or of every method of the type."""
    ctype = _registry().get(args.type)
    if args.method:
        print_json(ctype.method(args.method).input_schema(), out)
    else:
        print_json({slug: m.input_schema() for slug, m in ctype.methods.items()}, out)
    return EXIT_OK


def read_input(path: str) -> object:
    """The JSON in ``path`` (``-``: stdin), at most ``MAX_INPUT_BYTES``; a typed error naming
    ``--input`` when it cannot be read or parsed (never echoing its content: it holds secrets)."""
    try:
        if path == "-":
            text = sys.stdin.read(MAX_INPUT_BYTES + 1)
        else:
            with Path(path).open(encoding="utf-8") as fh:
                text = fh.read(MAX_INPUT_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(errors=[FieldError("--input", f"cannot read {path}: {type(exc).__name__}")]) from None
    if len(text) > MAX_INPUT_BYTES:
        raise InvalidInput(
            errors=[FieldError("--input", f"larger than {MAX_INPUT_BYTES} bytes; a form input is small")]
        )
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(
            errors=[FieldError("--input", f"is not JSON (line {getattr(exc, 'lineno', '?')}); give a JSON object")]
        ) from None


def cmd_validate(args: argparse.Namespace, out: TextIO) -> int:
    """Validate a method's form input through every ``validate_connection`` hook (least privilege)."""
    data = read_input(args.input)
    if not isinstance(data, dict):
        raise InvalidInput(errors=[FieldError("--input", "must hold a JSON object (the method's form input)")])
    report = _registry().validate(args.type, args.method, data, endpoint=args.endpoint)
    if args.json:
        print_json(report.to_dict(), out)
    else:
        for check in report.checks:
            out.write(f"[{check.status:^12}] {check.name}: {check.detail}\n")
            if check.remediation:
                out.write(f"               fix: {check.remediation}\n")
        out.write("OK\n" if report.ok else "FAILED\n")
    return EXIT_OK if report.ok else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    """The ``app-connections`` argument parser."""
    from . import __version__
    from .cli_flags import FlagParser
    from .cli_plugins import add_commands as add_plugin_commands
    from .hostspec import CONTRACT_VERSION

    parser = FlagParser(
        prog="app-connections", description="Connection providers installed here: list, describe, pin, validate."
    )
    parser.add_argument(
        "--version", action="version", version=f"app-connections {__version__} (contract {CONTRACT_VERSION})"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("types", help="list the connection types found through entry points")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_types)

    p = sub.add_parser("schema", help="print the JSON Schema of a connection type's inputs")
    p.add_argument("--type", required=True, help="the connection type's slug (see `types`)")
    p.add_argument("--method", help="one method only")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("validate", help="validate a method's form input (every plugin's checks run)")
    p.add_argument("--type", required=True, help="the connection type's slug")
    p.add_argument("--method", required=True, help="the auth method's slug")
    p.add_argument("--input", required=True, metavar="FILE", help="form input as a JSON object (- for stdin)")
    p.add_argument("--endpoint", help="the service endpoint to check, when the type takes one")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_validate)

    add_plugin_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; the exit status: 0 fine, 1 a check failed, 2 bad input."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage to stderr
        return int(exc.code or 0)
    handler: Callable[[argparse.Namespace, TextIO], int] = args.handler
    args.err = err  # where a command writes its errors (``types``: a refused plugin)
    try:
        with policies.use(HostPolicy.operator()):  # an operator's tool: the host's identity, disk and environment
            return handler(args, out)
    except AppConnectionError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_FAILED
    except BrokenPipeError:  # e.g. `app-connections schema --type x | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        return EXIT_OK


if __name__ == "__main__":  # `python -m app_connections.cli`
    sys.exit(main())
