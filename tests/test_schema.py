"""Input schemas (checked with a JSON Schema validator) and parsing of every bad input."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.methods.oauth import OAuthCredentials

CT = build_connection_type()
CANARY = "canary-secret-in-schema-test"
GOOD = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": CANARY}


@pytest.mark.parametrize("method", ["oauth", "client-secret"])
def test_schemas_are_valid_draft_2020_12(method: str) -> None:
    schema = CT.methods[method].input_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    for name, prop in schema["properties"].items():
        assert prop["title"] and prop["description"], name


def test_client_secret_is_write_only_password() -> None:
    prop = CT.methods["client-secret"].input_schema()["properties"]["clientSecret"]
    assert prop["writeOnly"] is True and prop["format"] == "password"


VALID = [
    ("client-secret", GOOD),
    ("client-secret", {**GOOD, "tenantId": "contoso.onmicrosoft.com", "cloud": "usgov"}),
    ("oauth", {}),
    ("oauth", {"tenantId": fakes.FAKE_TENANT_ID}),
    ("oauth", {"tenantId": "contoso.com", "cloud": "china"}),
]
INVALID: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("client-secret", {}, {"tenantId": "is required", "clientId": "is required", "clientSecret": "is required"}),
    ("client-secret", {**GOOD, "tenantId": "not a tenant"}, {"tenantId": "verified domain"}),
    ("client-secret", {**GOOD, "tenantId": "localhost"}, {"tenantId": "verified domain"}),
    ("client-secret", {**GOOD, "clientId": "1234"}, {"clientId": "must be a GUID"}),
    ("client-secret", {**GOOD, "clientSecret": ""}, {"clientSecret": "non-empty"}),
    ("client-secret", {**GOOD, "clientSecret": "x" * 1025}, {"clientSecret": "longer than 1024"}),
    ("client-secret", {**GOOD, "clientSecret": 12}, {"clientSecret": "must be a string"}),
    ("client-secret", {**GOOD, "cloud": "mars"}, {"cloud": "must be one of"}),
    ("client-secret", {**GOOD, "tenantID": "x"}, {"tenantID": "did you mean 'tenantId'"}),
    ("oauth", {"tenantId": 7}, {"tenantId": "must be a string"}),
    ("oauth", {"tenantId": "a b"}, {"tenantId": "verified domain"}),
    ("oauth", {"clientSecret": "x"}, {"clientSecret": "is not a known field"}),
]


@pytest.mark.parametrize(("method", "data"), VALID)
def test_valid_inputs_parse_and_match_the_schema(method: str, data: dict[str, Any]) -> None:
    m = CT.methods[method]
    jsonschema.validate(data, m.input_schema())
    parsed = m.parse(data)
    assert parsed.method == method


@pytest.mark.parametrize(("method", "data", "expected"), INVALID)
def test_every_bad_field_is_named_with_its_fix(method: str, data: dict[str, Any], expected: dict[str, str]) -> None:
    m = CT.methods[method]
    with pytest.raises(InvalidInput) as err:
        m.parse(data)
    got = {e.field: e.message for e in err.value.errors}
    assert set(got) == set(expected)
    for field, words in expected.items():
        assert words in got[field]
    assert CANARY not in str(err.value)
    # The JSON Schema agrees that the input is invalid.
    assert list(jsonschema.Draft202012Validator(m.input_schema()).iter_errors(data))


def test_secret_with_surrounding_whitespace_is_rejected_without_echo() -> None:
    with pytest.raises(InvalidInput) as err:
        CT.methods["client-secret"].parse({**GOOD, "clientSecret": f" {CANARY}\n"})
    assert "whitespace" in str(err.value) and CANARY not in str(err.value)


def test_non_mapping_input() -> None:
    with pytest.raises(InvalidInput):
        CT.methods["oauth"].parse(["tenantId"])  # type: ignore[arg-type]  # a list on purpose: parse() must refuse it


def test_credentials_hide_secrets_and_round_trip() -> None:
    cs = CT.methods["client-secret"].parse(GOOD)
    assert isinstance(cs, ClientSecretCredentials)
    assert CANARY not in repr(cs) and CANARY not in str(cs)
    assert CT.load(cs.to_dict()) == cs
    oc = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "rt-" + CANARY, "at-" + CANARY, 123)
    assert CANARY not in repr(oc) and CANARY not in str(oc)
    assert CT.load(oc.to_dict()) == oc


def test_load_rejects_unknown_method() -> None:
    with pytest.raises(InvalidInput, match="method"):
        CT.load({"method": "password"})
