"""Field declarations and declared auth methods at their edges (fields.py, methods/*): what a
plugin author can declare, and what a host calling a method directly (not through its
ConnectionType) gets for the wrong input."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import pytest

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import Field, OneOf, object_schema, parse_fields
from app_connections.records import ConnectionType, InstanceSetting
from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from azure_appconfig_plugin.methods.settings_needs import settings_needs_text

SECRET = "canary-direct-call-secret"


def errors(exc: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in exc.value.errors]


def client_secret_record() -> Any:
    return ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, SECRET)


# --- fields ---------------------------------------------------------------------------------------------


def test_an_unsupported_field_type_is_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="field 'ratio': unsupported type 'number'"):
        Field("ratio", type="number", title="Ratio", description="a float")


@pytest.mark.parametrize(("kind", "encoding"), [("string", "hex"), ("integer", "base64")])
def test_only_base64_text_may_declare_an_encoding(kind: str, encoding: str) -> None:
    with pytest.raises(ValueError, match="field 'blob': encoding must be None or 'base64' \\(string fields only\\)"):
        Field("blob", type=kind, title="Blob", description="bytes", encoding=encoding)


PORT = Field("port", type="integer", title="Port", description="TCP port.", minimum=1, maximum=65535)


def test_an_integral_float_is_an_integer_and_a_fraction_is_not() -> None:
    schema = object_schema([PORT], title="t", description="d")
    assert jsonschema.Draft202012Validator(schema).is_valid({"port": 443.0})
    assert parse_fields([PORT], {"port": 443.0}) == {"port": 443}
    assert not jsonschema.Draft202012Validator(schema).is_valid({"port": 443.5})
    with pytest.raises(InvalidInput) as exc:
        parse_fields([PORT], {"port": 443.5})
    assert errors(exc) == [("port", "must be an integer")]


@pytest.mark.parametrize(("value", "problem"), [(65536, "must be at most 65535"), (0, "must be at least 1")])
def test_integer_limits_are_in_the_schema_and_the_parser(value: int, problem: str) -> None:
    schema = object_schema([PORT], title="t", description="d")
    assert schema["properties"]["port"]["maximum"] == 65535
    assert not jsonschema.Draft202012Validator(schema).is_valid({"port": value})
    with pytest.raises(InvalidInput) as exc:
        parse_fields([PORT], {"port": value})
    assert errors(exc) == [("port", problem)]
    assert parse_fields([PORT], {"port": 65535.0}) == {"port": 65535}


def test_a_schema_without_an_id_has_no_id() -> None:
    schema = object_schema([PORT], title="t", description="d")
    assert "$id" not in schema and schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert object_schema([PORT], title="t", description="d", schema_id="urn:x")["$id"] == "urn:x"


KEY = Field("key", title="Key", description="k")
CERT = Field("cert", title="Cert", description="c")
BUNDLE = Field("bundle", title="Bundle", description="b")
TOKEN = Field("token", title="Token", description="t")
FILE = Field("file", title="File", description="f")
TWO_CHOICES = (OneOf(("key", "cert"), ("bundle",)), OneOf(("token",), ("file",), optional=True))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"bundle": "b"}, None),
        ({"key": "k", "cert": "c", "token": "t"}, None),
        ({"key": "k"}, ("cert", "is required with key")),
        (
            {"bundle": "b", "token": "t", "file": "f"},
            ("file", "cannot be combined with token: give token, or file, not both"),
        ),
        ({}, ("key", "is required: give key and cert, or bundle")),
    ],
)
def test_several_choices_are_all_in_the_schema_and_the_parser(data: dict[str, str], problem: Any) -> None:
    fields = (KEY, CERT, BUNDLE, TOKEN, FILE)
    schema = object_schema(fields, title="t", description="d", choices=TWO_CHOICES)
    assert "oneOf" not in schema and [list(c) for c in schema["allOf"]] == [["oneOf"], ["oneOf"]]
    assert jsonschema.Draft202012Validator(schema).is_valid(data) is (problem is None)
    if problem is None:
        assert parse_fields(fields, data, choices=TWO_CHOICES) == data
    else:
        with pytest.raises(InvalidInput) as exc:
            parse_fields(fields, data, choices=TWO_CHOICES)
        assert errors(exc) == [problem]


def test_a_blank_optional_stripped_field_takes_its_default() -> None:
    region = Field("region", title="Region", description="r", strip=True, default="west")
    assert parse_fields([region], {"region": " \t\n"}) == {"region": "west"}
    assert parse_fields([region], {"region": " east "}) == {"region": "east"}
    assert parse_fields([Field("note", title="N", description="n", strip=True)], {"note": "  "}) == {}


# --- a plugin's declared method ------------------------------------------------------------------------


class PinnedPair(DeclaredAuthMethod):
    """A plugin's method whose stored credentials declare their own choice."""

    slug = "pinned-pair"
    name = "Pinned pair"
    connection_type = "example"
    input_fields = (KEY, CERT, BUNDLE)
    input_choices = (OneOf(("key", "cert"), ("bundle",)),)
    stored_fields = (KEY, CERT, BUNDLE)
    stored_choices = (OneOf(("bundle",)),)  # stored: always the bundle

    def credentials_from(self, values: dict[str, Any]) -> Any:
        return values


