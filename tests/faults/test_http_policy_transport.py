"""The HTTP policy's transport at its edges: through an HTTPS proxy, a request whose deadline passes
before it is sent, body-read failures mapped to the errors requests' callers know, the CA bundle
read from the environment, and waits a server asks for in a form that does not parse."""

from __future__ import annotations

import os
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from azure_appconfig_plugin.http import transport
from azure_appconfig_plugin.http.deadlines import bounded_by, operation_deadline, remaining
from azure_appconfig_plugin.http.errors import DeadlineExceeded, ForeignHostRefused, HttpPolicyError, RedirectRefused
from azure_appconfig_plugin.http.limits import configure
from azure_appconfig_plugin.http.watchdog import Watch

from .conftest import run_bounded
from .standins import Answer, StandIn, json_answer
from .test_store_faults import check, validate

# --- a CONNECT proxy on loopback ----------------------------------------------------------------


class ConnectProxy:
    """An HTTP proxy that tunnels ``CONNECT host:port``; ``drip_lines`` header lines (one every
    ``drip_seconds``) delay its ``200`` answer, as a slow corporate proxy does."""

    def __init__(self, drip_lines: int = 0, drip_seconds: float = 0.0) -> None:
        self.drip_lines = drip_lines
        self.drip_seconds = drip_seconds
        self.tunnels: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()

    def __enter__(self) -> ConnectProxy:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closed.set()
        self._listener.close()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                data = client.recv(4096)
                if not data:
                    return
                head += data
            target = head.split()[1].decode()
            self.tunnels.append(target)
            host, port = target.rsplit(":", 1)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n")
            for i in range(self.drip_lines):
                time.sleep(self.drip_seconds)
                client.sendall(f"X-Proxy-Wait: {i}\r\n".encode())
            client.sendall(b"\r\n")
            with socket.create_connection((host, int(port))) as upstream:
                self._pipe(client, upstream)

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        ends = [client, upstream]
        while not self._closed.is_set():
            ready, _, _ = select.select(ends, [], [], 0.2)
            for end in ready:
                try:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is client else client).sendall(data)
                except OSError:
                    return


@pytest.fixture
def through_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ConnectProxy]]:
    """Route sessions made after this through a proxy (as ``HTTPS_PROXY`` does for a real host)."""
    proxies: list[ConnectProxy] = []

    def start(**kwargs: Any) -> ConnectProxy:
        proxy = ConnectProxy(**kwargs).__enter__()
        proxies.append(proxy)
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        return proxy

    yield start
    for proxy in proxies:
        proxy.__exit__()


def test_a_store_dripping_its_body_through_a_proxy_is_cut_off_at_the_deadline(
    store: StandIn, through_proxy: Callable[..., ConnectProxy]
) -> None:
    """Bug (found by a coverage review): requests opens a proxied connection from a pool
    manager of its own, whose connections the request's watchdog never saw, so behind a proxy a
    server that dripped its answer (each byte within the read timeout) ran on past the deadline."""
    proxy = through_proxy()
    configure(store_request_seconds=0.4)
    store.route = lambda seen: (
        json_answer({}) if seen.path == "/ok" else Answer(200, {}, b"x" * 200, drip_seconds=0.05, drip_body=True)
    )
    made = transport.session("127.0.0.1", store.port, kind="store")
    assert made.get(f"{store.url}/ok").json() == {}  # the next request reuses this proxy's pool manager

    def get() -> Any:
        with pytest.raises(DeadlineExceeded):
            made.get(f"{store.url}/kv")

    _, elapsed = run_bounded(get, 30)
    assert proxy.tunnels == [store.netloc]  # both requests went through the proxy (one tunnel, kept alive)
    assert elapsed < 5  # cut off at about 0.4 s, not after the whole 10 s drip
    assert store.bytes_sent < 100


def test_a_request_whose_deadline_passed_while_the_proxy_tunnel_opened_is_never_sent(
    store: StandIn, through_proxy: Callable[..., ConnectProxy]
) -> None:
    """The deadline passes while the proxy is still answering CONNECT (before the request has a
    connection to watch): when the connection is handed to the request it is shut at once, so the
    request (and its token) never reaches the store."""
    through_proxy(drip_lines=12, drip_seconds=0.05)  # each line within the read timeout, 0.6 s in all
    configure(store_request_seconds=0.3)
    store.route = lambda seen: json_answer({"items": []})
    made = transport.session("127.0.0.1", store.port, kind="store")

    def get() -> Any:
        with pytest.raises(DeadlineExceeded):
            made.get(f"{store.url}/kv", headers={"Authorization": "Bearer canary-late-token"})

    run_bounded(get, 30)
    time.sleep(0.2)  # give a request that was (wrongly) sent time to arrive
    assert store.seen == []


