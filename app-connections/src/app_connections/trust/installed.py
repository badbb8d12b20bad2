"""Installed distributions: ``RECORD`` digests, the tamper check, where modules come from, pins."""

from __future__ import annotations

import base64
import csv
import dataclasses
import email.message
import email.parser
import hashlib
import importlib.util
import json
import os
import stat
import sys
import weakref
from collections.abc import Container, Iterable
from importlib import metadata
from pathlib import Path

from .allowlist import AllowEntry, normalize_name, safe_text

STRONG_HASHES = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s"})
"""``RECORD`` hash algorithms the tamper check accepts (wheels use sha256; md5/sha1 are refused)."""

_CHUNK = 1 << 16


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who a distribution says it is: ``Name`` and ``Version`` from its metadata (``""`` if absent).

    ``problem`` says why the metadata cannot be read (name and version are then empty): such a
    distribution cannot be identified, so it can match no allow-list entry and is never imported.
    """

    name: str
    version: str
    problem: str | None = None

    @property
    def key(self) -> str:
        """The name normalised (PEP 503), as allow-list entries are compared."""
        return normalize_name(self.name)


def why_unreadable(exc: Exception) -> str:
    """Why a distribution's file could not be read, for a reason shown to the operator: not UTF-8
    text (``UnicodeDecodeError``), or the kind of ``OSError`` (``read_text()`` already answers None
    for a missing file, so this is e.g. EIO)."""
    return "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else type(exc).__name__


def identify(dist: metadata.Distribution) -> Identity:
    """``dist``'s name and version, read once; never raises for metadata that cannot be read.

    ``dist.metadata`` (and ``dist.name``, ``dist.version``) raise ``UnicodeDecodeError`` for a
    ``METADATA`` that is not UTF-8, and ``OSError`` when the disk fails: one broken distribution
    must not take every other plugin down with it, so every reader goes through here.
    """
    known = _identities.get(dist)
    if known is not None:  # parsing METADATA (its long description is a whole README) costs ms
        return known
    try:
        meta = _headers(dist)
        identity = Identity(meta["Name"] or "", meta["Version"] or "")
    except (UnicodeDecodeError, OSError) as exc:
        identity = Identity("", "", f"metadata cannot be read ({why_unreadable(exc)})")
    _identities[dist] = identity
    return identity


def _headers(dist: metadata.Distribution) -> email.message.Message:
    """The header block of ``dist``'s metadata, found as ``Distribution.metadata`` finds the file;
    the body (the long description, often a whole README) is not parsed."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("") or ""
    return email.parser.HeaderParser().parsestr(text.split("\n\n", 1)[0])


_identities: weakref.WeakKeyDictionary[metadata.Distribution, Identity] = weakref.WeakKeyDictionary()
"""Each distribution object's identity, read once: a load lists a distribution's entry points from
one object, so every check of that load parses its METADATA once (a new load reads it afresh)."""


def unidentified(problem: str, ep: metadata.EntryPoint | None = None) -> str:
    """Why a distribution whose metadata cannot be read is not loaded (or pinned): which entry point."""
    who = f"entry point {safe_text(ep.name)} = {safe_text(ep.value)}: its distribution's" if ep is not None else "its"
    return f"{who} {problem}, so it cannot be identified"


def entry_point_module(ep: metadata.EntryPoint) -> str | None:
    """The module ``ep`` names, or ``None`` when its value is not ``module[:attr] [extras]`` syntax.

    ``EntryPoint.module`` (and ``attr``, ``load()``) raise ``AttributeError`` (``AssertionError``
    from Python 3.13) for such a value: every reader here goes through this, matching the same
    ``EntryPoint.pattern`` importlib matches, so nothing else ever asks ``ep.module`` for it.
    """
    match = metadata.EntryPoint.pattern.match(ep.value)
    return match.group("module") if match is not None else None


def malformed_target(ep: metadata.EntryPoint) -> str:
    """Why an entry point whose value :func:`entry_point_module` rejects is not loaded."""
    return (
        f"entry point {safe_text(ep.name)} = {safe_text(ep.value)}: its target is not a valid "
        "module or module:attr reference, so it cannot be imported"
    )


