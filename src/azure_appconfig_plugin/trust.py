"""Plugin trust: which installed plugins a host loads, and what each hook may see.

Three parts, each usable on its own by a host with its own loader:

1. **Allow-list with pins.** ``APP_CONNECTIONS_ALLOWED_PLUGINS`` (comma-separated) turns a loader
   into allow-list mode. Grammar of one entry (no spaces inside an entry)::

       entry   = name [ "==" version [ "@sha256:" hex64 ] ] [ ":secrets" ]

   ``name`` is a distribution name (compared after PEP 503 normalisation), ``version`` its
   version exactly as its metadata spells it, ``hex64`` the SHA-256 of its installed ``RECORD``
   file, and ``:secrets`` grants the distribution's hooks the secrets of connections it does not
   own (see 3). :func:`parse_allow_list` turns the text into an :class:`AllowList` or raises
   :class:`AllowListError` naming the bad entry.
2. **Tamper check.** :func:`judge` decides, *before anything is imported*, whether a
   distribution's entry points may load: listed, same version, same ``RECORD`` digest, every
   file ``RECORD`` lists with a hash unchanged (:func:`verify_files`), and the entry point's
   top-level module resolving to one of those files (not shadowed by another ``sys.path`` entry).
3. **Least privilege for hooks.** A hook from another distribution than the one(s) that
   registered a connection's type and auth method sees a :class:`CredentialsView` (only the
   fields the method's ``input_schema()`` declares and does not mark secret) and no token
   credential, unless granted. :func:`may_see_secrets`, :func:`split_by_trust` and
   :func:`restricted_request` are the pieces a pluggy-driven ``validate`` combines.

Standard library plus this package's error classes; it imports no plugin and nothing from
the SDKs, so a host can run the checks before importing any plugin.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib.util
import json
import os
import re
import stat
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Collection, Iterable, Iterator, Mapping

from .errors import FieldError, InvalidInput

ALLOWLIST_ENV = "APP_CONNECTIONS_ALLOWED_PLUGINS"
SECRETS_GRANT = "secrets"
GRANTS = (SECRETS_GRANT,)
"""Every grant an allow-list entry may carry (``name...:secrets``)."""

ALLOWED, BLOCKED, REFUSED = "allowed", "blocked", "refused"
"""Provenance statuses: *allowed* (loads), *blocked* (the host's policy names it out: not on the
allow-list, or on the blocklist), *refused* (listed, but what is installed is not what was pinned)."""

OPEN_MODE, ALLOWLIST_MODE = "open", "allow-list"

STRONG_HASHES = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s"})
"""``RECORD`` hash algorithms the tamper check accepts (wheels use sha256; md5/sha1 are refused)."""

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_VERSION = r"[A-Za-z0-9][A-Za-z0-9.!+_-]*"
_ENTRY = re.compile(
    rf"(?P<name>{_NAME})(?:==(?P<version>{_VERSION})(?:@sha256:(?P<digest>[0-9A-Fa-f]{{64}}))?)?(?::(?P<grant>[A-Za-z-]+))?"
)
ENTRY_SYNTAX = "name, name==version or name==version@sha256:<64 hex digits>, optionally followed by :secrets"
_MAX_SHOWN = 120
_CHUNK = 1 << 16


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: case-insensitive, runs of ``-_.`` are one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _shown(text: str) -> str:
    """Untrusted text (environment, RECORD paths) bounded and without control characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean if len(clean) <= _MAX_SHOWN else clean[: _MAX_SHOWN - 1] + "…"


# --- errors ----------------------------------------------------------------------------------------


class AllowListError(InvalidInput):
    """A malformed ``APP_CONNECTIONS_ALLOWED_PLUGINS``; ``entry`` is the bad entry (as written)."""

    def __init__(self, entry: str, problem: str) -> None:
        self.entry = entry
        shown = f"entry {_shown(entry)!r} {problem}"
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
        return normalize_name(self.name)

    @property
    def secrets(self) -> bool:
        return SECRETS_GRANT in self.grants

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
    grant = match["grant"]
    if grant is not None and grant not in GRANTS:
        raise AllowListError(entry, f"has an unknown grant {grant!r} (the only grant is {SECRETS_GRANT!r})")
    digest = match["digest"]
    return AllowEntry(
        match["name"], match["version"], digest.lower() if digest else None, frozenset({grant}) if grant else frozenset()
    )


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
        key = normalize_name(distribution)
        return next((e for e in self.entries if e.key == key), None)

    @property
    def secret_grants(self) -> frozenset[str]:
        return frozenset(e.key for e in self.entries if e.secrets)

    def value(self) -> str:
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
        entries.append(entry)
    return AllowList(tuple(entries))


