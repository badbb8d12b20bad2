"""Verdicts and provenance: what the trust policy decides per plugin, before import, and why."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from importlib import metadata

from ..jsontypes import JSONObject
from .allowlist import (
    ALLOWLIST_ENV,
    AllowList,
    allow_list_from_env,
    parse_allow_list,
    safe_text,
)
from .distributions import (
    identify,
    is_editable,
    unidentified,
)
from .entry_points import (
    UnreadableEntryPoints,
    entry_point_module,
    malformed_target,
)
from .hooks import Principal, may_see_secrets
from .imports import ImportPin, import_problem, pin_for
from .installed import (
    loose_startup_files,
    module_origin,
    record_digest,
    record_entries,
    record_file,
    shadowing_problem,
    startup_files,
    verify_files,
)

ALLOWED, BLOCKED, REFUSED = "allowed", "blocked", "refused"
"""Provenance statuses: *allowed* (loads), *blocked* (the host's policy names it out: not on the
allow-list, or on the blocklist), *refused* (listed, but what is installed is not what was pinned;
or, in any mode, its metadata or its entry point cannot be read, so it cannot be identified or
imported)."""

OPEN_MODE, ALLOWLIST_MODE = "open", "allow-list"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What trust decided for one entry point: allowed, blocked or refused, and why."""

    status: str
    """``allowed``, ``blocked`` or ``refused``."""
    reason: str
    checked_files: int = 0
    pin: ImportPin | None = dataclasses.field(default=None, compare=False, repr=False)
    """For a distribution allowed by a digest pin: what the import guard lets it import."""


def duplicate_problem(name: str, directories: Sequence[str]) -> str:
    """Why a name claimed by more than one metadata directory cannot be trusted."""
    shown = ", ".join(safe_text(d) for d in directories)
    return (
        f"{len(directories)} metadata directories claim the name {safe_text(name)} ({shown}): "
        "which one is the installed distribution cannot be told; remove the one you did not install"
    )


def judge(
    dist: metadata.Distribution | None,
    allow: AllowList | None,
    *,
    modules: Collection[str] = (),
    duplicates: Sequence[str] = (),
) -> Verdict:
    """May ``dist``'s entry points (whose modules are ``modules``) be imported? Imports nothing.

    Metadata that cannot be read -> refused, in any mode. Open mode (``allow is None``) allows
    everything else. In allow-list mode: not listed -> blocked; a name claimed by several metadata
    directories (``duplicates``), another version, another or absent RECORD digest, an editable
    install pinned by digest, a changed file, a shadowed module, or a file Python would import
    from its packages that RECORD does not list -> refused.
    """
    identity = identify(dist) if dist is not None else None
    if identity is not None and identity.problem is not None:
        return Verdict(REFUSED, unidentified(identity.problem))
    if allow is None:
        return Verdict(ALLOWED, f"open mode ({ALLOWLIST_ENV} is not set)")
    if dist is None or identity is None:
        return Verdict(BLOCKED, "its distribution is unknown, so it cannot match the allow-list")
    name = identity.name
    entry = allow.get(name)
    if entry is None:
        if not allow.entries:
            return Verdict(BLOCKED, f"{ALLOWLIST_ENV} is set but empty: no plugin is allowed")
        return Verdict(BLOCKED, f"{safe_text(name)} is not listed in {ALLOWLIST_ENV}")
    if len(duplicates) > 1:
        return Verdict(REFUSED, duplicate_problem(name, duplicates))
    if entry.version is not None and identity.version != entry.version:
        shown = safe_text(identity.version)
        return Verdict(REFUSED, f"{safe_text(name)} {shown} is installed; {entry.version} is pinned")
    if entry.digest is None:
        return Verdict(ALLOWED, "listed" + (" with its version" if entry.version else " by name"))
    if is_editable(dist):
        return Verdict(
            REFUSED,
            f"{safe_text(name)} is an editable install: its RECORD does not cover its source, "
            "so a digest cannot pin it; pin it by version or install it from a wheel",
        )
    try:
        files = record_entries(dist)  # RECORD parsed once for the digest, the files and the module check
    except ValueError as exc:
        return Verdict(REFUSED, f"tampered: {exc}: none of {safe_text(name)}'s files can be checked")
    digest = record_digest(dist, files)
    if digest is None:
        return Verdict(REFUSED, f"{safe_text(name)} has no RECORD file to compare with the pinned digest")
    if digest != entry.digest:
        return Verdict(
            REFUSED, f"the RECORD digest of {safe_text(name)} is sha256:{digest}; sha256:{entry.digest} is pinned"
        )
    check = verify_files(dist, files)
    if not check.ok:
        return Verdict(REFUSED, f"tampered: {check.problem}", check.checked)
    pin = pin_for(dist, files, name)
    unpinned = import_problem(pin)
    if unpinned is not None:
        return Verdict(REFUSED, f"unpinned code: {unpinned}", check.checked)
    shadow = shadowing_problem(dist, files, modules)
    if shadow is not None:
        return Verdict(REFUSED, f"shadowed: {shadow}", check.checked)
    return Verdict(ALLOWED, f"pinned: version, RECORD digest and {check.checked} files match", check.checked, pin)


