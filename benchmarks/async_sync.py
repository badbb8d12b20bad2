"""The async push (``apush``) against the sequential sync and the threaded push, on the local HTTPS
App Configuration stand-in in its own process (tests/standins/appconfig.py), like benchmarks/sync.py.

- At ``--latency-ms`` (default 20 ms per round trip), N new secrets (default 1,000): the async push
  (one event loop, ``--concurrency`` requests in flight) against the sequential baseline of
  benchmarks/sync.py (one SDK client: list, then one PUT per entry). Goal: >= 20x.
- 200 concurrent ``avalidate`` against a store answering in ``--validate-latency-ms`` (default 1 s):
  wall time against one validation (goal: under 3x) and the most threads alive (goal: 16 or fewer).
- An event-loop heartbeat (every 5 ms) beside each async operation while the far side answers in
  ``--validate-latency-ms`` (1 s): one ``avalidate``, an ``apush`` of ``--slow-secrets`` (64) new
  secrets and an OAuth ``acomplete`` whose code exchange the identity platform answers in 1 s; how
  late its latest beat was (goal: 20 ms at most). Also shown, with no goal: the same heartbeat beside
  the 20 ms push (client CPU bound: about 1 ms of work per answer, and 32 answers arrive together)
  and beside the 200 validations. The worst of ``--heartbeat-runs`` (3) runs; after ``warm_up()`` the
  benchmark calls ``gc.freeze()`` as a latency-minded host does (``--no-gc-freeze`` to leave it out).
- At 0 ms: client CPU per write (this process only; the stand-in is another process) of the async
  push, the threaded push (``push``) and a pool of 32 threads sending raw ``requests`` PUTs (one
  session per thread, no SDK). Goal: the async push at most 1.5 ms a write, and no more than the
  raw pool measured in the same run.

Usage::

    python benchmarks/async_sync.py [--secrets 1000] [--latency-ms 20] [--concurrency 32] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import sync as bench  # noqa: E402 - benchmarks/sync.py: the stand-in process and the sequential baseline

from azure_appconfig_plugin.aio import warm_up  # noqa: E402 - after the sys.path insert
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination  # noqa: E402 - after the sys.path insert

D = AppConfigurationDestination()


def options(standin: bench.Standin, concurrency: int) -> dict[str, Any]:
    return {
        "token_credential": bench.FakeToken(),
        "env": {bench.ALLOW: f"127.0.0.1:{standin.port}"},
        "client_options": {"connection_verify": standin.ca},
        "concurrency": concurrency,
    }


def destination(standin: bench.Standin) -> dict[str, Any]:
    return {"endpoint": standin.endpoint, "keyPrefix": bench.PREFIX, "label": bench.LABEL}


def timed(run: Any) -> tuple[Any, float, float]:
    """``run()``'s result, its wall seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - wall, time.process_time() - cpu


class Heartbeat:
    """A coroutine beating every 5 ms on the loop beside the work: ``lag`` is the latest beat (seconds)."""

    BEAT = 0.005

    def __init__(self) -> None:
        self.lag = 0.0

    async def watch(self, work: Any) -> Any:
        """``await work`` while beating; returns its result."""
        stop = asyncio.Event()

        async def beat() -> None:
            while not stop.is_set():
                start = time.perf_counter()
                await asyncio.sleep(self.BEAT)
                self.lag = max(self.lag, time.perf_counter() - start - self.BEAT)

        beating = asyncio.ensure_future(beat())
        try:
            return await work
        finally:
            stop.set()
            await beating


def async_push(
    standin: bench.Standin, values: dict[str, str], concurrency: int, heart: Heartbeat | None = None
) -> tuple[Any, float, float]:
    standin.admin("reset")
    heart = heart or Heartbeat()
    push = D.apush(None, destination(standin), values, **options(standin, concurrency))
    return timed(lambda: asyncio.run(heart.watch(push)))


def threaded_push(standin: bench.Standin, values: dict[str, str], concurrency: int) -> tuple[Any, float, float]:
    standin.admin("reset")
    return timed(lambda: D.push(None, destination(standin), values, **options(standin, concurrency)))


