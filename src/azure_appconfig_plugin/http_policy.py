"""The one HTTP policy: every request this package makes or configures goes through it.

What it guarantees (limits are data in ``LIMITS``; ``current_limits()`` reads them, with any
``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_<NAME>`` environment override, and
``configure(...)`` changes them for the process):

- **Deadlines per response, not per read.** Each request (token or store) must deliver its whole
  answer, headers and body, within its deadline; a watchdog shuts the socket when it passes, so a
  server sending one byte every few seconds is cut off. ``operation_deadline(seconds)`` bounds a
  whole operation (validation uses it): no request inside it may outlive it.
- **Capped waits.** A server-requested wait (``Retry-After``, ``retry-after-ms``,
  ``x-ms-retry-after-ms``, HTTP dates) longer than ``retry_after_max_seconds`` ends the retries at
  once (the answer is reported with the wait it asked for); all waits of one call together stay
  within ``retry_wait_budget_seconds`` and inside the deadline.
- **Size cap while streaming.** A body larger than ``max_response_bytes`` (after decompression) is
  cut off as it streams in, never read whole.
- **Pinned host.** A session/client is pinned to the host (and port) it was made for: redirects,
  next links (``@nextLink``, ``Link``) and ``Operation-Location`` URLs that name another host, or
  an unusable address (``UNUSABLE_ADDRESS``), are refused before a connection is opened, so no
  token or secret ever goes with them. ``refusal`` is the one place that decides; a redirect is
  refused as it arrives (``RedirectRefused``, naming its status and the Location's host).

Public API (for the sync engine and new auth methods):

- ``store.make_client(endpoint, credential, **pipeline_kwargs)`` is the only App Configuration
  client factory; it calls ``client_kwargs(host, port)`` here. Anything else built on azure-core
  should pass ``**client_kwargs(host, port, kind="store")`` to its client.
- ``msal_apps`` passes ``session(host, kind="token")`` as MSAL's ``http_client``, and
  ``session(host, port, kind="identity")`` to MSAL's managed-identity client (plain http is
  expected there: see ``session``). Any other HTTP a new auth method makes uses
  ``session(host, port, kind=...)``.
- Errors are ``HttpPolicyError`` subclasses (typed ``AppConnectionError``s):
  ``DeadlineExceeded``, ``ResponseTooLarge``, ``ForeignHostRefused`` (and its ``RedirectRefused``);
  ``policy_error(exc)`` finds one inside an SDK exception.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import attrs

from .deadlines import Deadline, binding_deadline, deadline_message
from .deadlines import operation_deadline as operation_deadline  # the policy's public API (docs/limits.md)
from .deadlines import remaining as remaining
from .errors import AppConnectionError
from .http_errors import (  # the policy's errors and answer checks (re-exported: its public API)
    CERTIFICATE_FIX as CERTIFICATE_FIX,
)
from .http_errors import (
    CERTIFICATE_UNTRUSTED as CERTIFICATE_UNTRUSTED,
)
from .http_errors import (
    MAX_TOKEN_SECONDS as MAX_TOKEN_SECONDS,
)
from .http_errors import (
    TOKEN_NUMBER_FIELDS as TOKEN_NUMBER_FIELDS,
)
from .http_errors import (
    DeadlineExceeded as DeadlineExceeded,
)
from .http_errors import (
    ForeignHostRefused as ForeignHostRefused,
)
from .http_errors import (
    HttpPolicyError as HttpPolicyError,
)
from .http_errors import (
    MalformedAnswer as MalformedAnswer,
)
from .http_errors import (
    RedirectRefused as RedirectRefused,
)
from .http_errors import (
    ResponseTooLarge as ResponseTooLarge,
)
from .http_errors import (
    check_token_answer as check_token_answer,
)
from .http_errors import (
    describe_body as describe_body,
)
from .http_errors import (
    policy_error as policy_error,
)
from .http_errors import (
    untrusted_certificate as untrusted_certificate,
)

ENV_PREFIX = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_"


@attrs.frozen
class Limit:
    """One limit: its name (the ``Limits`` attribute), default, unit and what it bounds."""

    name: str
    default: float
    unit: str
    what: str

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()


LIMITS: tuple[Limit, ...] = (
    Limit("validation_seconds", 120, "s", "a whole validation (token stage and every store probe)"),
    Limit(
        "token_request_seconds",
        30,
        "s",
        "one request to the Microsoft identity platform (discovery or token), answer included",
    ),
    Limit("store_request_seconds", 60, "s", "one store call, its retries and waits included"),
    Limit("connect_seconds", 10, "s", "opening one connection"),
    Limit("retry_total", 3, "retries", "retries of one store call (429, 5xx, connection errors)"),
    Limit(
        "retry_after_max_seconds",
        60,
        "s",
        "the longest server-requested wait honoured; a longer request ends the retries",
    ),
    Limit("retry_wait_budget_seconds", 90, "s", "all waits of one store call together"),
    Limit(
        "max_response_bytes",
        16 * 1024 * 1024,
        "bytes",
        "one response body after decompression, cut off while streaming",
    ),
)


@attrs.frozen
class Limits:
    validation_seconds: float = 120
    token_request_seconds: float = 30
    store_request_seconds: float = 60
    connect_seconds: float = 10
    retry_total: float = 3
    retry_after_max_seconds: float = 60
    retry_wait_budget_seconds: float = 90
    max_response_bytes: float = 16 * 1024 * 1024

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, base: Limits | None = None) -> Limits:
        """``base`` (or the defaults) with every ``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_<NAME>`` override."""
        from .errors import FieldError, SettingsError

        env = os.environ if env is None else env
        changes: dict[str, float] = {}
        problems = []
        for limit in LIMITS:
            raw = env.get(limit.env_var)
            if raw is None or not raw.strip():
                continue
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value <= 0:
                problems.append(FieldError(limit.env_var, "must be a positive number"))
            else:
                changes[limit.name] = value
        if problems:
            raise SettingsError(errors=problems)
        return attrs.evolve(base or cls(), **changes)


assert tuple(a.name for a in attrs.fields(Limits)) == tuple(limit.name for limit in LIMITS)
assert all(getattr(Limits(), limit.name) == limit.default for limit in LIMITS)

_configured: Limits | None = None
_config_lock = threading.Lock()


def configure(limits: Limits | None = None, **changes: float) -> Limits:
    """Set the process-wide limits (``configure(validation_seconds=30)``); ``configure(None)`` resets.

    Environment overrides still apply on top. Returns the limits now in force.
    """
    global _configured
    with _config_lock:
        if limits is None and not changes:
            _configured = None
        else:
            _configured = attrs.evolve(limits or _configured or Limits(), **changes)
    return current_limits()


def current_limits(env: Mapping[str, str] | None = None) -> Limits:
    return Limits.from_env(env, base=_configured)


# --- deadlines ---------------------------------------------------------------------------------

WaitReport = Callable[[float, "int | None"], None]
"""Told of a retry wait before it starts: its seconds, and the status that asked for it (429, 503) or None."""

_local = threading.local()
"""The request a thread is sending (``_Watch``): the sync transport's own bookkeeping."""
_on_wait_var: contextvars.ContextVar[WaitReport | None] = contextvars.ContextVar("http_policy_on_wait", default=None)
# A context variable, not a thread-local: per thread for the sync clients and per task for the async
# ones (an asyncio task, or a thread an async host offloads to, sees the reporter of its caller).


