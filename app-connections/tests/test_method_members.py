"""The optional members of ``AuthMethod`` are declared with defaults: a method's class inherits
``AuthMethod`` and gets every default, so the core calls them directly; a type refuses a method
whose class does not inherit it (contract 3.0), naming the fix."""

from __future__ import annotations

from typing import Any

import pytest

from app_connections.errors import InvalidInput
from app_connections.hostspec import CONTRACT_VERSION
from app_connections.records import OPTIONAL_MEMBERS, AuthMethod, ConnectionType


class Record:
    def __init__(self, token: str, method: str = "bare") -> None:
        self.token, self.method = token, method

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and other.to_dict() == self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "token": self.token}


class Bare(AuthMethod):
    """Only the required members: every optional one is ``AuthMethod``'s default."""

    slug, name = "bare", "Bare"

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def parse(self, data: Any) -> Record:
        return Record(data["token"])

    def token_credential(self, credentials: Any, *, on_rotate: Any = None) -> Any:
        return ("token for", credentials.token)


class Signing(AuthMethod):
    """Inherits the protocol: the defaults come with it, and it overrides what it offers."""

    slug, name = "signing", "Signing"
    identity_provider = "the key service"

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def parse(self, data: Any) -> Record:
        return Record(data["token"], self.slug)

    def token_credential(self, credentials: Any, **options: Any) -> Any:
        raise AssertionError("a signing method is never asked for a token")

    def request_credential(self, credentials: Any) -> object:
        return ("signer", credentials.token)

    def endpoint_of(self, credentials: Any) -> str | None:
        return "https://own.example"


def factory(credentials: Any, endpoint: Any, credential: Any, **options: Any) -> tuple[Any, Any]:
    return endpoint, credential


def test_the_contract_is_3_0() -> None:
    assert CONTRACT_VERSION == "3.0"


def test_a_method_with_only_the_required_members_gets_every_default() -> None:
    bare = Bare()
    ctype = ConnectionType("t", "T", {"bare": bare}, client_factory=factory)
    method = ctype.method("bare")
    assert method is bare and isinstance(method, AuthMethod)
    creds = ctype.parse("bare", {"token": "abc"})
    assert (method.interactive, method.identity_provider, method.ambient_identity, method.path_fields) == (
        False,
        "",
        "never",
        (),
    )
    assert (method.input_fields, method.stored_fields, method.credentials_type) == ((), None, None)
    assert method.request_credential(creds) is None  # type: ignore[arg-type]  # parse() returns object
    assert method.principal(creds) == "the identity of this Bare connection"  # type: ignore[arg-type]  # parse() returns object
    assert (method.cloud_of(creds), method.endpoint_of(creds), method.tenant_of(creds)) == (None, None, None)  # type: ignore[arg-type]  # parse() returns object
    assert ctype.load({"method": "bare", "token": "abc"}) == creds  # the default load(): parse without method
    assert ctype.client(creds) == (None, ("token for", "abc"))  # type: ignore[arg-type]  # parse() returns object; no signer: the token
    assert repr(method).startswith("<") and method.slug == "bare" and method.input_schema() == {"type": "object"}


def test_a_method_that_overrides_a_member_is_used_directly() -> None:
    signing = Signing()
    ctype = ConnectionType("t", "T", {"signing": signing}, client_factory=factory)
    assert ctype.method("signing") is signing  # inherits AuthMethod: held as it is
    creds = ctype.parse("signing", {"token": "abc"})
    assert ctype.client(creds) == ("https://own.example", ("signer", "abc"))  # type: ignore[arg-type]  # parse() returns object
    assert signing.principal(creds) == "the identity of this Signing connection"  # type: ignore[arg-type]  # parse() returns object
    assert signing.identity_provider == "the key service" and not ctype.is_interactive("signing")


class Plain:
    """The required members, but a class that does not inherit ``AuthMethod``."""

    slug, name = "plain", "Plain"

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def parse(self, data: Any) -> Record:
        return Record(data["token"], self.slug)

    def token_credential(self, credentials: Any, *, on_rotate: Any = None) -> Any:
        raise AssertionError("never asked")


def test_a_method_whose_class_does_not_inherit_the_protocol_is_refused_naming_the_fix() -> None:
    fix = "its class must inherit AuthMethod (or app_connections.declared.DeclaredAuthMethod)"
    with pytest.raises(TypeError, match=r"test_method_members\.Plain does not inherit app_connections") as raised:
        ConnectionType("t", "T", {"plain": Plain()})  # type: ignore[dict-item]  # no base class, on purpose
    assert fix in str(raised.value)
    ctype = ConnectionType("t", "T", {"bare": Bare()})
    with pytest.raises(TypeError, match="does not inherit"):
        ctype.with_method(Plain())  # type: ignore[arg-type]  # no base class, on purpose
    assert list(ctype.methods) == ["bare"]


def test_the_default_load_of_an_interactive_method_says_it_cannot_restore() -> None:
    class SignsIn(Bare):
        slug = "signs-in"
        interactive = True

    ctype = ConnectionType("t", "T", {"signs-in": SignsIn()})
    with pytest.raises(InvalidInput, match="cannot load stored credentials"):
        ctype.load({"method": "signs-in", "token": "x"})


def test_every_optional_member_has_a_default_on_the_protocol() -> None:
    for member in OPTIONAL_MEMBERS:
        assert member in vars(AuthMethod), member


def test_a_method_without_a_slug_or_given_as_its_class_is_refused_naming_why() -> None:
    from app_connections.loader import load_plugins

    class Slugless(Bare):
        slug = None  # type: ignore[assignment]  # the mistake under test

    with pytest.raises(ValueError, match="has no slug"):
        ConnectionType("t", "T", {"x": Slugless()})

    class Plugin:
        @staticmethod
        def register_auth_methods(register: Any) -> None:
            register.add("t", Slugless())

        @staticmethod
        def register_connection_types(register: Any) -> None:
            register.add(ConnectionType("t", "T", {"bare": Bare()}))

    from app_connections.hostspec import hookimpl

    hookimpl(Plugin.register_auth_methods)
    hookimpl(Plugin.register_connection_types)
    registry = load_plugins(plugins=[("slugless", Plugin)], use_entry_points=False, env={})
    (failure,) = registry.failures
    assert failure.stage == "register" and "auth method with a slug" in failure.error
    assert list(registry.get("t").methods) == ["bare"]
    with pytest.raises(TypeError, match=r"register an instance of .*Bare, not the class"):
        ConnectionType("t", "T", {"bare": Bare})  # type: ignore[dict-item]  # the class, on purpose
