"""The HTTP policy's async transport (``http.transport_aio``) against hostile stand-in stores: the same
rules as the sync transport (pinned host, deadline per whole answer, size cap, capped waits)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from azure_appconfig_plugin.endpoints import parse_endpoint
from azure_appconfig_plugin.http.deadlines import operation_deadline
from azure_appconfig_plugin.http.errors import DeadlineExceeded, RedirectRefused, ResponseTooLarge
from azure_appconfig_plugin.http.limits import configure
from azure_appconfig_plugin.http.retry import waits_reported
from azure_appconfig_plugin.store import make_async_client

from .conftest import TOKEN
from .standins import Answer, StandIn, json_answer

KV_LIST = {"items": [{"key": "azure-appconfig-plugin/connection-probe", "label": None, "value": "v", "etag": "e"}]}


class AsyncStatic:
    """An ``AsyncTokenCredential`` that always has a token."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(TOKEN, int(time.time()) + 3600)

    async def close(self) -> None:
        return None


def client_for(store: StandIn, **options: Any) -> Any:
    return make_async_client(parse_endpoint(store.url), AsyncStatic(), **options)


async def list_keys(client: Any) -> list[str]:
    async with client:
        return [s.key async for s in client.list_configuration_settings()]


def test_the_async_client_reads_through_the_pinned_transport(store: StandIn) -> None:
    store.route = lambda seen: json_answer(KV_LIST)
    assert asyncio.run(list_keys(client_for(store))) == ["azure-appconfig-plugin/connection-probe"]
    (seen,) = store.seen
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"


def test_a_redirect_to_another_host_is_refused_and_nothing_goes_there(store: StandIn, other_host: StandIn) -> None:
    store.route = lambda seen: Answer(307, {"Location": f"{other_host.url}/kv"})
    with pytest.raises(RedirectRefused) as caught:
        asyncio.run(list_keys(client_for(store)))
    assert caught.value.status == 307 and caught.value.location_host == other_host.netloc
    assert other_host.seen == []


def test_a_body_over_the_cap_is_cut_off_while_it_streams(store: StandIn) -> None:
    configure(max_response_bytes=4096)
    chunks = iter([b"x" * 1024] * 64)
    store.route = lambda seen: Answer(200, {"Content-Type": "application/json"}, stream_chunks=chunks)
    with pytest.raises(ResponseTooLarge, match="kept streaming"):
        asyncio.run(list_keys(client_for(store)))


def test_a_declared_length_over_the_cap_is_refused_before_reading(store: StandIn) -> None:
    configure(max_response_bytes=100)
    store.route = lambda seen: json_answer({"items": [], "pad": "y" * 500})
    with pytest.raises(ResponseTooLarge, match="declared"):
        asyncio.run(list_keys(client_for(store)))


def test_a_dripping_answer_is_cut_off_at_the_deadline(store: StandIn) -> None:
    configure(store_request_seconds=0.3, retry_total=1)
    body = json.dumps(KV_LIST).encode()
    store.route = lambda seen: Answer(
        200, {"Content-Type": "application/json"}, body, drip_seconds=0.05, drip_body=True
    )
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        asyncio.run(list_keys(client_for(store)))
    assert time.monotonic() - start < 1.0


def test_a_retry_after_over_the_cap_ends_the_retries(store: StandIn) -> None:
    configure(retry_after_max_seconds=1)
    store.route = lambda seen: json_answer({"title": "throttled"}, 429, **{"Retry-After": "30"})
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError):
        asyncio.run(list_keys(client_for(store)))
    assert len(store.seen) == 1  # asked to wait 30 s, allowed 1 s: not retried


def test_waits_are_reported_and_budgeted_like_the_sync_clients(store: StandIn) -> None:
    answers = iter([Answer(503, {"retry-after-ms": "20"}), json_answer(KV_LIST)])
    store.route = lambda seen: next(answers)
    told: list[tuple[float, int | None]] = []

    async def run() -> list[str]:
        with waits_reported(lambda wait, status: told.append((wait, status))):
            return await list_keys(client_for(store))

    assert asyncio.run(run()) == ["azure-appconfig-plugin/connection-probe"]
    assert told == [(0.02, 503)]


def test_cancelling_a_request_closes_it_at_once(store: StandIn) -> None:
    store.route = lambda seen: (time.sleep(0.4), json_answer(KV_LIST))[1]

    async def run() -> float:
        task = asyncio.ensure_future(list_keys(client_for(store)))
        await asyncio.sleep(0.1)
        task.cancel()
        start = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    assert asyncio.run(run()) < 0.1
    assert len(store.seen) == 1


def test_an_operation_deadline_bounds_the_async_requests_of_its_task(store: StandIn) -> None:
    store.route = lambda seen: (time.sleep(0.3), json_answer(KV_LIST))[1]

    async def run() -> None:
        with operation_deadline(0.1):
            await list_keys(client_for(store, retry_total=0))

    with pytest.raises(DeadlineExceeded):
        asyncio.run(run())