@dataclasses.dataclass(frozen=True)
class UnreadableEntryPoints:
    """A distribution whose ``entry_points.txt`` cannot be read or parsed: none of its entry points
    is known, so none can be matched, pinned or loaded."""

    dist: metadata.Distribution
    problem: str
    """e.g. ``it is not UTF-8 text``."""

    @property
    def directory(self) -> Path | None:
        """Its metadata directory (``…/acme_policy-1.0.dist-info``), when it is one on disk."""
        base = getattr(self.dist, "_path", None)  # PathDistribution's own directory
        return base if isinstance(base, Path) else None

    @property
    def label(self) -> str:
        """What stands for its (unknown) entry points in failures and provenance: the name of
        its metadata directory, else its distribution name (bounded, control characters stripped)."""
        where = self.directory
        return safe_text(where.name if where is not None else identify(self.dist).name or "(name unreadable)")

    def reason(self, group: str) -> str:
        where = self.directory
        who = f"distribution {self.label}" + (f" in {safe_text(str(where.parent))}" if where is not None else "")
        return f"{who}: its entry_points.txt cannot be read ({self.problem}), so its {group} entry points are unknown"


@dataclasses.dataclass(frozen=True)
class GroupEntryPoints:
    """What :func:`group_entry_points` found: the entry points of one group, and the distributions
    whose entry points cannot be read and that may declare some in it."""

    entry_points: list[metadata.EntryPoint]
    unreadable: list[UnreadableEntryPoints]
    duplicates: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    """Normalised name -> every metadata directory on ``sys.path`` whose ``Name`` it is, for a name
    of a distribution with entry points in the group that more than one directory claims (whatever
    the directories' spelling: importlib itself hides only some of them)."""


def _entry_points_problem(exc: Exception) -> str:
    if isinstance(exc, (UnicodeDecodeError, OSError)):
        return why_unreadable(exc)
    return f"it is not entry-point syntax: {type(exc).__name__}"  # e.g. a line without "=": TypeError


def _may_declare(unreadable: UnreadableEntryPoints, group: str) -> bool:
    """Whether an ``entry_points.txt`` that cannot be read may have a ``[group]`` section: the raw
    bytes, decoded leniently, are searched for its header (a header is ASCII, so a byte that is not
    UTF-8 elsewhere cannot hide it). When the bytes cannot be read either, it may."""
    where = unreadable.directory
    if where is None:
        return True
    try:
        raw = (where / "entry_points.txt").read_bytes()
    except OSError:
        return True
    header = f"[{group}]"
    return any(line.strip() == header for line in raw.decode("utf-8", "replace").splitlines())


def group_entry_points(group: str) -> GroupEntryPoints:
    """Every installed entry point in ``group``, as ``importlib.metadata.entry_points(group=group)``
    finds them, except that one distribution whose entry points cannot be read costs only itself.

    ``entry_points()`` raises for the whole environment when one ``entry_points.txt`` is not UTF-8
    (``UnicodeDecodeError``), cannot be read (``OSError``) or has a line that is not ``name = value``
    (``TypeError``/``ValueError``). Here each distribution is read on its own, with importlib's own
    rule for duplicates (Python 3.10-3.13: the first distribution on ``sys.path`` with a given
    ``_normalized_name`` counts, later ones are shadowed). One that cannot be read is returned in
    ``unreadable`` when it may declare entry points in ``group`` (see :func:`_may_declare`). The one
    place the loader, the trust report and ``plugins pin`` enumerate plugins.
    """
    seen: set[str] = set()
    found: list[metadata.EntryPoint] = []
    unreadable: list[UnreadableEntryPoints] = []
    hidden: list[metadata.Distribution] = []
    claims: dict[str, dict[str, metadata.Distribution]] = {}
    for dist in metadata.distributions():
        try:
            key = getattr(dist, "_normalized_name", None)  # importlib's own duplicate key (3.10-3.13)
        except Exception:  # a name that cannot be read (it may read METADATA): a duplicate of nothing
            key = None
        if key is not None:
            if key in seen:
                hidden.append(dist)
                continue
            seen.add(key)
        try:
            eps = dist.entry_points
        except Exception as exc:  # any failure of one distribution's file costs only that distribution
            item = UnreadableEntryPoints(dist, _entry_points_problem(exc))
            if _may_declare(item, group):
                unreadable.append(item)
            continue
        mine = [ep for ep in eps if ep.group == group]
        if mine:
            _claim(claims, dist)
        found.extend(mine)
    for dist in hidden:  # a .dist-info importlib passes over still claims its name
        _claim(claims, dist, only=claims)
    return GroupEntryPoints(found, unreadable, _contested_names(claims))


