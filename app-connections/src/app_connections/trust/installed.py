"""Installed files: ``RECORD`` digests, the tamper check, where modules come from, start-up files, pins."""

from __future__ import annotations

import base64
import csv
import dataclasses
import hashlib
import importlib.util
import os
import stat
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from .allowlist import AllowEntry, safe_text
from .distributions import identify, is_editable, metadata_location, unidentified, why_unreadable

STRONG_HASHES = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s"})
"""``RECORD`` hash algorithms the tamper check accepts (wheels use sha256; md5/sha1 are refused)."""

_CHUNK = 1 << 16


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
    base = metadata_location(dist)
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
    base = metadata_location(dist)  # a dist-info without RECORD in its own listing
    if isinstance(base, Path) and (base / "RECORD").is_file():
        return base / "RECORD"
    return None


def record_digest(dist: metadata.Distribution, files: list[metadata.PackagePath] | None = None) -> str | None:
    """Lower-case hex SHA-256 of the bytes of the installed ``RECORD`` (what a pin names)."""
    path = record_file(dist, files)
    return None if path is None else hashlib.sha256(path.read_bytes()).hexdigest()


@dataclasses.dataclass(frozen=True)
class FileCheck:
    """Outcome of :func:`verify_files`: files hashed, and the first problem with its file."""

    checked: int
    problem: str | None = None
    file: str | None = None

    @property
    def ok(self) -> bool:
        """True when the file matched its RECORD entry."""
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
