"""The sync transport: a ``requests`` session pinned to one host (``session``) that bounds each whole
answer in time (a deadline per response, enforced by the ``watchdog``) and size (``max_response_bytes``,
cut off while streaming), and ``client_kwargs`` for azure-core store clients (this transport and the
capped retry policy). requests and urllib3 are imported on first use, never at import."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .answers import check_token_answer
from .deadlines import binding_deadline, deadline_exceeded, remaining
from .errors import HttpPolicyError, ResponseTooLarge
from .limits import Limits, current_limits
from .pin import host_port, pin, redirect_refusal, refusal
from .retry import RetryOption, call_seconds, retry_policy_class, retry_settings
from .watchdog import Watch, local

if TYPE_CHECKING:
    import requests
    from urllib3 import HTTPConnectionPool, PoolManager
    from urllib3._base_connection import BaseHTTPConnection  # the protocol urllib3 types connections with
    from urllib3.response import BaseHTTPResponse

    from .pace import Pace

    _PoolBase = HTTPConnectionPool
else:
    _PoolBase = object  # a mixin: the urllib3 pool class it is mixed into, imported on first use

_Timeout = float | tuple[float | None, float | None] | None
"""A requests ``timeout``: one number, or ``(connect, read)``."""

_SessionMaker = Callable[[str, int, str, Limits | None, int, tuple[float, float] | None], "requests.Session"]
"""Makes a policy session: host, port, kind, limits, pool size, default timeout."""


@functools.cache
def _session_maker() -> _SessionMaker:
    """requests/urllib3 subclasses, built on first use (keeps this module import-light)."""
    import requests
    from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter

    class _Tracked(_PoolBase):
        def _make_request(self, conn: BaseHTTPConnection, *args: Any, **kwargs: Any) -> BaseHTTPResponse:
            watch: Watch | None = getattr(local, "watch", None)
            if watch is not None:  # pragma: no branch - pools are only used inside PolicyAdapter.send's Watch
                watch.track(conn)
            return super()._make_request(conn, *args, **kwargs)

    tracked: dict[type, type] = {}

    def _tracked_pools(manager: PoolManager) -> None:
        """Make ``manager`` (the adapter's pool manager, or the one requests makes per proxy) open
        pools whose connections the request's ``Watch`` can shut."""
        classes = {}
        for scheme, pool_class in manager.pool_classes_by_scheme.items():
            if pool_class not in tracked:  # a tracked class maps to itself: requests reuses a proxy's manager
                made = type(f"Tracked{pool_class.__name__}", (_Tracked, pool_class), {})
                tracked[pool_class] = tracked[made] = made
            classes[scheme] = tracked[pool_class]
        manager.pool_classes_by_scheme = classes

    class PolicyAdapter(HTTPAdapter):
        """Pins the host, bounds each whole answer in time and size."""

        def __init__(self, host: str, port: int, kind: str, limits: Limits | None, pool_maxsize: int) -> None:
            self.pinned = pin(host, port)
            self.kind = kind
            self.fixed_limits = limits
            super().__init__(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)

        def init_poolmanager(
            self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs: Any
        ) -> None:
            super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
            _tracked_pools(self.poolmanager)

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
            # a proxied request's connections are watched too (requests builds a separate manager per proxy)
            manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
            _tracked_pools(manager)
            return manager

        def send(
            self,
            request: requests.PreparedRequest,
            stream: bool = False,
            timeout: _Timeout = None,
            verify: bool | str = True,
            cert: str | tuple[str, str] | None = None,
            proxies: dict[str, str] | None = None,
        ) -> requests.Response:
            url = str(request.url)  # prepared: never None
            limits = self.fixed_limits or current_limits()
            refused = refusal(url, self.pinned, self.kind)
            if refused is not None:
                raise refused
            target = self.pinned  # refusal() passed: the request goes to the pinned host and port
            budget = (
                limits.token_request_seconds if self.kind in ("token", "identity") else limits.store_request_seconds
            )
            seconds = remaining(budget)
            binding = binding_deadline(self.kind, budget)
            if seconds <= 0:
                raise deadline_exceeded(self.kind, url, seconds, binding, sent=False)
            read = seconds
            if isinstance(timeout, tuple) and timeout[1]:
                read = min(seconds, float(timeout[1]))
            elif isinstance(timeout, (int, float)) and timeout:
                read = min(seconds, float(timeout))
            connect = min(limits.connect_seconds, seconds)
            if isinstance(timeout, tuple) and timeout[0]:
                connect = min(connect, float(timeout[0]))
            with Watch(seconds) as watch:
                try:
                    response = super().send(
                        request, stream=True, timeout=(connect, read), verify=verify, cert=cert, proxies=proxies
                    )
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
                        raise deadline_exceeded(self.kind, url, seconds, binding) from exc
                    mapped = _as_requests_error(exc)
                    if mapped is exc:
                        raise  # unchanged, its chain kept (``raise exc from exc`` would make it its own cause)
                    raise mapped from exc
            if watch.expired:
                raise deadline_exceeded(self.kind, url, seconds, binding)
            return response

        def _read_capped(self, response: requests.Response, cap: int, watch: Watch, seconds: float) -> None:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                response.close()
                raise too_large(response.url, cap, f"it declared {declared} bytes")
            chunks: list[bytes] = []
            size = 0
            try:
                for chunk in response.raw.stream(64 * 1024, decode_content=True):
                    size += len(chunk)
                    if size > cap:
                        raise too_large(response.url, cap, "it kept streaming")
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
        def __init__(self, adapter: PolicyAdapter, timeout: tuple[float, float] | None = None) -> None:
            super().__init__()
            self.policy_adapter = adapter
            self.max_redirects = 5
            self.default_timeout = timeout
            self.mount("https://", adapter)
            self.mount("http://", adapter)

        def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # requests' call; adds a default timeout
            if kwargs.get("timeout") is None and self.default_timeout is not None:
                kwargs["timeout"] = self.default_timeout
            return super().request(*args, **kwargs)

        def get_redirect_target(self, resp: requests.Response) -> str | None:
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

    def make(
        host: str, port: int, kind: str, limits: Limits | None, pool_maxsize: int, timeout: tuple[float, float] | None
    ) -> requests.Session:
        return PolicySession(PolicyAdapter(host, port, kind, limits, pool_maxsize), timeout)

    return make


def too_large(url: str, cap: int, how: str) -> ResponseTooLarge:
    """The error for an answer from ``url`` cut off at ``cap`` bytes (``how``: declared, or kept streaming)."""
    host, port = host_port(url)
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
) -> requests.Session:
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
    made = _session_maker()(host, port, kind, limits, pool_maxsize, timeout)
    if kind == "identity":
        made.trust_env = False  # an identity endpoint is on the host itself: never through a proxy
    else:
        _environment_once(made, f"https://{host}:{port}")
    return made