def raw_pool(standin: bench.Standin, values: dict[str, str], threads: int = 32) -> tuple[int, float, float]:
    """32 threads, one ``requests`` session each, one conditional PUT per entry (no SDK, no policy)."""
    import requests

    standin.admin("reset")
    local = threading.local()
    token = bench.FakeToken().get_token("https://azconfig.io/.default").token

    def put(item: tuple[str, str]) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        key, value = item
        answer = session.put(
            f"{standin.endpoint}/kv/{bench.PREFIX.replace('/', '%2F')}{key}?label={bench.LABEL}&api-version=2023-11-01",
            data=json.dumps({"key": bench.PREFIX + key, "label": bench.LABEL, "value": value}),
            headers={"Authorization": f"Bearer {token}", "If-None-Match": "*", "Content-Type": "application/json"},
            verify=standin.ca,
        )
        return answer.status_code

    def run() -> int:
        with ThreadPoolExecutor(threads) as pool:
            return sum(1 for status in pool.map(put, values.items()) if status < 300)

    return timed(run)


def validations(standin: bench.Standin, count: int, heart: Heartbeat) -> tuple[float, float, int]:
    """One ``avalidate``, then ``count`` at once (``heart`` beating beside them): their wall times
    and the most threads alive."""
    from app_connections.loader import load_plugins
    from app_connections.policy import HostPolicy

    env = {bench.ALLOW: f"127.0.0.1:{standin.port}"}
    registry = load_plugins(policy=HostPolicy.operator(env))  # an operator's tool: managed identity allowed
    most = [threading.active_count()]

    async def one() -> Any:
        report = await registry.avalidate(
            "azure-app-configuration",
            "managed-identity",
            {},
            endpoint=standin.endpoint,
            token_credential=bench.FakeToken(),
            env=env,
            client_options={"connection_verify": standin.ca},
        )
        assert report.ok, report.to_dict()
        most[0] = max(most[0], threading.active_count())
        return report

    async def run() -> tuple[float, float]:
        started = time.perf_counter()
        await one()
        single = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return single, time.perf_counter() - started

    single, wall = asyncio.run(heart.watch(run()))
    return single, wall, most[0]


def slow_push(standin: bench.Standin, count: int, concurrency: int) -> float:
    """The heartbeat's worst lag (seconds) beside an ``apush`` of ``count`` new secrets (the stand-in's
    latency is set by the caller)."""
    heart = Heartbeat()
    report, _, _ = async_push(standin, bench.secrets(count), concurrency, heart)
    assert report.counts["created"] == count, report.counts
    return heart.lag


