"""``azure-appconfig sync plan|push|import``: argument handling and printing only.

The connection is given as for ``validate``: ``--credentials FILE``, or ``--method M`` with M's flags.
Exit status: 0 everything applied, 1 anything failed or conflicted, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol, TextIO, TypeVar, runtime_checkable

from app_connections.text import clean

from .cli_common import EXIT_FAILED, EXIT_OK, print_json, progress_line, rotation_writer
from .errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from app_connections.auth_method import RotateCallback
    from app_connections.jsontypes import JSONInput, JSONObject
    from app_connections.loader import Registry

    from .sync.config import DestinationConfig
    from .sync.report import Change, SyncReport

_P = TypeVar("_P", bound=argparse.ArgumentParser)

DESTINATION = "azure-app-configuration"
MAX_TIMEOUT = 86_400.0
"""``--timeout`` at most a day: a run is bounded, whatever is asked."""


@runtime_checkable
class SyncOperations(Protocol):
    """What the sync commands call on the registered destination."""

    def parse_destination(self, data: JSONInput) -> DestinationConfig:
        """The destination's fields, checked."""

    def plan(
        self, connection: JSONInput, destination: DestinationConfig, secrets: Mapping[str, str], **options: object
    ) -> SyncReport:
        """What ``push`` would do."""

    def push(
        self, connection: JSONInput, destination: DestinationConfig, secrets: Mapping[str, str], **options: object
    ) -> SyncReport:
        """Make the scope match ``secrets``."""

    def import_secrets(self, connection: JSONInput, destination: DestinationConfig, **options: object) -> SyncReport:
        """Read the scope's secrets."""


def _connection(args: argparse.Namespace, *, stdin_taken: str | None = None) -> tuple[JSONInput, RotateCallback | None]:
    """(stored connection, on_rotate) from --credentials, or --method and its flags (or --input)."""
    from .cli_common import CONNECTION_TYPE, loaded_registry
    from .cli_inputs import stored_connection

    data = stored_connection(args, loaded_registry(args).get(CONNECTION_TYPE), stdin_taken=stdin_taken)
    on_rotate = (
        rotation_writer(args.credentials, sys.stderr) if args.credentials and data.get("method") == "oauth" else None
    )
    return data, on_rotate


def _destination(args: argparse.Namespace) -> JSONObject:
    data: JSONObject = {"endpoint": args.endpoint}
    if args.label:
        data["label"] = args.label
    if args.key_prefix:
        data["keyPrefix"] = args.key_prefix
    if args.key_template:
        data["keyTemplate"] = args.key_template
    if getattr(args, "delete_missing", False):
        data["deleteMissing"] = True
    return data


PROBLEMS = ("failed", "conflict", "locked", "not-run")
SHOWN_KEYS = 5


def _cause(change: Change) -> str:
    """A failure's cause: its detail with its own key and any object address (``object at 0x7f...``,
    in transport errors) taken out, so keys failing alike group together."""
    import re
    from urllib.parse import quote

    detail: str = change.detail or change.status.value
    for form in (quote(change.key, safe=""), quote(change.key), change.key):
        if form:
            detail = detail.replace(form, "<key>")
    return re.sub(r"\b0x[0-9a-fA-F]{6,}\b", "0x...", detail)


def _where(change: Change) -> str:
    """A change's key and label for the terminal: they come from the store, so no control or bidi
    character reaches the screen."""

    label = "(no label)" if change.label is None else clean(change.label, 200)
    return f"{clean(change.key, 300)} [{label}]"


