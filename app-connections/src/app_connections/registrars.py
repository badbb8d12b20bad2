"""The typed registrars the registration hooks receive as ``register``, and the protocols of
interactive auth methods and sync destinations (standard library only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .auth_method import AuthMethod, Credentials, Passed

if TYPE_CHECKING:
    from .records import ConnectionType


class SignInStart(Protocol):
    """What ``begin`` returns: where to send the user's browser, and the flow's one-time state."""

    @property
    def url(self) -> str:
        """Where to send the user to sign in."""

    @property
    def state(self) -> str:
        """The flow's opaque state, echoed back by the callback."""


@runtime_checkable
class InteractiveAuthMethod(AuthMethod, Protocol):
    """An auth method with a sign-in step (``interactive = True``)."""

    def begin(self, sign_in_input: object, **options: Passed) -> SignInStart:
        """Start sign-in from ``parse()``'s result; returns where to send the user (``.url``, ``.state``)."""

    def complete(self, params: Mapping[str, str], **options: Passed) -> Credentials:
        """Finish sign-in from the callback's query parameters; returns the credentials to store."""


@runtime_checkable
class SecretSyncDestination(Protocol):
    """A sync destination (``register_secret_syncs``): where a platform's secrets are pushed."""

    @property
    def slug(self) -> str:
        """The destination's identifier (``azure-app-configuration``)."""

    @property
    def name(self) -> str:
        """The destination's display name."""

    @property
    def connection_type(self) -> str:
        """The slug of the connection type this destination syncs through."""


# --- registrars: what the registration hooks receive as ``register`` -------------------------------


class RegistrationSink(Protocol):
    """Where registrars deliver (the host's catalog); ``plugin`` is the registering plugin's name."""

    def add_connection_type(self, connection_type: ConnectionType, plugin: str | None) -> None:
        """Accept a connection type from ``plugin``."""

    def add_auth_method(self, type_slug: str, method: AuthMethod, plugin: str | None) -> None:
        """Accept an auth method for the type ``type_slug`` from ``plugin``."""

    def add_secret_sync(self, destination: SecretSyncDestination, plugin: str | None) -> None:
        """Accept a sync destination from ``plugin``."""


class _Registrar:
    """Base of the typed registrars. ``plugin`` names the implementation being called (the host's
    loader sets it around each call), so what a plugin registers is attributed to it."""

    __slots__ = ("_sink", "plugin")

    def __init__(self, sink: RegistrationSink, plugin: str | None = None) -> None:
        self._sink = sink
        self.plugin = plugin

    def __repr__(self) -> str:
        return f"{type(self).__name__}(plugin={self.plugin!r})"


class ConnectionTypeRegistrar(_Registrar):
    """``register`` of ``register_connection_types``: ``register.add(connection_type)``."""

    __slots__ = ()

    def add(self, connection_type: ConnectionType) -> None:
        """Register a connection type (one with a slug and methods)."""
        slug = getattr(connection_type, "slug", None)
        if not isinstance(slug, str) or not slug or not isinstance(getattr(connection_type, "methods", None), Mapping):
            raise TypeError(f"register.add() needs a ConnectionType with a slug and methods, got {connection_type!r}")
        self._sink.add_connection_type(connection_type, self.plugin)


class AuthMethodRegistrar(_Registrar):
    """``register`` of ``register_auth_methods``: ``register.add(type_slug, method)``."""

    __slots__ = ()

    def add(self, type_slug: str, method: AuthMethod) -> None:
        """Register ``method`` on the connection type ``type_slug``."""
        from .auth_method import as_auth_method

        checked = as_auth_method(method)
        if not isinstance(type_slug, str) or not isinstance(checked.slug, str) or not checked.slug:
            raise TypeError(
                f"register.add() needs (connection type slug, auth method with a slug), got ({type_slug!r}, {method!r})"
            )
        self._sink.add_auth_method(type_slug, checked, self.plugin)


class SecretSyncRegistrar(_Registrar):
    """``register`` of ``register_secret_syncs``: ``register.add(destination)``. A destination has
    ``slug``, ``name`` and ``connection_type`` (the slug of the type it syncs through)."""

    __slots__ = ()

    def add(self, destination: SecretSyncDestination) -> None:
        """Register a sync destination (one with a slug, a name and a connection type)."""
        for attr in ("slug", "name", "connection_type"):
            if not isinstance(getattr(destination, attr, None), str) or not getattr(destination, attr):
                raise TypeError(f"register.add() needs a sync destination with a {attr}, got {destination!r}")
        self._sink.add_secret_sync(destination, self.plugin)
