"""``plugins pin`` and the trust part of ``types`` (``app-connections`` and the providers' commands): printing only;
the decisions live in ``trust``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, TextIO, TypeVar

from . import trust
from .hostspec import PROJECT_NAME
from .jsontypes import JSONObject

if TYPE_CHECKING:
    from .loader import Registry

EXIT_OK, EXIT_FAILED = 0, 1
P = TypeVar("P", bound=argparse.ArgumentParser)


def add_commands(sub: argparse._SubParsersAction[P]) -> None:
    """Add ``plugins pin`` to a command's subcommands (``app-connections`` and the providers' own)."""
    p = sub.add_parser("plugins", help="plugin trust: pin the plugins installed now")
    plugins_sub = p.add_subparsers(dest="plugins_command", metavar="COMMAND")
    plugins_sub.required = True
    pin = plugins_sub.add_parser(
        "pin",
        help=f"print the {trust.ALLOWLIST_ENV}=... line that pins every plugin installed now",
        description=(
            f"Print the {trust.ALLOWLIST_ENV} line that allows exactly the {PROJECT_NAME} plugins installed now, "
            "each pinned to its version and the SHA-256 of its RECORD (editable installs: version only). "
            f"Grants (:secrets, :owns=<slug>) in the current {trust.ALLOWLIST_ENV} are kept. "
            "Refuses to pin an install whose files no longer match its RECORD."
        ),
    )
    pin.add_argument("--group", default=PROJECT_NAME, help=argparse.SUPPRESS)
    pin.set_defaults(handler=cmd_pin)


def cmd_pin(args: argparse.Namespace, out: TextIO) -> int:
    """``plugins pin``: print the allow-list line that pins every plugin installed now."""
    current = trust.allow_list_from_env(os.environ)  # a malformed one is an error: never silently dropped
    entries: list[trust.AllowEntry] = []
    try:
        for dist in trust.installed_plugin_distributions(args.group):  # ValueError: metadata cannot be read
            old = current.get(trust.identify(dist).name) if current is not None else None
            entry, note = trust.pin_entry(dist, grants=old.grants if old is not None else frozenset())
            if note:
                sys.stderr.write(f"note: {note}\n")
            entries.append(entry)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    if not entries:
        sys.stderr.write(f"note: no {args.group} plugin is installed; this line allows none\n")
    out.write(trust.AllowList(tuple(entries)).line() + "\n")
    return EXIT_OK


# --- types ------------------------------------------------------------------------------------------


def refused_status(registry: Registry, err: TextIO) -> int:
    """The exit status of ``types``: ``EXIT_FAILED`` when plugin trust refused a plugin (another
    version or digest than pinned, tampered or unpinned files, unreadable metadata), named on
    ``err``; a plugin kept out because it is not listed (*blocked*) is the policy working: ``EXIT_OK``."""
    refused = registry.trust.refused
    if not refused:
        return EXIT_OK
    names = ", ".join(p.plugin for p in refused)
    err.write(
        f"error: plugin trust refused {len(refused)} plugin{'' if len(refused) == 1 else 's'} ({names}): "
        "what is installed is not what was pinned, or cannot be read; see the reasons above\n"
    )
    return EXIT_FAILED


def trust_json(registry: Registry) -> JSONObject:
    """The ``trust`` key of ``types --json``: mode, notices, grants and per-plugin provenance."""
    return dict(registry.trust.to_dict())


def write_trust_text(registry: Registry, out: TextIO) -> None:
    """Write the trust mode and each blocked, refused or failed plugin to ``out``."""
    report: trust.TrustReport = registry.trust
    if report.mode == trust.OPEN_MODE:
        out.write(f"plugin trust: open mode ({trust.ALLOWLIST_ENV} is not set: every installed plugin loads)\n")
    else:
        out.write(f"plugin trust: {report.mode_text}, from {trust.ALLOWLIST_ENV}\n")
    for notice in report.notices:
        out.write(f"  notice: {notice}\n")
    for p in report.provenance:
        out.write(f"plugin {p.plugin}: {p.status.upper()}: {p.reason}\n")
        if p.distribution:  # None when its metadata cannot be read (it is then refused)
            digest = (
                f"sha256:{p.digest}"
                if p.digest
                else "not hashed in open mode"
                if report.mode == trust.OPEN_MODE
                else "no RECORD"
            )
            out.write(f"  distribution: {p.distribution} {p.version} (RECORD {digest})\n")
        out.write(f"  {'loaded from' if p.status == trust.ALLOWED else 'installed at'}: {p.location or 'unknown'}\n")
        if p.secrets:
            out.write("  granted: secrets of connections it does not own\n")
