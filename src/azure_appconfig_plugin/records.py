"""Plain records of the host contract: connection types, auth methods, checks, reports.

Only attrs and the standard library are imported here: this module is on the
registration path, which must stay import-light.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

import attrs

if TYPE_CHECKING:  # pragma: no cover - typing only
    from azure.core.credentials import TokenCredential

RotateCallback = Callable[[Any], None]
"""Called with the updated credentials whenever Azure rotates the refresh token; the host
persists ``credentials.to_dict()`` (it carries the new ``refreshToken``)."""


@runtime_checkable
class Credentials(Protocol):
    """What ``AuthMethod.parse`` returns. Secrets never appear in ``repr``/``str``."""

    method: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready mapping a host stores (secrets included: store it safely)."""


@runtime_checkable
class AuthMethod(Protocol):
    """One way to authenticate a connection type."""

    slug: str
    name: str

    def input_schema(self) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the form input this method collects."""

    def parse(self, data: Mapping[str, Any]) -> Credentials:
        """Validate form input; raise ``InvalidInput`` listing every bad field."""

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None
    ) -> TokenCredential:
        """An azure-core ``TokenCredential`` for these credentials."""


@attrs.frozen
class InstanceSetting:
    """An instance-wide setting a connection type reads from the environment."""

    env_var: str
    title: str
    description: str
    secret: bool = False
    required_by: tuple[str, ...] = ()


class CheckStatus(str, enum.Enum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Check:
    """One line of a validation report."""

    name: str
    status: CheckStatus = attrs.field(converter=CheckStatus)
    detail: str
    remediation: str | None = None
    code: str | None = None
    """Azure's error code (e.g. ``AADSTS7000215`` or an HTTP status) when there is one."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status.value, "detail": self.detail}
        if self.remediation:
            out["remediation"] = self.remediation
        if self.code:
            out["code"] = self.code
        return out


@attrs.frozen
class ValidationReport:
    """Overall verdict plus every check, in the order they ran."""

    checks: tuple[Check, ...] = ()
    credentials: Any = attrs.field(default=None, repr=False, eq=False)
    """The parsed credentials, when input parsed (never serialized)."""
    token_credential: Any = attrs.field(default=None, repr=False, eq=False)
    """The ``TokenCredential`` the validation used, when one was built (never serialized)."""

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing was left inconclusive."""
        bad = {CheckStatus.FAILED, CheckStatus.INCONCLUSIVE}
        return bool(self.checks) and not any(c.status in bad for c in self.checks)

    def with_checks(self, more: tuple[Check, ...] | list[Check]) -> ValidationReport:
        return attrs.evolve(self, checks=self.checks + tuple(more))

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_dict() for c in self.checks]}


@attrs.frozen
class ValidationRequest:
    """What ``validate_connection`` implementations receive."""

    connection_type: str
    method: str
    credentials: Credentials | None
    endpoint: str | None
    checks: tuple[Check, ...] = ()
    token_credential: Any = attrs.field(default=None, repr=False)
    """The azure-core ``TokenCredential`` used, when the token stage succeeded."""


Validator = Callable[..., ValidationReport]


@attrs.frozen
class ConnectionType:
    """A kind of connection a host can create, with its auth methods."""

    slug: str
    name: str
    methods: Mapping[str, AuthMethod] = attrs.field(converter=lambda m: dict(m), repr=False)
    settings: tuple[InstanceSetting, ...] = ()
    validator: Validator | None = attrs.field(default=None, repr=False, eq=False)
    """``validator(credentials, *, method, endpoint=None, **options) -> ValidationReport``."""

    def __attrs_post_init__(self) -> None:
        for key, method in self.methods.items():
            if key != method.slug:
                raise ValueError(f"method registered as {key!r} has slug {method.slug!r}")

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
        return attrs.evolve(self, methods={**self.methods, method.slug: method})

    def parse(self, method: str, data: Mapping[str, Any]) -> Credentials:
        return self.method(method).parse(data)

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None
    ) -> TokenCredential:
        """Turn either method's credentials into an azure-core ``TokenCredential``."""
        return self.method(credentials.method).token_credential(credentials, on_rotate=on_rotate)
