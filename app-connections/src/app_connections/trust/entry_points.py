"""The installed entry points of a group, each distribution read on its own: one whose
``entry_points.txt`` or metadata cannot be read costs only itself."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Container
from importlib import metadata
from pathlib import Path

from .allowlist import normalize_name, safe_text
from .distributions import identify, is_editable, metadata_location, unidentified, why_unreadable


def entry_point_module(ep: metadata.EntryPoint) -> str | None:
    """The module ``ep`` names, or ``None`` when its value is not ``module[:attr] [extras]`` syntax.

    ``EntryPoint.module`` (and ``attr``, ``load()``) raise ``AttributeError`` (``AssertionError``
    from Python 3.13) for such a value: every reader here goes through this, matching the same
    ``EntryPoint.pattern`` importlib matches, so nothing else ever asks ``ep.module`` for it.
    """
    match = metadata.EntryPoint.pattern.match(ep.value)
    return match.group("module") if match is not None else None


def _duplicate_key(dist: metadata.Distribution) -> str | None:
    """The name ``entry_points()`` tells distributions apart by (Python 3.10-3.13): the name part of
    the metadata directory (``Acme_Policy-1.0.dist-info`` -> ``acme-policy``; wheels name it so),
    else the ``Name`` in its metadata, both PEP 503-normalised; None when neither can be read
    (a duplicate of nothing)."""
    where = metadata_location(dist)
    stem, ext = os.path.splitext(os.path.basename(str(where))) if where is not None else ("", "")
    name = stem.partition("-")[0] if ext in (".dist-info", ".egg-info") else ""
    if not name:
        identity = identify(dist)
        name = identity.name if identity.problem is None else ""
    return normalize_name(name) if name else None


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
        base = metadata_location(self.dist)
        return base if isinstance(base, Path) else None

    @property
    def label(self) -> str:
        """What stands for its (unknown) entry points in failures and provenance: the name of
        its metadata directory, else its distribution name (bounded, control characters stripped)."""
        where = self.directory
        return safe_text(where.name if where is not None else identify(self.dist).name or "(name unreadable)")

    def reason(self, group: str) -> str:
        """Why none of its ``group`` entry points is loaded: where it is, and what is wrong."""
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
    name counts, later ones are shadowed; see :func:`_duplicate_key`). One that cannot be read is returned in
    ``unreadable`` when it may declare entry points in ``group`` (see :func:`_may_declare`). The one
    place the loader, the trust report and ``plugins pin`` enumerate plugins.
    """
    seen: set[str] = set()
    found: list[metadata.EntryPoint] = []
    unreadable: list[UnreadableEntryPoints] = []
    hidden: list[metadata.Distribution] = []
    claims: dict[str, dict[str, metadata.Distribution]] = {}
    for dist in metadata.distributions():
        key = _duplicate_key(dist)
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
    base = metadata_location(dist)
    where = os.path.realpath(base) if isinstance(base, os.PathLike) else identity.name
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
