"""App Configuration data-plane cassettes for the secret sync (list, pages, create, update, delete,
412, 409, 429), written to match real traffic: quoted ``ETag`` headers, unquoted body ``etag``s,
empty 412 bodies, 409 ``problem+json``, ``Link`` + ``@nextLink`` on a page with more, ``Sync-Token``
on every answer (sent back without ``;sn=``), ``label=%00`` for the null label."""

from __future__ import annotations

import base64
import json
from typing import Any

from cassette_factory import API, DATE, STORE_HOST, interaction, write
from cassettes_store import KV, KVSET, MESSAGES, PROBLEM, THROTTLED, UA, store_headers, token

SELECT = "%24select=key%2Clabel%2Cvalue%2Ccontent_type%2Ctags%2Cetag%2Clocked"
LIST_URI = f"https://{STORE_HOST}/kv?{SELECT}&api-version={API}&key=app%2F%2A&label=prod"
LIST_ACCEPT = {"Accept": "application/vnd.microsoft.appconfig.kvset+json, application/problem+json", **UA}
ONE_ACCEPT = {"Accept": "application/vnd.microsoft.appconfig.kv+json, application/problem+json", **UA}
SYNC = "zAJw6V16=NTo1IzE4MDc1Mjgz"
"""The Sync-Token value the client echoes (the answer's token without ``;sn=``)."""
LAST_MODIFIED = "2026-11-27T09:00:00+00:00"
SANITIZED = "sanitized-value"
"""What the test kit's sanitizer leaves of every recorded value (and applies again on replay)."""


def kv(key: str, value: str, etag: str, label: str | None = "prod", content_type: str | None = None) -> dict[str, Any]:
    return {
        "etag": etag,
        "key": key,
        "label": label,
        "content_type": content_type,
        "value": SANITIZED,
        "tags": {},
        "locked": False,
        "last_modified": LAST_MODIFIED,
    }


def list_page(
    items: list[dict[str, Any]], *, after: str | None = None, next_after: str | None = None
) -> dict[str, Any]:
    uri = LIST_URI if after is None else LIST_URI.replace("&api-version", f"&after={after}&api-version")
    body: dict[str, Any] = {"items": items}
    extra = {}
    if next_after:
        select = SELECT.replace("%24", "$").replace("%2C", ",")
        link = f"/kv?{select}&api-version={API}&key=app/*&label=prod&after={next_after}"
        extra["Link"] = f'<{link}>; rel="next"'
        body["@nextLink"] = link
    req = LIST_ACCEPT if after is None else {**LIST_ACCEPT, "Sync-Token": SYNC}
    return interaction("GET", uri, 200, "OK", store_headers(KVSET, extra), json.dumps(body), req)


def one_uri(key: str) -> str:
    return f"https://{STORE_HOST}/kv/{key.replace('/', '%2F')}?api-version={API}&label=prod"


def put(
    key: str,
    value: str,
    status: int,
    *,
    if_match: str | None = None,
    etag: str = "fake-etag-new",
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    condition = {"If-Match": f'"{if_match}"'} if if_match else {"If-None-Match": "*"}
    req = {**ONE_ACCEPT, "Content-Type": "application/json", **condition, "Sync-Token": SYNC}
    sent: dict[str, Any] = {"key": key, "label": "prod", "value": SANITIZED, "tags": {}}
    if if_match:
        sent["etag"] = if_match
    if status == 200:
        headers = store_headers(KV, {"ETag": f'"{etag}"', "Last-Modified": DATE})
        return interaction(
            "PUT", one_uri(key), 200, "OK", headers, json.dumps(kv(key, value, etag)), req, json.dumps(sent)
        )
    if status == 409:
        problem = {
            "type": "https://azconfig.io/errors/key-locked",
            "title": f"Modifing key '{key}' is not allowed",
            "name": key,
            "detail": "The key is read-only. To allow modification unlock it first.",
            "status": 409,
        }
        return interaction(
            "PUT", one_uri(key), 409, MESSAGES[409], store_headers(PROBLEM), json.dumps(problem), req, json.dumps(sent)
        )
    if status == 429:
        return interaction(
            "PUT", one_uri(key), 429, MESSAGES[429], store_headers(PROBLEM, extra), THROTTLED, req, json.dumps(sent)
        )
    return interaction("PUT", one_uri(key), status, MESSAGES[status], store_headers(None), None, req, json.dumps(sent))


def delete(key: str, etag: str, value: str = "old") -> dict[str, Any]:
    req = {**ONE_ACCEPT, "If-Match": f'"{etag}"', "Sync-Token": SYNC}
    headers = store_headers(KV, {"ETag": f'"{etag}"', "Last-Modified": DATE})
    return interaction("DELETE", one_uri(key), 200, "OK", headers, json.dumps(kv(key, value, etag)), req)


def after_token(key: str, label: str) -> str:
    return base64.b64encode(f"{key}\n{label}".encode()).decode().replace("=", "%3D")


def build() -> None:
    write(
        "sync_list_unchanged.yaml",
        token() + [list_page([kv("app/A", "1", "fake-etag-a"), kv("app/B", "2", "fake-etag-b")])],
    )
    page1 = [kv(f"app/S{i:03}", f"v{i}", f"fake-etag-{i:03}") for i in range(100)]
    write(
        "sync_list_paginated.yaml",
        token()
        + [
            list_page(page1, next_after=after_token("app/S099", "prod")),
            list_page([kv("app/S100", "v100", "fake-etag-100")], after=after_token("app/S099", "prod")),
        ],
    )
    write("sync_create.yaml", token() + [list_page([]), put("app/NEW", "n", 200)])
    write(
        "sync_update.yaml",
        token() + [list_page([kv("app/A", "old", "fake-etag-a")]), put("app/A", "new", 200, if_match="fake-etag-a")],
    )
    write(
        "sync_delete.yaml",
        token() + [list_page([kv("app/GONE", "old", "fake-etag-g")]), delete("app/GONE", "fake-etag-g")],
    )
    write(
        "sync_conflict_412.yaml",
        token() + [list_page([kv("app/A", "old", "fake-etag-a")]), put("app/A", "new", 412, if_match="fake-etag-a")],
    )
    write(
        "sync_locked_409.yaml",
        token() + [list_page([kv("app/A", "old", "fake-etag-a")]), put("app/A", "new", 409, if_match="fake-etag-a")],
    )
    write(
        "sync_throttled_429.yaml",
        token() + [list_page([]), put("app/NEW", "n", 429, extra={"retry-after-ms": "10"}), put("app/NEW", "n", 200)],
    )


if __name__ == "__main__":
    build()