@dataclasses.dataclass
class Provenance:
    """Where a plugin came from and what the trust policy decided (``azure-appconfig types``)."""

    plugin: str
    distribution: str | None
    version: str | None
    digest: str | None
    status: str
    reason: str
    module: str | None = None
    location_hint: str | None = None
    secrets: bool = False
    """Whether the host granted this plugin's hooks the secrets of connections it does not own."""

    @property
    def location(self) -> str | None:
        """The file the plugin's module was loaded from (or would be, if it is not loaded)."""
        origin = module_origin(self.module) if self.module else None
        return origin or self.location_hint

    def to_dict(self) -> JSONObject:
        """The entry as JSON."""
        return {
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "recordDigest": f"sha256:{self.digest}" if self.digest else None,
            "location": self.location,
            "status": self.status,
            "reason": self.reason,
            "secretsGranted": self.secrets,
        }


def provenance_for(
    plugin: str,
    dist: metadata.Distribution | None,
    verdict: Verdict,
    *,
    module: str | None,
    secrets: bool,
    digest: bool = True,
) -> Provenance:
    """``plugin``'s provenance; ``digest=False`` (open mode) leaves its ``RECORD`` unhashed."""
    location = None
    identity = None
    if dist is not None:
        identity = identify(dist)
        record = record_file(dist)
        location = str(record.parent) if record is not None else None
    return Provenance(
        plugin,
        (identity.name or None) if identity is not None else None,
        (identity.version or None) if identity is not None else None,
        record_digest(dist) if dist is not None and digest else None,
        verdict.status,
        verdict.reason,
        module,
        location,
        secrets,
    )


# --- the loader's view: one report per load ------------------------------------------------------


