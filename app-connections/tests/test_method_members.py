"""The optional members of ``AuthMethod`` are declared with defaults (contract 2.2): a type holds
every method so that they can be called directly, whether its class inherits ``AuthMethod`` or not."""

from __future__ import annotations

from typing import Any

import pytest

from app_connections.errors import InvalidInput
from app_connections.hostspec import CONTRACT_VERSION
from app_connections.records import OPTIONAL_MEMBERS, AuthMethod, ConnectionType, LegacyAuthMethod


class Record:
    def __init__(self, token: str, method: str = "bare") -> None:
        self.token, self.method = token, method

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and other.to_dict() == self.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "token": self.token}


class Bare:
    """Only the required members, and no base class (a method written against contract 2.0)."""

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


def test_the_contract_is_2_2() -> None:
    assert CONTRACT_VERSION == "2.2"


def test_a_method_with_only_the_required_members_gets_every_default() -> None:
    ctype = ConnectionType("t", "T", {"bare": Bare()}, client_factory=factory)  # type: ignore[dict-item]  # no base class, on purpose
    method = ctype.method("bare")
    assert isinstance(method, LegacyAuthMethod) and isinstance(method, AuthMethod)
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


def test_a_legacy_method_keeps_its_own_optional_members() -> None:
    class Declares(Bare):
        slug = "declares"
        interactive = True
        ambient_identity = "always"

        def load(self, stored: Any) -> Record:
            return Record("loaded " + stored["token"])

    adapted = LegacyAuthMethod(Declares())
    assert adapted.interactive and adapted.ambient_identity == "always" and adapted.path_fields == ()
    assert adapted.load({"method": "declares", "token": "t"}) == Record("loaded t")


def test_the_default_load_of_an_interactive_method_says_it_cannot_restore() -> None:
    class SignsIn(Bare):
        slug = "signs-in"
        interactive = True

    ctype = ConnectionType("t", "T", {"signs-in": SignsIn()})  # type: ignore[dict-item]  # no base class, on purpose
    with pytest.raises(InvalidInput, match="cannot load stored credentials"):
        ctype.load({"method": "signs-in", "token": "x"})


def test_every_optional_member_has_a_default_on_the_protocol() -> None:
    for member in OPTIONAL_MEMBERS:
        assert member in vars(AuthMethod), member
