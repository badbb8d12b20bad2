"""Local stand-ins for the Microsoft identity platform and an App Configuration store.

Each is a threaded HTTPS server on 127.0.0.1 (TLS from a trustme CA the tests trust through
``REQUESTS_CA_BUNDLE``) whose answers a test scripts: a route function gets the request and
returns an ``Answer``. Every request is recorded (method, path, headers, body), so a test can
assert what was (and was not) sent where.
"""

from __future__ import annotations

import base64
import http.server
import json
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from app_connections.testing import fakes


@attrs.define
class Answer:
    status: int = 200
    headers: dict[str, str] = attrs.Factory(dict)
    body: bytes = b""
    drip_seconds: float = 0.0
    """> 0: send the headers slowly too, one byte every ``drip_seconds`` (never finishing quickly)."""
    drip_body: bool = False
    """Send the body one byte every ``drip_seconds`` after normal headers."""
    stream_chunks: Iterator[bytes] | None = None
    """Send the body from this iterator with chunked encoding (no Content-Length)."""


def json_answer(data: Any, status: int = 200, **headers: str) -> Answer:
    return Answer(status, {"Content-Type": "application/json", **headers}, json.dumps(data).encode())


@attrs.define
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = attrs.Factory(time.monotonic)
    """When the request arrived (``time.monotonic``): what a cancelled client sent after its cancel."""

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8", "replace"))


Route = Callable[[Seen], Answer]


class _Server(http.server.ThreadingHTTPServer):
    # hundreds of clients connecting at once (async hosts) wait in the backlog, not in SYN retries
    request_queue_size = 256
    ssl_context: ssl.SSLContext | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that refuses this server's certificate or hangs up (tests do both on purpose) is
        expected: only anything else is printed."""
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            super().handle_error(request, client_address)

    def get_request(self) -> Any:
        sock, addr = self.socket.accept()
        if self.ssl_context is None:
            return sock, addr
        # the TLS handshake happens in the connection's own thread, not one at a time in the accept loop
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


class StandIn:
    """An HTTPS server on 127.0.0.1:<free port> answering with ``route``."""

    def __init__(self, ssl_context: ssl.SSLContext, route: Route | None = None) -> None:
        self.route: Route = route or (lambda seen: Answer(404))
        self.seen: list[Seen] = []
        self.bytes_sent = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                outer.seen.append(seen)
                answer = outer.route(seen)
                try:
                    outer._send(self, answer)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.ssl_context = ssl_context
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"https://{self.netloc}"

    def _send(self, handler: http.server.BaseHTTPRequestHandler, answer: Answer) -> None:
        w = handler.wfile
        head = f"HTTP/1.1 {answer.status} X\r\n"
        headers = dict(answer.headers)
        if answer.stream_chunks is not None:
            headers["Transfer-Encoding"] = "chunked"
        else:
            headers.setdefault("Content-Length", str(len(answer.body)))
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        if answer.drip_seconds and not answer.drip_body:
            for i in range(len(head)):
                w.write(head[i].encode("latin-1"))
                w.flush()
                self.bytes_sent += 1
                time.sleep(answer.drip_seconds)
        else:
            w.write(head.encode("latin-1"))
        if answer.stream_chunks is not None:
            for chunk in answer.stream_chunks:
                w.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.bytes_sent += len(chunk)
            w.write(b"0\r\n\r\n")
        elif answer.drip_body:
            for byte in answer.body:
                w.write(bytes([byte]))
                w.flush()
                self.bytes_sent += 1
                time.sleep(answer.drip_seconds)
        else:
            w.write(answer.body)
            self.bytes_sent += len(answer.body)
        w.flush()

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the identity platform ----------------------------------------------------------------------


def jwt(claims: dict[str, Any]) -> str:
    return fakes.fake_jwt(claims)


class IdentityPlatform:
    """Discovery and token endpoints of a fake login host; tokens are unsigned JWTs.

    ``tenants`` maps a tenant as requested (GUID or domain) to the tenant ID its discovery names.
    ``token_answer(seen)`` decides each token answer (default: a valid one); ``token_delay`` slows
    every token answer (to let concurrent callers pile up).
    """

    def __init__(self, server: StandIn, tenants: dict[str, str] | None = None) -> None:
        self.server = server
        self.tenants = tenants or {fakes.FAKE_TENANT_ID: fakes.FAKE_TENANT_ID}
        self.token_delay = 0.0
        self.token_answer: Callable[[Seen, str], Answer] = self.good_token
        self.discovery_override: Callable[[Seen, str], Answer] | None = None
        self.id_token_claims: dict[str, Any] = {}
        self.rotations = 0
        server.route = self.route

    @property
    def token_requests(self) -> list[Seen]:
        return [s for s in self.server.seen if s.method == "POST" and s.path.endswith("/oauth2/v2.0/token")]

    def issuer(self, tid: str) -> str:
        return f"{self.server.url}/{tid}/v2.0"

    def route(self, seen: Seen) -> Answer:
        parts = urlsplit(seen.path).path.strip("/").split("/")
        tenant = parts[0] if parts else ""
        tid = self.tenants.get(tenant)
        if seen.path.endswith("/.well-known/openid-configuration"):
            if self.discovery_override is not None:
                return self.discovery_override(seen, tid or "")
            if tid is None:
                return json_answer(
                    {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."}, 400
                )
            base = f"{self.server.url}/{tid}"
            return json_answer(
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": self.issuer(tid),
                }
            )
        if seen.path.endswith("/oauth2/v2.0/token") and seen.method == "POST":
            if self.token_delay:
                time.sleep(self.token_delay)
            return self.token_answer(seen, tid or tenant)
        return Answer(404)

    def good_token(self, seen: Seen, tid: str) -> Answer:
        form = seen.form
        grant = (form.get("grant_type") or [""])[0]
        client_id = (form.get("client_id") or [""])[0]
        access = jwt({"aud": "https://azconfig.io", "tid": tid, "appid": client_id, "n": len(self.server.seen)})
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": access,
        }
        if grant in ("authorization_code", "refresh_token"):
            self.rotations += 1
            body["refresh_token"] = f"rotated-refresh-token-{self.rotations}"
            body["scope"] = "https://azconfig.io/KeyValue.Read"
            claims = {
                "aud": client_id,
                "iss": self.issuer(tid),
                "tid": tid,
                "oid": fakes.FAKE_OBJECT_ID,
                "sub": "subject",
                "exp": int(time.time()) + 3600,
                "iat": int(time.time()),
                "nonce": (self.pending_nonce or ""),
                "preferred_username": "user@example.com",
            }
            claims.update(self.id_token_claims)
            if grant == "authorization_code":
                body["id_token"] = jwt({k: v for k, v in claims.items() if v is not ...})
            body["client_info"] = (
                base64.urlsafe_b64encode(json.dumps({"uid": fakes.FAKE_OBJECT_ID, "utid": tid}).encode())
                .decode()
                .rstrip("=")
            )
        return json_answer(body)

    pending_nonce: str | None = None