def allow_list_from_env(env: Mapping[str, str]) -> AllowList | None:
    """``None`` (open mode) when the variable is unset; otherwise the parsed allow-list."""
    text = env.get(ALLOWLIST_ENV)
    return None if text is None else parse_allow_list(text)


# --- installed distributions: RECORD digest and files ----------------------------------------


def record_file(dist: metadata.Distribution, files: list[metadata.PackagePath] | None = None) -> Path | None:
    """The installed ``RECORD`` file of ``dist`` (``None`` for a distribution without one).
    ``files``: ``dist.files`` when the caller already has it (each call re-reads RECORD)."""
    for path in (files if files is not None else dist.files) or ():
        if path.name == "RECORD" and path.parent.name.endswith(".dist-info") and len(path.parts) == 2:
            located = Path(str(dist.locate_file(path)))
            return located if located.is_file() else None
    base = getattr(dist, "_path", None)  # a dist-info without RECORD in its own listing
    if isinstance(base, Path) and (base / "RECORD").is_file():
        return base / "RECORD"
    return None


def record_digest(dist: metadata.Distribution, files: list[metadata.PackagePath] | None = None) -> str | None:
    """Lower-case hex SHA-256 of the bytes of the installed ``RECORD`` (what a pin names)."""
    path = record_file(dist, files)
    return None if path is None else hashlib.sha256(path.read_bytes()).hexdigest()


def is_editable(dist: metadata.Distribution) -> bool:
    """True for an editable install (PEP 610 ``direct_url.json`` with ``dir_info.editable``).

    Its ``RECORD`` lists only the ``.pth``/finder files that point at a source tree, not the code:
    a digest cannot pin what it runs, so :func:`judge` refuses digest pins for it.
    """
    try:
        raw = dist.read_text("direct_url.json")
        data = json.loads(raw) if raw else {}
    except (OSError, ValueError):
        return False
    info = data.get("dir_info") if isinstance(data, dict) else None
    return isinstance(info, dict) and info.get("editable") is True


