"""A fresh registry for a test, with the provider of the base connection type loaded when an
extension adds to it.

An extension (a plugin that adds an auth method to another provider's connection type instead of
registering a type of its own) cannot be loaded alone: there is no type to add to. The kit
therefore loads, next to it, the installed plugins (entry-point group ``app_connections``) that
register that type, exactly as a host would find both. Uses only the public loader API
(``load_plugins``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..hostspec import PROJECT_NAME

if TYPE_CHECKING:
    from ..loader import Registry
    from ..policy import HostPolicy
    from ..records import ConnectionType


class _Recorder:
    """Stands in for the ``register`` argument of ``register_auth_methods`` and only notes which
    connection types the plugin adds methods to."""

    def __init__(self) -> None:
        self.slugs: list[str] = []

    def add(self, slug: str, method: object = None) -> None:
        self.slugs.append(slug)


class _TypeRecorder:
    """Stands in for the ``register`` argument of ``register_connection_types``."""

    def __init__(self) -> None:
        self.slugs: list[str] = []

    def add(self, connection_type: ConnectionType) -> None:
        self.slugs.append(str(connection_type.slug))


def registers_types(plugin: object) -> set[str]:
    """The slugs of the connection types ``plugin``'s ``register_connection_types`` registers
    (empty when it has none or it raises: loading it reports that as usual)."""
    hook = getattr(plugin, "register_connection_types", None)
    if not callable(hook):
        return set()
    recorder = _TypeRecorder()
    try:
        hook(register=recorder)
    except Exception:
        return set()
    return set(recorder.slugs)


def extended_types(plugin: object) -> set[str]:
    """The slugs of the connection types ``plugin``'s ``register_auth_methods`` adds methods to."""
    hook = getattr(plugin, "register_auth_methods", None)
    if not callable(hook):
        return set()
    recorder = _Recorder()
    try:
        hook(register=recorder)
    except Exception:
        return set()
    return set(recorder.slugs)


def adds_methods_to(plugin: object, slug: str) -> bool:
    """True when ``plugin``'s ``register_auth_methods`` adds a method to ``slug``.

    A plugin whose hook raises is not an extension as far as this probe can tell; loading it
    reports its error as usual.
    """
    hook = getattr(plugin, "register_auth_methods", None)
    if not callable(hook):
        return False
    recorder = _Recorder()
    try:
        hook(register=recorder)
    except Exception:
        return False
    return slug in recorder.slugs


def missing_types(plugins: Iterable[tuple[str, object]]) -> set[str]:
    """The connection types ``plugins`` add methods to that none of them registers."""
    listed = [obj for _, obj in plugins]
    extended = set().union(*(extended_types(obj) for obj in listed)) if listed else set()
    registered = set().union(*(registers_types(obj) for obj in listed)) if listed else set()
    return extended - registered


def needs_base(plugins: Iterable[tuple[str, object]], slug: str) -> bool:
    """Whether ``plugins`` extend ``slug`` without including the plugin that registers it."""
    return slug in missing_types(plugins)


def base_plugins(slugs: Iterable[str], *, group: str = PROJECT_NAME) -> list[tuple[str, object]]:
    """``(name, module)`` of every installed plugin (entry-point group ``group``) that registers one
    of the connection types ``slugs``, as its entry point loads it; a plugin that fails to load is
    left out (the registry built with the extension reports the missing type)."""
    from importlib.metadata import entry_points

    wanted = set(slugs)
    found: list[tuple[str, object]] = []
    if not wanted:
        return found
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception:
            continue
        if registers_types(obj) & wanted:
            found.append((ep.name, obj))
    return found


def load_registry(
    plugins: Iterable[tuple[str, object]] = (),
    *,
    with_base: bool | None = None,
    base_types: Iterable[str] = (),
    use_entry_points: bool = False,
    env: Mapping[str, str] | None = None,
    policy: HostPolicy | None = None,
) -> Registry:
    """A fresh ``Registry`` with exactly ``plugins`` (and entry points if asked), bound to ``policy``
    (a ``HostPolicy``; default the library policy, as a host's).

    ``with_base``: ``None`` (default) loads, first, the installed plugins that register the types a
    listed plugin adds auth methods to when no listed plugin registers them; ``True`` always loads
    the providers of those types and of ``base_types``; ``False`` never does. With
    ``use_entry_points=True`` every installed plugin loads anyway, so none is added again. ``env``
    defaults to an empty environment, so the test's own environment (a blocklist, say) does not
    leak in.
    """
    from ..loader import load_plugins

    listed = list(plugins)
    missing = missing_types(listed)
    if with_base is None:
        with_base = not use_entry_points and bool(missing)
    if with_base and not use_entry_points:
        present = {id(obj) for _, obj in listed}
        bases = [b for b in base_plugins(missing | set(base_types)) if id(b[1]) not in present]
        listed = [*bases, *listed]
    loader_env = dict(env) if env is not None else {}
    return load_plugins(plugins=listed, use_entry_points=use_entry_points, env=loader_env, policy=policy)
