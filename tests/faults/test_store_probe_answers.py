"""What the store probes make of answers at their edges: error bodies that are not Azure's JSON,
a JSON-labelled HTML page, a store name the resolver (in any language) says does not exist, and
the real write probe's own label and its cleanup retries."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest

from azure_appconfig_plugin import store as probes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.endpoints import parse_endpoint

from .conftest import StaticCredential, client_secret_input
from .standins import Answer, Seen, StandIn, json_answer
from .test_store_faults import check, ok_store, validate

NO_RETRY = {"retry_total": 0}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", b"<html><body>Forbidden by the proxy</body></html>"),  # not JSON at all
        ("application/json", b'["not", "an", "object"]'),  # JSON, but not an object
        ("application/json", b'{"error": {"code": "Forbidden"}}'),  # an object without title/detail/message
    ],
)
def test_an_error_answer_without_azures_error_text_is_reported_by_its_reason(
    store: StandIn, content_type: str, body: bytes
) -> None:
    store.route = lambda seen: Answer(403, {"Content-Type": content_type}, body)  # status line "403 X"
    with probes.make_client(parse_endpoint(store.url), StaticCredential(), retry_total=0) as client:
        result = probes.probe_read(client)
    assert result == probes.ProbeResult(403, "X")


def test_an_error_answer_with_azures_error_text_is_reported_by_it(store: StandIn) -> None:
    store.route = lambda seen: json_answer({"type": "x", "detail": "The access token is missing a role"}, 403)
    with probes.make_client(parse_endpoint(store.url), StaticCredential(), retry_total=0) as client:
        assert probes.probe_read(client).error == "The access token is missing a role"


def test_a_json_labelled_html_page_is_a_malformed_answer_not_a_successful_read(store: StandIn) -> None:
    page = b"<html><body>Sign in to the corporate proxy</body></html>"
    store.route = lambda seen: Answer(200, {"Content-Type": "application/json"}, page)
    read = check(validate(store, client_options=NO_RETRY), "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "malformed_answer", read
    assert f"answered 200 with HTML ({len(page)} bytes, Content-Type application/json)" in read.detail
    assert "corporate" not in read.detail  # what the body looks like, never what it says


STORE_CHECKS = ("KeyValue.Read", "KeyValue.Write", "KeyValue.Delete")


@pytest.mark.parametrize(
    ("location", "shown", "why"),
    [
        ("https://127.0.0.1:99999/kv", "127.0.0.1:99999", "its port is not a number from 1 to 65535"),
        ("https://127.0.0.1:0/kv", "127.0.0.1:0", "its port is not a number from 1 to 65535"),
        ("https://127.0.0.1:https/kv", "127.0.0.1:https", "its port is not a number from 1 to 65535"),
        ("https://[::1/kv", "[::1", "it does not parse as a URL"),
        ("ftp://127.0.0.1/kv", "127.0.0.1", "its scheme is neither https nor http"),
        ("https://:8443/kv", ":8443", "it names no host"),
        ("https:///kv", "(no host)", "it names no host"),  # was resolved on the store's host, followed 30 times
    ],
)
@pytest.mark.parametrize("status", [302, 307])
def test_a_redirect_to_an_unusable_address_is_reported_as_a_refused_redirect(
    store: StandIn, location: str, shown: str, why: str, status: int
) -> None:
    """Bug: requests parses every redirect's Location (also when azure-core follows redirects itself)
    before the pinned adapter sees it, and an unusable one failed there as a bare ValueError, which
    the probes reported as a body that is "not App Configuration JSON"."""
    store.route = lambda seen: Answer(status, {"Location": location}, b"")
    report = validate(store, client_options=NO_RETRY)
    assert len(store.seen) == 3  # one request per probe, none to the Location
    for name in STORE_CHECKS:
        found = check(report, name)
        assert found.status.value == "failed" and found.code == "foreign_host", found
        assert found.detail.startswith(
            f"{store.netloc} answered {status} with a redirect to {shown} (an unusable address: {why}); "
            "the redirect was refused"
        ), found.detail
        assert "nothing (no token, no secret) was sent there" in found.detail
        assert "JSON" not in found.detail and "proxy rewrote" not in found.detail
        assert "the store's own endpoint" in found.remediation and "front door" in found.remediation
    assert not report.ok


def test_a_refused_redirects_location_is_shown_bounded_without_user_info_or_control_characters(
    store: StandIn,
) -> None:
    hostile = "\x1b[31mevil\u202e" + "x" * 300  # an ANSI colour, a bidi override, an over-long name
    location = "https://admin:canary-location-pass@" + hostile.encode().decode("latin-1") + ":99999/kv"
    store.route = lambda seen: Answer(302, {"Location": location}, b"")
    read = check(validate(store, client_options=NO_RETRY), "KeyValue.Read")
    assert read.code == "foreign_host", read
    shown = read.detail.split("with a redirect to ", 1)[1].split(" (an unusable address", 1)[0]
    assert shown.startswith("evilxxx") and shown.endswith("...") and len(shown) == 100
    assert not any(ch in read.detail for ch in "\x1b\u202e") and "[31m" not in read.detail
    assert "canary-location-pass" not in read.detail and "admin" not in read.detail


def test_a_redirect_to_another_host_is_reported_with_its_status_and_host(store: StandIn, other_host: StandIn) -> None:
    store.route = lambda seen: Answer(301, {"Location": f"//{other_host.netloc}/kv"}, b"")  # scheme-relative
    report = validate(store, client_options=NO_RETRY)
    assert other_host.seen == []
    for name in STORE_CHECKS:
        found = check(report, name)
        assert found.code == "foreign_host", found
        assert found.detail.startswith(
            f"{store.netloc} answered 301 with a redirect to {other_host.netloc} (another host)"
        )


def test_a_redirect_on_the_stores_own_host_is_still_followed(store: StandIn) -> None:
    def route(seen: Seen) -> Answer:
        if seen.path.startswith("/moved"):
            return ok_store(seen)
        return Answer(307, {"Location": f"/moved{seen.path}"}, b"")

    store.route = route
    report = validate(store, client_options=NO_RETRY)
    assert report.ok, report.to_dict()
    assert sum(s.path.startswith("/moved") for s in store.seen) == 3


def test_a_write_redirected_on_the_stores_own_host_is_inconclusive_not_refused(store: StandIn) -> None:
    """A 302 to the store's own host is not refused (only another host or an unusable address is);
    azure-core follows 301/302 only for GET and HEAD, so the write and delete probes see the 302
    itself: an answer the probe does not expect, reported as inconclusive with the other probe mode."""

    def route(seen: Seen) -> Answer:
        if seen.method == "GET":
            return ok_store(seen)
        return Answer(302, {"Location": f"/moved{seen.path}"}, b"")

    store.route = route
    report = validate(store, client_options=NO_RETRY)
    assert check(report, "KeyValue.Read").status.value == "ok"
    for name in STORE_CHECKS[1:]:
        found = check(report, name)
        assert found.status.value == "inconclusive" and found.code == "302", found
        assert found.detail == "unexpected answer 302: X"  # the stand-in's reason phrase
        assert found.remediation == "Run with --write-probe to check with a real write and delete."
    assert not any(s.path.startswith("/moved") for s in store.seen)


@pytest.mark.parametrize("errno", [socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)])
def test_a_store_name_the_resolver_does_not_know_is_named_in_any_language(
    monkeypatch: pytest.MonkeyPatch, errno: int
) -> None:
    """Bug (found by a coverage review): the resolver's error code was never looked at (the
    search stopped at the SDK's error and at the policy transport, which made a transport error its
    own cause), so a resolver answering in another language than English read as "unreachable"."""
    host = "contoso-missing.azconfig.io"
    real = socket.getaddrinfo

    def getaddrinfo(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:
            raise socket.gaierror(errno, "Aucune adresse associée au nom")  # glibc's message under LANG=fr_FR
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(probes, "NO_SUCH_NAME", ())  # only the error code can tell (as on any non-English system)
    report = build_connection_type().validate(
        client_secret_input(),
        method="client-secret",
        endpoint=f"https://{host}",
        token_credential=StaticCredential(),
        client_options=NO_RETRY,
    )
    read = check(report, "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "unreachable"
    assert "no store by that name exists" in read.detail, read.detail


def _written_store(delete_status: int) -> Any:
    def route(seen: Seen) -> Answer:
        if seen.method == "PUT":
            return json_answer({"key": probes.SENTINEL_KEY, "label": seen.query["label"][0], "value": "v", "etag": "e"})
        if seen.method == "DELETE":
            return json_answer({"title": "busy"}, delete_status) if delete_status >= 400 else Answer(204)
        return json_answer({"items": []})

    return route


def test_the_write_probe_makes_its_own_unique_label_and_deletes_under_it(store: StandIn) -> None:
    store.route = _written_store(204)
    report = validate(store, write_probe=True, client_options=NO_RETRY)
    assert check(report, "cleanup").status.value == "ok"
    puts = [s for s in store.seen if s.method == "PUT"]
    deletes = [s for s in store.seen if s.method == "DELETE"]
    assert len(puts) == 1 and len(deletes) == 1
    label = puts[0].query["label"][0]
    assert re.fullmatch(r"probe-[0-9a-f]{32}", label)
    assert deletes[0].query["label"] == [label]
    store.seen.clear()
    validate(store, write_probe=True, client_options=NO_RETRY)
    assert [s.query["label"][0] for s in store.seen if s.method == "PUT"] != [label]  # a new one per run


def test_a_sentinel_that_cannot_be_deleted_is_tried_three_times_then_reported(store: StandIn) -> None:
    store.route = _written_store(500)
    report = validate(store, write_probe=True, client_options=NO_RETRY)
    deletes = [s for s in store.seen if s.method == "DELETE"]
    assert len(deletes) == probes.CLEANUP_ATTEMPTS == 3
    cleanup = check(report, "cleanup")
    assert cleanup.status.value == "failed" and cleanup.code == "500"
    assert probes.SENTINEL_KEY in cleanup.remediation and not report.ok


def test_a_malformed_body_is_described_from_the_pipeline_transports_response_type_too() -> None:
    """azure-core has two response types: ``rest`` (``content``) and the pipeline transport's (``body()``)."""
    import requests
    from azure.core.pipeline.transport import HttpRequest, RequestsTransportResponse

    from azure_appconfig_plugin.store import _malformed

    raw = requests.Response()
    raw.status_code, raw._content = 200, b"<html><body>Sign in</body></html>"
    raw.headers["Content-Type"] = "application/json"
    legacy = RequestsTransportResponse(HttpRequest("GET", "https://127.0.0.1/kv"), raw)
    assert "answered 200 with HTML (33 bytes, Content-Type application/json)" in str(_malformed(legacy, None).error)
    unknown = _malformed(object(), None).error  # an answer of neither type: described without its body
    assert unknown is not None and "a body that is not the API's JSON" in unknown