def slow_sign_in(delay: float) -> float:
    """The heartbeat's worst lag (seconds) beside an OAuth ``acomplete`` whose code exchange a
    stand-in identity platform (tests/faults/standins.py, in this process) answers after ``delay``."""
    import ssl
    import tempfile
    from urllib.parse import parse_qs, urlsplit

    import attrs
    import trustme

    from app_connections.aio import AsyncInMemoryFlowStore
    from app_connections.testing import fakes
    from azure_appconfig_plugin import clouds
    from azure_appconfig_plugin.connection import build_connection_type
    from azure_appconfig_plugin.settings import InstanceSettings
    from azure_appconfig_plugin.testing import fakes as azure_fakes

    sys.path.insert(0, str(ROOT / "tests"))
    from faults.standins import IdentityPlatform, StandIn

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ctype = build_connection_type()
    settings = InstanceSettings.from_env(azure_fakes.fake_instance_env())
    with tempfile.TemporaryDirectory() as tmp, StandIn(context) as server:
        bundle = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        os.environ["REQUESTS_CA_BUNDLE"] = str(bundle)  # MSAL's requests session trusts the stand-in
        os.environ["NO_PROXY"] = "*"
        local = attrs.evolve(clouds.PUBLIC, login_host=server.netloc)
        clouds.CLOUDS["public"], clouds.DEFAULT_CLOUD = local, local
        identity = IdentityPlatform(server)
        flows = AsyncInMemoryFlowStore()

        async def sign_in() -> Any:
            request = await ctype.abegin(
                "oauth", ctype.parse("oauth", {"tenantId": fakes.FAKE_TENANT_ID}), settings=settings, flow_store=flows
            )
            identity.pending_nonce = parse_qs(urlsplit(request.url).query)["nonce"][0]
            await ctype.acomplete("oauth", {"code": "c", "state": request.state}, settings=settings, flow_store=flows)
            identity.token_delay = delay  # the exchange above warmed MSAL's discovery; now time a slow one
            request = await ctype.abegin(
                "oauth", ctype.parse("oauth", {"tenantId": fakes.FAKE_TENANT_ID}), settings=settings, flow_store=flows
            )
            identity.pending_nonce = parse_qs(urlsplit(request.url).query)["nonce"][0]
            heart = Heartbeat()
            params = {"code": "c", "state": request.state}
            started = time.perf_counter()
            creds = await heart.watch(ctype.acomplete("oauth", params, settings=settings, flow_store=flows))
            assert creds.refresh_token and time.perf_counter() - started >= delay
            return heart.lag

        lag: float = asyncio.run(sign_in())
        return lag


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secrets", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skip-baseline", action="store_true", help="no sequential baseline (it takes ~25 s)")
    parser.add_argument("--validations", type=int, default=200, help="0: none")
    parser.add_argument("--validate-latency-ms", type=float, default=1000.0)
    parser.add_argument("--slow-secrets", type=int, default=64, help="secrets pushed at --validate-latency-ms")
    parser.add_argument("--heartbeat-runs", type=int, default=3)
    parser.add_argument(
        "--no-gc-freeze", action="store_true", help="leave start-up's objects to the collector (see docs/async.md)"
    )
    args = parser.parse_args()
    values = bench.secrets(args.secrets)
    n = args.secrets
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    asyncio.run(warm_up())
    if not args.no_gc_freeze:
        gc.freeze()  # as a latency-minded host does after start-up: a full collection stalls any loop ~20 ms
    standin = bench.Standin()
    try:
        standin.admin("config", {"latency": args.latency_ms / 1000})
        heart = Heartbeat()
        report, wall, _ = async_push(standin, values, args.concurrency, heart)
        assert report.counts["created"] == n, report.counts
        print(f"| async push, {args.latency_ms:g} ms | {wall:.2f} s | {report.requests} requests |")
        print(f"event loop during the push: latest 5 ms beat {heart.lag * 1000:.1f} ms late (no goal: CPU bound)")
        if not args.skip_baseline:
            standin.admin("reset")
            base = bench.baseline(standin, values)
            assert base["applied"] == n, base
            print(f"| sequential sync, {args.latency_ms:g} ms | {base['wall']:.2f} s | {base['requests']} requests |")
            print(f"speed-up: {base['wall'] / wall:.1f}x (goal >= 20x)")
        slow = args.validate_latency_ms / 1000
        standin.admin("reset")
        standin.admin("config", {"latency": slow})
        lags: dict[str, float] = {}
        for _ in range(args.heartbeat_runs):  # the worst of several runs
            heart = Heartbeat()
            validations(standin, 0, heart)  # one avalidate, none at once
            runs = {
                "one avalidate": heart.lag,
                f"apush of {args.slow_secrets}": slow_push(standin, args.slow_secrets, args.concurrency),
                "OAuth acomplete": slow_sign_in(slow),
            }
            lags = {what: max(lag, lags.get(what, 0.0)) for what, lag in runs.items()}
        print(f"worst of {args.heartbeat_runs} runs each:")
        for what, lag in lags.items():
            print(f"event loop during {what}, far side answering in {slow:g} s: latest beat {lag * 1000:.1f} ms late")
        worst = max(lags.values())
        print(f"worst: {worst * 1000:.1f} ms (goal <= 20 ms): {'met' if worst <= 0.02 else 'NOT met'}")
        if args.validations:
            standin.admin("reset")
            heart = Heartbeat()
            single, wall, threads = validations(standin, args.validations, heart)
            print(f"| one avalidate, {args.validate_latency_ms:g} ms | {single:.2f} s |")
            ratio = f"{wall / single:.1f}x one (goal < 3x)"
            print(f"| {args.validations} avalidate at once | {wall:.2f} s | {ratio} | {threads} threads (goal <= 16) |")
            print(f"event loop during the validations: latest beat {heart.lag * 1000:.1f} ms late (no goal)")
        standin.admin("config", {"latency": 0})
        report, wall, async_cpu = async_push(standin, values, args.concurrency)
        assert report.counts["created"] == n
        print(f"| async push, 0 ms | {wall:.2f} s | {async_cpu / n * 1000:.2f} ms CPU a write |")
        report, wall, thread_cpu = threaded_push(standin, values, args.concurrency)
        assert report.counts["created"] == n
        print(f"| threaded push, 0 ms | {wall:.2f} s | {thread_cpu / n * 1000:.2f} ms CPU a write |")
        applied, wall, raw_cpu = raw_pool(standin, values)
        assert applied == n, applied
        print(f"| 32 threads of raw requests PUTs, 0 ms | {wall:.2f} s | {raw_cpu / n * 1000:.2f} ms CPU a write |")
        met = async_cpu / n <= 0.0015 and async_cpu <= raw_cpu
        print(f"async CPU a write <= 1.5 ms and <= the raw pool's: {'met' if met else 'NOT met'}")
    finally:
        standin.close()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
