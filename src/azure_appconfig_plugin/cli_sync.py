"""``azure-appconfig sync plan|push|import``: argument handling and printing only.

The connection is given as for ``validate``: ``--credentials FILE`` or the client-secret flags.
Exit status: 0 everything applied, 1 anything failed or conflicted, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from .cli import EXIT_FAILED, EXIT_OK, print_json
from .errors import FieldError, InvalidInput

DESTINATION = "azure-app-configuration"
BAR_WIDTH = 30


def _connection(args: argparse.Namespace) -> tuple[Mapping[str, Any], Any]:
    """(stored connection, on_rotate) from --credentials or the client-secret flags."""
    from .cli_connect import _client_secret_input, _rotation_writer

    if args.credentials:
        from .credentials_file import is_private, read_credentials

        data = read_credentials(args.credentials)
        if not is_private(args.credentials):
            sys.stderr.write(f"warning: {args.credentials} is readable by other users; run chmod 600 on it\n")
        on_rotate = _rotation_writer(args.credentials, sys.stderr) if data.get("method") == "oauth" else None
        return data, on_rotate
    if not (args.client_secret_env or args.client_secret_stdin):
        raise InvalidInput(
            errors=[
                FieldError(
                    "--credentials/--client-secret-env/--client-secret-stdin",
                    "give the connection: a credentials file from `azure-appconfig connect`, "
                    "or the client-secret flags",
                )
            ]
        )
    return {"method": "client-secret", **_client_secret_input(args)}, None


def _destination(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {"endpoint": args.endpoint}
    if args.label:
        data["label"] = args.label
    if args.key_prefix:
        data["keyPrefix"] = args.key_prefix
    if getattr(args, "key_template", None):
        data["keyTemplate"] = args.key_template
    if getattr(args, "delete_missing", False):
        data["deleteMissing"] = True
    return data


class ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label, self._last = stream, label, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        filled = BAR_WIDTH * done // max(total, 1)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _progress(args: argparse.Namespace, label: str) -> Any:
    err = sys.stderr
    return ProgressBar(err, label) if not args.json and hasattr(err, "isatty") and err.isatty() else None


def _print(report: Any, args: argparse.Namespace, out: TextIO, what: str) -> int:
    if args.json:
        print_json(report.to_dict(), out)
    else:
        c = report.counts
        summary = ", ".join(f"{v} {k}" for k, v in c.items())
        out.write(f"{what}: {summary} ({report.requests} requests to the store)\n")
        for ch in report.changes:
            if ch.status.value == "unchanged":
                continue
            label = "(no label)" if ch.label is None else ch.label
            detail = f"  {ch.detail}" if ch.detail else ""
            out.write(f"  {ch.action.value:<7} {ch.key} [{label}]  {ch.status.value}{detail}\n")
    return EXIT_OK if report.ok else EXIT_FAILED


def _sync_destination() -> Any:
    """Our destination, found the way a host finds it (through ``register_secret_syncs``)."""
    from app_connections.loader import load_plugins

    registry = load_plugins()
    if DESTINATION not in registry.syncs:
        raise InvalidInput(
            errors=[
                FieldError(
                    "plugin",
                    f"no {DESTINATION!r} sync destination is registered "
                    "(is azure-appconfig-plugin blocked in APP_CONNECTIONS_BLOCKED_PLUGINS?)",
                )
            ]
        )
    return registry.syncs[DESTINATION]


def cmd_sync_push(args: argparse.Namespace, out: TextIO) -> int:
    from .sync.secret_files import read_secrets

    secrets = read_secrets(args.from_file)
    destination_obj = _sync_destination()
    destination = destination_obj.parse_destination(_destination(args))
    connection, on_rotate = _connection(args)
    apply = args.sync_command == "push"
    operation = destination_obj.push if apply else destination_obj.plan
    report = operation(
        connection,
        destination,
        secrets,
        concurrency=args.concurrency,
        on_rotate=on_rotate,
        progress=_progress(args, "push") if apply else None,
    )
    what = f"{'push' if apply else 'plan (nothing written)'} to {destination.endpoint}"
    return _print(report, args, out, what)


def cmd_sync_import(args: argparse.Namespace, out: TextIO) -> int:
    from .sync.secret_files import check_writable, write_secrets

    check_writable(args.to_file, "--to")  # before any request: a bad --to wastes no listing
    destination_obj = _sync_destination()
    destination = destination_obj.parse_destination(_destination(args))
    connection, on_rotate = _connection(args)
    report = destination_obj.import_secrets(connection, destination, on_rotate=on_rotate)
    path = write_secrets(args.to_file, report.imported)
    refs = (
        f"; Key Vault references (written as their secret URI): {', '.join(sorted(report.references))}"
        if report.references
        else ""
    )
    sys.stderr.write(f"Wrote {len(report.imported)} secrets to {path} (mode 0600){refs}\n")
    return _print(report, args, out, f"import from {destination.endpoint}")


def _concurrency(text: str) -> int:
    from .sync.apply import MAX_CONCURRENCY

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"must be an integer from 1 to {MAX_CONCURRENCY}")
    return value


def _add_connection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--credentials", metavar="FILE", help="stored credentials (from `connect`)")
    p.add_argument("--tenant-id", help="Directory (tenant) ID (client-secret connection)")
    p.add_argument("--client-id", help="service principal's Application (client) ID")
    p.add_argument("--cloud", choices=["public", "usgov", "china"], help="Azure cloud (default: public)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--client-secret-env", metavar="VAR", help="read the client secret from environment variable VAR"
    )
    group.add_argument(
        "--client-secret-stdin", action="store_true", help="read the client secret from the first line of stdin"
    )


def _add_scope(p: argparse.ArgumentParser, *, template: bool) -> None:
    p.add_argument("--endpoint", required=True, metavar="URL", help="the store, e.g. https://mystore.azconfig.io")
    p.add_argument("--label", default="", metavar="L", help="the label the sync owns (default: the null label)")
    if template:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--key-prefix", metavar="P", help="prefix of every key, e.g. myapp/")
        group.add_argument("--key-template", metavar="T", help="key for each secret, e.g. app/{secretKey}")
    else:
        p.add_argument("--key-prefix", metavar="P", help="prefix of every key, e.g. myapp/")
    p.add_argument("--json", action="store_true", help="print the report as JSON (ok, counts, changes, requests)")


def add_commands(sub: Any) -> None:
    sync = sub.add_parser(
        "sync",
        help="push secrets into a store, preview a push, or import a store's secrets",
        description="Exit status: 0 all applied, 1 anything failed or conflicted, 2 bad input.",
    )
    ssub = sync.add_subparsers(dest="sync_command", metavar="COMMAND")
    ssub.required = True
    for name, help_text in (
        ("plan", "show what push would do; writes nothing"),
        ("push", "make the store's scope match FILE (conditional writes, then deletes)"),
    ):
        p = ssub.add_parser(name, help=help_text)
        p.add_argument(
            "--from", dest="from_file", required=True, metavar="FILE", help="secrets: .json (name -> string) or .env"
        )
        _add_scope(p, template=True)
        p.add_argument(
            "--delete-missing", action="store_true", help="delete entries in the scope that FILE does not have"
        )
        p.add_argument(
            "--concurrency", type=_concurrency, default=32, metavar="N", help="parallel requests at most (default 32)"
        )
        _add_connection(p)
        p.set_defaults(handler=cmd_sync_push)
    p = ssub.add_parser("import", help="write the scope's entries to FILE as secrets")
    _add_scope(p, template=False)
    p.add_argument(
        "--to", dest="to_file", required=True, metavar="FILE", help="output: .json or .env (created with mode 0600)"
    )
    _add_connection(p)
    p.set_defaults(handler=cmd_sync_import)
