"""Async twins of the host-facing lifecycle, and what a provider declares to offer them.

A connection type declares its async capabilities in ``ConnectionType(aio=AsyncCapabilities(...))``;
every slot has a documented default, so a provider written for the sync contract works unchanged:

- ``token_credentials[method]``: the method's own ``AsyncTokenCredential`` factory. Default: the
  method's sync ``token_credential`` wrapped in ``OffloadedCredential`` (each token request in the
  bounded offload pool, concurrent requests of one credential shared: single flight).
- ``client_factory``: an async client of the service. Default: none (``async_client`` says so).
- ``checks``: the type's own checks as a coroutine. Default: the sync ``checks`` in the offload pool.
- ``sign_in[method]``: ``begin`` / ``complete`` coroutines of an interactive method. Default: the
  sync ones in the offload pool.

``offload(func, ...)`` runs blocking code in one module-wide pool of at most ``OFFLOAD_THREADS``
threads (never one thread per caller), with the caller's context variables. Cancelling the awaiting
task returns at once; the offloaded call itself finishes in its thread (Python cannot stop a
thread), which is why a provider's own coroutines (``checks``, the sync destination's operations)
are preferred: they stop at the cancel.

Standard library only; ``asyncio`` is imported by this module, never on the registration path.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast, runtime_checkable

from .auth_method import AccessTokenLike, Credentials, Passed, RotateCallback, TokenCredential
from .capabilities import NO_ASYNC, AsyncCapabilities
from .frozen import _Frozen

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from .capabilities import CheckResults, ValidationHook
    from .flow_store import FlowStore, PendingFlow
    from .records import ConnectionType
    from .registrars import SignInStart
    from .reports import ValidationReport

OFFLOAD_THREADS = 8
"""Threads of the offload pool: blocking work of every async caller of the process shares them."""

T = TypeVar("T")
P = ParamSpec("P")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def offload_pool() -> ThreadPoolExecutor:
    """The process's offload pool (made on first use; at most ``OFFLOAD_THREADS`` threads)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=OFFLOAD_THREADS, thread_name_prefix="app-connections-offload")
        return _pool


