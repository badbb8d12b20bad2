"""The test kit (app_connections.testing) at its edges: declared rules that are not usable, patterns whose
secret part is empty, bodies that are neither JSON objects nor forms, secret fields holding lists and objects, the
conformance check on a bare connection type, fake ID tokens with a nonce, and a wheel that is not installed."""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app_connections.testing import fakes, wheels
from app_connections.testing.conformance import check_plugin
from app_connections.testing.rules import RuleTable, SecretRules, ValueRule, literal_forms, url_queries
from app_connections.testing.sanitize import Sanitizer
from app_connections.testing.secret_scan import scan_cassette, scan_text
from app_connections.tokens import jwt_claims


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# A JWT as Azure issues them: signed (RS256), so not one of our unsigned fakes.
REAL_LOOKING_JWT = ".".join(
    [
        _b64({"typ": "JWT", "alg": "RS256", "kid": "k1"}),
        _b64({"aud": "https://azconfig.io", "tid": fakes.FAKE_TENANT_ID, "exp": 1767229200, "oid": "someone"}),
        "c2lnbmF0dXJlLWJ5dGVz",
    ]
)


def _response(body: bytes, content_type: str) -> dict[str, Any]:
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": [content_type], "Content-Length": [str(len(body))]},
        "body": {"string": body},
    }


# --- rules -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["---", "  ", "_"])
def test_a_declared_header_or_field_without_letters_or_digits_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a header or field name"):
        SecretRules(headers=(name,))
    with pytest.raises(ValueError, match="is not a header or field name"):
        SecretRules(fields=(name,))


def test_declarations_add_only_to_declarations() -> None:
    both = SecretRules(headers=("X-Contoso-Key",)) + SecretRules(fields=("contosoToken",))
    assert (both.headers, both.fields) == (("X-Contoso-Key",), ("contosoToken",))
    with pytest.raises(TypeError):
        SecretRules() + ("X-Other-Key",)  # type: ignore[operator]  # a tuple on purpose: + must refuse it


def test_a_declared_pattern_whose_secret_part_is_empty_finds_nothing_there() -> None:
    rules = SecretRules(value_patterns=(r"contoso_key=(?P<secret>[A-Za-z0-9]*)",))
    findings = list(scan_text("contoso_key= nothing here\ncontoso_key=Zx81kq0\n", rules=rules))
    assert [(f.where, f.rule) for f in findings] == [
        ("line 2", r"declared pattern contoso_key=(?P<secret>[A-Za-z0-9]*)")
    ]
    assert Sanitizer(rules=rules).scrub_text("contoso_key= and contoso_key=Zx81kq0") == (
        "contoso_key= and contoso_key=REDACTED"
    )


def test_a_value_rule_yields_only_non_empty_secret_parts() -> None:
    rule = ValueRule("contoso-key", r"contoso_key=(?P<secret>[A-Za-z0-9]*)", "contoso keys")
    text = "contoso_key= and contoso_key=Zx81kq0"
    assert list(rule.finditer(text)) == [(text.index("Zx81"), len(text), "Zx81kq0")]


def test_a_url_with_an_empty_query_has_no_query_to_scrub() -> None:
    text = "see https://h.example/a? then https://h.example/b?code=1&x=2"
    assert [q for _, _, q in url_queries(text)] == ["code=1&x=2"]


def test_a_literal_too_short_for_its_base64_forms_is_matched_only_as_itself() -> None:
    assert literal_forms("ab") == ("ab",)
    long_forms = literal_forms("canary-literal")
    assert "canary-literal" in long_forms and "Y2FuYXJ5LWxpdGVyYW" in long_forms  # base64 at offset 0


def test_the_table_names_the_environment_variables_it_treats_as_secret() -> None:
    env = {"AZURE_CLIENT_SECRET": "Qx8~realish-secret-value", "HOME": "/root", "MY_API_TOKEN": "tok-7Hq2-real-value"}
    table = RuleTable.build(env=env)
    assert table.env_secret_names(env) == ["AZURE_CLIENT_SECRET", "MY_API_TOKEN"]
    assert table.env_secret_names({"MY_API_TOKEN": "x"}) == ["MY_API_TOKEN"]
    assert table.env_secret_names({}) == []


# --- sanitizer -------------------------------------------------------------------------------------


def test_an_empty_replacement_key_is_ignored() -> None:
    sanitizer = Sanitizer(replacements={"": "X", "contoso-real": "fake-tenant"})
    assert sanitizer.scrub_text("tenant contoso-real here") == "tenant fake-tenant here"


def test_query_pairs_without_a_value_are_kept_byte_for_byte() -> None:
    sanitizer = Sanitizer()
    request_uri = (
        "https://h.example/cb?flag&empty=&next=https%3A%2F%2Fh.example%2F%3Faccess_token%3Dreal-token-1&code=c0de"
    )
    out = sanitizer._uri(request_uri)
    assert out.startswith("https://h.example/cb?flag&empty=&next=")
    assert "real-token-1" not in out and "c0de" not in out