def test_declared_stored_choices_are_the_stored_schema_s_and_load_s() -> None:
    method = PinnedPair()
    assert repr(method) == "PinnedPair()"
    assert (
        method.stored_schema()["oneOf"]
        == object_schema(method.stored_fields, title="t", description="d", choices=method.stored_choices)["oneOf"]
    )
    assert method.parse({"key": "k", "cert": "c"}) == {"key": "k", "cert": "c"}  # the input's choice
    with pytest.raises(InvalidInput) as exc:
        method.load({"method": "pinned-pair", "key": "k", "cert": "c"})  # not the stored choice
    assert errors(exc)[0][0] in ("key", "bundle")
    assert method.load({"method": "pinned-pair", "bundle": "b"}) == {"bundle": "b"}


# --- a host calling a built-in method directly --------------------------------------------------------


def test_a_method_s_load_refuses_what_is_not_its_stored_credentials() -> None:
    method = build_connection_type().methods["client-secret"]
    with pytest.raises(InvalidInput) as exc:
        method.load([("method", "client-secret")])  # type: ignore[arg-type]  # a list on purpose: load() must refuse it
    assert errors(exc) == [("(credentials)", "must be an object: the output of credentials.to_dict()")]
    with pytest.raises(InvalidInput) as exc:
        method.load({"method": "oauth", "tenantId": fakes.FAKE_TENANT_ID})
    assert errors(exc) == [("method", "is 'oauth'; these are not client-secret credentials")]


def test_a_method_s_token_credential_refuses_another_method_s_record() -> None:
    ctype = build_connection_type()
    oauth_record = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1")
    with pytest.raises(InvalidInput) as exc:
        ctype.methods["client-secret"].token_credential(oauth_record)
    assert errors(exc) == [
        ("credentials", "client-secret needs ClientSecretCredentials (from parse() or load()), not OAuthCredentials")
    ]
    with pytest.raises(InvalidInput) as exc:
        ctype.methods["oauth"].token_credential(client_secret_record())
    assert errors(exc) == [
        (
            "credentials",
            "oauth needs the OAuthCredentials returned by complete() or load(), not ClientSecretCredentials",
        )
    ]
    assert SECRET not in str(exc.value)


def test_oauth_begin_and_complete_refuse_the_wrong_shapes_before_any_request(fake_instance_settings: Any) -> None:
    ctype = build_connection_type()
    with pytest.raises(InvalidInput) as exc:
        ctype.methods["oauth"].begin(client_secret_record())
    assert errors(exc) == [
        ("input", "begin() needs the OAuthInput that parse('oauth', form) returns, not ClientSecretCredentials")
    ]
    with pytest.raises(InvalidInput) as exc:
        ctype.complete("oauth", "code=abc&state=xyz")  # type: ignore[arg-type]  # a string on purpose: complete() must refuse it
    assert errors(exc) == [("params", "complete() needs the callback's query parameters as a mapping")]


# --- doctor's sentence ------------------------------------------------------------------------------------


def test_the_doctor_sentence_when_every_method_needs_the_settings() -> None:
    ctype = build_connection_type()
    only_oauth = ConnectionType(
        ctype.slug, ctype.name, methods={"oauth": ctype.methods["oauth"]}, settings=ctype.settings
    )
    assert settings_needs_text(only_oauth) == "Every Azure App Configuration auth method needs these settings (oauth)."
    both = ConnectionType(
        ctype.slug,
        ctype.name,
        methods={m: ctype.methods[m] for m in ("oauth", "certificate")},
        settings=(*ctype.settings, InstanceSetting("CERTS", "Certs", "where", required_by=("certificate",))),
    )
    assert settings_needs_text(both) == (
        "Every Azure App Configuration auth method needs these settings (oauth and certificate)."
    )


class HostileMapping(Mapping[str, Any]):
    """A mapping a host's web framework could hand over, whose iteration fails."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("stream already consumed")

    def __len__(self) -> int:
        return 1


def test_a_mapping_that_cannot_be_iterated_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as exc:
        build_connection_type().parse("client-secret", HostileMapping())
    assert errors(exc) == [("(input)", "must be an object (a JSON object of fields)")]


@pytest.mark.parametrize(
    ("method", "said"),
    [
        ("certificate", "the service principal of app ?"),
        ("client-secret", "the service principal of app ?"),
        ("workload-identity", "the identity of app ? (workload identity federation)"),
        ("managed-identity", "the managed identity"),
        ("oauth", "the user who signed in (tenant ?)"),
        ("access-key", "the access key ?"),
    ],
)
def test_a_method_names_no_one_for_a_record_that_is_not_its_own(method: str, said: str) -> None:
    """A host calling ``principal`` with another kind of record gets a placeholder, not another
    method's fields read as its own (nor an error)."""

    class Foreign:
        method = "foreign"
        client_id = tenant_id = id = "not-read"

    assert build_connection_type().methods[method].principal(Foreign()) == said
