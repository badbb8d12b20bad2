"""Property test of the field declarations: for every method (built-in and the example extension),
form input and stored credentials, the derived JSON Schema and the derived parser agree.

- ``parse`` raises nothing but ``InvalidInput``;
- parse succeeds  =>  the input is schema-valid;
- schema-valid and parse fails  =>  every error is one of the declared non-schema rules
  (lone surrogates, a method's own ``Rule``s), i.e. schema-valid and rules hold <=> parse succeeds.

Each method and form gets the Hypothesis profile's inputs (tests/hypothesis_profiles.py) plus explicit
examples chosen from the declared good values: at least ``EXPLICIT_EACH`` that parse and as many that do
not, so both sides of the equivalence are exercised whatever the profile's budget.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app_connections.fields import TEXT_RULE, CrossRule, Field
from app_connections.paths import PATH_REFUSED
from app_connections.policy import HostPolicy
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.errors import InvalidInput

sys.path.insert(0, str(Path(__file__).parent / "example_extension"))
import appconfig_policy_example as example

import certs
from hypothesis_profiles import examples, profile_settings

HOST_ENV = {  # the host's workload-identity defaults, which the schemas name for fields left out
    "AZURE_TENANT_ID": "11111111-1111-1111-1111-111111111111",
    "AZURE_CLIENT_ID": "22222222-2222-2222-2222-222222222222",
    "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token",
}
CT = build_connection_type().with_policy(HostPolicy.operator(HOST_ENV))  # an operator's host: its identity and disk
EXPLICIT_EACH = 10

GOOD_STRINGS = [
    "11111111-1111-1111-1111-111111111111",
    "contoso.onmicrosoft.com",
    "contoso.com",
    "public",
    "usgov",
    "china",
    "s3cret~Value",
    "a",
    "fake-refresh-token-1",
    "x.y",
]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
TEXT = st.one_of(
    st.sampled_from(GOOD_STRINGS),
    st.tuples(
        st.sampled_from(["", " ", "\t", "\n", " \r\n"]),
        st.sampled_from(GOOD_STRINGS),
        st.sampled_from(["", " ", "\n", "\t "]),
    ).map(lambda t: "".join(t)),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3).map(
        lambda s: "ok" + s
    ),
    st.just("x" * 1100),
)
FIELD_GOODS: dict[str, list[Any]] = {
    # Values no generic string can stand in for (key material generated at test time).
    "privateKey": [certs.key_pem()],
    "certificate": [certs.cert_pem()],
    "pkcs12": [certs.pkcs12_b64()],
    "connectionString": [
        "Endpoint=https://contoso.azconfig.io;Id=id-1;Secret=c2VjcmV0",
        "Id=a;Secret=YQ==;Endpoint=https://x.y/ ",
    ],
    "endpoint": ["https://contoso.azconfig.io", " https://contoso.azconfig.io/"],
    "secret": ["c2VjcmV0", "YQ=="],
    "resourceId": ["/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"],
    "tokenFilePath": ["/var/run/secrets/azure/tokens/azure-identity-token", " C:\\tokens\\token "],
}
NUMBERS = st.one_of(st.integers(-5, 5), st.integers(1_700_000_000, 4_000_000_000), st.floats(-1e10, 5e9), st.just(3.0))


def _goods(field: Field) -> list[Any]:
    if field.name in FIELD_GOODS:
        return FIELD_GOODS[field.name]
    if field.type == "boolean":
        return [True, False]
    return [g for g in (*GOOD_STRINGS, 3_999_999_999, 0) if field.problem(g)[0] is None]


def value_for(field: Field) -> st.SearchStrategy[Any]:
    typed = TEXT if field.type == "string" else NUMBERS
    if field.enum:
        typed = st.one_of(st.sampled_from(list(field.enum)), typed)
    goods = _goods(field)  # bias towards valid values
    good = st.sampled_from(goods) if goods else typed
    return st.one_of(good, good, good, good, good, good, typed, JUNK)


def good_for(field: Field) -> st.SearchStrategy[Any]:
    return st.sampled_from(_goods(field))


def inputs(fields: tuple[Field, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries(
            {f.name: good_for(f) for f in fields if f.required},
            optional={f.name: good_for(f) for f in fields if not f.required},
        ),
        mixed_inputs(fields),
    )


def mixed_inputs(fields: tuple[Field, ...]) -> st.SearchStrategy[dict[str, Any]]:
    required = {f.name: value_for(f) for f in fields if f.required}
    optional = {f.name: value_for(f) for f in fields if not f.required}
    known = st.tuples(
        st.fixed_dictionaries(required, optional=optional),
        st.sets(st.sampled_from([f.name for f in fields]), max_size=1),
        st.booleans(),
    ).map(lambda t: {k: v for k, v in t[0].items() if t[2] or k not in t[1]})
    extra = st.dictionaries(
        st.sampled_from(["tenantID", "method2", "secret", "\ud800"]), st.text(max_size=3), max_size=1
    )
    return st.tuples(known, st.one_of(st.just({}), st.just({}), extra)).map(lambda t: {**t[0], **t[1]})


def candidate_inputs(fields: tuple[Field, ...]) -> Iterator[dict[str, Any]]:
    """Inputs built from the declared good values: every required field with each subset of the optional
    ones (smallest first), the good values rotated turn by turn; each also with one field left out and
    with one field a list (no field takes one)."""
    required = [f for f in fields if f.required]
    optional = [f for f in fields if not f.required]
    subsets = [c for n in range(len(optional) + 1) for c in itertools.combinations(optional, n)]
    for turn in range(EXPLICIT_EACH):
        for index, subset in enumerate(subsets):
            data = {}
            for position, f in enumerate((*required, *subset)):
                goods = _goods(f)
                if goods:
                    data[f.name] = goods[(turn * (position + 1) + index) % len(goods)]
            yield data
            if data:
                names = list(data)
                left_out = names[(turn + index) % len(names)]
                yield {k: v for k, v in data.items() if k != left_out}
                yield {**data, left_out: []}


def explicit_inputs(fields: tuple[Field, ...], parse: Callable[[dict[str, Any]], Any]) -> list[dict[str, Any]]:
    """``EXPLICIT_EACH`` distinct candidate inputs that parse and as many that do not (fewer if there are none)."""
    kept: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
    for data in candidate_inputs(fields):
        try:
            parse(data)
            parses = True
        except InvalidInput:
            parses = False
        if data not in kept[parses] and len(kept[parses]) < EXPLICIT_EACH:
            kept[parses].append(data)
        if len(kept[True]) == len(kept[False]) == EXPLICIT_EACH:
            break
    return kept[True] + kept[False]


def rule_messages(fields: tuple[Field, ...], cross_rules: tuple[Any, ...] = ()) -> set[str]:
    return (
        {TEXT_RULE.message}
        | {r.message for f in fields for r in f.rules}
        | {m for r in cross_rules for m in r.messages}
    )


def declared(message: str, allowed: set[str]) -> bool:
    """A declared rule's message, possibly followed by a detail in parentheses."""
    return message in allowed or any(message.startswith(a + " (") for a in allowed)


