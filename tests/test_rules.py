"""The one rule table: what it names as secret, what it declares public, what plugins add."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from vcr.request import Request

from app_connections.testing.rules import (
    FIELD_PLACES,
    HEADER,
    JSON,
    NAME_RULES,
    PLACES,
    RuleTable,
    SecretRules,
    literal_forms,
    normalize,
)
from app_connections.testing.sanitize import Sanitizer
from app_connections.testing.secret_scan import scan_cassette

CASSETTES = Path(__file__).parent / "cassettes"
TABLE = RuleTable.build()


@pytest.mark.parametrize("rule", NAME_RULES, ids=lambda r: r.id)
def test_each_name_rule_matches_its_examples_in_every_case_style(rule: Any) -> None:
    assert rule.examples
    for example in rule.examples:
        for style in (example, example.upper(), example.replace("-", "_"), example.title().replace("_", "")):
            for place in rule.places:
                found = TABLE.name_rule(style, place)
                assert found is not None and found.id == rule.id, (rule.id, style, place, found)


@pytest.mark.parametrize(
    "name",
    [
        "token_type",
        "token_endpoint",
        "authorization_endpoint",
        "Sync-Token",
        "id_token_signing_alg_values_supported",
        "Access-Control-Allow-Credentials",
        "key",
        "value",
        "label",
        "client_id",
        "grant_type",
        "scope",
        "expires_in",
        "code_challenge",
    ],
)
def test_public_names_are_not_secret(name: str) -> None:
    assert all(TABLE.name_rule(name, place) is None for place in PLACES), name


def test_a_declared_name_wins_over_the_public_suffixes() -> None:
    table = RuleTable.build(SecretRules(headers=["X-Upload-Url"], fields=["signedUrl"]))
    assert table.name_rule("x-upload-url", HEADER).id == "declared header X-Upload-Url"
    assert table.name_rule("signed_url", JSON).id == "declared field signedUrl"
    assert table.name_rule("x-upload-url", JSON).id == "declared header X-Upload-Url"  # an echoed header
    assert table.name_rule("signed_url", HEADER) is None  # a declared field is not a header


def test_declarations_are_checked_and_combine() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        SecretRules(values=["ab"])
    with pytest.raises(ValueError, match="empty string"):
        SecretRules(value_patterns=[r"x*"])
    with pytest.raises(ValueError, match="not a regular expression"):
        SecretRules(value_patterns=["("])
    both = SecretRules(headers="X-A") + SecretRules(fields=["b"], fakes=["not-real-b"])
    assert both == SecretRules(headers=("X-A",), fields=("b",), fakes=("not-real-b",))
    assert "hunter" not in repr(SecretRules(values=["hunter2hunter2"]))


def test_secret_environment_variables_become_literals() -> None:
    env = {
        "AZURE_CLIENT_SECRET": "Zq8~realSecretValue",
        "GITHUB_TOKEN": "ghp_realtokenvalue",
        "MY_PLUGIN_KEY": "abcd1234",
        "SHORT_TOKEN": "1",
        "FAKE_SECRET": "fake-client-secret",
        "PWD": "/home/someone/project",
        "PATH": "/usr/bin:/bin",
    }
    table = RuleTable.build(SecretRules(env_vars=["MY_PLUGIN_KEY"]), env=env)
    assert sorted(table.literals) == [
        ("env AZURE_CLIENT_SECRET", "Zq8~realSecretValue"),
        ("env GITHUB_TOKEN", "ghp_realtokenvalue"),
        ("env MY_PLUGIN_KEY", "abcd1234"),
    ]


@pytest.mark.parametrize("prefix", [b"", b"u", b"us", b"user:"])
def test_literals_are_found_encoded(prefix: bytes) -> None:
    secret = "CANARY-literal-42"
    table = RuleTable.build(SecretRules(values=[secret]))
    for text in (
        base64.b64encode(prefix + secret.encode()).decode(),
        "x=CANARY-literal-42%21".replace("%21", ""),
        base64.urlsafe_b64encode(prefix + secret.encode() + b"\xff\xfe").decode(),
    ):
        assert list(table.literal_matches(text)), text
    assert any("%" not in f and f != secret for f in literal_forms(secret))


def test_normalize() -> None:
    assert normalize("access_token") == normalize("accessToken") == normalize("Access-Token") == "accesstoken"


def _interactions() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        for item in yaml.load(path.read_text(), Loader=yaml.CSafeLoader)["interactions"]:
            out.append((path.name, item))
    return out


def test_sanitizing_our_cassettes_changes_nothing_a_client_reads() -> None:
    """The default rules have no false positives on real traffic shapes: discovery documents,
    token responses with fakes, App Configuration pages, Sync-Token, CORS headers."""
    sanitizer = Sanitizer()
    for name, item in _interactions():
        response = item["response"]
        out = sanitizer.response(json.loads(json.dumps(response)))
        kept = {k: v for k, v in response["headers"].items() if k.lower() not in ("set-cookie", "x-ms-ests-server")}
        body, new = response["body"]["string"], out["body"]["string"]
        new = new.decode() if isinstance(new, bytes) else new
        assert {k: v for k, v in out["headers"].items() if k != "Content-Length"} == {
            k: v for k, v in kept.items() if k != "Content-Length"
        }, name
        if body.lstrip().startswith("{"):
            assert json.loads(new) == _kv_sanitized(json.loads(body)), name
        else:
            assert new == body, name
        req = item["request"]
        request = sanitizer.request(
            Request(req["method"], req["uri"], req["body"], {k: v[0] for k, v in req["headers"].items()})
        )
        assert request.uri == req["uri"], name
        if req["body"] and req["body"].startswith("{"):
            assert json.loads(request.body) == _kv_sanitized(json.loads(req["body"])), name
        elif req["body"]:
            assert request.body.decode() == req["body"], name


def _kv_sanitized(data: Any) -> Any:
    """What the sanitizer is meant to change: App Configuration values (all keys by default)."""
    items = data.get("items") if isinstance(data, dict) and isinstance(data.get("items"), list) else []
    for item in [*items, data]:
        if isinstance(item, dict) and isinstance(item.get("key"), str) and item.get("value") is not None:
            item["value"] = "sanitized-value"
    return data


def test_our_cassettes_scan_clean_structurally() -> None:
    for path in sorted(CASSETTES.glob("*.yaml")):
        assert scan_cassette(yaml.load(path.read_text(), Loader=yaml.CSafeLoader), path.name) == [], path.name


def test_a_finding_names_file_interaction_place_and_rule() -> None:
    cassette = {
        "interactions": [
            {
                "request": {"uri": "https://h.example/x", "method": "GET", "body": None, "headers": {}},
                "response": {
                    "status": {"code": 200},
                    "headers": {"Content-Type": ["application/json"]},
                    "body": {"string": json.dumps({"data": {"items": [{"AccessToken": "real-opaque-token"}]}})},
                },
            }
        ]
    }
    [finding] = scan_cassette(cassette, "c.yaml")
    assert (finding.path, finding.interaction, finding.where, finding.rule) == (
        "c.yaml",
        0,
        "response body $.data.items[0].AccessToken",
        "token",
    )
    assert "real-opaque-token" not in str(finding) and str(finding).startswith("c.yaml: interaction 0: response body")
    assert set(FIELD_PLACES) < set(PLACES)


ISSUE_HEADERS = [
    "X-Api-Key",
    "Api-Key",
    "Ocp-Apim-Subscription-Key",
    "X-Session-Token",
    "X-Client-Secret",
    "X-Db-Password",
]
ISSUE_FIELDS = ["accessToken", "refreshToken", "apiKey", "password", "access_token", "AccessToken"]


@pytest.mark.parametrize("header", ISSUE_HEADERS)
def test_issue_9_secret_headers_are_scrubbed_and_flagged(header: str) -> None:
    sanitizer = Sanitizer()
    recorded = sanitizer.request(Request("GET", "https://127.0.0.1:8443/x", None, {header: "CANARY-issue-header"}))
    response = sanitizer.response(
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {header: ["CANARY-issue-header"]},
            "body": {"string": b""},
        }
    )
    assert "CANARY" not in str(recorded.headers) + str(response["headers"])
    cassette = {
        "interactions": [
            {
                "request": {"uri": "https://h/x", "method": "GET", "body": None, "headers": {header: ["CANARY-x"]}},
                "response": {"status": {"code": 200}, "headers": {header: ["CANARY-y"]}, "body": {"string": ""}},
            }
        ]
    }
    assert [f.where for f in scan_cassette(cassette)] == [f"request header {header}", f"response header {header}"]


@pytest.mark.parametrize("field", ISSUE_FIELDS)
def test_issue_9_secret_json_fields_are_scrubbed_and_flagged_at_any_depth(field: str) -> None:
    body = json.dumps({"token_type": "Bearer", "result": {"grants": [{field: "CANARY-issue-field"}]}})
    out = Sanitizer().response(
        {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": body.encode()},
        }
    )
    assert b"CANARY" not in out["body"]["string"] and json.loads(out["body"]["string"])["token_type"] == "Bearer"
    cassette = {
        "interactions": [
            {
                "request": {"uri": "https://h/x", "method": "GET", "body": None, "headers": {}},
                "response": {"status": {"code": 200}, "headers": {}, "body": {"string": body}},
            }
        ]
    }
    [finding] = scan_cassette(cassette)
    assert finding.where == f"response body $.result.grants[0].{field}"
