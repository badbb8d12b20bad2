"""The sync destination's operations as coroutines (``apush``, ``aplan``, ``aimport_secrets``,
``aremove``) against the App Configuration stand-in: the sync semantics, adaptive concurrency and 429
back-off on one event loop, a loop that keeps beating, and a cancel that stops the writes and reports
what was written."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from azure_appconfig_plugin.aio import sync_apply, warm_up
from azure_appconfig_plugin.aio.sync import cancelled_report
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from faults.loop_probe import cancelled_after, least_lag, watched
from standins.appconfig import StandIn
from standins.process import StandInProcess

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

D = AppConfigurationDestination()


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """The imports done off the loop first, as a host's start-up does (docs/async.md)."""
    asyncio.run(warm_up())


def dest(s: StandIn, **fields: Any) -> dict[str, Any]:
    return {"endpoint": s.endpoint, **fields}


def statuses(report: Any) -> dict[str, tuple[str, str]]:
    return {c.key: (c.action.value, c.status.value) for c in report.changes}


def test_apush_does_what_push_does(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("app/OLD", "x", label="prod")
    standin.store.put("app/SAME", "1", label="prod")
    d = dest(standin, keyPrefix="app/", label="prod", deleteMissing=True)
    secrets = {"NEW": "n", "SAME": "1"}
    planned = asyncio.run(D.aplan(None, d, secrets, max_deletes=1, **sync_options))
    assert statuses(planned) == {
        "app/NEW": ("create", "planned"),
        "app/OLD": ("delete", "planned"),
        "app/SAME": ("none", "unchanged"),
    }
    report = asyncio.run(D.apush(None, d, secrets, max_deletes=1, **sync_options))
    assert statuses(report) == {
        "app/NEW": ("create", "applied"),
        "app/OLD": ("delete", "applied"),
        "app/SAME": ("none", "unchanged"),
    }
    assert report.requests == 3 and set(standin.store.snapshot()) == {("app/NEW", "prod"), ("app/SAME", "prod")}
    assert standin.requests("PUT")[0]["headers"]["if-none-match"] == "*"
    imported = asyncio.run(D.aimport_secrets(None, d, **sync_options))
    assert imported.imported == {"NEW": "n", "SAME": "1"}
    removed = asyncio.run(D.aremove(None, d, ["NEW"], **sync_options))
    assert statuses(removed) == {"app/NEW": ("delete", "applied")}


def test_429_pauses_halves_and_every_key_is_applied(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.throttle_every = 4
    standin.retry_after_ms = 30
    started = time.monotonic()
    report = asyncio.run(D.apush(None, dest(standin), {f"S{i}": "v" for i in range(40)}, concurrency=8, **sync_options))
    assert report.ok and report.counts["created"] == 40
    assert standin.throttled >= 10 and report.requests == 1 + 40 + standin.throttled
    assert time.monotonic() - started >= 0.03
    assert standin.max_in_flight <= 8


def test_writes_run_concurrently_on_one_loop(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.latency = 0.05  # each write held long enough for the others to arrive meanwhile
    report = asyncio.run(D.apush(None, dest(standin), {f"S{i}": "v" for i in range(64)}, **sync_options))
    assert report.counts["created"] == 64 and standin.max_in_flight > 8  # counted, not timed


def test_the_workers_open_their_connections_apart(
    standin: StandIn, sync_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_apply, "STAGGER_SECONDS", 0.05)
    standin.latency = 0.2  # every worker's first request is still in flight when the last one starts
    report = asyncio.run(D.apush(None, dest(standin), {f"S{i}": "v" for i in range(4)}, concurrency=4, **sync_options))
    assert report.counts["created"] == 4
    arrivals = sorted(r["at"] for r in standin.requests("PUT"))
    # the last worker starts 0.15 s after the first (whose own first request may be slowed by a busy machine)
    assert len(arrivals) == 4 and arrivals[-1] - arrivals[0] >= 0.1


@pytest.fixture(scope="module")
def remote() -> Iterator[StandInProcess]:
    """The stand-in in its own process: the heartbeat measures this process's loop, not GIL contention
    with the stand-in's threads."""
    process = StandInProcess()
    try:
        yield process
    finally:
        process.close()


def test_the_loop_keeps_beating_during_a_slow_push(remote: StandInProcess, fake_token: Any) -> None:
    secrets = {f"S{i}": "v" for i in range(20)}

    def run() -> Any:
        remote.admin("reset")
        remote.admin("config", {"latency": 0.2})
        return asyncio.run(watched(D.apush(None, {"endpoint": remote.endpoint}, secrets, **remote.options(fake_token))))

    report, probe = least_lag(run)
    assert report.counts["created"] == 20 and probe.beats > 40
    assert probe.ok, f"the loop was busy {probe.max_busy * 1000:.0f} ms, late {probe.max_lag * 1000:.0f} ms"


def test_a_cancelled_push_stops_at_once_and_reports_what_was_written(remote: StandInProcess, fake_token: Any) -> None:
    remote.admin("reset")
    remote.admin("config", {"latency": 0.1})
    secrets = {f"S{i:03}": "v" for i in range(100)}
    caught: list[BaseException] = []

    async def push() -> None:
        try:
            await D.apush(None, {"endpoint": remote.endpoint}, secrets, concurrency=4, **remote.options(fake_token))
        except asyncio.CancelledError as exc:
            caught.append(exc)
            raise

    async def run() -> float:
        at = await cancelled_after(push(), 0.35)
        await asyncio.sleep(0.25)  # time for any request the cancel did not stop
        return at

    cancelled_at = asyncio.run(run())
    log = remote.admin("log")
    late = [r for r in log["requests"] if r["at"] > cancelled_at + 0.1]
    assert late == [], f"{len(late)} request(s) reached the store more than 100 ms after the cancel"
    (exc,) = caught
    report = cancelled_report(exc)
    assert report is not None
    by_status: dict[str, set[str]] = {}
    for change in report.changes:
        by_status.setdefault(change.status.value, set()).add(change.key)
    written = set(log["keys"])
    applied, in_flight = by_status.get("applied", set()), by_status.get("failed", set())
    assert 0 < len(applied) < 100 and len(report.changes) == 100
    assert applied <= written <= applied | in_flight  # nothing lost, nothing reported that is not there
    assert len(in_flight) <= 4
    assert all(c.code == "cancelled" for c in report.changes if c.status.value != "applied")
    assert len(by_status.get("not-run", set())) == 100 - len(applied) - len(in_flight)


def test_a_timeout_is_a_timeout_error_carrying_the_report(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.latency = 0.1

    async def run() -> None:
        push = D.apush(None, dest(standin), {f"S{i}": "v" for i in range(50)}, concurrency=2, **sync_options)
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(0.25):
                await push
        else:
            await asyncio.wait_for(push, 0.25)

    with pytest.raises(asyncio.TimeoutError) as caught:
        asyncio.run(run())
    report = cancelled_report(caught.value)
    assert report is not None and len(report.changes) == 50
    puts = len(standin.requests("PUT"))  # applied, or in flight at the timeout (the store may have applied it)
    assert report.counts["created"] <= puts <= report.counts["created"] + report.counts["failed"]
