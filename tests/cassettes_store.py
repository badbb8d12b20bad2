"""App Configuration data-plane cassettes for the validator."""

from __future__ import annotations

import json
from typing import Any

from app_connections.testing import fakes
from cassette_factory import (
    API,
    DATE,
    STORE_HOST,
    client_credentials_ok,
    interaction,
    openid_configuration,
    trace_id,
    write,
)

KEY = "azure-appconfig-plugin%2Fconnection-probe"
PROBE_LABEL = "probe-00000000000000000000000000000001"
# What App Configuration tokens look like (claims only; unsigned fake).
ACCESS_JWT = fakes.fake_jwt(
    {
        "aud": "https://azconfig.io",
        "iss": f"https://sts.windows.net/{fakes.FAKE_TENANT_ID}/",
        "iat": 1767225600,
        "nbf": 1767225600,
        "exp": 1767229200,
        "tid": fakes.FAKE_TENANT_ID,
        "ver": "1.0",
    }
)
EXPOSE = (
    "DNT, X-CustomHeader, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, "
    "Content-Type, Authorization, x-ms-client-request-id, x-ms-useragent, x-ms-content-sha256, x-ms-date, host, "
    "Accept, Accept-Datetime, Date, If-Match, If-None-Match, Sync-Token, x-ms-return-client-request-id, ETag, "
    "Last-Modified, Link, Memento-Datetime, retry-after-ms, x-ms-request-id, x-ms-client-session-id, "
    "x-ms-effective-locale, WWW-Authenticate, traceparent, tracestate"
)
_sn = [18075283]


