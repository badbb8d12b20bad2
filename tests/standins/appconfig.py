"""An HTTPS App Configuration stand-in on loopback (trustme certificate).

Implements what the sync uses, with the service's shapes: ``GET /kv`` with key/label filters (comma
lists, trailing ``*``, backslash escapes, ``\\0`` for the null label), ``$select`` and pagination
(``Link: <...>; rel="next"`` plus ``@nextLink``; ``after`` = base64 of key LF label; sorted by key);
``GET``/``PUT``/``DELETE /kv/{key}?label=`` with quoted ETags, ``PUT``/``DELETE /locks/{key}``,
``If-Match`` / ``If-None-Match: *`` (412 with an empty body), locks (409 problem+json), 204 for
deleting an absent key; ``Sync-Token`` on every answer (requests' ``Sync-Token`` headers are
recorded); ``Authorization: Bearer <token>`` or an access key's ``HMAC-SHA256
Credential=<id>&SignedHeaders=...&Signature=...`` (its shape checked, with the signed
``x-ms-date``/``x-ms-content-sha256`` headers present) required (401 otherwise); for a key id given
in ``access_keys`` the signature itself is verified independently of any client, over the request
line exactly as it arrived (method, path and query as sent, date, host, body hash). Injectable:
latency per request, 429s on every Nth write (``retry-after-ms``), scripted answers per (method,
key), hooks after a list.

Run as a process for benchmarks: ``python tests/standins/appconfig.py`` prints one JSON line
``{"port": ..., "ca": ...}``; ``POST /_standin/config``, ``POST /_standin/reset`` and
``GET /_standin/stats`` control it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac as _hmac
import json
import re
import secrets as _secrets
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import trustme

KVSET = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"
KV = "application/vnd.microsoft.appconfig.kv+json; charset=utf-8"
PROBLEM = "application/problem+json; charset=utf-8"
FIELDS = ("etag", "key", "label", "content_type", "value", "tags", "locked", "last_modified")
WRITE_METHODS = ("PUT", "DELETE")


def _split_filter(text: str) -> list[tuple[str, bool]]:
    """A filter as (literal, is_prefix) alternatives: unescaped ',' separates, trailing unescaped '*' is a prefix."""
    out: list[tuple[str, bool]] = []
    cur, prefix, i = "", False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur += text[i + 1]
            i += 2
            continue
        if c == ",":
            out.append((cur, prefix))
            cur, prefix = "", False
        elif c == "*":
            prefix = True
        else:
            cur += c
        i += 1
    out.append((cur, prefix))
    return out


def _matches(value: str | None, alternatives: list[tuple[str, bool]], *, label: bool) -> bool:
    for lit, prefix in alternatives:
        if label and lit == "\0" and not prefix:
            if value is None:
                return True
            continue
        if prefix and lit == "":
            return True
        if value is None:
            continue
        if (prefix and value.startswith(lit)) or value == lit:
            return True
    return False


HMAC_AUTH = re.compile(r"HMAC-SHA256 Credential=([^&\s]+)&SignedHeaders=([a-z0-9;-]+)&Signature=([A-Za-z0-9+/]+={0,2})")
HMAC_SIGNED = ("x-ms-date", "host", "x-ms-content-sha256")


def hmac_credential(auth: str, headers: Any) -> str | None:
    """The key id of an access-key ``Authorization`` header of the right shape (its signed headers
    include and accompany ``x-ms-date``, ``host`` and ``x-ms-content-sha256``); None otherwise.
    The signature itself is not verified: the stand-in only checks the request is signed, not bearer."""
    found = HMAC_AUTH.fullmatch(auth)
    if found is None:
        return None
    signed = found.group(2).split(";")
    if (
        any(name not in signed for name in HMAC_SIGNED)
        or not headers.get("x-ms-date")
        or not headers.get("x-ms-content-sha256")
    ):
        return None
    return found.group(1)


def hmac_signature_valid(secret_b64: str, method: str, path_and_query: str, headers: Any, body: bytes) -> bool:
    """App Configuration's access-key signature, computed here from the raw request: HMAC-SHA256 of
    ``METHOD \n path?query \n x-ms-date;host;x-ms-content-sha256`` with the key's decoded secret,
    and the content hash must be the body's SHA-256."""
    found = HMAC_AUTH.fullmatch(headers.get("Authorization") or "")
    if found is None or found.group(2) != ";".join(HMAC_SIGNED):
        return False
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if headers.get("x-ms-content-sha256") != content_hash:
        return False
    signed = f"{method}\n{path_and_query}\n{headers.get('x-ms-date')};{headers.get('Host')};{content_hash}"
    digest = _hmac.new(base64.b64decode(secret_b64), signed.encode("utf-8"), hashlib.sha256).digest()
    return _hmac.compare_digest(base64.b64encode(digest).decode(), found.group(3))