@dataclasses.dataclass(frozen=True)
class FileCheck:
    """Outcome of :func:`verify_files`: files hashed, and the first problem with its file."""

    checked: int
    problem: str | None = None
    file: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _urlsafe(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_files(dist: metadata.Distribution, files: list[metadata.PackagePath] | None = None) -> FileCheck:
    """Hash every file ``RECORD`` lists with a hash and compare (size first, then digest).

    Files without a hash in ``RECORD`` (``RECORD`` itself, byte-code pip compiled after
    installing) cannot be checked and are skipped.
    """
    checked = 0
    base = str(dist.locate_file(""))  # one join per file instead of a pathlib object per file
    for path in (files if files is not None else dist.files) or ():
        if path.hash is None:
            continue
        mode = path.hash.mode.lower().replace("-", "_")
        if mode not in STRONG_HASHES:
            shown = _shown(str(path))
            return FileCheck(checked, f"RECORD lists {shown} with a {mode!r} hash, which cannot be trusted", shown)
        try:
            digest = hashlib.new(mode)
            located = os.path.join(base, str(path))
            info = os.stat(located)  # before opening: opening a FIFO would block
            if not stat.S_ISREG(info.st_mode):  # e.g. a RECORD naming /dev/zero: never read it
                shown = _shown(str(path))
                return FileCheck(checked, f"{shown} is listed in RECORD but is not a regular file", shown)
            size = info.st_size
            with open(located, "rb") as fh:
                if path.size is None or size == path.size:  # reads are bounded by the size on disk
                    left = size
                    while left > 0 and (chunk := fh.read(min(_CHUNK, left))):
                        digest.update(chunk)
                        left -= len(chunk)
        except OSError:
            shown = _shown(str(path))
            return FileCheck(checked, f"{shown} is listed in RECORD but cannot be read (deleted or replaced)", shown)
        checked += 1
        if path.size is not None and size != path.size:
            shown = _shown(str(path))
            return FileCheck(checked, f"{shown} changed after install (size {size}, RECORD says {path.size})", shown)
        if _urlsafe(digest.digest()) != path.hash.value:
            shown = _shown(str(path))
            return FileCheck(checked, f"{shown} changed after install (its {mode} differs from RECORD)", shown)
    return FileCheck(checked)


def module_origin(module: str) -> str | None:
    """Where ``module`` was (or would be) imported from, without running any of its code: its
    ``__file__`` once imported, else the file its top-level package resolves to."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return getattr(loaded, "__file__", None)
    top = module.split(".", 1)[0]
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: finders only, no module code runs
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.has_location:
        return spec.origin
    locations = list(spec.submodule_search_locations or ())
    return locations[0] if locations else None


def _shadowed(dist: metadata.Distribution, files: list[metadata.PackagePath], modules: Iterable[str]) -> str | None:
    """A problem when an entry point's top-level module would come from outside ``dist``'s files."""
    root = Path(str(dist.locate_file(""))).resolve()
    recorded = {p.as_posix() for p in files}
    for module in modules:
        top = module.split(".", 1)[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            return f"module {_shown(top)!r} of its entry point cannot be found"
        if spec.origin and spec.has_location:
            origin = Path(spec.origin).resolve()
            if not origin.is_relative_to(root) or origin.relative_to(root).as_posix() not in recorded:
                return f"module {_shown(top)!r} would be imported from {_shown(spec.origin)}, which is not one of its RECORD files"
        # A namespace package has no file of its own: its portions are checked as RECORD files.
    return None


# --- the decision --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Verdict:
    status: str
    """``allowed``, ``blocked`` or ``refused``."""
    reason: str
    checked_files: int = 0


def judge(dist: metadata.Distribution | None, allow: AllowList | None, *, modules: Collection[str] = ()) -> Verdict:
    """May ``dist``'s entry points (whose modules are ``modules``) be imported? Imports nothing.

    Open mode (``allow is None``) allows everything. In allow-list mode: not listed -> blocked;
    another version, another or absent RECORD digest, an editable install pinned by digest, a
    changed file or a shadowed module -> refused.
    """
    if allow is None:
        return Verdict(ALLOWED, f"open mode ({ALLOWLIST_ENV} is not set)")
    if dist is None:
        return Verdict(BLOCKED, "its distribution is unknown, so it cannot match the allow-list")
    name = dist.metadata["Name"] or ""
    entry = allow.get(name)
    if entry is None:
        if not allow.entries:
            return Verdict(BLOCKED, f"{ALLOWLIST_ENV} is set but empty: no plugin is allowed")
        return Verdict(BLOCKED, f"{_shown(name)} is not listed in {ALLOWLIST_ENV}")
    if entry.version is not None and dist.version != entry.version:
        return Verdict(REFUSED, f"{_shown(name)} {_shown(dist.version)} is installed; {entry.version} is pinned")
    if entry.digest is None:
        return Verdict(ALLOWED, "listed" + (" with its version" if entry.version else " by name"))
    if is_editable(dist):
        return Verdict(
            REFUSED,
            f"{_shown(name)} is an editable install: its RECORD does not cover its source, so a digest cannot pin it; "
            "pin it by version or install it from a wheel",
        )
    files = dist.files or []  # RECORD parsed once for the digest, the files and the module check
    digest = record_digest(dist, files)
    if digest is None:
        return Verdict(REFUSED, f"{_shown(name)} has no RECORD file to compare with the pinned digest")
    if digest != entry.digest:
        return Verdict(REFUSED, f"the RECORD digest of {_shown(name)} is sha256:{digest}; sha256:{entry.digest} is pinned")
    check = verify_files(dist, files)
    if not check.ok:
        return Verdict(REFUSED, f"tampered: {check.problem}", check.checked)
    shadow = _shadowed(dist, files, modules)
    if shadow is not None:
        return Verdict(REFUSED, f"shadowed: {shadow}", check.checked)
    return Verdict(ALLOWED, f"pinned: version, RECORD digest and {check.checked} files match", check.checked)


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

    def to_dict(self) -> dict[str, Any]:
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


def startup_files(dist: metadata.Distribution) -> list[str]:
    """``.pth`` files of ``dist`` that run code: ``site`` executes their ``import`` lines at every
    interpreter start-up, so no allow-list can keep them from running (path-only ones are inert)."""
    found = []
    for path in dist.files or ():
        if path.suffix != ".pth" or len(path.parts) != 1:
            continue
        try:
            lines = Path(str(dist.locate_file(path))).read_text(errors="replace").splitlines()
        except OSError:
            continue
        if any(line.startswith(("import ", "import\t")) for line in lines):
            found.append(_shown(str(path)))
    return sorted(found)


def provenance_for(
    plugin: str, dist: metadata.Distribution | None, verdict: Verdict, *, module: str | None, secrets: bool
) -> Provenance:
    location = None
    if dist is not None:
        record = record_file(dist)
        location = str(record.parent) if record is not None else None
    return Provenance(
        plugin,
        dist.metadata["Name"] if dist is not None else None,
        dist.version if dist is not None else None,
        record_digest(dist) if dist is not None else None,
        verdict.status,
        verdict.reason,
        module,
        location,
        secrets,
    )


def installed_plugin_distributions(group: str) -> list[metadata.Distribution]:
    """Distributions with at least one entry point in ``group``, one per normalised name, sorted."""
    found: dict[str, metadata.Distribution] = {}
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        if dist is not None:
            found.setdefault(normalize_name(dist.metadata["Name"] or ""), dist)
    return [found[k] for k in sorted(found)]


def pin_entry(dist: metadata.Distribution, *, grants: frozenset[str] = frozenset()) -> tuple[AllowEntry, str | None]:
    """The tightest entry for ``dist`` as installed now, and a note when it cannot carry a digest.

    Raises ``ValueError`` naming the file when the install no longer matches its own RECORD.
    """
    name, version = dist.metadata["Name"] or "", dist.version
    if is_editable(dist):
        return AllowEntry(name, version, None, grants), f"{name} is an editable install: pinned by version only (its RECORD does not cover its source)"
    digest = record_digest(dist)
    if digest is None:
        return AllowEntry(name, version, None, grants), f"{name} has no RECORD file: pinned by version only"
    files = verify_files(dist)
    if not files.ok:
        raise ValueError(f"{name} {version} does not match its own RECORD, refusing to pin it: {files.problem}")
    return AllowEntry(name, version, digest, grants), None


# --- least privilege for hooks ---------------------------------------------------------------------


def secret_fields(schema: Mapping[str, Any]) -> frozenset[str]:
    """Properties a method's ``input_schema()`` marks secret (``writeOnly: true`` or ``format: password``)."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return frozenset()
    return frozenset(
        k for k, v in props.items() if isinstance(v, Mapping) and (v.get("writeOnly") is True or v.get("format") == "password")
    )


def public_fields(schema: Mapping[str, Any]) -> frozenset[str]:
    """Properties a foreign hook may read: declared in the schema and not secret. Anything a method
    stores but does not declare (e.g. an OAuth refresh token) is withheld too: fail closed."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return frozenset()
    return frozenset(props) - secret_fields(schema)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class SecretWithheld(AttributeError, KeyError):
    """A restricted hook asked for a field it is not granted (as an attribute or a key)."""

    def __str__(self) -> str:  # KeyError would show the repr
        return str(self.args[0]) if self.args else ""


class CredentialsView:
    """What a hook without the secrets grant sees instead of a connection's credentials.

    ``method``, ``to_dict()`` and the public fields, as snake_case attributes and as a read-only
    mapping of camelCase keys (so it also stands in for raw form input); reading a withheld field
    raises :class:`SecretWithheld` saying how the host grants it. It is no ``Credentials`` of any
    auth method, so no method mints a token from it.
    """

    __slots__ = ("_method", "_public", "_withheld", "_plugin")

    def __init__(self, method: str, public: Mapping[str, Any], withheld: Iterable[str], plugin: str = "") -> None:
        object.__setattr__(self, "_method", method)
        object.__setattr__(self, "_public", dict(public))
        object.__setattr__(self, "_withheld", frozenset(withheld))
        object.__setattr__(self, "_plugin", plugin)

    @property
    def method(self) -> str:
        return self._method  # type: ignore[no-any-return]

    @property
    def withheld(self) -> frozenset[str]:
        """camelCase names of the fields this view leaves out."""
        return self._withheld  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        return {"method": self._method, **self._public}

    def _withheld_error(self, name: str) -> SecretWithheld:
        who = object.__getattribute__(self, "_plugin") or "this plugin"
        return SecretWithheld(
            f"{name!r} is withheld from {who}: it did not register this connection's type or method; "
            f"a host grants it with '<distribution>...:{SECRETS_GRANT}' in {ALLOWLIST_ENV} or grant_secrets= in load_plugins()"
        )

    def __getattr__(self, name: str) -> Any:
        public: dict[str, Any] = object.__getattribute__(self, "_public")
        for key, value in public.items():
            if name in (key, _snake(key)):
                return value
        withheld: frozenset[str] = object.__getattribute__(self, "_withheld")
        if any(name in (key, _snake(key)) for key in withheld):
            raise self._withheld_error(name)
        raise AttributeError(name)

    # read-only mapping of the public fields (camelCase keys), like the form input it may stand for
    def __getitem__(self, key: str) -> Any:
        if key == "method":
            return self._method
        if key in self._public:
            return self._public[key]
        if key in self._withheld:
            raise self._withheld_error(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._withheld:
            raise self._withheld_error(key)
        return self.to_dict().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    def keys(self) -> Any:
        return self.to_dict().keys()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("CredentialsView is read-only")

    def __repr__(self) -> str:
        return f"CredentialsView(method={self._method!r}, fields={sorted(self._public)}, withheld={sorted(self._withheld)})"


def credentials_view(
    credentials: Any, schema: Mapping[str, Any], *, plugin: str = "", method: str | None = None
) -> CredentialsView | None:
    """Restrict ``credentials`` (a credentials object, or a mapping such as raw form input or
    stored credentials) to the public fields of its method's ``schema``."""
    if credentials is None:
        return None
    if isinstance(credentials, CredentialsView):
        return credentials
    data = credentials.to_dict() if hasattr(credentials, "to_dict") else dict(credentials)
    allowed = public_fields(schema)
    method = str(getattr(credentials, "method", None) or data.get("method") or method or "")
    public = {k: v for k, v in data.items() if k in allowed}
    withheld = [k for k in data if k not in allowed and k != "method"]
    return CredentialsView(method, public, withheld, plugin)


SAFE_OPTIONS = frozenset({"write_probe", "probe_label"})
"""Request ``options`` a restricted hook keeps; the rest (``settings`` and ``env`` carry the
instance's client secret, ``token_credential``, ``on_rotate``, client options) are dropped."""


def _field_names(request: Any) -> set[str]:
    attrs_fields = getattr(type(request), "__attrs_attrs__", None)
    if attrs_fields is not None:
        return {a.name for a in attrs_fields}
    if dataclasses.is_dataclass(request):
        return {f.name for f in dataclasses.fields(request)}
    return set(vars(request))


def restricted_request(request: Any, schema: Mapping[str, Any], *, plugin: str = "") -> Any:
    """A copy of a hook's request without secrets: ``credentials`` and the raw input ``data`` become
    :class:`CredentialsView` objects, ``token_credential`` is ``None``, ``options`` keep only
    :data:`SAFE_OPTIONS`; everything else (type, method, endpoint, checks, connection) is kept.
    Works for attrs classes, dataclasses and plain objects with those attributes."""
    fields = _field_names(request)
    method = getattr(request, "method", None)
    changes: dict[str, Any] = {}
    if "credentials" in fields:
        changes["credentials"] = credentials_view(request.credentials, schema, plugin=plugin, method=method)
    if "token_credential" in fields:
        changes["token_credential"] = None
    if "data" in fields and request.data is not None:
        changes["data"] = credentials_view(request.data, schema, plugin=plugin, method=method)
    if "options" in fields and request.options is not None:
        changes["options"] = {k: v for k, v in dict(request.options).items() if k in SAFE_OPTIONS}
    if hasattr(type(request), "__attrs_attrs__"):
        import attrs

        return attrs.evolve(request, **changes)
    if dataclasses.is_dataclass(request) and not isinstance(request, type):
        return dataclasses.replace(request, **changes)
    clone = object.__new__(type(request))
    clone.__dict__.update({**vars(request), **changes})
    return clone


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who a plugin is for trust purposes: its distribution, or (for a plugin object the host
    passed in-process) its plugin name."""

    kind: str
    """``distribution`` or ``plugin``."""
    name: str

    @classmethod
    def of(cls, plugin: str, distribution: str | None) -> Principal:
        if distribution:
            return cls("distribution", normalize_name(distribution))
        return cls("plugin", plugin)


def may_see_secrets(caller: Principal, owners: Collection[Principal], grants: Collection[str]) -> bool:
    """Owners (the registrants of the connection's type and of its method) and granted callers see secrets.

    ``grants`` holds distribution names (any spelling) and in-process plugin names.
    """
    if caller in owners:
        return True
    if caller.kind == "distribution":
        return caller.name in {normalize_name(g) for g in grants}
    return caller.name in grants


@dataclasses.dataclass(frozen=True)
class TrustSplit:
    """Plugin names of a hook's implementations, split into who gets the full request and who the view."""

    privileged: frozenset[str]
    restricted: frozenset[str]


def split_by_trust(
    plugins: Mapping[str, str | None], owners: Collection[Principal], grants: Collection[str]
) -> TrustSplit:
    """``plugins``: plugin name -> distribution name (``None`` for in-process). For a pluggy-driven
    call: ``pm.subset_hook_caller(hook, remove_plugins=<restricted objects>)(request=full)`` and
    ``pm.subset_hook_caller(hook, remove_plugins=<privileged objects>)(request=view)``."""
    privileged = {p for p, d in plugins.items() if may_see_secrets(Principal.of(p, d), owners, grants)}
    return TrustSplit(frozenset(privileged), frozenset(plugins) - privileged)


def call_by_trust(
    pm: Any,
    hook: str,
    request: Any,
    *,
    schema: Mapping[str, Any],
    owners: Collection[Principal],
    grants: Collection[str],
    distribution_of: Mapping[str, str | None],
) -> list[Any]:
    """Call ``hook`` through pluggy once per trust group: implementations of privileged plugins
    with ``request``, the others with :func:`restricted_request`. Returns pluggy's results (the
    privileged group's first). ``distribution_of``: plugin name -> distribution (``None`` for
    in-process). A raising implementation propagates as in any pluggy call."""
    names = {impl.plugin_name: impl.plugin for impl in getattr(pm.hook, hook).get_hookimpls()}
    split = split_by_trust({n: distribution_of.get(n) for n in names}, owners, grants)
    results: list[Any] = []
    if split.privileged:  # first: the owners' checks parse the input and obtain the token
        caller = pm.subset_hook_caller(hook, remove_plugins=[names[n] for n in split.restricted])
        results.extend(caller(request=request))
    if split.restricted:
        seen = restricted_request(request, schema)
        before = len(getattr(seen, "checks", ()) or ())
        caller = pm.subset_hook_caller(hook, remove_plugins=[names[n] for n in split.privileged])
        results.extend(caller(request=seen))
        added = tuple(getattr(seen, "checks", ()) or ())[before:]
        if added and hasattr(request, "add"):  # checks the restricted group added to its copy
            request.add(*added)
    return results


def iter_requests(
    request: Any,
    schema: Mapping[str, Any],
    callers: Iterable[tuple[str, str | None]],
    owners: Collection[Principal],
    grants: Collection[str],
) -> Iterator[tuple[str, Any]]:
    """For each ``(plugin, distribution)`` caller, the request it may see (full or restricted)."""
    for plugin, dist in callers:
        if may_see_secrets(Principal.of(plugin, dist), owners, grants):
            yield plugin, request
        else:
            yield plugin, restricted_request(request, schema, plugin=plugin)


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
        return OPEN_MODE if self.allow_list is None else ALLOWLIST_MODE

    def expect(self, entry_points: Iterable[metadata.EntryPoint]) -> None:
        """Tell the report every entry point of the group, so pins can check all of a distribution's modules."""
        self._installed = self._installed or set()
        for ep in entry_points:
            dist = getattr(ep, "dist", None)
            if dist is not None:
                key = normalize_name(dist.metadata["Name"] or "")
                self._installed.add(key)
                self._modules.setdefault(key, set()).add(ep.module)

    def _granted(self, plugin: str, dist: str | None) -> bool:
        return may_see_secrets(Principal.of(plugin, dist), (), self.grants)

    def admit(self, ep: metadata.EntryPoint) -> Verdict:
        """The verdict for one entry point, decided without importing it; recorded as provenance."""
        dist = getattr(ep, "dist", None)
        key = normalize_name(dist.metadata["Name"] or "") if dist is not None else ""
        verdict = self._verdicts.get(key) if dist is not None else None
        if verdict is None:
            verdict = judge(dist, self.allow_list, modules=sorted(self._modules.get(key, {ep.module})))
            if dist is not None:
                self._verdicts[key] = verdict
        name = dist.metadata["Name"] if dist is not None else None
        self.provenance.append(provenance_for(ep.name, dist, verdict, module=ep.module, secrets=self._granted(ep.name, name)))
        if verdict.status != ALLOWED and dist is not None and name and name not in self._startup_files:
            self._startup_files[name] = startup_files(dist)
        return verdict

    def blocked(self, ep: metadata.EntryPoint, reason: str) -> None:
        dist = getattr(ep, "dist", None)
        self.provenance.append(provenance_for(ep.name, dist, Verdict(BLOCKED, reason), module=ep.module, secrets=False))

    def in_process(self, plugin: str, obj: object) -> None:
        module = getattr(obj, "__name__", None) if isinstance(getattr(obj, "__name__", None), str) else None
        origin = getattr(obj, "__file__", None)
        self.provenance.append(
            Provenance(
                plugin, None, None, None, ALLOWED, "passed in-process by the host (not subject to the allow-list)",
                module if module in sys.modules else None, origin, self._granted(plugin, None),
            )
        )

    @property
    def refused(self) -> list[Provenance]:
        return [p for p in self.provenance if p.status == REFUSED]

    @property
    def notices(self) -> list[str]:
        """What an operator should know: an empty allow-list, entries matching nothing installed,
        and plugins kept out that still run code at interpreter start-up (``.pth`` files)."""
        if self.allow_list is None:
            return []
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
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "notices": self.notices,
            "secretGrants": sorted(self.grants),
            "plugins": [p.to_dict() for p in self.provenance],
        }


# --- doctor ----------------------------------------------------------------------------------------


def doctor_status(env: Mapping[str, str], *, own_distribution: str = "azure-appconfig-plugin") -> tuple[str, str]:
    """``(status, detail)`` for ``azure-appconfig doctor``: the mode and every plugin not loaded.

    ``invalid`` when the allow-list is malformed or keeps this package out (the instance then has
    no connection type); ``warning`` for other blocked or refused plugins and allow-list notices.
    """
    from .loader import load_plugins

    try:
        registry = load_plugins(env=env)
    except AllowListError as exc:
        return "invalid", str(exc)
    report: TrustReport = registry.trust
    out = [p for p in report.provenance if p.status != ALLOWED]
    ours = [p for p in out if p.distribution and normalize_name(p.distribution) == normalize_name(own_distribution)]
    listed = ", ".join(f"{p.plugin} ({p.status}: {p.reason})" for p in out)
    if report.mode == OPEN_MODE:
        loaded = ", ".join(sorted({p.distribution or p.plugin for p in report.provenance if p.status == ALLOWED})) or "none"
        detail = f"open mode: every installed plugin loads ({loaded}); pin them with `azure-appconfig plugins pin`"
        return ("warning", f"{detail}; not loaded: {listed}") if out else ("ok", detail)
    head = f"allow-list mode ({len(report.allow_list.entries) if report.allow_list else 0} entries)"
    if ours:
        return "invalid", f"{head}: this package is not loaded: {ours[0].reason}; add the line `azure-appconfig plugins pin` prints"
    problems = list(report.notices)
    if out:
        problems.append(f"not loaded: {listed}")
    if problems:
        return "warning", f"{head}: " + "; ".join(problems)
    return "ok", f"{head}: every installed plugin is allowed"