async def offload(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` in the offload pool, with the caller's context variables (deadlines)."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    return await loop.run_in_executor(offload_pool(), call)


# --- protocols -------------------------------------------------------------------------------------


@runtime_checkable
class AsyncTokenCredential(Protocol):
    """What ``async_token_credential`` returns (azure-core's ``AsyncTokenCredential`` is one)."""

    async def get_token(self, *scopes: str, **kwargs: Passed) -> AccessTokenLike:
        """An access token (``.token``, ``.expires_on``)."""

    async def close(self) -> None:
        """Release what the credential holds."""


class AsyncSignIn(Protocol):
    """The async sign-in of an interactive method (``sign_in[method]``)."""

    async def begin(self, sign_in_input: object, **options: Passed) -> SignInStart:
        """``InteractiveAuthMethod.begin`` as a coroutine."""

    async def complete(self, params: Mapping[str, str], **options: Passed) -> Credentials:
        """``InteractiveAuthMethod.complete`` as a coroutine."""


@runtime_checkable
class AsyncFlowStore(Protocol):
    """``FlowStore`` as coroutines (``RedisAsyncFlowStore`` on ``redis.asyncio``, ``AsyncInMemoryFlowStore``)."""

    async def put(self, flow: PendingFlow) -> None:
        """Keep ``flow`` until it is taken or expires."""

    async def take(self, state: str) -> PendingFlow | None:
        """Remove and return the flow for ``state`` (atomically: a second take gets None)."""


def is_async_flow_store(store: FlowStore | AsyncFlowStore) -> TypeIs[AsyncFlowStore]:
    """True when ``store`` is an ``AsyncFlowStore`` (its ``take`` is a coroutine function), False
    for a sync ``FlowStore``: both protocols declare the same members, so their kind tells them apart."""
    import inspect

    return inspect.iscoroutinefunction(store.take)


def is_async_credential(credential: TokenCredential | AsyncTokenCredential) -> TypeIs[AsyncTokenCredential]:
    """True when ``credential`` is an ``AsyncTokenCredential`` (its ``get_token`` is a coroutine
    function), False for a sync ``TokenCredential``."""
    import inspect

    return inspect.iscoroutinefunction(credential.get_token)


class AsyncInMemoryFlowStore:
    """``AsyncFlowStore`` of one process: ``InMemoryFlowStore``'s bounded map (no I/O, so no thread)."""

    def __init__(self, *, max_flows: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        from .flow_store import InMemoryFlowStore

        self.sync = InMemoryFlowStore(max_flows=max_flows, clock=clock)
        """The same flows through the sync ``FlowStore`` interface."""

    async def put(self, flow: PendingFlow) -> None:
        """Keep ``flow`` until it is taken or expires."""
        self.sync.put(flow)

    async def take(self, state: str) -> PendingFlow | None:
        """The flow started with ``state``, removed so it is taken once; None when unknown or expired."""
        return self.sync.take(state)

    def __len__(self) -> int:
        return len(self.sync)


def _caps(ctype: ConnectionType) -> AsyncCapabilities:
    declared: AsyncCapabilities | None = ctype.aio
    return NO_ASYNC if declared is None else declared


# --- the thread-offload credential -------------------------------------------------------------------


class TokenInfo(_Frozen):
    """A token as ``get_token_info`` returns it (the attributes of azure-core's ``AccessTokenInfo``)."""

    __slots__ = ("token", "expires_on", "token_type", "refresh_on")
    _fields = __slots__
    _repr_fields = ("expires_on", "token_type", "refresh_on")  # never the token
    token: str
    expires_on: int
    token_type: str
    refresh_on: int | None

    def __init__(self, token: str, expires_on: int, token_type: str = "Bearer", refresh_on: int | None = None) -> None:
        self._init(token=token, expires_on=expires_on, token_type=token_type, refresh_on=refresh_on)


class OffloadedCredential:
    """An ``AsyncTokenCredential`` over a sync token credential: every token request runs in the
    offload pool, never on the loop, and concurrent requests for the same token share one call
    (single flight: a cold cache costs one request, whatever the number of waiters). ``info`` is the
    sync credential's ``get_token_info`` when it has one; without it, ``get_token_info`` is built
    from ``get_token`` (a ``TokenInfo``)."""

    def __init__(
        self,
        sync: TokenCredential,
        *,
        info: Callable[..., AccessTokenLike] | None = None,
        close: Callable[[], object] | None = None,
    ) -> None:
        self.sync = sync
        """The wrapped sync credential (e.g. to read rotated credentials from)."""
        self._info = info
        self._close = close
        self._flights: dict[tuple[object, ...], asyncio.Future[Any]] = {}

    def __repr__(self) -> str:
        return f"OffloadedCredential({self.sync!r})"

    async def _shared(self, key: tuple[object, ...], func: Callable[[], T]) -> T:
        key = (id(asyncio.get_running_loop()), *key)
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(offload(func))
            self._flights[key] = flight
            flight.add_done_callback(lambda _: self._flights.pop(key, None))
        # The key names func's call, so the flight's result is func's. One waiter's cancel does not
        # cancel the others' request.
        return cast(T, await asyncio.shield(flight))

    async def get_token(
        self, *scopes: str, claims: str | None = None, tenant_id: str | None = None, **kwargs: object
    ) -> AccessTokenLike:
        """The sync ``get_token``'s token, requested in the offload pool (shared by concurrent callers)."""
        options = {k: v for k, v in (("claims", claims), ("tenant_id", tenant_id)) if v is not None}
        key = ("token", scopes, repr(sorted({**options, **kwargs}.items())))  # repr: a value may be unhashable
        return await self._shared(key, functools.partial(self.sync.get_token, *scopes, **options, **kwargs))

    async def get_token_info(self, *scopes: str, options: Mapping[str, object] | None = None) -> AccessTokenLike:
        """The sync ``get_token_info``'s answer (or a ``TokenInfo`` from ``get_token``), in the offload pool."""
        key = ("info", scopes, repr(sorted((options or {}).items())))
        if self._info is not None:
            return await self._shared(key, functools.partial(self._info, *scopes, options=options))
        claims = (options or {}).get("claims")
        extra: dict[str, Any] = {"claims": claims} if claims else {}  # as given, like get_token's own keywords
        token = await self.get_token(*scopes, **extra)
        return TokenInfo(token.token, int(token.expires_on))

    async def close(self) -> None:
        """Close the sync credential (in the offload pool) when it was given a ``close``."""
        if self._close is not None:
            await offload(self._close)

    async def __aenter__(self) -> OffloadedCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# --- the lifecycle (``ConnectionType``'s async methods call these) ------------------------------------


def async_token_credential(
    ctype: ConnectionType, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **options: object
) -> AsyncTokenCredential:
    """The method's own async credential (``token_credentials``), else its sync one offloaded."""
    method, creds = ctype.credentials(credentials)
    factory = _caps(ctype).token_credentials.get(method.slug)
    if factory is not None:
        return factory(creds, on_rotate=on_rotate, **options)
    return OffloadedCredential(method.token_credential(creds, on_rotate=on_rotate, **options))


def async_client(
    ctype: ConnectionType,
    credentials: Credentials,
    endpoint: object = None,
    *,
    credential: object = None,
    **options: object,
) -> object:
    """``ConnectionType.client``'s async twin: the type's async ``client_factory`` with ``credential``,
    else the method's request signer, else ``async_token_credential(credentials, ...)``."""
    from .errors import FieldError, InvalidInput

    method, creds = ctype.credentials(credentials)
    factory = _caps(ctype).client_factory
    if factory is None:
        reason = f"{ctype.slug!r} offers no async client (no aio client_factory)"
        raise InvalidInput(errors=[FieldError("connection type", reason)])
    if endpoint is None:
        endpoint = method.endpoint_of(creds)
    if credential is None:
        credential = method.request_credential(creds)  # None: the method sends a token (as for client())
        if credential is None:
            token_options: dict[str, Any] = {k: options.pop(k) for k in ("on_rotate", "settings") if k in options}
            credential = async_token_credential(ctype, creds, **token_options)
    return factory(creds, endpoint, credential, **options)


async def begin(ctype: ConnectionType, method: str, sign_in_input: object, **options: object) -> SignInStart:
    """``ConnectionType.begin`` as a coroutine: the method's ``sign_in`` twin, else offloaded."""
    ctype._interactive(method, "begin")
    twin = _caps(ctype).sign_in.get(method)
    if twin is None:
        return await offload(ctype.begin, method, sign_in_input, **options)
    ctype._check_sign_in_input(method, sign_in_input)
    return await twin.begin(sign_in_input, **options)


async def complete(ctype: ConnectionType, method: str, params: Mapping[str, str], **options: object) -> Credentials:
    """``ConnectionType.complete`` as a coroutine: the method's ``sign_in`` twin, else offloaded."""
    ctype._interactive(method, "complete")
    twin = _caps(ctype).sign_in.get(method)
    if twin is None:
        return await offload(ctype.complete, method, params, **options)
    return await twin.complete(params, **options)


async def run_validation(
    hook: ValidationHook | None,
    ctype: ConnectionType,
    method: str | None,
    data: object,
    *,
    endpoint: str | None = None,
    owner: str | None = None,
    **options: object,
) -> ValidationReport:
    """``hosting.run_validation``'s async twin: the type's own checks (``aio.checks``, else its sync
    ``checks`` offloaded), then ``hook(request=...)`` (the other implementations; sync, so offloaded).
    ``owner`` names the plugin that registered the type: a failure of its checks is then a failed
    check ``plugin:<owner>``, as when they run as its hook implementation (else it propagates)."""
    from .hosting import _method_of, failed_plugin_check
    from .reports import ValidationReport, ValidationRequest, as_check

    request = ValidationRequest(
        ctype.slug, method or _method_of(data), None, endpoint, connection=ctype, data=data, options=dict(options)
    )
    own: list[CheckResults | None] = []
    checks = _caps(ctype).checks
    try:
        if checks is not None:
            own.append(await checks(request))
        elif ctype.checks is not None:
            own.append(await offload(ctype.checks, request))
    except Exception as exc:
        if owner is None:
            raise
        own.append([failed_plugin_check(owner, exc)])
    answered = await offload(hook, request=request) if hook is not None else None
    results = list(answered or [])
    returned = [as_check(check) for result in own + results if result is not None for check in result]
    return ValidationReport(request.checks + tuple(returned), request.credentials, request.token_credential)
