"""A fresh registry for a test, with our base connection type loaded when an extension adds to it.

An extension (a plugin that adds an auth method to ``azure-app-configuration`` instead of
registering a type of its own) cannot be loaded alone: there is no type to add to. The kit
therefore loads this package's own plugin next to it, exactly as a host would find both
through entry points. Uses only the public loader API (``load_plugins``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

BASE_TYPE_SLUG = "azure-app-configuration"
"""The connection type this package registers (a contract name; it never changes)."""
BASE_PLUGIN_NAME = "azure-app-configuration"
"""The entry-point name our plugin is published under."""


def base_plugin() -> tuple[str, object]:
    """``(name, module)`` of this package's own plugin, as its entry point loads it."""
    from azure_appconfig_plugin import plugin

    return BASE_PLUGIN_NAME, plugin


class _Recorder:
    """Stands in for the ``register`` argument of ``register_auth_methods``, in both call
    forms of the contract (``register(slug, method)`` and ``register.add(slug, method)``),
    and only notes which connection types the plugin adds methods to."""

    def __init__(self) -> None:
        self.slugs: list[str] = []

    def __call__(self, slug: str, method: Any = None) -> None:
        self.slugs.append(slug)

    def add(self, slug: str, method: Any = None) -> None:
        self.slugs.append(slug)


def adds_methods_to(plugin: object, slug: str = BASE_TYPE_SLUG) -> bool:
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


def needs_base(plugins: Iterable[tuple[str, object]], slug: str = BASE_TYPE_SLUG) -> bool:
    """Whether ``plugins`` extend our type without including our own plugin."""
    from azure_appconfig_plugin import plugin as ours

    listed = list(plugins)
    if any(obj is ours for _, obj in listed):
        return False
    return any(adds_methods_to(obj, slug) for _, obj in listed)


def load_registry(
    plugins: Iterable[tuple[str, object]] = (),
    *,
    with_base: bool | None = None,
    use_entry_points: bool = False,
    env: Mapping[str, str] | None = None,
) -> Any:
    """A fresh ``Registry`` with exactly ``plugins`` (and entry points if asked).

    ``with_base``: ``None`` (default) loads our ``azure-app-configuration`` plugin first when a
    listed plugin adds auth methods to that type and our plugin is not listed; ``True`` always
    loads it; ``False`` never does. With ``use_entry_points=True`` our plugin comes from its
    entry point, so it is not added again. ``env`` defaults to an empty environment, so the
    test's own environment (a blocklist, say) does not leak in.
    """
    from ..loader import load_plugins

    listed = list(plugins)
    if with_base is None:
        with_base = not use_entry_points and needs_base(listed)
    if with_base and not use_entry_points and not any(obj is base_plugin()[1] for _, obj in listed):
        listed = [base_plugin(), *listed]
    return load_plugins(plugins=listed, use_entry_points=use_entry_points, env=dict(env) if env is not None else {})
