"""Pinned imports: what a digest-pinned plugin imports from its own packages is what its RECORD lists.

Two halves, both standard library only:

- :func:`import_problem` (before anything is imported): a file that Python would import from the
  distribution's own packages but that its ``RECORD`` does not list (an added module, package or
  extension module, a subpackage shadowing a listed module), or a portion of its namespace package
  elsewhere on ``sys.path``, refuses the plugin.
- :class:`PinnedImports` (at every import, for the life of the process): a ``sys.meta_path``
  finder placed first, answering for the pinned distributions' module names alone. It resolves a
  module from the ``RECORD`` only, refuses one whose file is missing, unlisted, or preceded by an
  unlisted file Python would prefer, and executes exactly the bytes it hashed (compiled from the
  verified source, or the verified byte-code when RECORD lists it, as pip does for what it compiles;
  never a ``__pycache__`` file the RECORD does not vouch for).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

from .allowlist import safe_text

if TYPE_CHECKING:
    from importlib.readers import FileReader

EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
_MODULE_SUFFIXES = (*EXTENSION_SUFFIXES, ".py", ".pyc")
"""What a path finder tries for a module, in its order (extension modules, source, byte-code)."""
MAX_SCANNED_ENTRIES = 20_000
"""Directory entries :func:`import_problem` looks at per distribution; more is refused, not skipped."""


class ImportRefused(ImportError):
    """A pinned plugin's module that does not come from a file its ``RECORD`` lists unchanged."""


class Listed(NamedTuple):
    """One ``RECORD`` row with a hash: its algorithm, urlsafe-base64 digest and size."""

    mode: str
    value: str
    size: int | None


@dataclasses.dataclass(frozen=True)
class ImportPin:
    """What a digest-pinned distribution may import: its location, its hashed ``RECORD`` rows, the
    module names it owns (a regular top-level package or module, or the first regular level below a
    namespace package) and the namespace packages above them."""

    distribution: str
    root: str
    listed: Mapping[str, Listed] = dataclasses.field(repr=False)
    owned: frozenset[str]
    namespaces: frozenset[str]

    def owner_of(self, fullname: str) -> bool:
        """Whether ``fullname`` is one of the owned modules or below one."""
        return any(fullname == o or fullname.startswith(o + ".") for o in self.owned)


def _mode(name: str) -> str:
    return name.lower().replace("-", "_")


def _code_parts(rel: str) -> list[str] | None:
    """Module path parts of a RECORD path Python could import (``a/b/c.py`` -> ``[a, b, c]``)."""
    if not rel.endswith(_MODULE_SUFFIXES) or rel.startswith(("/", "../")) or "__pycache__/" in rel:
        return None
    head = rel.split("/", 1)[0]
    if head.endswith((".dist-info", ".data", ".egg-info")):
        return None
    suffix = next(s for s in _MODULE_SUFFIXES if rel.endswith(s))  # one of them: checked above
    parts = rel[: -len(suffix)].split("/")
    return parts if all(p.isidentifier() for p in parts) else None


def pin_for(dist: metadata.Distribution, files: Iterable[metadata.PackagePath], name: str) -> ImportPin:
    """The :class:`ImportPin` of ``dist``, from its parsed ``RECORD`` rows (``files``)."""
    listed: dict[str, Listed] = {}
    modules: list[list[str]] = []
    for path in files:
        rel = str(path)  # a PackagePath is a PurePosixPath: its text is the posix form
        if path.hash is not None:
            listed[rel] = Listed(_mode(path.hash.mode), path.hash.value, path.size)
        parts = _code_parts(rel)
        if parts is not None:
            modules.append(parts)
    regular = {tuple(p[:-1]) for p in modules if p[-1] == "__init__"}
    owned: set[str] = set()
    namespaces: set[str] = set()
    for parts in modules:
        dotted = [p for p in parts if p != "__init__"]
        depth = next((i for i in range(1, len(dotted)) if tuple(dotted[:i]) in regular), len(dotted))
        owned.add(".".join(dotted[:depth]))
        namespaces.update(".".join(dotted[:i]) for i in range(1, depth))
    return ImportPin(name, str(dist.locate_file("")), listed, frozenset(owned), frozenset(namespaces - owned))


def _candidates(rel: str) -> list[str]:
    """Files a path finder would try for module path ``rel``, in its order: package, then module."""
    return [f"{rel}/__init__{s}" for s in _MODULE_SUFFIXES] + [f"{rel}{s}" for s in _MODULE_SUFFIXES]


def _hash_ok(data: bytes, row: Listed) -> bool:
    if row.size is not None and len(data) != row.size:
        return False
    digest = base64.urlsafe_b64encode(hashlib.new(row.mode, data).digest()).rstrip(b"=").decode("ascii")
    return digest == row.value