def _claim(
    claims: dict[str, dict[str, metadata.Distribution]],
    dist: metadata.Distribution,
    only: Container[str] | None = None,
) -> None:
    identity = identify(dist)
    if identity.problem is not None or (only is not None and identity.key not in only):
        return
    base = getattr(dist, "_path", None)  # PathDistribution's own directory
    where = os.path.realpath(base) if base is not None else identity.name
    claims.setdefault(identity.key, {})[where] = dist  # one directory on two sys.path entries: one claim


def _contested_names(claims: dict[str, dict[str, metadata.Distribution]]) -> dict[str, list[str]]:
    """Names more than one metadata directory claims. An ``.egg-info`` beside an editable
    ``.dist-info`` of the same name is that install's source tree (setuptools' build metadata)."""
    out: dict[str, list[str]] = {}
    for key, found in claims.items():
        dirs = [d for d in found if d.endswith(".dist-info")]
        if not any(is_editable(found[d]) for d in dirs):
            dirs = list(found)  # an .egg-info with entry points of its own is a claim too
        if len(dirs) > 1:
            out[key] = dirs
    return out


def record_entries(dist: metadata.Distribution) -> list[metadata.PackagePath]:
    """Every row of ``dist``'s ``RECORD``, whether or not its file is still on disk.

    ``Distribution.files`` is not enough for a tamper check: from Python 3.12 it leaves out the
    files that no longer exist, so a deleted file would pass unseen. A distribution without a
    ``RECORD`` (an old egg-info install) falls back to ``dist.files``, which carries no hashes.
    Raises ``ValueError`` when ``RECORD`` exists but cannot be read as text: nothing it lists
    can then be checked, and the callers refuse to trust (or pin) the distribution.
    """
    try:
        text = dist.read_text("RECORD")
    except (UnicodeDecodeError, OSError) as exc:
        raise ValueError(f"RECORD cannot be read ({why_unreadable(exc)})") from None
    if text is None:
        return list(dist.files or ())
    entries = []
    for row in csv.reader(text.splitlines()):
        if not row or not row[0]:  # a blank line (pip writes none, but a hand-edited RECORD may)
            continue
        path = metadata.PackagePath(row[0])
        spec = row[1] if len(row) > 1 else ""
        size = row[2] if len(row) > 2 else ""
        path.hash = metadata.FileHash(spec) if spec else None
        path.size = int(size) if size.isdigit() else None
        path.dist = dist
        entries.append(path)
    return entries


def record_file(dist: metadata.Distribution, files: list[metadata.PackagePath] | None = None) -> Path | None:
    """The installed ``RECORD`` file of ``dist`` (``None`` for a distribution without one).
    ``files``: :func:`record_entries` when the caller already has them (each call re-reads RECORD)."""
    base = getattr(dist, "_path", None)
    if files is None and isinstance(base, Path) and base.name.endswith(".dist-info"):
        return base / "RECORD" if (base / "RECORD").is_file() else None  # found without reading it
    if files is None:
        try:
            files = record_entries(dist)
        except ValueError:  # an unreadable RECORD is still a file: found below, where it lies
            files = []
    for path in files:
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


MAX_HASHED_BYTES = 256 << 20
"""What :func:`verify_files` hashes at most per distribution (a plugin is a few MiB; a RECORD naming
a sparse multi-GiB file must not stall start-up or ``plugins pin``)."""


