"""A canary per rule of the one table, recorded for real (vcrpy record mode) against a local
HTTPS server (trustme) that echoes the canaries in every place the rule covers: request and
response headers, the query string, form bodies, JSON bodies at depth, URLs inside headers and
bodies, and URLs with user info. The written cassette must hold no canary (in any encoding)
and scan clean; then a canary planted by hand in each place must be flagged, naming the rule."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import pytest
import requests
import yaml

from app_connections.testing.rules import (
    FORM,
    HEADER,
    JSON,
    NAME_RULES,
    QUERY,
    URL,
    VALUE_RULES,
    RuleTable,
    SecretRules,
    literal_forms,
)
from app_connections.testing.secret_scan import scan_cassette, scan_paths
from app_connections.testing.vcr_config import make_vcr
from azure_appconfig_plugin.testing.recording import sanitizer_from_env

PLUGIN_RULES = SecretRules(
    headers=["X-Contoso-Key"],
    fields=["contosoRef"],
    values=["CANARY-declared-literal-5e1f"],
    value_patterns=[r"ctso_[A-Za-z0-9]{16}"],
    env_vars=["CONTOSO_SERVICE_CONFIG"],
)
ENV = {
    "AZURE_CLIENT_SECRET": "CANARY-env-client-secret-77aa",
    "MY_SERVICE_TOKEN": "CANARY-env-auto-token-88bb",  # secret-named: found without declaring it
    "CONTOSO_SERVICE_CONFIG": "CANARY-env-declared-99cc",  # not secret-named: declared in env_vars
}
TABLE = RuleTable.of(PLUGIN_RULES, env=ENV)
NEUTRAL = "note"


def b64(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@attrs.frozen
class Case:
    rule: str
    name: str | None  # a name rule's example name; None for a value rule (placed under NEUTRAL)
    places: tuple[str, ...]

    def value(self, place: str) -> str:
        """The canary for one place; value rules get a value of their shape. A name rule that does
        not cover a place gets a public value there (``code`` is not secret in JSON)."""
        if self.name is not None and place not in self.places and place != "userinfo":
            return "public-value"
        tag = f"{self.rule}-{self.name or 'v'}-{place}".replace(" ", "_")
        tag = "".join(c if c.isalnum() or c in "-_" else "_" for c in tag)
        if place == "userinfo":  # the password of a URL's user info: the url-userinfo rule covers it
            return f"CANARY-{tag}"
        if self.rule == "url-userinfo":
            return f"https://deploy:CANARY-{tag}@git.example.com/repo"
        if self.rule == "connection-string":
            return f"Endpoint=https://s.azconfig.io;Id=ab12;Secret=CANARY-{tag}"
        if self.rule == "jwt":
            return f"{b64({'typ': 'JWT', 'alg': 'RS256'})}.{b64({'aud': 'x', 'canary': 'CANARY-' + tag})}.c2lnbmF0dXJl"
        if self.rule == "guid":
            return f"9c1e7b5a-1d2e-4f3a-8b6c-{abs(hash(tag)) % 10**12:012d}"
        if self.rule == "declared value":
            return "CANARY-declared-literal-5e1f"
        if self.rule.startswith("declared pattern"):
            return "ctso_" + (base64.b32encode(tag.encode()).decode().replace("=", "") + "A" * 16)[:16]
        if self.rule.startswith("env "):
            return ENV[self.rule[4:]]
        return f"CANARY-{tag}"

    def canaries(self) -> set[str]:
        """Every placed value, and the CANARY-... part inside it (a URL's password, a connection
        string's secret, a JWT claim): none may reach the cassette in any encoding."""
        values = {self.value(p) for p in (HEADER, QUERY, FORM, JSON, URL, "userinfo")} - {"public-value"}
        return values | {m for v in values for m in re.findall(r"CANARY-[A-Za-z0-9_-]+", v)}


def _cases() -> list[Case]:
    cases = [Case(r.id, name, r.places) for r in NAME_RULES for name in r.examples]
    cases += [
        Case(r.id, name, r.places) for r in TABLE.name_rules if r.id.startswith("declared ") for name in r.examples
    ]
    cases += [Case(r.id, None, (HEADER, QUERY, FORM, JSON, URL)) for r in TABLE.value_rules]
    cases += [Case(rule_id, None, (HEADER, QUERY, FORM, JSON, URL)) for rule_id, _ in TABLE.literals]
    return cases


CASES = _cases()


def test_every_rule_of_the_table_has_a_canary_case() -> None:
    covered = {c.rule for c in CASES}
    assert covered == {r.id for r in TABLE.name_rules} | {r.id for r in TABLE.value_rules} | {
        i for i, _ in TABLE.literals
    }
    assert {r.id for r in NAME_RULES} | {r.id for r in VALUE_RULES} <= covered
    assert {
        "env AZURE_CLIENT_SECRET",
        "env MY_SERVICE_TOKEN",
        "env CONTOSO_SERVICE_CONFIG",
        "declared value",
    } <= covered


def _name(case: Case, place: str) -> str:
    return case.name if case.name is not None and place in case.places else NEUTRAL


class Echo(BaseHTTPRequestHandler):
    """Echoes what it receives into the same kind of place of its answer, deeper; the case
    tells it which URL-place echoes its rule covers."""

    case: Case

    def _reply(self, body: bytes, content_type: str, extra: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in self.headers.items():  # request headers echoed as response headers
            if name.lower() not in (
                "host",
                "content-length",
                "content-type",
                "accept",
                "accept-encoding",
                "connection",
                "user-agent",
            ):
                self.send_header(name, value + "-echo")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # query and user-info requests
        parts = urlsplit(self.path)
        query = {k: v for k, v in parse_qsl(parts.query) if k != self.case.name or JSON in self.case.places}
        name, value = _name(self.case, URL), self.case.value(URL)
        next_url = f"https://127.0.0.1/next?{urlencode({name: value})}"
        body: dict[str, Any] = {"data": {"args": query, "links": [{"next": next_url}]}}
        extra = {"Location": next_url}
        if parts.path == "/userinfo":
            userinfo = f"https://deploy:{self.case.value('userinfo')}@127.0.0.1/repo"
            body["data"]["clone"] = userinfo
            extra["Content-Location"] = userinfo
        self._reply(json.dumps(body).encode(), "application/json", extra)

    def do_POST(self) -> None:  # form and JSON requests
        data = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            self._reply(data.encode(), "application/x-www-form-urlencoded", {})
        else:
            self._reply(
                json.dumps({"data": {"items": [json.loads(data)]}}).encode(), "application/json; charset=utf-8", {}
            )

    def log_message(self, *args: Any) -> None:
        return None


def _traffic(base: str, case: Case, verify: str) -> None:
    headers = {_name(case, HEADER): case.value(HEADER)}
    with requests.Session() as s:
        s.get(
            f"{base}/query",
            params={_name(case, QUERY): case.value(QUERY), "api-version": "2023-11-01"},
            headers=headers,
            verify=verify,
        )
        s.post(
            f"{base}/form",
            data={_name(case, FORM): case.value(FORM), "grant_type": "client_credentials"},
            headers=headers,
            verify=verify,
        )
        s.post(
            f"{base}/json",
            json={"outer": {"list": [{_name(case, JSON): case.value(JSON)}]}},
            headers=headers,
            verify=verify,
        )
        s.get(
            f"{base.replace('https://', 'https://deploy:' + case.value('userinfo') + '@')}/userinfo",
            headers=headers,
            verify=verify,
        )


_RECORDED: dict[Case, Path] = {}
"""One recording per case, shared by the two tests below."""


@pytest.fixture
def record(azure_https_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    def run(case: Case) -> Path:
        if case not in _RECORDED:
            handler = type("EchoFor", (Echo,), {"case": case})
            server = azure_https_server(handler)
            cassettes = tmp_path_factory.mktemp("canary")
            recorder = make_vcr(cassettes, record_mode="all", sanitizer=sanitizer_from_env(ENV, rules=PLUGIN_RULES))
            with recorder.use_cassette("canary.yaml"):
                _traffic(server.url, case, server.ca_bundle)
            _RECORDED[case] = cassettes / "canary.yaml"
        return _RECORDED[case]

    yield run


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}:{c.name or 'value'}")
def test_recording_keeps_no_canary_and_scans_clean(case: Case, record: Any) -> None:
    cassette = record(case)
    written = cassette.read_text()
    assert written.count("interactions") == 1 and written.count("- request:") == 4
    for canary in case.canaries():
        for form in literal_forms(canary):
            assert form not in written, f"canary {canary!r} leaked as {form!r}"
    assert scan_paths([cassette.parent], TABLE) == []


def _plant(data: dict[str, Any], place: str, name: str, value: str) -> tuple[dict[str, Any], str]:
    """A copy of a clean cassette with ``value`` under ``name`` in one place; where the scan must say."""
    data = copy.deepcopy(data)
    first = data["interactions"][0]
    if place == "request header":
        first["request"]["headers"][name] = [value]
        return data, f"request header {name}"
    if place == "response header":
        first["response"]["headers"][name] = [value]
        return data, f"response header {name}"
    if place == "query":
        first["request"]["uri"] += "&" + urlencode({name: value})
        return data, f"request query {name}"
    if place == "form body":
        form = next(i for i in data["interactions"] if i["request"]["uri"].split("?")[0].endswith("/form"))
        form["request"]["body"] = urlencode({"grant_type": "x", name: value})
        return data, f"request body field {name}"
    if place == "json body":
        item = next(i for i in data["interactions"] if i["request"]["uri"].split("?")[0].endswith("/json"))
        item["response"]["body"]["string"] = json.dumps({"data": {"items": [{"deeper": [{name: value}]}]}})
        return data, f"response body $.data.items[0].deeper[0].{name}"
    if place == "url in a body":
        item = next(i for i in data["interactions"] if i["request"]["uri"].split("?")[0].endswith("/json"))
        item["response"]["body"]["string"] = json.dumps({"nextLink": "https://h.example/p?" + urlencode({name: value})})
        return data, f"response body $.nextLink url query {name}"
    if place == "url userinfo":
        first["request"]["uri"] = first["request"]["uri"].replace("https://", f"https://deploy:{value}@")
        return data, "request uri"
    raise AssertionError(place)


NAME_PLACES = {
    "request header": HEADER,
    "response header": HEADER,
    "query": QUERY,
    "form body": FORM,
    "json body": JSON,
    "url in a body": URL,
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.rule}:{c.name or 'value'}")
def test_a_canary_planted_in_each_place_is_flagged(case: Case, record: Any) -> None:
    clean = yaml.load(record(case).read_text(), Loader=yaml.CSafeLoader)
    assert scan_cassette(clean, "clean.yaml", TABLE) == []
    places = [p for p, kind in NAME_PLACES.items() if case.name is None or kind in case.places]
    if case.name is None:
        places.append("url userinfo")
    for place in places:
        value = f"CANARY-planted-{place.replace(' ', '-')}" if case.name else case.value(HEADER)
        if place == "url userinfo" and case.rule in ("url-userinfo", "connection-string"):
            value = "CANARY-planted-userinfo"  # the rule's value is a URL / connection string itself
        planted, where = _plant(clean, place, case.name or NEUTRAL, value)
        if case.name is None and place == "url in a body":
            where = "response body $.nextLink"  # a value rule looks at the whole string
        findings = scan_cassette(planted, "planted.yaml", TABLE)
        assert findings, f"{case.rule}: nothing flagged in {place}"
        if place == "url userinfo":
            assert any(f.where == "request uri" for f in findings), findings
            continue
        assert any(
            f.rule == case.rule
            and f.interaction is not None
            and (f.where == where or (case.name is None and f.where.startswith(where)))
            for f in findings
        ), (place, findings)
        assert all(value not in str(f) or len(value) <= 6 for f in findings)
