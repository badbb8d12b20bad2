"""Plain records of the host contract: connection types, auth methods, instance settings.

This module is on the registration path and imports nothing but the standard library: the
two records here are hand-written frozen classes rather than attrs classes, because importing
attrs alone costs more than the plugin's whole start-up budget (see benchmarks/). Validation
records (``Check``, ``ValidationReport``, ...) live in ``reports`` and are re-exported here
lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - typing only
    from azure.core.credentials import TokenCredential

    from .reports import Check, CheckStatus, ValidationReport, ValidationRequest

RotateCallback = Callable[[Any], None]
"""Called with the updated credentials whenever Azure rotates the refresh token; the host
persists ``credentials.to_dict()`` (it carries the new ``refreshToken``)."""

_REPORT_NAMES = ("Check", "CheckStatus", "ValidationReport", "ValidationRequest")


def __getattr__(name: str) -> Any:  # lazy re-export of the validation records
    if name in _REPORT_NAMES:
        from . import reports

        return getattr(reports, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@runtime_checkable
class Credentials(Protocol):
    """What ``AuthMethod.parse`` returns. Secrets never appear in ``repr``/``str``."""

    @property
    def method(self) -> str:
        """The auth method's slug."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready mapping a host stores (secrets included: store it safely)."""


@runtime_checkable
class AuthMethod(Protocol):
    """One way to authenticate a connection type."""

    @property
    def slug(self) -> str: ...

    @property
    def name(self) -> str: ...

    def input_schema(self) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the form input this method collects."""

    def parse(self, data: Mapping[str, Any]) -> Credentials:
        """Validate form input; raise ``InvalidInput`` listing every bad field."""

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None
    ) -> TokenCredential:
        """An azure-core ``TokenCredential`` for these credentials."""


class _Frozen:
    """Slotted, immutable value: equality and hash over ``_fields``, readable repr."""

    __slots__: tuple[str, ...] = ()
    _fields: tuple[str, ...] = ()
    _repr_fields: tuple[str, ...] = ()

    def _init(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen; cannot delete {name!r}")

    def _values(self) -> Iterator[Any]:
        return (getattr(self, f) for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple(self._values()) == tuple(other._values())  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(tuple(v if not isinstance(v, dict) else tuple(v) for v in self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._repr_fields or self._fields)
        return f"{type(self).__name__}({inner})"


class InstanceSetting(_Frozen):
    """An instance-wide setting a connection type reads from the environment."""

    __slots__ = ("env_var", "title", "description", "secret", "required_by")
    _fields = __slots__
    env_var: str
    title: str
    description: str
    secret: bool
    required_by: tuple[str, ...]

    def __init__(
        self, env_var: str, title: str, description: str, secret: bool = False, required_by: tuple[str, ...] = ()
    ) -> None:
        self._init(env_var=env_var, title=title, description=description, secret=secret, required_by=tuple(required_by))


Validator = Callable[..., "ValidationReport"]


class ConnectionType(_Frozen):
    """A kind of connection a host can create, with its auth methods (frozen)."""

    __slots__ = ("slug", "name", "methods", "settings", "validator")
    _fields = ("slug", "name", "methods", "settings")
    _repr_fields = ("slug", "name", "settings")
    slug: str
    name: str
    methods: Mapping[str, AuthMethod]
    settings: tuple[InstanceSetting, ...]
    validator: Validator | None
    """``validator(data_or_credentials, *, method, endpoint=None, **options) -> ValidationReport``."""

    def __init__(
        self,
        slug: str,
        name: str,
        methods: Mapping[str, AuthMethod],
        settings: tuple[InstanceSetting, ...] = (),
        validator: Validator | None = None,
    ) -> None:
        methods = dict(methods)
        for key, method in methods.items():
            if key != method.slug:
                raise ValueError(f"method registered as {key!r} has slug {method.slug!r}")
        self._init(slug=slug, name=name, methods=methods, settings=tuple(settings), validator=validator)

    def method(self, slug: str) -> AuthMethod:
        from .errors import UnknownAuthMethod

        try:
            return self.methods[slug]
        except KeyError:
            raise UnknownAuthMethod(
                f"connection type {self.slug!r} has no auth method {slug!r}; "
                f"choose one of: {', '.join(sorted(self.methods))}",
                field="method",
            ) from None

    def with_method(self, method: AuthMethod) -> ConnectionType:
        """A copy with one more auth method (used for ``register_auth_methods``)."""
        if method.slug in self.methods:
            raise ValueError(f"{self.slug!r} already has an auth method {method.slug!r}")
        return ConnectionType(self.slug, self.name, {**self.methods, method.slug: method}, self.settings, self.validator)

    def parse(self, method: str, data: Mapping[str, Any]) -> Credentials:
        return self.method(method).parse(data)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None
    ) -> TokenCredential:
        """Turn either method's credentials into an azure-core ``TokenCredential``."""
        return self.method(credentials.method).token_credential(credentials, on_rotate=on_rotate)

    def validate(self, data: Any, *, method: str | None = None, **options: Any) -> ValidationReport:
        """This type's own checks (offline, token, store). ``Registry.validate`` adds plugins' checks."""
        if self.validator is None:
            from .reports import ValidationReport

            return ValidationReport()
        return self.validator(data, method=method, connection_type=self, **options)
