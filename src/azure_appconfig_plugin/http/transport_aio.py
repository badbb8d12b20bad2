"""The HTTP policy's async transport (beside ``transport``, the sync one): azure-core's aio pipeline on aiohttp.

The same rules, not a copy of them: ``pin.refusal`` / ``pin.redirect_refusal`` pin the host,
``deadlines.remaining`` and ``operation_deadline`` bound each whole answer (a context variable, so
per asyncio task), ``max_response_bytes`` cuts a body off while it streams in (after decompression),
and the retry policy is ``retry.CappedRetryRules`` on azure-core's ``AsyncRetryPolicy``. Cancelling the
task that awaits a request closes its connection: no answer is read after a cancel.

Needs the ``[aio]`` extra (aiohttp); only the async API imports this module, never registration.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import ssl
import sys
import urllib.request
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, overload

from ..errors import AppConnectionError
from .deadlines import binding_deadline, deadline_exceeded, remaining
from .limits import Limits, current_limits
from .pin import pin, redirect_refusal, refusal
from .retry import RetryOption, async_retry_policy_class, call_seconds, retry_settings
from .transport import CA_BUNDLE_VARS, too_large

if TYPE_CHECKING:
    from azure.core.pipeline.transport import AsyncHttpResponse as LegacyAsyncHttpResponse
    from azure.core.pipeline.transport import HttpRequest as LegacyHttpRequest
    from azure.core.pipeline.transport._aiohttp import AioHttpTransport  # the class the package's lazy name gives
    from azure.core.rest import AsyncHttpResponse, HttpRequest

    from .pace import Pace

AIO_EXTRA_FIX = "install the async extra: pip install 'azure-appconfig-plugin[aio]'"


class AioUnavailable(AppConnectionError):
    """The async API was used without aiohttp installed (the ``[aio]`` extra)."""


def require_aiohttp() -> ModuleType:
    """The ``aiohttp`` module, or ``AioUnavailable`` saying how to install it."""
    try:
        import aiohttp
    except ImportError:
        raise AioUnavailable(f"the async API needs aiohttp: {AIO_EXTRA_FIX}", code="aio_unavailable") from None
    return aiohttp


_cap: contextvars.ContextVar[int | None] = contextvars.ContextVar("http_transport_aio_cap", default=None)
REDIRECTS = (301, 302, 303, 307, 308)

Verify = ssl.SSLContext | bool | str | None
"""``connection_verify``: a TLS context, False (no checks), a CA bundle path, or None (the environment's)."""

Cert = str | tuple[str, ...] | None
"""``connection_cert``: a client certificate file, or ``(certificate, key)`` files."""

_TransportMaker = Callable[[str, int, Limits | None, int, Verify, Cert, float, float], "AioHttpTransport"]


@functools.cache
def _build() -> _TransportMaker:
    """The aiohttp transport's classes, built on first use: what makes one (host, port, limits, pool size,
    TLS, connect and read timeouts)."""
    require_aiohttp()
    import aiohttp

    if TYPE_CHECKING:
        from azure.core.pipeline.transport._aiohttp import AioHttpTransport
    else:  # the package's lazy name (mypy sees the class it resolves to)
        from azure.core.pipeline.transport import AioHttpTransport

    async_retry_policy_class()  # built with the transport: ``aio.warm_up`` builds both off the loop

    class CappedResponse(aiohttp.ClientResponse):  # aiohttp's documented response_class hook
        """Reads its body in chunks, cut off once it passes the cap of the request being sent."""

        async def read(self) -> bytes:
            # the cap of the request being sent (``send`` sets it: the pipeline reads every body there)
            cap = _cap.get() or int(current_limits().max_response_bytes)
            self._body = getattr(self, "_body", None) or await self._capped(cap)
            return await super().read()

        async def _capped(self, cap: int) -> bytes:
            declared = self.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                self.close()
                raise too_large(str(self.url), cap, f"it declared {declared} bytes")
            chunks: list[bytes] = []
            size = 0
            try:
                async for chunk in self.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > cap:
                        raise too_large(str(self.url), cap, "it kept streaming")
                    chunks.append(chunk)
            except BaseException:
                self.close()
                raise
            return b"".join(chunks)

    class PolicyAioHttpTransport(AioHttpTransport):
        """azure-core's aiohttp transport pinned to one host and bounded like ``transport.session``."""

        def __init__(
            self,
            host: str,
            port: int,
            limits: Limits | None,
            *,
            pool_maxsize: int,
            verify: Verify,
            cert: Cert,
            connection_timeout: float,
            read_timeout: float,
        ) -> None:
            super().__init__(connection_timeout=connection_timeout, read_timeout=read_timeout)
            self.pinned = pin(host, port)
            self.fixed_limits = limits
            self.pool_maxsize = pool_maxsize
            self._ssl = _ssl_context(verify, cert)
            self._proxy = _environment_proxy(host, port)

        def _build_ssl_config(self, cert: object, verify: object) -> ssl.SSLContext | bool:
            return self._ssl  # built once, not per request (a CA bundle load costs milliseconds)

        async def open(self) -> None:
            session: object = getattr(self, "session", None)  # azure-core's, None until opened
            if session is None and self._session_owner:
                self.session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=max(1, self.pool_maxsize)),
                    cookie_jar=aiohttp.DummyCookieJar(),
                    trust_env=False,  # the environment's proxy and CA bundle were read once (``__init__``)
                    auto_decompress=True,  # the cap counts decompressed bytes
                    response_class=CappedResponse,
                )
            opened: Callable[[], Awaitable[None]] = super().open  # azure-core's open, unannotated there
            await opened()

        @overload
        async def send(self, request: LegacyHttpRequest, **config: Any) -> LegacyAsyncHttpResponse: ...

        @overload
        async def send(self, request: HttpRequest, **config: Any) -> AsyncHttpResponse: ...

        async def send(
            self, request: LegacyHttpRequest | HttpRequest, **config: Any
        ) -> LegacyAsyncHttpResponse | AsyncHttpResponse:
            limits = self.fixed_limits or current_limits()
            refused = refusal(request.url, self.pinned, "store")
            if refused is not None:
                raise refused
            budget = limits.store_request_seconds
            binding = binding_deadline("store", budget)
            seconds = remaining(budget)
            if seconds <= 0:
                raise deadline_exceeded("store", request.url, seconds, binding, sent=False)
            config.setdefault("connection_timeout", min(limits.connect_seconds, seconds))
            # the deadline below cuts the whole answer off; aiohttp's own read timeout only backs it up
            config["read_timeout"] = seconds + 1
            if self._proxy is not None:
                config.setdefault("proxy", self._proxy)
            config.pop("stream", None)  # the body is always read here, capped (the pipeline never streams)
            token = _cap.set(int(limits.max_response_bytes))
            response: LegacyAsyncHttpResponse | AsyncHttpResponse
            try:
                if sys.version_info >= (3, 11):
                    async with asyncio.timeout(seconds):
                        response = await super().send(request, stream=False, **config)
                else:  # pragma: no cover - Python 3.10 has no asyncio.timeout
                    response = await asyncio.wait_for(super().send(request, stream=False, **config), seconds)
            except (asyncio.TimeoutError, TimeoutError) as exc:
                raise deadline_exceeded("store", request.url, seconds, binding) from exc
            finally:
                _cap.reset(token)
            status = int(response.status_code)
            location = response.headers.get("Location")
            if status in REDIRECTS and location:
                refused = redirect_refusal(location, request.url, status, self.pinned, "store")
                if refused is not None:
                    raise refused
            return response

    def make(
        host: str,
        port: int,
        limits: Limits | None,
        pool_maxsize: int,
        verify: Verify,
        cert: Cert,
        connect: float,
        read: float,
    ) -> AioHttpTransport:
        return PolicyAioHttpTransport(
            host,
            port,
            limits,
            pool_maxsize=pool_maxsize,
            verify=verify,
            cert=cert,
            connection_timeout=connect,
            read_timeout=read,
        )

    return make


