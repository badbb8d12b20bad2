"""Writes the hand-made cassettes in tests/cassettes/ (run: python tests/cassette_factory.py).

We cannot record against Azure from CI, so these interactions are written to match real
Microsoft identity platform and App Configuration traffic: status codes, headers and body
shapes follow recorded Azure traffic (see docs/development.md, "Cassettes"). Only
placeholders and fakes appear; the secret scan checks that.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent / "src"))

from app_connections.testing import fakes  # noqa: E402 - after the sys.path insert

CASSETTES = ROOT / "cassettes"
DATE = "Fri, 27 Nov 2026 09:00:00 GMT"
TENANT = fakes.FAKE_TENANT_ID
PUBLIC = "login.microsoftonline.com"
STORE_HOST = f"{fakes.FAKE_STORE_NAME}.azconfig.io"
API = "2023-11-01"
_trace = [0]


def trace_id() -> str:
    _trace[0] += 1
    return f"{fakes.PLACEHOLDER_GUID_PREFIX}{_trace[0]:012x}"


def interaction(
    method: str,
    uri: str,
    status: int,
    message: str,
    resp_headers: dict[str, str],
    body: str | None,
    req_headers: dict[str, str] | None = None,
    req_body: str | None = None,
) -> dict[str, Any]:
    headers = {k: [v] for k, v in resp_headers.items()}
    if body is not None:
        headers["Content-Length"] = [str(len(body.encode()))]
    else:
        headers["Content-Length"] = ["0"]
    return {
        "request": {
            "body": req_body,
            "headers": {k: [v] for k, v in (req_headers or {}).items()},
            "method": method,
            "uri": uri,
        },
        "response": {
            "status": {"code": status, "message": message},
            "headers": headers,
            "body": {"string": body if body is not None else ""},
        },
    }


# --- Microsoft identity platform ------------------------------------------------------------

ESTS_HEADERS = {
    "Cache-Control": "no-store, no-cache",
    "Content-Type": "application/json; charset=utf-8",
    "Date": DATE,
    "Expires": "-1",
    "Pragma": "no-cache",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
}
MSAL_HEADERS = {"Accept": "application/json", "x-client-sku": "MSAL.Python", "x-ms-lib-capability": "retry-after, h429"}


def openid_configuration(host: str = PUBLIC, tenant: str = TENANT, resolved: str | None = None) -> dict[str, Any]:
    t = resolved or tenant
    issuer_tenant = "{tenantid}" if tenant in ("organizations", "common") else t
    cloud = host.split("login.", 1)[1]
    body = {
        "token_endpoint": f"https://{host}/{t}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"https://{host}/{t}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"https://{host}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"https://{host}/{t}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"https://{host}/{t}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"https://{host}/{t}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],
        "kerberos_endpoint": f"https://{host}/{t}/kerberos",
        "tenant_region_scope": "NA",
        "cloud_instance_name": cloud,
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }
    return _discovery(host, tenant, 200, "OK", "max-age=86400, private", body)


def _discovery(host: str, tenant: str, status: int, message: str, cache: str, body: dict[str, Any]) -> dict[str, Any]:
    """The openid-configuration GET MSAL makes before its first token request."""
    headers = {
        "Access-Control-Allow-Methods": "GET, OPTIONS",
        "Access-Control-Allow-Origin": "*",
        "Cache-Control": cache,
        "Content-Type": "application/json; charset=utf-8",
        "Date": DATE,
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
    }
    return interaction(
        "GET",
        f"https://{host}/{tenant}/v2.0/.well-known/openid-configuration",
        status,
        message,
        headers,
        json.dumps(body),
        {"Accept-Encoding": "gzip, deflate"},
    )


def aad_error_body(
    error: str, code: int, text: str, *, with_uri: bool = True, suberror: str | None = None
) -> dict[str, Any]:
    tid, cid = trace_id(), trace_id()
    body: dict[str, Any] = {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {text}\r\nTrace ID: {tid}\r\nCorrelation ID: {cid}\r\nTimestamp: 2026-11-27 09:00:00Z"
        ),
        "error_codes": [code],
        "timestamp": "2026-11-27 09:00:00Z",
        "trace_id": tid,
        "correlation_id": cid,
    }
    if with_uri:
        body["error_uri"] = f"https://login.microsoftonline.com/error?code={code}"
    if suberror:
        body["suberror"] = suberror
    return body


def openid_configuration_error(host: str, tenant: str) -> dict[str, Any]:
    body = aad_error_body(
        "invalid_tenant",
        90002,
        f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the "
        "correct cloud. Check with your subscription administrator, this may happen if there are no active "
        "subscriptions for the tenant.",
    )
    return _discovery(host, tenant, 400, "Bad Request", "private", body)


def token_request_body(grant: str, client_id: str, scope: str, **extra: str) -> str:
    fields = {"client_id": client_id, "grant_type": grant, "client_info": "1", **extra, "scope": scope}
    return urlencode(fields)


def token_response(
    host: str,
    tenant: str,
    body: dict[str, Any],
    req_body: str,
    status: int = 200,
    message: str = "OK",
    extra_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    return interaction(
        "POST",
        f"https://{host}/{tenant}/oauth2/v2.0/token",
        status,
        message,
        {**ESTS_HEADERS, **(extra_headers or {})},
        json.dumps(body),
        {**MSAL_HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
        req_body,
    )


def client_credentials_ok(
    host: str = PUBLIC,
    tenant: str = TENANT,
    scope: str = "https://azconfig.io/.default",
    token: str = fakes.FAKE_ACCESS_TOKEN,
    expires_in: int = 3599,
) -> dict[str, Any]:
    body = {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": token}
    req = token_request_body("client_credentials", fakes.FAKE_CLIENT_ID, scope, client_secret=fakes.REDACTED)
    return token_response(host, tenant, body, req)


def client_credentials_error(
    status: int,
    message: str,
    error: str,
    code: int,
    text: str,
    tenant: str = TENANT,
    extra_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    req = token_request_body(
        "client_credentials", fakes.FAKE_CLIENT_ID, "https://azconfig.io/.default", client_secret=fakes.REDACTED
    )
    return token_response(PUBLIC, tenant, aad_error_body(error, code, text), req, status, message, extra_headers)


USER_SCOPE = "https://azconfig.io/.default offline_access openid profile"


def user_token_ok(
    grant: str,
    *,
    tenant_path: str,
    nonce: str | None,
    access: str,
    refresh: str,
    host: str = PUBLIC,
    expires_in: int = 4651,
    **req: str,
) -> dict[str, Any]:
    body = {
        "token_type": "Bearer",
        "scope": (
            "https://azconfig.io/KeyValue.Delete https://azconfig.io/KeyValue.Read"
            " https://azconfig.io/KeyValue.Write https://azconfig.io/.default"
        ),
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": access,
        "refresh_token": refresh,
        "id_token": fakes.fake_id_token(nonce=nonce, login_host=host),
        "client_info": fakes.fake_client_info(),
    }
    req_body = token_request_body(grant, fakes.FAKE_INSTANCE_CLIENT_ID, USER_SCOPE, client_secret=fakes.REDACTED, **req)
    return token_response(host, tenant_path, body, req_body)


def user_token_error(
    grant: str,
    *,
    tenant_path: str,
    status: int,
    error: str,
    aadsts: int,
    text: str,
    suberror: str | None = None,
    with_uri: bool = True,
    **req: str,
) -> dict[str, Any]:
    req_body = token_request_body(grant, fakes.FAKE_INSTANCE_CLIENT_ID, USER_SCOPE, client_secret=fakes.REDACTED, **req)
    message = {400: "Bad Request", 401: "Unauthorized"}.get(status, "Error")
    return token_response(
        PUBLIC,
        tenant_path,
        aad_error_body(error, aadsts, text, with_uri=with_uri, suberror=suberror),
        req_body,
        status,
        message,
    )


def write(name: str, interactions: list[dict[str, Any]]) -> None:
    CASSETTES.mkdir(exist_ok=True)
    path = CASSETTES / name
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=False, width=1000))


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from cassettes_auth import build as build_auth
    from cassettes_methods import build as build_methods
    from cassettes_store import build as build_store
    from cassettes_sync import build as build_sync

    build_auth()
    build_store()
    build_methods()
    build_sync()


if __name__ == "__main__":
    main()
