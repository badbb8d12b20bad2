"""The auth-method contract: ``Credentials`` and ``AuthMethod`` with every optional member declared
with its default, which a method's class inherits (re-exported by ``records``). Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast, runtime_checkable

from .jsontypes import JSONInput, JSONObject

if TYPE_CHECKING:
    from .fields import Field

RotateCallback = Callable[["Credentials"], None]
"""Called with the updated credentials whenever the identity platform rotates the refresh token;
the host persists ``credentials.to_dict()`` (it carries the new refresh token)."""


class AccessTokenLike(Protocol):
    """A token and when it expires (azure-core's ``AccessToken`` is one)."""

    @property
    def token(self) -> str:
        """The bearer token."""

    @property
    def expires_on(self) -> int:
        """Unix time the token expires."""


Passed: TypeAlias = Any
"""A keyword argument a protocol member passes through as given (``get_token(claims=...)``, a
sign-in's ``settings=``): any value, because each implementation types its own keywords
(azure-core's ``get_token`` takes ``claims: str | None``) and a narrower type here would refuse it."""


class TokenCredential(Protocol):
    """What a method's ``token_credential`` returns: ``get_token(*scopes)`` gives an access token
    (azure-core's ``TokenCredential`` is one; a provider may return its own)."""

    def get_token(self, *scopes: str, **kwargs: Passed) -> AccessTokenLike:
        """An access token for ``scopes`` (``.token``, ``.expires_on``)."""


@runtime_checkable
class Credentials(Protocol):
    """What ``AuthMethod.parse`` returns. Secrets never appear in ``repr``/``str``."""

    @property
    def method(self) -> str:
        """The auth method's slug."""

    def to_dict(self) -> JSONObject:
        """The JSON-ready mapping a host stores (secrets included: store it safely)."""


@runtime_checkable
class AuthMethod(Protocol):
    """One way to authenticate a connection type.

    Required: ``slug``, ``name``, ``input_schema()``, ``parse(data)`` and
    ``token_credential(credentials, *, on_rotate=None)``. Every other member is optional and
    declared here with its default: a method's class inherits ``AuthMethod`` (or
    ``DeclaredAuthMethod``), gets the defaults and overrides what it offers (contract 3.0: a
    ``ConnectionType`` or ``register.add`` refuses a method whose class does not inherit it, with a
    ``TypeError`` naming the fix). The core calls the members directly and never probes for them.
    """

    interactive: bool = False
    """False for methods whose ``parse`` returns credentials; True for methods whose ``parse``
    returns sign-in input that ``begin`` / ``complete`` turn into credentials (those also satisfy
    ``InteractiveAuthMethod``)."""
    identity_provider: str = ""
    """Who issues the method's tokens or keys, named in validation texts (e.g. ``"Microsoft Entra
    ID"``); empty: the method's name stands for it."""
    ambient_identity: str = "never"
    """Whether the method acts as the host's own identity (declared; contract 2.1): ``"never"``
    (the default), ``"fallback"`` (what the form leaves out comes from the host: environment
    defaults, the host's own file) or ``"always"`` (e.g. a managed identity). ``HostPolicy``
    disables ``"always"`` methods, and ``"fallback"`` ones that then lack a path, unless it allows
    ambient identity."""
    path_fields: tuple[str, ...] = ()
    """The form fields that name a file on the host (declared; contract 2.1): the host's policy
    says which directories they may name."""
    input_fields: tuple[Field, ...] = ()
    """The form's field declarations (``fields.Field``); empty: the method declares none (its
    schema is hand-written), so validation texts withhold every stored value but ``method`` and
    ``cloud``."""
    stored_fields: tuple[Field, ...] | None = None
    """The fields of ``credentials.to_dict()`` (besides ``method``) when they differ from
    ``input_fields`` (an interactive method's); None: the same as ``input_fields``."""

    @property
    def slug(self) -> str:
        """The method's identifier within its connection type (``client-secret``)."""

    @property
    def name(self) -> str:
        """The method's display name."""

    @property
    def credentials_type(self) -> type | None:
        """The class of this method's credentials records; ``ConnectionType.credentials`` refuses
        another record with a message naming it. None (the default): any record naming the method."""
        return None

    def input_schema(self) -> JSONObject:
        """JSON Schema (draft 2020-12) of the form input this method collects."""

    def parse(self, data: JSONInput) -> object:
        """Form input -> credentials (or an interactive method's sign-in input); raise ``InvalidInput``
        listing every bad field."""

    def token_credential(self, credentials: Credentials, *, on_rotate: RotateCallback | None = None) -> TokenCredential:
        """A ``TokenCredential`` for these credentials."""

    def load(self, stored: JSONInput) -> Credentials:
        """Stored credentials (``to_dict()`` output, ``method`` included) -> the credentials record.
        Default: ``parse`` of the stored values without ``method``; an interactive method, whose
        ``parse`` gives sign-in input, cannot be restored without its own ``load``."""
        if self.interactive:
            from .errors import FieldError, InvalidInput

            message = f"auth method {self.slug!r} cannot load stored credentials (it has no load())"
            raise InvalidInput(errors=[FieldError("method", message)])
        values = stored if isinstance(stored, Mapping) else {}
        return cast("Credentials", self.parse({k: v for k, v in values.items() if k != "method"}))

    def request_credential(self, credentials: Credentials) -> object | None:
        """What the type's ``client_factory`` signs each request with, for a method that signs
        requests instead of sending a token (``access-key``); None (the default): the method sends
        a token, ``token_credential(credentials)``."""
        return None

    def principal(self, credentials: Credentials) -> str:
        """Who the credentials act as, for check texts (e.g. ``the service principal of app X``)."""
        return f"the identity of this {self.name} connection"

    def cloud_of(self, credentials: Credentials) -> str | None:
        """The slug of the cloud ``credentials`` name (e.g. ``"china"``); None (the default): the
        connection type's default cloud."""
        return None

    def endpoint_of(self, credentials: Credentials) -> str | None:
        """The one service endpoint ``credentials`` are bound to (an access key's store); None (the
        default): they serve any endpoint the host names."""
        return None

    def tenant_of(self, credentials: Credentials) -> str | None:
        """The directory (tenant) ``credentials`` sign in to, named in check texts; None (the default)."""
        return None


OPTIONAL_MEMBERS = (
    "interactive",
    "identity_provider",
    "ambient_identity",
    "path_fields",
    "input_fields",
    "stored_fields",
    "credentials_type",
    "load",
    "request_credential",
    "principal",
    "cloud_of",
    "endpoint_of",
    "tenant_of",
)
"""The members of ``AuthMethod`` with a default, in declaration order."""


def as_auth_method(method: object) -> AuthMethod:
    """``method``, once its class is known to inherit ``AuthMethod`` (where the optional members'
    defaults come from); a ``TypeError`` naming the fix otherwise."""
    if AuthMethod in type(method).__mro__:
        return cast("AuthMethod", method)
    if isinstance(method, type):
        raise TypeError(f"register an instance of {method.__module__}.{method.__qualname__}, not the class")
    kind = type(method)
    raise TypeError(
        f"auth method {kind.__module__}.{kind.__qualname__} does not inherit app_connections.records.AuthMethod: "
        "its class must inherit AuthMethod (or app_connections.declared.DeclaredAuthMethod), which declares "
        "every optional member with its default (contract 3.0)"
    )


def is_interactive(method: object) -> bool:
    """True when ``method`` declares ``interactive = True`` (contract 1.1)."""
    return as_auth_method(method).interactive is True