def _ssl_context(verify: Verify, cert: Cert) -> ssl.SSLContext | bool:
    """One TLS context for the transport's life: the given CA bundle (or the environment's, read once
    as the sync transport reads it), else the system's trust store; ``verify=False`` turns checks off."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is None:
        verify = next((os.environ[name] for name in CA_BUNDLE_VARS if os.environ.get(name)), True)
    if verify is False:
        return False
    context = ssl.create_default_context(cafile=None if verify is True else str(verify))
    if cert:
        context.load_cert_chain(*cert) if isinstance(cert, tuple) else context.load_cert_chain(cert)
    return context


def _environment_proxy(host: str, port: int) -> str | None:
    """The ``HTTPS_PROXY`` to use for ``host`` (None when ``NO_PROXY`` names it), read once."""
    proxies = urllib.request.getproxies_environment()
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # in urllib.request, not in its stubs
    proxy = proxies.get("https")
    if not proxy or bypass(f"{host}:{port}", proxies) or bypass(host, proxies):
        return None
    return proxy


def async_client_kwargs(
    host: str,
    port: int = 443,
    *,
    limits: Limits | None = None,
    pool_maxsize: int = 10,
    connection_verify: Verify = None,
    connection_cert: Cert = None,
    pace: Pace | None = None,
    **retry_options: RetryOption,
) -> dict[str, object]:
    """``transport.client_kwargs`` for an azure-core async client: the pinned aiohttp transport
    and the capped async retry policy (with a run's ``pace``, its async pace policy). ``store.make_async_client``
    uses this."""
    make_transport = _build()
    current = limits or current_limits()
    settings = retry_settings(current, {**(pace.retry_options() if pace else {}), **retry_options})
    retry = async_retry_policy_class()(limits, pace=pace, timeout=call_seconds(current, pace), **settings)
    transport = make_transport(
        host,
        port,
        limits,
        pool_maxsize,
        connection_verify,
        connection_cert,
        current.connect_seconds,
        current.store_request_seconds,
    )
    if pace is None:
        return {"transport": transport, "retry_policy": retry}
    from .pace import async_pace_policy

    return {"transport": transport, "retry_policy": retry, "per_retry_policies": [async_pace_policy(pace)]}
