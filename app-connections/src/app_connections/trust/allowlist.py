"""The allow-list: ``APP_CONNECTIONS_ALLOWED_PLUGINS`` parsed into typed entries.

Grammar of one entry (comma-separated, no spaces inside an entry)::

    entry   = name [ "==" version [ "@sha256:" hex64 ] ] { ":secrets" | ":owns=" slug }
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from ..errors import FieldError, InvalidInput

ALLOWLIST_ENV = "APP_CONNECTIONS_ALLOWED_PLUGINS"
SECRETS_GRANT = "secrets"
OWNS_GRANT = "owns"
GRANTS = (SECRETS_GRANT, OWNS_GRANT)
"""Every grant an allow-list entry may carry: ``:secrets``, and ``:owns=<slug>`` (repeatable), which
names the distribution the one owner of a connection type (no other registration of it is used)."""
_SLUG = r"[a-z0-9][a-z0-9-]*"

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_VERSION = r"[A-Za-z0-9][A-Za-z0-9.!+_-]*"
_ENTRY = re.compile(
    rf"(?P<name>{_NAME})(?:==(?P<version>{_VERSION})(?:@sha256:(?P<digest>[0-9A-Fa-f]{{64}}))?)?(?P<grants>(?::[A-Za-z-]+(?:=[^:,]*)?)*)"
)
ENTRY_SYNTAX = (
    "name, name==version or name==version@sha256:<64 hex digits>, optionally followed by :secrets "
    "and :owns=<connection type slug> (repeatable)"
)
_MAX_SHOWN = 120


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: case-insensitive, runs of ``-_.`` are one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def safe_text(text: str) -> str:
    """Untrusted text (environment, RECORD paths) bounded and without control characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean if len(clean) <= _MAX_SHOWN else clean[: _MAX_SHOWN - 1] + "…"


# --- errors ----------------------------------------------------------------------------------------


class AllowListError(InvalidInput):
    """A malformed ``APP_CONNECTIONS_ALLOWED_PLUGINS``; ``entry`` is the bad entry (as written)."""

    category = "internal"  # the operator's setting, not a user's input
    http_status = 500

    def __init__(self, entry: str, problem: str) -> None:
        self.entry = entry
        shown = f"entry {safe_text(entry)!r} {problem}"
        super().__init__(
            f"{ALLOWLIST_ENV}: {shown}; expected {ENTRY_SYNTAX}",
            errors=[FieldError(ALLOWLIST_ENV, shown)],
            field=ALLOWLIST_ENV,
        )


# --- allow-list ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AllowEntry:
    """One allow-list entry: a distribution, optionally pinned to a version and a RECORD digest."""

    name: str
    version: str | None = None
    digest: str | None = None
    """Lower-case hex SHA-256 of the installed ``RECORD`` file."""
    grants: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        """The distribution's normalized name."""
        return normalize_name(self.name)

    @property
    def secrets(self) -> bool:
        """True when the entry grants its hooks the connection's secrets."""
        return SECRETS_GRANT in self.grants

    @property
    def owns(self) -> frozenset[str]:
        """Connection type slugs this distribution is named the owner of (``:owns=<slug>``)."""
        prefix = OWNS_GRANT + "="
        return frozenset(g[len(prefix) :] for g in self.grants if g.startswith(prefix))

    def __str__(self) -> str:
        text = self.name
        if self.version is not None:
            text += f"=={self.version}"
            if self.digest is not None:
                text += f"@sha256:{self.digest}"
        for grant in sorted(self.grants):
            text += f":{grant}"
        return text