def test_a_json_list_body_is_walked_for_secret_fields() -> None:
    body = json.dumps([{"refresh_token": "real-refresh-token-9k"}, {"keep": "me"}]).encode()
    out = Sanitizer().response(_response(body, "application/json"))
    data = json.loads(out["body"]["string"])
    assert data == [{"refresh_token": "fake-refresh-token-1"}, {"keep": "me"}]


def test_the_same_signed_jwt_gets_the_same_fake_everywhere() -> None:
    sanitizer = Sanitizer()
    body = json.dumps({"seen": [f"upstream {REAL_LOOKING_JWT}", REAL_LOOKING_JWT]}).encode()
    data = json.loads(sanitizer.response(_response(body, "application/json"))["body"]["string"])
    first, second = data["seen"][0].removeprefix("upstream "), data["seen"][1]
    assert first == second != REAL_LOOKING_JWT
    assert jwt_claims(first)["aud"] == "https://azconfig.io" and "oid" not in jwt_claims(first)
    assert sanitizer.scrub_text(f"later: {REAL_LOOKING_JWT}") == f"later: {first}"


def test_a_plain_text_body_is_scrubbed_too() -> None:
    body = f"upstream said: token {REAL_LOOKING_JWT} was refused".encode()
    out = Sanitizer().response(_response(body, "text/plain"))
    text = out["body"]["string"].decode()
    assert REAL_LOOKING_JWT not in text and text.startswith("upstream said: token eyJ")
    assert out["headers"]["Content-Length"] == [str(len(out["body"]["string"]))]


# --- secret scan -----------------------------------------------------------------------------------


def test_a_secret_named_yaml_key_with_an_empty_value_is_not_a_finding() -> None:
    assert list(scan_text("client_secret: ''\nrefresh_token: []\n")) == []
    [finding] = scan_text("client_secret: 'Zq8~not-a-fake-value'\n")
    assert finding.where == "line 1 header client_secret"


def test_a_table_that_does_not_count_the_empty_string_as_fake_still_reports_no_empty_secret() -> None:
    strict = RuleTable(fakes=frozenset())  # a hand-built table: "" is not among its fakes
    assert list(scan_text("client_secret: ''\n", rules=strict)) == []
    body = json.dumps({"client_secret": "", "access_token": None, "refresh_token": ["", "real-refresh-5e6f"]})
    cassette = {
        "interactions": [
            {
                "request": {"uri": "https://h.example/x", "method": "GET", "body": None, "headers": {}},
                "response": {"status": {"code": 200}, "headers": {}, "body": {"string": body}},
            }
        ]
    }
    assert [f.where for f in scan_cassette(cassette, rules=strict)] == ["response body $.refresh_token"]


def test_secret_fields_holding_lists_and_objects_are_scanned_leaf_by_leaf() -> None:
    body = json.dumps(
        {"refresh_token": ["real-refresh-1a2b", ""], "client_secret": {"primary": "real-secret-3c4d", "note": ""}}
    )
    cassette = {
        "interactions": [
            {
                "request": {"uri": "https://h.example/x", "method": "GET", "body": None, "headers": {}},
                "response": {"status": {"code": 200}, "headers": {}, "body": {"string": body}},
            }
        ]
    }
    findings = scan_cassette(cassette)
    assert sorted(f.where for f in findings) == [
        "response body $.client_secret",
        "response body $.refresh_token",
    ]
    assert all(f.excerpt.startswith("real") for f in findings)


# --- conformance, fakes, wheels --------------------------------------------------------------------


def _module(name: str, source: str) -> ModuleType:
    mod = ModuleType(name)
    exec(textwrap.dedent(source), mod.__dict__)
    return mod


def test_conformance_names_a_type_with_no_methods_and_no_name() -> None:
    bare = _module(
        "bare_type_plugin",
        """
        from app_connections.hostspec import hookimpl
        from app_connections.records import ConnectionType

        APP_CONNECTIONS_CONTRACT = "3.0"

        @hookimpl
        def register_connection_types(register):
            register.add(ConnectionType(slug="bare-store", name="", methods={}))
        """,
    )
    problems = check_plugin(("bare", bare), "bare-store", valid={})
    assert "'bare-store' has no auth methods" in problems
    assert "'bare-store' has no name" in problems


def test_a_fake_id_token_carries_the_nonce_only_when_given() -> None:
    assert jwt_claims(fakes.fake_id_token(nonce="n-0452"))["nonce"] == "n-0452"
    assert "nonce" not in jwt_claims(fakes.fake_id_token())


def test_finding_a_distribution_that_is_not_installed_names_the_site(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match=f"no-such-dist is not installed under {tmp_path}"):
        wheels.find(tmp_path, "no-such-dist")
