"""Against a stand-in store: waits, deadlines, foreign links,
faulty bodies and oversized answers. Each test failed on the code before the HTTP policy."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import pytest

from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.http.errors import ForeignHostRefused
from azure_appconfig_plugin.http.limits import configure

from .conftest import TOKEN, StaticCredential, client_secret_input, run_bounded
from .standins import Answer, Seen, StandIn, json_answer

KVSET = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"


def ok_store(seen: Seen) -> Answer:
    if seen.method == "GET":
        return json_answer({"items": []}, **{"Content-Type": KVSET})
    return json_answer({"type": "precondition", "title": "Precondition Failed"}, 412)


def validate(store: StandIn, **kwargs: Any) -> Any:
    return build_connection_type().validate(
        client_secret_input(), method="client-secret", endpoint=store.url, token_credential=StaticCredential(), **kwargs
    )


def check(report: Any, name: str) -> Any:
    return next(c for c in report.checks if c.name == name)


def test_stand_in_store_works(store: StandIn) -> None:
    store.route = ok_store
    report = validate(store)
    assert report.ok, report.to_dict()
    assert store.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


# --- finding 1: server-requested waits are capped -----------------------------------------------


def _far_future_date() -> str:
    return email.utils.formatdate(time.time() + 3 * 365 * 86400, usegmt=True)


@pytest.mark.parametrize(
    "header",
    [{"Retry-After": "86400"}, {"retry-after-ms": "3600000000"}, {"x-ms-retry-after-ms": "3600000000"}, "date"],
)
def test_a_wait_longer_than_the_cap_ends_the_retries_at_once(store: StandIn, header: Any) -> None:
    headers = {"Retry-After": _far_future_date()} if header == "date" else header
    store.route = lambda seen: json_answer({"title": "Too many requests"}, 429, **headers)
    report, elapsed = run_bounded(lambda: validate(store), 20)
    assert elapsed < 10
    read = check(report, "KeyValue.Read")
    assert read.status.value == "inconclusive" and read.code == "429"
    assert len([s for s in store.seen if s.method == "GET"]) == 1  # no retry was waited for
    assert not report.ok


def test_all_waits_of_a_call_stay_within_the_budget(store: StandIn) -> None:
    configure(retry_after_max_seconds=5, retry_wait_budget_seconds=0.2)
    store.route = lambda seen: json_answer({"title": "busy"}, 429, **{"Retry-After": "0.15"})
    report, elapsed = run_bounded(lambda: validate(store), 20)
    gets = [s for s in store.seen if s.method == "GET"]
    assert len(gets) == 2  # one wait of 0.15 s fits the 0.2 s budget, a second would not
    assert elapsed < 5
    assert check(report, "KeyValue.Read").status.value == "inconclusive"


# --- finding 2: deadlines are per answer, not per read --------------------------------------------


def test_a_store_dripping_its_body_is_cut_off_at_the_request_deadline(store: StandIn) -> None:
    configure(store_request_seconds=0.3)
    body = json.dumps({"items": []}).encode() + b" " * 200  # 10 s at one byte every 0.05 s
    store.route = lambda seen: Answer(200, {"Content-Type": KVSET}, body, drip_seconds=0.05, drip_body=True)
    report, elapsed = run_bounded(lambda: validate(store), 25)
    read = check(report, "KeyValue.Read")
    assert read.status.value == "inconclusive" and read.code == "deadline_exceeded", read  # no whole answer
    assert elapsed < 8
    assert "within 0.3 s (the store deadline)" in read.detail


def test_a_store_dripping_its_headers_is_cut_off(store: StandIn) -> None:
    configure(store_request_seconds=0.3)
    store.route = lambda seen: Answer(  # the headers alone take 5 s at one byte every 0.02 s
        200, {"Content-Type": KVSET, "X-Pad": "p" * 200}, b'{"items": []}', drip_seconds=0.02
    )
    report, elapsed = run_bounded(lambda: validate(store), 25)
    assert check(report, "KeyValue.Read").code == "deadline_exceeded"
    assert elapsed < 8


def test_the_validation_deadline_bounds_the_whole_validation(store: StandIn) -> None:
    configure(validation_seconds=0.4, store_request_seconds=60)
    store.route = lambda seen: Answer(  # 20 s at one byte every 0.05 s
        200, {"Content-Type": KVSET}, b'{"items": []}' + b" " * 400, drip_seconds=0.05, drip_body=True
    )
    report, elapsed = run_bounded(lambda: validate(store), 25)
    assert elapsed < 6
    assert not report.ok
    assert not any(c.status.value == "failed" for c in report.checks)  # no answer from the store to fail on
    assert {c.code for c in report.checks if c.status.value == "inconclusive"} == {"deadline_exceeded"}


# --- finding 3: no token to a foreign host ------------------------------------------------------


def test_a_next_link_to_another_host_gets_no_token_and_the_check_fails(store: StandIn, other_host: StandIn) -> None:
    def route(seen: Seen) -> Answer:
        if seen.method == "GET":
            return json_answer({"items": [], "@nextLink": f"{other_host.url}/kv?after=x"}, **{"Content-Type": KVSET})
        return ok_store(seen)

    store.route = route
    report = validate(store)
    assert other_host.seen == []  # nothing, let alone a bearer token, reached the other host
    read = check(report, "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "foreign_host"
    assert other_host.netloc in read.detail and not report.ok


def test_following_a_link_header_to_another_host_sends_no_token(store: StandIn, other_host: StandIn) -> None:
    """The SDK pages by ``@nextLink``; code that follows a ``Link`` header (as the sync engine may)
    sends it through the same client, and the pinned transport refuses it."""
    from azure.core.rest import HttpRequest

    from azure_appconfig_plugin.endpoints import parse_endpoint
    from azure_appconfig_plugin.store import make_client

    store.route = lambda seen: json_answer(
        {"items": []}, **{"Content-Type": KVSET, "Link": f'<{other_host.url}/kv?after=x>; rel="next"'}
    )
    with make_client(parse_endpoint(store.url), StaticCredential(), retry_total=0) as client:
        first = client.send_request(HttpRequest("GET", f"{store.url}/kv?api-version=2023-11-01"))
        link = first.headers["Link"].split(";")[0].strip("<>")
        with pytest.raises(ForeignHostRefused):
            client.send_request(HttpRequest("GET", link))
    assert store.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert other_host.seen == []


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_is_refused(store: StandIn, other_host: StandIn, status: int) -> None:
    store.route = lambda seen: Answer(status, {"Location": f"{other_host.url}/kv"}, b"")
    report = validate(store)
    assert other_host.seen == []
    read = check(report, "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "foreign_host"


def test_a_next_link_on_the_same_host_is_followed(store: StandIn) -> None:
    def route(seen: Seen) -> Answer:
        if seen.method == "GET" and "after" not in seen.path:
            return json_answer(
                {"items": [], "@nextLink": "/kv?after=x&api-version=2023-11-01"}, **{"Content-Type": KVSET}
            )
        return ok_store(seen)

    store.route = route
    report = validate(store)
    assert report.ok, report.to_dict()
    assert sum("after=x" in s.path for s in store.seen) == 1


def test_operation_location_to_another_host_is_refused(store: StandIn, other_host: StandIn) -> None:
    """A long-running operation (snapshot creation) polls Operation-Location: it must stay on the store's host."""
    from azure.appconfiguration import ConfigurationSettingsFilter

    from azure_appconfig_plugin.endpoints import parse_endpoint
    from azure_appconfig_plugin.store import make_client

    def route(seen: Seen) -> Answer:
        if seen.method == "PUT":
            return json_answer(
                {"name": "s", "status": "provisioning", "filters": [{"key": "*"}]},
                201,
                **{"Operation-Location": f"{other_host.url}/operations?snapshot=s"},
            )
        return json_answer({"id": "s", "status": "Running"})

    store.route = route
    client = make_client(parse_endpoint(store.url), StaticCredential(), retry_total=0)
    with pytest.raises(ForeignHostRefused), client:
        poller = client.begin_create_snapshot("s", [ConfigurationSettingsFilter(key="*")], polling_interval=0)
        poller.result()
    assert other_host.seen == []