def store_headers(content_type: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    _sn[0] += 1
    h = {
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": EXPOSE,
        "Connection": "keep-alive",
        "Date": DATE,
        "Server": "openresty/1.17.8.2",
        "Strict-Transport-Security": "max-age=15724800; includeSubDomains",
        "Sync-Token": f"zAJw6V16=NTo1IzE4MDc1Mjgz;sn={_sn[0]}",
        "x-ms-correlation-request-id": trace_id(),
    }
    if content_type:
        h["Content-Type"] = content_type
    h.update(extra or {})
    return h


KVSET = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"
KV = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8"
PROBLEM = "application/problem+json; charset=utf-8"
UA = {"User-Agent": "azsdk-python-appconfiguration/1.10.0 Python/3.11.7 (Linux)"}
READ_URI = f"https://{STORE_HOST}/kv?%24select=key&api-version={API}&key={KEY}&label=%00"
PUT_URI = f"https://{STORE_HOST}/kv/{KEY}?api-version={API}"
REAL_URI = f"https://{STORE_HOST}/kv/{KEY}?label={PROBE_LABEL}&api-version={API}"
ALREADY = {"Accept": "application/vnd.microsoft.appconfig.kv+json, application/problem+json", **UA}


def read(status: int = 200, extra: dict[str, str] | None = None, body: str | None = None) -> dict[str, Any]:
    req = {"Accept": "application/vnd.microsoft.appconfig.kvset+json, application/problem+json", **UA}
    if status == 200:
        return interaction("GET", READ_URI, 200, "OK", store_headers(KVSET), json.dumps({"items": []}), req)
    return interaction(
        "GET", READ_URI, status, MESSAGES[status], store_headers(PROBLEM if body else None, extra), body, req
    )


def put_precondition(status: int) -> dict[str, Any]:
    body = json.dumps(
        {
            "key": "azure-appconfig-plugin/connection-probe",
            "value": "",
            "tags": {},
            "etag": "azure-appconfig-plugin-never-matches",
        }
    )
    req = {**ALREADY, "Content-Type": "application/json", "If-Match": '"azure-appconfig-plugin-never-matches"'}
    return interaction("PUT", PUT_URI, status, MESSAGES[status], store_headers(None), None, req, body)


def delete_precondition(status: int) -> dict[str, Any]:
    req = {**ALREADY, "If-Match": '"azure-appconfig-plugin-never-matches"'}
    return interaction("DELETE", PUT_URI, status, MESSAGES[status], store_headers(None), None, req)


def setting_body() -> str:
    return json.dumps(
        {
            "etag": "fake-etag-1",
            "key": "azure-appconfig-plugin/connection-probe",
            "label": PROBE_LABEL,
            "content_type": None,
            "value": "connection probe; safe to delete",
            "tags": {},
            "locked": False,
            "last_modified": "2026-11-27T09:00:00+00:00",
        }
    )


def put_real(status: int = 200) -> dict[str, Any]:
    req = {**ALREADY, "Content-Type": "application/json", "If-None-Match": "*"}
    body = json.dumps(
        {
            "key": "azure-appconfig-plugin/connection-probe",
            "label": PROBE_LABEL,
            "value": "connection probe; safe to delete",
            "tags": {},
        }
    )
    if status == 200:
        return interaction(
            "PUT",
            REAL_URI,
            200,
            "OK",
            store_headers(KV, {"ETag": '"fake-etag-1"', "Last-Modified": DATE}),
            setting_body(),
            req,
            body,
        )
    return interaction("PUT", REAL_URI, status, MESSAGES[status], store_headers(None), None, req, body)


def delete_real(status: int = 200, extra: dict[str, str] | None = None) -> dict[str, Any]:
    if status == 200:
        return interaction(
            "DELETE",
            REAL_URI,
            200,
            "OK",
            store_headers(KV, {"ETag": '"fake-etag-1"', "Last-Modified": DATE}),
            setting_body(),
            ALREADY,
        )
    return interaction("DELETE", REAL_URI, status, MESSAGES[status], store_headers(None, extra), None, ALREADY)


MESSAGES = {
    200: "OK",
    204: "No Content",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
THROTTLED = json.dumps(
    {
        "type": "https://azconfig.io/errors/too-many-requests",
        "title": "Resource utilization has surpassed the assigned quota",
        "policy": "Total Requests",
        "status": 429,
    }
)
WWW_AUTH = 'HMAC-SHA256, Bearer error="invalid_token", error_description="Authorization token failed validation"'


def token() -> list[dict[str, Any]]:
    return [openid_configuration(), client_credentials_ok(token=ACCESS_JWT, expires_in=3599)]


def build() -> None:
    write("store_healthy.yaml", token() + [read(), put_precondition(412), delete_precondition(412)])
    write("store_read_only.yaml", token() + [read(), put_precondition(403), delete_precondition(403)])
    write("store_no_role.yaml", token() + [read(403), put_precondition(403), delete_precondition(403)])
    write("store_wrong_tenant.yaml", token() + [read(401, {"WWW-Authenticate": WWW_AUTH})])
    write("store_token_only.yaml", token())
    write(
        "store_throttled_then_ok.yaml",
        token()
        + [read(429, {"retry-after-ms": "10"}, THROTTLED), read(), put_precondition(412), delete_precondition(412)],
    )
    write(
        "store_throttled_exhausted.yaml",
        token()
        + [read(429, {"retry-after-ms": "10"}, THROTTLED) for _ in range(4)]
        + [put_precondition(412), delete_precondition(412)],
    )
    write("store_write_probe.yaml", token() + [read(), put_real(), delete_real()])
    write(
        "store_write_probe_delete_fails_once.yaml",
        token()
        + [read(), put_real()]
        + [delete_real(503, {"retry-after-ms": "10"}) for _ in range(4)]
        + [delete_real()],
    )
    write("store_write_probe_write_denied.yaml", token() + [read(), put_real(403)])
    write("store_write_probe_delete_denied.yaml", token() + [read(), put_real(), delete_real(403)])
    write("store_usgov_healthy.yaml", _gov())


def _gov() -> list[dict[str, Any]]:
    host = "contoso-appconfig.azconfig.azure.us"
    out = [
        openid_configuration("login.microsoftonline.us"),
        client_credentials_ok(
            host="login.microsoftonline.us", scope="https://azconfig.azure.us/.default", token=ACCESS_JWT
        ),
    ]
    for item in (read(), put_precondition(412), delete_precondition(412)):
        item["request"]["uri"] = item["request"]["uri"].replace(STORE_HOST, host)
        out.append(item)
    return out