CA_BUNDLE_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _environment_once(made: requests.Session, url: str) -> None:
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


TRANSPORT_OPTIONS = ("connection_verify", "connection_cert")


def client_kwargs(
    host: str,
    port: int = 443,
    *,
    limits: Limits | None = None,
    pool_maxsize: int = 10,
    connection_verify: bool | str | None = None,
    connection_cert: str | tuple[str, str] | None = None,
    pace: Pace | None = None,
    **retry_options: RetryOption,
) -> dict[str, object]:
    """Keyword arguments for an azure-core client of the store at ``host:port``: a pinned transport
    and the capped retry policy. ``store.make_client`` uses this; so must any other store client.
    ``retry_options`` (azure-core's ``retry_*`` keywords) tune the retry policy; the caps still apply.
    ``connection_verify`` (a CA bundle path, or False) and ``connection_cert`` go to the transport;
    by default it trusts the CA bundle the environment names when the session is made. A run's
    ``pace`` (``http.pace``) paces every attempt and decides the retries of its 429s."""
    from azure.core.pipeline.transport import RequestsTransport

    current = limits or current_limits()
    settings = retry_settings(current, {**(pace.retry_options() if pace else {}), **retry_options})
    retry = retry_policy_class()(limits, pace=pace, timeout=call_seconds(current, pace), **settings)
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
    if pace is None:
        return {"transport": transport, "retry_policy": retry}
    from .pace import pace_policy

    return {"transport": transport, "retry_policy": retry, "per_retry_policies": [pace_policy(pace)]}