# --- body-read failures reach callers as requests' own errors -------------------------------------


class OneShotServer:
    """Answers one request with ``script(socket)``, over TLS when given a server ``context`` (for
    answers the stand-in cannot send)."""

    def __init__(self, context: ssl.SSLContext | None, script: Callable[[socket.socket], None]) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._context = context
        self._script = script

    def __enter__(self) -> OneShotServer:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._listener.close()

    def _serve(self) -> None:
        try:
            raw, _ = self._listener.accept()
            with self._context.wrap_socket(raw, server_side=True) if self._context else raw as conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(4096)
                self._script(conn)
        except OSError:
            return


def _get(port: int, **kwargs: Any) -> Any:
    return transport.session("127.0.0.1", port, kind="store").get(f"https://127.0.0.1:{port}/kv", **kwargs)


def test_a_body_cut_short_is_a_chunked_encoding_error(server_context: ssl.SSLContext) -> None:
    def script(tls: socket.socket) -> None:
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        tls.unwrap()  # a clean TLS close 90 bytes early

    with OneShotServer(server_context, script) as server, pytest.raises(requests.exceptions.ChunkedEncodingError):
        _get(server.port)


def test_a_body_that_fails_its_tls_integrity_check_is_an_ssl_error(server_context: ssl.SSLContext) -> None:
    def script(tls: socket.socket) -> None:
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        # an application-data record that is not the server's: the client's TLS layer refuses it
        os.write(tls.fileno(), b"\x17\x03\x03\x00\x20" + b"\x00" * 32)
        time.sleep(0.5)

    with OneShotServer(server_context, script) as server, pytest.raises(requests.exceptions.SSLError):
        _get(server.port)


def test_a_body_that_does_not_decompress_is_a_content_decoding_error(store: StandIn) -> None:
    store.route = lambda seen: Answer(200, {"Content-Encoding": "gzip"}, b"this is not gzip")
    with pytest.raises(requests.exceptions.ContentDecodingError):
        _get(store.port)


def test_a_callers_single_number_timeout_bounds_each_read_of_the_body(store: StandIn) -> None:
    """``timeout=0.2`` (one number, as MSAL passes it) is the read timeout; the body stalls longer
    between bytes, which surfaces as requests' ConnectionError (as ``iter_content`` maps it), long
    before the 30 s store deadline."""
    configure(store_request_seconds=30)
    store.route = lambda seen: Answer(200, {}, b"abcd", drip_seconds=0.6, drip_body=True)

    def get() -> Any:
        with pytest.raises(requests.exceptions.ConnectionError) as caught:
            _get(store.port, timeout=0.2)
        assert not isinstance(caught.value, HttpPolicyError)

    run_bounded(get, 10)


# --- the CA bundle -------------------------------------------------------------------------------