class Store:
    """The stand-in's state (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.entries: dict[tuple[str, str | None], dict[str, Any]] = {}
        self.sn = 0
        self.sync_id = "zAJw6V16"

    def put(
        self,
        key: str,
        value: str | None = "",
        label: str | None = None,
        content_type: str | None = None,
        tags: dict[str, str] | None = None,
        locked: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            self.sn += 1
            entry = {
                "etag": _secrets.token_hex(16),
                "key": key,
                "label": label,
                "content_type": content_type,
                "value": value,
                "tags": dict(tags or {}),
                "locked": locked,
                "last_modified": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            }
            self.entries[(key, label)] = entry
            return dict(entry)

    def get(self, key: str, label: str | None = None) -> dict[str, Any] | None:
        with self.lock:
            e = self.entries.get((key, label))
            return dict(e) if e else None

    def entry(self, key: str, label: str | None = None) -> dict[str, Any]:
        """The entry (key, label); ``KeyError`` when there is none."""
        found = self.get(key, label)
        if found is None:
            raise KeyError((key, label))
        return found

    def lock_entry(self, key: str, label: str | None = None, locked: bool = True) -> None:
        with self.lock:
            self.entries[(key, label)]["locked"] = locked

    def snapshot(self) -> dict[tuple[str, str | None], dict[str, Any]]:
        with self.lock:
            return {k: dict(v) for k, v in self.entries.items()}

    def sync_token(self) -> str:
        return f"{self.sync_id}={base64.b64encode(f'{self.sn}'.encode()).decode()};sn={self.sn}"


class StandIn:
    """``with StandIn() as s:`` serves on ``s.endpoint`` (``https://127.0.0.1:<port>``); trust ``s.ca_path``."""

    def __init__(self, *, latency: float = 0.0, page_size: int = 100) -> None:
        self.store = Store()
        self.latency = latency
        self.page_size = page_size
        self.throttle_every = 0
        """Answer every Nth write (PUT/DELETE) with 429."""
        self.retry_after_ms = 20
        self.script: dict[tuple[str, str], list[Any]] = {}
        """(method, key) -> answers to give first: a status code, "reset" (drop the connection unanswered) or
        "lost" (apply the request, then drop the connection: the client never sees the answer) or "hang" (answer
        nothing until the stand-in stops, or 5 s)."""
        self.released = threading.Event()
        self.after_list: list[Callable[[Store], object]] = []
        self.link_host: str | None = None
        """When set, next-page links are absolute URLs on this host (a hostile store)."""
        self.link_extra = ""
        """Appended to every next-page link's query as is (e.g. a raw ``{``)."""
        self.drop_api_version = False
        """Next-page links without ``api-version`` (the client must add it)."""
        self.ignore_filters = False
        """List every entry whatever the key and label filters say (a broken or hostile store)."""
        self.links: list[str] = []
        """The next-page links sent, in order."""
        self.log: list[dict[str, Any]] = []
        self.sync_tokens_received: list[str] = []
        self.bearer_tokens: set[str] = set()
        self.hmac_credentials: set[str] = set()
        """Access key ids of the HMAC-signed requests received."""
        self.access_keys: dict[str, str] = {}
        """Key id -> base64 secret: requests signed with these ids get their signature verified."""
        self.bad_signatures = 0
        """Requests refused because their signature did not verify."""
        """Access tokens presented (the stand-in accepts any; tests check which one came)."""
        self.throttled = 0
        self.in_flight = 0
        self.max_in_flight = 0
        """Most requests handled at the same time (latency included)."""
        self._writes = 0
        self._lock = threading.Lock()
        self._ca = trustme.CA()
        self._dir = tempfile.TemporaryDirectory(prefix="appconfig-standin-")
        self.ca_path = str(Path(self._dir.name) / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_path)
        cert = self._ca.issue_cert("127.0.0.1", "localhost")
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self._ctx)
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self.port = self._server.server_address[1]
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self.allow_list = f"127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # --- control -----------------------------------------------------------------------------
    def start(self) -> StandIn:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._dir.cleanup()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def inject(self, method: str, key: str, *answers: Any) -> None:
        self.script.setdefault((method, key), []).extend(answers)

    def reset(self) -> None:
        with self._lock, self.store.lock:
            self.store.entries.clear()
            self.log.clear()
            self.sync_tokens_received.clear()
            self.script.clear()
            self.after_list.clear()
            self.throttled = self._writes = 0
            self.throttle_every = 0

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.log if method is None or r["method"] == method]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            by: dict[str, int] = {}
            for r in self.log:
                by[r["method"]] = by.get(r["method"], 0) + 1
            return {
                "requests": len(self.log),
                "by_method": by,
                "throttled": self.throttled,
                "entries": len(self.store.entries),
                "sync_tokens_received": len(self.sync_tokens_received),
            }

    # --- request handling ----------------------------------------------------------------------
    def _record(self, method: str, path: str, query: dict[str, list[str]], headers: Any, raw_query: str = "") -> None:
        with self._lock:
            self.log.append(
                {
                    "method": method,
                    "path": path,
                    "raw_query": raw_query,
                    "query": {k: v[0] for k, v in query.items()},
                    "headers": {k.lower(): v for k, v in headers.items() if k.lower() != "authorization"},
                    "at": time.monotonic(),  # when it arrived: what a cancelled client sent after its cancel
                }
            )
            auth = headers.get("Authorization") or ""
            if auth.startswith("Bearer "):
                self.bearer_tokens.add(auth[len("Bearer ") :])
            hmac = hmac_credential(auth, headers)
            if hmac is not None:
                self.hmac_credentials.add(hmac)
            token = headers.get("Sync-Token")
            if token:
                self.sync_tokens_received.append(token)

    def _scripted(self, method: str, key: str) -> Any:
        with self._lock:
            answers = self.script.get((method, key))
            return answers.pop(0) if answers else None

    def _throttle(self) -> bool:
        with self._lock:
            self._writes += 1
            if self.throttle_every and self._writes % self.throttle_every == 0:
                self.throttled += 1
                return True
            return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], handler: type, standin: StandIn) -> None:
        self.standin = standin
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that refuses this server's certificate or hangs up (tests do both on purpose) is
        expected: only anything else is printed."""
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            super().handle_error(request, client_address)

    def get_request(self) -> Any:
        sock, addr = self.socket.accept()
        return self.standin._ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


def _label_param(query: dict[str, list[str]]) -> str | None:
    label = query.get("label", [None])[0]
    return None if label in (None, "\0") else label


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # like a real server: no 40 ms Nagle/delayed-ACK stalls between writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    @property
    def s(self) -> StandIn:
        return self.server.standin

    def _send(
        self, status: int, body: Any = None, content_type: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        if content_type and data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Sync-Token", self.s.store.sync_token())
        self.send_header("x-ms-correlation-request-id", _secrets.token_hex(8))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        buffered: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]  # BaseHTTPRequestHandler's private buffer, set by send_response
        buffered.append(b"\r\n")  # end_headers, sent together with the body in one write
        self.wfile.write(b"".join(buffered) + data)
        buffered.clear()

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        self._raw = self.rfile.read(length) if length else b""
        return json.loads(self._raw) if self._raw else None

    def _signature_refused(self) -> bool:
        """A request signed with a key id in ``access_keys`` whose signature does not verify."""
        key_id = hmac_credential(self.headers.get("Authorization") or "", self.headers)
        secret = self.s.access_keys.get(key_id or "")
        if secret is None:
            return False
        body = getattr(self, "_raw", b"")
        if hmac_signature_valid(secret, self.command, self.path, self.headers, body):
            return False
        with self.s._lock:
            self.s.bad_signatures += 1
        return True

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        self._raw = b""
        body = self._body() if self.command in ("PUT", "POST") else None
        if parts.path.startswith("/_standin/"):
            return self._admin(parts.path, body)
        self.s._record(self.command, parts.path, query, self.headers, parts.query)
        with self.s._lock:
            self.s.in_flight += 1
            self.s.max_in_flight = max(self.s.max_in_flight, self.s.in_flight)
        try:
            return self._serve(parts, query, body)
        finally:
            with self.s._lock:
                self.s.in_flight -= 1

    def _serve(self, parts: Any, query: dict[str, list[str]], body: Any) -> None:
        if self.s.latency:
            time.sleep(self.s.latency)
        auth = self.headers.get("Authorization") or ""
        if (
            not auth.startswith("Bearer ") and hmac_credential(auth, self.headers) is None
        ) or self._signature_refused():
            return self._send(
                401,
                headers={
                    "WWW-Authenticate": 'HMAC-SHA256, Bearer error="invalid_token", '
                    'error_description="Authorization token failed validation"'
                },
            )
        if parts.path == "/kv":
            scripted = self.s._scripted("GET", "/kv")
            if scripted is not None:
                return self._scripted_answer(scripted)
            return self._list(query)
        if parts.path.startswith("/kv/"):
            return self._kv(unquote(parts.path[len("/kv/") :]), query, body)
        if parts.path.startswith("/locks/") and self.command in WRITE_METHODS:
            return self._lock(unquote(parts.path[len("/locks/") :]), _label_param(query))
        return self._send(404)

    def _lock(self, key: str, label: str | None) -> None:
        """``PUT /locks/{key}`` makes the entry read-only, ``DELETE`` makes it writable again."""
        store = self.s.store
        with store.lock:
            current = store.entries.get((key, label))
            if current is None:
                return self._send(404)
            current["locked"] = self.command == "PUT"
            current["etag"] = _secrets.token_hex(16)
            return self._send(200, dict(current), KV, {"ETag": f'"{current["etag"]}"'})

    def _kv(self, key: str, query: dict[str, list[str]], body: Any) -> None:
        scripted = self.s._scripted(self.command, key)
        if scripted == "lost":
            self._one(key, _label_param(query), body, answer=False)
            scripted = "reset"
        if scripted == "hang":
            self.s.released.wait(5.0)
            scripted = "reset"
        if scripted is not None:
            return self._scripted_answer(scripted)
        if self.command in WRITE_METHODS and self.s._throttle():
            problem = {
                "type": "https://azconfig.io/errors/too-many-requests",
                "title": "Resource utilization has surpassed the assigned quota",
                "policy": "Total Requests",
                "status": 429,
            }
            return self._send(429, problem, PROBLEM, {"retry-after-ms": str(self.s.retry_after_ms)})
        return self._one(key, _label_param(query), body)

    do_GET = do_PUT = do_DELETE = do_POST = _handle

    def _scripted_answer(self, scripted: Any) -> None:
        """A status code (429/503 come with ``retry-after-ms: 10``), (status, headers), or "reset"."""
        if scripted == "reset":  # drop the connection without an answer
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return None
        status, headers = (
            scripted
            if isinstance(scripted, tuple)
            else (scripted, {"retry-after-ms": "10"} if scripted in (429, 503) else {})
        )
        problem = {"type": "https://azconfig.io/errors/scripted", "title": "scripted answer", "status": status}
        return self._send(status, problem if status >= 400 and status not in (404, 412) else None, PROBLEM, headers)

    def _admin(self, path: str, body: Any) -> None:
        s = self.s
        if path == "/_standin/reset":
            s.reset()
        elif path == "/_standin/config":
            for k in ("latency", "throttle_every", "retry_after_ms", "page_size"):
                if k in (body or {}):
                    setattr(s, k, body[k])
        elif path == "/_standin/seed":
            for e in body or []:
                s.store.put(e["key"], e.get("value"), e.get("label"), e.get("content_type"), e.get("tags"))
        elif path == "/_standin/log":  # the requests received (method, path, arrival time) and the keys held
            seen = [{"method": r["method"], "path": r["path"], "at": r["at"]} for r in s.requests()]
            keys = sorted(key for key, _ in s.store.snapshot())
            return self._send(200, {"requests": seen, "keys": keys}, "application/json")
        return self._send(200, s.stats(), "application/json")

    def _list(self, query: dict[str, list[str]]) -> None:
        every = self.s.ignore_filters
        key_alts = _split_filter(query["key"][0]) if "key" in query and not every else [("", True)]
        label_alts = _split_filter(query["label"][0]) if "label" in query and not every else [("", True)]
        select = query.get("$select", [",".join(FIELDS)])[0].split(",")
        after = query.get("after", [None])[0]
        rows = sorted(
            (
                e
                for e in self.s.store.snapshot().values()
                if _matches(e["key"], key_alts, label=False) and _matches(e["label"], label_alts, label=True)
            ),
            key=lambda e: (e["key"], e["label"] or ""),
        )
        if after:
            last_key, _, last_label = base64.b64decode(after).decode().partition("\n")
            rows = [e for e in rows if (e["key"], e["label"] or "") > (last_key, last_label)]
        page, more = rows[: self.s.page_size], len(rows) > self.s.page_size
        body: dict[str, Any] = {"items": [{f: e[f] for f in select if f in e} for e in page]}
        headers = {}
        if more:
            token = base64.b64encode(f"{page[-1]['key']}\n{page[-1]['label'] or ''}".encode()).decode()
            skip = ("after", "api-version") if self.s.drop_api_version else ("after",)
            params = [f"{k}={quote(v[0], safe='*')}" for k, v in query.items() if k not in skip]
            link = "/kv?" + "&".join(params + [f"after={quote(token)}"]) + self.s.link_extra
            self.s.links.append(link)
            if self.s.link_host:
                link = f"https://{self.s.link_host}{link}"
            headers["Link"] = f'<{link}>; rel="next"'
            body["@nextLink"] = link
        self._send(200, body, KVSET, headers)
        for hook in list(self.s.after_list):
            hook(self.s.store)

    def _one(self, key: str, label: str | None, body: Any, *, answer: bool = True) -> None:
        if not answer:  # apply the request, answer nothing (the answer is "lost")
            self._send = lambda *a, **k: None  # type: ignore[method-assign]  # this request gets no answer, on purpose
        store = self.s.store
        if_match = (self.headers.get("If-Match") or "").strip('"') or None
        if_none = self.headers.get("If-None-Match")
        with store.lock:
            current = store.get(key, label)
            if self.command == "GET":
                if current is None:
                    return self._send(404)
                return self._send(200, current, KV, {"ETag": f'"{current["etag"]}"'})
            if (if_none == "*" and current is not None) or (
                if_match and (current is None or current["etag"] != if_match)
            ):
                return self._send(412)
            if current is not None and current["locked"]:
                return self._send(
                    409,
                    {
                        "type": "https://azconfig.io/errors/key-locked",
                        "title": f"Modifing key '{key}' is not allowed",
                        "name": key,
                        "detail": "The key is read-only. To allow modification unlock it first.",
                        "status": 409,
                    },
                    PROBLEM,
                )
            if self.command == "DELETE":
                if current is None:
                    return self._send(204)
                del store.entries[(key, label)]
                store.sn += 1
                return self._send(200, current, KV, {"ETag": f'"{current["etag"]}"'})
            body = body or {}
            entry = store.put(key, body.get("value"), label, body.get("content_type"), body.get("tags") or {})
            return self._send(
                200,
                entry,
                KV,
                {
                    "ETag": f'"{entry["etag"]}"',
                    "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
                },
            )


def main() -> None:  # pragma: no cover - used by benchmarks/sync.py
    standin = StandIn().start()
    print(json.dumps({"port": standin.port, "ca": standin.ca_path}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        standin.stop()


@contextlib.contextmanager
def running(**kw: Any) -> Iterator[StandIn]:
    with StandIn(**kw) as s:
        yield s


if __name__ == "__main__":  # pragma: no cover - run by hand to serve the stand-in
    main()