def verify_files(
    dist: metadata.Distribution, files: list[metadata.PackagePath] | None = None, *, max_bytes: int | None = None
) -> FileCheck:
    """Hash every file ``RECORD`` lists with a hash and compare (size first, then digest).

    Files without a hash in ``RECORD`` (``RECORD`` itself) cannot be checked and are skipped;
    so is ``__pycache__`` byte-code, which the import guard hashes when it loads it in place of its
    source (and never loads when RECORD does not list it). A file whose size differs from RECORD's is
    never read; more than ``max_bytes`` (:data:`MAX_HASHED_BYTES`) in all is refused unread.
    """
    checked = 0
    budget = MAX_HASHED_BYTES if max_bytes is None else max_bytes
    base = str(dist.locate_file(""))  # one join per file instead of a pathlib object per file
    for path in files if files is not None else record_entries(dist):
        if path.hash is None or (path.suffix == ".pyc" and "__pycache__" in path.parts):
            continue  # byte-code is hashed by the import guard when (and if) it is used instead of its source
        mode = path.hash.mode.lower().replace("-", "_")
        if mode not in STRONG_HASHES:
            shown = safe_text(str(path))
            return FileCheck(checked, f"RECORD lists {shown} with a {mode!r} hash, which cannot be trusted", shown)
        try:
            digest = hashlib.new(mode)
            located = os.path.join(base, str(path))
            info = os.stat(located)  # before opening: opening a FIFO would block
            if not stat.S_ISREG(info.st_mode):  # e.g. a RECORD naming /dev/zero: never read it
                shown = safe_text(str(path))
                return FileCheck(checked, f"{shown} is listed in RECORD but is not a regular file", shown)
            size = info.st_size
            if (path.size is None or size == path.size) and size > budget:
                shown = safe_text(str(path))
                limit = MAX_HASHED_BYTES if max_bytes is None else max_bytes
                shown_limit = f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"
                return FileCheck(checked, f"its files exceed {shown_limit} at {shown}: too large to hash", shown)
            budget -= size
            with open(located, "rb") as fh:
                if path.size is None or size == path.size:  # reads are bounded by the size on disk
                    left = size
                    while left > 0 and (chunk := fh.read(min(_CHUNK, left))):
                        digest.update(chunk)
                        left -= len(chunk)
        except OSError:
            shown = safe_text(str(path))
            return FileCheck(checked, f"{shown} is listed in RECORD but cannot be read (deleted or replaced)", shown)
        checked += 1
        if path.size is not None and size != path.size:
            shown = safe_text(str(path))
            return FileCheck(checked, f"{shown} changed after install (size {size}, RECORD says {path.size})", shown)
        if _urlsafe(digest.digest()) != path.hash.value:
            shown = safe_text(str(path))
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


