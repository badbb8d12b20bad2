"""The auth-method contract: ``Credentials``, ``AuthMethod`` with every optional member declared
with its default, and ``LegacyAuthMethod``, the adapter a ``ConnectionType`` holds a method in
when its class does not inherit ``AuthMethod`` (re-exported by ``records``). Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

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


class TokenCredential(Protocol):
    """What a method's ``token_credential`` returns: ``get_token(*scopes)`` gives an access token
    (azure-core's ``TokenCredential`` is one; a provider may return its own)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike:
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
    declared here with its default (contract 2.2): a method class that inherits ``AuthMethod`` (or
    ``DeclaredAuthMethod``) gets the defaults and overrides what it offers. A method whose class does
    not inherit it (written against an earlier contract) is adapted once, when a ``ConnectionType``
    takes it (``LegacyAuthMethod``): its own members where it has them, these defaults elsewhere.
    The core calls the members directly and never probes for them.
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


class LegacyAuthMethod(AuthMethod):
    """A method whose class does not inherit ``AuthMethod`` (written against an earlier contract),
    as a ``ConnectionType`` holds it: its own optional members where it has them (looked up once,
    here), ``AuthMethod``'s defaults elsewhere; everything else is the method's own."""

    def __init__(self, method: object) -> None:
        own = self.__dict__
        own["wrapped"] = method
        for member in OPTIONAL_MEMBERS:  # the one place a method's optional members are looked up
            if hasattr(method, member):
                own[member] = getattr(method, member)

    @property
    def slug(self) -> str:
        """The wrapped method's slug."""
        return cast("str", self.__dict__["wrapped"].slug)

    @property
    def name(self) -> str:
        """The wrapped method's display name."""
        return cast("str", self.__dict__["wrapped"].name)

    @property
    def credentials_type(self) -> type | None:
        """The record type the wrapped method declares, if it declares one."""
        found = self.__dict__.get("credentials_type")
        return found if isinstance(found, type) else None

    def input_schema(self) -> JSONObject:
        """The wrapped method's input schema."""
        return cast("JSONObject", self.__dict__["wrapped"].input_schema())

    def parse(self, data: JSONInput) -> object:
        """The wrapped method's parse of ``data``."""
        return cast("object", self.__dict__["wrapped"].parse(data))

    def token_credential(self, credentials: Credentials, **options: Any) -> TokenCredential:
        """The wrapped method's token credential for ``credentials``."""
        return cast("TokenCredential", self.__dict__["wrapped"].token_credential(credentials, **options))

    def __getattr__(self, name: str) -> Any:  # the method's own members beyond the contract (begin, complete, ...)
        return getattr(self.__dict__["wrapped"], name)

    def __repr__(self) -> str:
        return repr(self.__dict__["wrapped"])


def as_auth_method(method: object) -> AuthMethod:
    """``method`` itself when its class inherits ``AuthMethod``, else its ``LegacyAuthMethod``."""
    return cast("AuthMethod", method) if AuthMethod in type(method).__mro__ else LegacyAuthMethod(method)


def is_interactive(method: object) -> bool:
    """True when ``method`` declares ``interactive = True`` (contract 1.1)."""
    return as_auth_method(method).interactive is True