# --- before import ---------------------------------------------------------------------------------


def _unlisted_code(pin: ImportPin, top_rel: str, budget: list[int]) -> str | None:
    """The first file under the package directory ``top_rel`` Python could import that RECORD
    does not list (directories followed through symlinks, each real directory once)."""
    seen: set[tuple[int, int]] = set()
    stack = [top_rel]
    while stack:
        rel = stack.pop()
        where = os.path.join(pin.root, rel)
        try:
            info = os.stat(where)
            entries = [] if (info.st_dev, info.st_ino) in seen else list(os.scandir(where))
        except OSError:  # pragma: no cover - a directory removed (or made unreadable) while it is scanned
            continue
        seen.add((info.st_dev, info.st_ino))
        budget[0] -= len(entries)
        if budget[0] < 0:
            return f"more than {MAX_SCANNED_ENTRIES} files in its packages to check"
        for entry in entries:
            child = f"{rel}/{entry.name}"
            try:
                is_dir = entry.is_dir()
            except OSError:  # pragma: no cover - a directory entry vanishing between listing and stat
                continue
            if is_dir:
                if entry.name != "__pycache__":
                    stack.append(child)
            elif entry.name.endswith(_MODULE_SUFFIXES) and child not in pin.listed:
                return f"{safe_text(child)} is not in its RECORD (added after install)"
    return None


def import_problem(pin: ImportPin, path: Sequence[str] | None = None) -> str | None:
    """Why ``pin``'s modules could run code its RECORD does not list, or None. Imports nothing."""
    budget = [MAX_SCANNED_ENTRIES]
    root = os.path.normcase(os.path.abspath(pin.root))
    for name in sorted(pin.owned):
        rel = name.replace(".", "/")
        candidates = _candidates(rel)
        chosen = next((c for c in candidates if c in pin.listed), None)
        for candidate in candidates[: candidates.index(chosen)] if chosen is not None else candidates:
            if os.path.isfile(os.path.join(pin.root, candidate)):
                return f"{safe_text(candidate)} is not in its RECORD (added after install) and would be imported first"
        if chosen is not None and chosen.startswith(f"{rel}/__init__"):
            found = _unlisted_code(pin, rel, budget)
            if found is not None:
                return found
    for name in sorted(pin.namespaces):
        rel = name.replace(".", "/")
        for candidate in _candidates(rel):
            if os.path.isfile(os.path.join(pin.root, candidate)):
                return (
                    f"{safe_text(candidate)} makes its namespace package {name!r} a regular one (added after install)"
                )
        for entry in sys.path if path is None else path:
            if os.path.normcase(os.path.abspath(entry or os.curdir)) == root:
                continue
            portion = os.path.join(entry or os.curdir, rel)
            if os.path.isdir(portion) or any(os.path.isfile(portion + s) for s in _MODULE_SUFFIXES):
                return f"its namespace package {name!r} has another portion at {safe_text(portion)}"
    return None


# --- at import ------------------------------------------------------------------------------------


class _VerifiedLoader(importlib.abc.Loader):
    """Executes a module from the bytes it checked against RECORD."""

    def __init__(self, pin: ImportPin, rel: str) -> None:
        self._pin = pin
        self._rel = rel
        self.path = os.path.join(pin.root, rel)
        """The module's file, as a file loader names it."""

    def get_filename(self, fullname: str | None = None) -> str:
        """The module's file (``__file__``)."""
        return self.path

    def is_package(self, fullname: str) -> bool:
        """Whether the module is a package's ``__init__``."""
        return self._rel.rpartition("/")[2].startswith("__init__.")

    def get_resource_reader(self, fullname: str) -> FileReader:
        """Data files beside the module, for ``importlib.resources`` (data, not code: not hashed here)."""
        from importlib.readers import FileReader

        return FileReader(importlib.machinery.SourceFileLoader(fullname, self.path))  # it reads only .path

    def _verified(self) -> bytes:
        try:
            with open(self.path, "rb") as fh:
                data = fh.read((self._pin.listed[self._rel].size or MAX_MODULE_BYTES) + 1)
        except OSError:
            raise _refused(self._pin, self._rel, "cannot be read") from None
        if not _hash_ok(data, self._pin.listed[self._rel]):
            raise _refused(self._pin, self._rel, "changed after install (it differs from RECORD)")
        return data

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        if self._rel.endswith(EXTENSION_SUFFIXES):
            self._verified()  # an extension module runs on loading: checked first
            return importlib.machinery.ExtensionFileLoader(spec.name, self.path).create_module(spec)
        return None

    def exec_module(self, module: ModuleType) -> None:
        if self._rel.endswith(EXTENSION_SUFFIXES):
            importlib.machinery.ExtensionFileLoader(module.__name__, self.path).exec_module(module)
            return
        cached = self._cached()  # byte-code the RECORD vouches for (pip lists what it compiles) runs as is
        data = cached if cached is not None else self._verified()
        if self._rel.endswith(".pyc") or cached is not None:
            import marshal

            code = marshal.loads(memoryview(data)[16:])
        else:
            code = compile(data, self.path, "exec", dont_inherit=True)
        exec(code, module.__dict__)

    def _cached(self) -> bytes | None:
        """The verified bytes of this source's RECORD-listed byte-code for this interpreter, if any."""
        head, _, name = self._rel.rpartition("/")
        if not name.endswith(".py") or sys.implementation.cache_tag is None:
            return None
        rel = f"{head}/__pycache__/{name[:-3]}.{sys.implementation.cache_tag}.pyc".lstrip("/")
        if rel not in self._pin.listed:
            return None
        data = _VerifiedLoader(self._pin, rel)._verified()
        return data if data[:4] == importlib.util.MAGIC_NUMBER else None