# --- finding 7: a store answer that is not JSON --------------------------------------------------


def test_a_store_200_with_an_html_body_is_a_typed_failure(store: StandIn) -> None:
    page = b"<html><body>Sign in to the corporate proxy</body></html>"
    store.route = lambda seen: Answer(200, {"Content-Type": "text/html"}, page)
    report = validate(store)
    read = check(report, "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "malformed_answer"
    assert "HTML" in read.detail and "proxy" not in read.detail.split("HTML")[0]
    assert not report.ok


# --- finding 10: bounded answers ------------------------------------------------------------------


def test_an_oversized_answer_is_cut_off_while_streaming(store: StandIn) -> None:
    configure(max_response_bytes=256 * 1024)
    total_chunks = 400  # 400 x 64 KiB = 25 MiB offered

    def chunks() -> Any:
        yield b'{"items": ["'
        for _ in range(total_chunks):
            yield b"x" * 65536

    store.route = lambda seen: Answer(200, {"Content-Type": KVSET}, stream_chunks=chunks())
    report, _ = run_bounded(lambda: validate(store), 30)
    read = check(report, "KeyValue.Read")
    assert read.status.value == "failed" and read.code == "response_too_large"
    time.sleep(0.2)
    assert store.bytes_sent < total_chunks * 65536 // 2  # the client stopped reading long before the end


def test_a_declared_oversized_answer_is_refused_before_reading(store: StandIn) -> None:
    configure(max_response_bytes=1024)
    store.route = lambda seen: Answer(200, {"Content-Type": KVSET}, b'{"items": []}' + b" " * 4096)
    read = check(validate(store), "KeyValue.Read")
    assert read.code == "response_too_large" and "4109" in read.detail


def test_empty_endpoint_is_bad_input_not_token_only() -> None:
    report = build_connection_type().validate(
        client_secret_input(), method="client-secret", endpoint="", token_credential=StaticCredential()
    )
    endpoint = check(report, "endpoint")
    assert endpoint.status.value == "failed" and endpoint.code == "endpoint_rejected"
    assert not report.ok
