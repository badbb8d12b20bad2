"""The host policy: what a host lets the connections it creates do (import-light, standard library).

A ``HostPolicy`` says which auth methods of which connection types are enabled, whether a
connection may use the host's *ambient identity* (environment defaults, the host's managed
identity, the host's federated token file), which directories a path-like field may name, and the
environment mapping that parsing, loading and validation read (never ``os.environ`` behind the
host's back). A host passes it where it loads providers (``load_plugins(policy=...)``) or parses
input (``ConnectionType.parse(..., policy=...)``); the connection types a registry hands out are
bound to it (``ConnectionType.with_policy``).

``HostPolicy.library()`` (the default everywhere): no ambient identity, no directories, an empty
environment. ``HostPolicy.operator()`` (an operator's own tool, e.g. the ``azure-appconfig`` CLI):
ambient identity on, every directory, the process environment.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from .frozen import _Frozen

if TYPE_CHECKING:
    from .auth_method import AuthMethod

NEVER = "never"
"""``AuthMethod.ambient_identity``: the method never acts as the host (the default)."""
FALLBACK = "fallback"
"""The method takes what the form leaves out from the host (environment defaults, the host's own
file): without ambient identity it needs every field from the form."""
ALWAYS = "always"
"""The method always acts as the host's own identity (e.g. a managed identity): disabled unless
the policy allows ambient identity."""
AMBIENT_USES = (NEVER, FALLBACK, ALWAYS)

_ENABLE_AMBIENT = "HostPolicy(ambient_identity=True), e.g. HostPolicy.operator()"


def _normalized_dir(directory: str | os.PathLike[str]) -> str:
    text = os.fspath(directory)
    if not isinstance(text, str) or not os.path.isabs(text):
        raise ValueError(f"HostPolicy: allowed directories must be absolute paths, not {text!r}")
    return os.path.realpath(text)  # the host's own directory: resolved once, here


class HostPolicy(_Frozen):
    """What a host allows the connections it creates (see the module docstring)."""

    __slots__ = ("methods", "ambient_identity", "allowed_dirs", "env")
    _fields = ("methods", "ambient_identity", "allowed_dirs")
    _repr_fields = _fields  # the environment may hold secrets: never in repr
    methods: Mapping[str, frozenset[str]] | None
    """Connection type slug -> its enabled method slugs; a type not named keeps every method
    (``None``: every method of every type). Map a type to ``()`` to disable all of its methods."""
    ambient_identity: bool
    """Whether connections may use the host's own identity."""
    allowed_dirs: tuple[str, ...]
    """Directories (resolved) a path-like field may name; empty: none."""
    env: Mapping[str, str]
    """The environment parsing, loading and validation read."""

    def __init__(
        self,
        *,
        methods: Mapping[str, Iterable[str]] | None = None,
        ambient_identity: bool = False,
        allowed_dirs: Iterable[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(allowed_dirs, (str, os.PathLike)):
            raise TypeError("HostPolicy: allowed_dirs is a list of directories, not one path")
        enabled = None if methods is None else {t: frozenset(ms) for t, ms in methods.items()}
        self._init(
            methods=enabled,
            ambient_identity=bool(ambient_identity),
            allowed_dirs=tuple(dict.fromkeys(_normalized_dir(d) for d in allowed_dirs)),
            env={} if env is None else env,
        )

    def __hash__(self) -> int:
        methods = None if self.methods is None else tuple(sorted(self.methods.items()))
        return hash((methods, self.ambient_identity, self.allowed_dirs))

    @classmethod
    def library(
        cls,
        *,
        methods: Mapping[str, Iterable[str]] | None = None,
        allowed_dirs: Iterable[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
    ) -> HostPolicy:
        """A host serving many users (the default): no ambient identity, only ``allowed_dirs``,
        only the ``env`` given (empty by default)."""
        return cls(methods=methods, ambient_identity=False, allowed_dirs=allowed_dirs, env=env)

    @classmethod
    def operator(
        cls, env: Mapping[str, str] | None = None, *, methods: Mapping[str, Iterable[str]] | None = None
    ) -> HostPolicy:
        """An operator's own tool (the ``azure-appconfig`` CLI): ambient identity on, every
        directory, and ``env`` (default: this process's environment, read live)."""
        chosen = os.environ if env is None else env
        return cls(methods=methods, ambient_identity=True, allowed_dirs=(os.sep,), env=chosen)

    def with_env(self, env: Mapping[str, str]) -> HostPolicy:
        """The same policy reading ``env`` instead."""
        return HostPolicy(
            methods=self.methods, ambient_identity=self.ambient_identity, allowed_dirs=self.allowed_dirs, env=env
        )

    # --- decisions ---------------------------------------------------------------------------------

    def disabled_reason(self, type_slug: str, method: AuthMethod) -> str | None:
        """Why ``method`` of ``type_slug`` is disabled under this policy (with how to enable it), or None."""
        slug = method.slug
        if self.methods is not None and type_slug in self.methods and slug not in self.methods[type_slug]:
            return (
                f"auth method {slug!r} of {type_slug!r} is not enabled on this host; "
                f"the host enables it with HostPolicy(methods={{{type_slug!r}: [..., {slug!r}]}})"
            )
        use, paths = declared(method)
        if use not in AMBIENT_USES:
            return f"auth method {slug!r} declares ambient_identity={use!r}; expected one of {', '.join(AMBIENT_USES)}"
        if self.ambient_identity or use == NEVER:
            return None
        if use == ALWAYS:
            return (
                f"auth method {slug!r} acts as this host's own identity, which this host does not lend to "
                f"connections; the host enables it with {_ENABLE_AMBIENT}"
            )
        if paths and not self.allowed_dirs:  # FALLBACK: its file must then come from the form
            return (
                f"auth method {slug!r} needs the host's own identity file or a directory the host allows "
                f"for {', '.join(paths)}; the host enables it with {_ENABLE_AMBIENT} "
                "or HostPolicy(allowed_dirs=[...])"
            )
        return None

    def allows_path(self, path: str) -> bool:
        """True when ``path`` is absolute, names no ``..`` and lies in an allowed directory (decided
        without touching the file system)."""
        from .paths import lexically_within

        return lexically_within(path, self.allowed_dirs)


def declared(method: AuthMethod) -> tuple[str, tuple[str, ...]]:
    """``(ambient_identity, path_fields)`` as ``method`` declares them (``AuthMethod``'s defaults,
    ``"never"`` and ``()``, for a method that declares neither: it never acts as the host and
    names no file)."""
    paths = method.path_fields
    return method.ambient_identity, tuple(paths) if isinstance(paths, (tuple, list)) else ()


# --- the policy in effect --------------------------------------------------------------------------

_LIBRARY = HostPolicy.library()
_current: contextvars.ContextVar[HostPolicy | None] = contextvars.ContextVar("app_connections_policy", default=None)


def current() -> HostPolicy:
    """The policy in effect: the innermost ``use(policy)`` of this context, else the library policy."""
    return _current.get() or _LIBRARY


@contextlib.contextmanager
def use(policy: HostPolicy) -> Iterator[HostPolicy]:
    """Make ``policy`` the one in effect within the block (``ConnectionType`` does this around the
    methods it calls, so a method reads the host's policy with ``current()``)."""
    if not isinstance(policy, HostPolicy):
        raise TypeError(f"expected a HostPolicy, got {type(policy).__name__}")
    token = _current.set(policy)
    try:
        yield policy
    finally:
        _current.reset(token)


def effective(policy: HostPolicy | None, env: Mapping[str, str] | None = None) -> HostPolicy:
    """``policy`` (default: the one in effect) with ``env`` in place of its environment when given."""
    chosen = current() if policy is None else policy
    if not isinstance(chosen, HostPolicy):
        raise TypeError(f"policy= takes a HostPolicy, not {type(chosen).__name__}")
    return chosen if env is None else chosen.with_env(env)