MAX_MODULE_BYTES = 64 << 20
"""Read bound for a module RECORD lists without a size."""


def _refused(pin: ImportPin, rel: str, problem: str) -> ImportRefused:
    return ImportRefused(
        f"refused: {pin.distribution} is pinned by digest, and {safe_text(rel)} {problem}; "
        "reinstall it and pin it again (`azure-appconfig plugins pin`)"
    )


class PinnedImports(importlib.abc.MetaPathFinder):
    """The ``sys.meta_path`` guard for digest-pinned distributions (see the module docstring)."""

    def __init__(self) -> None:
        self._pins: tuple[ImportPin, ...] = ()
        self._tops: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    @property
    def pins(self) -> tuple[ImportPin, ...]:
        """The pins guarded now (empty: the guard is off ``sys.meta_path``)."""
        return self._pins

    def set_pins(self, pins: Iterable[ImportPin]) -> None:
        """Guard exactly ``pins`` from now on (the previous set is dropped); placed first on ``sys.meta_path``."""
        with self._lock:
            self._pins = tuple(pins)
            self._tops = frozenset(n.split(".", 1)[0] for p in self._pins for n in p.owned | p.namespaces)
            if self._pins and (not sys.meta_path or sys.meta_path[0] is not self):
                if self in sys.meta_path:
                    sys.meta_path.remove(self)
                sys.meta_path.insert(0, self)
            elif not self._pins and self in sys.meta_path:
                sys.meta_path.remove(self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """The verified spec of a pinned distribution's module; None for every other name."""
        if fullname.split(".", 1)[0] not in self._tops:
            return None
        for pin in self._pins:
            if pin.owner_of(fullname):
                return self._owned_spec(pin, fullname)
            if fullname in pin.namespaces:
                return self._namespace_spec(pin, fullname, path)
        return None

    def _owned_spec(self, pin: ImportPin, fullname: str) -> importlib.machinery.ModuleSpec:
        rel = fullname.replace(".", "/")
        for candidate in _candidates(rel):
            if candidate in pin.listed:
                package = candidate.startswith(f"{rel}/__init__")
                return importlib.util.spec_from_file_location(  # type: ignore[return-value]  # never None with a loader
                    fullname,
                    os.path.join(pin.root, candidate),
                    loader=_VerifiedLoader(pin, candidate),
                    submodule_search_locations=[os.path.join(pin.root, rel)] if package else None,
                )
            if os.path.isfile(os.path.join(pin.root, candidate)):
                raise _refused(pin, candidate, "is not in its RECORD (added after install)")
        prefix = rel + "/"
        if any(p.startswith(prefix) for p in pin.listed) and os.path.isdir(os.path.join(pin.root, rel)):
            spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = [os.path.join(pin.root, rel)]
            return spec  # a namespace directory of its own: its modules are resolved here too
        raise ModuleNotFoundError(f"No module named {fullname!r} in the RECORD of {pin.distribution}", name=fullname)

    def _namespace_spec(
        self, pin: ImportPin, fullname: str, path: Sequence[str] | None
    ) -> importlib.machinery.ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = finder.find_spec(fullname, path, None)
            if spec is None:
                continue
            if spec.origin is not None and spec.has_location:
                raise _refused(pin, spec.origin, f"makes its namespace package {fullname!r} a regular one")
            return spec
        return None


GUARD = PinnedImports()
"""The process's guard; the loader sets its pins on every load (none in open mode)."""