def shadowing_problem(
    dist: metadata.Distribution, files: list[metadata.PackagePath], modules: Iterable[str]
) -> str | None:
    """A problem when an entry point's top-level module would come from outside ``dist``'s files.

    Judged by resolved locations: a module file is one of ``dist``'s when it resolves to where a
    RECORD-listed file resolves (a package directory that is a symlink, as in store-path layouts,
    is not "shadowed")."""
    root = Path(str(dist.locate_file("")))
    for module in modules:
        top = module.split(".", 1)[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            return f"module {safe_text(top)!r} of its entry point cannot be found"
        if spec.origin and spec.has_location:
            origin = Path(spec.origin).resolve()
            listed = (root / p for p in files if p.parts and p.parts[0].split(".", 1)[0] == top)
            if not any(origin == path.resolve() for path in listed):
                where = safe_text(spec.origin)
                return f"module {safe_text(top)!r} would be imported from {where}, which is not one of its RECORD files"
        # A namespace package has no file of its own: its portions are checked as RECORD files.
    return None


def startup_files(dist: metadata.Distribution) -> list[str]:
    """``.pth`` files of ``dist`` that run code: ``site`` executes their ``import`` lines at every
    interpreter start-up, so no allow-list can keep them from running (path-only ones are inert)."""
    found = []
    try:
        listed = record_entries(dist)
    except ValueError:  # an unreadable RECORD names no file to look at
        return []
    for path in listed:
        if path.suffix != ".pth" or len(path.parts) != 1:
            continue
        try:
            lines = Path(str(dist.locate_file(path))).read_text(errors="replace").splitlines()
        except OSError:
            continue
        if any(line.startswith(("import ", "import\t")) for line in lines):
            found.append(safe_text(str(path)))
    return sorted(found)


def _runs_code(path: str) -> bool:
    """Whether a ``.pth`` file has a line ``site`` executes (one starting with ``import``)."""
    try:
        with open(path, "rb") as fh:
            text = fh.read(MAX_PTH_BYTES).decode("utf-8", "replace")
    except OSError:
        return False
    return any(line.startswith(("import ", "import\t")) for line in text.splitlines())


MAX_PTH_BYTES = 1 << 20
"""How much of a ``.pth`` file is read to look for executable lines."""


def loose_startup_files(entries: Iterable[str] | None = None) -> list[str]:
    """``.pth`` files with executable lines, in the directories of ``sys.path`` (or ``entries``),
    that no distribution there lists in its ``RECORD``: dropped in by hand, they run at every
    interpreter start-up before any loader, and no uninstall removes them."""
    found: list[str] = []
    for entry in sys.path if entries is None else entries:
        try:
            names = sorted(n for n in os.listdir(entry or os.curdir) if n.endswith(".pth"))
        except OSError:  # not a directory (a zip, a missing entry)
            continue
        running = {n for n in names if _runs_code(os.path.join(entry or os.curdir, n))}
        if not running:
            continue
        for dist in metadata.distributions(path=[entry or os.curdir]):
            try:
                listed = dist.read_text("RECORD") or dist.read_text("installed-files.txt") or ""
            except (UnicodeDecodeError, OSError):
                continue
            running -= {row.split(",", 1)[0] for row in listed.splitlines()}
        found.extend(safe_text(os.path.join(entry or os.curdir, n)) for n in sorted(running))
    return sorted(set(found))


def installed_plugin_distributions(group: str) -> list[metadata.Distribution]:
    """Distributions with at least one entry point in ``group``, one per normalised name, sorted.

    Raises ``ValueError`` naming the entry point when its distribution's metadata cannot be read
    (a distribution that cannot be named cannot be listed, or pinned, either), and naming the
    distribution's directory when its entry points cannot be read (they cannot be listed).
    """
    found: dict[str, metadata.Distribution] = {}
    listed = group_entry_points(group)
    for item in listed.unreadable:
        raise ValueError(f"{item.reason(group)}, refusing to pin")
    for ep in listed.entry_points:
        dist = getattr(ep, "dist", None)
        if dist is not None:  # pragma: no branch - a distribution's own entry points are bound to it
            identity = identify(dist)
            if identity.problem is not None:
                raise ValueError(unidentified(identity.problem, ep))
            found.setdefault(identity.key, dist)
    return [found[k] for k in sorted(found)]


def pin_entry(dist: metadata.Distribution, *, grants: frozenset[str] = frozenset()) -> tuple[AllowEntry, str | None]:
    """The tightest entry for ``dist`` as installed now, and a note when it cannot carry a digest.

    Raises ``ValueError`` naming the file when the install no longer matches its own RECORD, or
    when its metadata cannot be read.
    """
    identity = identify(dist)
    if identity.problem is not None:
        raise ValueError(f"{unidentified(identity.problem)}, refusing to pin it")
    name, version = identity.name, identity.version
    if is_editable(dist):
        note = f"{name} is an editable install: pinned by version only (its RECORD does not cover its source)"
        return AllowEntry(name, version, None, grants), note
    digest = record_digest(dist)
    if digest is None:
        return AllowEntry(name, version, None, grants), f"{name} has no RECORD file: pinned by version only"
    try:
        files = verify_files(dist)
    except ValueError as exc:  # its RECORD cannot be read
        raise ValueError(f"{name} {version}: {exc}, refusing to pin it") from None
    if not files.ok:
        raise ValueError(f"{name} {version} does not match its own RECORD, refusing to pin it: {files.problem}")
    return AllowEntry(name, version, digest, grants), None