OPERATOR = HostPolicy.operator()
POLICY_RULE = CrossRule(lambda values: None, (PATH_REFUSED,))
"""The host policy is a rule beyond the schema for path-like fields (on POSIX, ``C:\\x`` is not a path it allows)."""
CASES: list[tuple[str, tuple[Field, ...], dict[str, Any], Callable[[dict[str, Any]], Any], tuple[Any, ...]]] = []
for _method in [*CT.methods.values(), example.StaticTokenMethod()]:
    _policy_rules = (POLICY_RULE,) if _method.path_fields else ()
    CASES.append(
        (
            f"{_method.slug} form",
            _method.input_fields,
            _method.input_schema(),
            lambda data, _m=_method: _m.parse(data, policy=OPERATOR),
            (*getattr(_method, "input_rules", ()), *_policy_rules),
        )
    )
    if _method.stored_fields is not None:
        _m = _method
        CASES.append(
            (
                f"{_method.slug} stored",
                _m.stored_fields,
                _m.stored_schema(),
                lambda data, _m=_m: _m.load({"method": _m.slug, **data}, policy=OPERATOR),
                (*_m._stored_rules(), *_policy_rules),
            )
        )


@pytest.mark.parametrize(
    ("fields", "schema", "parse", "cross_rules"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_schema_valid_iff_parse_succeeds(
    fields: tuple[Field, ...], schema: dict[str, Any], parse: Callable[..., Any], cross_rules: tuple[Any, ...]
) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    allowed_rules = rule_messages(fields, cross_rules)
    stored = "method" in schema["properties"]
    seen = {"valid": 0, "invalid": 0}

    @profile_settings()
    @given(inputs(fields))
    def check(data: dict[str, Any]) -> None:
        document = {"method": schema["properties"]["method"]["const"], **data} if stored else data
        schema_ok = validator.is_valid(document)
        try:
            parse(data)
        except InvalidInput as exc:
            assert exc.errors, "InvalidInput must name the fields"
            if schema_ok:
                assert all(declared(e.message, allowed_rules) for e in exc.errors), (data, exc.errors)
            seen["invalid"] += 1
        else:
            assert schema_ok, f"parse accepted what the schema rejects: {data!r}"
            seen["valid"] += 1

    explicit = explicit_inputs(fields, parse)
    for data in explicit:
        check = hypothesis.example(data)(check)
    check()
    assert seen["valid"] >= EXPLICIT_EACH and seen["invalid"] >= EXPLICIT_EACH, seen  # both sides exercised
    assert seen["valid"] + seen["invalid"] >= examples() + len(explicit)


@pytest.mark.parametrize("value", [["public"], {"cloud": "public"}, 1, True])
def test_cloud_of_the_wrong_type_is_invalid_input(value: Any) -> None:
    data = {
        "tenantId": "contoso.com",
        "clientId": "11111111-1111-1111-1111-111111111111",
        "clientSecret": "s",
        "cloud": value,
    }
    with pytest.raises(InvalidInput) as err:
        CT.parse("client-secret", data)
    assert [e.field for e in err.value.errors] == ["cloud"]


@pytest.mark.parametrize("field", ["tenantId", "clientId", "clientSecret"])
def test_lone_surrogates_are_invalid_input_naming_the_field(field: str) -> None:
    data = {"tenantId": "contoso.com", "clientId": "11111111-1111-1111-1111-111111111111", "clientSecret": "s"}
    data[field] = "abc\udc80"
    with pytest.raises(InvalidInput) as err:
        CT.parse("client-secret", data)
    assert [e.field for e in err.value.errors] == [field]
    assert "surrogate" in err.value.errors[0].message or field != "clientSecret"


@pytest.mark.parametrize(
    ("method", "data"),
    [
        (
            "client-secret",
            {"tenantId": " contoso.com ", "clientId": "11111111-1111-1111-1111-111111111111", "clientSecret": "s"},
        ),
        (
            "client-secret",
            {"tenantId": "contoso.com", "clientId": "11111111-1111-1111-1111-111111111111", "clientSecret": " s3cret"},
        ),
        ("oauth", {"tenantId": ""}),
    ],
)
def test_the_issue_s_disagreements_now_agree(method: str, data: dict[str, Any]) -> None:
    schema_ok = jsonschema.Draft202012Validator(CT.methods[method].input_schema()).is_valid(data)
    try:
        CT.parse(method, data)
        parsed = True
    except InvalidInput:
        parsed = False
    assert schema_ok == parsed
