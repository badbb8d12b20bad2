"""The kit's async twins for a provider written for the sync contract only (the Acme example: no
``aio`` capabilities): every default of ``app_connections.aio``, with least privilege kept."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

import test_example_provider
from app_connections.aio import OFFLOAD_THREADS, AsyncInMemoryFlowStore, OffloadedCredential, TokenInfo, offload
from app_connections.errors import InvalidInput
from app_connections.flow_store import PendingFlow
from app_connections.loader import load_plugins
from app_connections.records import AuthMethod
from test_example_provider import CALLS, PIN, Broker, form

acme = test_example_provider.acme  # the example provider's fixture, used here too


def test_avalidate_runs_the_sync_checks_offloaded_and_the_third_party_with_a_view(
    acme: Any, connections_https_server: Callable[..., Any]
) -> None:
    server = connections_https_server(Broker)
    registry = load_plugins(env={})
    report = asyncio.run(registry.avalidate("acme-broker", "pin", form(server.url)))
    assert report.ok, report.to_dict()
    assert [c.name for c in report.checks] == ["input", "token", "audit"]  # the owner's checks ran once
    assert acme.SEEN == [{"type": "acme-broker", "view": True, "pin": "<withheld>", "token_credential": False}]
    assert len(CALLS) == 1
    failed = asyncio.run(registry.avalidate("acme-broker", "pin", form(server.url, pin="0000-wrong")))
    assert not failed.ok and PIN not in json.dumps(failed.to_dict())


def test_the_type_alone_validates_async_without_a_hook(acme: Any, connections_https_server: Callable[..., Any]) -> None:
    server = connections_https_server(Broker)
    ctype = load_plugins(env={}).get("acme-broker")
    report = asyncio.run(ctype.avalidate(form(server.url), method="pin"))
    assert [c.name for c in report.checks] == ["input", "token"] and acme.SEEN == []


def test_a_sync_token_credential_is_offloaded(acme: Any, connections_https_server: Callable[..., Any]) -> None:
    server = connections_https_server(Broker)
    ctype = load_plugins(env={}).get("acme-broker")
    creds = ctype.parse("pin", form(server.url))

    async def run() -> tuple[Any, Any]:
        async with ctype.async_token_credential(creds) as cred:
            assert isinstance(cred, OffloadedCredential)
            return await cred.get_token("acme.read"), await cred.get_token_info("acme.read")

    token, info = asyncio.run(run())
    assert isinstance(info, TokenInfo) and info.token == token.token
    assert token.token not in repr(info)


def test_a_type_without_an_async_client_says_so(acme: Any) -> None:
    ctype = load_plugins(env={}).get("acme-broker")
    with pytest.raises(InvalidInput, match="no async client"):
        ctype.async_client(ctype.parse("pin", form("https://127.0.0.1:1")))


def test_a_method_that_is_not_interactive_has_no_async_sign_in(acme: Any) -> None:
    ctype = load_plugins(env={}).get("acme-broker")
    with pytest.raises(InvalidInput, match="not interactive"):
        asyncio.run(ctype.abegin("pin", ctype.parse("pin", form("https://127.0.0.1:1"))))


def test_the_offload_pool_is_bounded_whatever_the_callers() -> None:
    seen: set[str] = set()
    gate = threading.Event()

    def blocking() -> None:
        seen.add(threading.current_thread().name)
        gate.wait(0.01)

    async def run() -> None:
        await asyncio.gather(*(offload(blocking) for _ in range(100)))

    asyncio.run(run())
    assert 0 < len(seen) <= OFFLOAD_THREADS <= 16


def test_the_in_memory_async_flow_store_takes_once() -> None:
    flow = PendingFlow("s1", "n", "v", "t", "public", "https://h/cb", "c", ("s",), 4_000_000_000.0)

    async def run() -> tuple[Any, Any]:
        store = AsyncInMemoryFlowStore()
        await store.put(flow)
        return await store.take("s1"), await store.take("s1")

    assert asyncio.run(run()) == (flow, None)


class SignIn(AuthMethod):
    """A sync-only interactive method (no async twin): begin and complete are offloaded."""

    slug = "sign-in"
    name = "Sign in"
    interactive = True
    threads: ClassVar[list[str]] = []

    def input_schema(self) -> dict[str, Any]:
        return {"type": "object"}

    def parse(self, data: Any) -> Any:
        return SignInInput()

    def begin(self, sign_in_input: Any, **options: Any) -> str:
        SignIn.threads.append(threading.current_thread().name)
        return "https://login.example/authorize"

    def complete(self, params: Any, **options: Any) -> Any:
        SignIn.threads.append(threading.current_thread().name)
        return {"code": params["code"]}

    def token_credential(self, credentials: Any, **options: Any) -> Any:
        raise NotImplementedError


class SignInInput:
    method = "sign-in"


def test_a_sync_only_interactive_method_is_offloaded_and_a_type_without_checks_reports_none() -> None:
    from app_connections.records import ConnectionType

    ctype = ConnectionType("sign-in-type", "Sign-in type", {"sign-in": SignIn()})

    async def run() -> tuple[Any, Any, Any]:
        url = await ctype.abegin("sign-in", ctype.parse("sign-in", {}))
        done = await ctype.acomplete("sign-in", {"code": "c"})
        return url, done, await ctype.avalidate({}, method="sign-in")

    url, done, report = asyncio.run(run())
    assert url == "https://login.example/authorize" and done == {"code": "c"}
    assert all(name.startswith("app-connections-offload") for name in SignIn.threads)
    assert report.checks == () and not report.ok
    assert repr(OffloadedCredential(SignIn())).startswith("OffloadedCredential(")


def test_the_owners_checks_raising_is_a_failed_check_and_the_others_still_run(
    acme: Any, connections_https_server: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import acme_broker

    real = acme_broker.checks

    def broken(request: Any) -> None:
        real(request)  # input and token checked, then a bug
        raise RuntimeError("a bug in the checks")

    monkeypatch.setattr(acme_broker, "checks", broken)
    server = connections_https_server(Broker)
    report = asyncio.run(load_plugins(env={}).avalidate("acme-broker", "pin", form(server.url)))
    names = [c.name for c in report.checks]
    assert names[:2] == ["input", "token"] and names[3:] == ["audit"] and not report.ok  # the others still ran
    failed = report.checks[2]
    assert failed.name.startswith("plugin:") and "RuntimeError: a bug in the checks" in failed.detail
    with pytest.raises(RuntimeError):  # the type alone (no registry): no guard, as in validate()
        asyncio.run(load_plugins(env={}).get("acme-broker").avalidate(form(server.url), method="pin"))