def _print(report: SyncReport, args: argparse.Namespace, out: TextIO, what: str) -> int:

    if args.json:
        print_json(report.to_dict(), out)
        return EXIT_OK if report.ok else EXIT_FAILED
    c = report.counts
    summary = ", ".join(f"{v} {k}" for k, v in c.items())
    out.write(f"{what}: {summary} ({report.requests} requests to the store)\n")
    groups: dict[tuple[str, str], list[Change]] = {}
    for ch in report.changes:
        if ch.status.value in PROBLEMS:  # one line per cause, not one per key (1,000 keys, one unreachable store)
            groups.setdefault((ch.status.value, _cause(ch)), []).append(ch)
    alone = {id(chs[0]) for chs in groups.values() if len(chs) == 1}
    for ch in report.changes:
        if ch.status.value == "unchanged" or (ch.status.value in PROBLEMS and id(ch) not in alone):
            continue
        detail = f"  {clean(ch.detail, 500)}" if ch.detail else ""
        out.write(f"  {ch.action.value:<7} {_where(ch)}  {ch.status.value}{detail}\n")
    for (status, cause), chs in groups.items():
        if len(chs) > 1:
            keys = ", ".join(clean(_where(ch), 120) for ch in chs[:SHOWN_KEYS])
            more = f" and {len(chs) - SHOWN_KEYS} more" if len(chs) > SHOWN_KEYS else ""
            out.write(f"  {status} ({len(chs)} keys): {cause}\n    {keys}{more}\n")
    return EXIT_OK if report.ok else EXIT_FAILED


def _sync_destination() -> SyncOperations:
    """Our destination, found the way a host finds it (through ``register_secret_syncs``)."""
    from app_connections.loader import load_plugins
    from app_connections.policy import HostPolicy

    registry = load_plugins(policy=HostPolicy.operator())
    found: object = registry.syncs.get(DESTINATION)
    if not isinstance(found, SyncOperations):
        raise InvalidInput(
            errors=[
                FieldError(
                    "plugin",
                    f"no {DESTINATION!r} sync destination is registered "
                    "(is azure-appconfig-plugin blocked in APP_CONNECTIONS_BLOCKED_PLUGINS?)",
                )
            ]
        )
    return found


def _run(args: argparse.Namespace, label: str, operation: Callable[..., SyncReport]) -> SyncReport:
    """``operation(**options)`` with the run's timeout and, on a terminal, a progress line."""
    from .cli_common import CONNECTION_TYPE, loaded_registry

    line = progress_line(args, label)
    # the registry's type: a plugin's method (and its hooks) serve the run as they serve validate
    options: dict[str, object] = {
        "timeout": args.timeout,
        "connection_type": loaded_registry(args).get(CONNECTION_TYPE),
    }
    if line is not None:
        options.update(progress=line, status=line.status)
    try:
        return operation(**options)
    finally:
        if line is not None:
            line.close()


def cmd_sync_push(args: argparse.Namespace, out: TextIO) -> int:
    """``sync plan`` and ``sync push``: the secrets file against the store's scope."""
    from .sync.secret_files import STDIN, read_secrets

    secrets = read_secrets(args.from_file, fmt=args.format)
    destination_obj = _sync_destination()
    destination = destination_obj.parse_destination(_destination(args))
    connection, on_rotate = _connection(args, stdin_taken="--from -" if args.from_file == STDIN else None)
    apply = args.sync_command == "push"
    operation = destination_obj.push if apply else destination_obj.plan
    from .sync.report import TooManyDeletes

    try:
        report = _run(
            args,
            "push" if apply else "plan",
            lambda **options: operation(
                connection,
                destination,
                secrets,
                concurrency=args.concurrency,
                on_rotate=on_rotate,
                max_deletes=args.max_deletes,
                **options,
            ),
        )
    except TooManyDeletes as exc:  # the plan shows what would go; the error names the flag (exit 2)
        _print(exc.report, args, out, f"push refused (nothing written) to {destination.endpoint}")
        raise TooManyDeletes(exc.why, exc.report, exc.deletes, "--max-deletes") from None
    what = f"{'push' if apply else 'plan (nothing written)'} to {destination.endpoint}"
    return _print(report, args, out, what)


