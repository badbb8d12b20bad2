"""The sync against stores that answer oddly (next-page links only in a ``Link`` header, outside
``/kv`` or repeated; item lists that are not lists; error bodies that are not problem JSON) and an
oauth connection whose refresh token rotates during a push."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from app_connections.testing import fakes
from azure_appconfig_plugin.settings import CLIENT_ID_ENV, CLIENT_SECRET_ENV, SITE_URL_ENV, InstanceSettings
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination

from .conftest import StaticCredential
from .standins import Answer, IdentityPlatform, Seen, StandIn, json_answer

D = AppConfigurationDestination()
KVSET = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"
KV = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8"


def page(items: Any, **headers: str) -> Answer:
    return json_answer(items, **{"Content-Type": KVSET, **headers})


def item(key: str, value: str = "v") -> dict[str, Any]:
    return {"key": key, "label": None, "value": value, "content_type": None, "tags": {}, "etag": "e-" + key}


def lists(store: StandIn) -> list[Seen]:
    return [s for s in store.seen if s.method == "GET" and urlsplit(s.path).path == "/kv"]


def import_from(store: StandIn) -> Any:
    return D.import_secrets(None, {"endpoint": store.url}, token_credential=StaticCredential())


# --- listing ---------------------------------------------------------------------------------------


def test_a_next_page_named_only_by_the_link_header_is_followed(store: StandIn) -> None:
    def route(seen: Seen) -> Answer:
        if "after=2" in seen.path:
            return page({"items": [item("B", "2")]})
        return page({"items": [item("A", "1")]}, Link='</kv?key=%2A&after=2>; rel="next"')

    store.route = route
    report = import_from(store)
    assert report.ok and report.imported == {"A": "1", "B": "2"}
    second = lists(store)[1]
    assert second.query["after"] == ["2"] and second.query["api-version"]  # the link's query, our API version


def test_a_next_page_link_outside_kv_is_not_followed(store: StandIn) -> None:
    store.route = lambda seen: page({"items": [item("A")], "@nextLink": "/settings/secrets?after=1"})
    report = import_from(store)
    (change,) = report.changes
    assert change.status.value == "failed" and report.imported == {}
    assert "the store sent a next-page link outside /kv (/settings/secrets); not followed" in change.detail
    assert len(store.seen) == 1


def test_a_next_page_link_sent_twice_is_not_followed_again(store: StandIn) -> None:
    store.route = lambda seen: page({"items": [item("A")], "@nextLink": "/kv?after=same"})
    report = import_from(store)
    assert "the store sent the same next-page link twice; not followed" in report.changes[0].detail
    assert len(lists(store)) == 2 and report.imported == {}


@pytest.mark.parametrize(
    "body",
    [b'{"items": {"key": "A"}}', b"[1, 2]", b"<html>not json</html>"],
    ids=["items-not-a-list", "not-an-object", "not-json"],
)
def test_a_listing_that_is_not_a_key_value_list_is_a_malformed_answer(store: StandIn, body: bytes) -> None:
    store.route = lambda seen: Answer(200, {"Content-Type": KVSET}, body)
    report = import_from(store)
    (change,) = report.changes
    assert (change.status.value, change.code) == ("failed", "malformed_answer"), change.detail
    assert "the store's answer is not a key-value list" in change.detail
    assert len(store.seen) == 1  # a malformed answer is not retried


def test_items_that_are_not_entries_are_passed_over(store: StandIn) -> None:
    store.route = lambda seen: page({"items": [1, "A", None, {"key": 5, "value": "x"}, {"value": "no key"}, item("A")]})
    report = import_from(store)
    assert report.ok and report.imported == {"A": "v"} and [c.key for c in report.changes] == ["A"]


# --- the detail of a refused write -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        (Answer(403, {"Content-Type": "text/html"}, b"<html>Forbidden by proxy</html>"), "403: X"),
        (json_answer({"type": "t", "status": 403}, 403), "403: X"),
        (
            json_answer({"title": "", "detail": "Key 'A' is not allowed\nsecond line"}, 403),
            "403: Key 'A' is not allowed",
        ),
    ],
    ids=["not-json", "no-title-or-detail", "detail-only"],
)
def test_a_refused_writes_detail_is_the_problems_text_else_the_reason_phrase(
    store: StandIn, answer: Answer, detail: str
) -> None:
    """The stand-in's reason phrase is ``X``: shown when the body has no problem title or detail."""

    def route(seen: Seen) -> Answer:
        return page({"items": []}) if seen.method == "GET" else answer

    store.route = route
    report = D.push(None, {"endpoint": store.url}, {"A": "1"}, token_credential=StaticCredential())
    (change,) = report.changes
    assert (change.status.value, change.detail) == ("failed", detail)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, ("applied", "created (new entry (If-None-Match: *))")),
        (409, ("locked", "entry is locked (read-only) (409); not changed")),
    ],
)
def test_a_writes_status_decides_even_when_its_body_is_not_the_json_it_claims(
    store: StandIn, status: int, outcome: tuple[str, str]
) -> None:
    def route(seen: Seen) -> Answer:
        if seen.method == "GET":
            return page({"items": []})
        return Answer(status, {"Content-Type": KV}, b"<html>proxy page</html>")

    store.route = route
    report = D.push(None, {"endpoint": store.url}, {"A": "1"}, token_credential=StaticCredential())
    (change,) = report.changes
    assert (change.status.value, change.detail) == outcome
    assert [s.method for s in store.seen] == ["GET", "PUT"]  # answered: not retried


# --- an oauth connection: its rotation callback and the host's instance settings ------------------------


def test_an_oauth_push_uses_the_hosts_settings_and_hands_the_rotated_token_back(
    store: StandIn, identity: IdentityPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (CLIENT_ID_ENV, CLIENT_SECRET_ENV, SITE_URL_ENV):  # only the settings given to the push
        monkeypatch.delenv(name, raising=False)
    written: list[dict[str, Any]] = []

    def route(seen: Seen) -> Answer:
        if seen.method == "GET":
            return page({"items": []})
        body = json.loads(seen.body)
        written.append({"path": unquote(urlsplit(seen.path).path), "auth": seen.headers["authorization"], **body})
        return json_answer({**item(body["key"], body["value"]), "etag": "new"}, **{"Content-Type": KV})

    store.route = route
    settings = InstanceSettings(fakes.FAKE_INSTANCE_CLIENT_ID, "canary-instance-secret-5Tq", "https://infisical.test")
    connection = {
        "method": "oauth",
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_INSTANCE_CLIENT_ID,
        "refreshToken": "fake-refresh-token-1",
        "cloud": "public",
    }
    rotated: list[Any] = []
    report = D.push(connection, {"endpoint": store.url}, {"A": "1"}, settings=settings, on_rotate=rotated.append)
    assert report.ok and report.counts["created"] == 1
    (token_request,) = identity.token_requests
    assert token_request.form["grant_type"] == ["refresh_token"]
    assert token_request.form["client_secret"] == ["canary-instance-secret-5Tq"]
    assert [c.refresh_token for c in rotated] == ["rotated-refresh-token-1"]
    assert [(w["path"], w["value"]) for w in written] == [("/kv/A", "1")]
    assert written[0]["auth"].startswith("Bearer ey")
