"""``azure-appconfig``: argument parsing and printing only; decisions live in the modules."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO, TypedDict

from app_connections import policy as policies
from app_connections.cli_flags import FlagParser
from app_connections.policy import HostPolicy

from .cli_common import CONNECTION_TYPE, EXIT_FAILED, EXIT_OK, EXIT_USAGE, loaded_registry, print_json
from .errors import AppConnectionError

if TYPE_CHECKING:
    from app_connections.jsontypes import JSONObject
    from app_connections.loader import Registry
    from app_connections.records import ConnectionType

# --- types -------------------------------------------------------------------------------


class TypeRow(TypedDict):
    """One connection type as ``types --json`` prints it."""

    slug: str
    name: str
    methods: list[dict[str, str]]
    distribution: str | None
    plugin: str


def cmd_types(args: argparse.Namespace, out: TextIO) -> int:
    """``types``: the connection types, failed and blocked plugins, and the plugins' trust."""
    registry = loaded_registry(args)
    types: list[TypeRow] = [
        {
            "slug": ct.slug,
            "name": ct.name,
            "methods": [{"slug": m.slug, "name": m.name} for m in ct.methods.values()],
            "distribution": registry.providers[slug].distribution,
            "plugin": registry.providers[slug].plugin,
        }
        for slug, ct in sorted(registry.types.items())
    ]
    failures = [f.to_dict() for f in registry.failures]
    from app_connections.cli_plugins import refused_status, trust_json, write_trust_text

    if args.json:
        print_json(
            {"types": types, "failures": failures, "blocked": registry.blocked, "trust": trust_json(registry)}, out
        )
    else:
        if not types:
            out.write("No connection types found (is any app_connections plugin installed?).\n")
        for t in types:
            methods = ", ".join(f"{m['slug']} ({m['name']})" for m in t["methods"])
            out.write(
                f"{t['slug']}: {t['name']}\n  methods: {methods}\n  provided by: {t['distribution'] or t['plugin']}\n"
            )
        for name in registry.blocked:
            out.write(f"blocked: {name} (listed in APP_CONNECTIONS_BLOCKED_PLUGINS)\n")
        for f in failures:
            out.write(f"FAILED plugin {f['plugin']} ({f['stage']}): {f['error']}\n")
        write_trust_text(registry, out)
    return refused_status(registry, args.err)  # 1 when a plugin was refused (tampered, not as pinned)


# --- schema ------------------------------------------------------------------------------


def cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    """``schema``: the JSON Schema of one method's input, or of every method's by slug."""
    ctype = loaded_registry(args).get(CONNECTION_TYPE)
    if args.method:
        data: JSONObject | dict[str, JSONObject] = ctype.method(args.method).input_schema()
    else:
        data = {slug: m.input_schema() for slug, m in ctype.methods.items()}
    print_json(data, out)  # a JSON Schema is JSON; --json is accepted for symmetry
    return EXIT_OK


# --- doctor ------------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace, out: TextIO) -> int:
    """``doctor``: check this instance's settings for the oauth method; 1 when it is not ready."""
    from .doctor import run_doctor

    report = run_doctor(os.environ)
    if args.json:
        print_json(report.to_dict(), out)
    else:
        from .methods.settings_needs import settings_needs, settings_needs_text

        ctype = _doctor_type(args)
        need = settings_needs(ctype)[0]
        methods = f"{', '.join(need) or 'no'} method{'' if len(need) == 1 else 's'}"
        out.write(f"Azure App Configuration connection: instance setup ({methods})\n\n")
        for c in report.checks:
            out.write(f"  [{c.status:^7}] {c.name}: {c.detail}\n")
        out.write(f"\n{'READY' if report.ready else 'NOT READY'}. Next steps:\n")
        for i, step in enumerate(report.next_steps(), 1):
            out.write(f"  {i}. {step}\n")
        out.write(f"\n{settings_needs_text(ctype)}\n")
    return EXIT_OK if report.ready else EXIT_FAILED


def _doctor_type(args: argparse.Namespace) -> ConnectionType:
    """The registered connection type (what its methods and settings say), else our own declaration
    when plugins cannot load (the doctor's ``plugins`` check reports why)."""
    from .connection import build_connection_type
    from .errors import AppConnectionError

    try:
        return loaded_registry(args).get(CONNECTION_TYPE)
    except AppConnectionError:
        return build_connection_type().with_policy(HostPolicy.operator())