F = TypeVar("F", bound=Callable[..., Any])


def bounded_by(limit: str) -> Callable[[F], F]:
    """Decorator: the call runs inside ``operation_deadline(<limit> of current_limits())``."""
    if limit not in {lim.name for lim in LIMITS}:
        raise ValueError(f"unknown limit {limit!r}")

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            try:
                limits = current_limits()
            except AppConnectionError:  # a malformed override: each request reports it; bound by the rest
                limits = _configured or Limits()
            with operation_deadline(float(getattr(limits, limit)), name=limit):
                return func(*args, **kwargs)

        return bounded  # type: ignore[return-value]  # functools.wraps keeps the signature; mypy sees a plain callable

    return wrap


@contextlib.contextmanager
def waits_reported(report: WaitReport) -> Iterator[None]:
    """Every retry wait the store clients make in this thread (or task) inside the block is told to
    ``report`` first (``azure-appconfig validate`` shows it on a terminal: ``asked to wait 5 s``)."""
    token = _on_wait_var.set(report)
    try:
        yield
    finally:
        _on_wait_var.reset(token)


class _Watchdog:
    """One daemon thread that fires every expired ``_Watch`` (a thread per request would cost ~0.5 ms each)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        import heapq

        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (watch.expires, self._seq, watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="http-policy-watchdog", daemon=True)
                self._thread.start()
            if self._heap[0][2] is watch:  # wake the thread only when it must fire earlier than planned
                self._cond.notify()

    def _run(self) -> None:
        import heapq

        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait(5)
                    continue
                delay = self._heap[0][0] - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                _, _, watch = heapq.heappop(self._heap)
            watch.fire()


_WATCHDOG = _Watchdog()


class _Watch:
    """Shuts every connection a request uses when its deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + max(seconds, 0)
        self.expired = False
        self.done = False
        self._lock = threading.Lock()
        self._conns: list[Any] = []

    def __enter__(self) -> _Watch:
        _local.watch = self
        _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._lock:
            self.done = True
        _local.watch = None

    def track(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            if self.expired:
                _shut(conn)

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            for conn in self._conns:
                _shut(conn)


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


# --- the requests transport ----------------------------------------------------------------------


def _host_port(url: str) -> tuple[str, int]:
    """The host and port of a usable URL (``refusal`` has passed it; an unusable one never gets here)."""
    parts = urlsplit(url)
    port = parts.port
    default = 443 if parts.scheme.lower() == "https" else 80
    return (parts.hostname or "").lower(), port if port is not None else default


UNUSABLE_ADDRESS = {
    "url": "it does not parse as a URL",
    "scheme": "its scheme is neither https nor http",
    "host": "it names no host",
    "port": "its port is not a number from 1 to 65535",
}
"""Why a URL is an unusable address (never the pinned host), by what is wrong with it."""


def _address(url: str) -> tuple[str, int] | str:
    """``url``'s host and port (as ``_host_port``), or the ``UNUSABLE_ADDRESS`` key of what makes it
    unusable: one parse for ``refusal``, which runs before every request."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return "port" if "port" in str(exc).lower() else "url"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return "scheme"
    host = parts.hostname
    if not host:
        return "host"
    if port is not None and not 0 < port <= 65535:
        return "port"
    return host.lower(), port if port is not None else (443 if scheme == "https" else 80)


def shown_host(url: str) -> str:
    """The host (and port) a URL names, as it may be shown: no user info, bounded, control-stripped."""
    from app_connections.text import clean

    rest = url.split("://", 1)[-1]
    for end in "/?#\\":
        rest = rest.split(end, 1)[0]
    return clean(rest.rsplit("@", 1)[-1], 100) or "(no host)"


def refusal(
    url: str, pinned: tuple[str, int], kind: str, *, redirect_status: int | None = None
) -> ForeignHostRefused | None:
    """The one place that decides whether a session pinned to ``pinned`` may go to ``url``: None when
    it may, else the error saying why not (another host, or an unusable address). ``redirect_status``
    is the status of the redirect answer whose Location ``url`` is (None for a link or a request)."""
    found = _address(url)
    if not isinstance(found, str):
        if found == pinned:
            return None
        why = "another host"
    else:
        why = f"an unusable address: {UNUSABLE_ADDRESS[found]}"
    where = f"{pinned[0]}:{pinned[1]}"
    host = shown_host(url)
    safe = f"this {kind} connection is pinned to {where}, so nothing (no token, no secret) was sent there"
    if redirect_status is None:
        return ForeignHostRefused(
            f"refused to follow a link or redirect to {host} ({why}): {safe}", code="foreign_host"
        )
    return RedirectRefused(
        f"{where} answered {redirect_status} with a redirect to {host} ({why}); the redirect was refused: {safe}",
        status=redirect_status,
        location_host=host,
    )


def redirect_refusal(
    location: str, answer_url: str, status: int, pinned: tuple[str, int], kind: str
) -> ForeignHostRefused | None:
    """``refusal`` of a redirect answer's ``location`` (resolved against ``answer_url`` as requests and
    aiohttp resolve it), for the sync and the async transport alike."""
    target = location
    with contextlib.suppress(ValueError):  # one that does not resolve is refused as unusable below
        if target.startswith("//"):  # resolved as requests resolves it (RFC 7231 7.1.2)
            target = f"{urlsplit(answer_url).scheme}:{target}"
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:  # a relative reference: on the answer's host
            target = urljoin(answer_url, target)
        # An absolute one with no host (https:///kv) is not resolved against the answer's host:
        # an http(s) URI must name one (RFC 9110 4.2.1), so refusal() refuses it as unusable.
    return refusal(target, pinned, kind, redirect_status=status)


_classes: dict[str, Any] = {}


def _transport_classes() -> dict[str, Any]:
    """requests/urllib3 subclasses, built on first use (keeps this module import-light)."""
    if "adapter" in _classes:
        return _classes
    import requests
    from requests.adapters import HTTPAdapter

    class _Tracked:
        def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
            watch: _Watch | None = getattr(_local, "watch", None)
            if watch is not None:  # pragma: no branch - pools are only used inside PolicyAdapter.send's _Watch
                watch.track(conn)
            return super()._make_request(conn, *args, **kwargs)  # type: ignore[misc]  # a mixin: the urllib3 pool it is mixed into has _make_request

    tracked: dict[type, type] = {}

    def _tracked_pools(manager: Any) -> None:
        """Make ``manager`` (the adapter's pool manager, or the one requests makes per proxy) open
        pools whose connections the request's ``_Watch`` can shut."""
        classes = {}
        for scheme, pool_class in manager.pool_classes_by_scheme.items():
            if pool_class not in tracked:  # a tracked class maps to itself: requests reuses a proxy's manager
                made = type(f"Tracked{pool_class.__name__}", (_Tracked, pool_class), {})
                tracked[pool_class] = tracked[made] = made
            classes[scheme] = tracked[pool_class]
        manager.pool_classes_by_scheme = classes

    class PolicyAdapter(HTTPAdapter):
        """Pins the host, bounds each whole answer in time and size."""

        def __init__(self, host: str, port: int, kind: str, limits: Limits | None, **kwargs: Any) -> None:
            self.pinned = (host.lower(), port)
            self.kind = kind
            self.fixed_limits = limits
            super().__init__(**kwargs)

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            _tracked_pools(self.poolmanager)

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            # a proxied request's connections are watched too (requests builds a separate manager per proxy)
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            _tracked_pools(manager)
            return manager

        def send(self, request: Any, stream: bool = False, timeout: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]  # the same call; requests types timeout more narrowly
            limits = self.fixed_limits or current_limits()
            refused = refusal(request.url, self.pinned, self.kind)
            if refused is not None:
                raise refused
            target = self.pinned  # refusal() passed: the request goes to the pinned host and port
            budget = (
                limits.token_request_seconds if self.kind in ("token", "identity") else limits.store_request_seconds
            )
            seconds = remaining(budget)
            binding = binding_deadline(self.kind, budget)
            if seconds <= 0:
                raise _deadline(self.kind, request.url, seconds, binding, sent=False)
            read = seconds
            if isinstance(timeout, tuple) and timeout[1]:
                read = min(seconds, float(timeout[1]))
            elif isinstance(timeout, (int, float)) and timeout:
                read = min(seconds, float(timeout))
            connect = min(limits.connect_seconds, seconds)
            if isinstance(timeout, tuple) and timeout[0]:
                connect = min(connect, float(timeout[0]))
            with _Watch(seconds) as watch:
                try:
                    response = super().send(request, stream=True, timeout=(connect, read), **kwargs)
                    self._read_capped(response, int(limits.max_response_bytes), watch, seconds)
                    status = response.status_code
                    if (self.kind == "token" and (200 <= status < 300 or (400 <= status < 500 and status != 429))) or (
                        self.kind == "identity" and 200 <= status < 300
                    ):
                        host, port = target
                        check_token_answer(response.content, response.headers.get("Content-Type"), f"{host}:{port}")
                except HttpPolicyError:
                    raise
                except Exception as exc:
                    if watch.expired:
                        raise _deadline(self.kind, request.url, seconds, binding) from exc
                    mapped = _as_requests_error(exc)
                    if mapped is exc:
                        raise  # unchanged, its chain kept (``raise exc from exc`` would make it its own cause)
                    raise mapped from exc
            if watch.expired:
                raise _deadline(self.kind, request.url, seconds, binding)
            return response

        def _read_capped(self, response: Any, cap: int, watch: _Watch, seconds: float) -> None:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                response.close()
                raise _too_large(response.url, cap, f"it declared {declared} bytes")
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in response.raw.stream(64 * 1024, decode_content=True):
                    size += len(chunk)
                    if size > cap:
                        raise _too_large(response.url, cap, "it kept streaming")
                    chunks.append(chunk)
                    if watch.expired:
                        break
            except BaseException:
                response.close()
                raise
            response._content = b"".join(chunks)
            response._content_consumed = True

    from urllib3 import exceptions as u3

    def _as_requests_error(exc: Exception) -> Exception:
        """Body-read failures mapped as requests maps them in ``iter_content``."""
        if isinstance(exc, (requests.RequestException, HttpPolicyError)):
            return exc
        if isinstance(exc, u3.ProtocolError):
            return requests.exceptions.ChunkedEncodingError(exc)
        if isinstance(exc, u3.DecodeError):
            return requests.exceptions.ContentDecodingError(exc)
        if isinstance(exc, u3.ReadTimeoutError):
            return requests.exceptions.ConnectionError(exc)
        if isinstance(exc, u3.SSLError):
            return requests.exceptions.SSLError(exc)
        return exc

    class PolicySession(requests.Session):
        def __init__(self, adapter: Any, timeout: tuple[float, float] | None = None) -> None:
            super().__init__()
            self.policy_adapter = adapter
            self.max_redirects = 5
            self.default_timeout = timeout
            self.mount("https://", adapter)
            self.mount("http://", adapter)

        def request(self, *args: Any, **kwargs: Any) -> Any:  # same call as requests; adds a default timeout
            if kwargs.get("timeout") is None and self.default_timeout is not None:
                kwargs["timeout"] = self.default_timeout
            return super().request(*args, **kwargs)

        def get_redirect_target(self, resp: Any) -> str | None:
            """A redirect's Location, refused as it arrives when it is not the pinned host (``refusal``).

            requests reads the Location of every redirect answer, also when it is not asked to
            follow it (azure-core never asks: it computes ``Response.next``), and parses it before
            the adapter could refuse it: an unusable address (a port out of range, a broken IPv6
            literal) would fail there as a bare ``ValueError``, which callers took for a bad body."""
            location = super().get_redirect_target(resp)
            if not location:
                return location
            adapter = self.policy_adapter
            refused = redirect_refusal(location, resp.url, resp.status_code, adapter.pinned, adapter.kind)
            if refused is not None:
                resp.close()
                raise refused
            return location

    _classes.update(adapter=PolicyAdapter, session=PolicySession)
    return _classes


def _deadline(kind: str, url: str, seconds: float, binding: Deadline, *, sent: bool = True) -> DeadlineExceeded:
    """The error for a request cut off (``sent``) or never sent because ``binding`` had passed."""
    host, port = _host_port(url)
    return DeadlineExceeded(
        deadline_message(kind, f"{host}:{port}", seconds, binding, sent=sent),
        deadline=binding.name,
        budget=binding.seconds,
        elapsed=binding.elapsed(),
        sent=sent,
    )


def _too_large(url: str, cap: int, how: str) -> ResponseTooLarge:
    host, port = _host_port(url)
    return ResponseTooLarge(
        f"{host}:{port} sent an answer larger than {cap} bytes ({how}); it was cut off and not used",
        code="response_too_large",
    )


def session(
    host: str,
    port: int = 443,
    *,
    kind: str = "store",
    limits: Limits | None = None,
    pool_maxsize: int = 10,
    timeout: tuple[float, float] | None = None,
) -> Any:
    """A ``requests.Session`` bound to the policy and pinned to ``host:port``.

    ``kind`` is ``"token"`` (identity platform: ``token_request_seconds``), ``"store"``
    (``store_request_seconds``) or ``"identity"`` (a host's managed-identity endpoint, see below).
    ``limits`` fixes the limits; by default they are read per request. ``timeout`` is the
    ``(connect, read)`` used when a caller gives none; the policy's deadline still caps both.

    The ``identity`` allowance: a managed-identity endpoint is plain ``http`` on a host-local
    address (IMDS at ``169.254.169.254``, or the ``IDENTITY_ENDPOINT``/``MSI_ENDPOINT`` the platform
    sets). Its session is pinned to that exact host and port, ignores proxy settings (a proxy must
    never see the identity request), keeps the token deadline and the size cap, and checks only
    successful answers as token answers (its error answers are the endpoint's own format).
    """
    classes = _transport_classes()
    adapter = classes["adapter"](host, port, kind, limits, pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)
    made = classes["session"](adapter, timeout)
    if kind == "identity":
        made.trust_env = False  # an identity endpoint is on the host itself: never through a proxy
    else:
        _environment_once(made, f"https://{host}:{port}")
    return made


CA_BUNDLE_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _environment_once(made: Any, url: str) -> None:
    """Read the environment's proxy (``HTTPS_PROXY``/``NO_PROXY``) and CA bundle
    (``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) settings once, when the session is made, instead of
    on every request: requests' per-request look-ups (and its ``.netrc`` read) cost more CPU than
    the rest of a request's client-side work. A change to them applies to sessions made after it."""
    import requests

    made.trust_env = False
    made.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = next((os.environ[name] for name in CA_BUNDLE_VARS if os.environ.get(name)), None)
    if bundle:
        made.verify = bundle


# --- azure-core ----------------------------------------------------------------------------------


class CappedRetryRules:
    """The retry rules of every store client, sync or async (mixed into azure-core's ``RetryPolicy``
    and ``AsyncRetryPolicy``): server-requested waits capped and budgeted, no retry past the deadline,
    an untrusted certificate never retried."""

    def __init__(self, limits: Limits | None = None, **kwargs: Any) -> None:
        self.fixed_limits = limits
        super().__init__(**kwargs)

    def _limits(self) -> Limits:
        return self.fixed_limits or current_limits()

    def get_retry_after(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)  # type: ignore[misc, no-any-return]  # a mixin: azure-core's retry policy has it
        except Exception:  # an unparseable header (e.g. a bad HTTP date): no server-requested wait
            return None

    def _planned_wait(self, settings: dict[str, Any], response: Any) -> float:
        asked = self.get_retry_after(response) if response is not None and hasattr(response, "http_response") else None
        return asked if asked else self.get_backoff_time(settings)  # type: ignore[attr-defined]  # a mixin: azure-core's retry policy has it

    def increment(self, settings: dict[str, Any], response: Any = None, error: Any = None) -> bool:
        if error is not None and untrusted_certificate(error) is not None:
            return False  # a certificate does not become trusted by waiting: never retried
        if not super().increment(settings, response=response, error=error):  # type: ignore[misc]  # a mixin: azure-core's retry policy has it
            return False
        limits = self._limits()
        wait = self._planned_wait(settings, response)
        waited = settings.get("policy_waited", 0.0)
        if wait > limits.retry_after_max_seconds or waited + wait > limits.retry_wait_budget_seconds:
            return False
        return wait < remaining(math.inf)

    def _next_wait(self, settings: dict[str, Any], response: Any) -> float:
        """The wait before the next attempt, counted against the budget and told to ``waits_reported``."""
        wait = self._planned_wait(settings, response)
        settings["policy_waited"] = settings.get("policy_waited", 0.0) + wait
        report = _on_wait_var.get()
        if wait > 0 and report is not None:
            answer = getattr(response, "http_response", None)  # None after a transport error
            report(wait, None if answer is None else int(answer.status_code))
        return wait


def _retry_policy_class() -> Any:
    if "retry" in _classes:
        return _classes["retry"]
    from azure.core.pipeline.policies import RetryPolicy

    class CappedRetryPolicy(CappedRetryRules, RetryPolicy[Any, Any]):
        """azure-core's retry policy with server-requested waits capped and budgeted."""

        def send(self, request: Any) -> Any:
            # the whole call (every attempt and every wait) within store_request_seconds
            with operation_deadline(float(self._limits().store_request_seconds), name="store_request_seconds"):
                return super().send(request)

        def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
            wait = self._next_wait(settings, response)
            if wait > 0:
                transport.sleep(wait)

    _classes["retry"] = CappedRetryPolicy
    return CappedRetryPolicy


TRANSPORT_OPTIONS = ("connection_verify", "connection_cert")
RETRY_OPTIONS = (
    "retry_total",
    "retry_connect",
    "retry_read",
    "retry_status",
    "retry_backoff_factor",
    "retry_backoff_max",
    "retry_mode",
)


def retry_settings(current: Limits, retry_options: Mapping[str, Any]) -> dict[str, Any]:
    """azure-core ``retry_*`` keywords for a store client: the defaults, ``retry_options`` (a
    ``TypeError`` for any other keyword), and never more retries than ``retry_total``."""
    unknown = set(retry_options) - set(RETRY_OPTIONS)
    if unknown:
        raise TypeError(f"not retry options: {sorted(unknown)}")
    settings: dict[str, Any] = {
        "retry_total": int(current.retry_total),
        "retry_backoff_factor": 0.8,
        "retry_backoff_max": min(30, current.retry_after_max_seconds),
    }
    settings.update(retry_options)
    settings["retry_total"] = min(int(settings["retry_total"]), int(current.retry_total))
    return settings


def client_kwargs(
    host: str,
    port: int = 443,
    *,
    limits: Limits | None = None,
    pool_maxsize: int = 10,
    connection_verify: Any = None,
    connection_cert: Any = None,
    **retry_options: Any,
) -> dict[str, Any]:
    """Keyword arguments for an azure-core client of the store at ``host:port``: a pinned transport
    and the capped retry policy. ``store.make_client`` uses this; so must any other store client.
    ``retry_options`` (azure-core's ``retry_*`` keywords) tune the retry policy; the caps still apply.
    ``connection_verify`` (a CA bundle path, or False) and ``connection_cert`` go to the transport;
    by default it trusts the CA bundle the environment names when the session is made."""
    from azure.core.pipeline.transport import RequestsTransport

    current = limits or current_limits()
    settings = retry_settings(current, retry_options)
    retry = _retry_policy_class()(limits, timeout=current.store_request_seconds, **settings)
    pinned = session(host, port, kind="store", limits=limits, pool_maxsize=pool_maxsize)
    transport = RequestsTransport(
        session=pinned,
        session_owner=True,
        use_env_settings=False,  # the session read the environment once (``_environment_once``)
        connection_timeout=current.connect_seconds,
        read_timeout=current.store_request_seconds,
        connection_verify=pinned.verify if connection_verify is None else connection_verify,
        connection_cert=connection_cert,
    )
    return {"transport": transport, "retry_policy": retry}


def limits_table() -> str:
    """The table of limits in docs/limits.md (tests check that the page holds exactly this)."""
    rows = ["| limit | default | environment variable | bounds |", "| --- | --- | --- | --- |"]
    for limit in LIMITS:
        if limit.unit == "bytes":
            default = f"{int(limit.default) // (1024 * 1024)} MiB ({int(limit.default)} bytes)"
        else:
            default = f"{limit.default:g} {limit.unit}"
        rows.append(f"| `{limit.name}` | {default} | `{limit.env_var}` | {limit.what} |")
    return "\n".join(rows)
