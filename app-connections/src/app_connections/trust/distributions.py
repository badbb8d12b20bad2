"""Who an installed distribution says it is (``Name``, ``Version``), read once and never raising,
and whether it is an editable install."""

from __future__ import annotations

import dataclasses
import email.message
import email.parser
import json
import weakref
from importlib import metadata

from .allowlist import normalize_name, safe_text


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


def metadata_location(dist: metadata.Distribution) -> object | None:
    """Where ``dist``'s metadata is: a ``PathDistribution``'s directory (a ``pathlib.Path``, or a
    ``zipfile.Path`` inside an archive), None for a distribution another finder made. importlib
    has no public name for it (``_path`` from Python 3.10 on); this is the one place it is read."""
    return getattr(dist, "_path", None)