def test_without_a_ca_bundle_in_the_environment_certificates_are_still_verified(
    store: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in transport.CA_BUNDLE_VARS:
        monkeypatch.delenv(name, raising=False)
    made = transport.session("127.0.0.1", store.port, kind="store")
    assert made.verify is True
    store.route = lambda seen: json_answer({"items": []})
    with pytest.raises(requests.exceptions.SSLError):  # the stand-in's test CA is not trusted by default
        made.get(f"{store.url}/kv")
    assert store.seen == []


# --- server-requested waits -----------------------------------------------------------------------


def test_a_retry_after_that_does_not_parse_is_retried_with_backoff(store: StandIn) -> None:
    configure(retry_total=1)
    store.route = lambda seen: json_answer({"title": "Too many requests"}, 429, **{"Retry-After": "soon"})
    report, _ = run_bounded(lambda: validate(store), 20)
    read = check(report, "KeyValue.Read")
    assert read.status.value == "inconclusive" and read.code == "429", read
    assert len([s for s in store.seen if s.method == "GET"]) == 2  # retried (no server wait), not abandoned


# --- an answer still arriving when its deadline passes ---------------------------------------------


def test_a_body_still_arriving_at_the_deadline_is_not_returned_in_part() -> None:
    """A server that sends faster than the client can take it in (tiny chunks, back to back): the
    deadline passes while answer data is still queued, so reads keep succeeding after it. The
    client stops there, and the part it read is never handed over as a 200."""
    configure(store_request_seconds=0.2)
    block = b"1\r\nx\r\n" * 10_000

    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        end = time.monotonic() + 5
        while time.monotonic() < end:
            conn.sendall(block)

    with OneShotServer(None, script) as server:
        made = transport.session("127.0.0.1", server.port, kind="store")

        def get() -> Any:
            with pytest.raises(DeadlineExceeded):
                made.get(f"http://127.0.0.1:{server.port}/kv")

        run_bounded(get, 10)


# --- a redirect to a port that does not exist --------------------------------------------------


def test_a_redirect_to_an_impossible_port_is_refused_as_another_host(store: StandIn) -> None:
    """requests checks the URLs it is given, but follows a redirect's Location as sent: the policy
    refuses the redirect as it arrives (an unusable address is never the pinned host), before connecting."""
    store.route = lambda seen: Answer(302, {"Location": "https://127.0.0.1:99999/kv"}, b"")
    made = transport.session("127.0.0.1", store.port, kind="token")  # as MSAL's http_client
    with pytest.raises(RedirectRefused, match=r"answered 302 with a redirect to 127\.0\.0\.1:99999 ") as caught:
        made.get(f"{store.url}/kv")
    assert isinstance(caught.value, ForeignHostRefused) and caught.value.code == "foreign_host"
    assert (caught.value.status, caught.value.location_host) == (302, "127.0.0.1:99999")
    assert "its port is not a number from 1 to 65535" in str(caught.value)
    assert len(store.seen) == 1


# --- the watchdog's own edges -----------------------------------------------------------------------


class _Conn:
    """A urllib3 connection as the watchdog sees it: ``sock`` is None until it connects."""

    def __init__(self, connected: bool) -> None:
        self.shut: list[int] = []
        self.sock = self if connected else None

    def shutdown(self, how: int) -> None:
        self.shut.append(how)


def test_a_watch_that_fires_after_its_request_finished_changes_nothing() -> None:
    """The watchdog may pop a watch just as its request ends: the finished request is not marked
    late, and its connection (back in the pool, perhaps already serving another request) is not shut."""
    conn = _Conn(connected=True)
    with Watch(60) as watch:
        watch.track(conn)
    watch.fire()
    assert not watch.expired and conn.shut == []


def test_a_watch_that_fires_before_its_connection_connected_skips_it() -> None:
    """A connection still connecting has no socket to shut yet (its connect timeout, never longer
    than the deadline, ends it); the watch still expires, and one that did connect is shut."""
    waiting, connected = _Conn(connected=False), _Conn(connected=True)
    with Watch(60) as watch:
        watch.track(waiting)
        watch.track(connected)
        watch.fire()
        assert watch.expired
    assert waiting.shut == [] and connected.shut == [socket.SHUT_RDWR]


def test_bounded_by_refuses_a_limit_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="unknown limit 'validation_second'"):
        bounded_by("validation_second")
    assert bounded_by("validation_seconds")(lambda: remaining(1000))() <= 120


# --- a request made after its deadline --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["store", "token"])
def test_a_request_made_after_the_operations_deadline_passed_is_never_sent(store: StandIn, kind: str) -> None:
    """A method's own request (``session(...)``) made once the operation's deadline has passed is
    refused before a connection is opened: its token never leaves, and the error says it was not
    sent and which deadline had passed, with its real numbers."""
    from azure_appconfig_plugin.http.deadlines import deadline_passed

    store.route = lambda seen: json_answer({"items": []})
    made = transport.session("127.0.0.1", store.port, kind=kind)
    with operation_deadline(0.02, name="validation_seconds"):
        while deadline_passed() is None:
            time.sleep(0.005)
        with pytest.raises(DeadlineExceeded) as info:
            made.get(f"{store.url}/kv", headers={"Authorization": "Bearer canary-late-token"})
    error = info.value
    assert (error.sent, error.deadline, error.budget, error.code) == (
        False,
        "validation_seconds",
        0.02,
        "deadline_exceeded",
    )
    assert str(error).startswith(
        f"the {kind} request to 127.0.0.1:{store.port} was not sent: "
        "the validation deadline (validation_seconds) of 0.02 s had passed"
    )
    assert "canary" not in str(error) and "cut off" not in str(error)
    assert store.seen == []