def parse_entry(text: str) -> AllowEntry:
    """One entry (see the module docstring); :class:`AllowListError` names it when malformed."""
    entry = text.strip()
    match = _ENTRY.fullmatch(entry)
    if match is None:
        raise AllowListError(entry, _diagnose(entry))
    grants = [g for g in match["grants"].split(":") if g]
    for grant in grants:
        kind, eq, slug = grant.partition("=")
        if kind not in GRANTS or (kind == SECRETS_GRANT) == bool(eq):
            raise AllowListError(
                entry, f"has an unknown grant {grant!r} (grants are {SECRETS_GRANT!r} and '{OWNS_GRANT}=<slug>')"
            )
        if kind == OWNS_GRANT and not re.fullmatch(_SLUG, slug):
            raise AllowListError(entry, f"has {grant!r}, whose connection type slug is not lower-case a-z, 0-9, -")
    digest = match["digest"]
    return AllowEntry(match["name"], match["version"], digest.lower() if digest else None, frozenset(grants))


def _diagnose(entry: str) -> str:
    if any(ch.isspace() for ch in entry):
        return "contains a space"
    if re.search(r"(~=|!=|===|>=|<=|<|>)", entry):
        return "uses a version range; only exact pins (==) are supported"
    head, at, pin = entry.partition("@")
    if at and "==" not in head:
        return "has a digest but no version; a digest pin needs name==version@sha256:<hex>"
    if at:
        if not pin.startswith("sha256:"):
            return "has a digest that is not sha256:<hex>"
        hexpart = pin[len("sha256:") :].split(":", 1)[0]
        if not re.fullmatch(r"[0-9A-Fa-f]*", hexpart):
            return "has a digest with non-hex characters"
        return f"has a digest of {len(hexpart)} hex digits; a SHA-256 has 64"
    name = re.split(r"==|:", entry, maxsplit=1)[0]
    if not re.fullmatch(_NAME, name):
        return "does not start with a valid distribution name"
    return "is not valid"


@dataclasses.dataclass(frozen=True)
class AllowList:
    """Parsed ``APP_CONNECTIONS_ALLOWED_PLUGINS``. An empty allow-list is valid and allows nothing."""

    entries: tuple[AllowEntry, ...] = ()

    def get(self, distribution: str) -> AllowEntry | None:
        """The entry for ``distribution`` (any spelling of its name), or None."""
        key = normalize_name(distribution)
        return next((e for e in self.entries if e.key == key), None)

    @property
    def secret_grants(self) -> frozenset[str]:
        """Normalized names of the distributions granted secrets."""
        return frozenset(e.key for e in self.entries if e.secrets)

    @property
    def type_owners(self) -> dict[str, str]:
        """Connection type slug -> the normalised name of the distribution named its owner."""
        return {slug: e.key for e in self.entries for slug in e.owns}

    def value(self) -> str:
        """The list as the environment variable's value."""
        return ",".join(str(e) for e in self.entries)

    def line(self) -> str:
        """The ``APP_CONNECTIONS_ALLOWED_PLUGINS=...`` line (shell- and env-file-safe: no quoting needed)."""
        return f"{ALLOWLIST_ENV}={self.value()}"


def parse_allow_list(text: str) -> AllowList:
    """Comma-separated entries; blank items are ignored, so ``""`` is the empty allow-list."""
    entries: list[AllowEntry] = []
    for item in text.split(","):
        if not item.strip():
            continue
        entry = parse_entry(item)
        if any(e.key == entry.key for e in entries):
            raise AllowListError(item.strip(), f"lists {entry.name!r} a second time; keep one entry per distribution")
        rival = next((e for e in entries if e.owns & entry.owns), None)
        if rival is not None:
            slug = min(rival.owns & entry.owns)
            raise AllowListError(item.strip(), f"names {slug!r} owned by {rival.name!r} too; a type has one owner")
        entries.append(entry)
    return AllowList(tuple(entries))


def allow_list_from_env(env: Mapping[str, str]) -> AllowList | None:
    """``None`` (open mode) when the variable is unset; otherwise the parsed allow-list."""
    text = env.get(ALLOWLIST_ENV)
    return None if text is None else parse_allow_list(text)