@dataclasses.dataclass
class TrustReport:
    """The trust side of one load: mode, grants, a verdict and provenance per plugin, notices.

    A loader calls :meth:`admit` for each entry point before importing it (the verdict is cached
    per distribution, so a distribution's files are hashed once per load).
    """

    allow_list: AllowList | None = None
    grants: frozenset[str] = frozenset()
    """Distribution (or in-process plugin) names whose hooks see every connection's secrets."""
    provenance: list[Provenance] = dataclasses.field(default_factory=list)
    _verdicts: dict[str, Verdict] = dataclasses.field(default_factory=dict, repr=False)
    _modules: dict[str, set[str]] = dataclasses.field(default_factory=dict, repr=False)
    _installed: set[str] | None = dataclasses.field(default=None, repr=False)
    _startup_files: dict[str, list[str]] = dataclasses.field(default_factory=dict, repr=False)
    duplicates: dict[str, list[str]] = dataclasses.field(default_factory=dict, repr=False)
    """Normalised name -> metadata directories claiming it (:attr:`GroupEntryPoints.duplicates`)."""

    @classmethod
    def start(
        cls, env: Mapping[str, str], allowed_plugins: str | AllowList | None = None, grant_secrets: Iterable[str] = ()
    ) -> TrustReport:
        """``allowed_plugins`` (text or parsed) overrides ``APP_CONNECTIONS_ALLOWED_PLUGINS`` in ``env``.
        Raises :class:`AllowListError` for a malformed entry: a host fails closed at start-up."""
        if isinstance(allowed_plugins, AllowList):
            allow: AllowList | None = allowed_plugins
        elif allowed_plugins is not None:
            allow = parse_allow_list(allowed_plugins)
        else:
            allow = allow_list_from_env(env)
        grants = frozenset(grant_secrets) | (allow.secret_grants if allow is not None else frozenset())
        return cls(allow, grants)

    @property
    def mode(self) -> str:
        """``open`` or ``allow-list``."""
        return OPEN_MODE if self.allow_list is None else ALLOWLIST_MODE

    @property
    def mode_text(self) -> str:
        """``open mode`` or ``allow-list mode (N entries)``."""
        if self.allow_list is None:
            return "open mode"
        n = len(self.allow_list.entries)
        return f"allow-list mode ({n} {'entry' if n == 1 else 'entries'})"

    def expect(
        self, entry_points: Iterable[metadata.EntryPoint], duplicates: Mapping[str, list[str]] | None = None
    ) -> None:
        """Tell the report every entry point of the group, so pins can check all of a distribution's
        modules, and the names several metadata directories claim (refused in allow-list mode)."""
        self._installed = self._installed or set()
        self.duplicates.update(duplicates or {})
        for ep in entry_points:
            dist = getattr(ep, "dist", None)
            identity = identify(dist) if dist is not None else None
            if identity is not None and identity.problem is None:  # one that cannot be named matches no entry
                self._installed.add(identity.key)
                module = entry_point_module(ep)
                if module is not None:  # a malformed target is refused on its own, never imported
                    self._modules.setdefault(identity.key, set()).add(module)

    def _granted(self, plugin: str, dist: str | None) -> bool:
        return may_see_secrets(Principal.of(plugin, dist), (), self.grants)

    def admit(self, ep: metadata.EntryPoint) -> Verdict:
        """The verdict for one entry point, decided without importing it; recorded as provenance."""
        dist = getattr(ep, "dist", None)
        identity = identify(dist) if dist is not None else None
        module = entry_point_module(ep)
        if identity is not None and identity.problem is not None:  # no name: nothing to match or cache it under
            verdict = Verdict(REFUSED, unidentified(identity.problem, ep))
            owner = f"the distribution of entry point {safe_text(ep.name)}"
        elif module is None:  # this entry point's fault alone: not cached for its distribution's others
            verdict = Verdict(REFUSED, malformed_target(ep))
            owner = identity.name if identity is not None else ""
        else:
            key = identity.key if identity is not None else ""
            cached = self._verdicts.get(key) if identity is not None else None
            verdict = cached or judge(
                dist,
                self.allow_list,
                modules=sorted(self._modules.get(key, {module})),
                duplicates=self.duplicates.get(key, ()),
            )
            if identity is not None:
                self._verdicts[key] = verdict
            owner = identity.name if identity is not None else ""
        name = (identity.name or None) if identity is not None else None
        self.provenance.append(
            provenance_for(
                ep.name,
                dist,
                verdict,
                module=module,
                secrets=self._granted(ep.name, name),
                digest=self.allow_list is not None,
            )
        )
        if verdict.status != ALLOWED and dist is not None and owner and owner not in self._startup_files:
            self._startup_files[owner] = startup_files(dist)
        return verdict

    def blocked(self, ep: metadata.EntryPoint, reason: str) -> None:
        """Record an entry point blocked for ``reason``."""
        dist = getattr(ep, "dist", None)
        module = entry_point_module(ep)
        self.provenance.append(
            provenance_for(
                ep.name,
                dist,
                Verdict(BLOCKED, reason),
                module=module,
                secrets=False,
                digest=self.allow_list is not None,
            )
        )

    def unreadable(self, item: UnreadableEntryPoints, group: str) -> Verdict:
        """Refuse a distribution whose entry points cannot be read (none is known, so none is
        imported); recorded as provenance under :attr:`UnreadableEntryPoints.label`. Call it after
        :meth:`expect`: a listed name it answers to is not reported as matching nothing installed."""
        verdict = Verdict(REFUSED, item.reason(group))
        identity = identify(item.dist)
        if identity.problem is None and identity.name:
            self._installed = self._installed or set()
            self._installed.add(identity.key)
        self.provenance.append(provenance_for(item.label, item.dist, verdict, module=None, secrets=False))
        self._startup_files[f"the distribution {item.label}"] = startup_files(item.dist)
        return verdict

    def in_process(self, plugin: str, obj: object) -> None:
        """Record a plugin registered in process (not through an entry point)."""
        module = getattr(obj, "__name__", None) if isinstance(getattr(obj, "__name__", None), str) else None
        origin = getattr(obj, "__file__", None)
        self.provenance.append(
            Provenance(
                plugin,
                None,
                None,
                None,
                ALLOWED,
                "passed in-process by the host (not subject to the allow-list)",
                module if module in sys.modules else None,
                origin,
                self._granted(plugin, None),
            )
        )

    def refuse_import(self, plugin: str, reason: str) -> None:
        """Record that the import guard refused ``plugin``'s module while it was being loaded."""
        for prov in self.provenance:
            if prov.plugin == plugin:
                prov.status, prov.reason = REFUSED, reason

    @property
    def pins(self) -> list[ImportPin]:
        """What the import guard holds for this load: every distribution allowed by a digest pin."""
        found = {v.pin.distribution: v.pin for v in self._verdicts.values() if v.status == ALLOWED and v.pin}
        return [found[k] for k in sorted(found)]

    @property
    def refused(self) -> list[Provenance]:
        """The entries refused (found but not loaded)."""
        return [p for p in self.provenance if p.status == REFUSED]

    @property
    def notices(self) -> list[str]:
        """What an operator should know: an empty allow-list, entries matching nothing installed,
        plugins kept out that still run code at interpreter start-up (``.pth`` files), ``.pth``
        files with executable lines that no distribution lists; in open mode, names claimed twice."""
        if self.allow_list is None:  # open mode: a contested name loads, but the operator is told
            return [
                f"{duplicate_problem(key, dirs)} (in allow-list mode it would be refused)"
                for key, dirs in sorted(self.duplicates.items())
                if key in self._verdicts
            ]
        out: list[str] = []
        if not self.allow_list.entries:
            out.append(f"{ALLOWLIST_ENV} is set but empty: no plugin is loaded")
        out.extend(
            f"{ALLOWLIST_ENV} lists {e.name}, which provides no installed app_connections plugin"
            for e in self.allow_list.entries
            if self._installed is not None and e.key not in self._installed
        )
        out.extend(
            f"{name} is not loaded, but it installs {', '.join(files)}, which Python runs at start-up "
            "before any loader: uninstall it if you do not trust it"
            for name, files in self._startup_files.items()
            if files
        )
        out.extend(
            f"{path} runs code at start-up before any loader, and no installed distribution lists it: "
            "remove it if you did not put it there"
            for path in loose_startup_files()
        )
        return out

    def to_dict(self) -> JSONObject:
        """The report as JSON."""
        return {
            "mode": self.mode,
            "notices": self.notices,
            "secretGrants": sorted(self.grants),
            "plugins": [p.to_dict() for p in self.provenance],
        }