def check_environment(env: Mapping[str, str] | None = None) -> None:
    """The environment settings every command depends on (the limits, the endpoint allow-list), read
    before the command runs: a malformed value is a usage error naming its variable, in every command."""
    from .endpoints import allowed_hosts
    from .errors import FieldError, SettingsError
    from .http.limits import current_limits

    errors: list[FieldError] = []
    for read in (current_limits, allowed_hosts):
        try:
            read(env)
        except SettingsError as exc:
            errors.extend(exc.errors)
    if errors:
        raise SettingsError(errors=errors)


def method_choices(registry: Registry | None) -> list[str] | None:
    """The auth methods of our type in the loaded registry (plugin-added ones included); None (any
    value: the command itself reports why plugins could not load) when there is no registry."""
    if registry is None:
        return None
    ctype = registry.types.get(CONNECTION_TYPE)
    return list(ctype.methods) if ctype is not None else []


def _registry_or_none() -> Registry | None:
    from app_connections.loader import load_plugins

    try:
        return load_plugins(policy=HostPolicy.operator())
    except AppConnectionError:  # e.g. a malformed allow-list: the command that loads plugins names it
        return None


def build_parser() -> argparse.ArgumentParser:
    """The ``azure-appconfig`` parser, with the flags of every method in the loaded registry."""
    registry = _registry_or_none()
    parser = FlagParser(
        prog="azure-appconfig",
        description="Azure App Configuration connection provider: inspect, check and connect.",
    )
    from app_connections.hostspec import CONTRACT_VERSION

    from . import __version__

    parser.add_argument(
        "--version",
        action="version",
        version=f"azure-appconfig-plugin {__version__} (app_connections contract {CONTRACT_VERSION})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("types", help="list connection types found through entry points")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_types)

    p = sub.add_parser("schema", help="print the JSON Schema of the connection inputs")
    p.add_argument("--method", choices=method_choices(registry), help="one method only")
    p.add_argument("--json", action="store_true", help="accepted for symmetry: the output is always JSON")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("doctor", help="check this instance's setup for the oauth method")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_doctor)

    from app_connections.cli_plugins import add_commands as add_plugin_commands

    from .cli_connect import add_commands

    add_commands(sub, registry)
    add_plugin_commands(sub)
    parser.set_defaults(registry=registry)
    from .cli_sync import add_commands as add_sync_commands

    add_sync_commands(sub, registry)
    return parser


OPERATOR_LOGS = ("app_connections.paths", "azure_appconfig_plugin.auth.workload_identity")
"""Loggers whose warnings a multi-user host keeps for its log (why a file cannot be used); the CLI's
operator is that host, so the CLI writes them to stderr."""


@contextlib.contextmanager
def _operator_log(err: TextIO) -> Iterator[None]:
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("note: %(message)s"))
    loggers = [logging.getLogger(name) for name in OPERATOR_LOGS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``azure-appconfig`` with ``argv``; returns the exit status (0 ok, 1 failed, 2 bad input)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage to stderr
        return int(exc.code or 0)
    handler: Callable[[argparse.Namespace, TextIO], int] = args.handler
    args.err = err  # where a command writes its errors (``types``: a refused plugin)
    try:
        with policies.use(HostPolicy.operator()), _operator_log(err):  # an operator's tool: the host's identity,
            check_environment()  # disk and environment; what a host keeps for its log, the operator reads
            return handler(args, out)
    except AppConnectionError as exc:
        err.write(f"error: {exc}\n")
        from .errors import InvalidInput

        return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_FAILED
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130
    except BrokenPipeError:  # e.g. `azure-appconfig schema | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the interpreter's flush at exit
        return EXIT_OK
    except BaseException as exc:  # a library's panic (a BaseException) on the input: an error, not a crash
        from app_connections.panics import is_library_panic

        if not is_library_panic(exc):
            raise
        err.write("error: a library failed on this input (it panicked); check the files and values given\n")
        return EXIT_FAILED


if __name__ == "__main__":  # `python -m azure_appconfig_plugin.cli` (tests/test_extension.py runs it)
    sys.exit(main())