def cmd_sync_import(args: argparse.Namespace, out: TextIO) -> int:
    """``sync import``: write the scope's secrets to a file (nothing when the import did not complete)."""
    from .sync.secret_files import check_writable, write_secrets

    # before any request: a bad or existing --to wastes no listing
    fmt = check_writable(args.to_file, "--to", fmt=args.format, force=args.force)
    destination_obj = _sync_destination()
    destination = destination_obj.parse_destination(_destination(args))
    connection, on_rotate = _connection(args)
    report = _run(
        args,
        "import",
        lambda **options: destination_obj.import_secrets(connection, destination, on_rotate=on_rotate, **options),
    )
    code = _print(report, args, out, f"import from {destination.endpoint}")
    if not report.ok:
        sys.stderr.write(f"Nothing written to {args.to_file}: the import did not complete\n")
        return code
    if not report.imported:
        sys.stderr.write(
            f"Nothing written to {args.to_file}: no secret found in the scope (check --label and --key-prefix)\n"
        )
        return EXIT_FAILED
    path = write_secrets(args.to_file, report.imported, fmt=fmt, force=args.force)
    refs = (
        f"; Key Vault references (written as their secret URI): {', '.join(sorted(report.references))}"
        if report.references
        else ""
    )
    sys.stderr.write(f"Wrote {len(report.imported)} secrets to {path} (mode 0600){refs}\n")
    return code


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}")
    return value


def _concurrency(text: str) -> int:
    from .http.pace import MAX_CONCURRENCY

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"must be an integer from 1 to {MAX_CONCURRENCY}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError("must be a whole number, 0 or more")
    return value


def _add_connection(p: argparse.ArgumentParser, registry: Registry | None) -> None:
    from .cli_inputs import add_connection_flags

    add_connection_flags(p, registry, stored="stored credentials (from `connect`; they name their method)")


def _add_scope(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True, metavar="URL", help="the store, e.g. https://mystore.azconfig.io")
    p.add_argument("--label", default="", metavar="L", help="the label the sync owns (default: the null label)")
    group = p.add_mutually_exclusive_group()  # the same scope for plan, push and import
    group.add_argument("--key-prefix", metavar="P", help="prefix of every key, e.g. myapp/")
    group.add_argument("--key-template", metavar="T", help="key for each secret, e.g. app/{secretKey}")
    p.add_argument("--json", action="store_true", help="print the report as JSON (ok, counts, changes, requests)")
    from .sync.secret_files import FORMATS

    p.add_argument(
        "--format",
        choices=FORMATS,
        help="the secrets file's format (default: from its name: .json, or .env / .env.* / *.env.*)",
    )
    from .sync.engine import DEFAULT_TIMEOUT

    p.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"the whole run's deadline, listing and writes (default {DEFAULT_TIMEOUT:g})",
    )


def add_commands(sub: argparse._SubParsersAction[_P], registry: Registry | None) -> None:
    """``sync plan|push|import``; the connection is taken as ``validate`` takes it."""
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
            "--from",
            dest="from_file",
            required=True,
            metavar="FILE",
            help="secrets: .json (name -> string) or .env, or - to read them from stdin (with --format)",
        )
        _add_scope(p)
        p.add_argument(
            "--delete-missing", action="store_true", help="delete entries in the scope that FILE does not have"
        )
        p.add_argument(
            "--concurrency", type=_concurrency, default=32, metavar="N", help="parallel requests at most (default 32)"
        )
        p.add_argument(
            "--max-deletes",
            type=_count,
            metavar="N",
            help="allow up to N deletes (default: none when FILE has no secrets, else at most half the scope)",
        )
        _add_connection(p, registry)
        p.set_defaults(handler=cmd_sync_push)
    p = ssub.add_parser("import", help="write the scope's entries to FILE as secrets")
    _add_scope(p)
    p.add_argument(
        "--to", dest="to_file", required=True, metavar="FILE", help="output: .json or .env (created with mode 0600)"
    )
    p.add_argument("--force", action="store_true", help="replace FILE when it exists")
    _add_connection(p, registry)
    p.set_defaults(handler=cmd_sync_import)
